// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the hyper_dmabuf message codec: round trips, and every
 * way a hostile peer can malform a message.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <asm/unaligned.h>

#include <uapi/drm/drm_fourcc.h>

#include "../hdmabuf.h"

/* Offsets in the wire format (proto.c), which the tests corrupt. */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_TYPE	6
#define OFF_STATUS	12
#define OFF_FLAGS	16
#define OFF_PRIV_LEN	20
#define OFF_NR_PAGES	44
#define OFF_SIZE	48
#define OFF_REF		56
#define OFF_ENDPOINT	64
#define OFF_SEQ		80
#define OFF_RESERVED	88
#define OFF_IMAGE	96
#define OFF_IMAGE_PAD	152
#define OFF_PRIV	160

#define MAX_PAGES	1024

static void make_export(struct hdmabuf_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = HDMABUF_MSG_EXPORT;
	m->req_id = 42;
	m->flags = HDMABUF_MSG_F_RDONLY;
	m->id.vmid = 7;
	m->id.seq = 9;
	m->id.key[0] = 0x11111111;
	m->id.key[1] = 0x22222222;
	m->id.key[2] = 0x33333333;
	m->nr_pages = 3;
	m->size = 3 * PAGE_SIZE;
	m->ref = 0x1234567890ull;
	m->priv_len = 5;
	memcpy(m->priv, "meta", 5);
}

static int decode(const u8 *buf, struct hdmabuf_msg *out)
{
	return hdmabuf_msg_decode(buf, HDMABUF_MSG_SIZE, MAX_PAGES, out);
}

static void proto_export_round_trip(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	KUNIT_ASSERT_EQ(test, decode(buf, &d), 0);
	KUNIT_EXPECT_EQ(test, d.type, m.type);
	KUNIT_EXPECT_EQ(test, d.req_id, m.req_id);
	KUNIT_EXPECT_EQ(test, d.flags, m.flags);
	KUNIT_EXPECT_TRUE(test, hdmabuf_id_match(&d.id, &m.id));
	KUNIT_EXPECT_EQ(test, d.nr_pages, m.nr_pages);
	KUNIT_EXPECT_EQ(test, d.size, m.size);
	KUNIT_EXPECT_EQ(test, d.ref, m.ref);
	KUNIT_EXPECT_EQ(test, d.priv_len, m.priv_len);
	KUNIT_EXPECT_EQ(test, memcmp(d.priv, m.priv, m.priv_len), 0);
}

static void proto_small_types_round_trip(struct kunit *test)
{
	static const u16 types[] = {
		HDMABUF_MSG_EXPORT_REPLY, HDMABUF_MSG_UNEXPORT,
		HDMABUF_MSG_RELEASE, HDMABUF_MSG_USAGE,
		HDMABUF_MSG_UNEXPORT_REPLY,
	};
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		m.id.vmid = 1;
		m.id.seq = i;
		if (types[i] == HDMABUF_MSG_EXPORT_REPLY)
			m.status = ENOSPC;
		if (types[i] == HDMABUF_MSG_USAGE)
			m.flags = HDMABUF_MSG_F_IN_USE;
		hdmabuf_msg_encode(&m, buf);
		KUNIT_EXPECT_EQ(test, decode(buf, &d), 0);
		KUNIT_EXPECT_EQ(test, d.type, m.type);
		KUNIT_EXPECT_EQ(test, d.status, m.status);
		KUNIT_EXPECT_EQ(test, d.flags, m.flags);
	}
}

static void proto_rejects_bad_length(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE + 1];
	struct hdmabuf_msg m, d;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, hdmabuf_msg_decode(buf, 0, MAX_PAGES, &d),
			-EPROTO);
	KUNIT_EXPECT_EQ(test, hdmabuf_msg_decode(buf, HDMABUF_MSG_SIZE - 1,
						 MAX_PAGES, &d), -EPROTO);
	KUNIT_EXPECT_EQ(test, hdmabuf_msg_decode(buf, HDMABUF_MSG_SIZE + 1,
						 MAX_PAGES, &d), -EPROTO);
}

static void proto_rejects_bad_header(struct kunit *test)
{
	static const u16 bad_types[] = { 0, HDMABUF_MSG_NR, 0xffff };
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;
	int i;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(0x12345678, buf + OFF_MAGIC);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le16(HDMABUF_PROTO_VERSION + 1, buf + OFF_VERSION);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	for (i = 0; i < ARRAY_SIZE(bad_types); i++) {
		hdmabuf_msg_encode(&m, buf);
		put_unaligned_le16(bad_types[i], buf + OFF_TYPE);
		KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
		KUNIT_EXPECT_EQ(test, d.type, 0);
	}
}

/* Every reserved byte, and the sequence number an export has not. */
static void proto_rejects_reserved(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;
	int off;

	make_export(&m);
	for (off = OFF_SEQ; off < OFF_PRIV; off++) {
		if (off == OFF_IMAGE)
			off = OFF_IMAGE_PAD;
		hdmabuf_msg_encode(&m, buf);
		buf[off] = 1;
		KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
		/* The header was sound: the caller can still answer. */
		KUNIT_EXPECT_EQ(test, d.type, HDMABUF_MSG_EXPORT);
		KUNIT_EXPECT_EQ(test, d.req_id, m.req_id);
	}
}

static void proto_rejects_bad_flags_and_status(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(HDMABUF_MSG_F_RDONLY | BIT(5), buf + OFF_FLAGS);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* A status only travels in replies, and is an errno. */
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(1, buf + OFF_STATUS);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	memset(&m, 0, sizeof(m));
	m.type = HDMABUF_MSG_EXPORT_REPLY;
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(MAX_ERRNO + 1, buf + OFF_STATUS);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* RELEASE carries no flags at all. */
	m.type = HDMABUF_MSG_RELEASE;
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(HDMABUF_MSG_F_IN_USE, buf + OFF_FLAGS);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
}

static void proto_rejects_bad_priv(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(HYPER_DMABUF_PRIV_MAX + 1, buf + OFF_PRIV_LEN);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	put_unaligned_le32(U32_MAX, buf + OFF_PRIV_LEN);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* Bytes past priv_len must be zero: no smuggled data. */
	hdmabuf_msg_encode(&m, buf);
	buf[OFF_PRIV + m.priv_len] = 'x';
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	hdmabuf_msg_encode(&m, buf);
	buf[HDMABUF_MSG_SIZE - 1] = 'x';
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
}

static void proto_rejects_bad_sizes(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(0, buf + OFF_NR_PAGES);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);

	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(MAX_PAGES + 1, buf + OFF_NR_PAGES);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EFBIG);
	put_unaligned_le32(U32_MAX, buf + OFF_NR_PAGES);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EFBIG);

	/* The size must be exactly nr_pages whole pages. */
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le64(0, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	put_unaligned_le64(3 * PAGE_SIZE + 1, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	put_unaligned_le64(2 * PAGE_SIZE, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	/* A partial last page would share the bytes after the buffer. */
	put_unaligned_le64(2 * PAGE_SIZE + 1, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	put_unaligned_le64(3 * PAGE_SIZE - 1, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	put_unaligned_le64(U64_MAX, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	put_unaligned_le64(3 * PAGE_SIZE, buf + OFF_SIZE);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), 0);
}

/* Export fields on a type that carries none are malformed. */
static void proto_rejects_foreign_fields(struct kunit *test)
{
	static const int offs[] = { OFF_NR_PAGES, OFF_SIZE, OFF_REF,
				    OFF_PRIV_LEN, OFF_ENDPOINT };
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;
	int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		memset(&m, 0, sizeof(m));
		m.type = HDMABUF_MSG_UNEXPORT;
		hdmabuf_msg_encode(&m, buf);
		buf[offs[i]] = 1;
		KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	}
}

/* An export names its endpoint; only well-formed names pass. */
static void proto_export_endpoint(struct kunit *test)
{
	static const char * const bad[] = {
		".hidden", "sp ace", "slash/", "a\nb", "0123456789abcdef",
	};
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;
	int i;

	make_export(&m);
	strscpy(m.endpoint, "display-1.b_2", sizeof(m.endpoint));
	hdmabuf_msg_encode(&m, buf);
	KUNIT_ASSERT_EQ(test, decode(buf, &d), 0);
	KUNIT_EXPECT_STREQ(test, d.endpoint, "display-1.b_2");

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		make_export(&m);
		hdmabuf_msg_encode(&m, buf);
		memcpy(buf + OFF_ENDPOINT, bad[i],
		       min_t(size_t, strlen(bad[i]), HYPER_DMABUF_ENDPOINT_LEN));
		KUNIT_EXPECT_EQ_MSG(test, decode(buf, &d), -EPROTO, "%s",
				    bad[i]);
	}
	/* Bytes after the name's NUL must be zero too. */
	make_export(&m);
	strscpy(m.endpoint, "ab", sizeof(m.endpoint));
	hdmabuf_msg_encode(&m, buf);
	buf[OFF_ENDPOINT + 5] = 'c';
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
}

static void make_frame(struct hdmabuf_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = HDMABUF_MSG_FRAME;
	m->id.vmid = 7;
	m->id.seq = 9;
	m->seq = 0x100000001ull;
	m->nr_damage = 2;
	m->damage[0] = (struct hyper_dmabuf_rect){ 1, 2, 3, 4 };
	m->damage[1] = (struct hyper_dmabuf_rect){ 0, 0, 640, 480 };
}

/* Frames carry their sequence number and damage; releases a flag. */
static void proto_frame_round_trip(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_frame(&m);
	hdmabuf_msg_encode(&m, buf);
	KUNIT_ASSERT_EQ(test, decode(buf, &d), 0);
	KUNIT_EXPECT_EQ(test, d.seq, m.seq);
	KUNIT_EXPECT_EQ(test, d.nr_damage, 2u);
	KUNIT_EXPECT_EQ(test, d.priv_len, 0u);
	KUNIT_EXPECT_EQ(test, memcmp(d.damage, m.damage,
				     2 * sizeof(m.damage[0])), 0);

	memset(&m, 0, sizeof(m));
	m.type = HDMABUF_MSG_FRAME_RELEASE;
	m.seq = 5;
	m.flags = HDMABUF_MSG_F_DROPPED;
	hdmabuf_msg_encode(&m, buf);
	KUNIT_ASSERT_EQ(test, decode(buf, &d), 0);
	KUNIT_EXPECT_EQ(test, d.seq, 5ull);
	KUNIT_EXPECT_EQ(test, d.flags, HDMABUF_MSG_F_DROPPED);
}

static void proto_rejects_bad_frame(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	/* A frame has a sequence number, a release too. */
	make_frame(&m);
	m.seq = 0;
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	memset(&m, 0, sizeof(m));
	m.type = HDMABUF_MSG_FRAME_RELEASE;
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* Whole rectangles only, and at most HYPER_DMABUF_MAX_DAMAGE. */
	make_frame(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(2 * 16 + 4, buf + OFF_PRIV_LEN);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	put_unaligned_le32((HYPER_DMABUF_MAX_DAMAGE + 1) * 16,
			   buf + OFF_PRIV_LEN);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* Empty and wrapping rectangles. */
	make_frame(&m);
	m.damage[1].width = 0;
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	make_frame(&m);
	m.damage[0].y = U32_MAX;
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);

	/* No image on a frame, no unknown flag. */
	make_frame(&m);
	hdmabuf_msg_encode(&m, buf);
	buf[OFF_IMAGE] = 1;
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
	make_frame(&m);
	hdmabuf_msg_encode(&m, buf);
	put_unaligned_le32(HDMABUF_MSG_F_DROPPED, buf + OFF_FLAGS);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EPROTO);
}

static void set_xrgb(struct hyper_dmabuf_image *im, u32 w, u32 h, u32 pitch)
{
	memset(im, 0, sizeof(*im));
	im->fourcc = DRM_FORMAT_XRGB8888;
	im->width = w;
	im->height = h;
	im->pitch[0] = pitch;
}

/* An export's image description travels, checked against its size. */
static void proto_export_image(struct kunit *test)
{
	u8 buf[HDMABUF_MSG_SIZE];
	struct hdmabuf_msg m, d;

	make_export(&m);
	/* 3 pages: 16 rows of 192 pixels, 768 bytes each, is 12 KiB. */
	set_xrgb(&m.image, 192, 16, 768);
	hdmabuf_msg_encode(&m, buf);
	KUNIT_ASSERT_EQ(test, decode(buf, &d), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&d.image, &m.image, sizeof(m.image)), 0);

	/* One row more is outside the buffer. */
	set_xrgb(&m.image, 192, 17, 768);
	hdmabuf_msg_encode(&m, buf);
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
	/* Reserved image fields, with or without a format. */
	make_export(&m);
	hdmabuf_msg_encode(&m, buf);
	buf[OFF_IMAGE + 12] = 1;
	KUNIT_EXPECT_EQ(test, decode(buf, &d), -EINVAL);
}

/* The checks of hdmabuf_image_check(), format by format. */
static void format_check(struct kunit *test)
{
	struct hyper_dmabuf_image im;
	u64 size = 64 * 48 * 3 / 2;	/* NV12, 64 by 48, tight */

	memset(&im, 0, sizeof(im));
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), 0);

	im.fourcc = DRM_FORMAT_NV12;
	im.width = 64;
	im.height = 48;
	im.pitch[0] = 64;
	im.offset[1] = 64 * 48;
	im.pitch[1] = 64;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, size), 0);
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, size - 1), -EINVAL);
	/* A pitch shorter than a row. */
	im.pitch[1] = 63;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, size), -EINVAL);
	im.pitch[1] = 64;
	/* A plane the format has not, on a linear layout. */
	im.pitch[2] = 64;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, size), -EINVAL);
	im.pitch[2] = 0;
	/* Huge offsets do not wrap. */
	im.offset[1] = U32_MAX;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, size), -EINVAL);

	/* Unknown formats, empty or huge images. */
	set_xrgb(&im, 16, 16, 64);
	im.fourcc = fourcc_code('N', 'O', 'P', 'E');
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), -EINVAL);
	set_xrgb(&im, 0, 16, 64);
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), -EINVAL);
	set_xrgb(&im, 65536, 1, U32_MAX);
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, U64_MAX), -EINVAL);

	/* A vendor layout: planes need only start inside the buffer. */
	set_xrgb(&im, 16, 16, 64);
	im.modifier = fourcc_mod_code(INTEL, 1);	/* X-tiled */
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), 0);
	im.offset[0] = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), -EINVAL);
	im.offset[0] = 0;
	im.modifier = DRM_FORMAT_MOD_INVALID;
	KUNIT_EXPECT_EQ(test, hdmabuf_image_check(&im, PAGE_SIZE), -EINVAL);
}

static void format_rect_inside(struct kunit *test)
{
	struct hyper_dmabuf_image im;
	struct hyper_dmabuf_rect r = { 0, 0, 16, 16 };

	set_xrgb(&im, 16, 16, 64);
	KUNIT_EXPECT_TRUE(test, hdmabuf_rect_inside(&r, &im));
	r.x = 1;
	KUNIT_EXPECT_FALSE(test, hdmabuf_rect_inside(&r, &im));
	r = (struct hyper_dmabuf_rect){ 15, 15, 1, 1 };
	KUNIT_EXPECT_TRUE(test, hdmabuf_rect_inside(&r, &im));
	r = (struct hyper_dmabuf_rect){ 2, 2, U32_MAX, 1 };
	KUNIT_EXPECT_FALSE(test, hdmabuf_rect_inside(&r, &im));
	r = (struct hyper_dmabuf_rect){ 0, 0, 1, 0 };
	KUNIT_EXPECT_FALSE(test, hdmabuf_rect_inside(&r, &im));
	/* Without an image there is no inside. */
	memset(&im, 0, sizeof(im));
	r = (struct hyper_dmabuf_rect){ 0, 0, 1, 1 };
	KUNIT_EXPECT_FALSE(test, hdmabuf_rect_inside(&r, &im));
}

/*
 * Random garbage, and random corruption of a valid message: decoding
 * never succeeds with fields out of bounds, and whatever it accepts
 * encodes back to the very same bytes.
 */
static void proto_fuzz(struct kunit *test)
{
	/* Static: too large for a KASAN kernel's stack frame. */
	static u8 buf[HDMABUF_MSG_SIZE], again[HDMABUF_MSG_SIZE];
	static struct hdmabuf_msg m, d;
	struct rnd_state rnd;
	int i, j, ok = 0;

	prandom_seed_state(&rnd, 0x48444d42);
	for (i = 0; i < 20000; i++) {
		if (i & 1) {
			prandom_bytes_state(&rnd, buf, sizeof(buf));
		} else {
			make_export(&m);
			hdmabuf_msg_encode(&m, buf);
			for (j = 0; j < 1 + prandom_u32_state(&rnd) % 4; j++)
				buf[prandom_u32_state(&rnd) % sizeof(buf)] ^=
					1 << (prandom_u32_state(&rnd) % 8);
		}
		if (decode(buf, &d))
			continue;
		ok++;
		KUNIT_EXPECT_LE(test, d.priv_len, HYPER_DMABUF_PRIV_MAX);
		if (d.type == HDMABUF_MSG_EXPORT) {
			KUNIT_EXPECT_GE(test, d.nr_pages, 1u);
			KUNIT_EXPECT_LE(test, d.nr_pages, MAX_PAGES);
			KUNIT_EXPECT_LE(test, d.size,
					(u64)d.nr_pages << PAGE_SHIFT);
		}
		hdmabuf_msg_encode(&d, again);
		KUNIT_EXPECT_EQ(test, memcmp(again, buf, sizeof(buf)), 0);
	}
	/* Single-bit corruption of id, ref or metadata stays valid. */
	KUNIT_EXPECT_GT(test, ok, 0);
}

static struct kunit_case hdmabuf_proto_cases[] = {
	KUNIT_CASE(proto_export_round_trip),
	KUNIT_CASE(proto_small_types_round_trip),
	KUNIT_CASE(proto_rejects_bad_length),
	KUNIT_CASE(proto_rejects_bad_header),
	KUNIT_CASE(proto_rejects_reserved),
	KUNIT_CASE(proto_rejects_bad_flags_and_status),
	KUNIT_CASE(proto_rejects_bad_priv),
	KUNIT_CASE(proto_rejects_bad_sizes),
	KUNIT_CASE(proto_rejects_foreign_fields),
	KUNIT_CASE(proto_export_endpoint),
	KUNIT_CASE(proto_frame_round_trip),
	KUNIT_CASE(proto_rejects_bad_frame),
	KUNIT_CASE(proto_export_image),
	KUNIT_CASE(format_check),
	KUNIT_CASE(format_rect_inside),
	KUNIT_CASE(proto_fuzz),
	{}
};

static struct kunit_suite hdmabuf_proto_suite = {
	.name = "hyper_dmabuf_proto",
	.test_cases = hdmabuf_proto_cases,
};

kunit_test_suite(hdmabuf_proto_suite);
