// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the virtio driver, on a user VM.
 *
 * On a real ACRN a user VM (UOS) reaches its service VM (SOS) through a
 * virtio device that acrn-dm offers it.  This is the UOS's driver for the
 * hyper_dmabuf device (include/uapi/linux/virtio_hdmabuf.h): a plain
 * virtio_driver on the kernel's virtio API, so that it binds the same way
 * to a virtio-pci device and, in the test rig, to the virtio-over-ivshmem
 * transport (virtio_ivshmem.c).  It is the link's message transport:
 *
 *  - messages to the SOS go out on the transmit queue, each a
 *    device-readable buffer of one message, from a pool as large as the
 *    queue; a sender that finds the queue full waits for used buffers, at
 *    most its timeout, or gives up at once with -EAGAIN;
 *  - messages from the SOS come in on the receive queue, whose buffers
 *    the driver keeps all posted; each is copied out and posted again;
 *  - the link's handshake words are fields of the device's configuration,
 *    and a configuration change is the SOS's doorbell.
 *
 * The device is not trusted more than the mailbox's SOS: a used buffer of
 * the wrong length, or a queue the virtio core found broken, stops the
 * transport and takes the link down.  A device that asks to be reset
 * (DEVICE_NEEDS_RESET: the SOS dropped this UOS) leaves the link down
 * until the driver is bound again, as a dropped mailbox link stays down
 * until the driver attaches again.
 *
 * Locks: @rx_lock serialises the work item, which handles the receive
 * queue, the link's events and breakages; @tx_lock serialises senders and
 * protects the transmit queue and its pool.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_hdmabuf.h>

#include "acrn.h"

/* Messages the work item hands on per pass before it takes turns. */
#define HDACRN_VIRTIO_BUDGET	32

/* Bits of hdacrn_virtio.flags. */
#define HDACRN_VIRTIO_STOPPED	0	/* the link does not send or receive */
#define HDACRN_VIRTIO_LISTENING	1	/* the link is whole: run its events */
#define HDACRN_VIRTIO_BROKEN	2	/* the work must tell the link why */
#define HDACRN_VIRTIO_DEAD	3	/* reset needed: stay down until rebound */

/**
 * struct hdacrn_virtio - the hyper_dmabuf virtio device, as its driver has it
 * @chan: what the link holds
 * @vdev: the virtio device
 * @link: the link to the SOS
 * @txq: messages to the device
 * @rxq: messages from the device
 * @work: the receive queue, the link's events and breakages
 * @rx_lock: see the top of the file; protects @rx_bufs' use and @buf
 * @tx_lock: see the top of the file; protects @txq, @tx_free, @nr_free
 * @flags: HDACRN_VIRTIO_*
 * @tx_kicks: used-buffer interrupts of @txq, which senders wait on
 * @tx_wait: senders waiting for a free buffer
 * @why: how the device broke the protocol, for the link
 * @tx_bufs: the transmit pool's memory
 * @tx_free: the pool's free buffers
 * @nr_free: how many
 * @rx_bufs: the receive buffers' memory
 * @buf: where a message is copied before it is handed on
 */
struct hdacrn_virtio {
	struct hdacrn_chan chan;
	struct virtio_device *vdev;
	struct hdacrn_link *link;
	struct virtqueue *txq;
	struct virtqueue *rxq;
	struct work_struct work;
	struct mutex rx_lock;	/* the work: the receive queue, @buf */
	struct mutex tx_lock;	/* senders: @txq, @tx_free, @nr_free */
	unsigned long flags;
	atomic_t tx_kicks;
	wait_queue_head_t tx_wait;
	const char *why;
	u8 *tx_bufs;
	u8 **tx_free;
	unsigned int nr_free;
	u8 *rx_bufs;
	u8 buf[VIRTIO_HDMABUF_MSG_SIZE];
};

static struct hdacrn_virtio *to_virtio(struct hdacrn_chan *c)
{
	return container_of(c, struct hdacrn_virtio, chan);
}

/* The device broke the protocol: stop, and have the work tell the link. */
static void hdacrn_virtio_break(struct hdacrn_virtio *v, const char *why)
{
	set_bit(HDACRN_VIRTIO_STOPPED, &v->flags);
	set_bit(HDACRN_VIRTIO_DEAD, &v->flags);
	wake_up_all(&v->tx_wait);
	if (!test_and_set_bit(HDACRN_VIRTIO_BROKEN, &v->flags)) {
		WRITE_ONCE(v->why, why);
		queue_work(system_wq, &v->work);
	}
}

/* Post receive buffer @buf.  Under @rx_lock, or before the link runs. */
static int hdacrn_virtio_post(struct hdacrn_virtio *v, u8 *buf)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, VIRTIO_HDMABUF_MSG_SIZE);
	return virtqueue_add_inbuf(v->rxq, &sg, 1, buf, GFP_KERNEL);
}

static void hdacrn_virtio_work(struct work_struct *work)
{
	struct hdacrn_virtio *v = container_of(work, struct hdacrn_virtio,
					       work);
	unsigned int budget = HDACRN_VIRTIO_BUDGET, len;
	bool posted = false;
	u8 *buf;

	mutex_lock(&v->rx_lock);
	if (!test_bit(HDACRN_VIRTIO_LISTENING, &v->flags))
		goto out;
	if (test_bit(HDACRN_VIRTIO_BROKEN, &v->flags)) {
		clear_bit(HDACRN_VIRTIO_BROKEN, &v->flags);
		hdacrn_link_chan_ops.broken(v->link, READ_ONCE(v->why));
	}
	if (!test_bit(HDACRN_VIRTIO_DEAD, &v->flags) &&
	    (v->vdev->config->get_status(v->vdev) &
	     VIRTIO_CONFIG_S_NEEDS_RESET)) {
		set_bit(HDACRN_VIRTIO_DEAD, &v->flags);
		set_bit(HDACRN_VIRTIO_STOPPED, &v->flags);
		wake_up_all(&v->tx_wait);
		dev_warn(&v->vdev->dev,
			 "the service VM dropped this VM and wants a reset: bind the driver again to attach\n");
	}
	hdacrn_link_chan_ops.event(v->link);
	if (hdacrn_fault_active(HDACRN_FAULT_DEAF))
		budget = 0;	/* test only: a VM that stopped reading */

	while (budget && !test_bit(HDACRN_VIRTIO_STOPPED, &v->flags)) {
		buf = virtqueue_get_buf(v->rxq, &len);
		if (!buf) {
			if (virtqueue_is_broken(v->rxq))
				hdacrn_virtio_break(v, "receive queue broken");
			break;
		}
		memcpy(v->buf, buf, sizeof(v->buf));
		/* Copied: the device may have the buffer again. */
		if (hdacrn_virtio_post(v, buf))
			hdacrn_virtio_break(v, "receive buffer not posted again");
		posted = true;
		if (len != VIRTIO_HDMABUF_MSG_SIZE) {
			hdacrn_virtio_break(v, "message of the wrong length");
			break;
		}
		hdacrn_link_chan_ops.recv(v->link, v->buf, sizeof(v->buf));
		budget--;
	}
	if (posted)
		virtqueue_kick(v->rxq);
	if ((!budget && !hdacrn_fault_active(HDACRN_FAULT_DEAF)) ||
	    test_bit(HDACRN_VIRTIO_BROKEN, &v->flags))
		queue_work(system_wq, &v->work);	/* more may wait */
out:
	mutex_unlock(&v->rx_lock);
}

static void hdacrn_virtio_rx_done(struct virtqueue *vq)
{
	struct hdacrn_virtio *v = vq->vdev->priv;

	queue_work(system_wq, &v->work);
}

static void hdacrn_virtio_tx_done(struct virtqueue *vq)
{
	struct hdacrn_virtio *v = vq->vdev->priv;

	atomic_inc(&v->tx_kicks);
	wake_up_all(&v->tx_wait);
}

static void hdacrn_virtio_config_changed(struct virtio_device *vdev)
{
	struct hdacrn_virtio *v = vdev->priv;

	queue_work(system_wq, &v->work);
}

static void hdacrn_virtio_start(struct hdacrn_chan *c, bool clear_shared)
{
	struct hdacrn_virtio *v = to_virtio(c);

	if (!test_bit(HDACRN_VIRTIO_DEAD, &v->flags))
		clear_bit(HDACRN_VIRTIO_STOPPED, &v->flags);
}

static void hdacrn_virtio_stop(struct hdacrn_chan *c)
{
	struct hdacrn_virtio *v = to_virtio(c);

	set_bit(HDACRN_VIRTIO_STOPPED, &v->flags);
	wake_up_all(&v->tx_wait);
}

/* Take back the buffers the device is done with.  Under @tx_lock. */
static void hdacrn_virtio_reclaim(struct hdacrn_virtio *v)
{
	unsigned int len;
	u8 *buf;

	while ((buf = virtqueue_get_buf(v->txq, &len)))
		v->tx_free[v->nr_free++] = buf;
	if (virtqueue_is_broken(v->txq))
		hdacrn_virtio_break(v, "transmit queue broken");
}

static bool hdacrn_virtio_tx_ready(struct hdacrn_virtio *v, int seen)
{
	return atomic_read(&v->tx_kicks) != seen ||
	       test_bit(HDACRN_VIRTIO_STOPPED, &v->flags);
}

/*
 * Send one message.  Return as hdacrn_mbox_send(): 0, -ENOTCONN,
 * -ETIMEDOUT, -EAGAIN, -EPROTO or -EINVAL.
 */
static int hdacrn_virtio_send(struct hdacrn_chan *c, const void *msg,
			      size_t len, unsigned long timeout, bool nowait)
{
	struct hdacrn_virtio *v = to_virtio(c);
	unsigned long left = timeout;
	struct scatterlist sg;
	int ret, seen;
	u8 *buf;

	if (len > VIRTIO_HDMABUF_MSG_SIZE)
		return -EINVAL;
	if (!nowait)
		mutex_lock(&v->tx_lock);
	else if (!mutex_trylock(&v->tx_lock))
		return -EAGAIN;
	for (;;) {
		if (test_bit(HDACRN_VIRTIO_DEAD, &v->flags)) {
			ret = test_bit(HDACRN_VIRTIO_BROKEN, &v->flags) ?
			      -EPROTO : -ENOTCONN;
			goto out;
		}
		if (test_bit(HDACRN_VIRTIO_STOPPED, &v->flags)) {
			ret = -ENOTCONN;
			goto out;
		}
		seen = atomic_read(&v->tx_kicks);
		hdacrn_virtio_reclaim(v);
		if (v->nr_free)
			break;
		if (nowait) {
			ret = -EAGAIN;
			goto out;
		}
		if (!left) {
			ret = -ETIMEDOUT;
			goto out;
		}
		left = wait_event_timeout(v->tx_wait,
					  hdacrn_virtio_tx_ready(v, seen),
					  left);
	}
	buf = v->tx_free[--v->nr_free];
	memcpy(buf, msg, len);
	memset(buf + len, 0, VIRTIO_HDMABUF_MSG_SIZE - len);
	sg_init_one(&sg, buf, VIRTIO_HDMABUF_MSG_SIZE);
	ret = virtqueue_add_outbuf(v->txq, &sg, 1, buf, GFP_KERNEL);
	if (ret) {
		/* The queue has room for the whole pool: a broken queue. */
		v->tx_free[v->nr_free++] = buf;
		hdacrn_virtio_break(v, "transmit queue refused a buffer");
		ret = -EPROTO;
		goto out;
	}
	virtqueue_kick(v->txq);
out:
	mutex_unlock(&v->tx_lock);
	return ret;
}

static void hdacrn_virtio_kick(struct hdacrn_chan *c)
{
	/* Configuration writes reach the device by themselves. */
}

static void hdacrn_virtio_listen(struct hdacrn_chan *c)
{
	set_bit(HDACRN_VIRTIO_LISTENING, &to_virtio(c)->flags);
}

static void hdacrn_virtio_poke(struct hdacrn_chan *c)
{
	queue_work(system_wq, &to_virtio(c)->work);
}

static void hdacrn_virtio_quiesce(struct hdacrn_chan *c)
{
	struct hdacrn_virtio *v = to_virtio(c);

	hdacrn_virtio_stop(c);
	clear_bit(HDACRN_VIRTIO_LISTENING, &v->flags);
	cancel_work_sync(&v->work);
}

static void hdacrn_virtio_destroy(struct hdacrn_chan *c)
{
	/* hdacrn_virtio_remove() frees it, after the device's reset. */
}

static u32 hdacrn_virtio_hs_read(struct hdacrn_chan *c, enum hdacrn_hs_word w)
{
	struct hdacrn_virtio *v = to_virtio(c);

	/* A device that wants a reset answers nothing. */
	if (w == HDACRN_HS_SOS_SESSION && test_bit(HDACRN_VIRTIO_DEAD, &v->flags))
		return 0;
	return virtio_cread32(v->vdev, hdacrn_virtio_word(w));
}

static void hdacrn_virtio_hs_write(struct hdacrn_chan *c, enum hdacrn_hs_word w,
				   u32 val)
{
	struct hdacrn_virtio *v = to_virtio(c);

	if (w != HDACRN_HS_UOS_SESSION)
		return;	/* the device's words */
	if (test_bit(HDACRN_VIRTIO_DEAD, &v->flags))
		val = 0;
	virtio_cwrite32(v->vdev, hdacrn_virtio_word(w), val);
}

static const struct hdacrn_chan_impl hdacrn_virtio_impl = {
	.name = "virtio",
	.start = hdacrn_virtio_start,
	.stop = hdacrn_virtio_stop,
	.send = hdacrn_virtio_send,
	.kick = hdacrn_virtio_kick,
	.listen = hdacrn_virtio_listen,
	.poke = hdacrn_virtio_poke,
	.quiesce = hdacrn_virtio_quiesce,
	.destroy = hdacrn_virtio_destroy,
	.hs_read = hdacrn_virtio_hs_read,
	.hs_write = hdacrn_virtio_hs_write,
};

/* Set up the queues and their buffers. */
static int hdacrn_virtio_queues(struct hdacrn_virtio *v)
{
	vq_callback_t *callbacks[] = { hdacrn_virtio_tx_done,
				       hdacrn_virtio_rx_done };
	static const char * const names[] = { "tx", "rx" };
	struct virtqueue *vqs[VIRTIO_HDMABUF_NR_VQS];
	unsigned int i, ntx, nrx;
	int ret;

	ret = virtio_find_vqs(v->vdev, VIRTIO_HDMABUF_NR_VQS, vqs, callbacks,
			      names, NULL);
	if (ret)
		return ret;
	v->txq = vqs[VIRTIO_HDMABUF_VQ_TX];
	v->rxq = vqs[VIRTIO_HDMABUF_VQ_RX];
	ntx = virtqueue_get_vring_size(v->txq);
	nrx = virtqueue_get_vring_size(v->rxq);
	ret = -ENOMEM;
	v->tx_bufs = kcalloc(ntx, VIRTIO_HDMABUF_MSG_SIZE, GFP_KERNEL);
	v->tx_free = kcalloc(ntx, sizeof(*v->tx_free), GFP_KERNEL);
	v->rx_bufs = kcalloc(nrx, VIRTIO_HDMABUF_MSG_SIZE, GFP_KERNEL);
	if (!v->tx_bufs || !v->tx_free || !v->rx_bufs)
		goto err;
	for (i = 0; i < ntx; i++)
		v->tx_free[i] = v->tx_bufs + i * VIRTIO_HDMABUF_MSG_SIZE;
	v->nr_free = ntx;
	for (i = 0; i < nrx; i++) {
		ret = hdacrn_virtio_post(v, v->rx_bufs +
					 i * VIRTIO_HDMABUF_MSG_SIZE);
		if (ret)
			goto err;
	}
	return 0;

err:
	v->vdev->config->del_vqs(v->vdev);
	kfree(v->rx_bufs);
	kfree(v->tx_free);
	kfree(v->tx_bufs);
	return ret;
}

static int hdacrn_virtio_probe(struct virtio_device *vdev)
{
	struct hdacrn_virtio *v;
	struct hdacrn_link *link;
	u32 vmid, size;
	int ret;

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "no configuration space\n");
		return -EINVAL;
	}
	vmid = virtio_cread32(vdev, offsetof(struct virtio_hdmabuf_config,
					     vm_id));
	size = virtio_cread32(vdev, offsetof(struct virtio_hdmabuf_config,
					     msg_size));
	if (!vmid || vmid > HDACRN_VMID_MAX ||
	    size != VIRTIO_HDMABUF_MSG_SIZE) {
		dev_err(&vdev->dev, "VM id %u, messages of %u bytes: not a device of ours\n",
			vmid, size);
		return -ENODEV;
	}
	link = hdacrn_link_alloc(&vdev->dev, HDACRN_SOS_VMID, false);
	if (!link)
		return -ENOMEM;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		ret = -ENOMEM;
		goto err_link;
	}
	v->chan.impl = &hdacrn_virtio_impl;
	v->vdev = vdev;
	v->link = link;
	v->flags = BIT(HDACRN_VIRTIO_STOPPED);
	INIT_WORK(&v->work, hdacrn_virtio_work);
	mutex_init(&v->rx_lock);
	mutex_init(&v->tx_lock);
	init_waitqueue_head(&v->tx_wait);
	vdev->priv = v;
	link->chan = &v->chan;

	ret = hdacrn_virtio_queues(v);
	if (ret)
		goto err_free;
	ret = hdacrn_link_add(link, vmid);
	if (ret) {
		dev_err(&vdev->dev, "a user VM link cannot join: %d\n", ret);
		goto err_queues;
	}
	/*
	 * The attachment's nonce before DRIVER_OK, with which the device
	 * takes up the queues and looks at it.
	 */
	link->session = get_random_u32() | 1;
	hdacrn_hs_write(link, HDACRN_HS_UOS_SESSION, link->session);
	virtio_device_ready(vdev);
	virtqueue_kick(v->rxq);
	dev_info(&vdev->dev, "user VM %u: attaching to the service VM over virtio\n",
		 vmid);
	hdacrn_link_attach(link);
	return 0;

err_queues:
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	kfree(v->rx_bufs);
	kfree(v->tx_free);
	kfree(v->tx_bufs);
err_free:
	mutex_destroy(&v->tx_lock);
	mutex_destroy(&v->rx_lock);
	kfree(v);
err_link:
	mutex_destroy(&link->lock);
	kfree(link);
	return ret;
}

/* Take every buffer back from a reset queue: used ones, then the rest. */
static void hdacrn_virtio_drain(struct virtqueue *vq)
{
	unsigned int len;

	while (virtqueue_get_buf(vq, &len))
		;
	while (virtqueue_detach_unused_buf(vq))
		;
}

static void hdacrn_virtio_remove(struct virtio_device *vdev)
{
	struct hdacrn_virtio *v = vdev->priv;
	struct hdacrn_link *link = v->link;

	hdacrn_link_shut(link);
	/*
	 * Once the reset returns the device no longer uses the queues (the
	 * transport's promise, as virtio's): their buffers may go.
	 */
	virtio_reset_device(vdev);
	hdacrn_virtio_drain(v->rxq);
	hdacrn_virtio_drain(v->txq);
	vdev->config->del_vqs(vdev);
	/* A callback that came before the queues went may have queued it. */
	cancel_work_sync(&v->work);
	kfree(v->rx_bufs);
	kfree(v->tx_bufs);
	kfree(v->tx_free);
	mutex_destroy(&v->tx_lock);
	mutex_destroy(&v->rx_lock);
	kfree(v);
	mutex_destroy(&link->lock);
	hdacrn_link_put(link);
}

static const struct virtio_device_id hdacrn_virtio_ids[] = {
	{ VIRTIO_ID_HDMABUF, VIRTIO_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(virtio, hdacrn_virtio_ids);

static struct virtio_driver hdacrn_virtio_driver = {
	.driver.name = KBUILD_MODNAME,
	.driver.owner = THIS_MODULE,
	.id_table = hdacrn_virtio_ids,
	.probe = hdacrn_virtio_probe,
	.remove = hdacrn_virtio_remove,
	.config_changed = hdacrn_virtio_config_changed,
};

/**
 * hdacrn_virtio_init() - register the virtio driver
 *
 * Return: 0 or the error of register_virtio_driver().
 */
int hdacrn_virtio_init(void)
{
	return register_virtio_driver(&hdacrn_virtio_driver);
}

/**
 * hdacrn_virtio_exit() - unregister the virtio driver
 */
void hdacrn_virtio_exit(void)
{
	unregister_virtio_driver(&hdacrn_virtio_driver);
}
