// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the device's side of a split virtqueue (vring.c),
 * against rings a hostile driver wrote.  As in table_kunit.c, the test
 * window covers this kernel's own RAM from address 0, so a
 * "guest-physical" address is a physical one.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/virtio_ring.h>

#include "acrn.h"
#include "vring.h"

/* Beyond the test window; page aligned. */
#define OUTSIDE		BIT_ULL(46)
#define NUM		16
/* The areas of the queue, in one page. */
#define DESC_OFF	0
#define AVAIL_OFF	512
#define USED_OFF	1024

/**
 * struct vr_fixture - a queue in this kernel's RAM, and its device
 * @w: the test window
 * @ring: the page holding the three areas
 * @buf: a page for the buffers
 * @ind: a page for indirect tables
 * @vr: the device's state
 */
struct vr_fixture {
	struct hdacrn_window w;
	struct page *ring;
	struct page *buf;
	struct page *ind;
	struct hdacrn_vring vr;
};

static u64 gpa(struct page *page, unsigned int off)
{
	return page_to_phys(page) + off;
}

static void vr_desc(struct page *table, unsigned int i, u64 addr, u32 len,
		    u16 flags, u16 next)
{
	u8 *t = page_address(table);
	__le64 a = cpu_to_le64(addr);
	__le32 l = cpu_to_le32(len);
	__le16 f = cpu_to_le16(flags), n = cpu_to_le16(next);

	memcpy(t + 16 * i, &a, 8);
	memcpy(t + 16 * i + 8, &l, 4);
	memcpy(t + 16 * i + 12, &f, 2);
	memcpy(t + 16 * i + 14, &n, 2);
}

static void vr_le16(struct vr_fixture *f, unsigned int off, u16 v)
{
	__le16 raw = cpu_to_le16(v);

	memcpy((u8 *)page_address(f->ring) + off, &raw, 2);
}

static u16 vr_get16(struct vr_fixture *f, unsigned int off)
{
	__le16 raw;

	memcpy(&raw, (u8 *)page_address(f->ring) + off, 2);
	return le16_to_cpu(raw);
}

/* The driver makes buffer @head available as its @n-th (from 0). */
static void vr_offer(struct vr_fixture *f, u16 n, u16 head)
{
	vr_le16(f, AVAIL_OFF + 4 + 2 * (n % NUM), head);
	vr_le16(f, AVAIL_OFF + 2, n + 1);
}

static int vr_init(struct kunit *test)
{
	struct vr_fixture *f;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->w.size = OUTSIDE;
	f->ring = alloc_page(GFP_KERNEL | __GFP_ZERO);
	f->buf = alloc_page(GFP_KERNEL | __GFP_ZERO);
	f->ind = alloc_page(GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, f->ring);
	KUNIT_ASSERT_NOT_NULL(test, f->buf);
	KUNIT_ASSERT_NOT_NULL(test, f->ind);
	KUNIT_ASSERT_EQ(test, hdacrn_vring_init(&f->vr, &f->w, NUM,
						gpa(f->ring, DESC_OFF),
						gpa(f->ring, AVAIL_OFF),
						gpa(f->ring, USED_OFF)), 0);
	test->priv = f;
	return 0;
}

static void vr_exit(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	if (!f)
		return;
	__free_page(f->ring);
	__free_page(f->buf);
	__free_page(f->ind);
}

/* The driver broke the ring: this and every later call says so. */
static void vr_expect_broken(struct kunit *test, struct vr_fixture *f,
			     const char *why)
{
	struct hdacrn_vring_chain c;

	KUNIT_EXPECT_EQ(test, hdacrn_vring_pop(&f->vr, &c), -EPROTO);
	KUNIT_ASSERT_NOT_NULL(test, f->vr.why);
	KUNIT_EXPECT_STREQ(test, f->vr.why, why);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_pop(&f->vr, &c), -EPROTO);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_push(&f->vr, 0, 0), -EPROTO);
}

/* A request (readable) and room for the answer (writable), and back. */
static void vring_round_trip(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	struct hdacrn_vring_chain c;
	u8 in[100], out[20], *b = page_address(f->buf);
	unsigned int i;

	for (i = 0; i < sizeof(in); i++)
		b[i] = i + 1;
	memset(out, 0xa5, sizeof(out));
	KUNIT_EXPECT_EQ(test, hdacrn_vring_pop(&f->vr, &c), -ENOENT);
	vr_desc(f->ring, 3, gpa(f->buf, 0), 100, VRING_DESC_F_NEXT, 7);
	vr_desc(f->ring, 7, gpa(f->buf, 2048), 64, VRING_DESC_F_WRITE, 0);
	vr_offer(f, 0, 3);

	KUNIT_ASSERT_EQ(test, hdacrn_vring_pop(&f->vr, &c), 0);
	KUNIT_EXPECT_EQ(test, c.head, 3);
	KUNIT_EXPECT_EQ(test, c.nr, 2u);
	KUNIT_EXPECT_EQ(test, c.out_len, 100u);
	KUNIT_EXPECT_EQ(test, c.in_len, 64u);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_read(&f->vr, &c, in, sizeof(in)),
			(ssize_t)sizeof(in));
	KUNIT_EXPECT_EQ(test, memcmp(in, b, sizeof(in)), 0);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_write(&f->vr, &c, out, 65),
			(ssize_t)-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_write(&f->vr, &c, out, sizeof(out)),
			(ssize_t)sizeof(out));
	KUNIT_EXPECT_EQ(test, memcmp(b + 2048, out, sizeof(out)), 0);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_pop(&f->vr, &c), -ENOENT);

	KUNIT_ASSERT_EQ(test, hdacrn_vring_push(&f->vr, 3, sizeof(out)), 0);
	KUNIT_EXPECT_EQ(test, vr_get16(f, USED_OFF + 2), 1);
	KUNIT_EXPECT_EQ(test, vr_get16(f, USED_OFF + 4), 3);
	KUNIT_EXPECT_EQ(test, vr_get16(f, USED_OFF + 8), (u16)sizeof(out));
	/* Nothing else is out: a second push is the caller's bug. */
	KUNIT_EXPECT_EQ(test, hdacrn_vring_push(&f->vr, 3, 0), -EINVAL);

	KUNIT_EXPECT_TRUE(test, hdacrn_vring_wants_interrupt(&f->vr));
	vr_le16(f, AVAIL_OFF, VRING_AVAIL_F_NO_INTERRUPT);
	KUNIT_EXPECT_FALSE(test, hdacrn_vring_wants_interrupt(&f->vr));
	KUNIT_EXPECT_NULL(test, f->vr.why);
}

/* A queue's size and areas are checked before anything is read. */
static void vring_init_refuses(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	struct hdacrn_vring vr;
	u64 d = gpa(f->ring, DESC_OFF), a = gpa(f->ring, AVAIL_OFF);
	u64 u = gpa(f->ring, USED_OFF);

	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, 0, d, a, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, 12, d, a, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w,
						2 * HDACRN_VRING_MAX, d, a, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM, d + 8, a, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM, d, a + 1, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM, d, a, u + 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM,
						OUTSIDE - 16 * 8, a, u),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM, d, a,
						OUTSIDE - 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_init(&vr, &f->w, NUM, d,
						U64_MAX - 1, u),
			-EINVAL);
}

/* 0 -> 1 -> 0: walked once around the table, then refused. */
static void vring_loop(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->buf, 0), 0, VRING_DESC_F_NEXT, 1);
	vr_desc(f->ring, 1, gpa(f->buf, 0), 0, VRING_DESC_F_NEXT, 0);
	vr_offer(f, 0, 0);
	KUNIT_EXPECT_EQ(test, hdacrn_vring_pop(&f->vr,
					       &(struct hdacrn_vring_chain){}),
			-EPROTO);
	/* Either bound may end the walk first; both are lies. */
	KUNIT_EXPECT_NOT_NULL(test, f->vr.why);
}

/* A chain through every descriptor: more than a buffer may have. */
static void vring_too_many_descriptors(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	unsigned int i;

	for (i = 0; i < NUM; i++)
		vr_desc(f->ring, i, gpa(f->buf, 0), 1,
			VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			(i + 1) % NUM);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "buffer of too many descriptors");
}

/* The index may wrap: a ring's worth ahead of the count is fine. */
static void vring_avail_wraps(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	struct hdacrn_vring_chain c;
	unsigned int n;

	vr_desc(f->ring, 0, gpa(f->buf, 0), 8, 0, 0);
	for (n = 0; n < 0x10000 + 3; n++) {
		vr_offer(f, n, 0);
		if (hdacrn_vring_pop(&f->vr, &c) ||
		    hdacrn_vring_push(&f->vr, 0, 0))
			break;
	}
	KUNIT_EXPECT_EQ(test, n, 0x10000u + 3);
	KUNIT_EXPECT_EQ(test, vr_get16(f, USED_OFF + 2), 3);
}

static void vring_indirect(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	struct hdacrn_vring_chain c;

	vr_desc(f->ind, 0, gpa(f->buf, 0), 416, VRING_DESC_F_NEXT, 1);
	vr_desc(f->ind, 1, gpa(f->buf, 1024), 4, VRING_DESC_F_WRITE, 0);
	vr_desc(f->ring, 5, gpa(f->ind, 0), 32, VRING_DESC_F_INDIRECT, 0);
	vr_offer(f, 0, 5);
	KUNIT_ASSERT_EQ(test, hdacrn_vring_pop(&f->vr, &c), 0);
	KUNIT_EXPECT_EQ(test, c.head, 5);
	KUNIT_EXPECT_EQ(test, c.nr, 2u);
	KUNIT_EXPECT_EQ(test, c.out_len, 416u);
	KUNIT_EXPECT_EQ(test, c.in_len, 4u);
}

/* Where a descriptor of a lie points: nowhere in particular, or a page. */
enum vr_base { VR_ABS, VR_BUF, VR_IND };

/**
 * struct vr_desc_spec - a descriptor a lie writes
 * @ind: in the indirect table's page rather than the queue's table
 * @i: its index there
 * @base: what @off is relative to
 * @off: its address, from @base
 * @len: its length
 * @flags: VRING_DESC_F_*
 * @next: its next index
 */
struct vr_desc_spec {
	bool ind;
	u8 i;
	enum vr_base base;
	u64 off;
	u32 len;
	u16 flags;
	u16 next;
};

/**
 * struct vr_lie - a ring a hostile driver writes, and what the device says
 * @name: the lie
 * @desc: the descriptors it writes
 * @nr: how many
 * @head: the buffer it offers
 * @avail_idx: the available index it writes instead, when not 0
 * @why: the reason the device must give
 */
struct vr_lie {
	const char *name;
	struct vr_desc_spec desc[3];
	unsigned int nr;
	u16 head;
	u16 avail_idx;
	const char *why;
};

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_IND		VRING_DESC_F_INDIRECT

static const struct vr_lie vr_lies[] = {
	{ "head out of range", {}, 0, NUM, 0,
	  "available descriptor index out of range" },
	{ "next out of range",
	  { { false, 0, VR_BUF, 0, 8, F_NEXT, NUM } }, 1, 0, 0,
	  "next descriptor index out of range" },
	{ "available index a ring and one ahead",
	  { { false, 0, VR_BUF, 0, 8, 0, 0 } }, 1, 0, NUM + 1,
	  "available index more than a ring ahead" },
	{ "indirect table outside the RAM",
	  { { false, 0, VR_ABS, OUTSIDE - 16, 32, F_IND, 0 } }, 1, 0, 0,
	  "indirect table outside the UOS's RAM" },
	{ "indirect table of 24 bytes",
	  { { false, 0, VR_IND, 0, 24, F_IND, 0 } }, 1, 0, 0,
	  "indirect table of a bad length" },
	{ "indirect table of 0 bytes",
	  { { false, 0, VR_IND, 0, 0, F_IND, 0 } }, 1, 0, 0,
	  "indirect table of a bad length" },
	{ "indirect table longer than the queue",
	  { { false, 0, VR_IND, 0, 16 * (NUM + 1), F_IND, 0 } }, 1, 0, 0,
	  "indirect table of a bad length" },
	{ "indirect table in an indirect table",
	  { { true, 0, VR_IND, 0, 16, F_IND, 0 },
	    { false, 0, VR_IND, 0, 16, F_IND, 0 } }, 2, 0, 0,
	  "indirect descriptor in an indirect table" },
	{ "indirect descriptor with a next",
	  { { false, 0, VR_IND, 0, 16, F_IND | F_NEXT, 1 } }, 1, 0, 0,
	  "indirect descriptor with a next one" },
	{ "loop in an indirect table",
	  { { true, 0, VR_BUF, 0, 0, F_NEXT, 1 },
	    { true, 1, VR_BUF, 0, 0, F_NEXT, 0 },
	    { false, 0, VR_IND, 0, 32, F_IND, 0 } }, 3, 0, 0,
	  "descriptor chain longer than its table (a loop?)" },
	{ "buffer past the end of the RAM",
	  { { false, 0, VR_ABS, OUTSIDE - 8, 16, 0, 0 } }, 1, 0, 0,
	  "buffer outside the UOS's RAM" },
	{ "buffer wrapping past 2^64",
	  { { false, 0, VR_ABS, U64_MAX - 4, 16, F_WRITE, 0 } }, 1, 0, 0,
	  "buffer outside the UOS's RAM" },
	{ "readable descriptor after a writable one",
	  { { false, 0, VR_BUF, 0, 8, F_WRITE | F_NEXT, 1 },
	    { false, 1, VR_BUF, 8, 8, 0, 0 } }, 2, 0, 0,
	  "readable descriptor after a writable one" },
};

static void vr_lie_name(const struct vr_lie *t, char *desc)
{
	strscpy(desc, t->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vr_lies, vr_lies, vr_lie_name);

/* Each lie breaks the queue, with its reason, for good. */
static void vring_lie(struct kunit *test)
{
	const struct vr_lie *t = test->param_value;
	struct vr_fixture *f = test->priv;
	const struct vr_desc_spec *d;
	unsigned int k;
	u64 base;

	for (k = 0; k < t->nr; k++) {
		d = &t->desc[k];
		base = d->base == VR_BUF ? gpa(f->buf, 0) :
		       d->base == VR_IND ? gpa(f->ind, 0) : 0;
		vr_desc(d->ind ? f->ind : f->ring, d->i, base + d->off, d->len,
			d->flags, d->next);
	}
	if (t->avail_idx)
		vr_le16(f, AVAIL_OFF + 2, t->avail_idx);
	else
		vr_offer(f, 0, t->head);
	vr_expect_broken(test, f, t->why);
}

/* What the driver rewrites after the pop changes nothing checked. */
static void vring_rewrite_after_pop(struct kunit *test)
{
	struct vr_fixture *f = test->priv;
	struct hdacrn_vring_chain c;
	u8 in[8];

	vr_desc(f->ring, 0, gpa(f->buf, 0), 8, 0, 0);
	vr_offer(f, 0, 0);
	KUNIT_ASSERT_EQ(test, hdacrn_vring_pop(&f->vr, &c), 0);
	vr_desc(f->ring, 0, OUTSIDE - 4, 4096, 0, 0);
	KUNIT_EXPECT_EQ(test, c.seg[0].gpa, gpa(f->buf, 0));
	KUNIT_EXPECT_EQ(test, hdacrn_vring_read(&f->vr, &c, in, sizeof(in)),
			(ssize_t)sizeof(in));
}

static struct kunit_case hdacrn_vring_cases[] = {
	KUNIT_CASE(vring_round_trip),
	KUNIT_CASE(vring_init_refuses),
	KUNIT_CASE(vring_loop),
	KUNIT_CASE(vring_too_many_descriptors),
	KUNIT_CASE(vring_avail_wraps),
	KUNIT_CASE(vring_indirect),
	KUNIT_CASE_PARAM(vring_lie, vr_lies_gen_params),
	KUNIT_CASE(vring_rewrite_after_pop),
	{}
};

static struct kunit_suite hdacrn_vring_suite = {
	.name = "hyper_dmabuf_acrn_vring",
	.init = vr_init,
	.exit = vr_exit,
	.test_cases = hdacrn_vring_cases,
};

kunit_test_suite(hdacrn_vring_suite);
