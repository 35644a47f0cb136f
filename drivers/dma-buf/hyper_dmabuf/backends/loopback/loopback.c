// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf loopback backend: the peer is this very kernel.
 *
 * Sharing records the frames under a reference together with the buffer's
 * id; mapping looks the reference up and checks the id, as a real
 * importer checks a page directory's header, then hands out the same
 * frames.  As with a hypervisor, a mapping keeps the frames reachable:
 * a share ends, and the core is told the pages are free, only once the
 * last mapping of it is gone; a withdrawn share that nothing maps is
 * revoked at once, as Xen revokes grants never mapped.  Messages are copied into a bounded queue
 * and delivered by a work item, so the core sees the same asynchronous,
 * encoded path as with a real hypervisor.  A full queue makes senders
 * wait and then time out, never block for ever.  Each message belongs to
 * the peer's session it was sent in, and is dropped once the peer has
 * gone and come back.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/hyper_dmabuf.h>

#include "../../backend.h"
#include "../../proto.h"

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

static void lb_new_session(void);

static int lb_reconnect(const char *val, const struct kernel_param *kp)
{
	int ret = -ENODEV;

	mutex_lock(&lb_up_lock);
	if (lb_up) {
		hdmabuf_peer_remove(&lb_backend, lb_vmid);
		lb_new_session();
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
 * struct lb_share - a buffer shared with the loopback peer
 * @kref: the share's own reference, dropped by unshare, and one per
 *	mapping: the frames are free for the core once it reaches zero
 * @id: the buffer's id, checked by every mapping
 * @pfns: its frames (the core's array, valid until the share ends)
 * @nr_pages: how many
 * @readonly: shared read-only
 * @ref: the reference the pages are shared under
 * @owner: the core's, for hdmabuf_unshare_done()
 * @done_work: tells the core, outside whatever lock the last put holds
 */
struct lb_share {
	struct kref kref;
	struct hyper_dmabuf_id id;
	const unsigned long *pfns;
	unsigned int nr_pages;
	bool readonly;
	u32 ref;
	void *owner;
	struct work_struct done_work;
};

/**
 * struct lb_mapping - the loopback peer's mapping of a share
 * @share: the share (a reference is held)
 * @pages: the pages of its frames
 */
struct lb_mapping {
	struct lb_share *share;
	struct page **pages;
};

/**
 * struct lb_msg - a message in flight
 * @node: entry in lb_queue
 * @session: the peer's session it was sent in
 * @buf: the message
 */
struct lb_msg {
	struct list_head node;
	unsigned int session;
	u8 buf[HDMABUF_MSG_SIZE];
};

/* Shares by reference, under lb_shares_lock. */
static DEFINE_XARRAY_ALLOC1(lb_shares);
static DEFINE_MUTEX(lb_shares_lock);	/* protects lb_shares */

/* lb_lock protects lb_queue, lb_queued, lb_open and lb_session. */
static DEFINE_SPINLOCK(lb_lock);	/* protects the four below */
static LIST_HEAD(lb_queue);
static unsigned int lb_queued;
static bool lb_open;
static unsigned int lb_session;
/* Held while a message is handed to the core: a new session waits. */
static DEFINE_MUTEX(lb_deliver_lock);
/* Woken when the queue has room or closes. */
static DECLARE_WAIT_QUEUE_HEAD(lb_room);
static struct workqueue_struct *lb_wq;

static void lb_deliver(struct work_struct *work);
static DECLARE_WORK(lb_work, lb_deliver);

#ifdef CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS
/*
 * Test hooks, in debugfs hyper_dmabuf_loopback/: messages held back from
 * delivery, read out by the test, messages the test hands to the core in
 * its own context, where fault injection of its task reaches the core's
 * message handlers, and maps stalled halfway for as long as it asks.
 */
static struct dentry *lb_debugfs;
/* Message types held back, 1 << type each. */
static u32 lb_hold_mask;
/* Held messages, oldest first, and their count: under lb_lock. */
static LIST_HEAD(lb_held);
static unsigned int lb_nr_held;
/* The message being injected: under lb_deliver_lock. */
static u8 lb_inject_buf[HDMABUF_MSG_SIZE];
/*
 * A map that holds its share waits this many milliseconds before it
 * returns, so that a test can make the peer go away in the middle of it;
 * lb_map_stalled counts the maps waiting.
 */
static u32 lb_map_delay_ms;
static atomic_t lb_map_stalled = ATOMIC_INIT(0);

/* In lb_map(), with the share held: wait as the test asked. */
static void lb_map_stall(void)
{
	u32 ms = READ_ONCE(lb_map_delay_ms);

	if (!ms)
		return;
	atomic_inc(&lb_map_stalled);
	msleep(min_t(u32, ms, 60000));
	atomic_dec(&lb_map_stalled);
}

/**
 * lb_hold() - keep a message back if the test asked for its type
 * @m: the message, about to be queued
 *
 * At most lb_queue_len messages are held; past that they are delivered.
 *
 * Return: true if @m was held: it is the test's now.
 */
static bool lb_hold(struct lb_msg *m)
{
	const struct hdmabuf_wire_msg *w = (const void *)m->buf;
	unsigned int type = le16_to_cpu(w->type);
	bool held = false;

	if (type >= 32 || !(READ_ONCE(lb_hold_mask) & BIT(type)))
		return false;
	spin_lock(&lb_lock);
	if (lb_nr_held < lb_queue_len) {
		list_add_tail(&m->node, &lb_held);
		lb_nr_held++;
		held = true;
	}
	spin_unlock(&lb_lock);
	return held;
}

/**
 * lb_held_read() - read the oldest held message, which is then forgotten
 * @file: hyper_dmabuf_loopback/held
 * @ubuf: the user's buffer, at least HDMABUF_MSG_SIZE bytes
 * @count: its size
 * @ppos: unused: each read returns the next message
 *
 * Return: HDMABUF_MSG_SIZE, 0 if none is held, -EINVAL if @count is too
 * small, or -EFAULT (the message is lost).
 */
static ssize_t lb_held_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct lb_msg *m;
	int ret = HDMABUF_MSG_SIZE;

	if (count < HDMABUF_MSG_SIZE)
		return -EINVAL;
	spin_lock(&lb_lock);
	m = list_first_entry_or_null(&lb_held, struct lb_msg, node);
	if (m) {
		list_del(&m->node);
		lb_nr_held--;
	}
	spin_unlock(&lb_lock);
	if (!m)
		return 0;
	if (copy_to_user(ubuf, m->buf, HDMABUF_MSG_SIZE))
		ret = -EFAULT;
	kfree(m);
	return ret;
}

/**
 * lb_inject_write() - hand one message to the core, in the writer's context
 * @file: hyper_dmabuf_loopback/inject
 * @ubuf: the message, encoded, HDMABUF_MSG_SIZE bytes
 * @count: must be HDMABUF_MSG_SIZE
 * @ppos: unused
 *
 * The message reaches hdmabuf_recv() as one from the peer would, under
 * lb_deliver_lock like lb_deliver(), so one message at a time still
 * reaches the core.  Nothing is allocated here: the first allocation the
 * writer makes from now on is the core's.
 *
 * Return: @count, -EINVAL for another size, -EFAULT.
 */
static ssize_t lb_inject_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	ssize_t ret = count;

	if (count != HDMABUF_MSG_SIZE)
		return -EINVAL;
	mutex_lock(&lb_deliver_lock);
	if (copy_from_user(lb_inject_buf, ubuf, count))
		ret = -EFAULT;
	else
		hdmabuf_recv(&lb_backend, lb_vmid, lb_inject_buf, count);
	mutex_unlock(&lb_deliver_lock);
	return ret;
}

static const struct file_operations lb_held_fops = {
	.owner = THIS_MODULE,
	.read = lb_held_read,
	.llseek = no_llseek,
};

static const struct file_operations lb_inject_fops = {
	.owner = THIS_MODULE,
	.write = lb_inject_write,
	.llseek = no_llseek,
};

static void lb_debugfs_init(void)
{
	lb_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_x32("hold", 0600, lb_debugfs, &lb_hold_mask);
	debugfs_create_file("held", 0400, lb_debugfs, NULL, &lb_held_fops);
	debugfs_create_file("inject", 0200, lb_debugfs, NULL, &lb_inject_fops);
	debugfs_create_u32("map_delay_ms", 0600, lb_debugfs, &lb_map_delay_ms);
	debugfs_create_atomic_t("map_stalled", 0400, lb_debugfs,
				&lb_map_stalled);
}

/* No test reaches the files any more, and nothing more is held. */
static void lb_debugfs_exit(void)
{
	debugfs_remove(lb_debugfs);
	WRITE_ONCE(lb_hold_mask, 0);
	WRITE_ONCE(lb_map_delay_ms, 0);
}

/* Once nothing sends any more: drop what is still held. */
static void lb_held_free(void)
{
	struct lb_msg *m, *n;

	list_for_each_entry_safe(m, n, &lb_held, node)
		kfree(m);
}
#else
static bool lb_hold(struct lb_msg *m)
{
	return false;
}

static void lb_map_stall(void)
{
}

static void lb_debugfs_init(void)
{
}

static void lb_debugfs_exit(void)
{
}

static void lb_held_free(void)
{
}
#endif /* CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS */

static void lb_share_done(struct work_struct *work)
{
	struct lb_share *sh = container_of(work, struct lb_share, done_work);

	hdmabuf_unshare_done(sh->owner);
	kfree(sh);
}

static void lb_share_release(struct kref *kref)
{
	struct lb_share *sh = container_of(kref, struct lb_share, kref);

	queue_work(lb_wq, &sh->done_work);
}

static int lb_share(struct hdmabuf_backend *be, u32 vmid,
		    const struct hdmabuf_share_info *info, void **handle,
		    u64 *ref)
{
	struct lb_share *sh;
	int ret;

	if (vmid != lb_vmid)
		return -EHOSTUNREACH;
	sh = kzalloc(sizeof(*sh), GFP_KERNEL_ACCOUNT);
	if (!sh)
		return -ENOMEM;
	kref_init(&sh->kref);
	INIT_WORK(&sh->done_work, lb_share_done);
	sh->id = info->id;
	sh->pfns = info->pfns;
	sh->nr_pages = info->nr_pages;
	sh->readonly = info->readonly;
	sh->owner = info->owner;
	mutex_lock(&lb_shares_lock);
	ret = xa_alloc(&lb_shares, &sh->ref, sh, xa_limit_32b, GFP_KERNEL);
	mutex_unlock(&lb_shares_lock);
	if (ret) {
		kfree(sh);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	*handle = sh;
	*ref = sh->ref;
	return 0;
}

/*
 * No new mapping from now on.  Its reference may already be gone (a
 * revoke) and taken by another share since: only this share's is erased.
 */
static void lb_unpublish(struct lb_share *sh)
{
	lockdep_assert_held(&lb_shares_lock);
	xa_cmpxchg(&lb_shares, sh->ref, sh, NULL, 0);
}

/* No new mapping from now on; the last one's end ends the share. */
static void lb_unshare(struct hdmabuf_backend *be, void *handle)
{
	struct lb_share *sh = handle;

	mutex_lock(&lb_shares_lock);
	lb_unpublish(sh);
	mutex_unlock(&lb_shares_lock);
	kref_put(&sh->kref, lb_share_release);
}

/* No new mapping from now on; done when none is left either. */
static bool lb_revoke(struct hdmabuf_backend *be, void *handle)
{
	struct lb_share *sh = handle;
	bool unused;

	mutex_lock(&lb_shares_lock);
	lb_unpublish(sh);
	/* Mappings are taken under the lock: none can come any more. */
	unused = kref_read(&sh->kref) == 1;
	mutex_unlock(&lb_shares_lock);
	return unused;
}

static int lb_map(struct hdmabuf_backend *be, u32 vmid,
		  const struct hdmabuf_map_info *info, void **handle,
		  struct page ***pages)
{
	struct lb_mapping *m;
	struct lb_share *sh;
	unsigned int i;
	int ret = 0;

	if (vmid != lb_vmid || info->ref > U32_MAX)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->pages = kvmalloc_array(info->nr_pages, sizeof(*m->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!m->pages) {
		kfree(m);
		return -ENOMEM;
	}
	/* Under the lock the share cannot end meanwhile. */
	mutex_lock(&lb_shares_lock);
	sh = xa_load(&lb_shares, info->ref);
	if (!sh || !hdmabuf_id_match(&sh->id, &info->id))
		ret = -ESTALE;	/* another buffer's reference, or none */
	else if (sh->nr_pages != info->nr_pages)
		ret = -EINVAL;
	else if (sh->readonly && !info->readonly)
		ret = -EACCES;
	else
		kref_get(&sh->kref);
	mutex_unlock(&lb_shares_lock);
	if (ret) {
		kvfree(m->pages);
		kfree(m);
		return ret;
	}
	m->share = sh;
	lb_map_stall();
	for (i = 0; i < sh->nr_pages; i++)
		m->pages[i] = pfn_to_page(sh->pfns[i]);
	*handle = m;
	*pages = m->pages;
	return 0;
}

static void lb_unmap(struct hdmabuf_backend *be, void *handle)
{
	struct lb_mapping *m = handle;

	kref_put(&m->share->kref, lb_share_release);
	kvfree(m->pages);
	kfree(m);
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
		   size_t len, unsigned int flags)
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
	if (lb_hold(m))
		return 0;

	for (;;) {
		spin_lock(&lb_lock);
		if (!lb_open) {
			spin_unlock(&lb_lock);
			kfree(m);
			return -ENOTCONN;
		}
		if (lb_queued < lb_queue_len) {
			m->session = lb_session;
			list_add_tail(&m->node, &lb_queue);
			lb_queued++;
			spin_unlock(&lb_lock);
			queue_work(lb_wq, &lb_work);
			return 0;
		}
		spin_unlock(&lb_lock);
		if (flags & HDMABUF_SEND_NOWAIT) {
			kfree(m);
			return -EAGAIN;
		}
		left = wait_event_timeout(lb_room, lb_has_room(),
					  msecs_to_jiffies(lb_timeout_ms));
		if (!left) {
			kfree(m);
			return -ETIMEDOUT;
		}
	}
}

/*
 * The receiving side: hand queued messages to the core, in order.  A
 * message of an earlier session of the peer is dropped: it was sent by a
 * peer that has gone since, and must not reach the one that came back.
 */
static void lb_deliver(struct work_struct *work)
{
	struct lb_msg *m;
	bool live;

	for (;;) {
		mutex_lock(&lb_deliver_lock);
		spin_lock(&lb_lock);
		m = list_first_entry_or_null(&lb_queue, struct lb_msg, node);
		if (m) {
			list_del(&m->node);
			lb_queued--;
			live = m->session == lb_session;
		}
		spin_unlock(&lb_lock);
		if (!m) {
			mutex_unlock(&lb_deliver_lock);
			break;
		}
		wake_up(&lb_room);
		if (live)
			hdmabuf_recv(&lb_backend, lb_vmid, m->buf,
				     sizeof(m->buf));
		mutex_unlock(&lb_deliver_lock);
		kfree(m);
		cond_resched();
	}
}

/*
 * The peer is gone (its transmit queue is shut down): start a new session
 * and drop what the old one left in the queue.  A message being handed to
 * the core finishes first.
 */
static void lb_new_session(void)
{
	struct lb_msg *m, *n;
	LIST_HEAD(old);

	mutex_lock(&lb_deliver_lock);
	spin_lock(&lb_lock);
	lb_session++;
	list_splice_init(&lb_queue, &old);
	lb_queued = 0;
	spin_unlock(&lb_lock);
	mutex_unlock(&lb_deliver_lock);
	wake_up_all(&lb_room);
	list_for_each_entry_safe(m, n, &old, node)
		kfree(m);
}

static const struct hdmabuf_backend_ops lb_ops = {
	.share = lb_share,
	.unshare = lb_unshare,
	.revoke = lb_revoke,
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
	lb_debugfs_init();
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
	lb_debugfs_exit();
	/* Every share and mapping pinned this module: none is left. */
	hdmabuf_backend_unregister(&lb_backend);
	spin_lock(&lb_lock);
	lb_open = false;
	spin_unlock(&lb_lock);
	wake_up_all(&lb_room);
	destroy_workqueue(lb_wq);
	list_for_each_entry_safe(m, n, &lb_queue, node)
		kfree(m);
	lb_held_free();
	WARN_ON(!xa_empty(&lb_shares));
}
module_exit(lb_exit);

MODULE_DESCRIPTION("hyper_dmabuf loopback backend: share with this kernel");
MODULE_LICENSE("GPL");
