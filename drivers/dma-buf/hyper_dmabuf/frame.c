// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: frames on a live buffer, for compositors.
 *
 * A compositor exports its swapchain's buffers once, and then says, frame
 * by frame, which buffer holds the next frame:
 *
 *   exporter                              importer
 *   PRESENT(id, seq, damage) -- fences -->
 *             FRAME(id, seq, damage) ---> FRAME event, arrival fence
 *                                         ... consumer reads the buffer ...
 *   FRAME_RELEASED event   <------------- RELEASE_FRAME(id, seq)
 *   release fence signalled                 (after its release fence)
 *
 * A buffer has at most one frame out at a time: PRESENT of a buffer whose
 * frame the importer has not released is EBUSY, so both directions are
 * bounded by the number of buffers, and frames of a buffer stay in order.
 * Sequence numbers grow per buffer.  The importer checks all the peer says:
 * a FRAME out of turn, going backwards, or with damage outside the image
 * is dropped and logged, and so is a FRAME_RELEASE for a frame not out.
 *
 * No fence crosses the VM boundary (fence.c): PRESENT waits for the
 * buffer's write fences and the caller's in-fence before the FRAME goes
 * out, and RELEASE_FRAME for the consumer's release fence before the
 * FRAME_RELEASE does.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

/* The exporter's wait for a frame's fences is over: send the frame. */
static void hdmabuf_frame_fences_done(struct hdmabuf_fence_wait *w)
{
	struct hdmabuf_export *exp = container_of(w, struct hdmabuf_export,
						  frame_wait);
	bool send = false;

	mutex_lock(&hdmabuf_lock);
	if (exp->state == HDMABUF_EXP_LIVE &&
	    exp->frame_state == HDMABUF_FRAME_WAITING) {
		exp->frame_state = HDMABUF_FRAME_QUEUED;
		send = true;
	}
	mutex_unlock(&hdmabuf_lock);
	/* In process context, with no lock held: send it from here. */
	if (send)
		hdmabuf_tx_send_export(exp, HDMABUF_TX_FRAME);
	hdmabuf_export_put(exp);	/* the wait's */
}

/**
 * hdmabuf_frame_export_init() - set up the frame state of a new export
 * @exp: the export
 */
void hdmabuf_frame_export_init(struct hdmabuf_export *exp)
{
	exp->frame_ctx = dma_fence_context_alloc(1);
	hdmabuf_fence_wait_init(&exp->frame_wait, hdmabuf_frame_fences_done);
}

static int hdmabuf_present_validate(const struct hyper_dmabuf_present *a)
{
	if ((a->flags & ~HYPER_DMABUF_PRESENT_FLAGS) || a->reserved[0] ||
	    a->reserved[1] || a->id.reserved || !a->seq ||
	    a->nr_damage > HYPER_DMABUF_MAX_DAMAGE)
		return -EINVAL;
	return 0;
}

/*
 * The export @id of @hf that may take a frame, with a reference; NULL and
 * the errno: -ENOENT for no such export, -EPERM for another file's,
 * -ESHUTDOWN for one unexported, -ENOTCONN for one whose sharing ended.
 */
static struct hdmabuf_export *
hdmabuf_present_find(struct hdmabuf_file *hf, const struct hyper_dmabuf_id *id,
		     int *err)
{
	struct hdmabuf_export *exp;

	mutex_lock(&hdmabuf_lock);
	exp = hdmabuf_export_lookup_locked(id);
	if (!exp)
		*err = hdmabuf_release_known(hf, id) ? -ENOTCONN : -ENOENT;
	else if (exp->state != HDMABUF_EXP_LIVE)
		*err = hdmabuf_release_known(hf, id) ? -ESHUTDOWN : -EPERM;
	else if (exp->owner != hf)
		*err = -EPERM;
	else
		kref_get(&exp->kref);
	if (exp && (exp->state != HDMABUF_EXP_LIVE || exp->owner != hf))
		exp = NULL;
	mutex_unlock(&hdmabuf_lock);
	return exp;
}

/**
 * hdmabuf_ioctl_present() - HYPER_DMABUF_IOCTL_PRESENT
 * @hf: the open file that exported the buffer
 * @arg: struct hyper_dmabuf_present
 * @out: where the release fence's fd goes; copied out here, before the
 *	frame can go out
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_present(struct hdmabuf_file *hf, void *arg,
			   const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_rect damage[HYPER_DMABUF_MAX_DAMAGE];
	struct dma_fence *in = NULL, *implicit = NULL, *release = NULL;
	struct hyper_dmabuf_present *a = arg;
	struct hdmabuf_fence_fd ff = { .fd = -1 };
	struct hdmabuf_export *exp;
	u32 i;
	int ret;

	ret = hdmabuf_present_validate(a);
	if (ret)
		return ret;
	if (copy_from_user(damage, u64_to_user_ptr(a->damage),
			   a->nr_damage * sizeof(damage[0])))
		return -EFAULT;

	exp = hdmabuf_present_find(hf, &a->id, &ret);
	if (!exp)
		return ret;
	for (i = 0; i < a->nr_damage; i++) {
		if (!hdmabuf_rect_inside(&damage[i], &exp->image)) {
			ret = -EINVAL;
			goto err_exp;
		}
	}
	if (a->flags & HYPER_DMABUF_PRESENT_IN_FENCE) {
		in = sync_file_get_fence(a->in_fence_fd);
		if (!in) {
			ret = -EINVAL;
			goto err_exp;
		}
	}
	if (!(a->flags & HYPER_DMABUF_PRESENT_NO_IMPLICIT)) {
		ret = dma_resv_get_singleton(exp->dmabuf->resv,
					     DMA_RESV_USAGE_WRITE, &implicit);
		if (ret)
			goto err_fences;
	}
	if (a->flags & HYPER_DMABUF_PRESENT_RELEASE_FENCE) {
		release = hdmabuf_fence_new(exp->frame_ctx, a->seq);
		if (!release) {
			ret = -ENOMEM;
			goto err_fences;
		}
		ret = hdmabuf_fence_fd_prepare(release, &ff);
		if (ret)
			goto err_release;
		a->release_fence_fd = ff.fd;
	}
	ret = hdmabuf_ioctl_copy_out(out, a);
	if (ret)
		goto err_fd;

	mutex_lock(&hdmabuf_lock);
	if (exp->state != HDMABUF_EXP_LIVE || exp->owner != hf)
		ret = -ESHUTDOWN;
	else if (exp->frame_state != HDMABUF_FRAME_IDLE)
		ret = -EBUSY;
	else if (a->seq <= exp->frame_seq)
		ret = -EINVAL;
	if (!ret) {
		exp->frame_state = HDMABUF_FRAME_WAITING;
		exp->frame_seq = a->seq;
		exp->frame_nr_damage = a->nr_damage;
		memcpy(exp->frame_damage, damage,
		       a->nr_damage * sizeof(damage[0]));
		/* A fence of an earlier frame was signalled when released. */
		exp->frame_release = release ? dma_fence_get(release) : NULL;
	}
	mutex_unlock(&hdmabuf_lock);
	if (ret)
		goto err_fd;

	if (release) {
		hdmabuf_fence_fd_install(&ff);
		dma_fence_put(release);
	}
	/* The wait takes over the fences and the export's reference. */
	exp->frame_wait.fences[0] = implicit;
	exp->frame_wait.fences[1] = in;
	hdmabuf_fence_wait_start(&exp->frame_wait);
	return 0;

err_fd:
	if (release)
		hdmabuf_fence_fd_abort(&ff);
err_release:
	dma_fence_put(release);
err_fences:
	dma_fence_put(implicit);
	dma_fence_put(in);
err_exp:
	hdmabuf_export_put(exp);
	return ret;
}

/**
 * hdmabuf_frame_export_encode() - build the FRAME message of an export
 * @exp: the export
 * @msg: filled in
 *
 * Return: false when there is nothing to send any more: the buffer was
 * withdrawn meanwhile.
 */
bool hdmabuf_frame_export_encode(struct hdmabuf_export *exp,
				 struct hdmabuf_msg *msg)
{
	bool send = false;

	memset(msg, 0, sizeof(*msg));
	mutex_lock(&hdmabuf_lock);
	if (exp->state == HDMABUF_EXP_LIVE &&
	    exp->frame_state == HDMABUF_FRAME_QUEUED) {
		msg->type = HDMABUF_MSG_FRAME;
		msg->id = exp->id;
		msg->seq = exp->frame_seq;
		msg->nr_damage = exp->frame_nr_damage;
		memcpy(msg->damage, exp->frame_damage,
		       sizeof(msg->damage));
		/* Before the send: the release may come back at once. */
		exp->frame_state = HDMABUF_FRAME_SENT;
		send = true;
	}
	mutex_unlock(&hdmabuf_lock);
	return send;
}

/**
 * hdmabuf_frame_export_send_failed() - a FRAME was not sent
 * @exp: the export
 * @err: why; only a passing failure (hdmabuf_send_transient()), a full
 *	channel or no memory for the message, is worth a retry: the frame
 *	would otherwise stay out for ever
 */
void hdmabuf_frame_export_send_failed(struct hdmabuf_export *exp, int err)
{
	bool retry = false;

	mutex_lock(&hdmabuf_lock);
	if (hdmabuf_send_transient(err) && exp->state == HDMABUF_EXP_LIVE &&
	    exp->frame_state == HDMABUF_FRAME_SENT) {
		exp->frame_state = HDMABUF_FRAME_QUEUED;
		retry = true;
	}
	mutex_unlock(&hdmabuf_lock);
	if (retry)
		hdmabuf_tx_queue_export(exp, HDMABUF_TX_FRAME);
}

/**
 * hdmabuf_frame_export_unsend() - a FRAME found no room to go at once
 * @exp: the export
 *
 * Its message is queued again for the transmit work: the frame is still
 * to be sent, and cannot have been released.
 */
void hdmabuf_frame_export_unsend(struct hdmabuf_export *exp)
{
	mutex_lock(&hdmabuf_lock);
	if (exp->frame_state == HDMABUF_FRAME_SENT)
		exp->frame_state = HDMABUF_FRAME_QUEUED;
	mutex_unlock(&hdmabuf_lock);
}

/* The frame of @exp is over; tell its file why.  hdmabuf_lock held. */
static void hdmabuf_frame_export_over(struct hdmabuf_export *exp, u32 flags,
				      int err)
{
	struct hyper_dmabuf_frame_info info = {
		.seq = exp->frame_seq,
		.flags = flags,
	};

	lockdep_assert_held(&hdmabuf_lock);
	exp->frame_state = HDMABUF_FRAME_IDLE;
	hdmabuf_fence_signal(xchg(&exp->frame_release, NULL), err);
	if (exp->owner)
		hdmabuf_event_post_frame(exp->owner, NULL, &exp->id, exp->size,
					 &info);
}

/**
 * hdmabuf_frame_export_recv() - the importer released a frame
 * @exp: the export the message names, live or unexported; hdmabuf_lock
 *	held
 * @msg: the %HDMABUF_MSG_FRAME_RELEASE
 *
 * Return: false when no such frame is out: the peer lies.
 */
bool hdmabuf_frame_export_recv(struct hdmabuf_export *exp,
			       const struct hdmabuf_msg *msg)
{
	lockdep_assert_held(&hdmabuf_lock);
	if (exp->frame_state != HDMABUF_FRAME_SENT ||
	    msg->seq != exp->frame_seq)
		return false;
	hdmabuf_frame_export_over(exp, msg->flags & HDMABUF_MSG_F_DROPPED ?
				  HYPER_DMABUF_FRAME_DROPPED : 0, 0);
	return true;
}

/**
 * hdmabuf_frame_export_peer_gone() - the importer of @exp is gone
 * @exp: the export; hdmabuf_lock held, its owner still set
 *
 * A frame out is over: its file gets %HYPER_DMABUF_EVENT_FRAME_RELEASED
 * with %HYPER_DMABUF_FRAME_ABORTED, and its release fence signals with
 * -ENOTCONN.
 */
void hdmabuf_frame_export_peer_gone(struct hdmabuf_export *exp)
{
	lockdep_assert_held(&hdmabuf_lock);
	if (exp->frame_state != HDMABUF_FRAME_IDLE)
		hdmabuf_frame_export_over(exp, HYPER_DMABUF_FRAME_ABORTED,
					  -ENOTCONN);
}

/**
 * hdmabuf_frame_export_end() - the sharing of @exp ended
 * @exp: the export
 *
 * The release fence of a frame still out signals, with -ECANCELED: the
 * importer can reach no page of the buffer any more.
 */
void hdmabuf_frame_export_end(struct hdmabuf_export *exp)
{
	hdmabuf_fence_signal(xchg(&exp->frame_release, NULL), -ECANCELED);
}

/* The importer's wait for a release fence is over: release the frame. */
static void hdmabuf_frame_release_done(struct hdmabuf_fence_wait *w)
{
	struct hdmabuf_import *imp = container_of(w, struct hdmabuf_import,
						  frame_wait);
	bool send = false;
	u32 flags = 0;
	u64 seq = 0;

	mutex_lock(&hdmabuf_lock);
	if (imp->frame_state == HDMABUF_FRAME_IN_RELEASING) {
		imp->frame_state = HDMABUF_FRAME_IN_IDLE;
		send = !imp->withdrawn;
		seq = imp->frame_seq;
		flags = imp->frame_flags;
	}
	mutex_unlock(&hdmabuf_lock);
	/* In process context, with no lock held: send it from here. */
	if (send)
		hdmabuf_tx_send_frame_release(imp, seq, flags);
	hdmabuf_import_put(imp);	/* the wait's */
}

/**
 * hdmabuf_frame_import_init() - set up the frame state of a new import
 * @imp: the import
 */
void hdmabuf_frame_import_init(struct hdmabuf_import *imp)
{
	imp->arrival_ctx = dma_fence_context_alloc(1);
	hdmabuf_fence_wait_init(&imp->frame_wait, hdmabuf_frame_release_done);
}

/**
 * hdmabuf_frame_import_recv() - a frame arrived from an exporter
 * @peer: the VM it came from
 * @msg: the validated %HDMABUF_MSG_FRAME
 *
 * A frame of a buffer this VM does not know (any more), or that was
 * withdrawn, is no news: the exporter may have sent it before it learnt.
 * One out of turn, not after the buffer's last frame, or with damage
 * outside the buffer's image is a lie, dropped and logged.
 */
void hdmabuf_frame_import_recv(struct hdmabuf_peer *peer,
			       const struct hdmabuf_msg *msg)
{
	struct hyper_dmabuf_frame_info info = {
		.seq = msg->seq,
		.nr_damage = msg->nr_damage,
	};
	struct hdmabuf_import *imp;
	bool lie = false;
	u32 i;

	memcpy(info.damage, msg->damage, sizeof(info.damage));
	mutex_lock(&hdmabuf_lock);
	imp = hdmabuf_import_lookup_locked(peer, &msg->id);
	if (!imp || imp->withdrawn)
		goto out;
	if (imp->frame_state != HDMABUF_FRAME_IN_IDLE ||
	    msg->seq <= imp->frame_seq) {
		lie = true;
		goto out;
	}
	for (i = 0; i < msg->nr_damage; i++) {
		if (!hdmabuf_rect_inside(&msg->damage[i], &imp->image)) {
			lie = true;
			goto out;
		}
	}
	imp->frame_state = HDMABUF_FRAME_IN_PENDING;
	imp->frame_seq = msg->seq;
	hdmabuf_fence_signal(xchg(&imp->arrival, NULL), 0);
	/* Under the lock, so that no WITHDRAWN overtakes the event. */
	hdmabuf_event_post_frame(NULL, imp, &imp->id, imp->size, &info);
out:
	mutex_unlock(&hdmabuf_lock);
	if (lie)
		pr_warn_ratelimited("vm %u: frame %llu of seq %u out of turn, dropped\n",
				    peer->vmid, msg->seq, msg->id.seq);
}

/**
 * hdmabuf_frame_import_withdrawn() - an import was withdrawn
 * @imp: the import; hdmabuf_lock held
 *
 * No frame can arrive any more: the arrival fence signals with
 * -ECANCELED.
 */
void hdmabuf_frame_import_withdrawn(struct hdmabuf_import *imp)
{
	lockdep_assert_held(&hdmabuf_lock);
	hdmabuf_fence_signal(xchg(&imp->arrival, NULL), -ECANCELED);
}

/**
 * hdmabuf_ioctl_release_frame() - HYPER_DMABUF_IOCTL_RELEASE_FRAME
 * @hf: an open file of the buffer's endpoint
 * @arg: struct hyper_dmabuf_release_frame
 * @out: unused: the call returns nothing
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_release_frame(struct hdmabuf_file *hf, void *arg,
				 const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_release_frame *a = arg;
	struct dma_fence *fence = NULL;
	struct hdmabuf_import *imp;
	int ret = 0;

	if ((a->flags & ~HYPER_DMABUF_RELEASE_FLAGS) || a->reserved[0] ||
	    a->reserved[1] || a->id.reserved || !a->seq)
		return -EINVAL;
	imp = hdmabuf_import_find(hf, &a->id);
	if (!imp)
		return -ENOENT;
	if (a->flags & HYPER_DMABUF_RELEASE_FENCE) {
		fence = sync_file_get_fence(a->fence_fd);
		if (!fence) {
			hdmabuf_import_put(imp);
			return -EINVAL;
		}
	}
	mutex_lock(&hdmabuf_lock);
	if (imp->withdrawn) {
		ret = -ENOTCONN;
	} else if (imp->frame_state != HDMABUF_FRAME_IN_PENDING ||
		   a->seq != imp->frame_seq) {
		ret = -ESTALE;
	} else {
		imp->frame_state = HDMABUF_FRAME_IN_RELEASING;
		imp->frame_flags = a->flags & HYPER_DMABUF_RELEASE_DROPPED ?
				   HDMABUF_MSG_F_DROPPED : 0;
	}
	mutex_unlock(&hdmabuf_lock);
	if (ret) {
		dma_fence_put(fence);
		hdmabuf_import_put(imp);
		return ret;
	}
	/* The wait takes over the fence and the import's reference. */
	imp->frame_wait.fences[0] = fence;
	imp->frame_wait.fences[1] = NULL;
	hdmabuf_fence_wait_start(&imp->frame_wait);
	return 0;
}

/**
 * hdmabuf_ioctl_frame_fence() - HYPER_DMABUF_IOCTL_FRAME_FENCE
 * @hf: an open file of the buffer's endpoint
 * @arg: struct hyper_dmabuf_frame_fence
 * @out: where the fd goes; copied out here, before it is installed
 *
 * Return: 0 or a negative errno as documented in the userspace API.
 */
long hdmabuf_ioctl_frame_fence(struct hdmabuf_file *hf, void *arg,
			       const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_frame_fence *a = arg;
	struct dma_fence *f = NULL, *fresh;
	struct hdmabuf_fence_fd ff;
	struct hdmabuf_import *imp;
	int ret = 0;

	if (a->flags || a->reserved[0] || a->reserved[1] || a->id.reserved)
		return -EINVAL;
	imp = hdmabuf_import_find(hf, &a->id);
	if (!imp)
		return -ENOENT;
	/* Made before the lock; used unless a fence is waiting already. */
	fresh = hdmabuf_fence_new(imp->arrival_ctx, 0);
	if (!fresh) {
		hdmabuf_import_put(imp);
		return -ENOMEM;
	}
	mutex_lock(&hdmabuf_lock);
	if (imp->withdrawn) {
		ret = -ENOTCONN;
	} else if (imp->frame_state == HDMABUF_FRAME_IN_PENDING) {
		/* A frame is here: a fence signalled already. */
		f = fresh;
		fresh = NULL;
		f->seqno = ++imp->arrival_seqno;
		dma_fence_signal(f);
	} else {
		if (!imp->arrival) {
			fresh->seqno = ++imp->arrival_seqno;
			imp->arrival = fresh;
			fresh = NULL;
		}
		f = dma_fence_get(imp->arrival);
	}
	mutex_unlock(&hdmabuf_lock);
	if (fresh)
		dma_fence_put(fresh);
	if (ret)
		goto out;
	ret = hdmabuf_fence_fd_prepare(f, &ff);
	if (ret)
		goto out;
	a->fence_fd = ff.fd;
	ret = hdmabuf_ioctl_copy_out(out, a);
	if (ret)
		hdmabuf_fence_fd_abort(&ff);
	else
		hdmabuf_fence_fd_install(&ff);
out:
	if (f)
		dma_fence_put(f);
	hdmabuf_import_put(imp);
	return ret;
}
