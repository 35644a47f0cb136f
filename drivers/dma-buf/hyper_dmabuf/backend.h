/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf: the interface between the core and its hypervisor backends.
 *
 * A backend shares local pages with a peer VM, maps a peer's shared pages,
 * and carries the core's fixed-size messages between the two drivers.  It
 * registers with the core when it loads; more than one may be loaded.  The
 * ops table below is the only thing the core knows about a backend.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDMABUF_BACKEND_H
#define _HDMABUF_BACKEND_H

#include <linux/list.h>
#include <linux/types.h>

struct module;
struct page;
struct vm_area_struct;
struct hdmabuf_backend;

/**
 * struct hdmabuf_backend_ops - what a backend does for the core
 * @share: share @nr_pages @pages with VM @vmid, read-only when @readonly.
 *	Returns 0 and sets @handle (the backend's private state) and @ref (the
 *	reference the peer passes to @map, e.g. a grant ref of a page
 *	directory) or a negative errno, having shared nothing.
 * @unshare: end the sharing made by @share.  Called only when the peer has
 *	reported that it released the pages, or is gone.  A backend that
 *	cannot yet reclaim a page (still mapped by the peer) must defer
 *	freeing it rather than free it.
 * @map: map @nr_pages pages that VM @vmid shared as @ref, read-only when
 *	@readonly.  Everything in @ref came from the peer: validate it.
 *	Returns 0 with @handle and @pages set (an array of @nr_pages struct
 *	pages, valid until @unmap), or a negative errno having mapped nothing.
 * @unmap: undo @map.
 * @mmap: optional: map the pages of @handle into @vma, starting at the
 *	page @vma->vm_pgoff.  For backends whose mapped pages may not be put
 *	in a page table with vm_insert_pages(), as on Xen PV, where only the
 *	hypervisor may write a page-table entry for a foreign page.  Called
 *	with the mmap lock held; mappings of a private, copy-on-write kind
 *	are refused before the call.
 * @vmap: optional, for the same backends: map the pages of @handle into
 *	the kernel's address space, writable if @writable, and set @vaddr.
 * @vunmap: undo @vmap.
 * @send: deliver one message of @len bytes to VM @vmid.  May block while
 *	the channel is full, but must give up with -ETIMEDOUT rather than wait
 *	for ever, and must return -ENOTCONN when the peer is gone.
 *
 * Every op may sleep and is called in process context.  No op is called
 * with a core lock held, so an op may call back into the core.
 */
struct hdmabuf_backend_ops {
	int (*share)(struct hdmabuf_backend *be, u32 vmid, struct page **pages,
		     unsigned int nr_pages, bool readonly, void **handle,
		     u64 *ref);
	void (*unshare)(struct hdmabuf_backend *be, void *handle);
	int (*map)(struct hdmabuf_backend *be, u32 vmid, u64 ref,
		   unsigned int nr_pages, bool readonly, void **handle,
		   struct page ***pages);
	void (*unmap)(struct hdmabuf_backend *be, void *handle);
	int (*mmap)(struct hdmabuf_backend *be, void *handle,
		    struct vm_area_struct *vma);
	int (*vmap)(struct hdmabuf_backend *be, void *handle, bool writable,
		    void **vaddr);
	void (*vunmap)(struct hdmabuf_backend *be, void *handle, void *vaddr);
	int (*send)(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		    size_t len);
};

/**
 * struct hdmabuf_backend - a registered backend
 * @name: short name shown to userspace, at most 15 characters
 * @owner: the backend's module
 * @ops: its operations
 * @vmid: the id of this VM as the backend's peers know it
 * @node: core private: entry in the list of backends
 */
struct hdmabuf_backend {
	const char *name;
	struct module *owner;
	const struct hdmabuf_backend_ops *ops;
	u32 vmid;
	struct list_head node;
};

int hdmabuf_backend_register(struct hdmabuf_backend *be);
void hdmabuf_backend_unregister(struct hdmabuf_backend *be);

int hdmabuf_peer_add(struct hdmabuf_backend *be, u32 vmid);
void hdmabuf_peer_remove(struct hdmabuf_backend *be, u32 vmid);

void hdmabuf_recv(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		  size_t len);

/* Size of every message the core asks a backend to carry. */
#define HDMABUF_MSG_SIZE	352

#endif /* _HDMABUF_BACKEND_H */
