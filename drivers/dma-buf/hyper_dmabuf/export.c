// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: the exporting side.
 *
 * An export attaches our own device to a local dma-buf and maps it for the
 * export's whole life, so that the exporter keeps the pages in place.  The
 * frames shared are derived from that mapping's DMA addresses: another
 * driver's struct pages are never touched, and a buffer that does not map
 * in place (a bounce buffer, device memory) is refused.  The frames are
 * shared through the backend that reaches the importing VM, under the id
 * the export reserved first, and the buffer is announced.  Its life:
 *
 *   NEW --announce--> ANNOUNCING --reply ok--> LIVE --unexport--> UNEXPORTED
 *    \--copy-out fails       \--refused or unsent     --RELEASE--> gone
 *                             \--no reply in time--> UNEXPORTED
 *
 * An export that leaves the table is unshared: the backend ends its
 * sharing, and only once it reports that the peer can no longer reach any
 * page (hdmabuf_unshare_done()) is the dma-buf unmapped and put.  A peer
 * that goes away releases everything exported to it, but its mappings may
 * outlive it; the backend decides when the pages are free.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

/* Live exports by seq, under hdmabuf_lock. */
static DEFINE_XARRAY_ALLOC1(hdmabuf_exports);
/* Cursor of the cyclic seq allocation, under hdmabuf_lock. */
static u32 hdmabuf_export_next;
/* Entries in hdmabuf_exports, under hdmabuf_lock. */
static unsigned int hdmabuf_nr_exports;
/* Request ids of EXPORT messages. */
static atomic_t hdmabuf_req_next = ATOMIC_INIT(0);

static void hdmabuf_export_free(struct kref *kref)
{
	struct hdmabuf_export *exp = container_of(kref, struct hdmabuf_export,
						  kref);

	atomic_dec(&exp->peer->quota->exports);
	hdmabuf_peer_put(exp->peer);
	kfree(exp);
}

/**
 * hdmabuf_export_put() - drop a reference to an export
 * @exp: the export
 */
void hdmabuf_export_put(struct hdmabuf_export *exp)
{
	kref_put(&exp->kref, hdmabuf_export_free);
}

/*
 * Set *@pfn to the frame in this VM of DMA address @addr of our device.
 * False when it is not ordinary memory of this VM that may be shared in
 * place: a bounce buffer (which is not the buffer), device memory or
 * another driver's ZONE_DEVICE pages (an import of ours among them).
 */
static bool hdmabuf_export_pfn(struct hdmabuf_backend *be, struct device *dev,
			       dma_addr_t addr, unsigned long *pfn)
{
	if (be->ops->dma_to_pfn)
		*pfn = be->ops->dma_to_pfn(dev, addr);
	else
		*pfn = PHYS_PFN(dma_to_phys(dev, addr));
	return pfn_to_online_page(*pfn) &&
	       !is_swiotlb_buffer(dev, PFN_PHYS(*pfn));
}

/*
 * Map @exp->dmabuf for our device and derive the frame of every page from
 * the DMA addresses.  Each DMA segment must cover whole pages.
 */
static int hdmabuf_export_pages(struct hdmabuf_export *exp)
{
	struct hdmabuf_backend *be = exp->peer->be;
	struct device *dev = hdmabuf_device();
	unsigned int i, n = 0;
	struct scatterlist *sg;
	dma_addr_t addr, len;
	int ret;

	exp->pfns = kvmalloc_array(exp->nr_pages, sizeof(*exp->pfns),
				   GFP_KERNEL_ACCOUNT);
	if (!exp->pfns)
		return -ENOMEM;

	exp->attach = dma_buf_attach(exp->dmabuf, dev);
	if (IS_ERR(exp->attach)) {
		ret = PTR_ERR(exp->attach);
		goto err_free;
	}
	exp->sgt = dma_buf_map_attachment_unlocked(exp->attach,
						   DMA_BIDIRECTIONAL);
	if (IS_ERR(exp->sgt)) {
		ret = PTR_ERR(exp->sgt);
		goto err_detach;
	}

	ret = -EOPNOTSUPP;
	for_each_sgtable_dma_sg(exp->sgt, sg, i) {
		addr = sg_dma_address(sg);
		len = sg_dma_len(sg);
		if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(len) ||
		    len >> PAGE_SHIFT > exp->nr_pages - n)
			goto err_unmap;
		for (; len; len -= PAGE_SIZE, addr += PAGE_SIZE)
			if (!hdmabuf_export_pfn(be, dev, addr, &exp->pfns[n++]))
				goto err_unmap;
		cond_resched();
	}
	if (n != exp->nr_pages)
		goto err_unmap;
	return 0;

err_unmap:
	dma_buf_unmap_attachment_unlocked(exp->attach, exp->sgt,
					  DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(exp->dmabuf, exp->attach);
err_free:
	kvfree(exp->pfns);
	exp->pfns = NULL;
	return ret;
}

static void hdmabuf_export_unpages(struct hdmabuf_export *exp)
{
	dma_buf_unmap_attachment_unlocked(exp->attach, exp->sgt,
					  DMA_BIDIRECTIONAL);
	dma_buf_detach(exp->dmabuf, exp->attach);
	kvfree(exp->pfns);
	exp->pfns = NULL;
}

/**
 * hdmabuf_unshare_done() - a backend ended a sharing for good
 * @owner: the share's owner, from struct hdmabuf_share_info
 *
 * The peer can no longer reach any page: the dma-buf is unmapped and put,
 * the exporting file told, and the table's reference dropped.  Process
 * context.
 */
void hdmabuf_unshare_done(void *owner)
{
	struct hdmabuf_export *exp = owner;
	struct module *mod = exp->peer->be->owner;

	hdmabuf_frame_export_end(exp);
	hdmabuf_export_unpages(exp);
	dma_buf_put(exp->dmabuf);
	atomic_long_sub(exp->nr_pages, &exp->peer->quota->pages);
	atomic_long_sub(exp->nr_pages, &hdmabuf_stats.shared_pages);
	atomic_long_dec(&hdmabuf_stats.exports);
	hdmabuf_release_done(exp);
	hdmabuf_export_put(exp);
	module_put(mod);
}
EXPORT_SYMBOL_GPL(hdmabuf_unshare_done);

/*
 * Tear down an export that left the table (state RELEASED): the backend
 * ends the sharing and calls hdmabuf_unshare_done(), which drops the
 * table's reference.  Process context, no lock held.
 */
static void hdmabuf_export_teardown(struct hdmabuf_export *exp)
{
	struct hdmabuf_backend *be = exp->peer->be;

	/* Not _sync: this may run from the delayed work itself. */
	if (cancel_delayed_work(&exp->unexport_work))
		hdmabuf_export_put(exp);
	complete_all(&exp->acked);
	/*
	 * hdmabuf_unshare_done() may run before unshare returns and drop the
	 * export's module reference: hold another until the backend's code
	 * has returned.
	 */
	__module_get(be->owner);
	be->ops->unshare(be, exp->share);
	module_put(be->owner);
}

/* Take @exp out of the table; hdmabuf_lock held. */
static void hdmabuf_export_remove_locked(struct hdmabuf_export *exp)
{
	lockdep_assert_held(&hdmabuf_lock);
	exp->state = HDMABUF_EXP_RELEASED;
	xa_erase(&hdmabuf_exports, exp->id.seq);
	hdmabuf_nr_exports--;
}

/*
 * Withdraw a live export; hdmabuf_lock held.  Returns true when the caller
 * must now queue the UNEXPORT message.  An export whose peer is gone is
 * released instead (returns false, *teardown set).
 */
static bool hdmabuf_export_withdraw_locked(struct hdmabuf_export *exp,
					   bool *teardown)
{
	lockdep_assert_held(&hdmabuf_lock);
	*teardown = false;
	if (exp->state != HDMABUF_EXP_LIVE)
		return false;
	if (exp->owner) {
		list_del_init(&exp->file_node);
		exp->owner = NULL;
	}
	exp->delay_pending = false;
	if (exp->peer->gone) {
		hdmabuf_export_remove_locked(exp);
		*teardown = true;
		return false;
	}
	exp->state = HDMABUF_EXP_UNEXPORTED;
	return true;
}

/*
 * @exp was withdrawn (UNEXPORTED) and its UNEXPORT queued: have the
 * backend end at once what the peer does not map, so that a peer that
 * never took the buffer cannot keep it, and release the export when
 * nothing is left for the peer to reach.  What it maps stays until its
 * RELEASE.  Process context, no lock held, a reference on @exp held.
 */
static void hdmabuf_export_revoke(struct hdmabuf_export *exp)
{
	struct hdmabuf_backend *be = exp->peer->be;
	bool unreachable, teardown = false;

	if (!be->ops->revoke)
		return;
	mutex_lock(&hdmabuf_lock);
	if (exp->state != HDMABUF_EXP_UNEXPORTED) {
		mutex_unlock(&hdmabuf_lock);
		return;
	}
	exp->revoking = true;
	mutex_unlock(&hdmabuf_lock);

	unreachable = be->ops->revoke(be, exp->share);

	mutex_lock(&hdmabuf_lock);
	exp->revoking = false;
	if (exp->state == HDMABUF_EXP_RELEASED) {
		/* Released meanwhile (RELEASE, peer gone): ours to finish. */
		teardown = true;
	} else if (unreachable) {
		hdmabuf_export_remove_locked(exp);
		teardown = true;
	}
	mutex_unlock(&hdmabuf_lock);
	if (teardown)
		hdmabuf_export_teardown(exp);
}

/* After hdmabuf_export_withdraw_locked(), with the lock dropped. */
static void hdmabuf_export_withdrawn(struct hdmabuf_export *exp, bool send,
				     bool teardown)
{
	/* A delayed unexport overtaken by this one holds a reference. */
	if ((send || teardown) && cancel_delayed_work(&exp->unexport_work))
		hdmabuf_export_put(exp);
	if (send) {
		hdmabuf_tx_queue_export(exp, HDMABUF_TX_UNEXPORT);
		hdmabuf_export_revoke(exp);
	}
	if (teardown)
		hdmabuf_export_teardown(exp);
}

/**
 * hdmabuf_export_lookup_locked() - find an export that was announced
 * @id: its id; a wrong key finds nothing
 *
 * Return: the export, live or unexported, or NULL.  hdmabuf_lock held.
 */
struct hdmabuf_export *
hdmabuf_export_lookup_locked(const struct hyper_dmabuf_id *id)
{
	struct hdmabuf_export *exp;

	lockdep_assert_held(&hdmabuf_lock);
	exp = xa_load(&hdmabuf_exports, id->seq);
	/* The same answer for a wrong key as for no such id. */
	if (!exp || !hdmabuf_id_match(&exp->id, id) ||
	    exp->state == HDMABUF_EXP_NEW ||
	    exp->state == HDMABUF_EXP_ANNOUNCING ||
	    exp->state == HDMABUF_EXP_RELEASED)
		return NULL;
	return exp;
}

/* Record the answer to the EXPORT message, once; hdmabuf_lock held. */
static void hdmabuf_export_reply_locked(struct hdmabuf_export *exp, int status)
{
	lockdep_assert_held(&hdmabuf_lock);
	if (exp->state != HDMABUF_EXP_ANNOUNCING || exp->replied)
		return;
	exp->replied = true;
	exp->reply_status = status;
	complete(&exp->reply);
}

static void hdmabuf_export_delayed(struct work_struct *work)
{
	struct hdmabuf_export *exp = container_of(to_delayed_work(work),
						  struct hdmabuf_export,
						  unexport_work);
	bool send = false, teardown = false;

	mutex_lock(&hdmabuf_lock);
	if (exp->delay_pending)
		send = hdmabuf_export_withdraw_locked(exp, &teardown);
	mutex_unlock(&hdmabuf_lock);
	hdmabuf_export_withdrawn(exp, send, teardown);
	hdmabuf_export_put(exp);	/* the work's reference */
}

/*
 * Count @exp against what this VM may export to its peer's VM id, before
 * anything is mapped or shared.  Returns -EFBIG when the buffer alone is
 * over max_export_mb_per_peer, -ENOSPC when it does not fit beside what
 * the VM holds already.  The count goes when the export is freed, the
 * pages when they are unshared, or hdmabuf_export_unreserve() undoes both.
 */
static int hdmabuf_export_reserve(struct hdmabuf_export *exp)
{
	unsigned long max = hdmabuf_mb_pages(hdmabuf_max_export_mb_per_peer);
	struct hdmabuf_quota *q = exp->peer->quota;
	int ret = 0;

	if (exp->nr_pages > max)
		return -EFBIG;
	mutex_lock(&hdmabuf_lock);
	if (atomic_read(&q->exports) >= hdmabuf_max_exports_per_peer ||
	    atomic_long_read(&q->pages) + exp->nr_pages > max) {
		ret = -ENOSPC;
	} else {
		atomic_inc(&q->exports);
		atomic_long_add(exp->nr_pages, &q->pages);
	}
	mutex_unlock(&hdmabuf_lock);
	return ret;
}

static void hdmabuf_export_unreserve(struct hdmabuf_export *exp)
{
	atomic_long_sub(exp->nr_pages, &exp->peer->quota->pages);
	atomic_dec(&exp->peer->quota->exports);
}

static int hdmabuf_export_validate(const struct hyper_dmabuf_export *a)
{
	if (a->flags & ~HYPER_DMABUF_EXPORT_FLAGS)
		return -EINVAL;
	if (a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->priv_len > HYPER_DMABUF_PRIV_MAX)
		return -EINVAL;
	if (!hdmabuf_endpoint_valid(a->endpoint, true))
		return -EINVAL;
	return 0;
}

/*
 * Reserve an id for @exp in the table (state NEW, invisible to lookups) and
 * share its pages under it.  On success the table holds @exp and the
 * backend its pages; on failure nothing is left.
 */
static int hdmabuf_export_share(struct hdmabuf_export *exp)
{
	struct hdmabuf_backend *be = exp->peer->be;
	struct hdmabuf_share_info info = {
		.pfns = exp->pfns,
		.nr_pages = exp->nr_pages,
		.readonly = exp->readonly,
		.owner = exp,
	};
	int ret;

	mutex_lock(&hdmabuf_lock);
	if (exp->peer->gone) {
		ret = -EHOSTUNREACH;
	} else if (hdmabuf_nr_exports >= hdmabuf_max_exports) {
		ret = -ENOSPC;
	} else {
		ret = xa_alloc_cyclic(&hdmabuf_exports, &exp->id.seq, exp,
				      xa_limit_32b, &hdmabuf_export_next,
				      GFP_KERNEL);
		if (ret == -EBUSY)
			ret = -ENOSPC;
	}
	if (ret >= 0) {
		hdmabuf_nr_exports++;
		exp->id.vmid = be->vmid;
		hdmabuf_id_new_key(&exp->id);
		exp->state = HDMABUF_EXP_NEW;
	}
	mutex_unlock(&hdmabuf_lock);
	if (ret < 0)
		return ret;

	info.id = exp->id;
	ret = be->ops->share(be, exp->peer->vmid, &info, &exp->share,
			     &exp->ref);
	if (ret) {
		mutex_lock(&hdmabuf_lock);
		hdmabuf_export_remove_locked(exp);
		mutex_unlock(&hdmabuf_lock);
		return ret;
	}
	kref_get(&exp->kref);	/* the table's, dropped when unshared */
	atomic_long_add(exp->nr_pages, &hdmabuf_stats.shared_pages);
	atomic_long_inc(&hdmabuf_stats.exports);
	return 0;
}

/* Announce a shared export (state NEW); on failure it is torn down. */
static int hdmabuf_export_announce(struct hdmabuf_file *hf,
				   struct hdmabuf_export *exp)
{
	bool teardown = false, withdraw = false, killed;
	unsigned long timeout;
	int ret;

	mutex_lock(&hdmabuf_lock);
	exp->state = HDMABUF_EXP_ANNOUNCING;
	exp->req_id = atomic_inc_return(&hdmabuf_req_next);
	mutex_unlock(&hdmabuf_lock);

	hdmabuf_tx_send_export(exp, HDMABUF_TX_EXPORT);
	/* A fatal signal ends the wait like a timeout, as -EINTR. */
	timeout = msecs_to_jiffies(hdmabuf_msg_timeout_ms);
	killed = wait_for_completion_killable_timeout(&exp->reply,
						      timeout) < 0;

	/* Under the lock a reply or a send failure cannot race. */
	mutex_lock(&hdmabuf_lock);
	if (exp->peer->gone) {
		/*
		 * Gone, even if it had accepted: its peer-gone pass did not
		 * take an announcing export, so release it here.
		 */
		if (exp->replied)
			ret = exp->reply_status ?: -EHOSTUNREACH;
		else
			ret = killed ? -EINTR : -ETIMEDOUT;
		hdmabuf_export_remove_locked(exp);
		teardown = true;
	} else if (exp->replied && !exp->reply_status) {
		exp->state = HDMABUF_EXP_LIVE;
		exp->owner = hf;
		list_add_tail(&exp->file_node, &hf->exports);
		hdmabuf_release_track(hf, exp);
		ret = 0;
	} else if (exp->replied) {
		/* Refused or never delivered: the peer cannot map it. */
		ret = exp->reply_status;
		hdmabuf_export_remove_locked(exp);
		teardown = true;
	} else {
		/*
		 * The peer may have the announcement: withdraw it and keep
		 * the pages shared until it says it released them.
		 */
		ret = killed ? -EINTR : -ETIMEDOUT;
		exp->state = HDMABUF_EXP_UNEXPORTED;
		withdraw = true;
	}
	mutex_unlock(&hdmabuf_lock);
	if (withdraw) {
		hdmabuf_tx_queue_export(exp, HDMABUF_TX_UNEXPORT);
		hdmabuf_export_revoke(exp);
	}
	if (teardown)
		hdmabuf_export_teardown(exp);
	return ret;
}

/**
 * hdmabuf_ioctl_export() - HYPER_DMABUF_IOCTL_EXPORT
 * @hf: the open file exporting
 * @arg: struct hyper_dmabuf_export, copied in by the caller
 * @out: where the result goes; copied out here, before the buffer is
 *	announced, so that a fault leaves nothing behind
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_export(struct hdmabuf_file *hf, void *arg,
			  const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_export *a = arg;
	struct hdmabuf_backend *be;
	struct hdmabuf_export *exp;
	bool teardown;
	int ret;

	ret = hdmabuf_export_validate(a);
	if (ret)
		return ret;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL_ACCOUNT);
	if (!exp)
		return -ENOMEM;
	kref_init(&exp->kref);
	INIT_LIST_HEAD(&exp->file_node);
	INIT_LIST_HEAD(&exp->tx_node);
	INIT_LIST_HEAD(&exp->rel_node);
	INIT_DELAYED_WORK(&exp->unexport_work, hdmabuf_export_delayed);
	init_completion(&exp->reply);
	init_completion(&exp->acked);
	hdmabuf_frame_export_init(exp);
	exp->rel_event = a->flags & HYPER_DMABUF_EXPORT_RELEASED_EVENT;
	exp->readonly = a->flags & HYPER_DMABUF_EXPORT_RDONLY;
	memcpy(exp->endpoint, a->endpoint, sizeof(exp->endpoint));
	exp->priv_len = a->priv_len;
	if (copy_from_user(exp->priv, u64_to_user_ptr(a->priv), a->priv_len)) {
		ret = -EFAULT;
		goto err_free;
	}

	exp->dmabuf = dma_buf_get(a->fd);
	if (IS_ERR(exp->dmabuf)) {
		ret = PTR_ERR(exp->dmabuf);
		goto err_free;
	}
	/* Whoever may only read the buffer may only share it read-only. */
	if (!exp->readonly && !(exp->dmabuf->file->f_mode & FMODE_WRITE)) {
		ret = -EACCES;
		goto err_put;
	}
	exp->size = exp->dmabuf->size;
	if (exp->size > (u64)hdmabuf_max_buffer_mb << 20) {
		ret = -EFBIG;
		goto err_put;
	}
	/* A partial last page would share the bytes after the buffer. */
	if (!exp->size || !PAGE_ALIGNED(exp->size)) {
		ret = -EINVAL;
		goto err_put;
	}
	ret = hdmabuf_image_check(&a->image, exp->size);
	if (ret)
		goto err_put;
	exp->image = a->image;
	exp->nr_pages = exp->size >> PAGE_SHIFT;
	exp->peer = hdmabuf_peer_get(a->remote_vmid);
	if (!exp->peer) {
		ret = -EHOSTUNREACH;
		goto err_put;
	}
	be = exp->peer->be;
	if (!try_module_get(be->owner)) {
		ret = -EHOSTUNREACH;
		goto err_peer;
	}
	ret = hdmabuf_export_reserve(exp);
	if (ret)
		goto err_module;
	ret = hdmabuf_export_pages(exp);
	if (ret)
		goto err_reserve;
	ret = hdmabuf_export_share(exp);
	if (ret)
		goto err_pages;

	/*
	 * From here on the table and the backend hold the export.  Tell the
	 * caller its id before anyone else learns it.
	 */
	a->id = exp->id;
	a->size = exp->size;
	ret = hdmabuf_ioctl_copy_out(out, a);
	if (ret) {
		mutex_lock(&hdmabuf_lock);
		hdmabuf_export_remove_locked(exp);
		mutex_unlock(&hdmabuf_lock);
		teardown = true;
	} else {
		ret = hdmabuf_export_announce(hf, exp);
		teardown = false;
	}
	if (teardown)
		hdmabuf_export_teardown(exp);
	hdmabuf_export_put(exp);
	return ret;

err_pages:
	hdmabuf_export_unpages(exp);
err_reserve:
	hdmabuf_export_unreserve(exp);
err_module:
	module_put(be->owner);
err_peer:
	hdmabuf_peer_put(exp->peer);
err_put:
	dma_buf_put(exp->dmabuf);
err_free:
	kfree(exp);
	return ret;
}

/**
 * hdmabuf_ioctl_unexport() - HYPER_DMABUF_IOCTL_UNEXPORT
 * @hf: the open file asking
 * @arg: struct hyper_dmabuf_unexport
 * @out: unused: the call returns nothing
 *
 * Unless asked to return at once (a delay, or %HYPER_DMABUF_UNEXPORT_ASYNC),
 * waits until the importer can make no new dma-buf of the buffer.
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_unexport(struct hdmabuf_file *hf, void *arg,
			    const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_unexport *a = arg;
	bool send = false, teardown = false, wait;
	struct hdmabuf_export *exp;
	unsigned long timeout;
	long left;
	int ret = 0;

	if ((a->flags & ~HYPER_DMABUF_UNEXPORT_FLAGS) || a->reserved[0] ||
	    a->reserved[1] || a->id.reserved ||
	    a->delay_ms > HYPER_DMABUF_UNEXPORT_DELAY_MAX)
		return -EINVAL;
	wait = !a->delay_ms && !(a->flags & HYPER_DMABUF_UNEXPORT_ASYNC);

	mutex_lock(&hdmabuf_lock);
	exp = hdmabuf_export_lookup_locked(&a->id);
	if (!exp)
		ret = -ENOENT;
	else if (exp->state != HDMABUF_EXP_LIVE)
		ret = -EALREADY;
	else if (exp->owner != hf)
		ret = -EPERM;
	else if (exp->delay_pending)
		ret = -EALREADY;
	if (ret) {
		mutex_unlock(&hdmabuf_lock);
		return ret;
	}
	kref_get(&exp->kref);
	if (a->delay_ms) {
		exp->delay_pending = true;
		kref_get(&exp->kref);	/* the work's */
		queue_delayed_work(hdmabuf_wq, &exp->unexport_work,
				   msecs_to_jiffies(a->delay_ms));
	} else {
		send = hdmabuf_export_withdraw_locked(exp, &teardown);
	}
	mutex_unlock(&hdmabuf_lock);
	hdmabuf_export_withdrawn(exp, send, teardown);
	if (wait) {
		timeout = msecs_to_jiffies(hdmabuf_msg_timeout_ms);
		left = wait_for_completion_killable_timeout(&exp->acked,
							    timeout);
		if (left < 0)
			ret = -EINTR;
		else if (!left)
			ret = -ETIMEDOUT;
	}
	hdmabuf_export_put(exp);
	return ret;
}

/**
 * hdmabuf_export_file_release() - unexport everything a closing file
 *	exported
 * @hf: the file being released
 */
void hdmabuf_export_file_release(struct hdmabuf_file *hf)
{
	struct hdmabuf_export *exp;
	bool send, teardown;

	for (;;) {
		mutex_lock(&hdmabuf_lock);
		exp = list_first_entry_or_null(&hf->exports,
					       struct hdmabuf_export, file_node);
		if (!exp) {
			mutex_unlock(&hdmabuf_lock);
			break;
		}
		kref_get(&exp->kref);
		send = hdmabuf_export_withdraw_locked(exp, &teardown);
		mutex_unlock(&hdmabuf_lock);
		hdmabuf_export_withdrawn(exp, send, teardown);
		hdmabuf_export_put(exp);
	}
}

/**
 * hdmabuf_export_query() - describe an export of this VM
 * @id: the id asked about
 * @q: filled in
 * @priv: receives the metadata (HYPER_DMABUF_PRIV_MAX bytes)
 *
 * Return: 0, or -ENOENT when this VM exported no such buffer.
 */
int hdmabuf_export_query(const struct hyper_dmabuf_id *id,
			 struct hyper_dmabuf_query *q, u8 *priv)
{
	struct hdmabuf_export *exp;

	mutex_lock(&hdmabuf_lock);
	exp = hdmabuf_export_lookup_locked(id);
	if (!exp) {
		mutex_unlock(&hdmabuf_lock);
		return -ENOENT;
	}
	q->exporter_vmid = exp->id.vmid;
	q->importer_vmid = exp->peer->vmid;
	q->size = exp->size;
	q->status = HYPER_DMABUF_STATUS_EXPORTED_HERE;
	if (exp->in_use)
		q->status |= HYPER_DMABUF_STATUS_IMPORTED;
	if (exp->state == HDMABUF_EXP_UNEXPORTED)
		q->status |= HYPER_DMABUF_STATUS_UNEXPORTED;
	if (exp->delay_pending)
		q->status |= HYPER_DMABUF_STATUS_UNEXPORT_PENDING;
	if (exp->frame_state != HDMABUF_FRAME_IDLE)
		q->status |= HYPER_DMABUF_STATUS_FRAME_PENDING;
	q->frame_seq = exp->frame_seq;
	q->image = exp->image;
	memcpy(priv, exp->priv, exp->priv_len);
	q->priv_len = exp->priv_len;
	memcpy(q->endpoint, exp->endpoint, sizeof(q->endpoint));
	mutex_unlock(&hdmabuf_lock);
	return 0;
}

/**
 * hdmabuf_export_encode() - build a message about an export
 * @exp: the export
 * @what: HDMABUF_TX_EXPORT, HDMABUF_TX_UNEXPORT or HDMABUF_TX_FRAME
 * @msg: filled in
 *
 * Return: false when the message is moot and must not be sent.
 */
bool hdmabuf_export_encode(struct hdmabuf_export *exp, unsigned long what,
			   struct hdmabuf_msg *msg)
{
	if (what == HDMABUF_TX_FRAME)
		return hdmabuf_frame_export_encode(exp, msg);
	memset(msg, 0, sizeof(*msg));
	msg->id = exp->id;
	msg->req_id = exp->req_id;
	if (what == HDMABUF_TX_UNEXPORT) {
		msg->type = HDMABUF_MSG_UNEXPORT;
		return true;
	}
	msg->type = HDMABUF_MSG_EXPORT;
	msg->flags = exp->readonly ? HDMABUF_MSG_F_RDONLY : 0;
	msg->nr_pages = exp->nr_pages;
	msg->size = exp->size;
	msg->ref = exp->ref;
	msg->priv_len = exp->priv_len;
	memcpy(msg->priv, exp->priv, exp->priv_len);
	memcpy(msg->endpoint, exp->endpoint, sizeof(msg->endpoint));
	msg->image = exp->image;
	return true;
}

/**
 * hdmabuf_export_send_failed() - a message about an export was not sent
 * @exp: the export
 * @what: the HDMABUF_TX_* messages that were not sent
 * @err: why: -ETIMEDOUT when the channel was full, -ENOMEM when there was
 *	no memory for the message, -ENOTCONN when the peer is gone, or
 *	another negative errno
 *
 * An EXPORT never sent fails the export at once (the peer never saw it).
 * An UNEXPORT and a FRAME are retried while the peer lives and the
 * failure passes (hdmabuf_send_transient()); once the peer is gone, its
 * removal releases the export.
 */
void hdmabuf_export_send_failed(struct hdmabuf_export *exp,
				unsigned long what, int err)
{
	if (what & HDMABUF_TX_EXPORT) {
		mutex_lock(&hdmabuf_lock);
		hdmabuf_export_reply_locked(exp, err == -ENOTCONN ?
					    -EHOSTUNREACH : err);
		mutex_unlock(&hdmabuf_lock);
	}
	if ((what & HDMABUF_TX_UNEXPORT) && hdmabuf_send_transient(err))
		hdmabuf_tx_queue_export(exp, HDMABUF_TX_UNEXPORT);
	if (what & HDMABUF_TX_FRAME)
		hdmabuf_frame_export_send_failed(exp, err);
}

/**
 * hdmabuf_export_usage_ok() - may the importer report its use of @exp now?
 * @exp: the export a USAGE message names; hdmabuf_lock held
 *
 * An importer that has the announcement may map the buffer at once, and
 * its USAGE may arrive before the exporting call has woken up to make the
 * export live (or even before its reply, which travels apart): that one
 * counts too.
 *
 * Return: true for a live or unexported export, or one being announced
 * that the importer did not refuse.
 */
static bool hdmabuf_export_usage_ok(const struct hdmabuf_export *exp)
{
	lockdep_assert_held(&hdmabuf_lock);
	switch (exp->state) {
	case HDMABUF_EXP_LIVE:
	case HDMABUF_EXP_UNEXPORTED:
		return true;
	case HDMABUF_EXP_ANNOUNCING:
		return !exp->replied || !exp->reply_status;
	default:
		return false;
	}
}

/**
 * hdmabuf_export_recv() - handle a message from an importer
 * @peer: the VM it came from
 * @msg: the validated message (%HDMABUF_MSG_EXPORT_REPLY,
 *	%HDMABUF_MSG_UNEXPORT_REPLY, %HDMABUF_MSG_RELEASE,
 *	%HDMABUF_MSG_USAGE or %HDMABUF_MSG_FRAME_RELEASE)
 *
 * A message about a buffer not exported to @peer, with a wrong key, or out
 * of turn is dropped: a peer cannot touch buffers it was not given.  One
 * out of turn about a buffer this VM still knows is logged too; one about
 * a buffer it no longer knows is no news, since an export may be released
 * before the peer has answered (its sharing revoked, or its announcement
 * given up).
 */
void hdmabuf_export_recv(struct hdmabuf_peer *peer,
			 const struct hdmabuf_msg *msg)
{
	struct hdmabuf_export *exp;
	bool teardown = false, ok = true;

	mutex_lock(&hdmabuf_lock);
	exp = xa_load(&hdmabuf_exports, msg->id.seq);
	if (!exp || exp->peer != peer || !hdmabuf_id_match(&exp->id, &msg->id))
		exp = NULL;

	switch (msg->type) {
	case HDMABUF_MSG_EXPORT_REPLY:
		if (exp && exp->state == HDMABUF_EXP_ANNOUNCING &&
		    msg->req_id == exp->req_id && !exp->replied) {
			int status = -(int)msg->status;

			/* Only errnos an importer may legitimately give. */
			if (status && status != -ENOSPC && status != -ENOMEM &&
			    status != -EFBIG)
				status = -EPROTO;
			hdmabuf_export_reply_locked(exp, status);
		} else {
			ok = !exp || exp->state == HDMABUF_EXP_UNEXPORTED;
		}
		break;
	case HDMABUF_MSG_UNEXPORT_REPLY:
		/* After its RELEASE, an export is gone: nothing to do. */
		if (exp && exp->state == HDMABUF_EXP_UNEXPORTED)
			complete_all(&exp->acked);
		break;
	case HDMABUF_MSG_RELEASE:
		if (exp && exp->state == HDMABUF_EXP_UNEXPORTED) {
			hdmabuf_export_remove_locked(exp);
			/* A revoker finishes what it revokes. */
			teardown = !exp->revoking;
		} else {
			ok = !exp;
		}
		break;
	case HDMABUF_MSG_USAGE:
		if (exp && hdmabuf_export_usage_ok(exp))
			exp->in_use = msg->flags & HDMABUF_MSG_F_IN_USE;
		else
			ok = !exp;
		break;
	case HDMABUF_MSG_FRAME_RELEASE:
		if (exp && (exp->state == HDMABUF_EXP_LIVE ||
			    exp->state == HDMABUF_EXP_UNEXPORTED))
			ok = hdmabuf_frame_export_recv(exp, msg);
		else
			ok = !exp;
		break;
	default:
		ok = false;
		break;
	}
	mutex_unlock(&hdmabuf_lock);
	if (!ok)
		pr_warn_ratelimited("vm %u: unexpected message type %u for seq %u dropped\n",
				    peer->vmid, msg->type, msg->id.seq);
	if (teardown)
		hdmabuf_export_teardown(exp);
}

/**
 * hdmabuf_export_peer_gone() - release everything exported to a lost peer
 * @peer: the peer, already marked gone
 *
 * The backend decides when the pages are free: a peer's mappings may
 * outlive its driver.
 */
void hdmabuf_export_peer_gone(struct hdmabuf_peer *peer)
{
	struct hdmabuf_export *exp, *next;
	LIST_HEAD(gone);
	unsigned long seq;

	/* One pass under the lock; out of the table, file_node is free. */
	mutex_lock(&hdmabuf_lock);
	xa_for_each(&hdmabuf_exports, seq, exp) {
		if (exp->peer != peer || exp->state == HDMABUF_EXP_NEW)
			continue;
		if (exp->state == HDMABUF_EXP_ANNOUNCING) {
			/* Its exporter finishes it, see announce. */
			hdmabuf_export_reply_locked(exp, -EHOSTUNREACH);
			continue;
		}
		hdmabuf_frame_export_peer_gone(exp);
		if (exp->owner) {
			list_del_init(&exp->file_node);
			exp->owner = NULL;
		}
		hdmabuf_export_remove_locked(exp);
		/* A revoker finishes what it revokes. */
		if (!exp->revoking)
			list_add_tail(&exp->file_node, &gone);
	}
	mutex_unlock(&hdmabuf_lock);

	list_for_each_entry_safe(exp, next, &gone, file_node) {
		list_del_init(&exp->file_node);
		hdmabuf_export_teardown(exp);
	}
}
