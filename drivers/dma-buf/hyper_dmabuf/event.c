// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: per-open-file event queues.
 *
 * Every open file has its own queue of new-buffer and withdrawn events of
 * the buffers exported to its endpoint, bounded by the event_queue_len
 * module parameter.  An event is never
 * dropped silently: when the queue is full (or memory runs out) one
 * overflow record, allocated when the file was opened, is queued in its
 * place and further events are dropped until the reader has read that
 * record and can resynchronise with the list ioctl.
 *
 * The file that exported a buffer may also get its released event
 * (release.c), and the file that presented a frame its frame-released
 * event (frame.c), in the same queue; frame events go to the buffer's
 * endpoint like new-buffer events.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

/*
 * Open files, under hdmabuf_files_lock, which also protects each file's
 * endpoint; nests inside hdmabuf_lock.
 */
static LIST_HEAD(hdmabuf_files);
static DEFINE_MUTEX(hdmabuf_files_lock);	/* the list, their endpoints */

/**
 * struct hdmabuf_event_node - a queued event
 * @node: entry in the file's ev_queue
 * @ev: the record read() returns
 */
struct hdmabuf_event_node {
	struct list_head node;
	struct hyper_dmabuf_event ev;
};

/*
 * Queue @e on @hf, or when it is NULL (no memory) or the queue is full, the
 * overflow record; wake the readers.  Returns @e when it was not queued.
 */
static struct hdmabuf_event_node *
hdmabuf_event_queue(struct hdmabuf_file *hf, struct hdmabuf_event_node *e)
{
	spin_lock(&hf->ev_lock);
	if (!list_empty(&hf->ev_overflow->node)) {
		/* Dropped: the queued overflow record covers it. */
	} else if (!e || hf->ev_len >= hdmabuf_event_queue_len) {
		list_add_tail(&hf->ev_overflow->node, &hf->ev_queue);
		hf->ev_len++;
	} else {
		list_add_tail(&e->node, &hf->ev_queue);
		hf->ev_len++;
		e = NULL;
	}
	spin_unlock(&hf->ev_lock);
	wake_up_interruptible(&hf->ev_wait);
	return e;
}

/**
 * hdmabuf_event_file_init() - give a new open file its queue
 * @hf: the file
 *
 * Return: 0 or -ENOMEM.
 */
int hdmabuf_event_file_init(struct hdmabuf_file *hf)
{
	hf->ev_overflow = kzalloc(sizeof(*hf->ev_overflow), GFP_KERNEL);
	if (!hf->ev_overflow)
		return -ENOMEM;
	hf->ev_overflow->ev.type = HYPER_DMABUF_EVENT_OVERFLOW;
	INIT_LIST_HEAD(&hf->ev_overflow->node);
	spin_lock_init(&hf->ev_lock);
	INIT_LIST_HEAD(&hf->ev_queue);
	init_waitqueue_head(&hf->ev_wait);
	mutex_lock(&hdmabuf_files_lock);
	list_add_tail(&hf->node, &hdmabuf_files);
	mutex_unlock(&hdmabuf_files_lock);
	return 0;
}

/**
 * hdmabuf_event_file_exit() - drop a closing file's queue
 * @hf: the file
 */
void hdmabuf_event_file_exit(struct hdmabuf_file *hf)
{
	struct hdmabuf_event_node *e, *n;

	mutex_lock(&hdmabuf_files_lock);
	list_del(&hf->node);
	mutex_unlock(&hdmabuf_files_lock);
	list_for_each_entry_safe(e, n, &hf->ev_queue, node)
		if (e != hf->ev_overflow)
			kfree(e);
	kfree(hf->ev_overflow);
}

/**
 * hdmabuf_event_file_bind() - bind an open file to an endpoint
 * @hf: the file
 * @endpoint: a valid, non-empty name (HYPER_DMABUF_ENDPOINT_LEN bytes)
 *
 * From now on the file gets only the events of buffers exported to
 * @endpoint.  Events already queued stay.
 *
 * Return: 0, or -EBUSY when the file is bound already.
 */
int hdmabuf_event_file_bind(struct hdmabuf_file *hf, const char *endpoint)
{
	int ret = 0;

	mutex_lock(&hdmabuf_files_lock);
	if (hf->endpoint[0])
		ret = -EBUSY;
	else
		memcpy(hf->endpoint, endpoint, sizeof(hf->endpoint));
	mutex_unlock(&hdmabuf_files_lock);
	return ret;
}

/**
 * hdmabuf_event_file_endpoint() - the endpoint an open file is bound to
 * @hf: the file
 * @endpoint: receives the name, HYPER_DMABUF_ENDPOINT_LEN bytes (empty for
 *	the default endpoint)
 */
void hdmabuf_event_file_endpoint(struct hdmabuf_file *hf, char *endpoint)
{
	mutex_lock(&hdmabuf_files_lock);
	memcpy(endpoint, hf->endpoint, sizeof(hf->endpoint));
	mutex_unlock(&hdmabuf_files_lock);
}

/**
 * hdmabuf_event_post() - queue an event on every open file of its endpoint
 * @type: %HYPER_DMABUF_EVENT_NEW or %HYPER_DMABUF_EVENT_WITHDRAWN
 * @imp: the buffer concerned; only the files bound to its endpoint (or,
 *	for the default endpoint, never bound) get the event
 */
void hdmabuf_event_post(u32 type, const struct hdmabuf_import *imp)
{
	struct hdmabuf_event_node *e;
	struct hdmabuf_file *hf;

	mutex_lock(&hdmabuf_files_lock);
	list_for_each_entry(hf, &hdmabuf_files, node) {
		if (memcmp(hf->endpoint, imp->endpoint, sizeof(hf->endpoint)))
			continue;
		e = kzalloc(sizeof(*e), GFP_KERNEL);
		if (e) {
			e->ev.type = type;
			e->ev.id = imp->id;
			e->ev.exporter_vmid = imp->id.vmid;
			e->ev.size = imp->size;
			if (type == HYPER_DMABUF_EVENT_NEW) {
				e->ev.priv_len = imp->priv_len;
				memcpy(e->ev.priv, imp->priv, imp->priv_len);
				e->ev.image = imp->image;
			}
		}
		kfree(hdmabuf_event_queue(hf, e));
	}
	mutex_unlock(&hdmabuf_files_lock);
}

/**
 * hdmabuf_event_post_file() - queue an event on one open file
 * @hf: the file; the caller keeps it open
 * @type: %HYPER_DMABUF_EVENT_RELEASED
 * @id: the buffer concerned, exported by this VM
 * @size: its size in bytes
 */
void hdmabuf_event_post_file(struct hdmabuf_file *hf, u32 type,
			     const struct hyper_dmabuf_id *id, u64 size)
{
	struct hdmabuf_event_node *e;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (e) {
		e->ev.type = type;
		e->ev.id = *id;
		e->ev.exporter_vmid = id->vmid;
		e->ev.size = size;
	}
	kfree(hdmabuf_event_queue(hf, e));
}

/* A frame event, or NULL when there is no memory for one. */
static struct hdmabuf_event_node *
hdmabuf_event_frame_node(u32 type, const struct hyper_dmabuf_id *id, u64 size,
			 const struct hyper_dmabuf_frame_info *frame)
{
	struct hdmabuf_event_node *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (e) {
		e->ev.type = type;
		e->ev.id = *id;
		e->ev.exporter_vmid = id->vmid;
		e->ev.size = size;
		e->ev.frame = *frame;
	}
	return e;
}

/**
 * hdmabuf_event_post_frame() - queue a frame event
 * @hf: with @imp NULL, the one open file that gets
 *	%HYPER_DMABUF_EVENT_FRAME_RELEASED; the caller keeps it open
 * @imp: or the import whose endpoint's files get %HYPER_DMABUF_EVENT_FRAME
 * @id: the buffer concerned
 * @size: its size in bytes
 * @frame: the frame
 */
void hdmabuf_event_post_frame(struct hdmabuf_file *hf,
			      const struct hdmabuf_import *imp,
			      const struct hyper_dmabuf_id *id, u64 size,
			      const struct hyper_dmabuf_frame_info *frame)
{
	struct hdmabuf_event_node *e;

	if (!imp) {
		e = hdmabuf_event_frame_node(HYPER_DMABUF_EVENT_FRAME_RELEASED,
					     id, size, frame);
		kfree(hdmabuf_event_queue(hf, e));
		return;
	}
	mutex_lock(&hdmabuf_files_lock);
	list_for_each_entry(hf, &hdmabuf_files, node) {
		if (memcmp(hf->endpoint, imp->endpoint, sizeof(hf->endpoint)))
			continue;
		e = hdmabuf_event_frame_node(HYPER_DMABUF_EVENT_FRAME, id, size,
					     frame);
		kfree(hdmabuf_event_queue(hf, e));
	}
	mutex_unlock(&hdmabuf_files_lock);
}

/* Take the first event into @ev; false when the queue is empty. */
static bool hdmabuf_event_pop(struct hdmabuf_file *hf,
			      struct hyper_dmabuf_event *ev)
{
	struct hdmabuf_event_node *e;

	spin_lock(&hf->ev_lock);
	e = list_first_entry_or_null(&hf->ev_queue, struct hdmabuf_event_node,
				     node);
	if (e) {
		list_del_init(&e->node);
		hf->ev_len--;
		*ev = e->ev;
	}
	spin_unlock(&hf->ev_lock);
	if (e && e != hf->ev_overflow)
		kfree(e);
	return e;
}

/*
 * Put an event that could not be copied out back at the head.  Should
 * that need memory there is none of, the overflow record goes there
 * instead: the reader resynchronises rather than lose the event silently.
 */
static void hdmabuf_event_unpop(struct hdmabuf_file *hf,
				const struct hyper_dmabuf_event *ev)
{
	struct hdmabuf_event_node *e = NULL;

	if (ev->type != HYPER_DMABUF_EVENT_OVERFLOW) {
		e = kmalloc(sizeof(*e), GFP_KERNEL);
		if (e)
			e->ev = *ev;
	}
	spin_lock(&hf->ev_lock);
	if (e) {
		list_add(&e->node, &hf->ev_queue);
		hf->ev_len++;
	} else if (list_empty(&hf->ev_overflow->node)) {
		list_add(&hf->ev_overflow->node, &hf->ev_queue);
		hf->ev_len++;
	}
	spin_unlock(&hf->ev_lock);
}

/**
 * hdmabuf_event_read() - read() on /dev/hyper_dmabuf
 * @hf: the file
 * @buf: user buffer
 * @count: its size
 * @nonblock: the file is O_NONBLOCK
 *
 * Return: bytes read (whole records), or -EINVAL when @count cannot hold a
 * record, -EAGAIN, -ERESTARTSYS, -EFAULT.
 */
ssize_t hdmabuf_event_read(struct hdmabuf_file *hf, char __user *buf,
			   size_t count, bool nonblock)
{
	struct hyper_dmabuf_event ev;
	size_t done = 0;
	int ret;

	if (count < sizeof(ev))
		return -EINVAL;
	while (done + sizeof(ev) <= count) {
		if (!hdmabuf_event_pop(hf, &ev)) {
			if (done)
				break;
			if (nonblock)
				return -EAGAIN;
			ret = wait_event_interruptible(hf->ev_wait,
						       READ_ONCE(hf->ev_len));
			if (ret)
				return ret;
			continue;
		}
		if (copy_to_user(buf + done, &ev, sizeof(ev))) {
			hdmabuf_event_unpop(hf, &ev);
			return done ? done : -EFAULT;
		}
		done += sizeof(ev);
	}
	return done;
}

/**
 * hdmabuf_event_poll() - poll() on /dev/hyper_dmabuf
 * @hf: the file's state
 * @file: the file
 * @wait: poll table
 *
 * Return: EPOLLIN | EPOLLRDNORM while events are queued.
 */
__poll_t hdmabuf_event_poll(struct hdmabuf_file *hf, struct file *file,
			    struct poll_table_struct *wait)
{
	poll_wait(file, &hf->ev_wait, wait);
	return READ_ONCE(hf->ev_len) ? EPOLLIN | EPOLLRDNORM : 0;
}
