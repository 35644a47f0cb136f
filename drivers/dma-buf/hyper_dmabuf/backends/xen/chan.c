// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend: one message channel per linked domain.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

/**
 * DOC: Handshake
 *
 * A link between two domains is a xenbus device of type "hyper_dmabuf",
 * whose xenstore nodes dom0 writes: the domain with the lower id drives
 * the backend end, the other the frontend end, and both ends are driven
 * by this module.  xenbus finds the device when its nodes appear and
 * watches the other end's state, so channels come and go by themselves as
 * domains, links and drivers do.
 *
 * Handshake::
 *
 *   backend   writes a fresh "session" nonce, then InitWait
 *   frontend  allocates two ring pages and an event channel, writes
 *             ring-ref0, ring-ref1, event-channel and the session it saw,
 *             then Initialised
 *   backend   on Initialised or Connected with its own session: maps the
 *             rings, binds the event channel, Connected
 *   frontend  on Connected: Connected
 *
 * A backend that (re)starts writes a new session, so a frontend's stale
 * refs are never mapped; a frontend that sees InitWait again starts over.
 *
 * Page 0 is a standard ring (xen/interface/io/ring.h) carrying messages
 * from the frontend, page 1 one carrying messages from the backend.  Each
 * slot holds one core message; the receiver copies it out, answers with
 * an empty response to free the slot, and hands the copy to the core from
 * the event channel's threaded interrupt handler, in process context and
 * with no workqueue between the event and the core.  A ring's worth at
 * most per event: the rest goes to a work item, which takes turns with the
 * thread.  Both run at normal priority (hdmabuf_irq_thread_normal()).
 * The event channel is bound with late EOI: a peer that raises events
 * without messages is throttled by the event-channel code.  A peer whose
 * ring indices lie is disconnected.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/interface/io/ring.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "../../proto.h"
#include "xen.h"

static unsigned int hdxen_timeout_ms = 2000;
module_param_named(timeout_ms, hdxen_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a sender waits for a ring slot (default 2000)");

#define HDXEN_RING_PAGES	2

/**
 * struct hdxen_req - a ring slot's request: one core message
 * @msg: the message
 */
struct hdxen_req {
	u8 msg[HDMABUF_MSG_SIZE];
};

/**
 * struct hdxen_rsp - a ring slot's response: frees the slot
 * @status: 0
 */
struct hdxen_rsp {
	u32 status;
};

DEFINE_RING_TYPES(hdxen, struct hdxen_req, struct hdxen_rsp);

/**
 * struct hdxen_chan - the channel to one linked domain
 * @dev: its xenbus device
 * @domid: the other domain
 * @frontend: we drive the frontend end
 * @kref: held by the channel table and by each sender
 * @conn_lock: serialises connecting and disconnecting; protects @ring,
 *	@grefs, @evtchn, @session and @peer_added
 * @ring: the two ring pages
 * @grefs: their grant references (frontend)
 * @evtchn: local port (frontend: allocated by us)
 * @session: the backend's handshake nonce
 * @peer_added: the core knows the peer
 * @lock: protects @connected, @irq and the ring indices in @tx
 * @connected: rings and event channel are live
 * @irq: the event channel's irq, 0 when unbound
 * @tx: ring we send on
 * @rx_mutex: serialises the interrupt thread and @rx_work; protects @rx
 * @rx: ring we receive on
 * @tx_mutex: one sender at a time
 * @tx_wait: woken when a slot frees up or the channel goes
 * @eoi_pending: an event awaits its late EOI
 * @rx_work: handles what the interrupt thread left, and kicks
 * @fatal_work: disconnects a peer that broke the ring protocol
 */
struct hdxen_chan {
	struct xenbus_device *dev;
	domid_t domid;
	bool frontend;
	struct kref kref;
	struct mutex conn_lock;	/* see above */
	void *ring;
	grant_ref_t grefs[HDXEN_RING_PAGES];
	evtchn_port_t evtchn;
	u32 session;
	bool peer_added;
	spinlock_t lock;	/* protects connected, irq, tx indices */
	bool connected;
	int irq;
	struct hdxen_front_ring tx;
	struct mutex rx_mutex;	/* receivers; @rx */
	struct hdxen_back_ring rx;
	struct mutex tx_mutex;	/* serialises senders */
	wait_queue_head_t tx_wait;
	atomic_t eoi_pending;
	struct work_struct rx_work;
	struct work_struct fatal_work;
};

/* Channels by domain id; the xarray's own lock protects it. */
static DEFINE_XARRAY(hdxen_chans);
static struct workqueue_struct *hdxen_wq;

static void hdxen_chan_release(struct kref *kref)
{
	kfree(container_of(kref, struct hdxen_chan, kref));
}

static struct hdxen_chan *hdxen_chan_get(u32 domid)
{
	struct hdxen_chan *ch;

	xa_lock(&hdxen_chans);
	ch = xa_load(&hdxen_chans, domid);
	if (ch)
		kref_get(&ch->kref);
	xa_unlock(&hdxen_chans);
	return ch;
}

static void hdxen_chan_put(struct hdxen_chan *ch)
{
	kref_put(&ch->kref, hdxen_chan_release);
}

static void *hdxen_ring_page(struct hdxen_chan *ch, unsigned int i)
{
	return ch->ring + i * XEN_PAGE_SIZE;
}

static irqreturn_t hdxen_interrupt(int irq, void *data)
{
	struct hdxen_chan *ch = data;

	atomic_set(&ch->eoi_pending, 1);
	return IRQ_WAKE_THREAD;
}

static void hdxen_notify(struct hdxen_chan *ch)
{
	lockdep_assert_held(&ch->lock);
	if (ch->irq)
		notify_remote_via_irq(ch->irq);
}

/* The peer broke the ring protocol: stop listening, then disconnect. */
static void hdxen_protocol_error(struct hdxen_chan *ch, const char *what)
{
	spin_lock(&ch->lock);
	if (ch->connected)
		dev_err_ratelimited(&ch->dev->dev,
				    "domain %u: bad %s, disconnecting\n",
				    ch->domid, what);
	ch->connected = false;
	spin_unlock(&ch->lock);
	wake_up_all(&ch->tx_wait);
	queue_work(hdxen_wq, &ch->fatal_work);
}

/* Slots of our send ring freed by the peer.  Returns whether any were. */
static bool hdxen_rx_responses(struct hdxen_chan *ch)
{
	bool freed = false;
	RING_IDX rp;
	int more;

	spin_lock(&ch->lock);
	if (!ch->connected)
		goto out;
	do {
		rp = READ_ONCE(ch->tx.sring->rsp_prod);
		virt_rmb();	/* read the index before what it covers */
		/* Never more responses than requests made. */
		if (rp - ch->tx.rsp_cons > ch->tx.req_prod_pvt - ch->tx.rsp_cons) {
			spin_unlock(&ch->lock);
			hdxen_protocol_error(ch, "response index");
			return true;
		}
		freed |= rp != ch->tx.rsp_cons;
		ch->tx.rsp_cons = rp;
		RING_FINAL_CHECK_FOR_RESPONSES(&ch->tx, more);
	} while (more);
out:
	spin_unlock(&ch->lock);
	if (freed)
		wake_up(&ch->tx_wait);
	return freed;
}

/*
 * Messages from the peer: copy each out, free its slot, hand it to the
 * core.  At most one ring's worth per call; the rest is left for the next
 * run of the work, so a flooding peer cannot hog the worker.  Returns
 * whether anything was done, and sets @again when there is more.
 */
static bool hdxen_rx_requests(struct hdxen_chan *ch, bool *again)
{
	unsigned int budget = RING_SIZE(&ch->rx);
	struct hdxen_req req;
	bool done = false;
	RING_IDX rp;
	int notify, more;

	do {
		rp = READ_ONCE(ch->rx.sring->req_prod);
		virt_rmb();	/* read the index before the slots it covers */
		if (RING_REQUEST_PROD_OVERFLOW(&ch->rx, rp)) {
			hdxen_protocol_error(ch, "request index");
			return true;
		}
		while (ch->rx.req_cons != rp) {
			if (!budget--) {
				*again = true;
				return true;
			}
			RING_COPY_REQUEST(&ch->rx, ch->rx.req_cons, &req);
			ch->rx.req_cons++;
			RING_GET_RESPONSE(&ch->rx, ch->rx.rsp_prod_pvt)->status = 0;
			ch->rx.rsp_prod_pvt++;
			RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ch->rx, notify);
			if (notify) {
				spin_lock(&ch->lock);
				hdxen_notify(ch);
				spin_unlock(&ch->lock);
			}
			hdmabuf_recv(&hdxen_backend, ch->domid, req.msg,
				     sizeof(req.msg));
			done = true;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&ch->rx, more);
	} while (more);
	return done;
}

/* One pass over both rings, by the interrupt thread or the work. */
static void hdxen_rx_pass(struct hdxen_chan *ch)
{
	bool done = false, again = false, live;

	mutex_lock(&ch->rx_mutex);
	spin_lock(&ch->lock);
	live = ch->connected;
	spin_unlock(&ch->lock);
	if (live) {
		done |= hdxen_rx_responses(ch);
		/* Test only: a domain that stopped reading. */
		if (!hdxen_fault_active(HDXEN_FAULT_DEAF))
			done |= hdxen_rx_requests(ch, &again);
	}
	spin_lock(&ch->lock);
	if (ch->irq && atomic_xchg(&ch->eoi_pending, 0))
		xen_irq_lateeoi(ch->irq, done ? 0 : XEN_EOI_FLAG_SPURIOUS);
	spin_unlock(&ch->lock);
	mutex_unlock(&ch->rx_mutex);
	if (again)
		queue_work(hdxen_wq, &ch->rx_work);
}

static irqreturn_t hdxen_irq_thread(int irq, void *data)
{
	hdmabuf_irq_thread_normal();
	hdxen_rx_pass(data);
	return IRQ_HANDLED;
}

static void hdxen_rx_work(struct work_struct *work)
{
	hdxen_rx_pass(container_of(work, struct hdxen_chan, rx_work));
}

/* Give a bound event channel our handlers. */
static int hdxen_request_irq(struct hdxen_chan *ch, int irq)
{
	return request_threaded_irq(irq, hdxen_interrupt, hdxen_irq_thread, 0,
				    "hyper_dmabuf", ch);
}

static bool hdxen_tx_ready(struct hdxen_chan *ch)
{
	bool ready;

	spin_lock(&ch->lock);
	ready = !ch->connected || !RING_FULL(&ch->tx);
	spin_unlock(&ch->lock);
	return ready;
}

/* Tests of the peer's defences: lie about the ring, or flood it. */
static void hdxen_tx_lie(struct hdxen_chan *ch)
{
	unsigned int i;

	lockdep_assert_held(&ch->lock);
	if (hdxen_fault(HDXEN_FAULT_RING_LIE)) {
		WRITE_ONCE(ch->tx.sring->req_prod, ch->tx.req_prod_pvt + 1000);
		hdxen_notify(ch);
	}
	if (hdxen_fault(HDXEN_FAULT_FLOOD)) {
		for (i = 0; i < 100000; i++)
			hdxen_notify(ch);
	}
}

/*
 * Test of the peer's limits: follow an EXPORT with a flood of
 * announcements of buffers that do not exist.  Each is sent as any
 * message, waiting for room in the ring.
 */
static void hdxen_announce_flood(struct hdmabuf_backend *be, u32 vmid,
				 const void *msg)
{
	u8 buf[HDMABUF_MSG_SIZE];
	unsigned int n;

	if (!hdmabuf_wire_is_export(msg) ||
	    !hdxen_fault(HDXEN_FAULT_ANNOUNCE_FLOOD))
		return;
	for (n = 0; n < HDXEN_FLOOD_ANNOUNCEMENTS; n++) {
		memcpy(buf, msg, sizeof(buf));
		hdmabuf_wire_forge_export(buf);
		if (hdxen_send(be, vmid, buf, sizeof(buf), 0))
			break;
	}
	pr_warn("fault: %u forged announcements sent to domain %u\n", n, vmid);
}

#ifdef CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS
/**
 * hdxen_chan_kick_all() - look at every channel's rings again
 *
 * For the test faults: a domain that was deaf hears what came meanwhile,
 * though the peer, its ring full, rings no more.
 */
void hdxen_chan_kick_all(void)
{
	struct hdxen_chan *ch;
	unsigned long domid;

	xa_lock(&hdxen_chans);
	xa_for_each(&hdxen_chans, domid, ch) {
		/* Disconnecting clears it before it cancels the work. */
		spin_lock(&ch->lock);
		if (ch->connected)
			queue_work(hdxen_wq, &ch->rx_work);
		spin_unlock(&ch->lock);
	}
	xa_unlock(&hdxen_chans);
}
#endif

/**
 * hdxen_send() - send one message to a linked domain
 * @be: our backend
 * @vmid: the domain
 * @msg: the message
 * @len: its length, %HDMABUF_MSG_SIZE
 * @flags: %HDMABUF_SEND_NOWAIT or 0
 *
 * Waits at most timeout_ms for a free slot, or not at all with
 * %HDMABUF_SEND_NOWAIT.
 *
 * Return: 0, -ENOTCONN when the domain is not connected, -ETIMEDOUT when
 * its ring stayed full, -EAGAIN when it was full or another sender was at
 * it and @flags said not to wait, or -EINVAL for a bad length.
 */
int hdxen_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
	       size_t len, unsigned int flags)
{
	bool nowait = flags & HDMABUF_SEND_NOWAIT;
	struct hdxen_chan *ch;
	int ret = 0, notify;

	if (len != HDMABUF_MSG_SIZE)
		return -EINVAL;
	/* Test only: the flood waits for room, so it goes from the work. */
	if (nowait && hdmabuf_wire_is_export(msg) &&
	    hdxen_fault_active(HDXEN_FAULT_ANNOUNCE_FLOOD))
		return -EAGAIN;
	ch = hdxen_chan_get(vmid);
	if (!ch)
		return -ENOTCONN;
	if (nowait) {
		if (!mutex_trylock(&ch->tx_mutex)) {
			ret = -EAGAIN;
			goto out_put;
		}
	} else {
		mutex_lock(&ch->tx_mutex);
		wait_event_timeout(ch->tx_wait, hdxen_tx_ready(ch),
				   msecs_to_jiffies(hdxen_timeout_ms));
	}
	spin_lock(&ch->lock);
	if (!ch->connected) {
		ret = -ENOTCONN;
	} else if (RING_FULL(&ch->tx)) {
		ret = nowait ? -EAGAIN : -ETIMEDOUT;
	} else {
		memcpy(RING_GET_REQUEST(&ch->tx, ch->tx.req_prod_pvt)->msg,
		       msg, len);
		ch->tx.req_prod_pvt++;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ch->tx, notify);
		if (notify)
			hdxen_notify(ch);
		hdxen_tx_lie(ch);
	}
	spin_unlock(&ch->lock);
	mutex_unlock(&ch->tx_mutex);
out_put:
	hdxen_chan_put(ch);
	if (!ret)
		hdxen_announce_flood(be, vmid, msg);
	return ret;
}

/* Both ends: rings are mapped and the irq bound; go live. */
static int hdxen_go_live(struct hdxen_chan *ch, int irq)
{
	struct hdxen_sring *tx, *rx;
	int ret;

	lockdep_assert_held(&ch->conn_lock);
	tx = hdxen_ring_page(ch, ch->frontend ? 0 : 1);
	rx = hdxen_ring_page(ch, ch->frontend ? 1 : 0);
	mutex_lock(&ch->tx_mutex);
	spin_lock(&ch->lock);
	FRONT_RING_INIT(&ch->tx, tx, XEN_PAGE_SIZE);
	BACK_RING_INIT(&ch->rx, rx, XEN_PAGE_SIZE);
	ch->irq = irq;
	ch->connected = true;
	spin_unlock(&ch->lock);
	mutex_unlock(&ch->tx_mutex);

	ret = hdmabuf_peer_add(&hdxen_backend, ch->domid);
	if (ret) {
		dev_err(&ch->dev->dev, "domain %u: cannot add peer: %d\n",
			ch->domid, ret);
		return ret;
	}
	ch->peer_added = true;
	/* Events may have come before we were ready to look. */
	queue_work(hdxen_wq, &ch->rx_work);
	return 0;
}

/* Tear the channel down to nothing; idempotent. */
static void hdxen_disconnect(struct hdxen_chan *ch)
{
	int irq;

	lockdep_assert_held(&ch->conn_lock);
	spin_lock(&ch->lock);
	ch->connected = false;
	spin_unlock(&ch->lock);
	wake_up_all(&ch->tx_wait);

	/* The core stops sending; its queued sends fail with -ENOTCONN. */
	if (ch->peer_added) {
		hdmabuf_peer_remove(&hdxen_backend, ch->domid);
		ch->peer_added = false;
	}

	mutex_lock(&ch->tx_mutex);	/* no sender is on the ring */
	spin_lock(&ch->lock);
	irq = ch->irq;
	ch->irq = 0;
	spin_unlock(&ch->lock);
	if (irq)
		unbind_from_irqhandler(irq, ch);	/* closes the port */
	else if (ch->frontend && ch->evtchn)
		xenbus_free_evtchn(ch->dev, ch->evtchn);
	ch->evtchn = 0;
	cancel_work_sync(&ch->rx_work);
	atomic_set(&ch->eoi_pending, 0);
	if (ch->ring) {
		if (ch->frontend)
			xenbus_teardown_ring(&ch->ring, HDXEN_RING_PAGES,
					     ch->grefs);
		else
			xenbus_unmap_ring_vfree(ch->dev, ch->ring);
		ch->ring = NULL;
	}
	mutex_unlock(&ch->tx_mutex);
}

/* Frontend: the backend is waiting; offer rings and an event channel. */
static int hdxen_front_offer(struct hdxen_chan *ch)
{
	struct xenbus_device *dev = ch->dev;
	struct xenbus_transaction xbt;
	unsigned int i;
	int ret;

	lockdep_assert_held(&ch->conn_lock);
	ch->session = xenbus_read_unsigned(dev->otherend, "session", 0);
	if (!ch->session)
		return -EPROTO;
	ret = xenbus_setup_ring(dev, GFP_KERNEL, &ch->ring, HDXEN_RING_PAGES,
				ch->grefs);
	if (ret)
		return ret;
	for (i = 0; i < HDXEN_RING_PAGES; i++)
		SHARED_RING_INIT((struct hdxen_sring *)hdxen_ring_page(ch, i));
	ret = xenbus_alloc_evtchn(dev, &ch->evtchn);
	if (ret)
		return ret;
again:
	ret = xenbus_transaction_start(&xbt);
	if (ret)
		return ret;
	ret = xenbus_printf(xbt, dev->nodename, "ring-ref0", "%u", ch->grefs[0]) ?:
	      xenbus_printf(xbt, dev->nodename, "ring-ref1", "%u", ch->grefs[1]) ?:
	      xenbus_printf(xbt, dev->nodename, "event-channel", "%u",
			    ch->evtchn) ?:
	      xenbus_printf(xbt, dev->nodename, "session", "%u", ch->session);
	if (ret) {
		xenbus_transaction_end(xbt, 1);
		return ret;
	}
	ret = xenbus_transaction_end(xbt, 0);
	if (ret == -EAGAIN)
		goto again;
	return ret;
}

/* Frontend: the backend connected to what we offered. */
static int hdxen_front_connect(struct hdxen_chan *ch)
{
	int irq, ret;

	lockdep_assert_held(&ch->conn_lock);
	irq = bind_evtchn_to_irq_lateeoi(ch->evtchn);
	if (irq < 0)
		return irq;
	ret = hdxen_request_irq(ch, irq);
	if (ret) {
		evtchn_put(ch->evtchn);		/* unbinds, closes the port */
		ch->evtchn = 0;
		return ret;
	}
	return hdxen_go_live(ch, irq);
}

/* Backend: map what the frontend offered in our session. */
static int hdxen_back_connect(struct hdxen_chan *ch)
{
	struct xenbus_device *dev = ch->dev;
	unsigned int session, port;
	grant_ref_t grefs[HDXEN_RING_PAGES];
	int irq, ret;

	lockdep_assert_held(&ch->conn_lock);
	session = xenbus_read_unsigned(dev->otherend, "session", 0);
	if (session != ch->session)
		return -EAGAIN;		/* stale offer: wait for a new one */
	grefs[0] = xenbus_read_unsigned(dev->otherend, "ring-ref0", 0);
	grefs[1] = xenbus_read_unsigned(dev->otherend, "ring-ref1", 0);
	port = xenbus_read_unsigned(dev->otherend, "event-channel", 0);
	if (grefs[0] < GNTTAB_NR_RESERVED_ENTRIES ||
	    grefs[1] < GNTTAB_NR_RESERVED_ENTRIES || !port)
		return -EPROTO;
	ret = xenbus_map_ring_valloc(dev, grefs, HDXEN_RING_PAGES, &ch->ring);
	if (ret) {
		ch->ring = NULL;
		return ret;
	}
	irq = bind_interdomain_evtchn_to_irq_lateeoi(dev, port);
	if (irq < 0)
		return irq;
	ret = hdxen_request_irq(ch, irq);
	if (ret) {
		/*
		 * Unbind and close the port.  The event-channel API has no
		 * call for this with no handler; this one, as xen-scsiback
		 * uses it, warns once about the handler it does not find.
		 */
		unbind_from_irqhandler(irq, ch);
		return ret;
	}
	return hdxen_go_live(ch, irq);
}

static void hdxen_fail(struct hdxen_chan *ch, int err, const char *what)
{
	hdxen_disconnect(ch);
	xenbus_dev_fatal(ch->dev, err, "%s", what);
}

static void hdxen_frontend_changed(struct xenbus_device *dev,
				   enum xenbus_state state)
{
	struct hdxen_chan *ch = dev_get_drvdata(&dev->dev);
	int ret;

	mutex_lock(&ch->conn_lock);
	switch (state) {
	case XenbusStateInitialising:
		/* A (re)started frontend: start a new session. */
		if (dev->state == XenbusStateInitWait)
			break;
		hdxen_disconnect(ch);
		ch->session = get_random_u32() | 1;
		ret = xenbus_printf(XBT_NIL, dev->nodename, "session", "%u",
				    ch->session);
		if (ret) {
			hdxen_fail(ch, ret, "writing session");
			break;
		}
		xenbus_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (dev->state != XenbusStateInitWait)
			break;
		ret = hdxen_back_connect(ch);
		if (ret == -EAGAIN)
			break;
		if (ret) {
			hdxen_fail(ch, ret, "connecting to the frontend");
			break;
		}
		xenbus_switch_state(dev, XenbusStateConnected);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
		/*
		 * While we wait in InitWait, a closed frontend is one from
		 * before our session; it comes back when it sees InitWait.
		 */
		if (dev->state == XenbusStateInitWait)
			break;
		hdxen_disconnect(ch);
		xenbus_switch_state(dev, state);
		break;
	default:	/* Unknown (the node went away) and anything else */
		hdxen_disconnect(ch);
		break;
	}
	mutex_unlock(&ch->conn_lock);
}

static void hdxen_backend_changed(struct xenbus_device *dev,
				  enum xenbus_state state)
{
	struct hdxen_chan *ch = dev_get_drvdata(&dev->dev);
	int ret;

	mutex_lock(&ch->conn_lock);
	switch (state) {
	case XenbusStateInitWait:
		/* A new session, or the backend restarted: offer afresh. */
		if (dev->state == XenbusStateInitialised &&
		    xenbus_read_unsigned(dev->otherend, "session", 0) ==
		    ch->session)
			break;
		hdxen_disconnect(ch);
		ret = hdxen_front_offer(ch);
		if (ret) {
			hdxen_fail(ch, ret, "offering rings");
			break;
		}
		xenbus_switch_state(dev, XenbusStateInitialised);
		break;
	case XenbusStateConnected:
		if (dev->state != XenbusStateInitialised)
			break;
		ret = hdxen_front_connect(ch);
		if (ret) {
			hdxen_fail(ch, ret, "connecting to the backend");
			break;
		}
		xenbus_switch_state(dev, XenbusStateConnected);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
		/*
		 * Close only a session we took part in.  A frontend that is
		 * starting (Initialising) waits for the backend's InitWait
		 * instead, whatever state an old backend left behind.
		 */
		hdxen_disconnect(ch);
		if (dev->state == XenbusStateInitialised ||
		    dev->state == XenbusStateConnected)
			xenbus_frontend_closed(dev);
		break;
	default:
		hdxen_disconnect(ch);
		break;
	}
	mutex_unlock(&ch->conn_lock);
}

static void hdxen_fatal_work(struct work_struct *work)
{
	struct hdxen_chan *ch = container_of(work, struct hdxen_chan,
					     fatal_work);

	mutex_lock(&ch->conn_lock);
	hdxen_fail(ch, -EPROTO, "ring protocol violated");
	mutex_unlock(&ch->conn_lock);
}

static int hdxen_probe(struct xenbus_device *dev, bool frontend)
{
	struct hdxen_chan *ch;
	int ret;

	if (dev->otherend_id >= DOMID_FIRST_RESERVED ||
	    dev->otherend_id == hdxen_backend.vmid)
		return -EINVAL;
	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return -ENOMEM;
	ch->dev = dev;
	ch->domid = dev->otherend_id;
	ch->frontend = frontend;
	kref_init(&ch->kref);
	mutex_init(&ch->conn_lock);
	spin_lock_init(&ch->lock);
	mutex_init(&ch->tx_mutex);
	mutex_init(&ch->rx_mutex);
	init_waitqueue_head(&ch->tx_wait);
	INIT_WORK(&ch->rx_work, hdxen_rx_work);
	INIT_WORK(&ch->fatal_work, hdxen_fatal_work);
	ret = xa_insert(&hdxen_chans, ch->domid, ch, GFP_KERNEL);
	if (ret) {
		dev_err(&dev->dev, "domain %u is linked twice\n", ch->domid);
		kfree(ch);
		return ret;
	}
	dev_set_drvdata(&dev->dev, ch);
	if (frontend)
		return xenbus_switch_state(dev, XenbusStateInitialising);

	mutex_lock(&ch->conn_lock);
	ch->session = get_random_u32() | 1;
	ret = xenbus_printf(XBT_NIL, dev->nodename, "session", "%u",
			    ch->session);
	mutex_unlock(&ch->conn_lock);
	if (ret) {
		xa_erase(&hdxen_chans, ch->domid);
		hdxen_chan_put(ch);
		return ret;
	}
	return xenbus_switch_state(dev, XenbusStateInitWait);
}

static int hdxen_front_probe(struct xenbus_device *dev,
			     const struct xenbus_device_id *id)
{
	return hdxen_probe(dev, true);
}

static int hdxen_back_probe(struct xenbus_device *dev,
			    const struct xenbus_device_id *id)
{
	return hdxen_probe(dev, false);
}

static void hdxen_remove(struct xenbus_device *dev)
{
	struct hdxen_chan *ch = dev_get_drvdata(&dev->dev);

	cancel_work_sync(&ch->fatal_work);
	mutex_lock(&ch->conn_lock);
	hdxen_disconnect(ch);
	mutex_unlock(&ch->conn_lock);
	cancel_work_sync(&ch->fatal_work);
	xa_erase(&hdxen_chans, ch->domid);
	dev_set_drvdata(&dev->dev, NULL);
	hdxen_chan_put(ch);
}

static const struct xenbus_device_id hdxen_ids[] = {
	{ "hyper_dmabuf" },
	{ "" }
};

static struct xenbus_driver hdxen_front_driver = {
	.ids = hdxen_ids,
	.probe = hdxen_front_probe,
	.remove = hdxen_remove,
	.otherend_changed = hdxen_backend_changed,
	.not_essential = true,
};

static struct xenbus_driver hdxen_back_driver = {
	.ids = hdxen_ids,
	.probe = hdxen_back_probe,
	.remove = hdxen_remove,
	.otherend_changed = hdxen_frontend_changed,
};

/**
 * hdxen_chan_init() - start finding links
 *
 * Context: module init.  Registers both ends' xenbus drivers.  They are registered without a
 * module owner, so that a bound link does not pin the module: unloading
 * it closes every link (the other end sees Closed and drops its channel)
 * and loading it again reconnects them.  Buffers still shared or mapped
 * pin the module through the core.
 *
 * Return: 0 or a negative errno.
 */
int hdxen_chan_init(void)
{
	int ret;

	hdxen_wq = alloc_workqueue("hyper_dmabuf_xen", WQ_UNBOUND, 0);
	if (!hdxen_wq)
		return -ENOMEM;
	ret = __xenbus_register_backend(&hdxen_back_driver, NULL,
					KBUILD_MODNAME);
	if (ret)
		goto err_wq;
	ret = __xenbus_register_frontend(&hdxen_front_driver, NULL,
					 KBUILD_MODNAME);
	if (ret)
		goto err_back;
	return 0;

err_back:
	xenbus_unregister_driver(&hdxen_back_driver);
err_wq:
	destroy_workqueue(hdxen_wq);
	return ret;
}

/**
 * hdxen_chan_exit() - close every link
 */
void hdxen_chan_exit(void)
{
	xenbus_unregister_driver(&hdxen_front_driver);
	xenbus_unregister_driver(&hdxen_back_driver);
	destroy_workqueue(hdxen_wq);
	WARN_ON(!xa_empty(&hdxen_chans));
}
