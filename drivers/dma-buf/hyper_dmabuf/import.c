// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: the importing side and the importer's dma-buf.
 *
 * A peer's EXPORT message creates an import: it is announced to every open
 * file, listed, and may be imported as a local dma-buf.  The peer's pages
 * are mapped through the backend on the first import and unmapped when the
 * last local dma-buf made from them is released.  An UNEXPORT withdraws
 * the import: no new dma-bufs, and once nothing maps the pages any more,
 * RELEASE tells the exporter it may reclaim them.
 *
 * The dma-buf is ours: attachments get their own DMA-mapped sg table of the
 * mapped pages, and mmap, vmap and CPU access work on those pages directly.
 * Nothing is forwarded to the exporting VM.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "hdmabuf.h"

/**
 * struct hdmabuf_dmabuf - one local dma-buf made from an import
 * @imp: the import (a reference is held)
 * @writable: opened O_RDWR: devices and the CPU may write
 * @lock: protects @attachments
 * @attachments: struct hdmabuf_attachment of the attached devices
 */
struct hdmabuf_dmabuf {
	struct hdmabuf_import *imp;
	bool writable;
	struct mutex lock;	/* protects attachments */
	struct list_head attachments;
};

/**
 * struct hdmabuf_attachment - a device attached to our dma-buf
 * @node: entry in the dma-buf's attachments
 * @dev: the device
 * @sgt: its DMA-mapped table while mapped, or NULL
 * @dir: the direction it was mapped for
 */
struct hdmabuf_attachment {
	struct list_head node;
	struct device *dev;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

static void hdmabuf_import_free(struct kref *kref)
{
	struct hdmabuf_import *imp = container_of(kref, struct hdmabuf_import,
						  kref);

	WARN_ON(imp->map);
	/* Withdrawn before it left the table; a fresh one never had it. */
	WARN_ON(imp->arrival);
	mutex_destroy(&imp->map_lock);
	atomic_long_dec(&hdmabuf_stats.imports);
	hdmabuf_peer_put(imp->peer);
	kfree(imp);
}

/**
 * hdmabuf_import_put() - drop a reference to an import
 * @imp: the import
 */
void hdmabuf_import_put(struct hdmabuf_import *imp)
{
	kref_put(&imp->kref, hdmabuf_import_free);
}

/**
 * hdmabuf_import_lookup_locked() - find a buffer a peer exported to us
 * @peer: the peer
 * @id: its id; a wrong key finds nothing
 *
 * Return: the import, or NULL.  hdmabuf_lock held.
 */
struct hdmabuf_import *
hdmabuf_import_lookup_locked(struct hdmabuf_peer *peer,
			     const struct hyper_dmabuf_id *id)
{
	struct hdmabuf_import *imp;

	lockdep_assert_held(&hdmabuf_lock);
	imp = xa_load(&peer->imports, id->seq);
	/* The same answer for a wrong key as for no such id. */
	if (!imp || !hdmabuf_id_match(&imp->id, id))
		return NULL;
	return imp;
}

/* Take @imp out of its peer's table; hdmabuf_lock held. */
static void hdmabuf_import_remove_locked(struct hdmabuf_import *imp)
{
	lockdep_assert_held(&hdmabuf_lock);
	if (xa_load(&imp->peer->imports, imp->id.seq) == imp) {
		xa_erase(&imp->peer->imports, imp->id.seq);
		imp->peer->nr_imports--;
		imp->peer->import_pages -= imp->nr_pages;
	}
}

/*
 * Unmap when no local dma-buf is left, report the usage change, and once
 * withdrawn and unmapped, release the buffer to its exporter.  Process
 * context, no lock held.
 */
static void hdmabuf_import_sync(struct hdmabuf_import *imp)
{
	struct hdmabuf_backend *be = imp->peer->be;
	bool release = false;

	mutex_lock(&imp->map_lock);
	if (!atomic_read(&imp->users) && imp->map) {
		be->ops->unmap(be, imp->map);
		imp->map = NULL;
		imp->pages = NULL;
		atomic_long_sub(imp->nr_pages, &hdmabuf_stats.mapped_pages);
		module_put(be->owner);
	}
	if (!imp->map && imp->usage_sent) {
		imp->usage_sent = false;
		hdmabuf_tx_queue_import(imp, HDMABUF_TX_USAGE, false);
	}
	if (!imp->map && READ_ONCE(imp->withdrawn) && !imp->released) {
		imp->released = true;
		release = true;
		hdmabuf_tx_queue_import(imp, HDMABUF_TX_RELEASE, false);
	}
	mutex_unlock(&imp->map_lock);

	if (release) {
		mutex_lock(&hdmabuf_lock);
		if (hdmabuf_import_lookup_locked(imp->peer, &imp->id) == imp) {
			hdmabuf_import_remove_locked(imp);
			hdmabuf_import_put(imp);	/* the table's */
		}
		mutex_unlock(&hdmabuf_lock);
	}
}

static void hdmabuf_import_sync_work(struct work_struct *work)
{
	struct hdmabuf_import *imp = container_of(work, struct hdmabuf_import,
						  sync_work);

	hdmabuf_import_sync(imp);
	hdmabuf_import_put(imp);	/* the work's */
}

/*
 * Withdraw @imp here, as if its exporter had unexported it: no new
 * dma-bufs, listeners told.  Returns false when it already was.
 * hdmabuf_lock held.
 */
static bool hdmabuf_import_withdraw_locked(struct hdmabuf_import *imp)
{
	lockdep_assert_held(&hdmabuf_lock);
	if (imp->withdrawn)
		return false;
	WRITE_ONCE(imp->withdrawn, true);
	hdmabuf_frame_import_withdrawn(imp);
	hdmabuf_event_post(HYPER_DMABUF_EVENT_WITHDRAWN, imp);
	return true;
}

/*
 * Map the peer's pages for a new local dma-buf; takes a user.  Withdrawal
 * (under hdmabuf_lock) and taking a user are ordered by that lock: once a
 * withdrawal has been acknowledged to the exporter, no new user appears.
 */
static int hdmabuf_import_get_user(struct hdmabuf_import *imp)
{
	struct hdmabuf_backend *be = imp->peer->be;
	struct hdmabuf_map_info info = {
		.id = imp->id,
		.ref = imp->ref,
		.nr_pages = imp->nr_pages,
		.readonly = imp->readonly,
	};
	bool mapped = false, stale = false;
	int ret = 0;

	mutex_lock(&imp->map_lock);
	if (READ_ONCE(imp->withdrawn)) {
		ret = -ENOENT;
		goto out;
	}
	if (!imp->map) {
		if (!try_module_get(be->owner)) {
			ret = -ENOENT;
			goto out;
		}
		ret = be->ops->map(be, imp->peer->vmid, &info, &imp->map,
				   &imp->pages);
		if (ret) {
			imp->map = NULL;
			imp->pages = NULL;
			module_put(be->owner);
			/* The reference names no buffer of this id any more. */
			if (ret == -ESTALE) {
				stale = true;
				ret = -ENOENT;
			}
			goto out;
		}
		mapped = true;
		atomic_long_add(imp->nr_pages, &hdmabuf_stats.mapped_pages);
	}
	mutex_lock(&hdmabuf_lock);
	if (imp->withdrawn)
		ret = -ENOENT;
	else
		atomic_inc(&imp->users);
	mutex_unlock(&hdmabuf_lock);
	if (ret) {
		if (mapped) {
			be->ops->unmap(be, imp->map);
			imp->map = NULL;
			imp->pages = NULL;
			atomic_long_sub(imp->nr_pages,
					&hdmabuf_stats.mapped_pages);
			module_put(be->owner);
		}
		goto out;
	}
	if (!imp->usage_sent) {
		imp->usage_sent = true;
		hdmabuf_tx_queue_import(imp, HDMABUF_TX_USAGE, true);
	}
out:
	mutex_unlock(&imp->map_lock);
	if (stale) {
		pr_warn_ratelimited("vm %u: buffer seq %u: its reference names another buffer; withdrawn\n",
				    imp->peer->vmid, imp->id.seq);
		mutex_lock(&hdmabuf_lock);
		stale = hdmabuf_import_withdraw_locked(imp);
		mutex_unlock(&hdmabuf_lock);
		if (stale)
			hdmabuf_import_sync(imp);
	}
	return ret;
}

/* A local dma-buf is gone; may run in any context the last put runs in. */
static void hdmabuf_import_put_user(struct hdmabuf_import *imp)
{
	if (atomic_dec_and_test(&imp->users)) {
		kref_get(&imp->kref);
		if (!queue_work(hdmabuf_wq, &imp->sync_work))
			hdmabuf_import_put(imp);
	}
}

static int hdmabuf_dmabuf_attach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_attachment *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->dev = attach->dev;
	attach->priv = a;
	mutex_lock(&hdb->lock);
	list_add_tail(&a->node, &hdb->attachments);
	mutex_unlock(&hdb->lock);
	return 0;
}

static void hdmabuf_dmabuf_detach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attach)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_attachment *a = attach->priv;

	mutex_lock(&hdb->lock);
	list_del(&a->node);
	mutex_unlock(&hdb->lock);
	kfree(a);
}

static struct sg_table *
hdmabuf_dmabuf_map(struct dma_buf_attachment *attach,
		   enum dma_data_direction dir)
{
	struct hdmabuf_dmabuf *hdb = attach->dmabuf->priv;
	struct hdmabuf_attachment *a = attach->priv;
	struct hdmabuf_import *imp = hdb->imp;
	unsigned int max_segment = imp->peer->be->dma_page_segments ?
				   PAGE_SIZE : UINT_MAX;
	struct sg_table *sgt;
	int ret;

	/*
	 * Any direction, also for a read-only import: DRM importers always
	 * map DMA_BIDIRECTIONAL.  Whether a device can write to a read-only
	 * buffer is the hypervisor's to prevent (Xen's read-only grants do;
	 * see the driver-api page), not the DMA API's.
	 */
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages_segment(sgt, imp->pages, imp->nr_pages,
						0, imp->size, max_segment,
						GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	mutex_lock(&hdb->lock);
	a->sgt = sgt;
	a->dir = dir;
	mutex_unlock(&hdb->lock);
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void hdmabuf_dmabuf_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct hdmabuf_dmabuf *hdb = attach->dmabuf->priv;
	struct hdmabuf_attachment *a = attach->priv;

	mutex_lock(&hdb->lock);
	if (a->sgt == sgt)
		a->sgt = NULL;
	mutex_unlock(&hdb->lock);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * Put the frame of page @idx of the import at @addr of @vma.  The entry is
 * special: no struct page is referenced, so get_user_pages() (vmsplice,
 * O_DIRECT, io_uring, RDMA) cannot pin the peer's page beyond the
 * import's life, and fork and mremap copy or move only the entry.
 */
static vm_fault_t hdmabuf_insert_pfn(struct vm_area_struct *vma,
				     unsigned long addr, pgoff_t idx)
{
	struct hdmabuf_dmabuf *hdb = vma->vm_private_data;
	struct hdmabuf_import *imp = hdb->imp;

	if (idx >= imp->nr_pages)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn(vma, addr, page_to_pfn(imp->pages[idx]));
}

/* An entry that went away (a forked child's, say): put it back. */
static vm_fault_t hdmabuf_vm_fault(struct vm_fault *vmf)
{
	return hdmabuf_insert_pfn(vmf->vma, vmf->address, vmf->pgoff);
}

static const struct vm_operations_struct hdmabuf_vm_ops = {
	.fault = hdmabuf_vm_fault,
};

static int hdmabuf_map_pfns(struct vm_area_struct *vma,
			    struct hdmabuf_import *imp)
{
	unsigned long off = vma->vm_pgoff, count = vma_pages(vma), i;
	vm_fault_t fault;

	if (off >= imp->nr_pages || count > imp->nr_pages - off)
		return -ENXIO;
	/* A caller's VM_MIXEDMAP and our VM_PFNMAP cannot be mixed. */
	if (vma->vm_flags & VM_MIXEDMAP)
		return -EINVAL;
	vma->vm_flags |= VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &hdmabuf_vm_ops;
	/* Map it all now: a frame's first touch should not fault. */
	for (i = 0; i < count; i++) {
		fault = hdmabuf_insert_pfn(vma, vma->vm_start + i * PAGE_SIZE,
					   off + i);
		if (fault & VM_FAULT_ERROR)
			return fault & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
		if (!(i % 1024))
			cond_resched();
	}
	return 0;
}

static int hdmabuf_dmabuf_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_import *imp = hdb->imp;
	struct hdmabuf_backend *be = imp->peer->be;

	/* Private writable mappings would copy-on-write foreign pages. */
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;
	/*
	 * dma_buf_mmap() may have swapped in this file from one opened with
	 * other rights: check ours, and keep mprotect() from adding writes.
	 */
	if (!hdb->writable) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	vma->vm_private_data = hdb;
	if (be->ops->mmap)
		return be->ops->mmap(be, imp->map, vma);
	return hdmabuf_map_pfns(vma, imp);
}

static int hdmabuf_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_import *imp = hdb->imp;
	struct hdmabuf_backend *be = imp->peer->be;
	void *vaddr;
	int ret;

	if (be->ops->vmap) {
		ret = be->ops->vmap(be, imp->map, hdb->writable, &vaddr);
		if (ret)
			return ret;
		iosys_map_set_vaddr(map, vaddr);
		return 0;
	}
	vaddr = vmap(imp->pages, imp->nr_pages, VM_MAP,
		     hdb->writable ? PAGE_KERNEL : PAGE_KERNEL_RO);
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void hdmabuf_dmabuf_vunmap(struct dma_buf *dmabuf,
				  struct iosys_map *map)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_import *imp = hdb->imp;
	struct hdmabuf_backend *be = imp->peer->be;

	if (be->ops->vunmap)
		be->ops->vunmap(be, imp->map, map->vaddr);
	else
		vunmap(map->vaddr);
}

static int hdmabuf_dmabuf_sync(struct dma_buf *dmabuf,
			       enum dma_data_direction dir, bool for_cpu)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_attachment *a;

	mutex_lock(&hdb->lock);
	list_for_each_entry(a, &hdb->attachments, node) {
		if (!a->sgt)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(a->dev, a->sgt, dir);
		else
			dma_sync_sgtable_for_device(a->dev, a->sgt, dir);
	}
	mutex_unlock(&hdb->lock);
	return 0;
}

static int hdmabuf_dmabuf_begin_cpu(struct dma_buf *dmabuf,
				    enum dma_data_direction dir)
{
	return hdmabuf_dmabuf_sync(dmabuf, dir, true);
}

static int hdmabuf_dmabuf_end_cpu(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
{
	return hdmabuf_dmabuf_sync(dmabuf, dir, false);
}

static void hdmabuf_dmabuf_release(struct dma_buf *dmabuf)
{
	struct hdmabuf_dmabuf *hdb = dmabuf->priv;
	struct hdmabuf_import *imp = hdb->imp;

	WARN_ON(!list_empty(&hdb->attachments));
	mutex_destroy(&hdb->lock);
	kfree(hdb);
	hdmabuf_import_put_user(imp);
	hdmabuf_import_put(imp);
}

static const struct dma_buf_ops hdmabuf_dmabuf_ops = {
	.cache_sgt_mapping = true,
	.attach = hdmabuf_dmabuf_attach,
	.detach = hdmabuf_dmabuf_detach,
	.map_dma_buf = hdmabuf_dmabuf_map,
	.unmap_dma_buf = hdmabuf_dmabuf_unmap,
	.release = hdmabuf_dmabuf_release,
	.mmap = hdmabuf_dmabuf_mmap,
	.vmap = hdmabuf_dmabuf_vmap,
	.vunmap = hdmabuf_dmabuf_vunmap,
	.begin_cpu_access = hdmabuf_dmabuf_begin_cpu,
	.end_cpu_access = hdmabuf_dmabuf_end_cpu,
};

/**
 * hdmabuf_import_find() - find a buffer an open file's endpoint may import
 * @hf: the open file
 * @id: its id
 *
 * One exported to another endpoint is as unknown as a wrong key.
 *
 * Return: the import with a reference held, or NULL.
 */
struct hdmabuf_import *
hdmabuf_import_find(struct hdmabuf_file *hf, const struct hyper_dmabuf_id *id)
{
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hdmabuf_import *imp = NULL;
	struct hdmabuf_peer *peer;

	hdmabuf_event_file_endpoint(hf, endpoint);
	peer = hdmabuf_peer_get(id->vmid);
	if (!peer)
		return NULL;
	mutex_lock(&hdmabuf_lock);
	imp = hdmabuf_import_lookup_locked(peer, id);
	if (imp && memcmp(imp->endpoint, endpoint, sizeof(endpoint)))
		imp = NULL;
	if (imp)
		kref_get(&imp->kref);
	mutex_unlock(&hdmabuf_lock);
	hdmabuf_peer_put(peer);
	return imp;
}

/**
 * hdmabuf_ioctl_import() - HYPER_DMABUF_IOCTL_IMPORT
 * @hf: the open file asking
 * @arg: struct hyper_dmabuf_import
 * @out: where the result goes; copied out here, before the new file
 *	descriptor is installed, so that a fault leaves nothing behind
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_import(struct hdmabuf_file *hf, void *arg,
			  const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_import *a = arg;
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct hdmabuf_import *imp;
	struct hdmabuf_dmabuf *hdb;
	struct dma_buf *dmabuf;
	u32 mode = a->flags & O_ACCMODE;
	int ret, fd;

	if ((a->flags & ~(O_CLOEXEC | O_ACCMODE)) ||
	    (mode != O_RDONLY && mode != O_RDWR) ||
	    a->reserved[0] || a->reserved[1] || a->id.reserved)
		return -EINVAL;

	imp = hdmabuf_import_find(hf, &a->id);
	if (!imp)
		return -ENOENT;
	if (mode == O_RDWR && imp->readonly) {
		ret = -EACCES;
		goto err_put;
	}
	hdb = kzalloc(sizeof(*hdb), GFP_KERNEL_ACCOUNT);
	if (!hdb) {
		ret = -ENOMEM;
		goto err_put;
	}
	hdb->imp = imp;
	hdb->writable = mode == O_RDWR;
	mutex_init(&hdb->lock);
	INIT_LIST_HEAD(&hdb->attachments);

	fd = get_unused_fd_flags(a->flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	ret = hdmabuf_import_get_user(imp);
	if (ret)
		goto err_fd;

	info.ops = &hdmabuf_dmabuf_ops;
	info.size = imp->size;
	info.flags = mode;
	info.priv = hdb;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_user;
	}
	/* From here the dma-buf owns hdb, the user and the reference. */
	a->fd = fd;
	a->size = imp->size;
	ret = hdmabuf_ioctl_copy_out(out, a);
	if (ret) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_user:
	hdmabuf_import_put_user(imp);
err_fd:
	put_unused_fd(fd);
err_free:
	mutex_destroy(&hdb->lock);
	kfree(hdb);
err_put:
	hdmabuf_import_put(imp);
	return ret;
}

/**
 * hdmabuf_import_query() - describe a buffer exported to this VM
 * @hf: the open file asking
 * @id: the id asked about
 * @q: filled in
 * @priv: receives the metadata (HYPER_DMABUF_PRIV_MAX bytes)
 *
 * Return: 0, or -ENOENT when no such buffer was exported to this VM and
 * @hf's endpoint.
 */
int hdmabuf_import_query(struct hdmabuf_file *hf,
			 const struct hyper_dmabuf_id *id,
			 struct hyper_dmabuf_query *q, u8 *priv)
{
	struct hdmabuf_import *imp;

	imp = hdmabuf_import_find(hf, id);
	if (!imp)
		return -ENOENT;
	q->exporter_vmid = imp->id.vmid;
	q->importer_vmid = imp->peer->be->vmid;
	q->size = imp->size;
	q->status = 0;
	if (atomic_read(&imp->users))
		q->status |= HYPER_DMABUF_STATUS_IMPORTED;
	mutex_lock(&hdmabuf_lock);
	if (imp->withdrawn)
		q->status |= HYPER_DMABUF_STATUS_UNEXPORTED;
	if (imp->frame_state == HDMABUF_FRAME_IN_PENDING)
		q->status |= HYPER_DMABUF_STATUS_FRAME_PENDING;
	q->frame_seq = imp->frame_seq;
	mutex_unlock(&hdmabuf_lock);
	q->image = imp->image;
	memcpy(priv, imp->priv, imp->priv_len);
	q->priv_len = imp->priv_len;
	memcpy(q->endpoint, imp->endpoint, sizeof(q->endpoint));
	hdmabuf_import_put(imp);
	return 0;
}

/*
 * Copy up to @room ids of buffers endpoint @endpoint may import; returns
 * how many there are.
 */
static u32 hdmabuf_import_collect(const char *endpoint,
				  struct hyper_dmabuf_id *ids, u32 room)
{
	struct hdmabuf_import *imp;
	struct hdmabuf_peer *peer;
	unsigned long vmid, seq;
	u32 n = 0;

	mutex_lock(&hdmabuf_lock);
	xa_for_each(&hdmabuf_peers, vmid, peer) {
		xa_for_each(&peer->imports, seq, imp) {
			if (imp->withdrawn ||
			    memcmp(imp->endpoint, endpoint,
				   HYPER_DMABUF_ENDPOINT_LEN))
				continue;
			if (n < room)
				ids[n] = imp->id;
			n++;
		}
	}
	mutex_unlock(&hdmabuf_lock);
	return n;
}

/**
 * hdmabuf_import_list() - list the buffers an open file's endpoint may
 *	import
 * @hf: the open file asking
 * @ids: user array to fill
 * @room: entries in @ids
 * @total: set to the number of importable buffers
 *
 * Return: 0 or -EFAULT, -ENOMEM.
 */
int hdmabuf_import_list(struct hdmabuf_file *hf,
			struct hyper_dmabuf_id __user *ids, u32 room,
			u32 *total)
{
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hyper_dmabuf_id *k = NULL;
	u32 n;
	int ret = 0;

	hdmabuf_event_file_endpoint(hf, endpoint);
	/* Size the copy by what exists, not by what the caller claims. */
	n = hdmabuf_import_collect(endpoint, NULL, 0);
	room = min(room, n);
	if (room) {
		k = kvcalloc(room, sizeof(*k), GFP_KERNEL);
		if (!k)
			return -ENOMEM;
	}
	n = hdmabuf_import_collect(endpoint, k, room);
	*total = n;
	if (room && copy_to_user(ids, k, min(room, n) * sizeof(*k)))
		ret = -EFAULT;
	kvfree(k);
	return ret;
}

/*
 * Count an announcement against its peer's limits before anything is
 * allocated for it, so that a peer flooding us with announcements cannot
 * make us allocate beyond them.  hdmabuf_import_unreserve() undoes it; an
 * import in the table gives it back when it leaves (remove_locked).
 */
static int hdmabuf_import_reserve(struct hdmabuf_peer *peer,
				  unsigned int nr_pages)
{
	unsigned long max = hdmabuf_mb_pages(hdmabuf_max_import_mb_per_peer);
	int ret = 0;

	mutex_lock(&hdmabuf_lock);
	if (peer->gone) {
		/* Its last message, handled after it went: nobody listens. */
		ret = -ENOTCONN;
	} else if (nr_pages > max) {
		ret = -EFBIG;
	} else if (peer->nr_imports >= hdmabuf_max_imports ||
		   peer->import_pages + nr_pages > max) {
		ret = -ENOSPC;
	} else {
		peer->nr_imports++;
		peer->import_pages += nr_pages;
	}
	mutex_unlock(&hdmabuf_lock);
	return ret;
}

/* Undo hdmabuf_import_reserve(); hdmabuf_lock held. */
static void hdmabuf_import_unreserve_locked(struct hdmabuf_peer *peer,
					    unsigned int nr_pages)
{
	lockdep_assert_held(&hdmabuf_lock);
	peer->nr_imports--;
	peer->import_pages -= nr_pages;
}

static int hdmabuf_import_new(struct hdmabuf_peer *peer,
			      const struct hdmabuf_msg *msg)
{
	struct hdmabuf_import *imp;
	int ret;

	/* A peer may only announce buffers under its own VM id. */
	if (msg->id.vmid != peer->vmid || msg->id.reserved)
		return -EINVAL;
	ret = hdmabuf_import_reserve(peer, msg->nr_pages);
	if (ret)
		return ret;
	/* The peer's, not a local process's: bounded by the limits above. */
	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp) {
		mutex_lock(&hdmabuf_lock);
		hdmabuf_import_unreserve_locked(peer, msg->nr_pages);
		mutex_unlock(&hdmabuf_lock);
		return -ENOMEM;
	}
	kref_init(&imp->kref);	/* the table's */
	imp->id = msg->id;
	imp->size = msg->size;
	imp->nr_pages = msg->nr_pages;
	imp->ref = msg->ref;
	imp->readonly = msg->flags & HDMABUF_MSG_F_RDONLY;
	imp->priv_len = msg->priv_len;
	memcpy(imp->priv, msg->priv, msg->priv_len);
	memcpy(imp->endpoint, msg->endpoint, sizeof(imp->endpoint));
	imp->image = msg->image;
	hdmabuf_frame_import_init(imp);
	mutex_init(&imp->map_lock);
	INIT_WORK(&imp->sync_work, hdmabuf_import_sync_work);
	INIT_LIST_HEAD(&imp->tx_node);

	mutex_lock(&hdmabuf_lock);
	if (peer->gone) {
		ret = -ENOTCONN;
	} else {
		ret = xa_insert(&peer->imports, imp->id.seq, imp, GFP_KERNEL);
		if (ret == -EBUSY)
			ret = -EEXIST;
	}
	if (ret) {
		hdmabuf_import_unreserve_locked(peer, imp->nr_pages);
	} else {
		kref_get(&peer->kref);
		imp->peer = peer;
		atomic_long_inc(&hdmabuf_stats.imports);
		/* Under the lock, so no UNEXPORT overtakes the event. */
		hdmabuf_event_post(HYPER_DMABUF_EVENT_NEW, imp);
	}
	mutex_unlock(&hdmabuf_lock);
	if (ret) {
		mutex_destroy(&imp->map_lock);
		kfree(imp);
	}
	return ret;
}

static void hdmabuf_import_withdraw(struct hdmabuf_peer *peer,
				    const struct hdmabuf_msg *msg)
{
	struct hdmabuf_import *imp;

	mutex_lock(&hdmabuf_lock);
	imp = hdmabuf_import_lookup_locked(peer, &msg->id);
	if (imp) {
		/* A repeated UNEXPORT: RELEASE follows the last unmap. */
		hdmabuf_import_withdraw_locked(imp);
		kref_get(&imp->kref);
	}
	mutex_unlock(&hdmabuf_lock);
	/* No new dma-buf of it can be made here from now on. */
	hdmabuf_tx_reply(peer, HDMABUF_MSG_UNEXPORT_REPLY, &msg->id,
			 msg->req_id, 0);
	if (!imp) {
		/* Unknown or already released: nothing here maps it. */
		hdmabuf_tx_reply(peer, HDMABUF_MSG_RELEASE, &msg->id, 0, 0);
		return;
	}
	hdmabuf_import_sync(imp);
	hdmabuf_import_put(imp);
}

/**
 * hdmabuf_import_recv() - handle a message from an exporter
 * @peer: the VM it came from
 * @msg: the validated message (%HDMABUF_MSG_EXPORT or
 *	%HDMABUF_MSG_UNEXPORT)
 */
void hdmabuf_import_recv(struct hdmabuf_peer *peer,
			 const struct hdmabuf_msg *msg)
{
	int ret;

	if (msg->type == HDMABUF_MSG_UNEXPORT) {
		hdmabuf_import_withdraw(peer, msg);
		return;
	}
	ret = hdmabuf_import_new(peer, msg);
	if (ret)
		pr_warn_ratelimited("vm %u: buffer seq %u refused: %d\n",
				    peer->vmid, msg->id.seq, ret);
	hdmabuf_tx_reply(peer, HDMABUF_MSG_EXPORT_REPLY, &msg->id, msg->req_id,
			 ret);
}

/**
 * hdmabuf_import_peer_gone() - withdraw everything a lost peer exported
 * @peer: the peer, already marked gone
 *
 * Local dma-bufs already made stay valid; the pages are unmapped when the
 * last of them is released.
 */
void hdmabuf_import_peer_gone(struct hdmabuf_peer *peer)
{
	struct hdmabuf_import *imp;
	unsigned long seq;

	mutex_lock(&hdmabuf_lock);
	xa_for_each(&peer->imports, seq, imp) {
		hdmabuf_import_withdraw_locked(imp);
		hdmabuf_import_remove_locked(imp);
		hdmabuf_import_put(imp);	/* the table's */
	}
	mutex_unlock(&hdmabuf_lock);
}

/**
 * hdmabuf_import_encode() - build a message about an import
 * @imp: the import
 * @what: HDMABUF_TX_RELEASE, HDMABUF_TX_USAGE or HDMABUF_TX_FRAME_RELEASE
 * @msg: filled in
 * @tx: what was queued with it: the in-use state to report, the frame
 *	released
 */
void hdmabuf_import_encode(struct hdmabuf_import *imp, unsigned long what,
			   struct hdmabuf_msg *msg,
			   const struct hdmabuf_import_tx *tx)
{
	memset(msg, 0, sizeof(*msg));
	msg->id = imp->id;
	switch (what) {
	case HDMABUF_TX_RELEASE:
		msg->type = HDMABUF_MSG_RELEASE;
		break;
	case HDMABUF_TX_FRAME_RELEASE:
		msg->type = HDMABUF_MSG_FRAME_RELEASE;
		msg->seq = tx->frame_seq;
		msg->flags = tx->frame_flags;
		break;
	default:
		msg->type = HDMABUF_MSG_USAGE;
		msg->flags = tx->in_use ? HDMABUF_MSG_F_IN_USE : 0;
		break;
	}
}
