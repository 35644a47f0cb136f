// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the hyper_dmabuf import table and receive path, driven
 * by a hostile peer through a fake backend.
 *
 * The fake backend's peer sends whatever a test encodes; what the core
 * answers is captured by the backend's send op and decoded again.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/spinlock.h>

#include "../hdmabuf.h"

#define LOCAL_VMID	100
#define PEER_VMID	200
#define MAX_SENT	16

/* What the core sent to the fake peer; under fake_lock. */
static DEFINE_SPINLOCK(fake_lock);	/* protects the fake_ variables */
static u8 fake_sent[MAX_SENT][HDMABUF_MSG_SIZE];
static unsigned int fake_sent_flags[MAX_SENT];
static int fake_nr;
/* The channel has no room for a sender that will not wait. */
static bool fake_busy;
static int fake_refused;
/* Sends to fail, as a backend without memory for the message would. */
static int fake_nomem;
/* fake_sent decoded by core_sent(); the cases run one at a time. */
static struct hdmabuf_msg rx[MAX_SENT];

static int fake_share(struct hdmabuf_backend *be, u32 vmid,
		      const struct hdmabuf_share_info *info, void **handle,
		      u64 *ref)
{
	return -EOPNOTSUPP;
}

static void fake_unshare(struct hdmabuf_backend *be, void *handle)
{
}

static int fake_map(struct hdmabuf_backend *be, u32 vmid,
		    const struct hdmabuf_map_info *info, void **handle,
		    struct page ***pages)
{
	return -EINVAL;
}

static void fake_unmap(struct hdmabuf_backend *be, void *handle)
{
}

static int fake_send(struct hdmabuf_backend *be, u32 vmid, const void *msg,
		     size_t len, unsigned int flags)
{
	int ret = 0;

	spin_lock(&fake_lock);
	if (fake_nomem) {
		fake_nomem--;
		ret = -ENOMEM;
	} else if (fake_busy && (flags & HDMABUF_SEND_NOWAIT)) {
		fake_refused++;
		ret = -EAGAIN;
	} else if (fake_nr < MAX_SENT && len == HDMABUF_MSG_SIZE) {
		fake_sent_flags[fake_nr] = flags;
		memcpy(fake_sent[fake_nr++], msg, len);
	}
	spin_unlock(&fake_lock);
	return ret;
}

/* What the core has sent so far, without waiting for its work. */
static int fake_count(void)
{
	int n;

	spin_lock(&fake_lock);
	n = fake_nr;
	spin_unlock(&fake_lock);
	return n;
}

static const struct hdmabuf_backend_ops fake_ops = {
	.share = fake_share,
	.unshare = fake_unshare,
	.map = fake_map,
	.unmap = fake_unmap,
	.send = fake_send,
};

static struct hdmabuf_backend fake_be = {
	.name = "kunit",
	.owner = THIS_MODULE,
	.ops = &fake_ops,
	.vmid = LOCAL_VMID,
};

/*
 * 6.1 runs a module's suites before the module's init (at
 * MODULE_STATE_COMING), so the message path may not be set up yet.
 */
static bool db_own_wq;

static int db_suite_init(struct kunit_suite *suite)
{
	if (hdmabuf_wq)
		return 0;
	db_own_wq = true;
	return hdmabuf_core_init();
}

static void db_suite_exit(struct kunit_suite *suite)
{
	if (!db_own_wq)
		return;
	hdmabuf_core_exit();
	hdmabuf_wq = NULL;
	db_own_wq = false;
}

static int db_init(struct kunit *test)
{
	fake_nr = 0;
	fake_busy = false;
	fake_refused = 0;
	fake_nomem = 0;
	KUNIT_ASSERT_EQ(test, hdmabuf_backend_register(&fake_be), 0);
	KUNIT_ASSERT_EQ(test, hdmabuf_peer_add(&fake_be, PEER_VMID), 0);
	return 0;
}

static void db_exit(struct kunit *test)
{
	hdmabuf_backend_unregister(&fake_be);
}

/* A well-formed EXPORT from the peer. */
static void peer_export(struct hdmabuf_msg *m, u32 seq)
{
	memset(m, 0, sizeof(*m));
	m->type = HDMABUF_MSG_EXPORT;
	m->req_id = 1000 + seq;
	m->id.vmid = PEER_VMID;
	m->id.seq = seq;
	m->id.key[0] = seq * 7 + 1;
	m->nr_pages = 2;
	m->size = 2 * PAGE_SIZE;
	m->ref = 5;
}

static void peer_sends(const struct hdmabuf_msg *m)
{
	u8 buf[HDMABUF_MSG_SIZE];

	hdmabuf_msg_encode(m, buf);
	hdmabuf_recv(&fake_be, PEER_VMID, buf, sizeof(buf));
}

/* Wait for the core's transmit work and decode what it sent into rx. */
static int core_sent(struct kunit *test)
{
	int i, n;

	flush_workqueue(hdmabuf_wq);
	spin_lock(&fake_lock);
	n = fake_nr;
	spin_unlock(&fake_lock);
	for (i = 0; i < n; i++) {
		int err = hdmabuf_msg_decode(fake_sent[i], HDMABUF_MSG_SIZE,
					     U32_MAX, &rx[i]);

		KUNIT_EXPECT_EQ(test, err, 0);
	}
	return n;
}

static u32 importable(void)
{
	/* An open file of the default endpoint, which these buffers go to. */
	static struct hdmabuf_file file;
	u32 total = 0;

	hdmabuf_import_list(&file, NULL, 0, &total);
	return total;
}

static void db_export_accepted(struct kunit *test)
{
	struct hdmabuf_msg m;

	peer_export(&m, 1);
	peer_sends(&m);
	KUNIT_ASSERT_EQ(test, core_sent(test), 1);
	KUNIT_EXPECT_EQ(test, rx[0].type, HDMABUF_MSG_EXPORT_REPLY);
	KUNIT_EXPECT_EQ(test, rx[0].req_id, m.req_id);
	KUNIT_EXPECT_EQ(test, rx[0].status, 0u);
	KUNIT_EXPECT_EQ(test, importable(), 1u);
}

/* A peer may only announce buffers under its own VM id. */
static void db_export_foreign_vmid_refused(struct kunit *test)
{
	struct hdmabuf_msg m;

	peer_export(&m, 1);
	m.id.vmid = PEER_VMID + 1;
	peer_sends(&m);
	KUNIT_ASSERT_EQ(test, core_sent(test), 1);
	KUNIT_EXPECT_EQ(test, rx[0].status, (u32)EINVAL);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
}

static void db_export_duplicate_refused(struct kunit *test)
{
	struct hdmabuf_msg m;

	peer_export(&m, 1);
	peer_sends(&m);
	m.req_id++;
	m.id.key[1] = 99;	/* same seq, another key */
	peer_sends(&m);
	KUNIT_ASSERT_EQ(test, core_sent(test), 2);
	KUNIT_EXPECT_EQ(test, rx[0].status, 0u);
	KUNIT_EXPECT_EQ(test, rx[1].status, (u32)EEXIST);
	KUNIT_EXPECT_EQ(test, importable(), 1u);
}

/* The peer withdraws buffer @seq (of peer_export()). */
static void peer_unexports(u32 seq)
{
	struct hdmabuf_msg m;

	peer_export(&m, seq);
	m.type = HDMABUF_MSG_UNEXPORT;
	m.req_id = 0;
	m.nr_pages = 0;
	m.size = 0;
	m.ref = 0;
	peer_sends(&m);
}

/*
 * A flooding peer gets ENOSPC past max_imports, and nothing more: no
 * event for what was refused.  A buffer released makes room again.
 */
static void db_export_flood_bounded(struct kunit *test)
{
	unsigned int saved = hdmabuf_max_imports;
	struct hdmabuf_file *hf;
	struct hdmabuf_msg m;
	int i, n;

	hf = kunit_kzalloc(test, sizeof(*hf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, hf);
	INIT_LIST_HEAD(&hf->exports);
	KUNIT_ASSERT_EQ(test, hdmabuf_event_file_init(hf), 0);
	hdmabuf_max_imports = 3;
	for (i = 1; i <= 5; i++) {
		peer_export(&m, i);
		peer_sends(&m);
	}
	n = core_sent(test);
	KUNIT_EXPECT_EQ(test, READ_ONCE(hf->ev_len), 3u);
	KUNIT_EXPECT_EQ(test, importable(), 3u);
	/* Withdrawn, and released at once since nothing maps it. */
	peer_unexports(1);
	peer_export(&m, 6);
	peer_sends(&m);
	hdmabuf_max_imports = saved;
	hdmabuf_event_file_exit(hf);
	KUNIT_ASSERT_EQ(test, n, 5);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, rx[i].status, i < 3 ? 0u : (u32)ENOSPC);
	/* UNEXPORT_REPLY, RELEASE and this reply, in whatever order. */
	KUNIT_ASSERT_EQ(test, core_sent(test), 8);
	for (i = 5; i < 8; i++)
		if (rx[i].type == HDMABUF_MSG_EXPORT_REPLY)
			break;
	KUNIT_ASSERT_LT(test, i, 8);
	KUNIT_EXPECT_EQ(test, rx[i].req_id, m.req_id);
	KUNIT_EXPECT_EQ(test, rx[i].status, 0u);
	KUNIT_EXPECT_EQ(test, importable(), 3u);
}

/*
 * The limit is the peer's, whichever endpoint its announcements name (a
 * field of the EXPORT message since protocol version 2): past it an
 * announcement to any endpoint is refused, and no open file, of that
 * endpoint or another, hears of it.
 */
static void db_export_flood_endpoints(struct kunit *test)
{
	static const char display[HYPER_DMABUF_ENDPOINT_LEN] = "display";
	unsigned int saved = hdmabuf_max_imports;
	struct hdmabuf_file *disp, *def;
	struct hdmabuf_msg m;
	u32 listed = 0;
	int i, n;

	disp = kunit_kzalloc(test, sizeof(*disp), GFP_KERNEL);
	def = kunit_kzalloc(test, sizeof(*def), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, disp);
	KUNIT_ASSERT_NOT_NULL(test, def);
	INIT_LIST_HEAD(&disp->exports);
	INIT_LIST_HEAD(&def->exports);
	KUNIT_ASSERT_EQ(test, hdmabuf_event_file_init(disp), 0);
	if (hdmabuf_event_file_init(def)) {
		hdmabuf_event_file_exit(disp);
		KUNIT_FAIL(test, "no event queue for the default endpoint");
		return;
	}
	KUNIT_EXPECT_EQ(test, hdmabuf_event_file_bind(disp, display), 0);
	hdmabuf_max_imports = 3;
	/* Four to "display", then one to the default endpoint. */
	for (i = 1; i <= 5; i++) {
		peer_export(&m, i);
		if (i < 5)
			memcpy(m.endpoint, display, sizeof(m.endpoint));
		peer_sends(&m);
	}
	n = core_sent(test);
	hdmabuf_max_imports = saved;
	KUNIT_EXPECT_EQ(test, READ_ONCE(disp->ev_len), 3u);
	KUNIT_EXPECT_EQ(test, READ_ONCE(def->ev_len), 0u);
	hdmabuf_import_list(disp, NULL, 0, &listed);
	KUNIT_EXPECT_EQ(test, listed, 3u);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
	hdmabuf_event_file_exit(def);
	hdmabuf_event_file_exit(disp);
	KUNIT_ASSERT_EQ(test, n, 5);
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, rx[i].status, i < 3 ? 0u : (u32)ENOSPC);
}

/*
 * Pages announced count too: EFBIG for a buffer larger than the peer may
 * ever announce, ENOSPC for one that does not fit beside the others.
 */
static void db_export_pages_bounded(struct kunit *test)
{
	unsigned int saved = hdmabuf_max_import_mb_per_peer;
	unsigned long max = hdmabuf_mb_pages(1);
	const unsigned long pages[] = { max / 2, max / 2, max / 2 + 1, max + 1 };
	static const u32 status[] = { 0, 0, ENOSPC, EFBIG };
	struct hdmabuf_msg m;
	int i;

	hdmabuf_max_import_mb_per_peer = 1;
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		peer_export(&m, i + 1);
		m.nr_pages = pages[i];
		m.size = (u64)pages[i] << PAGE_SHIFT;
		peer_sends(&m);
	}
	hdmabuf_max_import_mb_per_peer = saved;
	KUNIT_ASSERT_EQ(test, core_sent(test), ARRAY_SIZE(pages));
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		KUNIT_EXPECT_EQ(test, rx[i].status, status[i]);
	KUNIT_EXPECT_EQ(test, importable(), 2u);
}

/* A malformed EXPORT is answered, with its request id, and not taken. */
static void db_export_malformed_answered(struct kunit *test)
{
	struct hdmabuf_msg m;
	u8 buf[HDMABUF_MSG_SIZE];

	peer_export(&m, 1);
	hdmabuf_msg_encode(&m, buf);
	buf[70] = 1;	/* a reserved byte */
	hdmabuf_recv(&fake_be, PEER_VMID, buf, sizeof(buf));
	peer_export(&m, 2);
	m.nr_pages = 1;	/* too small for its size */
	peer_sends(&m);
	KUNIT_ASSERT_EQ(test, core_sent(test), 2);
	KUNIT_EXPECT_EQ(test, rx[0].req_id, 1001u);
	KUNIT_EXPECT_EQ(test, rx[0].status, (u32)EPROTO);
	KUNIT_EXPECT_EQ(test, rx[1].req_id, 1002u);
	KUNIT_EXPECT_EQ(test, rx[1].status, (u32)EINVAL);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
}

/* Nothing answers a VM that is not a peer, or garbage. */
static void db_unknown_sender_ignored(struct kunit *test)
{
	struct hdmabuf_msg m;
	u8 buf[HDMABUF_MSG_SIZE];

	peer_export(&m, 1);
	hdmabuf_msg_encode(&m, buf);
	hdmabuf_recv(&fake_be, PEER_VMID + 1, buf, sizeof(buf));
	hdmabuf_recv(&fake_be, PEER_VMID, buf, 12);
	memset(buf, 0xff, sizeof(buf));
	hdmabuf_recv(&fake_be, PEER_VMID, buf, sizeof(buf));
	KUNIT_EXPECT_EQ(test, core_sent(test), 0);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
}

/* UNEXPORT withdraws; nothing maps the buffer, so RELEASE follows. */
static void db_unexport_releases(struct kunit *test)
{
	struct hdmabuf_msg m;

	peer_export(&m, 1);
	peer_sends(&m);
	peer_unexports(1);
	KUNIT_ASSERT_EQ(test, core_sent(test), 3);
	/*
	 * Both, in either order: the import's sync work may see it withdrawn
	 * and queue RELEASE before the acknowledgment is queued, and the
	 * exporter takes a RELEASE first as the end of both (export.c).
	 */
	if (rx[1].type == HDMABUF_MSG_RELEASE) {
		KUNIT_EXPECT_EQ(test, rx[2].type, HDMABUF_MSG_UNEXPORT_REPLY);
	} else {
		KUNIT_EXPECT_EQ(test, rx[1].type, HDMABUF_MSG_UNEXPORT_REPLY);
		KUNIT_EXPECT_EQ(test, rx[2].type, HDMABUF_MSG_RELEASE);
	}
	KUNIT_EXPECT_TRUE(test, hdmabuf_id_match(&rx[1].id, &m.id));
	KUNIT_EXPECT_TRUE(test, hdmabuf_id_match(&rx[2].id, &m.id));
	KUNIT_EXPECT_EQ(test, importable(), 0u);
}

/* An UNEXPORT with a wrong key withdraws nothing, but is answered. */
static void db_unexport_wrong_key(struct kunit *test)
{
	struct hdmabuf_msg m, u;

	peer_export(&m, 1);
	peer_sends(&m);
	memset(&u, 0, sizeof(u));
	u.type = HDMABUF_MSG_UNEXPORT;
	u.id = m.id;
	u.id.key[2] ^= 1;
	peer_sends(&u);
	KUNIT_ASSERT_EQ(test, core_sent(test), 3);
	KUNIT_EXPECT_EQ(test, rx[1].type, HDMABUF_MSG_UNEXPORT_REPLY);
	KUNIT_EXPECT_EQ(test, rx[2].type, HDMABUF_MSG_RELEASE);
	KUNIT_EXPECT_EQ(test, importable(), 1u);
}

/* Replies and reports about exports we never made are dropped. */
static void db_exporter_messages_out_of_turn(struct kunit *test)
{
	static const u16 types[] = {
		HDMABUF_MSG_EXPORT_REPLY, HDMABUF_MSG_RELEASE,
		HDMABUF_MSG_USAGE,
	};
	struct hdmabuf_msg m;
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		m.id.vmid = LOCAL_VMID;
		m.id.seq = 1 + i;
		peer_sends(&m);
	}
	KUNIT_EXPECT_EQ(test, core_sent(test), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hdmabuf_stats.exports), 0);
}

/* A peer that goes away takes its buffers with it. */
static void db_peer_gone_withdraws(struct kunit *test)
{
	struct hdmabuf_msg m;
	int i;

	for (i = 1; i <= 4; i++) {
		peer_export(&m, i);
		peer_sends(&m);
	}
	flush_workqueue(hdmabuf_wq);
	KUNIT_EXPECT_EQ(test, importable(), 4u);
	hdmabuf_peer_remove(&fake_be, PEER_VMID);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hdmabuf_stats.imports), 0);
	/* Gone means gone: its messages are no longer heard. */
	peer_export(&m, 9);
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, importable(), 0u);
}

/* The frame state of buffer @seq as QUERY shows it: its frame out, or 0. */
static u64 frame_out(struct hdmabuf_msg *exp)
{
	static struct hdmabuf_file file;
	static u8 priv[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_query q = { };

	if (hdmabuf_import_query(&file, &exp->id, &q, priv))
		return U64_MAX;
	return q.status & HYPER_DMABUF_STATUS_FRAME_PENDING ? q.frame_seq : 0;
}

static void peer_frame(struct hdmabuf_msg *m, const struct hdmabuf_msg *exp,
		       u64 seq)
{
	memset(m, 0, sizeof(*m));
	m->type = HDMABUF_MSG_FRAME;
	m->id = exp->id;
	m->seq = seq;
	m->nr_damage = 1;
	m->damage[0] = (struct hyper_dmabuf_rect){ 0, 0, 32, 32 };
}

/*
 * A peer's frames: one out at a time, in order, with damage inside the
 * image; the lies are dropped and leave the frame state as it was.
 */
static void db_frames_checked(struct kunit *test)
{
	/* Static: too large for a KASAN kernel's stack frame. */
	static struct hdmabuf_file file;
	static struct hdmabuf_msg e, m;
	struct hyper_dmabuf_release_frame r = { };

	peer_export(&e, 1);
	e.image.fourcc = 0x34325258;	/* XRGB8888 */
	e.image.width = 32;
	e.image.height = 32;
	e.image.pitch[0] = 128;
	peer_sends(&e);
	KUNIT_ASSERT_EQ(test, core_sent(test), 1);
	KUNIT_ASSERT_EQ(test, rx[0].status, 0u);

	/* A frame of a buffer never announced is no news. */
	peer_frame(&m, &e, 5);
	m.id.seq = 2;
	peer_sends(&m);
	/* Damage outside the image. */
	peer_frame(&m, &e, 5);
	m.damage[0].x = 1;
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 0ull);

	peer_frame(&m, &e, 5);
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 5ull);
	/* Another while one is out. */
	peer_frame(&m, &e, 6);
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 5ull);

	r.id = e.id;
	r.seq = 5;
	KUNIT_ASSERT_EQ(test, hdmabuf_ioctl_release_frame(&file, &r, NULL), 0L);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 0ull);
	KUNIT_ASSERT_EQ(test, core_sent(test), 2);
	KUNIT_EXPECT_EQ(test, rx[1].type, HDMABUF_MSG_FRAME_RELEASE);
	KUNIT_EXPECT_EQ(test, rx[1].seq, 5ull);

	/* Not after the last frame. */
	peer_frame(&m, &e, 5);
	peer_sends(&m);
	peer_frame(&m, &e, 4);
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 0ull);
	peer_frame(&m, &e, 7);
	peer_sends(&m);
	KUNIT_EXPECT_EQ(test, frame_out(&e), 7ull);
}

/*
 * A frame's release goes out from the releasing call itself, without
 * waiting for the work; when the channel has no room at once, the work
 * sends it later, once and unchanged.
 */
static void db_frame_release_sent_at_once(struct kunit *test)
{
	static struct hdmabuf_file file;
	static struct hdmabuf_msg e, m;
	struct hyper_dmabuf_release_frame r = { };

	peer_export(&e, 1);
	peer_sends(&e);
	KUNIT_ASSERT_EQ(test, core_sent(test), 1);
	KUNIT_ASSERT_EQ(test, rx[0].status, 0u);

	peer_frame(&m, &e, 5);
	m.nr_damage = 0;
	peer_sends(&m);
	r.id = e.id;
	r.seq = 5;
	KUNIT_ASSERT_EQ(test, hdmabuf_ioctl_release_frame(&file, &r, NULL), 0L);
	/* Sent before the call returned, by the caller, not waiting. */
	KUNIT_ASSERT_EQ(test, fake_count(), 2);
	KUNIT_EXPECT_TRUE(test, fake_sent_flags[1] & HDMABUF_SEND_NOWAIT);

	fake_busy = true;
	peer_frame(&m, &e, 6);
	m.nr_damage = 0;
	peer_sends(&m);
	r.seq = 6;
	KUNIT_ASSERT_EQ(test, hdmabuf_ioctl_release_frame(&file, &r, NULL), 0L);
	KUNIT_EXPECT_EQ(test, fake_refused, 1);
	/* The work sends it, as a sender that may wait. */
	KUNIT_ASSERT_EQ(test, core_sent(test), 3);
	KUNIT_EXPECT_EQ(test, rx[1].type, HDMABUF_MSG_FRAME_RELEASE);
	KUNIT_EXPECT_EQ(test, rx[1].seq, 5ull);
	KUNIT_EXPECT_EQ(test, rx[2].type, HDMABUF_MSG_FRAME_RELEASE);
	KUNIT_EXPECT_EQ(test, rx[2].seq, 6ull);
	KUNIT_EXPECT_FALSE(test, fake_sent_flags[2] & HDMABUF_SEND_NOWAIT);
	KUNIT_EXPECT_EQ(test, fake_refused, 1);
}

/*
 * A reply the backend had no memory to send goes again, by the work: the
 * peer waits for it.  (Sent directly by a caller whose allocation failed,
 * an EXPORT_REPLY was once lost, and the exporter timed out.)
 */
static void db_reply_sent_again_without_memory(struct kunit *test)
{
	struct hdmabuf_msg m;
	int i;

	fake_nomem = 2;
	peer_export(&m, 1);
	peer_sends(&m);
	/* Each flush waits for the runs of the work queued before it. */
	for (i = 0; i < 10 && fake_count() < 1; i++)
		flush_workqueue(hdmabuf_wq);
	KUNIT_ASSERT_EQ(test, core_sent(test), 1);
	KUNIT_EXPECT_EQ(test, rx[0].type, HDMABUF_MSG_EXPORT_REPLY);
	KUNIT_EXPECT_EQ(test, rx[0].req_id, m.req_id);
	KUNIT_EXPECT_EQ(test, rx[0].status, 0u);
	KUNIT_EXPECT_EQ(test, fake_nomem, 0);
}

static struct kunit_case hdmabuf_db_cases[] = {
	KUNIT_CASE(db_export_accepted),
	KUNIT_CASE(db_export_foreign_vmid_refused),
	KUNIT_CASE(db_export_duplicate_refused),
	KUNIT_CASE(db_export_flood_bounded),
	KUNIT_CASE(db_export_flood_endpoints),
	KUNIT_CASE(db_export_pages_bounded),
	KUNIT_CASE(db_export_malformed_answered),
	KUNIT_CASE(db_unknown_sender_ignored),
	KUNIT_CASE(db_unexport_releases),
	KUNIT_CASE(db_unexport_wrong_key),
	KUNIT_CASE(db_exporter_messages_out_of_turn),
	KUNIT_CASE(db_peer_gone_withdraws),
	KUNIT_CASE(db_frames_checked),
	KUNIT_CASE(db_frame_release_sent_at_once),
	KUNIT_CASE(db_reply_sent_again_without_memory),
	{}
};

static struct kunit_suite hdmabuf_db_suite = {
	.name = "hyper_dmabuf_db",
	.suite_init = db_suite_init,
	.suite_exit = db_suite_exit,
	.init = db_init,
	.exit = db_exit,
	.test_cases = hdmabuf_db_cases,
};

kunit_test_suite(hdmabuf_db_suite);
