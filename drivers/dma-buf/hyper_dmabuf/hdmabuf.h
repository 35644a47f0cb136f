/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf: types shared by the files of the core.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDMABUF_H
#define _HDMABUF_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/hyper_dmabuf.h>

#include "backend.h"
#include "proto.h"

struct dma_buf;
struct dma_buf_attachment;
struct dma_fence;
struct sync_file;
struct hdmabuf_event_node;
struct file;
struct poll_table_struct;
struct sg_table;

/*
 * hdmabuf_lock - the database lock.  It protects the export table
 * (export.c), the peer table and every peer's import table (peer.c,
 * import.c), the state fields documented as such in the structures below,
 * and every open file's list of exports.  No backend op, message send or
 * dma-buf call is made under it.
 */
extern struct mutex hdmabuf_lock;	/* the database lock, see above */

/*
 * hdmabuf_release_lock - protects what tells an open file that its exports
 * ended (release.c): every export's @rel_file and @rel_node, and every open
 * file's @rel_exports, @rel_ids and @rel_nr.  Nests inside hdmabuf_lock;
 * an open file's ev_lock nests inside it.
 */
extern struct mutex hdmabuf_release_lock;

/* Module parameters (dev.c). */
extern unsigned int hdmabuf_max_exports;
extern unsigned int hdmabuf_max_exports_per_peer;
extern unsigned int hdmabuf_max_export_mb_per_peer;
extern unsigned int hdmabuf_max_imports;
extern unsigned int hdmabuf_max_import_mb_per_peer;
extern unsigned int hdmabuf_max_buffer_mb;
extern unsigned int hdmabuf_event_queue_len;
extern unsigned int hdmabuf_msg_timeout_ms;

/**
 * struct hdmabuf_stats - live object counts, shown in debugfs
 * @exports: exports not yet released by their importer
 * @imports: buffers announced to this VM and not yet freed
 * @shared_pages: pages shared through a backend
 * @mapped_pages: peer pages mapped through a backend
 */
struct hdmabuf_stats {
	atomic_long_t exports;
	atomic_long_t imports;
	atomic_long_t shared_pages;
	atomic_long_t mapped_pages;
};

extern struct hdmabuf_stats hdmabuf_stats;

/**
 * struct hdmabuf_tx_counts - how the calls a peer waits on sent their
 *	messages, shown in debugfs (file "tx"); they only grow
 * @direct: all sent from the caller's own context
 * @deferred: some left to the transmit work: the channel was full, or
 *	another sender was at it
 */
struct hdmabuf_tx_counts {
	atomic_long_t direct;
	atomic_long_t deferred;
};

extern struct hdmabuf_tx_counts hdmabuf_tx_counts;

/**
 * struct hdmabuf_rx_counts - the messages peers sent this VM, shown in
 *	debugfs (file "rx"); they only grow
 * @messages: every message a backend handed to hdmabuf_recv()
 * @malformed: those that failed to decode, or came from no known peer
 */
struct hdmabuf_rx_counts {
	atomic_long_t messages;
	atomic_long_t malformed;
};

extern struct hdmabuf_rx_counts hdmabuf_rx_counts;

/**
 * struct hdmabuf_ioctl_counts - calls into the device's ioctl handler,
 *	shown in debugfs (file "ioctls"); they only grow.  A fuzzer's run
 *	reads them before and after to learn how many of its calls reached us.
 * @calls: every ioctl on /dev/hyper_dmabuf that the VFS passed on to us
 * @dispatched: those whose command was known, so that its handler ran
 */
struct hdmabuf_ioctl_counts {
	atomic_long_t calls;
	atomic_long_t dispatched;
};

extern struct hdmabuf_ioctl_counts hdmabuf_ioctl_counts;

/* Pages in @mb MiB, for the limits given in MiB. */
static inline unsigned long hdmabuf_mb_pages(unsigned int mb)
{
	return (unsigned long)mb << (20 - PAGE_SHIFT);
}

/**
 * struct hdmabuf_quota - what this VM has exported to one VM id
 * @ref: held by each peer of that VM id.  A peer that went away keeps it
 *	while its exports live, since the VM may still map their pages when
 *	it is back as a new peer: it cannot escape its limits by leaving.
 * @vmid: the VM id
 * @exports: exports to it, from the export ioctl until they are freed;
 *	raised under hdmabuf_lock, checked against max_exports_per_peer
 * @pages: pages shared with it, from the export ioctl until the backend
 *	says none can be reached (hdmabuf_unshare_done()); raised under
 *	hdmabuf_lock, checked against max_export_mb_per_peer
 */
struct hdmabuf_quota {
	refcount_t ref;
	u32 vmid;
	atomic_t exports;
	atomic_long_t pages;
};

/**
 * struct hdmabuf_peer - a VM reachable through a backend
 * @kref: held by the peer table while the peer is up, by each import from
 *	it and by queued work
 * @be: the backend that reaches it
 * @vmid: its VM id
 * @quota: what this VM exports to @vmid, shared with earlier peers of it
 * @gone: the peer went away; set under hdmabuf_lock
 * @imports: buffers it exported to us, by seq; under hdmabuf_lock
 * @nr_imports: entries in @imports, and announcements being added to it
 *	(counted before anything is allocated for them); under hdmabuf_lock
 * @import_pages: pages of those; under hdmabuf_lock
 * @tx_lock: protects @tx_exports, @tx_imports, @tx_replies, @nr_replies,
 *	@tx_reserve and @tx_dead
 * @tx_mutex: held by whoever sends what is queued, @tx_work or a caller
 *	sending from its own context, so that one sends at a time, in order
 * @tx_exports: exports that have a message to send
 * @tx_imports: imports that have a message to send
 * @tx_replies: replies waiting to be sent
 * @nr_replies: entries in @tx_replies
 * @tx_reserve: replies kept for when there is no memory for one
 * @tx_dead: the peer is gone; nothing more is queued
 * @tx_work: sends what is queued, in process context
 */
struct hdmabuf_peer {
	struct kref kref;
	struct hdmabuf_backend *be;
	u32 vmid;
	struct hdmabuf_quota *quota;
	bool gone;
	struct xarray imports;
	unsigned int nr_imports;
	unsigned long import_pages;
	spinlock_t tx_lock;	/* protects the tx_ fields and nr_replies */
	struct mutex tx_mutex;	/* one sender of the queue at a time */
	struct list_head tx_exports;
	struct list_head tx_imports;
	struct list_head tx_replies;
	unsigned int nr_replies;
	struct list_head tx_reserve;
	bool tx_dead;
	struct work_struct tx_work;
};

/**
 * struct hdmabuf_file - state of one open /dev/hyper_dmabuf
 * @exports: exports made through this file and not yet unexported; under
 *	hdmabuf_lock
 * @endpoint: the endpoint the file is bound to, empty for the default
 *	one; set once, under the open files' lock (event.c)
 * @node: entry in the list of open files (event.c)
 * @ev_lock: protects @ev_queue, @ev_len and @ev_overflow
 * @ev_queue: pending events
 * @ev_len: entries in @ev_queue
 * @ev_overflow: the overflow record, allocated at open so that reporting
 *	an overflow cannot fail; queued (on @ev_queue) while events are
 *	being dropped
 * @ev_wait: woken when an event is queued
 * @rel_exports: exports made through this file that have not ended yet,
 *	unexported or not; under hdmabuf_release_lock
 * @rel_ids: the ids of the last exports of this file that ended, a ring;
 *	under hdmabuf_release_lock
 * @rel_nr: exports of this file that ended, of which the last
 *	HYPER_DMABUF_RELEASED_HISTORY are in @rel_ids; under
 *	hdmabuf_release_lock
 * @rel_wait: woken when an export of this file ends
 */
struct hdmabuf_file {
	struct list_head exports;
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct list_head node;
	spinlock_t ev_lock;	/* protects the ev_ fields */
	struct list_head ev_queue;
	unsigned int ev_len;
	struct hdmabuf_event_node *ev_overflow;
	wait_queue_head_t ev_wait;
	struct list_head rel_exports;
	struct hyper_dmabuf_id rel_ids[HYPER_DMABUF_RELEASED_HISTORY];
	u64 rel_nr;
	wait_queue_head_t rel_wait;
};

/**
 * struct hdmabuf_fence_wait - waiting for fences without blocking (fence.c)
 * @fences: the fences still waited for, each a reference, or NULL
 * @done: called in process context once all have signalled
 * @cb: the callback on the fence being waited for
 * @work: brings the wait back to process context
 */
struct hdmabuf_fence_wait {
	struct dma_fence *fences[2];
	void (*done)(struct hdmabuf_fence_wait *w);
	struct dma_fence_cb cb;
	struct work_struct work;
};

/**
 * struct hdmabuf_fence_fd - a sync_file made for userspace, not yet
 *	installed
 * @fd: the file descriptor reserved for it
 * @sync: the sync_file
 */
struct hdmabuf_fence_fd {
	int fd;
	struct sync_file *sync;
};

/* Where an export's frame is; under hdmabuf_lock. */
enum hdmabuf_frame_state {
	HDMABUF_FRAME_IDLE,	/* none out: PRESENT may come */
	HDMABUF_FRAME_WAITING,	/* presented, waiting for its fences */
	HDMABUF_FRAME_QUEUED,	/* the FRAME message is queued */
	HDMABUF_FRAME_SENT,	/* sent; waiting for FRAME_RELEASE */
};

/* Where an import's frame is; under hdmabuf_lock. */
enum hdmabuf_frame_in_state {
	HDMABUF_FRAME_IN_IDLE,		/* none: a FRAME may come */
	HDMABUF_FRAME_IN_PENDING,	/* arrived, not released */
	HDMABUF_FRAME_IN_RELEASING,	/* released, waiting for a fence */
};

/* Export states; under hdmabuf_lock. */
enum hdmabuf_export_state {
	HDMABUF_EXP_NEW,	/* id reserved, shared, not yet announced */
	HDMABUF_EXP_ANNOUNCING,	/* EXPORT sent, waiting for the reply */
	HDMABUF_EXP_LIVE,	/* importable by the peer */
	HDMABUF_EXP_UNEXPORTED,	/* withdrawn, waiting for RELEASE */
	HDMABUF_EXP_RELEASED,	/* out of the table, being torn down */
};

/* Pending messages of an export or import, bits in tx_pending. */
#define HDMABUF_TX_EXPORT	BIT(0)
#define HDMABUF_TX_UNEXPORT	BIT(1)
#define HDMABUF_TX_RELEASE	BIT(2)
#define HDMABUF_TX_USAGE	BIT(3)
#define HDMABUF_TX_FRAME	BIT(4)
#define HDMABUF_TX_FRAME_RELEASE BIT(5)

/**
 * struct hdmabuf_export - a buffer this VM shares with a peer
 * @kref: held by the export table and by whoever works on it
 * @id: its id
 * @peer: the importing VM (holds a peer reference)
 * @owner: the open file that exported it, NULL once unexported; under
 *	hdmabuf_lock
 * @file_node: entry in @owner's exports; under hdmabuf_lock.  Once the
 *	export is out of the table, it links it into a list to tear down
 * @state: &enum hdmabuf_export_state; under hdmabuf_lock
 * @in_use: the importer reported that it maps the buffer; under
 *	hdmabuf_lock
 * @unexport_work: delayed unexport
 * @delay_pending: @unexport_work is scheduled; under hdmabuf_lock
 * @revoking: the backend is revoking the share: whoever takes the export
 *	out of the table meanwhile leaves its teardown to the revoker; under
 *	hdmabuf_lock
 * @tx_node: entry in @peer's tx_exports; under the peer's tx_lock
 * @tx_pending: HDMABUF_TX_* messages to send; under the peer's tx_lock
 * @req_id: request id of the EXPORT message
 * @reply: completed when the EXPORT reply (or a send error) arrives
 * @replied: @reply_status is set; under hdmabuf_lock
 * @reply_status: the reply: 0 or a negative errno; under hdmabuf_lock
 * @acked: completed (for good) once the importer can no longer make new
 *	dma-bufs of it: it acknowledged the withdrawal, released the buffer,
 *	or is gone
 * @dmabuf: the local dma-buf being shared (a reference is held)
 * @attach: our attachment to it
 * @sgt: its mapping, which keeps the pages in place
 * @pfns: the frame number of each of the @nr_pages pages shared, derived
 *	from @sgt's DMA addresses
 * @nr_pages: number of pages
 * @size: size of the dma-buf in bytes, a whole number of pages
 * @readonly: shared read-only
 * @rel_event: post %HYPER_DMABUF_EVENT_RELEASED to @rel_file when it ends
 * @rel_file: the open file that exported it, told when it ends; set when
 *	it becomes live, NULL once it ended or that file closed; under
 *	hdmabuf_release_lock
 * @rel_node: entry in @rel_file's rel_exports; under hdmabuf_release_lock
 * @released: it ended (hdmabuf_unshare_done() ran); set under
 *	hdmabuf_release_lock, read by waiters without it
 * @share: the backend's handle for the sharing
 * @ref: the backend's reference sent to the peer
 * @priv_len: bytes of metadata in @priv
 * @priv: the exporter's metadata
 * @endpoint: the importing VM's endpoint it goes to, empty for the default
 * @image: the image the buffer holds, checked (fourcc 0: none)
 * @frame_state: &enum hdmabuf_frame_state; under hdmabuf_lock
 * @frame_seq: the latest frame presented, 0 before the first; under
 *	hdmabuf_lock
 * @frame_nr_damage: rectangles in @frame_damage; under hdmabuf_lock
 * @frame_damage: the latest frame's damage; under hdmabuf_lock
 * @frame_release: the fence that signals the latest frame's release, or
 *	NULL; under hdmabuf_lock
 * @frame_ctx: the timeline of @frame_release
 * @frame_wait: waits for the latest frame's fences
 */
struct hdmabuf_export {
	struct kref kref;
	struct hyper_dmabuf_id id;
	struct hdmabuf_peer *peer;
	struct hdmabuf_file *owner;
	struct list_head file_node;
	enum hdmabuf_export_state state;
	bool in_use;
	struct delayed_work unexport_work;
	bool delay_pending;
	bool revoking;
	struct list_head tx_node;
	unsigned long tx_pending;
	u32 req_id;
	struct completion reply;
	bool replied;
	int reply_status;
	struct completion acked;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	unsigned long *pfns;
	unsigned int nr_pages;
	u64 size;
	bool readonly;
	bool rel_event;
	struct hdmabuf_file *rel_file;
	struct list_head rel_node;
	bool released;
	void *share;
	u64 ref;
	u32 priv_len;
	u8 priv[HYPER_DMABUF_PRIV_MAX];
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hyper_dmabuf_image image;
	enum hdmabuf_frame_state frame_state;
	u64 frame_seq;
	u32 frame_nr_damage;
	struct hyper_dmabuf_rect frame_damage[HYPER_DMABUF_MAX_DAMAGE];
	struct dma_fence *frame_release;
	u64 frame_ctx;
	struct hdmabuf_fence_wait frame_wait;
};

/**
 * struct hdmabuf_import - a buffer a peer shares with this VM
 * @kref: held by the peer's import table, each local dma-buf made from it,
 *	and whoever works on it
 * @id: its id
 * @peer: the exporting VM (holds a peer reference)
 * @withdrawn: unexported or peer gone: no new imports; under hdmabuf_lock
 * @size: size in bytes
 * @nr_pages: number of pages
 * @ref: the exporter's backend reference
 * @readonly: exported read-only
 * @priv_len: bytes of metadata in @priv
 * @priv: the exporter's metadata
 * @endpoint: the endpoint whose files alone may see and import it
 * @map_lock: protects @map, @pages, @usage_sent and @released
 * @users: live local dma-bufs made from this import
 * @map: the backend's mapping handle, NULL while unmapped
 * @pages: the mapped pages
 * @usage_sent: the in-use state last reported to the exporter
 * @released: RELEASE was queued; the buffer is dead
 * @sync_work: unmaps and reports after the last local dma-buf is gone
 * @tx_node: entry in @peer's tx_imports; under the peer's tx_lock
 * @tx_pending: HDMABUF_TX_* messages to send; under the peer's tx_lock
 * @tx_in_use: the in-use state to report with HDMABUF_TX_USAGE; under the
 *	peer's tx_lock
 * @tx_frame_seq: the frame to report with HDMABUF_TX_FRAME_RELEASE; under
 *	the peer's tx_lock
 * @tx_frame_flags: HDMABUF_MSG_F_DROPPED or 0, with it; under the peer's
 *	tx_lock
 * @image: the image the buffer holds, checked (fourcc 0: none)
 * @frame_state: &enum hdmabuf_frame_in_state; under hdmabuf_lock
 * @frame_seq: the latest frame that arrived, 0 before the first; under
 *	hdmabuf_lock
 * @frame_flags: HDMABUF_MSG_F_DROPPED or 0, for the frame being released;
 *	under hdmabuf_lock
 * @arrival: the fence that signals when the next frame arrives, or NULL;
 *	under hdmabuf_lock
 * @arrival_ctx: the timeline of @arrival
 * @arrival_seqno: the last point made on it; under hdmabuf_lock
 * @frame_wait: waits for the release fence of a frame being released
 */
struct hdmabuf_import {
	struct kref kref;
	struct hyper_dmabuf_id id;
	struct hdmabuf_peer *peer;
	bool withdrawn;
	u64 size;
	unsigned int nr_pages;
	u64 ref;
	bool readonly;
	u32 priv_len;
	u8 priv[HYPER_DMABUF_PRIV_MAX];
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct mutex map_lock;	/* protects map, pages, usage_sent, released */
	atomic_t users;
	void *map;
	struct page **pages;
	bool usage_sent;
	bool released;
	struct work_struct sync_work;
	struct list_head tx_node;
	unsigned long tx_pending;
	bool tx_in_use;
	u64 tx_frame_seq;
	u32 tx_frame_flags;
	struct hyper_dmabuf_image image;
	enum hdmabuf_frame_in_state frame_state;
	u64 frame_seq;
	u32 frame_flags;
	struct dma_fence *arrival;
	u64 arrival_ctx;
	u64 arrival_seqno;
	struct hdmabuf_fence_wait frame_wait;
};

/* id.c */
void hdmabuf_id_new_key(struct hyper_dmabuf_id *id);

/* peer.c */
extern struct workqueue_struct *hdmabuf_wq;
extern struct xarray hdmabuf_peers;	/* peers that are up, by VM id */
struct hdmabuf_peer *hdmabuf_peer_get(u32 vmid);
void hdmabuf_peer_put(struct hdmabuf_peer *peer);
void hdmabuf_tx_queue_export(struct hdmabuf_export *exp, unsigned long what);
void hdmabuf_tx_send_export(struct hdmabuf_export *exp, unsigned long what);
void hdmabuf_tx_queue_import(struct hdmabuf_import *imp, unsigned long what,
			     bool in_use);
void hdmabuf_tx_queue_frame_release(struct hdmabuf_import *imp, u64 seq,
				    u32 flags);
void hdmabuf_tx_send_frame_release(struct hdmabuf_import *imp, u64 seq,
				   u32 flags);
void hdmabuf_tx_reply(struct hdmabuf_peer *peer, u16 type,
		      const struct hyper_dmabuf_id *id, u32 req_id, int err);
int hdmabuf_peers_info(struct hyper_dmabuf_peer __user *up, u32 room,
		       u32 *total, u32 *vmid);
int hdmabuf_core_init(void);
void hdmabuf_core_exit(void);

/**
 * struct hdmabuf_ioctl_out - where an ioctl's result is copied out
 * @uarg: the caller's argument
 * @size: bytes of it to write
 */
struct hdmabuf_ioctl_out {
	void __user *uarg;
	unsigned int size;
};

/* export.c */
long hdmabuf_ioctl_export(struct hdmabuf_file *hf, void *arg,
			  const struct hdmabuf_ioctl_out *out);
long hdmabuf_ioctl_unexport(struct hdmabuf_file *hf, void *arg,
			    const struct hdmabuf_ioctl_out *out);
int hdmabuf_export_query(const struct hyper_dmabuf_id *id,
			 struct hyper_dmabuf_query *q, u8 *priv);
void hdmabuf_export_file_release(struct hdmabuf_file *hf);
void hdmabuf_export_recv(struct hdmabuf_peer *peer,
			 const struct hdmabuf_msg *msg);
void hdmabuf_export_peer_gone(struct hdmabuf_peer *peer);
void hdmabuf_export_put(struct hdmabuf_export *exp);
bool hdmabuf_export_encode(struct hdmabuf_export *exp, unsigned long what,
			   struct hdmabuf_msg *msg);
void hdmabuf_export_send_failed(struct hdmabuf_export *exp,
				unsigned long what, int err);

/**
 * hdmabuf_send_transient() - whether a failed send is worth a retry
 * @err: what the backend's send returned
 *
 * A full channel (-ETIMEDOUT) or no memory for the message (-ENOMEM) is
 * a passing failure; a peer that is gone (-ENOTCONN) is not.
 *
 * Return: true if a message that must not be lost while the peer lives
 * should be queued again.
 */
static inline bool hdmabuf_send_transient(int err)
{
	return err == -ETIMEDOUT || err == -ENOMEM;
}

struct hdmabuf_export *
hdmabuf_export_lookup_locked(const struct hyper_dmabuf_id *id);

/* import.c */
long hdmabuf_ioctl_import(struct hdmabuf_file *hf, void *arg,
			  const struct hdmabuf_ioctl_out *out);
int hdmabuf_import_query(struct hdmabuf_file *hf,
			 const struct hyper_dmabuf_id *id,
			 struct hyper_dmabuf_query *q, u8 *priv);
int hdmabuf_import_list(struct hdmabuf_file *hf,
			struct hyper_dmabuf_id __user *ids, u32 room,
			u32 *total);
void hdmabuf_import_recv(struct hdmabuf_peer *peer,
			 const struct hdmabuf_msg *msg);
void hdmabuf_import_peer_gone(struct hdmabuf_peer *peer);
void hdmabuf_import_put(struct hdmabuf_import *imp);
/**
 * struct hdmabuf_import_tx - what an import's queued messages carry
 * @in_use: HDMABUF_TX_USAGE: the state to report
 * @frame_seq: HDMABUF_TX_FRAME_RELEASE: the frame released
 * @frame_flags: HDMABUF_TX_FRAME_RELEASE: HDMABUF_MSG_F_DROPPED or 0
 */
struct hdmabuf_import_tx {
	bool in_use;
	u64 frame_seq;
	u32 frame_flags;
};

void hdmabuf_import_encode(struct hdmabuf_import *imp, unsigned long what,
			   struct hdmabuf_msg *msg,
			   const struct hdmabuf_import_tx *tx);
struct hdmabuf_import *hdmabuf_import_find(struct hdmabuf_file *hf,
					   const struct hyper_dmabuf_id *id);
struct hdmabuf_import *
hdmabuf_import_lookup_locked(struct hdmabuf_peer *peer,
			     const struct hyper_dmabuf_id *id);

/* frame.c */
long hdmabuf_ioctl_present(struct hdmabuf_file *hf, void *arg,
			   const struct hdmabuf_ioctl_out *out);
long hdmabuf_ioctl_release_frame(struct hdmabuf_file *hf, void *arg,
				 const struct hdmabuf_ioctl_out *out);
long hdmabuf_ioctl_frame_fence(struct hdmabuf_file *hf, void *arg,
			       const struct hdmabuf_ioctl_out *out);
void hdmabuf_frame_export_init(struct hdmabuf_export *exp);
bool hdmabuf_frame_export_encode(struct hdmabuf_export *exp,
				 struct hdmabuf_msg *msg);
bool hdmabuf_frame_export_recv(struct hdmabuf_export *exp,
			       const struct hdmabuf_msg *msg);
void hdmabuf_frame_export_send_failed(struct hdmabuf_export *exp, int err);
void hdmabuf_frame_export_unsend(struct hdmabuf_export *exp);
void hdmabuf_frame_export_peer_gone(struct hdmabuf_export *exp);
void hdmabuf_frame_export_end(struct hdmabuf_export *exp);
void hdmabuf_frame_import_init(struct hdmabuf_import *imp);
void hdmabuf_frame_import_recv(struct hdmabuf_peer *peer,
			       const struct hdmabuf_msg *msg);
void hdmabuf_frame_import_withdrawn(struct hdmabuf_import *imp);

/* fence.c */
struct dma_fence *hdmabuf_fence_new(u64 context, u64 seqno);
void hdmabuf_fence_signal(struct dma_fence *f, int err);
int hdmabuf_fence_fd_prepare(struct dma_fence *f, struct hdmabuf_fence_fd *ff);
void hdmabuf_fence_fd_install(struct hdmabuf_fence_fd *ff);
void hdmabuf_fence_fd_abort(struct hdmabuf_fence_fd *ff);
void hdmabuf_fence_wait_init(struct hdmabuf_fence_wait *w,
			     void (*done)(struct hdmabuf_fence_wait *w));
void hdmabuf_fence_wait_start(struct hdmabuf_fence_wait *w);
void hdmabuf_fence_exit(void);

/* event.c */
int hdmabuf_event_file_init(struct hdmabuf_file *hf);
void hdmabuf_event_file_exit(struct hdmabuf_file *hf);
int hdmabuf_event_file_bind(struct hdmabuf_file *hf, const char *endpoint);
void hdmabuf_event_file_endpoint(struct hdmabuf_file *hf, char *endpoint);
void hdmabuf_event_post(u32 type, const struct hdmabuf_import *imp);
void hdmabuf_event_post_file(struct hdmabuf_file *hf, u32 type,
			     const struct hyper_dmabuf_id *id, u64 size);
void hdmabuf_event_post_frame(struct hdmabuf_file *hf,
			      const struct hdmabuf_import *imp,
			      const struct hyper_dmabuf_id *id, u64 size,
			      const struct hyper_dmabuf_frame_info *frame);
ssize_t hdmabuf_event_read(struct hdmabuf_file *hf, char __user *buf,
			   size_t count, bool nonblock);
__poll_t hdmabuf_event_poll(struct hdmabuf_file *hf, struct file *file,
			    struct poll_table_struct *wait);

/* endpoint.c */
long hdmabuf_ioctl_bind(struct hdmabuf_file *hf, void *arg,
			const struct hdmabuf_ioctl_out *out);
int hdmabuf_endpoint_init(void);
void hdmabuf_endpoint_exit(void);

/* dev.c */
struct device *hdmabuf_device(void);
int hdmabuf_ioctl_copy_out(const struct hdmabuf_ioctl_out *out,
			   const void *arg);

/* release.c */
void hdmabuf_release_file_init(struct hdmabuf_file *hf);
void hdmabuf_release_file_exit(struct hdmabuf_file *hf);
void hdmabuf_release_track(struct hdmabuf_file *hf,
			   struct hdmabuf_export *exp);
void hdmabuf_release_done(struct hdmabuf_export *exp);
long hdmabuf_ioctl_wait_released(struct hdmabuf_file *hf, void *arg,
				 const struct hdmabuf_ioctl_out *out);
bool hdmabuf_release_known(struct hdmabuf_file *hf,
			   const struct hyper_dmabuf_id *id);

/* debugfs.c */
#ifdef CONFIG_DEBUG_FS
void hdmabuf_debugfs_init(void);
void hdmabuf_debugfs_exit(void);
#else
static inline void hdmabuf_debugfs_init(void) { }
static inline void hdmabuf_debugfs_exit(void) { }
#endif

/* fuzz.c: test builds only (CONFIG_HYPER_DMABUF_TEST_FUZZ) */
struct dentry;
#if IS_ENABLED(CONFIG_HYPER_DMABUF_TEST_FUZZ)
void hdmabuf_fuzz_debugfs_init(struct dentry *root);
#else
static inline void hdmabuf_fuzz_debugfs_init(struct dentry *root) { }
#endif

#endif /* _HDMABUF_H */
