/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf Xen backend: declarations shared by its files.
 *
 * main.c   module, ops table, this domain's id
 * chan.c   one channel per linked domain: xenbus device, ring, event channel
 * shbuf.c  exporter: grant pages, publish them in a page directory
 * map.c    importer: read a peer's directory, map its pages
 * ptemap.c importer on PV: map grants straight into page tables (mmap, vmap)
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDXEN_H
#define _HDXEN_H

#include <linux/types.h>
#include <xen/grant_table.h>

#include "../../backend.h"

struct page;
struct vm_area_struct;

extern struct hdmabuf_backend hdxen_backend;

/*
 * Page directory: a chain of pages, each granted read-only to the peer and
 * holding the grant reference of the next directory page (0 on the last)
 * followed by the grant references of HDXEN_REFS_PER_DIR data pages.  The
 * first directory page's reference is what the core sends as the buffer's
 * reference.  All fields are little endian.
 */
#define HDXEN_REFS_PER_DIR	(XEN_PAGE_SIZE / sizeof(__le32) - 1)

/**
 * struct hdxen_dir_page - layout of one page of a page directory
 * @next: grant reference of the next directory page, 0 on the last
 * @refs: grant references of data pages, in buffer order
 */
struct hdxen_dir_page {
	__le32 next;
	__le32 refs[HDXEN_REFS_PER_DIR];
};

/**
 * struct hdxen_map - a peer's buffer mapped here
 * @domid: the exporting domain
 * @nr_pages: pages mapped
 * @readonly: mapped read-only
 * @refs: the peer's grant reference of each page (copied once, trusted
 *	thereafter only as what the peer named)
 * @handles: grant handle of each kernel mapping
 * @pages: the local pages the grants are mapped on
 */
struct hdxen_map {
	domid_t domid;
	unsigned int nr_pages;
	bool readonly;
	grant_ref_t *refs;
	grant_handle_t *handles;
	struct page **pages;
};

/* chan.c */
int hdxen_chan_init(void);
void hdxen_chan_exit(void);
int hdxen_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
	       size_t len);

/* shbuf.c */
int hdxen_share(struct hdmabuf_backend *be, u32 vmid, struct page **pages,
		unsigned int nr_pages, bool readonly, void **handle, u64 *ref);
void hdxen_unshare(struct hdmabuf_backend *be, void *handle);

/* map.c */
int hdxen_gntst_errno(s16 status);
int hdxen_map(struct hdmabuf_backend *be, u32 vmid, u64 ref,
	      unsigned int nr_pages, bool readonly, void **handle,
	      struct page ***pages);
void hdxen_unmap(struct hdmabuf_backend *be, void *handle);

/* ptemap.c */
int hdxen_mmap(struct hdmabuf_backend *be, void *handle,
	       struct vm_area_struct *vma);
int hdxen_vmap(struct hdmabuf_backend *be, void *handle, bool writable,
	       void **vaddr);
void hdxen_vunmap(struct hdmabuf_backend *be, void *handle, void *vaddr);

#endif /* _HDXEN_H */
