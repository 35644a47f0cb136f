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

static void vring_head_out_of_range(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_offer(f, 0, NUM);
	vr_expect_broken(test, f, "available descriptor index out of range");
}

static void vring_next_out_of_range(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->buf, 0), 8, VRING_DESC_F_NEXT, NUM);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "next descriptor index out of range");
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

static void vring_avail_jumps(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->buf, 0), 8, 0, 0);
	vr_le16(f, AVAIL_OFF + 2, NUM + 1);
	vr_expect_broken(test, f, "available index more than a ring ahead");
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

static void vring_indirect_outside(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, OUTSIDE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "indirect table outside the UOS's RAM");
}

static void vring_indirect_bad_length(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->ind, 0), 24, VRING_DESC_F_INDIRECT, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "indirect table of a bad length");
}

static void vring_indirect_nested(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ind, 0, gpa(f->ind, 0), 16, VRING_DESC_F_INDIRECT, 0);
	vr_desc(f->ring, 0, gpa(f->ind, 0), 16, VRING_DESC_F_INDIRECT, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "indirect descriptor in an indirect table");
}

static void vring_indirect_with_next(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->ind, 0), 16,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "indirect descriptor with a next one");
}

/* A loop inside an indirect table ends at the table's size too. */
static void vring_indirect_loop(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ind, 0, gpa(f->buf, 0), 0, VRING_DESC_F_NEXT, 1);
	vr_desc(f->ind, 1, gpa(f->buf, 0), 0, VRING_DESC_F_NEXT, 0);
	vr_desc(f->ring, 0, gpa(f->ind, 0), 32, VRING_DESC_F_INDIRECT, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f,
			 "descriptor chain longer than its table (a loop?)");
}

static void vring_buffer_outside(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, OUTSIDE - 8, 16, 0, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "buffer outside the UOS's RAM");
}

/* An address and length that wrap around 2^64 are outside too. */
static void vring_buffer_wraps(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, U64_MAX - 4, 16, VRING_DESC_F_WRITE, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "buffer outside the UOS's RAM");
}

static void vring_readable_after_writable(struct kunit *test)
{
	struct vr_fixture *f = test->priv;

	vr_desc(f->ring, 0, gpa(f->buf, 0), 8,
		VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vr_desc(f->ring, 1, gpa(f->buf, 8), 8, 0, 0);
	vr_offer(f, 0, 0);
	vr_expect_broken(test, f, "readable descriptor after a writable one");
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
	KUNIT_CASE(vring_head_out_of_range),
	KUNIT_CASE(vring_next_out_of_range),
	KUNIT_CASE(vring_loop),
	KUNIT_CASE(vring_too_many_descriptors),
	KUNIT_CASE(vring_avail_jumps),
	KUNIT_CASE(vring_avail_wraps),
	KUNIT_CASE(vring_indirect),
	KUNIT_CASE(vring_indirect_outside),
	KUNIT_CASE(vring_indirect_bad_length),
	KUNIT_CASE(vring_indirect_nested),
	KUNIT_CASE(vring_indirect_with_next),
	KUNIT_CASE(vring_indirect_loop),
	KUNIT_CASE(vring_buffer_outside),
	KUNIT_CASE(vring_buffer_wraps),
	KUNIT_CASE(vring_readable_after_writable),
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
