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
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/hyper_dmabuf.h>

struct device;
struct module;
struct page;
struct vm_area_struct;
struct hdmabuf_backend;

/**
 * struct hdmabuf_share_info - a local buffer the core asks a backend to share
 * @id: the buffer's id.  The backend records it next to what it shares (in a
 *	page directory's or table's header, say), where the importer checks it
 *	after mapping: a reference alone never identifies a buffer, since the
 *	backend may reuse it for another buffer once this one is unshared.
 * @pfns: the frame number, in this VM, of each page, in buffer order: the
 *	core derived them from DMA addresses and checked that each is ordinary
 *	memory (never a bounce buffer); no struct page may be touched
 * @nr_pages: how many
 * @readonly: the peer may only read
 * @owner: the core's, for hdmabuf_unshare_done()
 */
struct hdmabuf_share_info {
	struct hyper_dmabuf_id id;
	const unsigned long *pfns;
	unsigned int nr_pages;
	bool readonly;
	void *owner;
};

/**
 * struct hdmabuf_map_info - a peer's buffer the core asks a backend to map
 * @id: the buffer's id, as the peer announced it: what the backend must find
 *	recorded with the pages it maps, or refuse with -ESTALE
 * @ref: the backend's reference, from the peer's announcement
 * @nr_pages: pages in the buffer, bounded by the core
 * @readonly: map read-only
 */
struct hdmabuf_map_info {
	struct hyper_dmabuf_id id;
	u64 ref;
	unsigned int nr_pages;
	bool readonly;
};

/*
 * Flags of hdmabuf_backend_ops.send: the caller is a local process that a
 * peer waits on (a PRESENT, say); send now or not at all.
 */
#define HDMABUF_SEND_NOWAIT	0x1

/**
 * struct hdmabuf_backend_ops - what a backend does for the core
 * @share: share the pages of @info with VM @vmid.  Returns 0 and sets
 *	@handle (the backend's private state) and @ref (the reference the peer
 *	passes to @map, e.g. a grant ref of a page directory) or a negative
 *	errno, having shared nothing.
 * @unshare: end the sharing made by @share.  Called when the peer reported
 *	that it released the pages, when it is gone, or when the buffer was
 *	never announced.  None of these proves that the peer no longer maps a
 *	page: the backend ends its sharing, waiting (asynchronously, never
 *	holding up the caller for long) as long as the peer may still reach a
 *	page, and then calls hdmabuf_unshare_done() with the share's owner,
 *	exactly once, possibly before @unshare returns.  Until then the core
 *	keeps the pages in place.
 * @revoke: optional: the core withdrew the share of @handle (an UNEXPORT
 *	is on its way to the peer, which may still be mapping the buffer).
 *	End now every part of the sharing that the peer does not use, so that
 *	a peer that never took the buffer cannot keep it, and keep what it
 *	maps for @unshare to end.  What the peer may still map stays this
 *	buffer or nothing, as for @unshare.  Returns true when the peer can
 *	reach no page any more: the core then releases the export at once
 *	(calls @unshare) rather than wait for the peer's RELEASE.  Called at
 *	most once per share, before @unshare and never at the same time.
 * @map: map the peer's buffer described by @info.  Everything in it came
 *	from the peer: validate it, and check that what was mapped is the
 *	buffer @info->id names.  Returns 0 with @handle and @pages set (an
 *	array of @info->nr_pages struct pages, valid until @unmap), or a
 *	negative errno having mapped nothing: -ESTALE when the reference names
 *	another buffer or none any more.
 * @unmap: undo @map.  No local user of the pages is left (the core maps
 *	them into processes with PFN mappings, which cannot be pinned); a
 *	backend that must wait for the hypervisor does so asynchronously.
 * @mmap: optional: map the pages of @handle into @vma, starting at the
 *	page @vma->vm_pgoff.  For backends whose mapped pages may not be put
 *	in a page table by the core, as on Xen PV, where only the hypervisor
 *	may write a page-table entry for a foreign page.  Called with the mmap
 *	lock held; mappings of a private, copy-on-write kind are refused
 *	before the call.  The mapping must not be one get_user_pages() can
 *	pin, copied by fork, or grown.
 * @vmap: optional, for the same backends: map the pages of @handle into
 *	the kernel's address space, writable if @writable, and set @vaddr.
 * @vunmap: undo @vmap.
 * @send: deliver one message of @len bytes to VM @vmid.  May block while
 *	the channel is full, but must give up with -ETIMEDOUT rather than wait
 *	for ever, and must return -ENOTCONN when the peer is gone; -ENOMEM
 *	when it has no memory for the message is retried like -ETIMEDOUT.  With
 *	%HDMABUF_SEND_NOWAIT in @flags it must not wait at all, neither for
 *	room nor for another sender, and returns -EAGAIN instead: the core
 *	then sends the message later from its own work item.
 * @dma_to_pfn: optional: the frame number in this VM of DMA address @addr
 *	of the core's own device (hdmabuf_dma_device()), when it is not
 *	PHYS_PFN(dma_to_phys()), as with Xen PV's bus addresses.
 *
 * Every op but @dma_to_pfn may sleep and is called in process context.
 * @share and @map run in the ioctl of the local process that exports or
 * imports, and charge what they allocate for the share or mapping to its
 * memory cgroup (__GFP_ACCOUNT), as the core does for its own part.
 * @map and @unmap are called with the import's mapping lock held (never
 * the database lock), the others with no core lock held, so that they may
 * call back into the core.
 */
struct hdmabuf_backend_ops {
	int (*share)(struct hdmabuf_backend *be, u32 vmid,
		     const struct hdmabuf_share_info *info, void **handle,
		     u64 *ref);
	void (*unshare)(struct hdmabuf_backend *be, void *handle);
	bool (*revoke)(struct hdmabuf_backend *be, void *handle);
	int (*map)(struct hdmabuf_backend *be, u32 vmid,
		   const struct hdmabuf_map_info *info, void **handle,
		   struct page ***pages);
	void (*unmap)(struct hdmabuf_backend *be, void *handle);
	int (*mmap)(struct hdmabuf_backend *be, void *handle,
		    struct vm_area_struct *vma);
	int (*vmap)(struct hdmabuf_backend *be, void *handle, bool writable,
		    void **vaddr);
	void (*vunmap)(struct hdmabuf_backend *be, void *handle, void *vaddr);
	int (*send)(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		    size_t len, unsigned int flags);
	unsigned long (*dma_to_pfn)(struct device *dev, dma_addr_t addr);
};

/**
 * struct hdmabuf_backend - a registered backend
 * @name: short name shown to userspace, at most 15 characters
 * @owner: the backend's module
 * @ops: its operations
 * @vmid: the id of this VM as the backend's peers know it
 * @peer_flags: %HYPER_DMABUF_PEER_EXPORT and %HYPER_DMABUF_PEER_IMPORT:
 *	the directions this VM shares in with the backend's peers, as INFO
 *	reports them; 0 means both
 * @dma_page_segments: the frames behind consecutive mapped pages need not
 *	be contiguous for a device (Xen PV and Arm dom0, whose devices reach
 *	each page at another domain's frame): an import is mapped for
 *	devices one page per segment, never merged, so that no DMA layer
 *	bounces (copies) it
 * @node: core private: entry in the list of backends
 */
struct hdmabuf_backend {
	const char *name;
	struct module *owner;
	const struct hdmabuf_backend_ops *ops;
	u32 vmid;
	u32 peer_flags;
	bool dma_page_segments;
	struct list_head node;
};

int hdmabuf_backend_register(struct hdmabuf_backend *be);
void hdmabuf_backend_unregister(struct hdmabuf_backend *be);

int hdmabuf_peer_add(struct hdmabuf_backend *be, u32 vmid);
void hdmabuf_peer_remove(struct hdmabuf_backend *be, u32 vmid);

void hdmabuf_recv(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		  size_t len);
void hdmabuf_unshare_done(void *owner);
bool hdmabuf_id_match(const struct hyper_dmabuf_id *a,
		      const struct hyper_dmabuf_id *b);

/**
 * hdmabuf_irq_thread_normal() - run a backend's interrupt thread at normal
 *	priority
 *
 * Call at the start of a threaded interrupt handler that hands messages
 * to hdmabuf_recv().  The IRQ core starts the thread real-time
 * (SCHED_FIFO); this one does the core's work (mutexes, allocations, the
 * event queues) for a peer that may flood, and, in both rigs, a
 * real-time thread preempting the very programs that wait for its
 * messages made every path slower than a normal one.
 */
static inline void hdmabuf_irq_thread_normal(void)
{
	if (unlikely(current->policy != SCHED_NORMAL))
		sched_set_normal(current, 0);
}

/* Size of every message the core asks a backend to carry. */
#define HDMABUF_MSG_SIZE	416

#endif /* _HDMABUF_BACKEND_H */
