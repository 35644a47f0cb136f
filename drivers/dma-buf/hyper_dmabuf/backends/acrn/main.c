// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: shares dma-bufs from user VMs (UOS) to the
 * service VM (SOS) the way ACRN's memory model allows: the SOS reaches all
 * of a UOS's RAM, so a UOS shares a buffer by sending the guest-physical
 * addresses of its pages.
 *
 * A link between a UOS and the SOS is an ivshmem-doorbell PCI device on
 * each side, both backed by the UOS's RAM file (acrn.h).  ivshmem is a
 * generic device: only one whose mailbox the host has signed is a link,
 * and any other is left alone, unwritten.  Each VM reads its doorbell id
 * from its device; the host assigned it, and it says which side of which
 * link this VM is on: the SOS's id on UOS n's link is
 * HDACRN_SOS_ID_BASE + n.  So the SOS knows whose RAM a window is without
 * believing anything the UOS wrote.
 *
 * Handshake, in the mailbox header: the UOS attaches with a fresh non-zero
 * session nonce and rings; the SOS empties both rings, bumps its epoch,
 * answers with the same nonce and rings back.  Either side detaches by
 * zeroing its word and ringing.  The host's presence word (written by the
 * ivshmem server when a UOS's VM starts or ends) lets the SOS notice a UOS
 * that died without detaching.  A UOS that breaks the ring protocol is
 * dropped until it attaches again with a new nonce.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>
#include <xen/xen.h>

#include "../../proto.h"
#include "acrn.h"
#include "virtio_ivshmem.h"

#define PCI_VENDOR_ID_IVSHMEM	0x1af4
#define PCI_DEVICE_ID_IVSHMEM	0x1110
#define IVSHMEM_IVPOSITION	8

static unsigned int hdacrn_timeout_ms = 2000;
module_param_named(timeout_ms, hdacrn_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a sender waits for a ring slot (default 2000)");

/*
 * The links, by peer VM id (on a UOS, its one link to the SOS is at
 * HDACRN_SOS_VMID).  hdacrn_lock protects the xarray, the backend's
 * registration, hdacrn_role and each link's pokable.
 */
static DEFINE_XARRAY(hdacrn_links);
static DEFINE_MUTEX(hdacrn_lock);

enum hdacrn_role { HDACRN_NONE, HDACRN_UOS, HDACRN_SOS };
static enum hdacrn_role hdacrn_role;
static unsigned int hdacrn_nr_links;

#ifdef CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS
static const char * const hdacrn_fault_names[HDACRN_FAULT_NR] = {
	[HDACRN_FAULT_NONE] = "none",
	[HDACRN_FAULT_GPA_OOB] = "gpa-oob",
	[HDACRN_FAULT_GPA_UNALIGNED] = "gpa-unaligned",
	[HDACRN_FAULT_TABLE_OOB] = "table-oob",
	[HDACRN_FAULT_RING_LIE] = "ring-lie",
	[HDACRN_FAULT_FLOOD] = "flood",
	[HDACRN_FAULT_DEAF] = "deaf",
	[HDACRN_FAULT_ANNOUNCE_FLOOD] = "announce-flood",
};

/* The armed fault; it fires once, on the next share or send. */
static atomic_t hdacrn_fault_armed = ATOMIC_INIT(HDACRN_FAULT_NONE);

/**
 * hdacrn_fault() - whether fault @f is armed; disarms it
 * @f: the fault
 *
 * Return: true once per arming of @f.
 */
bool hdacrn_fault(enum hdacrn_fault f)
{
	return atomic_cmpxchg(&hdacrn_fault_armed, f, HDACRN_FAULT_NONE) == f;
}

/**
 * hdacrn_fault_active() - whether fault @f is armed, leaving it armed
 * @f: a lasting fault (deaf)
 *
 * Return: true while @f is armed.
 */
bool hdacrn_fault_active(enum hdacrn_fault f)
{
	return atomic_read(&hdacrn_fault_armed) == f;
}

/*
 * Have every link's work item look at its ring again: a VM that was deaf
 * hears what came meanwhile, though the peer, its ring full or its
 * messages all sent, rings no more.
 */
static void hdacrn_poke_all(void)
{
	struct hdacrn_link *link;
	unsigned long vmid;

	mutex_lock(&hdacrn_lock);
	xa_for_each(&hdacrn_links, vmid, link)
		if (link->pokable)
			hdacrn_chan_poke(link->chan);
	mutex_unlock(&hdacrn_lock);
}

static int hdacrn_fault_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(hdacrn_fault_names, val);

	if (i < 0)
		return -EINVAL;
	atomic_set(&hdacrn_fault_armed, i);
	pr_warn("fault armed: %s\n", hdacrn_fault_names[i]);
	/* A deaf VM hears again: what waits in its rings first. */
	hdacrn_poke_all();
	return 0;
}

static int hdacrn_fault_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  hdacrn_fault_names[atomic_read(&hdacrn_fault_armed)]);
}

static const struct kernel_param_ops hdacrn_fault_ops = {
	.set = hdacrn_fault_set,
	.get = hdacrn_fault_get,
};
module_param_cb(fault, &hdacrn_fault_ops, NULL, 0600);
MODULE_PARM_DESC(fault, "Test only: make this UOS lie once (gpa-oob, gpa-unaligned, table-oob, ring-lie, flood, announce-flood), or stop reading messages until none (deaf)");
#endif

/**
 * hdacrn_complain() - log a peer's misbehaviour, once per kind and link
 * @link: the link
 * @kind: what it did
 * @fmt: printf format of the detail
 */
void hdacrn_complain(struct hdacrn_link *link, enum hdacrn_lie kind,
		     const char *fmt, ...)
{
	static const char * const what[] = {
		[HDACRN_LIE_TABLE] = "rejected address table",
		[HDACRN_LIE_RING] = "protocol error, link dropped",
	};
	struct va_format vaf;
	va_list args;

	if (test_and_set_bit(kind, &link->complained))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (link->dev)
		dev_warn(link->dev, "vm %u: %s: %pV (logged once)\n",
			 link->vmid, what[kind], &vaf);
	else	/* a KUnit test's link */
		pr_warn("test link to vm %u: %s: %pV (logged once)\n",
			link->vmid, what[kind], &vaf);
	va_end(args);
}

static void hdacrn_link_release(struct kref *kref)
{
	kfree(container_of(kref, struct hdacrn_link, kref));
}

/**
 * hdacrn_link_get() - the link to a peer VM
 * @vmid: the peer
 *
 * Return: the link with a reference held, or NULL.
 */
struct hdacrn_link *hdacrn_link_get(u32 vmid)
{
	struct hdacrn_link *link;

	mutex_lock(&hdacrn_lock);
	link = xa_load(&hdacrn_links, vmid);
	if (link)
		kref_get(&link->kref);
	mutex_unlock(&hdacrn_lock);
	return link;
}

/**
 * hdacrn_link_put() - drop a reference taken by hdacrn_link_get()
 * @link: the link
 */
void hdacrn_link_put(struct hdacrn_link *link)
{
	kref_put(&link->kref, hdacrn_link_release);
}

/*
 * Take the link down, as far as the core knows.  Under link->lock.  What
 * the UOS unshares from here on waits until the SOS has let go of its
 * mappings of the session; the SOS counts those as old once the core has
 * withdrawn the session's imports (reclaim.c).
 */
static void hdacrn_link_down(struct hdacrn_link *link)
{
	if (!link->up)
		return;
	hdacrn_chan_stop(link->chan);
	link->up = false;
	if (!link->sos)
		hdacrn_reclaim_close();
	hdmabuf_peer_remove(&hdacrn_backend, link->vmid);
	if (link->sos)
		hdacrn_maps_close(link);
}

/*
 * Bring the link up for the core, for the session of epoch link->epoch.
 * Under link->lock, transport started.
 */
static int hdacrn_link_up(struct hdacrn_link *link)
{
	int ret;

	if (link->sos)
		hdacrn_maps_open(link);
	else
		hdacrn_reclaim_open(link->epoch);
	ret = hdmabuf_peer_add(&hdacrn_backend, link->vmid);
	if (ret) {
		hdacrn_chan_stop(link->chan);
		if (link->sos)
			hdacrn_maps_close(link);
		else
			hdacrn_reclaim_close();
		dev_err(link->dev, "vm %u: cannot add it: %d\n",
			link->vmid, ret);
		return ret;
	}
	link->up = true;
	return 0;
}

/*
 * The SOS's look at a UOS's link: attach a new session, or notice a UOS
 * that detached or whose VM ended.
 */
static void hdacrn_sos_event(struct hdacrn_link *link)
{
	u32 host = le32_to_cpu(READ_ONCE(link->mbox->host_state));
	u32 uos = hdacrn_hs_read(link, HDACRN_HS_UOS_SESSION);
	/* 0: the host does not report; even: the UOS's VM has ended. */
	bool dead = host && !(host & 1);

	if (link->up && (dead || uos != link->session)) {
		hdacrn_link_down(link);
		hdacrn_hs_write(link, HDACRN_HS_SOS_SESSION, 0);
		/* A dead UOS's nonce stays behind: never answer it again. */
		link->broken = dead;
	}
	if (link->up || dead || !uos)
		return;
	if (link->broken && uos == link->session)
		return;	/* that session is over: wait for a new one */

	link->session = uos;
	link->broken = false;
	/* Each attempt a new epoch, from our own count: never one used before. */
	link->epoch++;
	hdacrn_chan_start(link->chan, true);
	if (hdacrn_link_up(link))
		return;
	hdacrn_hs_write(link, HDACRN_HS_SOS_EPOCH, link->epoch);
	/* Empty rings and the new epoch before the answer. */
	smp_wmb();
	hdacrn_hs_write(link, HDACRN_HS_SOS_SESSION, uos);
	hdacrn_chan_kick(link->chan);
}

/* The UOS's look at its link: the SOS answered, went away, or came back. */
static void hdacrn_uos_event(struct hdacrn_link *link)
{
	u32 sos = hdacrn_hs_read(link, HDACRN_HS_SOS_SESSION);
	u32 epoch = hdacrn_hs_read(link, HDACRN_HS_SOS_EPOCH);

	if (link->up && (sos != link->session || epoch != link->epoch))
		hdacrn_link_down(link);
	if (link->up || sos != link->session)
		return;
	/* The rings the SOS emptied, only after its answer. */
	smp_rmb();
	link->epoch = epoch;
	hdacrn_chan_start(link->chan, false);
	hdacrn_link_up(link);
}

static void hdacrn_link_event(void *owner)
{
	struct hdacrn_link *link = owner;

	mutex_lock(&link->lock);
	if (link->sos)
		hdacrn_sos_event(link);
	else
		hdacrn_uos_event(link);
	mutex_unlock(&link->lock);
	/* The SOS may have let go of mappings of sessions that are over. */
	if (!link->sos)
		hdacrn_reclaim_poll(link);
}

static void hdacrn_link_recv(void *owner, const void *msg, size_t len)
{
	struct hdacrn_link *link = owner;

	/*
	 * Before the answer, or after a drop, the ring is not ours to read.
	 * @up needs no lock here: sessions start and end only in the
	 * transport's pass that calls this (hdacrn_link_event() and
	 * hdacrn_link_broken(), from its interrupt thread or its work item,
	 * which take turns), which restarts the transport's counts on rings
	 * emptied for the new session, so a message read here is of the
	 * session @up is for; and hdacrn_remove() quiesces the transport
	 * before it takes the link down.
	 */
	if (READ_ONCE(link->up))
		hdmabuf_recv(&hdacrn_backend, link->vmid, msg, len);
}

static void hdacrn_link_broken(void *owner, const char *why)
{
	struct hdacrn_link *link = owner;

	hdacrn_complain(link, HDACRN_LIE_RING, "%s", why);
	mutex_lock(&link->lock);
	link->drops++;
	link->why = why;
	hdacrn_link_down(link);
	if (link->sos) {
		link->broken = true;
		hdacrn_hs_write(link, HDACRN_HS_SOS_SESSION, 0);
	} else {
		/* Start over, on rings the SOS empties for a new session. */
		link->session = get_random_u32() | 1;
		hdacrn_hs_write(link, HDACRN_HS_UOS_SESSION, link->session);
	}
	hdacrn_chan_kick(link->chan);
	mutex_unlock(&link->lock);
}

const struct hdacrn_chan_ops hdacrn_link_chan_ops = {
	.recv = hdacrn_link_recv,
	.event = hdacrn_link_event,
	.broken = hdacrn_link_broken,
};

static int hdacrn_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		       size_t len, unsigned int flags);

/*
 * Test of the peer's limits: follow an EXPORT with a flood of
 * announcements of buffers that do not exist, each sent as any message.
 */
static void hdacrn_announce_flood(struct hdmabuf_backend *be, u32 vmid,
				  const void *msg)
{
	u8 buf[HDMABUF_MSG_SIZE];
	unsigned int n;

	if (!hdmabuf_wire_is_export(msg) ||
	    !hdacrn_fault(HDACRN_FAULT_ANNOUNCE_FLOOD))
		return;
	for (n = 0; n < HDACRN_FLOOD_ANNOUNCEMENTS; n++) {
		memcpy(buf, msg, sizeof(buf));
		hdmabuf_wire_forge_export(buf);
		if (hdacrn_send(be, vmid, buf, sizeof(buf), 0))
			break;
	}
	pr_warn("fault: %u forged announcements sent to vm %u\n", n, vmid);
}

/**
 * hdacrn_send() - send one message to a linked VM
 * @be: our backend
 * @vmid: the VM
 * @msg: the message
 * @len: its length
 * @flags: %HDMABUF_SEND_NOWAIT or 0
 *
 * Return: 0, -ENOTCONN when the VM is not linked, -ETIMEDOUT when its ring
 * stayed full for timeout_ms, -EAGAIN when it was full or busy and @flags
 * said not to wait, -EPROTO when it broke the ring protocol.
 */
static int hdacrn_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		       size_t len, unsigned int flags)
{
	bool nowait = flags & HDMABUF_SEND_NOWAIT;
	struct hdacrn_link *link;
	int ret;

	/* Test only: the flood waits for room, so it goes from the work. */
	if (nowait && hdmabuf_wire_is_export(msg) &&
	    hdacrn_fault_active(HDACRN_FAULT_ANNOUNCE_FLOOD))
		return -EAGAIN;
	link = hdacrn_link_get(vmid);
	if (!link)
		return -ENOTCONN;
	ret = hdacrn_chan_send(link->chan, msg, len,
			       msecs_to_jiffies(hdacrn_timeout_ms), nowait);
	hdacrn_link_put(link);
	if (!ret)
		hdacrn_announce_flood(be, vmid, msg);
	return ret;
}

static const struct hdmabuf_backend_ops hdacrn_ops = {
	.share = hdacrn_share,
	.unshare = hdacrn_unshare,
	.map = hdacrn_map,
	.unmap = hdacrn_unmap,
	.send = hdacrn_send,
};

struct hdmabuf_backend hdacrn_backend = {
	.name = "acrn",
	.owner = THIS_MODULE,
	.ops = &hdacrn_ops,
};

/**
 * hdacrn_link_alloc() - a new link, not yet anyone's
 * @dev: the device to log against
 * @vmid: the peer's VM id
 * @sos: this VM is the service VM on the link
 *
 * Return: the link, with one reference, or NULL.
 */
struct hdacrn_link *hdacrn_link_alloc(struct device *dev, u32 vmid, bool sos)
{
	struct hdacrn_link *link = kzalloc(sizeof(*link), GFP_KERNEL);

	if (!link)
		return NULL;
	kref_init(&link->kref);
	mutex_init(&link->lock);
	spin_lock_init(&link->maps_lock);
	link->dev = dev;
	link->vmid = vmid;
	link->sos = sos;
	return link;
}

/**
 * hdacrn_link_add() - make a link findable, and this VM's role known
 * @link: the link, its peer's id set
 * @self_vmid: this VM's id
 *
 * The first link decides this VM's role and registers the backend.  A UOS
 * has one link; a VM is never both.
 *
 * Return: 0, -EBUSY when the link does not fit the role, or an error of
 * the xarray or of the core.
 */
int hdacrn_link_add(struct hdacrn_link *link, u32 self_vmid)
{
	enum hdacrn_role role = link->sos ? HDACRN_SOS : HDACRN_UOS;
	int ret;

	mutex_lock(&hdacrn_lock);
	if (hdacrn_nr_links && (hdacrn_role != role || role == HDACRN_UOS)) {
		ret = -EBUSY;
		goto out;
	}
	ret = xa_insert(&hdacrn_links, link->vmid, link, GFP_KERNEL);
	if (ret)
		goto out;
	if (!hdacrn_nr_links) {
		hdacrn_role = role;
		hdacrn_backend.vmid = self_vmid;
		/* A UOS shares with the SOS; the SOS imports only. */
		hdacrn_backend.peer_flags = role == HDACRN_SOS ?
					    HYPER_DMABUF_PEER_IMPORT :
					    HYPER_DMABUF_PEER_EXPORT;
		ret = hdmabuf_backend_register(&hdacrn_backend);
		if (ret) {
			xa_erase(&hdacrn_links, link->vmid);
			goto out;
		}
	}
	hdacrn_nr_links++;
out:
	mutex_unlock(&hdacrn_lock);
	return ret;
}

/**
 * hdacrn_link_del() - undo hdacrn_link_add()
 * @link: the link
 *
 * The last link unregisters the backend.  No core lock may be held.
 */
void hdacrn_link_del(struct hdacrn_link *link)
{
	bool last;

	mutex_lock(&hdacrn_lock);
	xa_erase(&hdacrn_links, link->vmid);
	last = !--hdacrn_nr_links;
	mutex_unlock(&hdacrn_lock);
	/* No core lock is held here, as unregistering wants. */
	if (last) {
		hdmabuf_backend_unregister(&hdacrn_backend);
		mutex_lock(&hdacrn_lock);
		hdacrn_role = HDACRN_NONE;
		mutex_unlock(&hdacrn_lock);
	}
}

/**
 * hdacrn_link_attach() - let a whole link run: a UOS attaches
 * @link: the link, added, its transport created
 *
 * A UOS writes its session nonce, a fresh one unless the transport set
 * one, and rings; then doorbells and pokes may reach the link.
 */
void hdacrn_link_attach(struct hdacrn_link *link)
{
	if (!link->sos) {
		/* A transport may have needed the nonce earlier (virtio.c). */
		if (!link->session)
			link->session = get_random_u32() | 1;
		hdacrn_hs_write(link, HDACRN_HS_UOS_SESSION, link->session);
		hdacrn_chan_kick(link->chan);
	}
	/* The link is whole: its doorbells and pokes may come now. */
	hdacrn_chan_listen(link->chan);
	mutex_lock(&hdacrn_lock);
	link->pokable = true;
	mutex_unlock(&hdacrn_lock);
	hdacrn_chan_poke(link->chan);
}

/**
 * hdacrn_link_shut() - take a link down for good, before it is freed
 * @link: the link
 *
 * Quiesces its transport, takes it down for the core, detaches, and
 * removes it from the links.  The transport is left to destroy.
 */
void hdacrn_link_shut(struct hdacrn_link *link)
{
	/*
	 * First make the transport stop for good: a doorbell it handled
	 * after the link went down would attach the peer again, and a
	 * message it received could reach the core while the peer is being
	 * removed.  Nobody pokes it either.
	 */
	mutex_lock(&hdacrn_lock);
	link->pokable = false;
	mutex_unlock(&hdacrn_lock);
	hdacrn_chan_quiesce(link->chan);
	mutex_lock(&link->lock);
	hdacrn_link_down(link);
	hdacrn_hs_write(link, link->sos ? HDACRN_HS_SOS_SESSION :
			HDACRN_HS_UOS_SESSION, 0);
	hdacrn_chan_kick(link->chan);
	mutex_unlock(&link->lock);
	/* What the SOS allows already; the rest waits for a new link. */
	if (!link->sos)
		hdacrn_reclaim_poll(link);

	/* Nobody finds the link any more. */
	hdacrn_link_del(link);
}

/* The links file: one line per link, for operators and the rigs. */
static int hdacrn_links_show(struct seq_file *m, void *unused)
{
	struct hdacrn_link *link;
	unsigned long vmid;

	mutex_lock(&hdacrn_lock);
	/*
	 * Without link->lock, which is held while the core is waited for,
	 * and the core's transmit work takes hdacrn_lock: a snapshot.
	 */
	xa_for_each(&hdacrn_links, vmid, link) {
		const char *why = READ_ONCE(link->why);

		seq_printf(m, "vm %u %s %s drops %u why %s\n", link->vmid,
			   link->chan ? link->chan->impl->name : "-",
			   READ_ONCE(link->up) ? "up" : "down",
			   READ_ONCE(link->drops), why ?: "-");
	}
	mutex_unlock(&hdacrn_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hdacrn_links);

/* hyper_dmabuf_acrn/ in debugfs: the links file, and the bench's floors. */
static struct dentry *hdacrn_debugfs;

static void hdacrn_debugfs_init(void)
{
	hdacrn_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("links", 0444, hdacrn_debugfs, NULL,
			    &hdacrn_links_fops);
	hdacrn_bench_init(hdacrn_debugfs);
}

static void hdacrn_debugfs_exit(void)
{
	debugfs_remove_recursive(hdacrn_debugfs);
}

/*
 * Which transport the host signed the memory behind @pdev for: the
 * mailbox's magic, virtio's, or none (0).  Only reads: an ivshmem device
 * without a signature is another user's shared memory.
 */
static u32 hdacrn_signed(struct pci_dev *pdev, phys_addr_t mbox)
{
	const struct hdacrn_mbox_hdr *hdr;
	u32 magic, version;

	hdr = memremap(mbox, sizeof(*hdr), MEMREMAP_WB);
	if (!hdr)
		return 0;
	magic = le32_to_cpu(READ_ONCE(hdr->magic));
	version = le32_to_cpu(READ_ONCE(hdr->version));
	memunmap((void *)hdr);
	if (magic != HDACRN_MBOX_MAGIC && magic != HDVIO_MAGIC)
		return 0;
	if (version != HDACRN_MBOX_VERSION) {
		dev_info(&pdev->dev, "mailbox layout %u, not %u: not bound\n",
			 version, HDACRN_MBOX_VERSION);
		return 0;
	}
	return magic;
}

static int hdacrn_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar_start, bar_len;
	struct hdacrn_link *link;
	void __iomem *regs;
	u32 self, self_vmid, vmid, peer_id, magic;
	bool sos;
	void *mbox;
	int ret;

	if (xen_pv_domain())
		return -ENODEV;	/* page_to_phys() is not a machine address */
	/*
	 * Any ivshmem device matches our ids: before anything is written,
	 * make sure that this one's memory is a link's (the host signed its
	 * mailbox).  Enabling only lets BAR 2 be read.
	 */
	bar_start = pci_resource_start(pdev, 2);
	bar_len = pci_resource_len(pdev, 2);
	if (bar_len <= HDACRN_MBOX_SIZE || !IS_ALIGNED(bar_len, SZ_2M))
		return -ENODEV;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	magic = hdacrn_signed(pdev, bar_start + bar_len - HDACRN_MBOX_SIZE);
	if (!magic) {
		dev_dbg(&pdev->dev, "no hyper_dmabuf mailbox: not ours\n");
		return -ENODEV;
	}
	/* The doorbell's MSI-X message is a write by the device. */
	pci_set_master(pdev);
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];

	self = readl(regs + IVSHMEM_IVPOSITION);
	if (self > HDACRN_SOS_ID_BASE && self <= HDACRN_SOS_ID_BASE + HDACRN_VMID_MAX) {
		sos = true;
		vmid = self - HDACRN_SOS_ID_BASE;
		self_vmid = HDACRN_SOS_VMID;
		peer_id = vmid;
	} else if (self && self <= HDACRN_VMID_MAX) {
		sos = false;
		vmid = HDACRN_SOS_VMID;
		self_vmid = self;
		peer_id = HDACRN_SOS_ID_BASE + self;
	} else {
		dev_err(&pdev->dev, "doorbell id %u names no side of a link\n",
			self);
		return -ENODEV;
	}
	/*
	 * A UOS's end of a virtio link is a virtio transport's
	 * (virtio_ivshmem.c), which this module's virtio driver then binds.
	 */
	if (!sos && magic == HDVIO_MAGIC)
		return -ENODEV;

	link = hdacrn_link_alloc(&pdev->dev, vmid, sos);
	if (!link)
		return -ENOMEM;
	link->pdev = pdev;
	link->regs = regs;
	mbox = memremap(bar_start + bar_len - HDACRN_MBOX_SIZE,
			HDACRN_MBOX_SIZE, MEMREMAP_WB);
	if (!mbox) {
		ret = -ENOMEM;
		goto err_free;
	}
	link->mbox = mbox;
	link->peer_id = peer_id;
	if (sos) {
		ret = hdacrn_window_init(&link->window, pdev, bar_start,
					 bar_len - HDACRN_MBOX_SIZE);
		if (ret) {
			dev_err(&pdev->dev, "no struct pages for the window: %d\n",
				ret);
			goto err_unmap;
		}
	}
	if (magic == HDVIO_MAGIC)
		link->chan = hdacrn_vdev_create(link, mbox,
						&hdacrn_link_chan_ops);
	else
		link->chan = hdacrn_mbox_create(pdev, regs, mbox, peer_id, sos,
						&hdacrn_link_chan_ops, link);
	if (IS_ERR(link->chan)) {
		ret = PTR_ERR(link->chan);
		link->chan = NULL;
		goto err_window;
	}
	if (sos)
		hdacrn_maps_init(link);
	ret = hdacrn_link_add(link, self_vmid);
	if (ret) {
		dev_err(&pdev->dev, "a %s link to vm %u cannot join: %d\n",
			sos ? "service VM" : "user VM", vmid, ret);
		goto err_chan;
	}
	pci_set_drvdata(pdev, link);
	link->bench = hdacrn_bench_create(pdev, regs, peer_id, vmid,
					  sos ? &link->window : NULL);
	if (sos)
		dev_info(&pdev->dev, "service VM side of vm %u (%s): %llu MiB window\n",
			 vmid, link->chan->impl->name, link->window.size >> 20);
	else
		dev_info(&pdev->dev, "user VM %u: attaching to the service VM\n",
			 self_vmid);
	hdacrn_link_attach(link);
	return 0;

err_chan:
	hdacrn_chan_quiesce(link->chan);
	hdacrn_chan_destroy(link->chan);
err_window:
	if (sos)
		hdacrn_window_fini(&link->window);
err_unmap:
	memunmap(mbox);
err_free:
	mutex_destroy(&link->lock);
	kfree(link);
	return ret;
}

static void hdacrn_remove(struct pci_dev *pdev)
{
	struct hdacrn_link *link = pci_get_drvdata(pdev);

	hdacrn_bench_destroy(link->bench);
	hdacrn_link_shut(link);
	/*
	 * Waits for the mappings of the window's pages to go.  The last one
	 * tells the UOS through the transport's handshake words, so the
	 * transport goes only then; a virtio device's UOS sees it leave
	 * once it has heard that.
	 */
	if (link->sos)
		hdacrn_window_fini(&link->window);
	hdacrn_chan_destroy(link->chan);
	memunmap(link->mbox);
	mutex_destroy(&link->lock);
	hdacrn_link_put(link);
}

static const struct pci_device_id hdacrn_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hdacrn_ids);

static struct pci_driver hdacrn_driver = {
	.name = KBUILD_MODNAME,
	.id_table = hdacrn_ids,
	.probe = hdacrn_probe,
	.remove = hdacrn_remove,
};

static int __init hdacrn_init(void)
{
	int ret;

	hdacrn_debugfs_init();
	ret = hdacrn_virtio_init();
	if (ret)
		goto err_debugfs;
	ret = pci_register_driver(&hdacrn_driver);
	if (ret)
		goto err_virtio;
	return 0;

err_virtio:
	hdacrn_virtio_exit();
err_debugfs:
	hdacrn_debugfs_exit();
	return ret;
}
module_init(hdacrn_init);

static void __exit hdacrn_exit(void)
{
	pci_unregister_driver(&hdacrn_driver);
	hdacrn_virtio_exit();
	hdacrn_debugfs_exit();
	hdacrn_reclaim_exit();
}
module_exit(hdacrn_exit);

MODULE_DESCRIPTION("hyper_dmabuf ACRN backend: user VMs share dma-bufs with the service VM");
MODULE_LICENSE("GPL");
