// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf loopback backend: the peer is this very kernel.
 *
 * Sharing records the pages under a reference; mapping looks the reference
 * up, checks it against what was shared, and hands out the same pages (each
 * held by a page reference).  Messages are copied into a bounded queue and
 * delivered by a work item, so the core sees the same asynchronous,
 * encoded path as with a real hypervisor.  A full queue makes senders wait
 * and then time out, never block for ever.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/hyper_dmabuf.h>

#include "../../backend.h"

static unsigned int lb_vmid = 1;
module_param_named(vmid, lb_vmid, uint, 0444);
MODULE_PARM_DESC(vmid, "VM id of this kernel and of its loopback peer (default 1)");

static unsigned int lb_queue_len = 256;
module_param_named(queue_len, lb_queue_len, uint, 0444);
MODULE_PARM_DESC(queue_len, "Messages in flight at most (default 256)");

static unsigned int lb_timeout_ms = 2000;
module_param_named(timeout_ms, lb_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a sender waits for room (default 2000)");

/*
 * Fault injection for tests: a silent peer drops every message, and
 * writing to reconnect makes the peer go away and come back, as a VM
 * whose driver reloads would.
 */
static bool lb_silent;
module_param_named(silent, lb_silent, bool, 0644);
MODULE_PARM_DESC(silent, "Drop every message, as a peer that stopped answering");

static struct hdmabuf_backend lb_backend;
/* The backend is registered: between init and exit, under lb_up_lock. */
static bool lb_up;
static DEFINE_MUTEX(lb_up_lock);	/* protects lb_up */

static int lb_reconnect(const char *val, const struct kernel_param *kp)
{
	int ret = -ENODEV;

	mutex_lock(&lb_up_lock);
	if (lb_up) {
		hdmabuf_peer_remove(&lb_backend, lb_vmid);
		ret = hdmabuf_peer_add(&lb_backend, lb_vmid);
	}
	mutex_unlock(&lb_up_lock);
	return ret;
}

static const struct kernel_param_ops lb_reconnect_ops = {
	.set = lb_reconnect,
};
module_param_cb(reconnect, &lb_reconnect_ops, NULL, 0200);
MODULE_PARM_DESC(reconnect, "Write anything: the peer goes away and comes back");

/**
 * struct lb_pages - pages shared or mapped
 * @pages: the pages, each holding a page reference
 * @nr_pages: how many
 * @readonly: shared read-only
 * @ref: the reference the pages are shared under
 */
struct lb_pages {
	struct page **pages;
	unsigned int nr_pages;
	bool readonly;
	u32 ref;
};

/**
 * struct lb_msg - a message in flight
 * @node: entry in lb_queue
 * @buf: the message
 */
struct lb_msg {
	struct list_head node;
	u8 buf[HDMABUF_MSG_SIZE];
};

/* Shared pages by reference, under lb_shares_lock. */
static DEFINE_XARRAY_ALLOC1(lb_shares);
static DEFINE_MUTEX(lb_shares_lock);	/* protects lb_shares */

/* lb_lock protects lb_queue, lb_queued and lb_open. */
static DEFINE_SPINLOCK(lb_lock);	/* protects the three below */
static LIST_HEAD(lb_queue);
static unsigned int lb_queued;
static bool lb_open;
/* Woken when the queue has room or closes. */
static DECLARE_WAIT_QUEUE_HEAD(lb_room);
static struct workqueue_struct *lb_wq;

static void lb_deliver(struct work_struct *work);
static DECLARE_WORK(lb_work, lb_deliver);

static struct lb_pages *lb_pages_new(struct page **pages,
				     unsigned int nr_pages, bool readonly)
{
	struct lb_pages *p;
	unsigned int i;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	p->pages = kvmalloc_array(nr_pages, sizeof(*p->pages), GFP_KERNEL);
	if (!p->pages) {
		kfree(p);
		return NULL;
	}
	for (i = 0; i < nr_pages; i++) {
		p->pages[i] = pages[i];
		get_page(pages[i]);
	}
	p->nr_pages = nr_pages;
	p->readonly = readonly;
	return p;
}

static void lb_pages_free(struct lb_pages *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_pages; i++)
		put_page(p->pages[i]);
	kvfree(p->pages);
	kfree(p);
}

static int lb_share(struct hdmabuf_backend *be, u32 vmid, struct page **pages,
		    unsigned int nr_pages, bool readonly, void **handle,
		    u64 *ref)
{
	struct lb_pages *p;
	int ret;

	if (vmid != lb_vmid)
		return -EHOSTUNREACH;
	p = lb_pages_new(pages, nr_pages, readonly);
	if (!p)
		return -ENOMEM;
	mutex_lock(&lb_shares_lock);
	ret = xa_alloc(&lb_shares, &p->ref, p, xa_limit_32b, GFP_KERNEL);
	mutex_unlock(&lb_shares_lock);
	if (ret) {
		lb_pages_free(p);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	*handle = p;
	*ref = p->ref;
	return 0;
}

static void lb_unshare(struct hdmabuf_backend *be, void *handle)
{
	struct lb_pages *p = handle;

	mutex_lock(&lb_shares_lock);
	xa_erase(&lb_shares, p->ref);
	mutex_unlock(&lb_shares_lock);
	lb_pages_free(p);
}

static int lb_map(struct hdmabuf_backend *be, u32 vmid, u64 ref,
		  unsigned int nr_pages, bool readonly, void **handle,
		  struct page ***pages)
{
	struct lb_pages *shared, *p = NULL;
	int ret = 0;

	if (vmid != lb_vmid || ref > U32_MAX)
		return -EINVAL;
	/* Hold the lock so that the share cannot go meanwhile. */
	mutex_lock(&lb_shares_lock);
	shared = xa_load(&lb_shares, ref);
	if (!shared || shared->nr_pages != nr_pages)
		ret = -EINVAL;
	else if (shared->readonly && !readonly)
		ret = -EACCES;
	else
		p = lb_pages_new(shared->pages, nr_pages, readonly);
	mutex_unlock(&lb_shares_lock);
	if (ret)
		return ret;
	if (!p)
		return -ENOMEM;
	*handle = p;
	*pages = p->pages;
	return 0;
}

static void lb_unmap(struct hdmabuf_backend *be, void *handle)
{
	lb_pages_free(handle);
}

static bool lb_has_room(void)
{
	bool room;

	spin_lock(&lb_lock);
	room = !lb_open || lb_queued < lb_queue_len;
	spin_unlock(&lb_lock);
	return room;
}

static int lb_send(struct hdmabuf_backend *be, u32 vmid, const void *buf,
		   size_t len)
{
	struct lb_msg *m;
	long left;

	if (vmid != lb_vmid || len != HDMABUF_MSG_SIZE)
		return -EINVAL;
	if (READ_ONCE(lb_silent))
		return 0;	/* sent, and never heard of again */
	m = kmalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	memcpy(m->buf, buf, len);

	for (;;) {
		spin_lock(&lb_lock);
		if (!lb_open) {
			spin_unlock(&lb_lock);
			kfree(m);
			return -ENOTCONN;
		}
		if (lb_queued < lb_queue_len) {
			list_add_tail(&m->node, &lb_queue);
			lb_queued++;
			spin_unlock(&lb_lock);
			queue_work(lb_wq, &lb_work);
			return 0;
		}
		spin_unlock(&lb_lock);
		left = wait_event_timeout(lb_room, lb_has_room(),
					  msecs_to_jiffies(lb_timeout_ms));
		if (!left) {
			kfree(m);
			return -ETIMEDOUT;
		}
	}
}

/* The receiving side: hand queued messages to the core, in order. */
static void lb_deliver(struct work_struct *work)
{
	struct lb_msg *m;

	for (;;) {
		spin_lock(&lb_lock);
		m = list_first_entry_or_null(&lb_queue, struct lb_msg, node);
		if (m) {
			list_del(&m->node);
			lb_queued--;
		}
		spin_unlock(&lb_lock);
		if (!m)
			break;
		wake_up(&lb_room);
		hdmabuf_recv(&lb_backend, lb_vmid, m->buf, sizeof(m->buf));
		kfree(m);
		cond_resched();
	}
}

static const struct hdmabuf_backend_ops lb_ops = {
	.share = lb_share,
	.unshare = lb_unshare,
	.map = lb_map,
	.unmap = lb_unmap,
	.send = lb_send,
};

static struct hdmabuf_backend lb_backend = {
	.name = "loopback",
	.owner = THIS_MODULE,
	.ops = &lb_ops,
};

static int __init lb_init(void)
{
	int ret;

	if (lb_vmid == HYPER_DMABUF_VMID_INVALID || !lb_queue_len)
		return -EINVAL;
	lb_wq = alloc_ordered_workqueue("hyper_dmabuf_loopback", 0);
	if (!lb_wq)
		return -ENOMEM;
	lb_open = true;
	lb_backend.vmid = lb_vmid;
	ret = hdmabuf_backend_register(&lb_backend);
	if (ret)
		goto err_wq;
	ret = hdmabuf_peer_add(&lb_backend, lb_vmid);
	if (ret)
		goto err_unregister;
	mutex_lock(&lb_up_lock);
	lb_up = true;
	mutex_unlock(&lb_up_lock);
	return 0;

err_unregister:
	hdmabuf_backend_unregister(&lb_backend);
err_wq:
	destroy_workqueue(lb_wq);
	return ret;
}
module_init(lb_init);

static void __exit lb_exit(void)
{
	struct lb_msg *m, *n;

	mutex_lock(&lb_up_lock);
	lb_up = false;
	mutex_unlock(&lb_up_lock);
	/* Every share and mapping pinned this module: none is left. */
	hdmabuf_backend_unregister(&lb_backend);
	spin_lock(&lb_lock);
	lb_open = false;
	spin_unlock(&lb_lock);
	wake_up_all(&lb_room);
	destroy_workqueue(lb_wq);
	list_for_each_entry_safe(m, n, &lb_queue, node)
		kfree(m);
	WARN_ON(!xa_empty(&lb_shares));
}
module_exit(lb_exit);

MODULE_DESCRIPTION("hyper_dmabuf loopback backend: share with this kernel");
MODULE_LICENSE("GPL");
