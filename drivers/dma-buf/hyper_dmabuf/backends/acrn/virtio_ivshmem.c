// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: a virtio transport over an ivshmem-doorbell
 * link, the user VM's (the driver's) side.
 *
 * A link the host signed with HDVIO_MAGIC carries virtio: the service VM
 * serves a device on it (vdev.c), and this module presents that device to
 * the user VM as a struct virtio_device, which any virtio driver may bind.
 * The transport follows virtio-mmio (virtio specification 1.2, 4.2 "Virtio
 * Over MMIO"), with registers in the link's mailbox instead of a trapped
 * MMIO region (virtio_ivshmem.h):
 *
 * - Device status (2.1 "Device Status Field", 4.2.3.1 "Device
 *   Initialization"): the driver writes @status, then bumps @request and
 *   rings the device; the device carries the request out and answers by
 *   copying the request number into @ack.  A status write waits for that
 *   answer (bounded by timeout_ms), so it is synchronous as on
 *   virtio-mmio, where the write traps.  @device_status is what the device
 *   holds; reading the status reads it, so a FEATURES_OK the device did
 *   not take fails the probe (3.1 "Device Initialization").
 * - Reset (2.4 "Device Reset"; 4.2.2, writing 0 to Status): status 0,
 *   confirmed by the device and read back as 0.  A device that does not
 *   confirm may still use the rings: their memory is leaked rather than
 *   freed, and the transport takes no new queues.
 * - Features (2.2 "Feature Bits", 3.1.1): 64 bits each way, written
 *   before FEATURES_OK.  VIRTIO_F_VERSION_1 is required;
 *   VIRTIO_F_ACCESS_PLATFORM is never accepted, as the rings carry this
 *   VM's guest-physical addresses (the device reaches them through its
 *   window onto this VM's RAM) and no DMA API stands in between.  Packed
 *   rings are not offered to drivers.
 * - Virtqueues (2.7 "Split Virtqueues", 4.2.3.2 "Virtqueue
 *   Configuration"): allocated here in this VM's RAM; their size and
 *   three addresses go to the queue's registers, then enable, before
 *   DRIVER_OK.
 * - Notifications (2.3 "Notifications", 4.2.3.3 and 4.2.3.4): driver to
 *   device is a doorbell on the service VM's MSI-X vector 0; device to
 *   driver (used buffers, configuration changes, status answers,
 *   arrival and departure) is one on ours.  There is no interrupt status
 *   register: each doorbell makes the handler look at everything.
 * - Configuration (2.5 "Device Configuration Space", 4.2.2): the
 *   mailbox's config area, read and written in place; config_generation
 *   covers a change.
 *
 * Unlike a virtio-mmio device, this one comes and goes: @device_id is
 * non-zero while a device serves the link.  A fresh virtio_device is
 * registered when it arrives and unregistered when it goes; a device that
 * leaves no longer touches the rings, so nothing waits for it then.
 *
 * Prior art: Jan Kiszka's virtio-ivshmem for Jailhouse (2020), whose
 * rings live in the shared memory behind custom DMA ops.  Here they live
 * in the user VM's own RAM, so virtio_ring needs no DMA ops.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/xen.h>

#include "virtio_ivshmem.h"

#define PCI_VENDOR_ID_IVSHMEM	0x1af4
#define PCI_DEVICE_ID_IVSHMEM	0x1110

/* ivshmem BAR 0: our doorbell id, and the doorbell ("peer << 16 | vector"). */
#define IVSHMEM_IVPOSITION	8
#define IVSHMEM_DOORBELL	12

/* A user VM's doorbell id on its link; the service VM's is above. */
#define HDVIO_UOS_ID_MAX	0xff

/*
 * MSI-X vectors asked for (the rig's devices have two): 0 carries the
 * transport; 1, in test builds, the bench's raw doorbell.
 */
#define HDVIO_VECTORS		2

/* Largest queue size the driver chooses. */
#define HDVIO_QUEUE_NUM		64

static unsigned int hdvio_timeout_ms = 2000;
module_param_named(timeout_ms, hdvio_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a status write waits for the device's answer (default 2000)");

/**
 * struct hdvio_link - one ivshmem-doorbell device that carries virtio
 * @pdev: the PCI device
 * @bar0: its registers (BAR 0)
 * @regs: the transport's registers, in the mailbox
 * @config: the device's configuration, in the mailbox
 * @peer: the service VM's doorbell id on this link
 * @irq: our doorbell interrupt (MSI-X vector 0)
 * @presence: registers and unregisters the virtio device as the device
 *	comes and goes
 * @vdev: the registered virtio device, or NULL.  Only @presence and
 *	hdvio_remove(), after stopping @presence, touch it.
 * @status_lock: serialises status writes; protects @request
 * @request: the number of our last status request
 * @ack_wait: status writers waiting for the device's answer
 * @lock: protects @vdev_id, @live, @gen_seen, @stopping and @vqs, all of
 *	which the interrupt handler reads
 * @vdev_id: the device ID @presence last acted on; 0 for none
 * @live: @vdev once registered: the one told of configuration changes
 * @gen_seen: config_generation when last looked at
 * @stopping: hdvio_remove() began; @presence is not queued any more
 * @vqs: the virtqueues of @vdev (&hdvio_vq.node)
 */
struct hdvio_link {
	struct pci_dev *pdev;
	void __iomem *bar0;
	struct hdvio_regs *regs;
	u8 *config;
	u32 peer;
	int irq;
	struct work_struct presence;
	struct hdvio_vdev *vdev;
	struct mutex status_lock;	/* status writes; @request */
	u32 request;
	wait_queue_head_t ack_wait;
	spinlock_t lock;		/* what the IRQ handler reads */
	u32 vdev_id;
	struct virtio_device *live;
	u32 gen_seen;
	bool stopping;
	struct list_head vqs;
};

/**
 * struct hdvio_vdev - the virtio device for one stay of a device on a link
 * @vdev: the virtio device.  A fresh one for each stay: a virtio_device
 *	cannot be registered again once unregistered.
 * @link: its link
 * @status: the status this driver last wrote
 * @gone: the device it was registered for has left (it stays gone): it
 *	touches the rings no more, and nothing waits for it
 * @lost: a reset went unconfirmed while the device was there, so it may
 *	still use the rings: their memory is leaked instead of freed, and no
 *	new queue is set up
 */
struct hdvio_vdev {
	struct virtio_device vdev;
	struct hdvio_link *link;
	u8 status;
	bool gone;
	bool lost;
};

/**
 * struct hdvio_patch - one entry of a ring that a test lie overwrote
 * @at: where, in the ring
 * @len: its size, at most 16 (a descriptor)
 * @was: what it held
 * @lie: what the lie wrote
 */
struct hdvio_patch {
	void *at;
	unsigned int len;
	u8 was[16];
	u8 lie[16];
};

/**
 * struct hdvio_vq - a virtqueue and the ring memory under it
 * @vq: the virtqueue; its priv points here
 * @link: its link
 * @vring: the ring's three parts, laid out on @pages as virtio_ring lays
 *	them out
 * @pages: the ring's memory, in this VM's RAM
 * @size: its size in bytes
 * @node: in &hdvio_link.vqs
 * @patches: test builds: what a lie overwrote in the ring, for
 *	hdvio_fault_undo(); NULL when nothing
 * @nr_patches: how many entries of @patches are used
 */
struct hdvio_vq {
	struct virtqueue *vq;
	struct hdvio_link *link;
	struct vring vring;
	void *pages;
	size_t size;
	struct list_head node;
	struct hdvio_patch *patches;
	unsigned int nr_patches;
};

/**
 * to_hdvio() - the transport's side of a virtio device
 * @vdev: a virtio device registered by this module
 *
 * Return: the &struct hdvio_vdev that holds @vdev.
 */
static struct hdvio_vdev *to_hdvio(struct virtio_device *vdev)
{
	return container_of(vdev, struct hdvio_vdev, vdev);
}

/**
 * hdvio_ring() - ring the device (the service VM's MSI-X vector 0)
 * @link: the link
 */
static void hdvio_ring(struct hdvio_link *link)
{
	writel(link->peer << 16, link->bar0 + IVSHMEM_DOORBELL);
}

#ifdef CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS
/**
 * enum hdvio_fault - lies this driver can tell the device once, in its
 *	next notification of queue 0
 * @HDVIO_FAULT_NONE: none armed
 * @HDVIO_FAULT_DESC_OOB: the avail entry names a descriptor past the ring
 * @HDVIO_FAULT_CHAIN_LOOP: the head descriptor chains to itself
 * @HDVIO_FAULT_CHAIN_LONG: a chain through all descriptors and around
 * @HDVIO_FAULT_INDIRECT_OOB: an indirect table outside any RAM
 * @HDVIO_FAULT_AVAIL_JUMP: the avail index jumps by 1000
 * @HDVIO_FAULT_NOTIFY_FLOOD: 100000 more doorbells, the ring intact
 * @HDVIO_FAULT_NR: the number of the above
 */
enum hdvio_fault {
	HDVIO_FAULT_NONE,
	HDVIO_FAULT_DESC_OOB,
	HDVIO_FAULT_CHAIN_LOOP,
	HDVIO_FAULT_CHAIN_LONG,
	HDVIO_FAULT_INDIRECT_OOB,
	HDVIO_FAULT_AVAIL_JUMP,
	HDVIO_FAULT_NOTIFY_FLOOD,
	HDVIO_FAULT_NR
};

static const char * const hdvio_fault_names[HDVIO_FAULT_NR] = {
	[HDVIO_FAULT_NONE] = "none",
	[HDVIO_FAULT_DESC_OOB] = "desc-oob",
	[HDVIO_FAULT_CHAIN_LOOP] = "chain-loop",
	[HDVIO_FAULT_CHAIN_LONG] = "chain-long",
	[HDVIO_FAULT_INDIRECT_OOB] = "indirect-oob",
	[HDVIO_FAULT_AVAIL_JUMP] = "avail-jump",
	[HDVIO_FAULT_NOTIFY_FLOOD] = "notify-flood",
};

/* The armed fault; it fires once, on the next notification of queue 0. */
static atomic_t hdvio_fault_armed = ATOMIC_INIT(HDVIO_FAULT_NONE);

/* Doorbells the notify-flood fault adds. */
#define HDVIO_FLOOD		100000

/**
 * hdvio_fault_save() - record an entry of the ring before a lie
 * @hq: the queue
 * @at: the entry
 * @len: its size, at most 16
 */
static void hdvio_fault_save(struct hdvio_vq *hq, void *at, unsigned int len)
{
	struct hdvio_patch *p = &hq->patches[hq->nr_patches++];

	p->at = at;
	p->len = len;
	memcpy(p->was, at, len);
}

/**
 * hdvio_fault_seal() - record what the lie wrote; forget untouched entries
 * @hq: the queue
 */
static void hdvio_fault_seal(struct hdvio_vq *hq)
{
	unsigned int i, n = 0;

	for (i = 0; i < hq->nr_patches; i++) {
		struct hdvio_patch *p = &hq->patches[i];

		if (!memcmp(p->at, p->was, p->len))
			continue;
		memcpy(p->lie, p->at, p->len);
		hq->patches[n++] = *p;
	}
	hq->nr_patches = n;
}

/**
 * hdvio_fault_lie() - tell the armed lie, if any, in a queue's ring
 * @hq: the queue about to be notified
 *
 * Rewrites the entry the driver published last, in the ring memory this
 * module allocated, just before the doorbell.  virtio_ring reads some of
 * what it wrote back from the ring (a chain's flags when it detaches a
 * buffer), so each entry overwritten is recorded, and put back by
 * hdvio_fault_undo() once the device has confirmed a reset.
 *
 * Return: how many more doorbells to ring after the normal one.
 */
static unsigned int hdvio_fault_lie(struct hdvio_vq *hq)
{
	struct virtio_device *vdev = hq->vq->vdev;
	struct vring *vr = &hq->vring;
	unsigned int num = vr->num, extra = 0, i, j;
	int f = atomic_read(&hdvio_fault_armed);
	struct vring_desc *d;
	u16 idx, slot, head;
	__virtio64 addr;

	if (f == HDVIO_FAULT_NONE ||
	    atomic_cmpxchg(&hdvio_fault_armed, f, HDVIO_FAULT_NONE) != f)
		return 0;

	idx = virtio16_to_cpu(vdev, READ_ONCE(vr->avail->idx));
	slot = (u16)(idx - 1) % num;
	head = virtio16_to_cpu(vdev, READ_ONCE(vr->avail->ring[slot])) % num;
	d = &vr->desc[head];
	/* Everything a lie may overwrite: each descriptor, the entry, idx. */
	kfree(hq->patches);
	hq->nr_patches = 0;
	hq->patches = kcalloc(num + 2, sizeof(*hq->patches), GFP_ATOMIC);
	if (!hq->patches) {
		pr_warn("fault: %s not told: no memory to undo it\n",
			hdvio_fault_names[f]);
		return 0;
	}
	hdvio_fault_save(hq, &vr->avail->idx, sizeof(vr->avail->idx));
	hdvio_fault_save(hq, &vr->avail->ring[slot], sizeof(u16));
	for (i = 0; i < num; i++)
		hdvio_fault_save(hq, &vr->desc[i], sizeof(vr->desc[i]));

	switch (f) {
	case HDVIO_FAULT_DESC_OOB:
		vr->avail->ring[slot] = cpu_to_virtio16(vdev, num + 5);
		break;
	case HDVIO_FAULT_CHAIN_LOOP:
		d->flags |= cpu_to_virtio16(vdev, VRING_DESC_F_NEXT);
		d->next = cpu_to_virtio16(vdev, head);
		break;
	case HDVIO_FAULT_CHAIN_LONG:
		addr = d->addr;
		for (i = 0; i < num; i++) {
			j = (head + i) % num;
			if (j != head) {
				vr->desc[j].addr = addr;
				vr->desc[j].len = 0;
			}
			vr->desc[j].flags = cpu_to_virtio16(vdev,
							    VRING_DESC_F_NEXT);
			vr->desc[j].next = cpu_to_virtio16(vdev, (j + 1) % num);
		}
		break;
	case HDVIO_FAULT_INDIRECT_OOB:
		d->flags = cpu_to_virtio16(vdev, VRING_DESC_F_INDIRECT);
		d->addr = cpu_to_virtio64(vdev, 1ULL << 46);
		d->len = cpu_to_virtio32(vdev, 16);
		break;
	case HDVIO_FAULT_AVAIL_JUMP:
		vr->avail->idx = cpu_to_virtio16(vdev, idx + 1000);
		break;
	case HDVIO_FAULT_NOTIFY_FLOOD:
		extra = HDVIO_FLOOD;
		break;
	}
	hdvio_fault_seal(hq);
	pr_warn("fault: %s\n", hdvio_fault_names[f]);
	return extra;
}

/**
 * hdvio_fault_undo() - put back what a lie overwrote and nobody rewrote
 * @hq: the queue
 *
 * Called once the device confirmed a reset, so it reads the ring no
 * more; an entry virtio_ring rewrote since the lie is left as it is.
 */
static void hdvio_fault_undo(struct hdvio_vq *hq)
{
	struct hdvio_patch *p;
	unsigned int i;

	for (i = 0; i < hq->nr_patches; i++) {
		p = &hq->patches[i];
		if (!memcmp(p->at, p->lie, p->len))
			memcpy(p->at, p->was, p->len);
	}
	kfree(hq->patches);
	hq->patches = NULL;
	hq->nr_patches = 0;
}

/**
 * hdvio_fault_set() - arm a fault: the "fault" parameter's setter
 * @val: its name
 * @kp: the parameter
 *
 * Return: 0, or -EINVAL for a name that is not a fault's.
 */
static int hdvio_fault_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(hdvio_fault_names, val);

	if (i < 0)
		return -EINVAL;
	atomic_set(&hdvio_fault_armed, i);
	pr_warn("fault armed: %s\n", hdvio_fault_names[i]);
	return 0;
}

/**
 * hdvio_fault_get() - the armed fault: the "fault" parameter's getter
 * @buf: where its name goes
 * @kp: the parameter
 *
 * Return: the length written.
 */
static int hdvio_fault_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  hdvio_fault_names[atomic_read(&hdvio_fault_armed)]);
}

static const struct kernel_param_ops hdvio_fault_ops = {
	.set = hdvio_fault_set,
	.get = hdvio_fault_get,
};
module_param_cb(fault, &hdvio_fault_ops, NULL, 0600);
MODULE_PARM_DESC(fault, "Test only: lie once to the device in the next notification of queue 0 (desc-oob, chain-loop, chain-long, indirect-oob, avail-jump, notify-flood)");

/*
 * The raw floor make bench measures this transport against: the bare
 * doorbell on MSI-X vector 1 of the link's device, which the transport
 * leaves alone, between user space here and in the service VM.  It is
 * the file the ACRN backend gives each of its links (its bench.c,
 * hyper_dmabuf_acrn/vmN/doorbell), for the user VM's end of a virtio
 * link, whose device that module does not bind:
 * hyper_dmabuf_virtio_ivshmem/vm0/doorbell, the service VM being VM 0.
 * write() rings the service VM's vector 1; read() of 8 bytes waits until
 * ours rang and returns how many times it rang since the last read, as a
 * u64.  Open files hold the state, not the device: once the device is
 * unbound, reads return and writes fail with ENODEV.
 */
#define HDVIO_BELL_VECTOR	1

/**
 * struct hdvio_bell - the raw doorbell of one link
 * @kref: held by the bound device and by every open file
 * @lock: protects @dying, and BAR 0 against it
 * @dying: the device is being unbound: BAR 0 may be gone
 * @bar0: the device's registers
 * @peer: the service VM's doorbell id
 * @irq: our vector 1
 * @rung: times vector 1 rang since the last read
 * @wait: readers of @rung
 * @dir: our debugfs directory, hyper_dmabuf_virtio_ivshmem/
 */
struct hdvio_bell {
	struct kref kref;
	spinlock_t lock;	/* @dying and BAR 0 */
	bool dying;
	void __iomem *bar0;
	u32 peer;
	int irq;
	atomic_long_t rung;
	wait_queue_head_t wait;
	struct dentry *dir;
};

/**
 * hdvio_bell_free() - free the doorbell's state once nobody holds it
 * @kref: &hdvio_bell.kref
 */
static void hdvio_bell_free(struct kref *kref)
{
	kfree(container_of(kref, struct hdvio_bell, kref));
}

/**
 * hdvio_bell_interrupt() - vector 1 rang: count it, wake the readers
 * @irq: vector 1's interrupt
 * @data: the doorbell
 *
 * Return: IRQ_HANDLED (the vector is ours alone).
 */
static irqreturn_t hdvio_bell_interrupt(int irq, void *data)
{
	struct hdvio_bell *b = data;

	atomic_long_inc(&b->rung);
	wake_up(&b->wait);
	return IRQ_HANDLED;
}

/**
 * hdvio_bell_open() - open the doorbell file: take a reference
 * @inode: its inode, whose i_private is the doorbell
 * @file: the file
 *
 * The file may outlive its dentry, so it takes its own reference while
 * debugfs still vouches for the state.
 *
 * Return: 0, or -ENODEV once the device is being unbound.
 */
static int hdvio_bell_open(struct inode *inode, struct file *file)
{
	struct hdvio_bell *b = inode->i_private;
	int ret;

	ret = debugfs_file_get(file->f_path.dentry);
	if (ret)
		return ret;
	spin_lock_irq(&b->lock);
	ret = b->dying ? -ENODEV : 0;
	if (!ret)
		kref_get(&b->kref);
	spin_unlock_irq(&b->lock);
	debugfs_file_put(file->f_path.dentry);
	if (ret)
		return ret;
	file->private_data = b;
	return nonseekable_open(inode, file);
}

/**
 * hdvio_bell_release() - close the doorbell file: drop its reference
 * @inode: its inode
 * @file: the file
 *
 * Return: 0.
 */
static int hdvio_bell_release(struct inode *inode, struct file *file)
{
	kref_put(&((struct hdvio_bell *)file->private_data)->kref,
		 hdvio_bell_free);
	return 0;
}

/**
 * hdvio_bell_read() - wait for our vector 1
 * @file: the doorbell file
 * @buf: where the count goes, a u64
 * @len: at least 8
 * @ppos: unused
 *
 * Return: 8, with the times vector 1 rang since the last read; -EINVAL
 * for a short buffer; -ENODEV once the device is unbound and nothing
 * rang; -ERESTARTSYS on a signal; -EFAULT.
 */
static ssize_t hdvio_bell_read(struct file *file, char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct hdvio_bell *b = file->private_data;
	long n = 0;
	u64 val;
	int ret;

	if (len < sizeof(val))
		return -EINVAL;
	ret = wait_event_interruptible(b->wait,
				       (n = atomic_long_xchg(&b->rung, 0)) ||
				       READ_ONCE(b->dying));
	if (ret)
		return ret;
	if (!n)
		return -ENODEV;
	val = n;
	if (copy_to_user(buf, &val, sizeof(val))) {
		atomic_long_add(n, &b->rung);
		return -EFAULT;
	}
	return sizeof(val);
}

/**
 * hdvio_bell_write() - ring the service VM's vector 1
 * @file: the doorbell file
 * @buf: ignored
 * @len: returned
 * @ppos: unused
 *
 * Return: @len, or -ENODEV once the device is being unbound.
 */
static ssize_t hdvio_bell_write(struct file *file, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct hdvio_bell *b = file->private_data;
	ssize_t ret = len;

	spin_lock_irq(&b->lock);
	if (b->dying)
		ret = -ENODEV;
	else
		writel(b->peer << 16 | HDVIO_BELL_VECTOR,
		       b->bar0 + IVSHMEM_DOORBELL);
	spin_unlock_irq(&b->lock);
	return ret;
}

static const struct file_operations hdvio_bell_fops = {
	.owner = THIS_MODULE,
	.open = hdvio_bell_open,
	.release = hdvio_bell_release,
	.read = hdvio_bell_read,
	.write = hdvio_bell_write,
	.llseek = no_llseek,
};

/**
 * hdvio_bell_destroy() - the device is being unbound: take the doorbell
 *	away
 * @data: the doorbell
 *
 * A devres action, so it runs after hdvio_remove() and before BAR 0 and
 * the vectors go.  Wakes blocked readers, which return -ENODEV; open
 * files keep the state but no longer reach the device.
 */
static void hdvio_bell_destroy(void *data)
{
	struct hdvio_bell *b = data;

	debugfs_remove(b->dir);
	spin_lock_irq(&b->lock);
	b->dying = true;
	spin_unlock_irq(&b->lock);
	wake_up_all(&b->wait);
	free_irq(b->irq, b);
	kref_put(&b->kref, hdvio_bell_free);
}

/**
 * hdvio_bell_create() - give a bound link its raw doorbell in debugfs
 * @link: the link, its vectors allocated
 *
 * A benchmark aid: without a second vector, or with another link's
 * doorbell there already (a user VM has one link, to VM 0), the link
 * goes without it, and says why.
 */
static void hdvio_bell_create(struct hdvio_link *link)
{
	struct device *dev = &link->pdev->dev;
	struct hdvio_bell *b;
	int irq, ret;

	irq = pci_irq_vector(link->pdev, HDVIO_BELL_VECTOR);
	if (irq < 0) {
		dev_info(dev, "no raw doorbell: one MSI-X vector only\n");
		return;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return;
	kref_init(&b->kref);
	spin_lock_init(&b->lock);
	init_waitqueue_head(&b->wait);
	b->bar0 = link->bar0;
	b->peer = link->peer;
	b->irq = irq;
	ret = request_irq(irq, hdvio_bell_interrupt, 0, KBUILD_MODNAME, b);
	if (ret) {
		dev_warn(dev, "no raw doorbell: %d\n", ret);
		kfree(b);
		return;
	}
	b->dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file_unsafe("doorbell", 0600,
				   debugfs_create_dir("vm0", b->dir), b,
				   &hdvio_bell_fops);
	ret = devm_add_action_or_reset(dev, hdvio_bell_destroy, b);
	if (ret)
		dev_warn(dev, "no raw doorbell: %d\n", ret);
}
#else
/**
 * hdvio_fault_lie() - no lies outside test builds
 * @hq: the queue about to be notified
 *
 * Return: 0, no more doorbells.
 */
static inline unsigned int hdvio_fault_lie(struct hdvio_vq *hq)
{
	return 0;
}

/**
 * hdvio_fault_undo() - nothing to undo outside test builds
 * @hq: the queue
 */
static inline void hdvio_fault_undo(struct hdvio_vq *hq)
{
}

/**
 * hdvio_bell_create() - no raw doorbell outside test builds
 * @link: the link
 */
static inline void hdvio_bell_create(struct hdvio_link *link)
{
}
#endif

/**
 * hdvio_present() - whether the device @hv was registered for still
 *	serves the link
 * @hv: the virtio device
 *
 * The device writes @device_id first when it leaves: once it differs,
 * that device is gone for good (one that comes back is another stay).
 *
 * Return: true while it is there.
 */
static bool hdvio_present(struct hdvio_vdev *hv)
{
	u32 id;

	if (READ_ONCE(hv->gone))
		return false;
	id = le32_to_cpu(READ_ONCE(hv->link->regs->device_id));
	if (id == hv->vdev.id.device)
		return true;
	WRITE_ONCE(hv->gone, true);
	return false;
}

/**
 * hdvio_acked() - whether the device carried out status request @req
 * @link: the link
 * @req: the request's number
 *
 * Return: true once it has.
 */
static bool hdvio_acked(struct hdvio_link *link, u32 req)
{
	return le32_to_cpu(READ_ONCE(link->regs->ack)) == req;
}

/**
 * hdvio_write_status() - ask the device for a status, and wait for it to
 *	carry that out
 * @hv: the virtio device
 * @status: the status
 *
 * Writes @status, then a new request number, and rings the device; then
 * waits until the device's @ack names that request, at most timeout_ms.
 * Whatever the driver wrote before (features, queues) reaches the device
 * before the request.  Nothing waits for a device that left, nor for one
 * that was lost.  Process context.
 *
 * Return: true unless the device is there and did not answer in time.
 */
static bool hdvio_write_status(struct hdvio_vdev *hv, u8 status)
{
	struct hdvio_link *link = hv->link;
	struct hdvio_regs *regs = link->regs;
	bool done = true;
	u32 req;

	mutex_lock(&link->status_lock);
	WRITE_ONCE(hv->status, status);
	WRITE_ONCE(regs->status, cpu_to_le32(status));
	req = ++link->request;
	/* The status, and what the driver wrote before it, then the request. */
	smp_wmb();
	WRITE_ONCE(regs->request, cpu_to_le32(req));
	hdvio_ring(link);
	if (hdvio_present(hv) && !READ_ONCE(hv->lost)) {
		done = wait_event_timeout(link->ack_wait,
					  hdvio_acked(link, req) ||
					  !hdvio_present(hv),
					  msecs_to_jiffies(hdvio_timeout_ms)) > 0;
		/* The device's status as it wrote it before its answer. */
		smp_rmb();
	}
	mutex_unlock(&link->status_lock);
	if (!done)
		dev_warn_ratelimited(&hv->vdev.dev,
				     "device did not take status %#x within %u ms\n",
				     status, hdvio_timeout_ms);
	return done;
}

/**
 * hdvio_config_ok() - whether a configuration access stays in the area
 * @vdev: the virtio device
 * @offset: where, in bytes
 * @len: how many bytes
 *
 * Return: true if it does; false, with a warning, if not (a driver bug).
 */
static bool hdvio_config_ok(struct virtio_device *vdev, unsigned int offset,
			    unsigned int len)
{
	return !WARN_ONCE(offset > HDVIO_CONFIG_SIZE ||
			  len > HDVIO_CONFIG_SIZE - offset,
			  "%s: config access of %u bytes at %u\n",
			  dev_name(&vdev->dev), len, offset);
}

/**
 * hdvio_get() - read the device's configuration
 * @vdev: the virtio device
 * @offset: where, in bytes
 * @buf: where to
 * @len: how many bytes
 *
 * An aligned field of 2, 4 or 8 bytes is read in one access, so that it
 * does not tear (virtio_cread32() and friends do not check the
 * generation).  An access past the configuration area reads zeroes.
 */
static void hdvio_get(struct virtio_device *vdev, unsigned int offset,
		      void *buf, unsigned int len)
{
	const u8 *src = to_hdvio(vdev)->link->config + offset;
	u16 w;
	u32 l;
	u64 q;

	if (!hdvio_config_ok(vdev, offset, len)) {
		memset(buf, 0, len);
		return;
	}
	switch (IS_ALIGNED(offset, len) ? len : 0) {
	case 2:
		w = READ_ONCE(*(const u16 *)src);
		memcpy(buf, &w, sizeof(w));
		break;
	case 4:
		l = READ_ONCE(*(const u32 *)src);
		memcpy(buf, &l, sizeof(l));
		break;
	case 8:
		q = READ_ONCE(*(const u64 *)src);
		memcpy(buf, &q, sizeof(q));
		break;
	default:
		memcpy(buf, src, len);
		break;
	}
}

/**
 * hdvio_set() - write the device's configuration, and tell the device
 * @vdev: the virtio device
 * @offset: where, in bytes
 * @buf: what
 * @len: how many bytes
 *
 * Nothing traps the write on this transport: the device hears of it by
 * the doorbell.  An access past the configuration area is ignored.
 */
static void hdvio_set(struct virtio_device *vdev, unsigned int offset,
		      const void *buf, unsigned int len)
{
	struct hdvio_link *link = to_hdvio(vdev)->link;
	u8 *dst = link->config + offset;
	u16 w;
	u32 l;
	u64 q;

	if (!hdvio_config_ok(vdev, offset, len))
		return;
	switch (IS_ALIGNED(offset, len) ? len : 0) {
	case 2:
		memcpy(&w, buf, sizeof(w));
		WRITE_ONCE(*(u16 *)dst, w);
		break;
	case 4:
		memcpy(&l, buf, sizeof(l));
		WRITE_ONCE(*(u32 *)dst, l);
		break;
	case 8:
		memcpy(&q, buf, sizeof(q));
		WRITE_ONCE(*(u64 *)dst, q);
		break;
	default:
		memcpy(dst, buf, len);
		break;
	}
	/* The new configuration, then the doorbell that announces it. */
	smp_wmb();
	hdvio_ring(link);
}

/**
 * hdvio_generation() - the device's configuration generation
 * @vdev: the virtio device
 *
 * Return: config_generation, read after the configuration reads before
 * the call and before those after it.
 */
static u32 hdvio_generation(struct virtio_device *vdev)
{
	struct hdvio_regs *regs = to_hdvio(vdev)->link->regs;
	u32 gen;

	/* Configuration reads before the call are done before this one. */
	smp_rmb();
	gen = le32_to_cpu(READ_ONCE(regs->config_generation));
	/* And those after the call are done after it. */
	smp_rmb();
	return gen;
}

/**
 * hdvio_get_status() - the device status
 * @vdev: the virtio device
 *
 * Return: the status the device holds; the status the driver last wrote
 * if the device has left or was lost (it did not confirm a reset: the
 * virtio core wants 0 after a reset, and the transport's leaked rings are
 * what it owes for that).
 */
static u8 hdvio_get_status(struct virtio_device *vdev)
{
	struct hdvio_vdev *hv = to_hdvio(vdev);

	if (!hdvio_present(hv) || READ_ONCE(hv->lost))
		return READ_ONCE(hv->status);
	return le32_to_cpu(READ_ONCE(hv->link->regs->device_status));
}

/**
 * hdvio_set_status() - set the device status, synchronously
 * @vdev: the virtio device
 * @status: the new status, never 0 (that is hdvio_reset())
 *
 * If the device does not answer in time, hdvio_get_status() tells the
 * virtio core what it holds instead: a FEATURES_OK it did not take fails
 * the probe.
 */
static void hdvio_set_status(struct virtio_device *vdev, u8 status)
{
	hdvio_write_status(to_hdvio(vdev), status);
}

/**
 * hdvio_reset_done() - the device let go of the rings: undo test lies
 * @hv: the virtio device
 */
static void hdvio_reset_done(struct hdvio_vdev *hv)
{
	struct hdvio_link *link = hv->link;
	struct hdvio_vq *hq;

	spin_lock_irq(&link->lock);
	list_for_each_entry(hq, &link->vqs, node)
		hdvio_fault_undo(hq);
	spin_unlock_irq(&link->lock);
}

/**
 * hdvio_reset() - reset the device, and wait until it has
 * @vdev: the virtio device
 *
 * A device that does not confirm the reset, or still holds a status
 * after it, may go on using the rings: the transport is lost.
 */
static void hdvio_reset(struct virtio_device *vdev)
{
	struct hdvio_vdev *hv = to_hdvio(vdev);
	bool done = hdvio_write_status(hv, 0);

	if (READ_ONCE(hv->lost))
		return;
	if (!hdvio_present(hv) ||
	    (done && !le32_to_cpu(READ_ONCE(hv->link->regs->device_status)))) {
		hdvio_reset_done(hv);
		return;
	}
	WRITE_ONCE(hv->lost, true);
	dev_warn(&vdev->dev, "device did not reset: its rings will be leaked, and no new ones set up\n");
}

/**
 * hdvio_notify() - tell the device about new buffers in a queue
 * @vq: the virtqueue
 *
 * Return: true (a doorbell does not fail).
 */
static bool hdvio_notify(struct virtqueue *vq)
{
	struct hdvio_vq *hq = vq->priv;
	unsigned int extra = vq->index ? 0 : hdvio_fault_lie(hq);

	hdvio_ring(hq->link);
	while (extra--)
		hdvio_ring(hq->link);
	return true;
}

/**
 * hdvio_del_vq() - free a virtqueue the interrupt handler no longer sees
 * @hv: its virtio device
 * @hq: the queue, off &hdvio_link.vqs
 */
static void hdvio_del_vq(struct hdvio_vdev *hv, struct hdvio_vq *hq)
{
	unsigned int index = hq->vq->index;
	struct hdvio_queue *q = &hv->link->regs->queue[index];

	WRITE_ONCE(q->enable, 0);
	WRITE_ONCE(q->num, 0);
	WRITE_ONCE(q->desc, 0);
	WRITE_ONCE(q->driver, 0);
	WRITE_ONCE(q->device, 0);
	vring_del_virtqueue(hq->vq);
	kfree(hq->patches);
	/*
	 * A lost device may still write the ring (used entries) or read it,
	 * whatever the page holds next: as gntdev does with pages whose
	 * unmap failed, leak it rather than give it back to the allocator.
	 */
	if (READ_ONCE(hv->lost))
		dev_warn(&hv->vdev.dev, "queue %u: leaking its ring (%zu bytes), which the device may still use\n",
			 index, hq->size);
	else
		free_pages_exact(hq->pages, hq->size);
	kfree(hq);
}

/**
 * hdvio_del_vqs() - free all virtqueues
 * @vdev: the virtio device
 *
 * Each queue leaves the interrupt handler's list before it is freed; the
 * handler walks the list under &hdvio_link.lock, so it is done with a
 * queue once that queue is off it (as virtio_pci's vp_del_vq()).
 */
static void hdvio_del_vqs(struct virtio_device *vdev)
{
	struct hdvio_vdev *hv = to_hdvio(vdev);
	struct hdvio_link *link = hv->link;
	struct hdvio_vq *hq;

	for (;;) {
		spin_lock_irq(&link->lock);
		hq = list_first_entry_or_null(&link->vqs, struct hdvio_vq,
					      node);
		if (hq)
			list_del(&hq->node);
		spin_unlock_irq(&link->lock);
		if (!hq)
			break;
		hdvio_del_vq(hv, hq);
	}
}

/**
 * hdvio_setup_vq() - set up one virtqueue
 * @hv: the virtio device
 * @index: the queue's index
 * @num: its size, a power of two
 * @callback: the driver's callback for used buffers
 * @name: the queue's name
 * @ctx: whether the driver keeps a context per buffer
 *
 * The ring's memory is allocated here, zeroed, in this VM's RAM, and its
 * guest-physical addresses go to the device: virtqueue_get_desc_addr()
 * and friends BUG() on a ring virtio_ring did not allocate, so the ring
 * is laid out again with vring_init(), as vring_new_virtqueue() does.
 *
 * Return: the queue, or an ERR_PTR().
 */
static struct virtqueue *hdvio_setup_vq(struct hdvio_vdev *hv,
					unsigned int index, unsigned int num,
					vq_callback_t *callback,
					const char *name, bool ctx)
{
	struct hdvio_link *link = hv->link;
	struct hdvio_queue *q = &link->regs->queue[index];
	struct hdvio_vq *hq;
	int ret;

	hq = kzalloc(sizeof(*hq), GFP_KERNEL);
	if (!hq)
		return ERR_PTR(-ENOMEM);
	hq->link = link;
	hq->size = PAGE_ALIGN(vring_size(num, SMP_CACHE_BYTES));
	hq->pages = alloc_pages_exact(hq->size, GFP_KERNEL | __GFP_ZERO);
	if (!hq->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	hq->vq = vring_new_virtqueue(index, num, SMP_CACHE_BYTES, &hv->vdev,
				     true, ctx, hq->pages, hdvio_notify,
				     callback, name);
	if (!hq->vq) {
		ret = -ENOMEM;
		goto err_pages;
	}
	hq->vq->priv = hq;
	hq->vq->num_max = num;
	vring_init(&hq->vring, num, hq->pages, SMP_CACHE_BYTES);

	WRITE_ONCE(q->num, cpu_to_le16(num));
	WRITE_ONCE(q->desc, cpu_to_le64(virt_to_phys(hq->vring.desc)));
	WRITE_ONCE(q->driver, cpu_to_le64(virt_to_phys(hq->vring.avail)));
	WRITE_ONCE(q->device, cpu_to_le64(virt_to_phys(hq->vring.used)));
	/* The queue's size and addresses, then its enable. */
	smp_wmb();
	WRITE_ONCE(q->enable, cpu_to_le16(1));

	spin_lock_irq(&link->lock);
	list_add_tail(&hq->node, &link->vqs);
	spin_unlock_irq(&link->lock);
	return hq->vq;

err_pages:
	free_pages_exact(hq->pages, hq->size);
err_free:
	kfree(hq);
	return ERR_PTR(ret);
}

/**
 * hdvio_find_vqs() - set up the driver's virtqueues
 * @vdev: the virtio device
 * @nvqs: how many
 * @vqs: where the queues go
 * @callbacks: their callbacks for used buffers
 * @names: their names; a NULL one takes no queue index
 * @ctx: whether each keeps a context per buffer, or NULL for none
 * @desc: interrupt affinity hints, unused: one vector serves all queues
 *
 * Each queue gets the largest size up to %HDVIO_QUEUE_NUM the device
 * accepts.
 *
 * Return: 0; -ENOENT for more queues than the device has; -EINVAL if
 * the device's largest size is no power of two; -EIO if the transport
 * is lost; -ENOMEM.
 */
static int hdvio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[], vq_callback_t *callbacks[],
			  const char * const names[], const bool *ctx,
			  struct irq_affinity *desc)
{
	struct hdvio_vdev *hv = to_hdvio(vdev);
	struct hdvio_regs *regs = hv->link->regs;
	unsigned int i, index = 0, nq, num;
	int ret;

	if (READ_ONCE(hv->lost))
		return -EIO;
	nq = min_t(unsigned int, le16_to_cpu(READ_ONCE(regs->num_queues)),
		   HDVIO_MAX_QUEUES);
	if (nvqs > nq)
		return -ENOENT;
	num = min_t(unsigned int, le16_to_cpu(READ_ONCE(regs->queue_num_max)),
		    HDVIO_QUEUE_NUM);
	if (!is_power_of_2(num)) {
		dev_err(&vdev->dev, "queue size %u is no power of two\n", num);
		return -EINVAL;
	}

	for (i = 0; i < nvqs; i++) {
		if (!names[i]) {
			vqs[i] = NULL;
			continue;
		}
		vqs[i] = hdvio_setup_vq(hv, index++, num, callbacks[i],
					names[i], ctx ? ctx[i] : false);
		if (IS_ERR(vqs[i])) {
			ret = PTR_ERR(vqs[i]);
			goto err;
		}
	}
	return 0;

err:
	hdvio_del_vqs(vdev);
	return ret;
}

/**
 * hdvio_synchronize_cbs() - wait for running virtqueue callbacks
 * @vdev: the virtio device
 *
 * They all run in our one interrupt handler.
 */
static void hdvio_synchronize_cbs(struct virtio_device *vdev)
{
	synchronize_irq(to_hdvio(vdev)->link->irq);
}

/**
 * hdvio_get_features() - the features the device offers
 * @vdev: the virtio device
 *
 * Return: its 64 feature bits.
 */
static u64 hdvio_get_features(struct virtio_device *vdev)
{
	return le64_to_cpu(READ_ONCE(to_hdvio(vdev)->link->regs->device_features));
}

/**
 * hdvio_finalize_features() - check and write the features the driver
 *	accepts
 * @vdev: the virtio device, its features negotiated
 *
 * The device reads them when it sees FEATURES_OK, which comes later.
 *
 * Return: 0, or -EINVAL without VIRTIO_F_VERSION_1.
 */
static int hdvio_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	/*
	 * The rings carry this VM's guest-physical addresses, from no DMA
	 * API; and vring_new_virtqueue() lays out split rings only.
	 */
	__virtio_clear_bit(vdev, VIRTIO_F_ACCESS_PLATFORM);
	__virtio_clear_bit(vdev, VIRTIO_F_RING_PACKED);
	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "device does not offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	WRITE_ONCE(to_hdvio(vdev)->link->regs->driver_features,
		   cpu_to_le64(vdev->features));
	return 0;
}

/**
 * hdvio_bus_name() - the name of the device the transport runs on
 * @vdev: the virtio device
 *
 * Return: the ivshmem device's PCI name.
 */
static const char *hdvio_bus_name(struct virtio_device *vdev)
{
	return pci_name(to_hdvio(vdev)->link->pdev);
}

static const struct virtio_config_ops hdvio_config_ops = {
	.get = hdvio_get,
	.set = hdvio_set,
	.generation = hdvio_generation,
	.get_status = hdvio_get_status,
	.set_status = hdvio_set_status,
	.reset = hdvio_reset,
	.find_vqs = hdvio_find_vqs,
	.del_vqs = hdvio_del_vqs,
	.synchronize_cbs = hdvio_synchronize_cbs,
	.get_features = hdvio_get_features,
	.finalize_features = hdvio_finalize_features,
	.bus_name = hdvio_bus_name,
};

/**
 * hdvio_config_check() - tell the driver of a configuration change
 * @link: the link, its lock held
 *
 * Called on each doorbell and once the virtio device is registered.
 */
static void hdvio_config_check(struct hdvio_link *link)
{
	u32 gen;

	lockdep_assert_held(&link->lock);
	if (!link->live)
		return;
	gen = le32_to_cpu(READ_ONCE(link->regs->config_generation));
	if (gen == link->gen_seen)
		return;
	link->gen_seen = gen;
	virtio_config_changed(link->live);
}

/**
 * hdvio_interrupt() - the device rang: look at everything
 * @irq: our interrupt
 * @data: the link
 *
 * Wakes status writers, has @presence look at a device that came or
 * went, passes on a configuration change and gives each virtqueue its
 * chance.  The queues are walked under &hdvio_link.lock, which
 * hdvio_del_vqs() takes to remove one.
 *
 * Return: IRQ_HANDLED (the vector is ours alone).
 */
static irqreturn_t hdvio_interrupt(int irq, void *data)
{
	struct hdvio_link *link = data;
	struct hdvio_vq *hq;
	u32 id;

	wake_up_all(&link->ack_wait);

	spin_lock(&link->lock);
	id = le32_to_cpu(READ_ONCE(link->regs->device_id));
	if (id != link->vdev_id && !link->stopping)
		queue_work(system_wq, &link->presence);
	hdvio_config_check(link);
	list_for_each_entry(hq, &link->vqs, node)
		vring_interrupt(irq, hq->vq);
	spin_unlock(&link->lock);
	return IRQ_HANDLED;
}

/**
 * hdvio_vdev_release() - free a virtio device, once nobody holds it
 * @dev: its struct device
 */
static void hdvio_vdev_release(struct device *dev)
{
	kfree(to_hdvio(dev_to_virtio(dev)));
}

/**
 * hdvio_vdev_add() - register a virtio device for a device that arrived
 * @link: the link, without one
 * @id: the device's virtio device ID
 *
 * A driver that binds it probes now, and may already use the queues.
 */
static void hdvio_vdev_add(struct hdvio_link *link, u32 id)
{
	struct hdvio_vdev *hv;
	int ret;

	hv = kzalloc(sizeof(*hv), GFP_KERNEL);
	if (!hv)
		return;
	hv->link = link;
	hv->vdev.dev.parent = &link->pdev->dev;
	hv->vdev.dev.release = hdvio_vdev_release;
	hv->vdev.id.device = id;
	hv->vdev.id.vendor = le32_to_cpu(READ_ONCE(link->regs->vendor_id));
	hv->vdev.config = &hdvio_config_ops;

	spin_lock_irq(&link->lock);
	link->gen_seen = le32_to_cpu(READ_ONCE(link->regs->config_generation));
	spin_unlock_irq(&link->lock);
	ret = register_virtio_device(&hv->vdev);
	if (ret) {
		dev_err(&link->pdev->dev, "virtio device %u not registered: %d\n",
			id, ret);
		put_device(&hv->vdev.dev);
		return;
	}
	link->vdev = hv;
	spin_lock_irq(&link->lock);
	link->live = &hv->vdev;
	/* A change while it registered: it is its config_lock's only now. */
	hdvio_config_check(link);
	spin_unlock_irq(&link->lock);
	dev_info(&link->pdev->dev, "virtio device %u (vendor %#x) is %s\n",
		 id, hv->vdev.id.vendor, dev_name(&hv->vdev.dev));
}

/**
 * hdvio_vdev_del() - unregister the link's virtio device
 * @link: the link, with one
 *
 * If the device left, its virtqueues are broken first, as virtio_pci
 * does on a surprise removal: a driver's requests fail instead of
 * waiting for a device that will not answer.  Otherwise the driver
 * resets the device as it unbinds.
 */
static void hdvio_vdev_del(struct hdvio_link *link)
{
	struct hdvio_vdev *hv = link->vdev;

	spin_lock_irq(&link->lock);
	link->live = NULL;
	spin_unlock_irq(&link->lock);
	if (!hdvio_present(hv))
		virtio_break_device(&hv->vdev);
	dev_info(&link->pdev->dev, "virtio device %u: %s\n",
		 hv->vdev.id.device,
		 hdvio_present(hv) ? "unregistering" : "the device left");
	unregister_virtio_device(&hv->vdev);
	link->vdev = NULL;
}

/**
 * hdvio_presence_work() - follow the device's arrivals and departures
 * @work: &hdvio_link.presence
 *
 * Compares @device_id with the device the virtio device was registered
 * for; unregisters that one if it differs, and registers a fresh one for
 * a device that is there.
 */
static void hdvio_presence_work(struct work_struct *work)
{
	struct hdvio_link *link = container_of(work, struct hdvio_link,
					       presence);
	u32 id, old;

	id = le32_to_cpu(READ_ONCE(link->regs->device_id));
	/* The device wrote its other registers before its ID. */
	smp_rmb();
	spin_lock_irq(&link->lock);
	old = link->vdev_id;
	link->vdev_id = id;
	spin_unlock_irq(&link->lock);
	if (id == old)
		return;
	if (link->vdev)
		hdvio_vdev_del(link);
	if (id)
		hdvio_vdev_add(link, id);
}

/**
 * hdvio_signed() - whether a link's mailbox carries virtio
 * @pdev: the ivshmem device
 * @mbox: the mailbox's physical address
 *
 * Only reads: an ivshmem device without the host's signature for virtio
 * is another user's shared memory, or the ACRN backend's mailbox link.
 *
 * Return: true if the host signed it with %HDVIO_MAGIC and our layout.
 */
static bool hdvio_signed(struct pci_dev *pdev, phys_addr_t mbox)
{
	const __le32 *hdr;
	u32 magic, version;

	hdr = memremap(mbox, HDVIO_HOST_VERSION + sizeof(*hdr), MEMREMAP_WB);
	if (!hdr)
		return false;
	magic = le32_to_cpu(READ_ONCE(hdr[HDVIO_HOST_MAGIC / sizeof(*hdr)]));
	version = le32_to_cpu(READ_ONCE(hdr[HDVIO_HOST_VERSION / sizeof(*hdr)]));
	memunmap((void *)hdr);
	if (magic != HDVIO_MAGIC)
		return false;
	if (version != HDVIO_VERSION) {
		dev_info(&pdev->dev, "virtio layout %u, not %u: not bound\n",
			 version, HDVIO_VERSION);
		return false;
	}
	return true;
}

/**
 * hdvio_probe() - bind the user VM's end of a virtio link
 * @pdev: an ivshmem-doorbell device
 * @id: its entry in hdvio_ids
 *
 * Return: 0; -ENODEV, having written nothing, for a device that is not
 * the user VM's end of a link the host signed for virtio; or an error.
 */
static int hdvio_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar_start, bar_len;
	struct hdvio_link *link;
	void __iomem *bar0;
	void *mbox;
	u32 self;
	int ret;

	/*
	 * The device must see the rings at virt_to_phys(), and in a Xen
	 * domain virtio_ring would map buffers through the DMA API.
	 */
	if (xen_domain())
		return -ENODEV;
	bar_start = pci_resource_start(pdev, 2);
	bar_len = pci_resource_len(pdev, 2);
	if (bar_len <= HDVIO_MBOX_SIZE || !IS_ALIGNED(bar_len, SZ_2M))
		return -ENODEV;
	/* Enabling only lets BAR 2 be read. */
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (!hdvio_signed(pdev, bar_start + bar_len - HDVIO_MBOX_SIZE)) {
		dev_dbg(&pdev->dev, "no virtio signature: not ours\n");
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	bar0 = pcim_iomap_table(pdev)[0];
	self = readl(bar0 + IVSHMEM_IVPOSITION);
	if (!self || self > HDVIO_UOS_ID_MAX) {
		dev_dbg(&pdev->dev, "doorbell id %#x: not a user VM's end\n",
			self);
		return -ENODEV;
	}

	/* The doorbell's MSI-X message is a write by the device. */
	pci_set_master(pdev);
	link = devm_kzalloc(&pdev->dev, sizeof(*link), GFP_KERNEL);
	if (!link)
		return -ENOMEM;
	mbox = devm_memremap(&pdev->dev, bar_start + bar_len - HDVIO_MBOX_SIZE,
			     HDVIO_MBOX_SIZE, MEMREMAP_WB);
	if (IS_ERR(mbox))
		return PTR_ERR(mbox);
	link->pdev = pdev;
	link->bar0 = bar0;
	link->regs = mbox + HDVIO_REGS_OFF;
	link->config = mbox + HDVIO_CONFIG_OFF;
	link->peer = HDVIO_SOS_PEER(self);
	INIT_WORK(&link->presence, hdvio_presence_work);
	mutex_init(&link->status_lock);
	init_waitqueue_head(&link->ack_wait);
	spin_lock_init(&link->lock);
	INIT_LIST_HEAD(&link->vqs);
	/*
	 * Number our requests on from the device's last answer, which an
	 * earlier driver may have left: a stale answer never matches ours.
	 */
	link->request = le32_to_cpu(READ_ONCE(link->regs->ack));

	/* Managed (pcim): freed after the interrupt, as devres unwinds. */
	ret = pci_alloc_irq_vectors(pdev, 1, HDVIO_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	link->irq = pci_irq_vector(pdev, 0);
	ret = devm_request_irq(&pdev->dev, link->irq, hdvio_interrupt, 0,
			       KBUILD_MODNAME, link);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, link);
	/* Test builds: the raw doorbell on vector 1, undone by devres. */
	hdvio_bell_create(link);
	dev_info(&pdev->dev, "user VM %u: virtio transport to doorbell peer %#x\n",
		 self, link->peer);
	/* Whether a device serves the link already. */
	queue_work(system_wq, &link->presence);
	return 0;
}

/**
 * hdvio_remove() - unbind: unregister the virtio device
 * @pdev: the ivshmem device
 *
 * The interrupt stays until devres frees it after this: the driver's
 * reset waits for the device's answer.
 */
static void hdvio_remove(struct pci_dev *pdev)
{
	struct hdvio_link *link = pci_get_drvdata(pdev);

	spin_lock_irq(&link->lock);
	link->stopping = true;
	spin_unlock_irq(&link->lock);
	cancel_work_sync(&link->presence);
	if (link->vdev)
		hdvio_vdev_del(link);
	mutex_destroy(&link->status_lock);
}

static const struct pci_device_id hdvio_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hdvio_ids);

static struct pci_driver hdvio_driver = {
	.name = KBUILD_MODNAME,
	.id_table = hdvio_ids,
	.probe = hdvio_probe,
	.remove = hdvio_remove,
};
module_pci_driver(hdvio_driver);

MODULE_DESCRIPTION("hyper_dmabuf ACRN backend: virtio over ivshmem-doorbell links, user VM side");
MODULE_LICENSE("GPL");
