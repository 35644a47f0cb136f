/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf ACRN backend: declarations shared by its files.
 *
 * ACRN's memory model: the service VM (SOS, VM id 0) can reach all of a
 * user VM's (UOS's) RAM, and a UOS shares a buffer by sending the
 * guest-physical addresses of its pages.  Sharing is one way, UOS -> SOS;
 * one SOS serves many UOSes.
 *
 * main.c   module, PCI driver, links and their handshake, the ops table
 * chan.c   the mailbox transport: rings in a shared mailbox, doorbells
 * vdev.c   the virtio transport's device, on the SOS
 * virtio.c the virtio transport's driver, on a UOS (a virtio_driver)
 * table.c  the UOS's address tables (share) and the SOS's walk (map)
 * window.c the SOS's window onto a UOS's RAM, with struct pages
 * reclaim.c when a UOS may reuse pages it shared: the SOS's count of its
 *	    mappings, the UOS's quarantine
 * vring.c  the device's side of a split virtqueue in a UOS's RAM, read
 *	    through the window (for vdev.c)
 *
 * virtio_ivshmem.c is a module of its own: the UOS's virtio transport over
 * an ivshmem link, which a virtio-pci device replaces on a real ACRN.
 * bench.c  test builds: the raw floors make bench measures against
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDACRN_H
#define _HDACRN_H

#include <linux/io.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/virtio_hdmabuf.h>

#include "../../backend.h"

struct hdacrn_bench;
struct page;
struct dentry;
struct device;
struct pci_dev;

/*
 * The shared memory of a link, as both VMs see it in BAR 2 of their
 * ivshmem-doorbell device: the UOS's RAM file.  Its first part is the
 * UOS's RAM (guest-physical address G at offset G); its last
 * HDACRN_MBOX_SIZE bytes are the mailbox, which is not UOS RAM and which
 * the UOS reaches only through the BAR.  The window the SOS may map is
 * everything before the mailbox.
 */
#define HDACRN_MBOX_SIZE	SZ_2M

/*
 * Doorbell (ivshmem peer) ids, assigned by the host's ivshmem server: a
 * UOS is its VM id, the SOS on that UOS's link is HDACRN_SOS_ID_BASE plus
 * it.  Each VM reads its own id from the device, which only the host sets:
 * that is how the SOS knows, beyond the UOS's reach, whose RAM a window
 * is.  A real ACRN service VM learns it from the hypervisor instead.
 */
#define HDACRN_SOS_ID_BASE	0x100
#define HDACRN_VMID_MAX		(HDACRN_SOS_ID_BASE - 1)
#define HDACRN_SOS_VMID		0

/* ivshmem BAR 0: the doorbell register ("peer id << 16 | vector"). */
#define IVSHMEM_DOORBELL	12

/* Ring MSI-X vector @vector of doorbell id @peer_id's device. */
static inline void hdacrn_doorbell(void __iomem *regs, u32 peer_id,
				   unsigned int vector)
{
	writel(peer_id << 16 | vector, regs + IVSHMEM_DOORBELL);
}

/*
 * MSI-X vectors a link asks for: 0 carries the transport; 1, in test
 * builds, the bench's raw doorbell (bench.c).
 */
#define HDACRN_VECTORS		(IS_ENABLED(CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS) ? 2 : 1)

/*
 * Mailbox layout: the header page, then one ring each way.  The host
 * signs the header (magic and layout version) when it creates the memory,
 * before either VM starts; a device whose memory does not carry the
 * signature belongs to someone else, and the driver neither binds it nor
 * writes to it.
 */
#define HDACRN_MBOX_MAGIC	0x43414448	/* "HDAC" */
#define HDACRN_MBOX_VERSION	1
#define HDACRN_RING_SLOTS	32
#define HDACRN_RING_OFF_U2S	SZ_4K
#define HDACRN_RING_OFF_S2U	(SZ_4K + SZ_16K)

/**
 * struct hdacrn_mbox_hdr - first page of a link's mailbox (little endian)
 * @magic: HDACRN_MBOX_MAGIC, written by the host; the VMs only read it
 * @version: HDACRN_MBOX_VERSION, the layout, written by the host
 * @host_state: the host's word on the UOS (the ivshmem server's presence
 *	counter, odd while the UOS's VM runs).  When it changes the host
 *	rings the SOS.  A UOS could write it too, but only to hurt itself.
 * @uos_session: non-zero nonce of the UOS driver's current attachment, 0
 *	when it is detached
 * @sos_session: the SOS's answer: equal to @uos_session once the SOS has
 *	reset both rings for that attachment; 0 when the SOS is detached
 * @sos_epoch: bumped by the SOS each time it resets the rings, so that a
 *	UOS notices an SOS that went away and came back between two looks
 * @sos_clear: the SOS's word on its mappings of the UOS's pages: none
 *	made under an epoch before this one is left.  It never goes back,
 *	and the SOS rings the UOS when it moves on.  A page the UOS shared
 *	under epoch E may be reused once @sos_clear is past E (reclaim.c).
 */
struct hdacrn_mbox_hdr {
	__le32 magic;
	__le32 version;
	__le32 host_state;
	__le32 uos_session;
	__le32 sos_session;
	__le32 sos_epoch;
	__le32 sos_clear;
};

/**
 * struct hdacrn_ring - one direction of a link: a single-producer,
 *	single-consumer ring of fixed-size slots (little endian)
 * @prod: free-running count of messages written, owned by the producer
 * @cons: free-running count of messages read, owned by the consumer
 * @want_space: set by a producer waiting for a free slot; the consumer
 *	rings the producer after reading when it finds it set
 * @pad: keeps the slots off the indices' cache line
 * @slots: the messages
 */
struct hdacrn_ring {
	__le32 prod;
	__le32 cons;
	__le32 want_space;
	u8 pad[52];
	u8 slots[HDACRN_RING_SLOTS][HDMABUF_MSG_SIZE];
};

/*
 * Address tables: a tree of pages of little-endian u64 guest-physical
 * addresses, HDACRN_GPAS_PER_PAGE per page.  Leaves hold the data pages'
 * addresses in buffer order; each level above holds its children's.  The
 * number of levels follows from the page count alone (1 up to 2 MiB of
 * data, 2 up to 1 GiB, 3 up to 512 GiB), so the peer does not choose it.
 * The reference sent is the root's address.  Unused entries are zero.
 */
#define HDACRN_GPAS_PER_PAGE	(PAGE_SIZE / sizeof(__le64))
#define HDACRN_MAX_LEVELS	3

/*
 * The reference sent for a buffer is the address of its descriptor page,
 * which names the buffer (its id and page count) and holds the root
 * table's address.  The SOS checks the name before it walks the tables:
 * an address alone never identifies a buffer, since the UOS reuses its
 * pages once a buffer is released.
 */
#define HDACRN_DESC_MAGIC	0x44414448	/* "HDAD" */

/**
 * struct hdacrn_desc - a shared buffer's descriptor page (little endian)
 * @magic: HDACRN_DESC_MAGIC
 * @vmid: the buffer's id: the exporting UOS
 * @seq: the buffer's id: sequence number
 * @key: the buffer's id: key
 * @nr_pages: data pages in the buffer
 * @levels: levels of address table, hdacrn_levels(@nr_pages)
 * @root: guest-physical address of the root table
 */
struct hdacrn_desc {
	__le32 magic;
	__le32 vmid;
	__le32 seq;
	__le32 key[3];
	__le32 nr_pages;
	__le32 levels;
	__le64 root;
};

/*
 * The handshake words of a link (main.c): where they live is the
 * transport's business (the mailbox's header, or the virtio device's
 * configuration), so the link reads and writes them through it.
 */
enum hdacrn_hs_word {
	HDACRN_HS_UOS_SESSION,
	HDACRN_HS_SOS_SESSION,
	HDACRN_HS_SOS_EPOCH,
	HDACRN_HS_SOS_CLEAR,
};

/**
 * struct hdacrn_chan_ops - what a transport tells its link
 * @recv: a message arrived; called in process context, one at a time
 * @event: the transport's state may have changed (a handshake word, the
 *	host's word): the link should look at it.  Process context.
 * @broken: the peer broke the transport's protocol; the transport has
 *	stopped.  Process context.
 */
struct hdacrn_chan_ops {
	void (*recv)(void *owner, const void *msg, size_t len);
	void (*event)(void *owner);
	void (*broken)(void *owner, const char *why);
};

/* Where the virtio device's configuration keeps handshake word @w. */
static inline unsigned int hdacrn_virtio_word(enum hdacrn_hs_word w)
{
	static const unsigned char off[] = {
		[HDACRN_HS_UOS_SESSION] = offsetof(struct virtio_hdmabuf_config,
						   driver_session),
		[HDACRN_HS_SOS_SESSION] = offsetof(struct virtio_hdmabuf_config,
						   device_session),
		[HDACRN_HS_SOS_EPOCH] = offsetof(struct virtio_hdmabuf_config,
						 device_epoch),
		[HDACRN_HS_SOS_CLEAR] = offsetof(struct virtio_hdmabuf_config,
						 device_clear),
	};

	return off[w];
}

struct hdacrn_chan;

/**
 * struct hdacrn_chan_impl - a message transport's implementation
 * @name: "mailbox" or "virtio", for the links file
 * @start: (re)start on empty rings; @clear_shared: the SOS empties the
 *	shared rings too (mailbox), before it answers an attachment
 * @stop: stop sending and receiving; senders give up with -ENOTCONN
 * @send: send one message; see hdacrn_mbox_send() for the contract
 * @kick: tell the peer to look at the handshake words
 * @listen: let the peer's interrupts reach the link, once it is whole
 * @poke: look at the link's state now, as if the peer had rung
 * @quiesce: stop for good and wait for the transport's contexts
 * @destroy: free it, quiesced
 * @hs_read: read a handshake word
 * @hs_write: write a handshake word (atomic context allowed on the SOS)
 *
 * Three implement it: the mailbox rings (chan.c, either side), the
 * virtio device (vdev.c, the SOS) and the virtio driver (virtio.c, a UOS).
 */
struct hdacrn_chan_impl {
	const char *name;
	void (*start)(struct hdacrn_chan *chan, bool clear_shared);
	void (*stop)(struct hdacrn_chan *chan);
	int (*send)(struct hdacrn_chan *chan, const void *msg, size_t len,
		    unsigned long timeout, bool nowait);
	void (*kick)(struct hdacrn_chan *chan);
	void (*listen)(struct hdacrn_chan *chan);
	void (*poke)(struct hdacrn_chan *chan);
	void (*quiesce)(struct hdacrn_chan *chan);
	void (*destroy)(struct hdacrn_chan *chan);
	u32 (*hs_read)(struct hdacrn_chan *chan, enum hdacrn_hs_word w);
	void (*hs_write)(struct hdacrn_chan *chan, enum hdacrn_hs_word w,
			 u32 val);
};

/**
 * struct hdacrn_chan - the message transport of one link
 * @impl: its implementation; embedded first in each implementation's
 *	own structure
 */
struct hdacrn_chan {
	const struct hdacrn_chan_impl *impl;
};

/**
 * struct hdacrn_window - a UOS's RAM as the SOS sees it, with struct pages
 * @size: bytes of guest-physical address space it covers, from 0
 * @phys: where it lies in the SOS's physical address space
 * @pgmap: the ZONE_DEVICE mapping that gives it struct pages
 */
struct hdacrn_window {
	u64 size;
	phys_addr_t phys;
	struct dev_pagemap pgmap;
};

/**
 * struct hdacrn_link - this VM's link to one peer VM over one device
 * @kref: held by the device while it is bound and by every mapping of the
 *	peer's pages
 * @pdev: the ivshmem-doorbell device, or NULL for a virtio driver's link
 * @dev: the device to log against: @pdev's, or the virtio device's
 * @vmid: the peer's VM id
 * @sos: this VM is the service VM on this link
 * @regs: the device's registers (BAR 0), for doorbells outside @chan
 * @peer_id: the peer's doorbell id
 * @chan: the message transport
 * @pokable: @chan exists and is not quiesced: the test faults may poke
 *	it; under hdacrn_lock (main.c)
 * @mbox: the mailbox header
 * @window: the SOS's window onto the UOS's RAM (SOS only)
 * @bench: the raw floors make bench uses (test builds), or NULL
 * @lock: protects @up, @session, @epoch and @broken
 * @up: the peer is registered with the core
 * @session: the attachment the link is up for
 * @epoch: the SOS's ring epoch the link is up for; on the SOS, the last
 *	one it used (its own copy, never read back from the mailbox)
 * @broken: the session in @session is over (the peer broke the protocol,
 *	or its VM ended): stay down until the UOS attaches with a new one
 * @complained: kinds of peer misbehaviour already logged (logged once)
 * @drops: times the peer broke the transport's protocol, for the links
 *	file
 * @why: how it did, the last time (a constant string), or NULL
 * @maps_lock: protects @maps_live, @maps_epoch, @nr_maps_cur,
 *	@nr_maps_old and the SOS's writes of the mailbox's sos_clear
 * @maps_live: a session is up: its imports may be mapped (SOS only)
 * @maps_epoch: the epoch of that session, or of the last one
 * @nr_maps_cur: mappings made in the live session
 * @nr_maps_old: mappings made in sessions that are over
 */
struct hdacrn_link {
	struct kref kref;
	struct pci_dev *pdev;
	struct device *dev;
	u32 vmid;
	bool sos;
	void __iomem *regs;
	u32 peer_id;
	struct hdacrn_chan *chan;
	bool pokable;
	struct hdacrn_mbox_hdr *mbox;
	struct hdacrn_window window;
	struct hdacrn_bench *bench;
	struct mutex lock;	/* @up, @session, @epoch, @broken */
	bool up;
	u32 session;
	u32 epoch;
	bool broken;
	unsigned long complained;
	unsigned int drops;
	const char *why;
	spinlock_t maps_lock;	/* @maps_*, @nr_maps_*, mailbox sos_clear */
	bool maps_live;
	u32 maps_epoch;
	unsigned long nr_maps_cur;
	unsigned long nr_maps_old;
};

/* Kinds of peer misbehaviour, for hdacrn_complain(). */
enum hdacrn_lie {
	HDACRN_LIE_TABLE,
	HDACRN_LIE_RING,
};

extern struct hdmabuf_backend hdacrn_backend;
extern const struct hdacrn_chan_ops hdacrn_link_chan_ops;

void hdacrn_complain(struct hdacrn_link *link, enum hdacrn_lie kind,
		     const char *fmt, ...) __printf(3, 4);
struct hdacrn_link *hdacrn_link_get(u32 vmid);
void hdacrn_link_put(struct hdacrn_link *link);
struct hdacrn_link *hdacrn_link_alloc(struct device *dev, u32 vmid, bool sos);
int hdacrn_link_add(struct hdacrn_link *link, u32 self_vmid);
void hdacrn_link_del(struct hdacrn_link *link);
void hdacrn_link_attach(struct hdacrn_link *link);
void hdacrn_link_shut(struct hdacrn_link *link);

/* The transport's calls, for the link. */
static inline void hdacrn_chan_start(struct hdacrn_chan *chan, bool clear)
{
	chan->impl->start(chan, clear);
}

static inline void hdacrn_chan_stop(struct hdacrn_chan *chan)
{
	chan->impl->stop(chan);
}

static inline int hdacrn_chan_send(struct hdacrn_chan *chan, const void *msg,
				   size_t len, unsigned long timeout,
				   bool nowait)
{
	return chan->impl->send(chan, msg, len, timeout, nowait);
}

static inline void hdacrn_chan_kick(struct hdacrn_chan *chan)
{
	chan->impl->kick(chan);
}

static inline void hdacrn_chan_listen(struct hdacrn_chan *chan)
{
	chan->impl->listen(chan);
}

static inline void hdacrn_chan_poke(struct hdacrn_chan *chan)
{
	chan->impl->poke(chan);
}

static inline void hdacrn_chan_quiesce(struct hdacrn_chan *chan)
{
	chan->impl->quiesce(chan);
}

static inline void hdacrn_chan_destroy(struct hdacrn_chan *chan)
{
	chan->impl->destroy(chan);
}

static inline u32 hdacrn_hs_read(struct hdacrn_link *link,
				 enum hdacrn_hs_word w)
{
	return link->chan->impl->hs_read(link->chan, w);
}

static inline void hdacrn_hs_write(struct hdacrn_link *link,
				   enum hdacrn_hs_word w, u32 val)
{
	link->chan->impl->hs_write(link->chan, w, val);
}

/* chan.c: the mailbox transport */
struct hdacrn_chan *hdacrn_mbox_create(struct pci_dev *pdev,
				       void __iomem *regs, void *mbox,
				       u32 peer_id, bool sos,
				       const struct hdacrn_chan_ops *ops,
				       void *owner);

/* vdev.c: the virtio device, on the SOS */
struct hdacrn_chan *hdacrn_vdev_create(struct hdacrn_link *link,
				       void *mbox,
				       const struct hdacrn_chan_ops *ops);

/* virtio.c: the virtio driver, on a UOS */
#if IS_ENABLED(CONFIG_VIRTIO)
int hdacrn_virtio_init(void);
void hdacrn_virtio_exit(void);
#else
static inline int hdacrn_virtio_init(void) { return 0; }
static inline void hdacrn_virtio_exit(void) { }
#endif

/**
 * struct hdacrn_shbuf - a UOS's shared buffer: its address tables
 * @desc: the descriptor page, NULL for bare tables (KUnit)
 * @owner: the core's, for hdmabuf_unshare_done()
 * @epoch: the SOS's epoch when it was shared: the session whose mappings
 *	may reach its pages
 * @node: entry in the quarantine once unshared, until the SOS's mappings
 *	of that session are gone (reclaim.c)
 * @nr_tables: table pages
 * @tables: the table pages, leaves first, the root last
 */
struct hdacrn_shbuf {
	struct page *desc;
	void *owner;
	u32 epoch;
	struct list_head node;
	unsigned int nr_tables;
	struct page *tables[];
};

/* table.c */
unsigned int hdacrn_levels(unsigned long nr_pages);
int hdacrn_table_build(const unsigned long *pfns, unsigned int nr_pages,
		       struct hdacrn_shbuf **sb, u64 *root);
void hdacrn_table_free(struct hdacrn_shbuf *sb);
int hdacrn_table_read(struct hdacrn_link *link, u64 root,
		      unsigned int nr_pages, struct page **pages);
int hdacrn_desc_read(struct hdacrn_link *link, u64 ref,
		     const struct hyper_dmabuf_id *id, unsigned int nr_pages,
		     u64 *root);
int hdacrn_share(struct hdmabuf_backend *be, u32 vmid,
		 const struct hdmabuf_share_info *info, void **handle,
		 u64 *ref);
void hdacrn_unshare(struct hdmabuf_backend *be, void *handle);
int hdacrn_map(struct hdmabuf_backend *be, u32 vmid,
	       const struct hdmabuf_map_info *info, void **handle,
	       struct page ***pages);
void hdacrn_unmap(struct hdmabuf_backend *be, void *handle);
void hdacrn_shbuf_release(struct hdacrn_shbuf *sb);

/* reclaim.c */
void hdacrn_maps_init(struct hdacrn_link *link);
void hdacrn_maps_open(struct hdacrn_link *link);
void hdacrn_maps_close(struct hdacrn_link *link);
int hdacrn_maps_get(struct hdacrn_link *link, u32 *epoch);
void hdacrn_maps_put(struct hdacrn_link *link, u32 epoch);
void hdacrn_reclaim_open(u32 epoch);
void hdacrn_reclaim_close(void);
u32 hdacrn_reclaim_epoch(void);
void hdacrn_reclaim(struct hdacrn_shbuf *sb);
void hdacrn_reclaim_poll(struct hdacrn_link *link);
void hdacrn_reclaim_exit(void);

/* window.c */
int hdacrn_window_init(struct hdacrn_window *w, struct pci_dev *pdev,
		       phys_addr_t phys, u64 size);
void hdacrn_window_fini(struct hdacrn_window *w);
struct page *hdacrn_window_page(struct hdacrn_window *w, u64 gpa);
bool hdacrn_window_get(struct hdacrn_window *w);
void hdacrn_window_put(struct hdacrn_window *w);

/* Announcements the test fault announce-flood sends: 16 x max_imports. */
#define HDACRN_FLOOD_ANNOUNCEMENTS	4096

#ifdef CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS
enum hdacrn_fault {
	HDACRN_FAULT_NONE,
	HDACRN_FAULT_GPA_OOB,
	HDACRN_FAULT_GPA_UNALIGNED,
	HDACRN_FAULT_TABLE_OOB,
	HDACRN_FAULT_RING_LIE,
	HDACRN_FAULT_FLOOD,
	HDACRN_FAULT_DEAF,
	HDACRN_FAULT_ANNOUNCE_FLOOD,
	HDACRN_FAULT_NR
};

bool hdacrn_fault(enum hdacrn_fault f);
bool hdacrn_fault_active(enum hdacrn_fault f);

/* bench.c */
struct hdacrn_bench *hdacrn_bench_create(struct pci_dev *pdev,
					 void __iomem *regs, u32 peer_id,
					 u32 vmid, struct hdacrn_window *window);
void hdacrn_bench_destroy(struct hdacrn_bench *b);
void hdacrn_bench_init(struct dentry *root);
#else
#define hdacrn_fault(f)		false
#define hdacrn_fault_active(f)	false

static inline struct hdacrn_bench *
hdacrn_bench_create(struct pci_dev *pdev, void __iomem *regs, u32 peer_id,
		    u32 vmid, struct hdacrn_window *window)
{
	return NULL;
}

static inline void hdacrn_bench_destroy(struct hdacrn_bench *b) { }
static inline void hdacrn_bench_init(struct dentry *root) { }
#endif

#endif /* _HDACRN_H */
