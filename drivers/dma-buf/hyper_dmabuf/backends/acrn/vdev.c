// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the virtio device, on the service VM.
 *
 * On a link the host signed for virtio (virtio_ivshmem.h), the user VM's
 * driver speaks virtio: its virtqueues lie in its own RAM, and this file
 * is the device that serves them from the SOS, as a VBS-K or vhost
 * backend would on a real ACRN.  It plays both parts a device model
 * plays:
 *
 *  - the transport's registers (struct hdvio_regs): it offers its
 *    features, answers each status write of the driver (accepting
 *    FEATURES_OK only for features it offered, taking up the virtqueues
 *    at DRIVER_OK after checking them, forgetting them at reset) and
 *    copies the request number into @ack once done, so that the driver
 *    knows the device has stopped touching its rings after a reset;
 *  - the device's configuration (struct virtio_hdmabuf_config), where
 *    the link's handshake words live (hs_read/hs_write).
 *
 * The queues are read and written through the SOS's window onto the
 * UOS's RAM, by vring.c, which checks every index, descriptor, chain and
 * indirect table.  A lie drops the UOS: the device stops touching its
 * rings, sets DEVICE_NEEDS_RESET and tells the link, which logs it once
 * and waits for an attachment after a reset.  The other UOSes' devices
 * are separate and go on.  A notification storm costs one pass per
 * pass (the interrupt stays masked until the pass is done), and a pass
 * takes a bounded number of messages.  A sender waits for a receive
 * buffer at most its timeout; nothing here waits for the driver while
 * holding what the driver's progress needs.
 *
 * Locks: @rx_lock serialises the interrupt thread and the work item (the
 * status protocol, the driver-to-device queue); @tx_lock serialises
 * senders (the device-to-driver queue).  A reset takes both, @rx_lock
 * first.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_hdmabuf.h>
#include <linux/virtio_ring.h>

#include "acrn.h"
#include "vring.h"
#include "virtio_ivshmem.h"

/* Messages the interrupt thread takes per doorbell; the work item more. */
#define HDACRN_VDEV_THREAD_BUDGET	8
#define HDACRN_VDEV_WORK_BUDGET		64

/* What the device offers. */
#define HDACRN_VDEV_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC))

/* Bits of hdacrn_vdev.flags. */
#define HDACRN_VDEV_MASKED	0	/* our IRQ is disabled until a pass ran */
#define HDACRN_VDEV_STOPPED	1	/* the link does not send or receive */
#define HDACRN_VDEV_LIVE	2	/* the queues are taken up */
#define HDACRN_VDEV_BROKEN	3	/* the work must tell the link why */

/**
 * struct hdacrn_vdev - the virtio device of one UOS's link
 * @chan: what the link holds
 * @link: the link (which owns this)
 * @regs: the transport's registers, in the mailbox
 * @cfg: the device's configuration, in the mailbox
 * @bar: the ivshmem device's registers, for doorbells
 * @irq: our doorbell interrupt
 * @ops: the link's callbacks
 * @work: what the interrupt thread left, pokes and breakages
 * @rx_lock: see the top of the file; protects @acked, @status, @txq, @why
 *	and @buf
 * @tx_lock: senders; protects @rxq
 * @flags: HDACRN_VDEV_*
 * @kicks: doorbells from the driver, which senders wait on
 * @tx_wait: senders waiting for a receive buffer
 * @gen: the configuration's generation, our own count
 * @acked: the last status request carried out
 * @status: the device status we hold
 * @txq: the driver-to-device queue
 * @rxq: the device-to-driver queue
 * @why: how the driver broke a queue, for the link
 * @buf: where a message is copied before it is handed on
 */
struct hdacrn_vdev {
	struct hdacrn_chan chan;
	struct hdacrn_link *link;
	struct hdvio_regs *regs;
	struct virtio_hdmabuf_config *cfg;
	void __iomem *bar;
	int irq;
	const struct hdacrn_chan_ops *ops;
	struct work_struct work;
	struct mutex rx_lock;	/* IRQ thread and work: @acked, @status, @txq */
	struct mutex tx_lock;	/* senders: @rxq */
	unsigned long flags;
	atomic_t kicks;
	wait_queue_head_t tx_wait;
	atomic_t gen;
	u32 acked;
	u32 status;
	struct hdacrn_vring txq;
	struct hdacrn_vring rxq;
	const char *why;
	u8 buf[VIRTIO_HDMABUF_MSG_SIZE];
};

static struct hdacrn_vdev *to_vdev(struct hdacrn_chan *c)
{
	return container_of(c, struct hdacrn_vdev, chan);
}

/* Interrupt the driver: used buffers, a status answer, a new config. */
static void hdacrn_vdev_ring(struct hdacrn_vdev *v)
{
	if (v->bar)	/* none in KUnit's devices */
		hdacrn_doorbell(v->bar, v->link->peer_id, 0);
}

/* The configuration changed: a new generation, before the doorbell. */
static void hdacrn_vdev_config_changed(struct hdacrn_vdev *v)
{
	/* The fields before the generation that covers them. */
	smp_wmb();
	WRITE_ONCE(v->regs->config_generation,
		   cpu_to_le32(atomic_inc_return(&v->gen)));
}

/*
 * The driver broke a queue: stop touching its rings at once, and have the
 * work item tell the link and the driver.
 */
static void hdacrn_vdev_break(struct hdacrn_vdev *v, const char *why)
{
	set_bit(HDACRN_VDEV_STOPPED, &v->flags);
	clear_bit(HDACRN_VDEV_LIVE, &v->flags);
	wake_up_all(&v->tx_wait);
	if (!test_and_set_bit(HDACRN_VDEV_BROKEN, &v->flags)) {
		WRITE_ONCE(v->why, why);
		queue_work(system_wq, &v->work);
	}
}

/* Forget the queues.  Under @rx_lock; waits for a sender to let go. */
static void hdacrn_vdev_forget(struct hdacrn_vdev *v)
{
	lockdep_assert_held(&v->rx_lock);
	clear_bit(HDACRN_VDEV_LIVE, &v->flags);
	wake_up_all(&v->tx_wait);
	/* A sender between its look at LIVE and the ring finishes first. */
	mutex_lock(&v->tx_lock);
	mutex_unlock(&v->tx_lock);
	v->status = 0;
}

/* Take up the queues the driver set up, checked.  Under @rx_lock. */
static int hdacrn_vdev_take_queues(struct hdacrn_vdev *v)
{
	struct hdacrn_vring *vr[VIRTIO_HDMABUF_NR_VQS] = { &v->txq, &v->rxq };
	struct hdvio_queue q;
	unsigned int i;
	int ret;

	for (i = 0; i < VIRTIO_HDMABUF_NR_VQS; i++) {
		/* One copy of the driver's words, then checks on the copy. */
		memcpy(&q, &v->regs->queue[i], sizeof(q));
		if (le16_to_cpu(q.enable) != 1)
			return -EINVAL;
		ret = hdacrn_vring_init(vr[i], &v->link->window,
					le16_to_cpu(q.num), le64_to_cpu(q.desc),
					le64_to_cpu(q.driver),
					le64_to_cpu(q.device));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The status protocol: carry out the driver's last status write, if it
 * is new, and answer it.  Under @rx_lock.
 */
static void hdacrn_vdev_status(struct hdacrn_vdev *v)
{
	u32 req = le32_to_cpu(READ_ONCE(v->regs->request));
	u32 want, status = v->status;
	u64 features;

	if (req == v->acked)
		return;
	/* The status the request covers, after it. */
	virt_rmb();
	want = le32_to_cpu(READ_ONCE(v->regs->status));
	if (!want) {
		hdacrn_vdev_forget(v);
		status = 0;
	} else if (!(status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		/* Only a reset clears bits; only the driver's bits are set. */
		status |= want & (VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FAILED);
		if ((want & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    !(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			features = le64_to_cpu(READ_ONCE(v->regs->driver_features));
			if (!(features & ~HDACRN_VDEV_FEATURES) &&
			    (features & BIT_ULL(VIRTIO_F_VERSION_1)))
				status |= VIRTIO_CONFIG_S_FEATURES_OK;
		}
		if ((want & VIRTIO_CONFIG_S_DRIVER_OK) &&
		    (status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    !(status & (VIRTIO_CONFIG_S_DRIVER_OK |
				VIRTIO_CONFIG_S_FAILED))) {
			if (hdacrn_vdev_take_queues(v)) {
				hdacrn_complain(v->link, HDACRN_LIE_RING,
						"virtqueues set up outside its RAM or of a bad size");
				status |= VIRTIO_CONFIG_S_NEEDS_RESET;
			} else {
				status |= VIRTIO_CONFIG_S_DRIVER_OK;
				set_bit(HDACRN_VDEV_LIVE, &v->flags);
			}
		}
		if (status & VIRTIO_CONFIG_S_FAILED)
			hdacrn_vdev_forget(v);
	}
	v->status = status;
	WRITE_ONCE(v->regs->device_status, cpu_to_le32(status));
	/* The answer before the word that says it is there. */
	smp_wmb();
	v->acked = req;
	WRITE_ONCE(v->regs->ack, cpu_to_le32(req));
	hdacrn_vdev_ring(v);
}

/*
 * The UOS's VM ended (the host's word): its RAM is someone else's from now
 * on, so forget its queues as a reset would.  Under @rx_lock.
 */
static void hdacrn_vdev_host(struct hdacrn_vdev *v)
{
	u32 host = le32_to_cpu(READ_ONCE(v->link->mbox->host_state));

	if (!host || (host & 1) || !v->status)
		return;
	hdacrn_vdev_forget(v);
	WRITE_ONCE(v->regs->device_status, 0);
}

/* Whether @c is a message buffer: all of it readable, one message long. */
static bool hdacrn_vdev_is_msg(const struct hdacrn_vring_chain *c, bool out)
{
	if (out)
		return c->out_len == VIRTIO_HDMABUF_MSG_SIZE && !c->in_len;
	return c->in_len >= VIRTIO_HDMABUF_MSG_SIZE && !c->out_len;
}

/*
 * One pass: a breakage, the status protocol, the host's word and the
 * link's handshake, then up to @budget messages from the driver.
 */
static void hdacrn_vdev_run(struct hdacrn_vdev *v, unsigned int budget)
{
	struct hdacrn_vring_chain c;
	bool used = false;
	int ret;

	mutex_lock(&v->rx_lock);
	if (test_bit(HDACRN_VDEV_BROKEN, &v->flags)) {
		/* The driver must reset us before it is served again. */
		v->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		WRITE_ONCE(v->regs->device_status, cpu_to_le32(v->status));
		hdacrn_vdev_config_changed(v);
		hdacrn_vdev_ring(v);
		v->ops->broken(v->link, READ_ONCE(v->why));
		clear_bit(HDACRN_VDEV_BROKEN, &v->flags);
	}
	hdacrn_vdev_status(v);
	hdacrn_vdev_host(v);
	v->ops->event(v->link);
	if (hdacrn_fault_active(HDACRN_FAULT_DEAF))
		budget = 0;	/* test only: a device that stopped reading */

	while (budget && test_bit(HDACRN_VDEV_LIVE, &v->flags) &&
	       !test_bit(HDACRN_VDEV_STOPPED, &v->flags)) {
		ret = hdacrn_vring_pop(&v->txq, &c);
		if (ret == -ENOENT)
			break;
		if (ret) {
			hdacrn_vdev_break(v, v->txq.why);
			break;
		}
		if (!hdacrn_vdev_is_msg(&c, true)) {
			hdacrn_vdev_break(v, "message buffer of the wrong size");
			break;
		}
		hdacrn_vring_read(&v->txq, &c, v->buf, sizeof(v->buf));
		/* Copied: the driver may have its buffer back. */
		hdacrn_vring_push(&v->txq, c.head, 0);
		used = true;
		v->ops->recv(v->link, v->buf, sizeof(v->buf));
		budget--;
	}
	if (used && test_bit(HDACRN_VDEV_LIVE, &v->flags) &&
	    hdacrn_vring_wants_interrupt(&v->txq))
		hdacrn_vdev_ring(v);

	if ((!budget && !hdacrn_fault_active(HDACRN_FAULT_DEAF)) ||
	    test_bit(HDACRN_VDEV_BROKEN, &v->flags))
		queue_work(system_wq, &v->work);	/* more may wait */
	else if (test_and_clear_bit(HDACRN_VDEV_MASKED, &v->flags))
		enable_irq(v->irq);
	mutex_unlock(&v->rx_lock);
}

static void hdacrn_vdev_work(struct work_struct *work)
{
	hdacrn_vdev_run(container_of(work, struct hdacrn_vdev, work),
			HDACRN_VDEV_WORK_BUDGET);
}

static irqreturn_t hdacrn_vdev_irq(int irq, void *data)
{
	struct hdacrn_vdev *v = data;

	/* A doorbell may mean a receive buffer came. */
	atomic_inc(&v->kicks);
	wake_up_all(&v->tx_wait);
	if (!test_and_set_bit(HDACRN_VDEV_MASKED, &v->flags))
		disable_irq_nosync(irq);
	return IRQ_WAKE_THREAD;
}

static irqreturn_t hdacrn_vdev_thread(int irq, void *data)
{
	hdmabuf_irq_thread_normal();
	hdacrn_vdev_run(data, HDACRN_VDEV_THREAD_BUDGET);
	return IRQ_HANDLED;
}

static void hdacrn_vdev_start(struct hdacrn_chan *c, bool clear_shared)
{
	/* The queues start empty when the driver sets them up: nothing to do. */
	clear_bit(HDACRN_VDEV_STOPPED, &to_vdev(c)->flags);
}

static void hdacrn_vdev_stop(struct hdacrn_chan *c)
{
	struct hdacrn_vdev *v = to_vdev(c);

	set_bit(HDACRN_VDEV_STOPPED, &v->flags);
	wake_up_all(&v->tx_wait);
}

static bool hdacrn_vdev_tx_ready(struct hdacrn_vdev *v, int seen)
{
	return atomic_read(&v->kicks) != seen ||
	       test_bit(HDACRN_VDEV_STOPPED, &v->flags) ||
	       !test_bit(HDACRN_VDEV_LIVE, &v->flags);
}

/*
 * Send one message: into the next receive buffer the driver made
 * available.  Return as hdacrn_mbox_send(): 0, -ENOTCONN, -ETIMEDOUT,
 * -EAGAIN, -EPROTO or -EINVAL.
 */
static int hdacrn_vdev_send(struct hdacrn_chan *c, const void *msg,
			    size_t len, unsigned long timeout, bool nowait)
{
	struct hdacrn_vdev *v = to_vdev(c);
	u8 out[VIRTIO_HDMABUF_MSG_SIZE] = { };
	struct hdacrn_vring_chain chain;
	unsigned long left = timeout;
	int ret, seen;

	if (len > sizeof(out))
		return -EINVAL;
	memcpy(out, msg, len);
	if (!nowait)
		mutex_lock(&v->tx_lock);
	else if (!mutex_trylock(&v->tx_lock))
		return -EAGAIN;
	for (;;) {
		if (test_bit(HDACRN_VDEV_STOPPED, &v->flags) ||
		    !test_bit(HDACRN_VDEV_LIVE, &v->flags)) {
			ret = -ENOTCONN;
			goto out;
		}
		seen = atomic_read(&v->kicks);
		ret = hdacrn_vring_pop(&v->rxq, &chain);
		if (!ret)
			break;
		if (ret != -ENOENT) {
			hdacrn_vdev_break(v, v->rxq.why);
			ret = -EPROTO;
			goto out;
		}
		if (nowait) {
			ret = -EAGAIN;
			goto out;
		}
		if (!left) {
			ret = -ETIMEDOUT;
			goto out;
		}
		left = wait_event_timeout(v->tx_wait,
					  hdacrn_vdev_tx_ready(v, seen), left);
	}
	if (!hdacrn_vdev_is_msg(&chain, false)) {
		hdacrn_vdev_break(v, "receive buffer of the wrong size");
		ret = -EPROTO;
		goto out;
	}
	hdacrn_vring_write(&v->rxq, &chain, out, sizeof(out));
	hdacrn_vring_push(&v->rxq, chain.head, sizeof(out));
	if (hdacrn_vring_wants_interrupt(&v->rxq))
		hdacrn_vdev_ring(v);
	ret = 0;
out:
	mutex_unlock(&v->tx_lock);
	return ret;
}

static void hdacrn_vdev_kick(struct hdacrn_chan *c)
{
	hdacrn_vdev_ring(to_vdev(c));
}

static void hdacrn_vdev_listen(struct hdacrn_chan *c)
{
	enable_irq(to_vdev(c)->irq);
}

static void hdacrn_vdev_poke(struct hdacrn_chan *c)
{
	queue_work(system_wq, &to_vdev(c)->work);
}

/* The handshake words, in the device's configuration. */
static __le32 *hdacrn_vdev_word(struct hdacrn_vdev *v, enum hdacrn_hs_word w)
{
	return (void *)v->cfg + hdacrn_virtio_word(w);
}

static u32 hdacrn_vdev_hs_read(struct hdacrn_chan *c, enum hdacrn_hs_word w)
{
	struct hdacrn_vdev *v = to_vdev(c);

	/* A driver is attached only while its queues are taken up. */
	if (w == HDACRN_HS_UOS_SESSION && !test_bit(HDACRN_VDEV_LIVE, &v->flags))
		return 0;
	return le32_to_cpu(READ_ONCE(*hdacrn_vdev_word(v, w)));
}

static void hdacrn_vdev_hs_write(struct hdacrn_chan *c, enum hdacrn_hs_word w,
				 u32 val)
{
	struct hdacrn_vdev *v = to_vdev(c);

	if (w == HDACRN_HS_UOS_SESSION)
		return;	/* the driver's word */
	WRITE_ONCE(*hdacrn_vdev_word(v, w), cpu_to_le32(val));
	hdacrn_vdev_config_changed(v);
}

static void hdacrn_vdev_quiesce(struct hdacrn_chan *c)
{
	struct hdacrn_vdev *v = to_vdev(c);

	hdacrn_vdev_stop(c);
	/* As hdacrn_mbox_quiesce(): no pass runs past this. */
	disable_irq(v->irq);
	cancel_work_sync(&v->work);
	mutex_lock(&v->rx_lock);
	hdacrn_vdev_forget(v);
	mutex_unlock(&v->rx_lock);
}

static void hdacrn_vdev_destroy(struct hdacrn_chan *c)
{
	struct hdacrn_vdev *v = to_vdev(c);

	/* Quiesced: nothing touches the rings.  The driver may free them. */
	WRITE_ONCE(v->regs->device_id, 0);
	WRITE_ONCE(v->regs->device_status, 0);
	hdacrn_vdev_ring(v);
	free_irq(v->irq, v);
	pci_free_irq_vectors(v->link->pdev);
	mutex_destroy(&v->tx_lock);
	mutex_destroy(&v->rx_lock);
	kfree(v);
}

static const struct hdacrn_chan_impl hdacrn_vdev_impl = {
	.name = "virtio",
	.start = hdacrn_vdev_start,
	.stop = hdacrn_vdev_stop,
	.send = hdacrn_vdev_send,
	.kick = hdacrn_vdev_kick,
	.listen = hdacrn_vdev_listen,
	.poke = hdacrn_vdev_poke,
	.quiesce = hdacrn_vdev_quiesce,
	.destroy = hdacrn_vdev_destroy,
	.hs_read = hdacrn_vdev_hs_read,
	.hs_write = hdacrn_vdev_hs_write,
};

/**
 * hdacrn_vdev_create() - the virtio device of a UOS's link, on the SOS
 * @link: the link: its device enabled, BAR 0 mapped in @link->regs, its
 *	peer and window set up
 * @mbox: the link's mailbox, mapped
 * @ops: the link's callbacks
 *
 * Offers the device in the transport's registers (its ID last) and rings
 * the UOS.  The device's handshake words (epoch, clear) are left as a
 * previous device left them, for hdacrn_maps_init().  Doorbells reach
 * @ops once hdacrn_chan_listen() was called.
 *
 * Return: the transport or an ERR_PTR().
 */
struct hdacrn_chan *hdacrn_vdev_create(struct hdacrn_link *link,
				       void *mbox,
				       const struct hdacrn_chan_ops *ops)
{
	struct hdacrn_vdev *v;
	struct hdvio_regs *regs = mbox + HDVIO_REGS_OFF;
	int ret;

	BUILD_BUG_ON(sizeof(struct hdvio_regs) > HDVIO_CONFIG_OFF - HDVIO_REGS_OFF);
	BUILD_BUG_ON(sizeof(struct virtio_hdmabuf_config) > HDVIO_CONFIG_SIZE);
	BUILD_BUG_ON(VIRTIO_HDMABUF_MSG_SIZE != HDMABUF_MSG_SIZE);

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return ERR_PTR(-ENOMEM);
	v->chan.impl = &hdacrn_vdev_impl;
	v->link = link;
	v->regs = regs;
	v->cfg = mbox + HDVIO_CONFIG_OFF;
	v->bar = link->regs;
	v->ops = ops;
	v->flags = BIT(HDACRN_VDEV_STOPPED);
	INIT_WORK(&v->work, hdacrn_vdev_work);
	mutex_init(&v->rx_lock);
	mutex_init(&v->tx_lock);
	init_waitqueue_head(&v->tx_wait);
	atomic_set(&v->gen, le32_to_cpu(READ_ONCE(regs->config_generation)));

	ret = pci_alloc_irq_vectors(link->pdev, 1, HDACRN_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(link->dev, "no MSI-X vector: %d\n", ret);
		goto err_free;
	}
	v->irq = pci_irq_vector(link->pdev, 0);
	ret = request_threaded_irq(v->irq, hdacrn_vdev_irq, hdacrn_vdev_thread,
				   IRQF_NO_AUTOEN, KBUILD_MODNAME, v);
	if (ret)
		goto err_vectors;

	/* A fresh device: whatever the driver asked of an earlier one is done. */
	v->acked = le32_to_cpu(READ_ONCE(regs->request));
	WRITE_ONCE(regs->ack, cpu_to_le32(v->acked));
	WRITE_ONCE(regs->device_status, 0);
	WRITE_ONCE(regs->vendor_id, 0);
	WRITE_ONCE(regs->device_features, cpu_to_le64(HDACRN_VDEV_FEATURES));
	WRITE_ONCE(regs->num_queues, cpu_to_le16(VIRTIO_HDMABUF_NR_VQS));
	WRITE_ONCE(regs->queue_num_max, cpu_to_le16(HDACRN_VRING_MAX));
	WRITE_ONCE(v->cfg->vm_id, cpu_to_le32(link->vmid));
	WRITE_ONCE(v->cfg->msg_size, cpu_to_le32(VIRTIO_HDMABUF_MSG_SIZE));
	WRITE_ONCE(v->cfg->device_session, 0);
	hdacrn_vdev_config_changed(v);
	/* Everything before the ID that says a device is there. */
	smp_wmb();
	WRITE_ONCE(regs->device_id, cpu_to_le32(VIRTIO_ID_HDMABUF));
	hdacrn_vdev_ring(v);
	return &v->chan;

err_vectors:
	pci_free_irq_vectors(link->pdev);
err_free:
	mutex_destroy(&v->tx_lock);
	mutex_destroy(&v->rx_lock);
	kfree(v);
	return ERR_PTR(ret);
}

#ifdef CONFIG_HYPER_DMABUF_KUNIT_TEST
#include "vdev_kunit.c"
#endif
