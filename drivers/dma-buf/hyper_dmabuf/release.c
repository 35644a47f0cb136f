// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: telling an exporter that its buffer is free again.
 *
 * An export ends when its backend reports that the importing VM can reach
 * none of its pages any more (hdmabuf_unshare_done()), which may be long
 * after it was unexported, or after its peer went away.  Only then may the
 * exporter reuse or free the buffer.  The open file that exported it learns
 * it, even when it unexported the buffer long before: through
 * HYPER_DMABUF_IOCTL_WAIT_RELEASED, and through a RELEASED event when it
 * asked for one at export.
 *
 * Each open file keeps the exports it made that have not ended (linked
 * when they become live, unlinked when they end or the file closes), and
 * the ids of the last HYPER_DMABUF_RELEASED_HISTORY that ended, so that a
 * wait that starts after the end still learns it.  Nothing else is kept:
 * what a file holds is bounded by its exports plus that fixed ring.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/jiffies.h>
#include <linux/wait.h>

#include "hdmabuf.h"

DEFINE_MUTEX(hdmabuf_release_lock);	/* see hdmabuf.h */

/**
 * hdmabuf_release_file_init() - a new open file has no exports yet
 * @hf: the file
 */
void hdmabuf_release_file_init(struct hdmabuf_file *hf)
{
	INIT_LIST_HEAD(&hf->rel_exports);
	init_waitqueue_head(&hf->rel_wait);
}

/**
 * hdmabuf_release_file_exit() - a closing file is told nothing any more
 * @hf: the file, its exports already withdrawn
 *
 * Its exports that have not ended go on without it.
 */
void hdmabuf_release_file_exit(struct hdmabuf_file *hf)
{
	struct hdmabuf_export *exp, *next;

	mutex_lock(&hdmabuf_release_lock);
	list_for_each_entry_safe(exp, next, &hf->rel_exports, rel_node) {
		list_del_init(&exp->rel_node);
		exp->rel_file = NULL;
	}
	mutex_unlock(&hdmabuf_release_lock);
}

/**
 * hdmabuf_release_track() - tell @hf when @exp ends
 * @hf: the open file that exported it
 * @exp: the export, becoming live
 *
 * Called under hdmabuf_lock, before anyone else can make the export end.
 */
void hdmabuf_release_track(struct hdmabuf_file *hf,
			   struct hdmabuf_export *exp)
{
	lockdep_assert_held(&hdmabuf_lock);
	mutex_lock(&hdmabuf_release_lock);
	exp->rel_file = hf;
	list_add_tail(&exp->rel_node, &hf->rel_exports);
	mutex_unlock(&hdmabuf_release_lock);
}

/**
 * hdmabuf_release_done() - an export ended: tell the file that made it
 * @exp: the export; hdmabuf_unshare_done() has put its dma-buf
 *
 * Records its id, queues the RELEASED event if the exporter asked for it,
 * and wakes whoever waits for it.  Process context.
 */
void hdmabuf_release_done(struct hdmabuf_export *exp)
{
	struct hdmabuf_file *hf;

	mutex_lock(&hdmabuf_release_lock);
	hf = exp->rel_file;
	WRITE_ONCE(exp->released, true);
	if (hf) {
		list_del_init(&exp->rel_node);
		exp->rel_file = NULL;
		hf->rel_ids[hf->rel_nr % HYPER_DMABUF_RELEASED_HISTORY] =
			exp->id;
		hf->rel_nr++;
		if (exp->rel_event)
			hdmabuf_event_post_file(hf, HYPER_DMABUF_EVENT_RELEASED,
						&exp->id, exp->size);
		wake_up_all(&hf->rel_wait);
	}
	mutex_unlock(&hdmabuf_release_lock);
}

/* The export of @hf named @id that has not ended, or NULL. */
static struct hdmabuf_export *
hdmabuf_release_find_locked(struct hdmabuf_file *hf,
			    const struct hyper_dmabuf_id *id)
{
	struct hdmabuf_export *exp;

	lockdep_assert_held(&hdmabuf_release_lock);
	list_for_each_entry(exp, &hf->rel_exports, rel_node)
		if (hdmabuf_id_match(&exp->id, id))
			return exp;
	return NULL;
}

/* Whether @id is among the last exports of @hf that ended. */
static bool hdmabuf_release_seen_locked(struct hdmabuf_file *hf,
					const struct hyper_dmabuf_id *id)
{
	u64 n = min_t(u64, hf->rel_nr, HYPER_DMABUF_RELEASED_HISTORY);
	unsigned int i;

	lockdep_assert_held(&hdmabuf_release_lock);
	for (i = 0; i < n; i++)
		if (hdmabuf_id_match(&hf->rel_ids[i], id))
			return true;
	return false;
}

/**
 * hdmabuf_ioctl_wait_released() - HYPER_DMABUF_IOCTL_WAIT_RELEASED
 * @hf: the open file asking
 * @arg: struct hyper_dmabuf_wait_released
 * @out: unused: the call returns nothing
 *
 * Waits, up to the timeout and interruptibly, until an export of @hf has
 * ended.  The export need not have been unexported, nor be when the wait
 * begins.
 *
 * Return: 0 once it ended (at once when it ended before), -ETIMEDOUT,
 * -EINTR on a signal, -ENOENT when @hf has no such export, neither live
 * nor among the last %HYPER_DMABUF_RELEASED_HISTORY that ended, or
 * -EINVAL.
 */
long hdmabuf_ioctl_wait_released(struct hdmabuf_file *hf, void *arg,
				 const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_wait_released *a = arg;
	struct hdmabuf_export *exp;
	long left;
	int ret = 0;

	if (a->flags || a->reserved[0] || a->reserved[1] || a->id.reserved)
		return -EINVAL;

	mutex_lock(&hdmabuf_release_lock);
	exp = hdmabuf_release_find_locked(hf, &a->id);
	if (exp)
		kref_get(&exp->kref);	/* linked: the table's is held */
	else if (!hdmabuf_release_seen_locked(hf, &a->id))
		ret = -ENOENT;
	mutex_unlock(&hdmabuf_release_lock);
	if (!exp)
		return ret;

	left = wait_event_interruptible_timeout(hf->rel_wait,
						READ_ONCE(exp->released),
						msecs_to_jiffies(a->timeout_ms));
	hdmabuf_export_put(exp);
	/* Not restarted: the timeout is relative, as with epoll_wait(). */
	if (left < 0)
		return -EINTR;
	return left ? 0 : -ETIMEDOUT;
}

/**
 * hdmabuf_release_known() - did an open file export a buffer?
 * @hf: the open file
 * @id: the buffer
 *
 * Return: true when @id is an export of @hf that has not ended, or among
 * its last %HYPER_DMABUF_RELEASED_HISTORY that ended.
 */
bool hdmabuf_release_known(struct hdmabuf_file *hf,
			   const struct hyper_dmabuf_id *id)
{
	bool known;

	mutex_lock(&hdmabuf_release_lock);
	known = hdmabuf_release_find_locked(hf, id) ||
		hdmabuf_release_seen_locked(hf, id);
	mutex_unlock(&hdmabuf_release_lock);
	return known;
}
