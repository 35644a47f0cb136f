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

#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>

#include "../../backend.h"

struct device;
struct page;
struct vm_area_struct;

extern struct hdmabuf_backend hdxen_backend;

/*
 * Page directory: a chain of pages, each granted read-only to the peer.
 * Each starts with a header naming the buffer (its id and page count) and
 * the page's place in the chain, then holds the grant reference of the
 * next directory page (0 on the last) and the grant references of up to
 * HDXEN_REFS_PER_DIR data pages.  The first directory page's reference is
 * what the core sends as the buffer's reference.  All fields are little
 * endian.
 *
 * Identity: a grant reference alone names nothing for long, since the
 * exporter reuses it once the grant has ended.  The importer keeps every
 * directory page mapped while it maps the data pages and checks each
 * header; the exporter ends a buffer's data grants only once all its
 * directory grants have ended.  So while the importer holds the directory,
 * the data references in it are still this buffer's.
 */
#define HDXEN_DIR_MAGIC		0x44584448	/* "HDXD" */
#define HDXEN_DIR_HDR_WORDS	9
#define HDXEN_REFS_PER_DIR	(XEN_PAGE_SIZE / sizeof(__le32) - HDXEN_DIR_HDR_WORDS)

/**
 * struct hdxen_dir_page - layout of one page of a page directory
 * @magic: HDXEN_DIR_MAGIC
 * @vmid: the buffer's id: exporting domain
 * @seq: the buffer's id: sequence number
 * @key: the buffer's id: key
 * @nr_pages: data pages in the buffer
 * @index: this page's place in the chain, from 0
 * @next: grant reference of the next directory page, 0 on the last
 * @refs: grant references of data pages, in buffer order
 */
struct hdxen_dir_page {
	__le32 magic;
	__le32 vmid;
	__le32 seq;
	__le32 key[3];
	__le32 nr_pages;
	__le32 index;
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
 * @unmap_ops: one unmap operation per page, allocated with the mapping so
 *	that unmapping needs no memory
 * @unmap: the asynchronous unmap of all pages (hdxen_unmap())
 * @free_work: frees the mapping once the unmap is done
 */
struct hdxen_map {
	domid_t domid;
	unsigned int nr_pages;
	bool readonly;
	grant_ref_t *refs;
	grant_handle_t *handles;
	struct page **pages;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct gntab_unmap_queue_data unmap;
	struct work_struct free_work;
};

/**
 * enum hdxen_fault - ways this domain can be made to lie to its peers
 * @HDXEN_FAULT_NONE: behave
 * @HDXEN_FAULT_DIR_LOOP: the directory's last page points back to its
 *	first instead of ending
 * @HDXEN_FAULT_RESERVED_REF: one data reference in the middle of the
 *	directory is a reserved one (the toolstack's xenstore page)
 * @HDXEN_FAULT_BAD_REF: one data reference in the middle of the directory
 *	names no grant
 * @HDXEN_FAULT_RO_GRANT: data pages are granted read-only even when the
 *	export says the importer may write
 * @HDXEN_FAULT_RING_LIE: the next message's producer index claims far
 *	more messages than the ring holds
 * @HDXEN_FAULT_FLOOD: the next message is followed by a storm of events
 *	that carry nothing
 * @HDXEN_FAULT_ANNOUNCE_FLOOD: the next EXPORT is followed by
 *	HDXEN_FLOOD_ANNOUNCEMENTS announcements of buffers that do not exist,
 *	under random ids and references
 * @HDXEN_FAULT_DEAF: stop reading messages, until another fault (or none)
 *	is armed: a peer whose ring stays full
 * @HDXEN_FAULT_CLAIM_FAIL: not a lie but this domain's own failure: the
 *	last batch of grant references of the next share cannot be claimed,
 *	as when the grant table is full
 * @HDXEN_FAULT_NR: number of faults
 *
 * Only with CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS, for the tests of the
 * peer's defences (module parameter "fault").  All but the deaf one fire
 * once.
 */
enum hdxen_fault {
	HDXEN_FAULT_NONE,
	HDXEN_FAULT_DIR_LOOP,
	HDXEN_FAULT_RESERVED_REF,
	HDXEN_FAULT_BAD_REF,
	HDXEN_FAULT_RO_GRANT,
	HDXEN_FAULT_RING_LIE,
	HDXEN_FAULT_FLOOD,
	HDXEN_FAULT_ANNOUNCE_FLOOD,
	HDXEN_FAULT_DEAF,
	HDXEN_FAULT_CLAIM_FAIL,
	HDXEN_FAULT_NR
};

/* Announcements HDXEN_FAULT_ANNOUNCE_FLOOD sends: 16 x max_imports. */
#define HDXEN_FLOOD_ANNOUNCEMENTS	4096

#ifdef CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS
bool hdxen_fault(enum hdxen_fault f);
bool hdxen_fault_active(enum hdxen_fault f);
#else
static inline bool hdxen_fault(enum hdxen_fault f)
{
	return false;
}

static inline bool hdxen_fault_active(enum hdxen_fault f)
{
	return false;
}
#endif

/* chan.c */
int hdxen_chan_init(void);
void hdxen_chan_exit(void);
int hdxen_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
	       size_t len, unsigned int flags);
void hdxen_chan_kick_all(void);	/* test faults only */

/* shbuf.c */
extern atomic_t hdxen_grants;
extern atomic_t hdxen_refs;
int hdxen_share(struct hdmabuf_backend *be, u32 vmid,
		const struct hdmabuf_share_info *info, void **handle, u64 *ref);
void hdxen_unshare(struct hdmabuf_backend *be, void *handle);
bool hdxen_revoke(struct hdmabuf_backend *be, void *handle);
unsigned long hdxen_dma_to_pfn(struct device *dev, dma_addr_t addr);
void hdxen_defer(struct work_struct *work);
int hdxen_shbuf_init(void);
void hdxen_shbuf_exit(void);

/* map.c */
int hdxen_gntst_errno(s16 status);
int hdxen_map(struct hdmabuf_backend *be, u32 vmid,
	      const struct hdmabuf_map_info *info, void **handle,
	      struct page ***pages);
void hdxen_unmap(struct hdmabuf_backend *be, void *handle);

/* ptemap.c */
int hdxen_mmap(struct hdmabuf_backend *be, void *handle,
	       struct vm_area_struct *vma);
int hdxen_vmap(struct hdmabuf_backend *be, void *handle, bool writable,
	       void **vaddr);
void hdxen_vunmap(struct hdmabuf_backend *be, void *handle, void *vaddr);

#endif /* _HDXEN_H */
