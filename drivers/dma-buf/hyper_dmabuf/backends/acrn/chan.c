// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the mailbox transport of one link.
 *
 * Two single-producer, single-consumer rings of fixed-size slots in the
 * link's mailbox, one each way, and doorbell interrupts between the two
 * VMs (an ivshmem-doorbell device: write "peer << 16 | vector" to its
 * doorbell register; receive MSI-X vector 0).  This file is the only one
 * that knows the mailbox rings; the virtio transport (vdev.c on the SOS,
 * virtio.c on a UOS) implements the same calls (struct hdacrn_chan_impl).
 *
 * Each side keeps its own copy of the index it owns and never reads it
 * back from shared memory.  The peer's index is read once per look and
 * checked: a peer whose index claims more messages than the ring holds,
 * or takes back ones already counted, broke the protocol and the
 * transport stops.  Messages are copied out of the slot before anyone
 * looks at them.
 *
 * Doorbells are handled in a threaded interrupt handler, so that a message
 * reaches the core with one wake-up and no trip through a workqueue.  A
 * doorbell masks the interrupt until the ring is drained, so a peer that
 * rings without pause costs one pass per pass, not one interrupt each.
 * The thread takes a few messages per doorbell; what is left goes to a
 * work item, which also serves the link's pokes and breakages.  A mutex
 * makes the two take turns.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "acrn.h"

/* Messages the interrupt thread hands on per doorbell at most. */
#define HDACRN_THREAD_BUDGET	8

/* Bits of hdacrn_chan.flags. */
#define HDACRN_MBOX_MASKED	0	/* our IRQ is disabled until a pass ran */
#define HDACRN_MBOX_STOPPED	1	/* no sending or receiving */
#define HDACRN_MBOX_BROKEN	2	/* the work must tell the link why */

/**
 * struct hdacrn_mbox - one link's mailbox transport
 * @chan: what the link holds
 * @hdr: the mailbox's header, with the handshake words
 * @pdev: the device
 * @regs: its registers (BAR 0)
 * @tx: the ring this VM produces into
 * @rx: the ring this VM consumes from
 * @peer_id: the peer's doorbell id
 * @irq: our doorbell interrupt
 * @ops: the link's callbacks
 * @owner: their argument
 * @work: drains what the interrupt thread left of @rx, and tells the link
 *	about pokes and breakages
 * @rx_lock: serialises the interrupt thread and @work; protects @rx_cons
 *	and @buf
 * @flags: HDACRN_MBOX_*
 * @tx_lock: serialises senders; protects @tx_prod
 * @tx_prod: messages written to @tx
 * @tx_wait: senders waiting for a free slot in @tx, or for a stop
 * @rx_cons: messages read from @rx
 * @why: how the peer broke the protocol, for the link
 * @buf: where a message is copied before it is handed on
 */
struct hdacrn_mbox {
	struct hdacrn_chan chan;
	struct hdacrn_mbox_hdr *hdr;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct hdacrn_ring *tx;
	struct hdacrn_ring *rx;
	u32 peer_id;
	int irq;
	const struct hdacrn_chan_ops *ops;
	void *owner;
	struct work_struct work;
	struct mutex rx_lock;		/* receivers; @rx_cons, @buf */
	unsigned long flags;
	struct mutex tx_lock;		/* senders; @tx_prod */
	u32 tx_prod;
	wait_queue_head_t tx_wait;
	u32 rx_cons;
	const char *why;
	u8 buf[HDMABUF_MSG_SIZE];
};

static struct hdacrn_mbox *to_mbox(struct hdacrn_chan *c)
{
	return container_of(c, struct hdacrn_mbox, chan);
}

/* Ring the peer's doorbell. */
static void hdacrn_mbox_ring(struct hdacrn_mbox *chan)
{
	hdacrn_doorbell(chan->regs, chan->peer_id, 0);
}

/**
 * hdacrn_mbox_kick() - ring the peer's doorbell
 * @c: the transport
 */
static void hdacrn_mbox_kick(struct hdacrn_chan *c)
{
	hdacrn_mbox_ring(to_mbox(c));
}

/**
 * hdacrn_mbox_listen() - let doorbells reach the link, once it is ready
 * @c: the transport, just created
 *
 * A doorbell that rang since the transport was created is delivered now.
 */
static void hdacrn_mbox_listen(struct hdacrn_chan *c)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	enable_irq(chan->irq);
}

/**
 * hdacrn_mbox_poke() - make the work item look at the link's state now,
 *	as if the peer had rung
 * @c: the transport
 */
static void hdacrn_mbox_poke(struct hdacrn_chan *c)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	queue_work(system_wq, &chan->work);
}

/*
 * The peer broke the protocol: stop, and have the work item tell the link
 * (a sender may be the core's own work, which the link's reaction waits
 * for).
 */
static void hdacrn_mbox_break(struct hdacrn_mbox *chan, const char *why)
{
	set_bit(HDACRN_MBOX_STOPPED, &chan->flags);
	wake_up_all(&chan->tx_wait);
	if (!test_and_set_bit(HDACRN_MBOX_BROKEN, &chan->flags)) {
		WRITE_ONCE(chan->why, why);
		queue_work(system_wq, &chan->work);
	}
}

/* Messages the peer has written to @ring beyond @seen, or -1 for a lie. */
static int hdacrn_ring_avail(struct hdacrn_ring *ring, u32 seen)
{
	u32 prod = le32_to_cpu(READ_ONCE(ring->prod));

	/* Read the slots only after the index that covers them. */
	smp_rmb();
	if (prod - seen > HDACRN_RING_SLOTS)
		return -1;
	return prod - seen;
}

/* Slots free in our @tx, or -1 when the peer's index lies. */
static int hdacrn_tx_space(struct hdacrn_mbox *chan)
{
	u32 cons = le32_to_cpu(READ_ONCE(chan->tx->cons));

	if (chan->tx_prod - cons > HDACRN_RING_SLOTS)
		return -1;
	return HDACRN_RING_SLOTS - (chan->tx_prod - cons);
}

/*
 * One pass: tell the link about a breakage and the doorbell, then hand it
 * up to @budget messages.  Unmasks the interrupt when the ring is drained;
 * leaves the rest to the work item otherwise.
 */
static void hdacrn_mbox_run(struct hdacrn_mbox *chan, unsigned int budget)
{
	struct hdacrn_ring *rx = chan->rx;
	int avail;

	mutex_lock(&chan->rx_lock);
	if (test_bit(HDACRN_MBOX_BROKEN, &chan->flags)) {
		chan->ops->broken(chan->owner, READ_ONCE(chan->why));
		clear_bit(HDACRN_MBOX_BROKEN, &chan->flags);
	}
	chan->ops->event(chan->owner);
	if (hdacrn_fault_active(HDACRN_FAULT_DEAF))
		budget = 0;	/* test only: a peer that stopped reading */

	while (!test_bit(HDACRN_MBOX_STOPPED, &chan->flags) && budget) {
		avail = hdacrn_ring_avail(rx, chan->rx_cons);
		if (avail < 0) {
			hdacrn_mbox_break(chan, "receive ring index out of range");
			break;
		}
		if (!avail)
			break;
		memcpy(chan->buf,
		       rx->slots[chan->rx_cons % HDACRN_RING_SLOTS],
		       HDMABUF_MSG_SIZE);
		chan->rx_cons++;
		/* The slot is copied: the peer may reuse it. */
		smp_mb();
		WRITE_ONCE(rx->cons, cpu_to_le32(chan->rx_cons));
		if (READ_ONCE(rx->want_space)) {
			WRITE_ONCE(rx->want_space, 0);
			hdacrn_mbox_ring(chan);
		}
		chan->ops->recv(chan->owner, chan->buf, HDMABUF_MSG_SIZE);
		budget--;
	}

	if ((!budget && !hdacrn_fault_active(HDACRN_FAULT_DEAF)) ||
	    test_bit(HDACRN_MBOX_BROKEN, &chan->flags)) {
		/* More may be waiting: take turns with other work. */
		queue_work(system_wq, &chan->work);
	} else if (test_and_clear_bit(HDACRN_MBOX_MASKED, &chan->flags)) {
		enable_irq(chan->irq);
	}
	mutex_unlock(&chan->rx_lock);
}

static void hdacrn_mbox_work(struct work_struct *work)
{
	hdacrn_mbox_run(container_of(work, struct hdacrn_mbox, work),
			HDACRN_RING_SLOTS);
}

static irqreturn_t hdacrn_mbox_irq(int irq, void *data)
{
	struct hdacrn_mbox *chan = data;

	/* A doorbell may mean a slot came free. */
	wake_up_all(&chan->tx_wait);
	if (!test_and_set_bit(HDACRN_MBOX_MASKED, &chan->flags))
		disable_irq_nosync(irq);
	return IRQ_WAKE_THREAD;
}

static irqreturn_t hdacrn_mbox_thread(int irq, void *data)
{
	hdmabuf_irq_thread_normal();
	hdacrn_mbox_run(data, HDACRN_THREAD_BUDGET);
	return IRQ_HANDLED;
}

/**
 * hdacrn_mbox_start() - (re)start a transport on empty rings
 * @c: the transport
 * @clear_shared: also empty the shared rings (the SOS does, for both
 *	directions, before it answers a UOS's attachment; the UOS then only
 *	resets its own counts)
 *
 * Called by the link with no message in flight: stopped, or never started.
 */
static void hdacrn_mbox_start(struct hdacrn_chan *c, bool clear_shared)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	mutex_lock(&chan->tx_lock);
	if (clear_shared) {
		memset(chan->tx, 0, sizeof(*chan->tx));
		memset(chan->rx, 0, sizeof(*chan->rx));
		/* Empty rings before the answer that lets the UOS use them. */
		smp_wmb();
	}
	chan->tx_prod = 0;
	chan->rx_cons = 0;
	clear_bit(HDACRN_MBOX_STOPPED, &chan->flags);
	mutex_unlock(&chan->tx_lock);
}

/**
 * hdacrn_mbox_stop() - stop sending and receiving
 * @c: the transport
 *
 * Senders waiting for a slot give up with -ENOTCONN.  Doorbells still
 * reach the link's event callback.  Does not wait for the work item, which
 * may call this itself: hdacrn_mbox_quiesce() does.
 */
static void hdacrn_mbox_stop(struct hdacrn_chan *c)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	set_bit(HDACRN_MBOX_STOPPED, &chan->flags);
	wake_up_all(&chan->tx_wait);
}

static bool hdacrn_tx_ready(struct hdacrn_mbox *chan)
{
	return test_bit(HDACRN_MBOX_STOPPED, &chan->flags) ||
	       hdacrn_tx_space(chan);
}

/**
 * hdacrn_mbox_send() - send one message to the peer
 * @c: the transport
 * @msg: the message
 * @len: its length, at most HDMABUF_MSG_SIZE
 * @timeout: how long to wait for a free slot, in jiffies
 * @nowait: wait neither for a slot nor for another sender
 *
 * Return: 0; -ENOTCONN when the transport is stopped, -ETIMEDOUT when the
 * ring stayed full for @timeout, -EAGAIN when it was full or another
 * sender was at it and @nowait is set, -EPROTO when the peer's index lies
 * (the transport is then broken), -EINVAL for an oversized message.
 */
static int hdacrn_mbox_send(struct hdacrn_chan *c, const void *msg,
			    size_t len, unsigned long timeout, bool nowait)
{
	struct hdacrn_mbox *chan = to_mbox(c);
	struct hdacrn_ring *tx = chan->tx;
	unsigned long left = timeout;
	int space, ret = 0;
	u8 *slot;

	if (len > HDMABUF_MSG_SIZE)
		return -EINVAL;
	if (!nowait)
		mutex_lock(&chan->tx_lock);
	else if (!mutex_trylock(&chan->tx_lock))
		return -EAGAIN;
	for (;;) {
		if (test_bit(HDACRN_MBOX_STOPPED, &chan->flags)) {
			ret = -ENOTCONN;
			goto out;
		}
		space = hdacrn_tx_space(chan);
		if (space < 0) {
			ret = -EPROTO;
			hdacrn_mbox_break(chan, "send ring index out of range");
			goto out;
		}
		if (space)
			break;
		if (nowait) {
			ret = -EAGAIN;
			goto out;
		}
		/* Full: ask for a doorbell when the peer frees a slot. */
		WRITE_ONCE(tx->want_space, cpu_to_le32(1));
		/* The request before a second look, pairing with the reader. */
		smp_mb();
		if (hdacrn_tx_space(chan))
			continue;
		/* In case the peer missed a doorbell: never wait on a lost one. */
		if (left == timeout)
			hdacrn_mbox_ring(chan);
		if (!left) {
			ret = -ETIMEDOUT;
			goto out;
		}
		left = wait_event_timeout(chan->tx_wait, hdacrn_tx_ready(chan),
					  left);
	}

	slot = tx->slots[chan->tx_prod % HDACRN_RING_SLOTS];
	memcpy(slot, msg, len);
	memset(slot + len, 0, HDMABUF_MSG_SIZE - len);
	chan->tx_prod++;
	/* The slot before the index that publishes it. */
	smp_wmb();
	if (hdacrn_fault(HDACRN_FAULT_RING_LIE))
		WRITE_ONCE(tx->prod, cpu_to_le32(chan->tx_prod + 1000));
	else
		WRITE_ONCE(tx->prod, cpu_to_le32(chan->tx_prod));
	hdacrn_mbox_ring(chan);
	if (hdacrn_fault(HDACRN_FAULT_FLOOD)) {
		unsigned int i;

		for (i = 0; i < 100000; i++)
			hdacrn_mbox_ring(chan);
	}
out:
	mutex_unlock(&chan->tx_lock);
	return ret;
}

/* The handshake words, in the mailbox's header. */
static __le32 *hdacrn_mbox_word(struct hdacrn_mbox *chan,
				enum hdacrn_hs_word w)
{
	struct hdacrn_mbox_hdr *hdr = chan->hdr;

	switch (w) {
	case HDACRN_HS_UOS_SESSION:
		return &hdr->uos_session;
	case HDACRN_HS_SOS_SESSION:
		return &hdr->sos_session;
	case HDACRN_HS_SOS_EPOCH:
		return &hdr->sos_epoch;
	default:
		return &hdr->sos_clear;
	}
}

static u32 hdacrn_mbox_hs_read(struct hdacrn_chan *c, enum hdacrn_hs_word w)
{
	return le32_to_cpu(READ_ONCE(*hdacrn_mbox_word(to_mbox(c), w)));
}

static void hdacrn_mbox_hs_write(struct hdacrn_chan *c, enum hdacrn_hs_word w,
				 u32 val)
{
	WRITE_ONCE(*hdacrn_mbox_word(to_mbox(c), w), cpu_to_le32(val));
}

static const struct hdacrn_chan_impl hdacrn_mbox_impl;

/**
 * hdacrn_mbox_create() - set up the transport of a link
 * @pdev: the ivshmem-doorbell device, enabled, with BAR 0 mapped
 * @regs: BAR 0
 * @mbox: the mailbox, mapped
 * @peer_id: the peer's doorbell id
 * @sos: this VM is the SOS on this link (it consumes the UOS-to-SOS ring)
 * @ops: the link's callbacks
 * @owner: their argument
 *
 * The transport starts stopped; hdacrn_mbox_start() opens it.  Doorbells
 * reach @ops->event once hdacrn_mbox_listen() was called: the interrupt's
 * thread may run the moment it is enabled, before the link has stored
 * what this returns.
 *
 * Return: the transport or an ERR_PTR().
 */
struct hdacrn_chan *hdacrn_mbox_create(struct pci_dev *pdev,
				       void __iomem *regs, void *mbox,
				       u32 peer_id, bool sos,
				       const struct hdacrn_chan_ops *ops,
				       void *owner)
{
	struct hdacrn_ring *u2s = mbox + HDACRN_RING_OFF_U2S;
	struct hdacrn_ring *s2u = mbox + HDACRN_RING_OFF_S2U;
	struct hdacrn_mbox *chan;
	int ret;

	BUILD_BUG_ON(HDACRN_RING_OFF_U2S + sizeof(struct hdacrn_ring) >
		     HDACRN_RING_OFF_S2U);
	BUILD_BUG_ON(HDACRN_RING_OFF_S2U + sizeof(struct hdacrn_ring) >
		     HDACRN_MBOX_SIZE);

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	chan->chan.impl = &hdacrn_mbox_impl;
	chan->hdr = mbox;
	chan->pdev = pdev;
	chan->regs = regs;
	chan->tx = sos ? s2u : u2s;
	chan->rx = sos ? u2s : s2u;
	chan->peer_id = peer_id;
	chan->ops = ops;
	chan->owner = owner;
	chan->flags = BIT(HDACRN_MBOX_STOPPED);
	INIT_WORK(&chan->work, hdacrn_mbox_work);
	mutex_init(&chan->rx_lock);
	mutex_init(&chan->tx_lock);
	init_waitqueue_head(&chan->tx_wait);

	ret = pci_alloc_irq_vectors(pdev, 1, HDACRN_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "no MSI-X vector: %d (an ivshmem-plain device?)\n",
			ret);
		goto err_free;
	}
	chan->irq = pci_irq_vector(pdev, 0);
	ret = request_threaded_irq(chan->irq, hdacrn_mbox_irq,
				   hdacrn_mbox_thread, IRQF_NO_AUTOEN,
				   KBUILD_MODNAME, chan);
	if (ret)
		goto err_vectors;
	return &chan->chan;

err_vectors:
	pci_free_irq_vectors(pdev);
err_free:
	mutex_destroy(&chan->tx_lock);
	mutex_destroy(&chan->rx_lock);
	kfree(chan);
	return ERR_PTR(ret);
}

/**
 * hdacrn_mbox_quiesce() - stop a transport for good before its link goes
 * @c: the transport
 *
 * Stops it and waits for the interrupt thread and the work item: once
 * this returns, no message
 * reaches the link and no event or breakage is reported to it, so that
 * nothing brings the link back up while it is taken down.  Only
 * hdacrn_mbox_kick() and hdacrn_mbox_destroy() may follow.
 */
static void hdacrn_mbox_quiesce(struct hdacrn_chan *c)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	hdacrn_mbox_stop(c);
	/*
	 * No handler or thread runs past this, and none queues the work
	 * again; a last pass may still re-enable the interrupt once, which
	 * leaves it disabled by this call, as free_irq() wants it.
	 */
	disable_irq(chan->irq);
	cancel_work_sync(&chan->work);
}

/**
 * hdacrn_mbox_destroy() - tear a transport down
 * @c: the transport, quiesced
 */
static void hdacrn_mbox_destroy(struct hdacrn_chan *c)
{
	struct hdacrn_mbox *chan = to_mbox(c);

	free_irq(chan->irq, chan);
	pci_free_irq_vectors(chan->pdev);
	mutex_destroy(&chan->tx_lock);
	mutex_destroy(&chan->rx_lock);
	kfree(chan);
}

static const struct hdacrn_chan_impl hdacrn_mbox_impl = {
	.name = "mailbox",
	.start = hdacrn_mbox_start,
	.stop = hdacrn_mbox_stop,
	.send = hdacrn_mbox_send,
	.kick = hdacrn_mbox_kick,
	.listen = hdacrn_mbox_listen,
	.poke = hdacrn_mbox_poke,
	.quiesce = hdacrn_mbox_quiesce,
	.destroy = hdacrn_mbox_destroy,
	.hs_read = hdacrn_mbox_hs_read,
	.hs_write = hdacrn_mbox_hs_write,
};
