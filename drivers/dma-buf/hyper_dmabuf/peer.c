// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: backends, peers and the message path.
 *
 * Backends register with the core and announce the peers they reach.  Each
 * peer has a transmit queue served by a work item, so messages are only
 * ever sent in process context and never with a core lock held; the calls
 * a peer waits on send their own messages at once when the channel has
 * room, and leave them to the work otherwise.  What may be queued is
 * bounded: an export or import sits on its queue at most once (its
 * pending messages are bits), and replies to a peer's requests are capped,
 * beyond which they are dropped and the peer's own request times out.
 * Received messages are decoded and validated before the export or import
 * side sees them.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

/* Replies queued to one peer at most; see the comment at the top. */
#define HDMABUF_MAX_REPLIES	256
/* Replies each peer keeps memory for: see hdmabuf_tx_reply(). */
#define HDMABUF_RESERVED_REPLIES	4
/* Items a caller sends from its own context at most; see tx_direct. */
#define HDMABUF_TX_DIRECT_MAX	4

DEFINE_MUTEX(hdmabuf_lock);	/* the database lock, see hdmabuf.h */
struct workqueue_struct *hdmabuf_wq;
struct hdmabuf_tx_counts hdmabuf_tx_counts;
struct hdmabuf_rx_counts hdmabuf_rx_counts;

/* Registered backends, under hdmabuf_lock. */
static LIST_HEAD(hdmabuf_backends);
/* Peers that are up, by VM id, under hdmabuf_lock. */
DEFINE_XARRAY(hdmabuf_peers);
/*
 * Export quotas by VM id.  The xarray's lock protects it and orders a
 * quota's last put against a lookup: one whose count reached zero is
 * never found.
 */
static DEFINE_XARRAY(hdmabuf_quotas);

/**
 * struct hdmabuf_tx_reply - a queued reply
 * @node: entry in the peer's tx_replies, or in its tx_reserve while
 *	@reserved and unused
 * @reserved: one of the peer's reserve, back to it once sent
 * @msg: the reply
 */
struct hdmabuf_tx_reply {
	struct list_head node;
	bool reserved;
	struct hdmabuf_msg msg;
};

static u32 hdmabuf_max_pages(void)
{
	return min_t(u64, U32_MAX,
		     ((u64)hdmabuf_max_buffer_mb << 20) >> PAGE_SHIFT);
}

/* The quota of @vmid, shared with its earlier peers that live on. */
static struct hdmabuf_quota *hdmabuf_quota_get(u32 vmid)
{
	struct hdmabuf_quota *q, *old;

	xa_lock(&hdmabuf_quotas);
	q = xa_load(&hdmabuf_quotas, vmid);
	if (q)
		refcount_inc(&q->ref);
	xa_unlock(&hdmabuf_quotas);
	if (q)
		return q;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return NULL;
	refcount_set(&q->ref, 1);
	q->vmid = vmid;
	xa_lock(&hdmabuf_quotas);
	/* May drop the lock to allocate: another may have come meanwhile. */
	old = __xa_cmpxchg(&hdmabuf_quotas, vmid, NULL, q, GFP_KERNEL);
	if (old && !xa_is_err(old))
		refcount_inc(&old->ref);
	xa_unlock(&hdmabuf_quotas);
	if (old) {
		kfree(q);
		return xa_is_err(old) ? NULL : old;
	}
	return q;
}

static void hdmabuf_quota_put(struct hdmabuf_quota *q)
{
	/* refcount_dec_and_lock(), in a shape sparse can follow. */
	if (refcount_dec_not_one(&q->ref))
		return;
	xa_lock(&hdmabuf_quotas);
	if (!refcount_dec_and_test(&q->ref)) {
		xa_unlock(&hdmabuf_quotas);
		return;
	}
	__xa_erase(&hdmabuf_quotas, q->vmid);
	xa_unlock(&hdmabuf_quotas);
	WARN_ON(atomic_read(&q->exports) || atomic_long_read(&q->pages));
	kfree(q);
}

/* Free the peer's reserve of replies: none is in use any more. */
static void hdmabuf_tx_reserve_free(struct hdmabuf_peer *peer)
{
	struct hdmabuf_tx_reply *reply, *r;

	list_for_each_entry_safe(reply, r, &peer->tx_reserve, node)
		kfree(reply);
}

static void hdmabuf_peer_free(struct kref *kref)
{
	struct hdmabuf_peer *peer = container_of(kref, struct hdmabuf_peer,
						 kref);

	WARN_ON(!xa_empty(&peer->imports));
	hdmabuf_quota_put(peer->quota);
	/* hdmabuf_tx_shutdown() cancelled it, and nothing queues it since. */
	WARN_ON(work_pending(&peer->tx_work));
	hdmabuf_tx_reserve_free(peer);
	mutex_destroy(&peer->tx_mutex);
	xa_destroy(&peer->imports);
	kfree(peer);
}

/**
 * hdmabuf_peer_put() - drop a peer reference
 * @peer: the peer
 */
void hdmabuf_peer_put(struct hdmabuf_peer *peer)
{
	kref_put(&peer->kref, hdmabuf_peer_free);
}

/**
 * hdmabuf_peer_get() - find a peer that is up
 * @vmid: its VM id
 *
 * Return: the peer with a reference held, or NULL.
 */
struct hdmabuf_peer *hdmabuf_peer_get(u32 vmid)
{
	struct hdmabuf_peer *peer;

	mutex_lock(&hdmabuf_lock);
	peer = xa_load(&hdmabuf_peers, vmid);
	if (peer)
		kref_get(&peer->kref);
	mutex_unlock(&hdmabuf_lock);
	return peer;
}

static int hdmabuf_send(struct hdmabuf_peer *peer,
			const struct hdmabuf_msg *msg, unsigned int flags)
{
	u8 buf[HDMABUF_MSG_SIZE];
	int err;

	hdmabuf_msg_encode(msg, buf);
	err = peer->be->ops->send(peer->be, peer->vmid, buf, sizeof(buf),
				  flags);
	if (err && err != -EAGAIN)
		pr_warn_ratelimited("vm %u: message type %u not sent: %d\n",
				    peer->vmid, msg->type, err);
	return err;
}

/*
 * Start the transmit work.  Only under tx_lock while the queue is not dead,
 * so that none is queued once hdmabuf_tx_shutdown() has cancelled it.
 */
static void hdmabuf_tx_kick(struct hdmabuf_peer *peer)
{
	lockdep_assert_held(&peer->tx_lock);
	queue_work(hdmabuf_wq, &peer->tx_work);
}

/* A reply is done with: a reserved one goes back to the reserve. */
static void hdmabuf_tx_reply_free(struct hdmabuf_peer *peer,
				  struct hdmabuf_tx_reply *reply)
{
	if (!reply || !reply->reserved) {
		kfree(reply);
		return;
	}
	spin_lock(&peer->tx_lock);
	list_add(&reply->node, &peer->tx_reserve);
	spin_unlock(&peer->tx_lock);
}

/*
 * The hdmabuf_tx_*_one() helpers send the messages of one queued item and
 * return 1, or 0 when nothing was queued.  With HDMABUF_SEND_NOWAIT they
 * return -EAGAIN when the channel had no room at once, having put what
 * was not sent back on the queue; hdmabuf_tx_direct(), the only sender
 * that does not wait, then kicks the work.
 */
static int hdmabuf_tx_reply_one(struct hdmabuf_peer *peer, unsigned int flags)
{
	struct hdmabuf_tx_reply *reply;
	int err;

	spin_lock(&peer->tx_lock);
	reply = list_first_entry_or_null(&peer->tx_replies,
					 struct hdmabuf_tx_reply, node);
	if (reply) {
		list_del(&reply->node);
		peer->nr_replies--;
	}
	spin_unlock(&peer->tx_lock);
	if (!reply)
		return 0;
	err = hdmabuf_send(peer, &reply->msg, flags);
	if (err == -EAGAIN || err == -ENOMEM) {
		/*
		 * Back in front: replies go in the order they were made.  The
		 * peer waits for this one, so no memory for the message (the
		 * backend's, or a caller's fault injection in the direct path)
		 * does not lose it: the work sends it again.  A channel that
		 * stayed full for the backend's whole timeout (-ETIMEDOUT)
		 * does: that peer is not reading.
		 */
		spin_lock(&peer->tx_lock);
		if (!peer->tx_dead) {
			list_add(&reply->node, &peer->tx_replies);
			peer->nr_replies++;
			reply = NULL;
			if (err == -ENOMEM)
				hdmabuf_tx_kick(peer);
		}
		spin_unlock(&peer->tx_lock);
		hdmabuf_tx_reply_free(peer, reply);
		return -EAGAIN;
	}
	hdmabuf_tx_reply_free(peer, reply);
	return 1;
}

/* Queue @what of @exp on its live peer; under the peer's tx_lock. */
static bool hdmabuf_tx_add_export(struct hdmabuf_export *exp,
				  unsigned long what, bool kick)
{
	struct hdmabuf_peer *peer = exp->peer;

	lockdep_assert_held(&peer->tx_lock);
	if (peer->tx_dead)
		return false;
	exp->tx_pending |= what;
	if (list_empty(&exp->tx_node)) {
		kref_get(&exp->kref);
		list_add_tail(&exp->tx_node, &peer->tx_exports);
	}
	if (kick)
		hdmabuf_tx_kick(peer);
	return true;
}

static void __hdmabuf_tx_queue_export(struct hdmabuf_export *exp,
				      unsigned long what, bool kick)
{
	struct hdmabuf_peer *peer = exp->peer;
	bool queued;

	spin_lock(&peer->tx_lock);
	queued = hdmabuf_tx_add_export(exp, what, kick);
	spin_unlock(&peer->tx_lock);
	if (!queued)
		hdmabuf_export_send_failed(exp, what, -ENOTCONN);
}

static int hdmabuf_tx_export_one(struct hdmabuf_peer *peer,
				 unsigned int flags)
{
	struct hdmabuf_export *exp;
	struct hdmabuf_msg msg;
	unsigned long what, bit;
	int err, ret = 1;

	spin_lock(&peer->tx_lock);
	exp = list_first_entry_or_null(&peer->tx_exports,
				       struct hdmabuf_export, tx_node);
	if (exp) {
		list_del_init(&exp->tx_node);
		what = exp->tx_pending;
		exp->tx_pending = 0;
	}
	spin_unlock(&peer->tx_lock);
	if (!exp)
		return 0;
	/* Lowest bit first: EXPORT goes before UNEXPORT, then FRAME. */
	for (; what; what &= what - 1) {
		bit = what & -what;
		if (!hdmabuf_export_encode(exp, bit, &msg))
			continue;
		err = hdmabuf_send(peer, &msg, flags);
		if (err == -EAGAIN) {
			/* This message and the later ones go in the work. */
			if (bit == HDMABUF_TX_FRAME)
				hdmabuf_frame_export_unsend(exp);
			__hdmabuf_tx_queue_export(exp, what, false);
			ret = -EAGAIN;
			break;
		}
		if (err)
			hdmabuf_export_send_failed(exp, bit, err);
	}
	hdmabuf_export_put(exp);	/* the queue's reference */
	return ret;
}

/* Queue @what of @imp on its live peer; under the peer's tx_lock. */
static void hdmabuf_tx_add_import(struct hdmabuf_import *imp,
				  unsigned long what, bool kick)
{
	struct hdmabuf_peer *peer = imp->peer;

	lockdep_assert_held(&peer->tx_lock);
	imp->tx_pending |= what;
	if (list_empty(&imp->tx_node)) {
		kref_get(&imp->kref);
		list_add_tail(&imp->tx_node, &peer->tx_imports);
	}
	if (kick)
		hdmabuf_tx_kick(peer);
}

/* Put back what of @imp was not sent, unless newer news came meanwhile. */
static void hdmabuf_tx_requeue_import(struct hdmabuf_import *imp,
				      unsigned long what,
				      const struct hdmabuf_import_tx *tx)
{
	struct hdmabuf_peer *peer = imp->peer;

	spin_lock(&peer->tx_lock);
	if (!peer->tx_dead) {
		if ((what & HDMABUF_TX_USAGE) &&
		    !(imp->tx_pending & HDMABUF_TX_USAGE))
			imp->tx_in_use = tx->in_use;
		if ((what & HDMABUF_TX_FRAME_RELEASE) &&
		    !(imp->tx_pending & HDMABUF_TX_FRAME_RELEASE)) {
			imp->tx_frame_seq = tx->frame_seq;
			imp->tx_frame_flags = tx->frame_flags;
		}
		hdmabuf_tx_add_import(imp, what, false);
	}
	spin_unlock(&peer->tx_lock);
}

static int hdmabuf_tx_import_one(struct hdmabuf_peer *peer,
				 unsigned int flags)
{
	struct hdmabuf_import_tx tx;
	struct hdmabuf_import *imp;
	struct hdmabuf_msg msg;
	unsigned long what, bit;
	int err, ret = 1;

	spin_lock(&peer->tx_lock);
	imp = list_first_entry_or_null(&peer->tx_imports,
				       struct hdmabuf_import, tx_node);
	if (imp) {
		list_del_init(&imp->tx_node);
		what = imp->tx_pending;
		imp->tx_pending = 0;
		tx.in_use = imp->tx_in_use;
		tx.frame_seq = imp->tx_frame_seq;
		tx.frame_flags = imp->tx_frame_flags;
	}
	spin_unlock(&peer->tx_lock);
	if (!imp)
		return 0;
	/* A RELEASE is final and makes any other report moot. */
	if (what & HDMABUF_TX_RELEASE)
		what = HDMABUF_TX_RELEASE;
	for (; what; what &= what - 1) {
		bit = what & -what;
		hdmabuf_import_encode(imp, bit, &msg, &tx);
		err = hdmabuf_send(peer, &msg, flags);
		if (err == -EAGAIN) {
			hdmabuf_tx_requeue_import(imp, what, &tx);
			ret = -EAGAIN;
			break;
		}
		/*
		 * A RELEASE or a frame's release must not be lost while the
		 * peer lives, or the exporter waits for it for ever: retry.
		 */
		if (!hdmabuf_send_transient(err))
			continue;
		if (bit == HDMABUF_TX_RELEASE)
			hdmabuf_tx_queue_import(imp, HDMABUF_TX_RELEASE, false);
		if (bit == HDMABUF_TX_FRAME_RELEASE)
			hdmabuf_tx_queue_frame_release(imp, tx.frame_seq,
						       tx.frame_flags);
	}
	hdmabuf_import_put(imp);	/* the queue's reference */
	return ret;
}

/* Whether anything waits on the peer's transmit queue. */
static bool hdmabuf_tx_queued(struct hdmabuf_peer *peer)
{
	bool queued;

	spin_lock(&peer->tx_lock);
	queued = !list_empty(&peer->tx_replies) ||
		 !list_empty(&peer->tx_exports) ||
		 !list_empty(&peer->tx_imports);
	spin_unlock(&peer->tx_lock);
	return queued;
}

/*
 * Send at most @budget queued items, one at a time: a reply whenever one
 * waits, since the peer waits for it and each reply must go before what
 * this VM says later about the same buffer (an UNEXPORT_REPLY before the
 * RELEASE, an EXPORT_REPLY before the USAGE).  Otherwise exports' and
 * imports' messages by turns: they concern buffers shared in opposite
 * directions, so no order binds them, and neither may starve the other.
 * Under a steady stream of EXPORTs an importer's RELEASEs would wait
 * without end, and with them the peer's release of every buffer this VM
 * has let go of.  Returns whether anything was left on the queue.
 */
static bool hdmabuf_tx_run(struct hdmabuf_peer *peer, unsigned int budget,
			   unsigned int flags)
{
	bool imports_first = false;
	int ret;

	lockdep_assert_held(&peer->tx_mutex);
	for (; budget; budget--) {
		ret = hdmabuf_tx_reply_one(peer, flags);
		if (!ret) {
			if (imports_first)
				ret = hdmabuf_tx_import_one(peer, flags) ?:
				      hdmabuf_tx_export_one(peer, flags);
			else
				ret = hdmabuf_tx_export_one(peer, flags) ?:
				      hdmabuf_tx_import_one(peer, flags);
			if (!ret)
				return false;
			imports_first = !imports_first;
		}
		if (ret < 0)
			return true;
		cond_resched();
	}
	/* Out of budget: left behind only what is still queued. */
	return hdmabuf_tx_queued(peer);
}

static void hdmabuf_tx_work(struct work_struct *work)
{
	struct hdmabuf_peer *peer = container_of(work, struct hdmabuf_peer,
						 tx_work);

	mutex_lock(&peer->tx_mutex);
	hdmabuf_tx_run(peer, UINT_MAX, 0);
	mutex_unlock(&peer->tx_mutex);
}

/*
 * Send what is queued from the caller's context, for the messages a peer
 * is waiting on: an EXPORT, a FRAME, a frame's release.  A wake-up of the
 * work item costs more than sending one message, and a frame's latency is
 * what a compositor sees.  Only when nobody else is sending and the
 * channel has room at once, and a few items at most: what is left goes to
 * the work.  The caller is in process context, holds no core lock, and
 * holds a reference on @peer (through its export or import).
 */
static void hdmabuf_tx_direct(struct hdmabuf_peer *peer)
{
	bool more = true;

	if (mutex_trylock(&peer->tx_mutex)) {
		more = hdmabuf_tx_run(peer, HDMABUF_TX_DIRECT_MAX,
				      HDMABUF_SEND_NOWAIT);
		mutex_unlock(&peer->tx_mutex);
		if (more)
			atomic_long_inc(&hdmabuf_tx_counts.deferred);
		else
			atomic_long_inc(&hdmabuf_tx_counts.direct);
	} else {
		atomic_long_inc(&hdmabuf_tx_counts.deferred);
	}
	if (more) {
		spin_lock(&peer->tx_lock);
		if (!peer->tx_dead)
			hdmabuf_tx_kick(peer);
		spin_unlock(&peer->tx_lock);
	}
}

/**
 * hdmabuf_tx_queue_export() - queue messages about an export
 * @exp: the export; the queue takes a reference while it is queued
 * @what: HDMABUF_TX_EXPORT, HDMABUF_TX_UNEXPORT and/or HDMABUF_TX_FRAME
 *
 * When the peer is gone nothing is queued and the export learns it through
 * hdmabuf_export_send_failed().
 */
void hdmabuf_tx_queue_export(struct hdmabuf_export *exp, unsigned long what)
{
	__hdmabuf_tx_queue_export(exp, what, true);
}

/**
 * hdmabuf_tx_send_export() - queue messages about an export and send them
 *	now if the channel allows
 * @exp: the export, held by the caller
 * @what: as for hdmabuf_tx_queue_export()
 *
 * For a caller in process context holding no core lock.  What cannot be
 * sent at once is left to the work, as with hdmabuf_tx_queue_export().
 */
void hdmabuf_tx_send_export(struct hdmabuf_export *exp, unsigned long what)
{
	__hdmabuf_tx_queue_export(exp, what, false);
	hdmabuf_tx_direct(exp->peer);
}

/**
 * hdmabuf_tx_queue_import() - queue messages about an import
 * @imp: the import; the queue takes a reference while it is queued
 * @what: HDMABUF_TX_RELEASE and/or HDMABUF_TX_USAGE
 * @in_use: with HDMABUF_TX_USAGE, the state to report (the latest wins)
 */
void hdmabuf_tx_queue_import(struct hdmabuf_import *imp, unsigned long what,
			     bool in_use)
{
	struct hdmabuf_peer *peer = imp->peer;

	spin_lock(&peer->tx_lock);
	if (!peer->tx_dead) {
		if (what & HDMABUF_TX_USAGE)
			imp->tx_in_use = in_use;
		hdmabuf_tx_add_import(imp, what, true);
	}
	spin_unlock(&peer->tx_lock);
}

static void __hdmabuf_tx_queue_frame_release(struct hdmabuf_import *imp,
					     u64 seq, u32 flags, bool kick)
{
	struct hdmabuf_peer *peer = imp->peer;

	spin_lock(&peer->tx_lock);
	if (!peer->tx_dead) {
		imp->tx_frame_seq = seq;
		imp->tx_frame_flags = flags;
		hdmabuf_tx_add_import(imp, HDMABUF_TX_FRAME_RELEASE, kick);
	}
	spin_unlock(&peer->tx_lock);
}

/**
 * hdmabuf_tx_queue_frame_release() - queue the release of an import's frame
 * @imp: the import; the queue takes a reference while it is queued
 * @seq: the frame released
 * @flags: HDMABUF_MSG_F_DROPPED or 0
 *
 * An import has one frame out at most, so one release to queue at most.
 */
void hdmabuf_tx_queue_frame_release(struct hdmabuf_import *imp, u64 seq,
				    u32 flags)
{
	__hdmabuf_tx_queue_frame_release(imp, seq, flags, true);
}

/**
 * hdmabuf_tx_send_frame_release() - queue the release of an import's frame
 *	and send it now if the channel allows
 * @imp: the import, held by the caller
 * @seq: the frame released
 * @flags: HDMABUF_MSG_F_DROPPED or 0
 *
 * For a caller in process context holding no core lock.
 */
void hdmabuf_tx_send_frame_release(struct hdmabuf_import *imp, u64 seq,
				   u32 flags)
{
	__hdmabuf_tx_queue_frame_release(imp, seq, flags, false);
	hdmabuf_tx_direct(imp->peer);
}

/**
 * hdmabuf_tx_reply() - queue a reply to a peer's message
 * @peer: the peer
 * @type: the reply's type
 * @id: the buffer concerned
 * @req_id: the request id being answered
 * @err: 0 or a negative errno
 *
 * Replies beyond HDMABUF_MAX_REPLIES per peer are dropped: a peer that
 * floods us with requests only makes its own requests time out.  Below
 * that a reply is not lost for want of memory: the peer's reserve of
 * HDMABUF_RESERVED_REPLIES steps in, so that a request we handled, or
 * failed with -ENOMEM, is answered rather than left to time out.
 */
void hdmabuf_tx_reply(struct hdmabuf_peer *peer, u16 type,
		      const struct hyper_dmabuf_id *id, u32 req_id, int err)
{
	struct hdmabuf_tx_reply *reply;
	bool queued = false, dead;

	reply = kzalloc(sizeof(*reply), GFP_KERNEL);
	if (!reply) {
		spin_lock(&peer->tx_lock);
		reply = list_first_entry_or_null(&peer->tx_reserve,
						 struct hdmabuf_tx_reply, node);
		if (reply)
			list_del(&reply->node);
		spin_unlock(&peer->tx_lock);
		if (!reply) {
			pr_warn_ratelimited("vm %u: no memory, reply dropped\n",
					    peer->vmid);
			return;
		}
		memset(&reply->msg, 0, sizeof(reply->msg));
	}
	reply->msg.type = type;
	reply->msg.id = *id;
	reply->msg.req_id = req_id;
	reply->msg.status = -err;

	spin_lock(&peer->tx_lock);
	dead = peer->tx_dead;
	if (!dead && peer->nr_replies < HDMABUF_MAX_REPLIES) {
		list_add_tail(&reply->node, &peer->tx_replies);
		peer->nr_replies++;
		queued = true;
		hdmabuf_tx_kick(peer);
	}
	spin_unlock(&peer->tx_lock);
	if (!queued) {
		if (!dead)
			pr_warn_ratelimited("vm %u: too many requests, reply dropped\n",
					    peer->vmid);
		hdmabuf_tx_reply_free(peer, reply);
	}
}

/* Stop the transmit queue of a peer that is gone and drop what it holds. */
static void hdmabuf_tx_shutdown(struct hdmabuf_peer *peer)
{
	struct hdmabuf_tx_reply *reply, *r;
	struct hdmabuf_export *exp;
	struct hdmabuf_import *imp;
	LIST_HEAD(replies);
	LIST_HEAD(exports);
	LIST_HEAD(imports);

	spin_lock(&peer->tx_lock);
	peer->tx_dead = true;
	spin_unlock(&peer->tx_lock);
	cancel_work_sync(&peer->tx_work);
	/* Wait for a caller sending from its own context (tx_direct). */
	mutex_lock(&peer->tx_mutex);
	mutex_unlock(&peer->tx_mutex);

	spin_lock(&peer->tx_lock);
	list_splice_init(&peer->tx_replies, &replies);
	peer->nr_replies = 0;
	list_splice_init(&peer->tx_exports, &exports);
	list_splice_init(&peer->tx_imports, &imports);
	spin_unlock(&peer->tx_lock);

	list_for_each_entry_safe(reply, r, &replies, node)
		hdmabuf_tx_reply_free(peer, reply);
	while ((exp = list_first_entry_or_null(&exports, struct hdmabuf_export,
					       tx_node))) {
		list_del_init(&exp->tx_node);
		exp->tx_pending = 0;
		hdmabuf_export_put(exp);
	}
	while ((imp = list_first_entry_or_null(&imports, struct hdmabuf_import,
					       tx_node))) {
		list_del_init(&imp->tx_node);
		imp->tx_pending = 0;
		hdmabuf_import_put(imp);
	}
}

/**
 * hdmabuf_backend_register() - make a backend available to the core
 * @be: the backend, with @name, @owner, @ops and @vmid set
 *
 * Return: 0, or -EINVAL for a malformed backend, -EEXIST when one of that
 * name is registered.
 */
int hdmabuf_backend_register(struct hdmabuf_backend *be)
{
	struct hdmabuf_backend *other;
	int ret = 0;

	if (!be->name || !be->name[0] ||
	    strlen(be->name) >= sizeof_field(struct hyper_dmabuf_peer,
					     backend) ||
	    !be->ops || !be->ops->share || !be->ops->unshare ||
	    !be->ops->map || !be->ops->unmap || !be->ops->send)
		return -EINVAL;

	mutex_lock(&hdmabuf_lock);
	list_for_each_entry(other, &hdmabuf_backends, node) {
		if (!strcmp(other->name, be->name)) {
			ret = -EEXIST;
			goto out;
		}
	}
	list_add_tail(&be->node, &hdmabuf_backends);
	pr_info("backend %s registered, vm id %u\n", be->name, be->vmid);
out:
	mutex_unlock(&hdmabuf_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(hdmabuf_backend_register);

/**
 * hdmabuf_backend_unregister() - withdraw a backend
 * @be: a registered backend
 *
 * Removes its peers as if they had gone.  Every sharing and mapping holds a
 * reference on the backend's module, so by the time its module exits none
 * is left.
 */
void hdmabuf_backend_unregister(struct hdmabuf_backend *be)
{
	struct hdmabuf_peer *peer;
	unsigned long vmid;

	for (;;) {
		mutex_lock(&hdmabuf_lock);
		xa_for_each(&hdmabuf_peers, vmid, peer)
			if (peer->be == be)
				break;
		mutex_unlock(&hdmabuf_lock);
		if (!peer)
			break;
		hdmabuf_peer_remove(be, vmid);
	}
	mutex_lock(&hdmabuf_lock);
	list_del(&be->node);
	mutex_unlock(&hdmabuf_lock);
	flush_workqueue(hdmabuf_wq);
}
EXPORT_SYMBOL_GPL(hdmabuf_backend_unregister);

/* Give a new peer its reserve of replies. */
static int hdmabuf_tx_reserve_fill(struct hdmabuf_peer *peer)
{
	struct hdmabuf_tx_reply *reply;
	int i;

	for (i = 0; i < HDMABUF_RESERVED_REPLIES; i++) {
		reply = kzalloc(sizeof(*reply), GFP_KERNEL);
		if (!reply)
			return -ENOMEM;
		reply->reserved = true;
		list_add(&reply->node, &peer->tx_reserve);
	}
	return 0;
}

/**
 * hdmabuf_peer_add() - a backend can now reach a VM
 * @be: the backend
 * @vmid: the VM
 *
 * Return: 0, -EEXIST when the VM is already reachable, -ENOMEM.
 */
int hdmabuf_peer_add(struct hdmabuf_backend *be, u32 vmid)
{
	struct hdmabuf_peer *peer;
	int ret;

	if (vmid == HYPER_DMABUF_VMID_INVALID)
		return -EINVAL;
	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer)
		return -ENOMEM;
	peer->quota = hdmabuf_quota_get(vmid);
	if (!peer->quota) {
		kfree(peer);
		return -ENOMEM;
	}
	kref_init(&peer->kref);
	peer->be = be;
	peer->vmid = vmid;
	xa_init(&peer->imports);
	spin_lock_init(&peer->tx_lock);
	mutex_init(&peer->tx_mutex);
	INIT_LIST_HEAD(&peer->tx_exports);
	INIT_LIST_HEAD(&peer->tx_imports);
	INIT_LIST_HEAD(&peer->tx_replies);
	INIT_LIST_HEAD(&peer->tx_reserve);
	INIT_WORK(&peer->tx_work, hdmabuf_tx_work);
	ret = hdmabuf_tx_reserve_fill(peer);
	if (ret)
		goto err_reserve;

	mutex_lock(&hdmabuf_lock);
	ret = xa_insert(&hdmabuf_peers, vmid, peer, GFP_KERNEL);
	mutex_unlock(&hdmabuf_lock);
	if (ret) {
		ret = ret == -EBUSY ? -EEXIST : ret;
		goto err_reserve;
	}
	pr_info("vm %u reachable through %s\n", vmid, be->name);
	return 0;

err_reserve:
	hdmabuf_tx_reserve_free(peer);
	mutex_destroy(&peer->tx_mutex);
	hdmabuf_quota_put(peer->quota);
	kfree(peer);
	return ret;
}
EXPORT_SYMBOL_GPL(hdmabuf_peer_add);

/**
 * hdmabuf_peer_remove() - a VM is gone, or its channel closed
 * @be: the backend that reached it
 * @vmid: the VM
 *
 * Its buffers are withdrawn here (local dma-bufs already imported stay
 * valid until released), and our exports to it count as released: the
 * backend must make sure the peer can no longer map them.
 */
void hdmabuf_peer_remove(struct hdmabuf_backend *be, u32 vmid)
{
	struct hdmabuf_peer *peer;

	mutex_lock(&hdmabuf_lock);
	peer = xa_load(&hdmabuf_peers, vmid);
	if (peer && peer->be == be) {
		xa_erase(&hdmabuf_peers, vmid);
		peer->gone = true;
	} else {
		peer = NULL;
	}
	mutex_unlock(&hdmabuf_lock);
	if (!peer)
		return;

	hdmabuf_tx_shutdown(peer);
	hdmabuf_import_peer_gone(peer);
	hdmabuf_export_peer_gone(peer);
	pr_info("vm %u gone from %s\n", vmid, be->name);
	hdmabuf_peer_put(peer);
}
EXPORT_SYMBOL_GPL(hdmabuf_peer_remove);

/**
 * hdmabuf_recv() - hand a message from a peer to the core
 * @be: the backend it came through
 * @vmid: the VM that sent it, as the backend knows it
 * @msg: the message, @len bytes; nothing in it is trusted
 * @len: its length
 *
 * Must be called in process context, one message at a time per peer.
 */
void hdmabuf_recv(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		  size_t len)
{
	struct hdmabuf_peer *peer;
	struct hdmabuf_msg m;
	int err;

	might_sleep();
	atomic_long_inc(&hdmabuf_rx_counts.messages);
	peer = hdmabuf_peer_get(vmid);
	if (!peer || peer->be != be) {
		atomic_long_inc(&hdmabuf_rx_counts.malformed);
		pr_warn_ratelimited("message from unknown vm %u dropped\n",
				    vmid);
		goto out;
	}
	err = hdmabuf_msg_decode(msg, len, hdmabuf_max_pages(), &m);
	if (err) {
		atomic_long_inc(&hdmabuf_rx_counts.malformed);
		pr_warn_ratelimited("vm %u: malformed message type %u: %d\n",
				    vmid, m.type, err);
		/* Let the exporter fail at once rather than time out. */
		if (m.type == HDMABUF_MSG_EXPORT)
			hdmabuf_tx_reply(peer, HDMABUF_MSG_EXPORT_REPLY, &m.id,
					 m.req_id, err);
		goto out;
	}
	switch (m.type) {
	case HDMABUF_MSG_EXPORT:
	case HDMABUF_MSG_UNEXPORT:
		hdmabuf_import_recv(peer, &m);
		break;
	case HDMABUF_MSG_FRAME:
		hdmabuf_frame_import_recv(peer, &m);
		break;
	default:
		hdmabuf_export_recv(peer, &m);
		break;
	}
out:
	if (peer)
		hdmabuf_peer_put(peer);
}
EXPORT_SYMBOL_GPL(hdmabuf_recv);

/**
 * hdmabuf_peers_info() - describe this VM and the VMs it reaches
 * @up: user array to fill
 * @room: entries in @up
 * @total: set to the number of reachable VMs
 * @vmid: set to this VM's id (that of the first backend), or
 *	%HYPER_DMABUF_VMID_INVALID without backends
 *
 * Return: 0 or -EFAULT, -ENOMEM.
 */
int hdmabuf_peers_info(struct hyper_dmabuf_peer __user *up, u32 room,
		       u32 *total, u32 *vmid)
{
	struct hyper_dmabuf_peer *info = NULL;
	struct hdmabuf_backend *be;
	struct hdmabuf_peer *peer;
	unsigned long index;
	u32 n = 0;
	int ret = 0;

	if (room) {
		room = min_t(u32, room, 4096);
		info = kvcalloc(room, sizeof(*info), GFP_KERNEL);
		if (!info)
			return -ENOMEM;
	}
	mutex_lock(&hdmabuf_lock);
	be = list_first_entry_or_null(&hdmabuf_backends,
				      struct hdmabuf_backend, node);
	*vmid = be ? be->vmid : HYPER_DMABUF_VMID_INVALID;
	xa_for_each(&hdmabuf_peers, index, peer) {
		if (n < room) {
			info[n].vmid = peer->vmid;
			info[n].flags = peer->be->peer_flags ?:
					HYPER_DMABUF_PEER_EXPORT |
					HYPER_DMABUF_PEER_IMPORT;
			strscpy(info[n].backend, peer->be->name,
				sizeof(info[n].backend));
		}
		n++;
	}
	mutex_unlock(&hdmabuf_lock);
	*total = n;
	if (info && copy_to_user(up, info, min(n, room) * sizeof(*info)))
		ret = -EFAULT;
	kvfree(info);
	return ret;
}

/**
 * hdmabuf_core_init() - set up the message path
 *
 * Return: 0 or -ENOMEM.
 */
int hdmabuf_core_init(void)
{
	hdmabuf_wq = alloc_workqueue("hyper_dmabuf", WQ_UNBOUND, 0);
	return hdmabuf_wq ? 0 : -ENOMEM;
}

/**
 * hdmabuf_core_exit() - tear down the message path
 *
 * Every backend has unregistered by now: they depend on this module.
 */
void hdmabuf_core_exit(void)
{
	WARN_ON(!list_empty(&hdmabuf_backends));
	destroy_workqueue(hdmabuf_wq);
}
