// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: the fences of frames.
 *
 * No fence crosses the VM boundary: a VM only ever tells its peer that
 * something has happened, and each side keeps its own fences.  Two kinds
 * are used here:
 *
 *  - waits, on fences that others made (a buffer's dma_resv, a caller's
 *    sync_file): a frame goes out, or is released, only once they have
 *    signalled.  Waiting never blocks an ioctl: a callback on the fence
 *    brings the work back, in process context;
 *
 *  - our own fences, handed to userspace as sync_files: a frame's release
 *    on the exporter, a frame's arrival on the importer.  Each is
 *    signalled exactly once, when the peer says so, or with an error when
 *    the sharing ends first.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/wait_bit.h>

#include "hdmabuf.h"

/* Waits started and not yet done; module exit waits for none to be left. */
static atomic_t hdmabuf_fence_waits = ATOMIC_INIT(0);

/**
 * struct hdmabuf_fence - a fence of ours
 * @base: the fence
 * @lock: its lock
 */
struct hdmabuf_fence {
	struct dma_fence base;
	spinlock_t lock;	/* the fence's own */
};

static const char *hdmabuf_fence_driver_name(struct dma_fence *f)
{
	return "hyper_dmabuf";
}

static const char *hdmabuf_fence_timeline_name(struct dma_fence *f)
{
	return "frame";
}

static const struct dma_fence_ops hdmabuf_fence_ops = {
	.get_driver_name = hdmabuf_fence_driver_name,
	.get_timeline_name = hdmabuf_fence_timeline_name,
};

/**
 * hdmabuf_fence_new() - make a fence of ours
 * @context: its timeline (dma_fence_context_alloc())
 * @seqno: its point on the timeline, after every earlier one
 *
 * Charged to the caller's memory cgroup.
 *
 * Return: the fence, or NULL.
 */
struct dma_fence *hdmabuf_fence_new(u64 context, u64 seqno)
{
	struct hdmabuf_fence *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &hdmabuf_fence_ops, &f->lock, context,
		       seqno);
	return &f->base;
}

/**
 * hdmabuf_fence_signal() - signal a fence of ours and drop the reference
 * @f: the fence, or NULL
 * @err: 0, or the negative errno the fence ends with
 *
 * The caller owns the only pointer through which @f is ever signalled.
 */
void hdmabuf_fence_signal(struct dma_fence *f, int err)
{
	if (!f)
		return;
	if (err)
		dma_fence_set_error(f, err);
	dma_fence_signal(f);
	dma_fence_put(f);
}

/**
 * hdmabuf_fence_fd_prepare() - make a sync_file for a fence, not yet
 *	visible to userspace
 * @f: the fence; the sync_file takes its own reference
 * @ff: filled in; give it to hdmabuf_fence_fd_install() or
 *	hdmabuf_fence_fd_abort()
 *
 * Return: 0, or a negative errno having made nothing.
 */
int hdmabuf_fence_fd_prepare(struct dma_fence *f, struct hdmabuf_fence_fd *ff)
{
	ff->fd = get_unused_fd_flags(O_CLOEXEC);
	if (ff->fd < 0)
		return ff->fd;
	ff->sync = sync_file_create(f);
	if (!ff->sync) {
		put_unused_fd(ff->fd);
		return -ENOMEM;
	}
	return 0;
}

/**
 * hdmabuf_fence_fd_install() - give userspace a prepared sync_file
 * @ff: from hdmabuf_fence_fd_prepare()
 */
void hdmabuf_fence_fd_install(struct hdmabuf_fence_fd *ff)
{
	fd_install(ff->fd, ff->sync->file);
}

/**
 * hdmabuf_fence_fd_abort() - undo hdmabuf_fence_fd_prepare()
 * @ff: from hdmabuf_fence_fd_prepare()
 */
void hdmabuf_fence_fd_abort(struct hdmabuf_fence_fd *ff)
{
	put_unused_fd(ff->fd);
	fput(ff->sync->file);
}

static void hdmabuf_fence_wait_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct hdmabuf_fence_wait *w = container_of(cb,
						    struct hdmabuf_fence_wait,
						    cb);

	queue_work(hdmabuf_wq, &w->work);
}

/*
 * Go on waiting: drop the fences that have signalled, and when one has
 * not, come back when it has.  When none is left, the wait is done.
 */
static void hdmabuf_fence_wait_step(struct hdmabuf_fence_wait *w)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(w->fences); i++) {
		if (!w->fences[i])
			continue;
		if (!dma_fence_add_callback(w->fences[i], &w->cb,
					    hdmabuf_fence_wait_cb))
			return;
		dma_fence_put(w->fences[i]);
		w->fences[i] = NULL;
	}
	w->done(w);
	if (atomic_dec_and_test(&hdmabuf_fence_waits))
		wake_up_var(&hdmabuf_fence_waits);
}

static void hdmabuf_fence_wait_work(struct work_struct *work)
{
	hdmabuf_fence_wait_step(container_of(work, struct hdmabuf_fence_wait,
					     work));
}

/**
 * hdmabuf_fence_wait_init() - set up a wait, once
 * @w: the wait
 * @done: what to call when a wait is done
 */
void hdmabuf_fence_wait_init(struct hdmabuf_fence_wait *w,
			     void (*done)(struct hdmabuf_fence_wait *w))
{
	INIT_WORK(&w->work, hdmabuf_fence_wait_work);
	w->done = done;
}

/**
 * hdmabuf_fence_wait_start() - wait for fences without blocking
 * @w: the wait, set up with hdmabuf_fence_wait_init(), with @fences set
 *	(references, NULL where none); it must stay alive until @done has
 *	been called, and is started again only after that
 *
 * @done is called once every fence has signalled, in process context: at
 * once, in the caller's own context, when none is left to wait for, or
 * later from a work item.  Fences signal in finite time, so every wait
 * ends.
 */
void hdmabuf_fence_wait_start(struct hdmabuf_fence_wait *w)
{
	atomic_inc(&hdmabuf_fence_waits);
	hdmabuf_fence_wait_step(w);
}

/**
 * hdmabuf_fence_exit() - wait until every fence wait is done
 *
 * For module exit: a callback of ours must not be left on a fence.
 */
void hdmabuf_fence_exit(void)
{
	wait_var_event(&hdmabuf_fence_waits,
		       !atomic_read(&hdmabuf_fence_waits));
}
