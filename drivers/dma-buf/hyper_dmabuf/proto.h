/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf: the message protocol between two hyper_dmabuf drivers.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDMABUF_PROTO_H
#define _HDMABUF_PROTO_H

#include <linux/kernel.h>
#include <linux/random.h>
#include <linux/types.h>
#include <linux/hyper_dmabuf.h>

#define HDMABUF_PROTO_MAGIC	0x48444d42	/* "HDMB" */
#define HDMABUF_PROTO_VERSION	3

/**
 * enum hdmabuf_msg_type - message types
 * @HDMABUF_MSG_EXPORT: exporter to importer: a new buffer, answered by
 *	%HDMABUF_MSG_EXPORT_REPLY with the same request id
 * @HDMABUF_MSG_EXPORT_REPLY: importer to exporter: 0 or a positive errno
 * @HDMABUF_MSG_UNEXPORT: exporter to importer: the buffer is withdrawn;
 *	answered at once by %HDMABUF_MSG_UNEXPORT_REPLY, and once the
 *	importer has no mapping left, by %HDMABUF_MSG_RELEASE
 * @HDMABUF_MSG_RELEASE: importer to exporter: it no longer maps the pages
 *	and never will again
 * @HDMABUF_MSG_USAGE: importer to exporter: whether it maps the buffer now
 *	(%HDMABUF_MSG_F_IN_USE)
 * @HDMABUF_MSG_UNEXPORT_REPLY: importer to exporter: no new dma-buf of
 *	the buffer can be made here any more
 * @HDMABUF_MSG_FRAME: exporter to importer: frame @seq is ready in the
 *	buffer, with its damage rectangles in the payload
 * @HDMABUF_MSG_FRAME_RELEASE: importer to exporter: it is done with frame
 *	@seq (%HDMABUF_MSG_F_DROPPED: it never showed it)
 * @HDMABUF_MSG_NR: one past the last type
 */
enum hdmabuf_msg_type {
	HDMABUF_MSG_EXPORT = 1,
	HDMABUF_MSG_EXPORT_REPLY,
	HDMABUF_MSG_UNEXPORT,
	HDMABUF_MSG_RELEASE,
	HDMABUF_MSG_USAGE,
	HDMABUF_MSG_UNEXPORT_REPLY,
	HDMABUF_MSG_FRAME,
	HDMABUF_MSG_FRAME_RELEASE,
	HDMABUF_MSG_NR
};

/* flags of HDMABUF_MSG_EXPORT */
#define HDMABUF_MSG_F_RDONLY	BIT(0)
/* flags of HDMABUF_MSG_USAGE */
#define HDMABUF_MSG_F_IN_USE	BIT(0)
/* flags of HDMABUF_MSG_FRAME_RELEASE */
#define HDMABUF_MSG_F_DROPPED	BIT(0)

/**
 * struct hdmabuf_msg - a decoded, validated message
 * @type: &enum hdmabuf_msg_type
 * @req_id: request id, echoed by a reply
 * @status: replies: 0 or a positive errno
 * @flags: %HDMABUF_MSG_F_* bits valid for @type
 * @id: the buffer concerned
 * @nr_pages: %HDMABUF_MSG_EXPORT: pages shared
 * @size: %HDMABUF_MSG_EXPORT: buffer size in bytes
 * @ref: %HDMABUF_MSG_EXPORT: the backend's reference to the shared pages
 * @priv_len: %HDMABUF_MSG_EXPORT: bytes of metadata in @priv
 * @priv: %HDMABUF_MSG_EXPORT: the exporter's metadata
 * @endpoint: %HDMABUF_MSG_EXPORT: the importer's endpoint, a valid name
 *	(hdmabuf_endpoint_valid()) or empty for the default one
 * @image: %HDMABUF_MSG_EXPORT: the image the buffer holds, checked by
 *	hdmabuf_image_check() against @size (zero: none)
 * @seq: %HDMABUF_MSG_FRAME, %HDMABUF_MSG_FRAME_RELEASE: the frame, not 0
 * @nr_damage: %HDMABUF_MSG_FRAME: rectangles in @damage
 * @damage: %HDMABUF_MSG_FRAME: what changed, each rectangle non-empty and
 *	without overflow (the importer checks them against the image)
 */
struct hdmabuf_msg {
	u16 type;
	u32 req_id;
	u32 status;
	u32 flags;
	struct hyper_dmabuf_id id;
	u32 nr_pages;
	u64 size;
	u64 ref;
	u32 priv_len;
	u8 priv[HYPER_DMABUF_PRIV_MAX];
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hyper_dmabuf_image image;
	u64 seq;
	u32 nr_damage;
	struct hyper_dmabuf_rect damage[HYPER_DMABUF_MAX_DAMAGE];
};

/*
 * struct hdmabuf_wire_image - struct hyper_dmabuf_image as it travels
 */
struct hdmabuf_wire_image {
	__le32 fourcc;
	__le32 width;
	__le32 height;
	__le32 reserved;
	__le64 modifier;
	__le32 offset[HYPER_DMABUF_MAX_PLANES];
	__le32 pitch[HYPER_DMABUF_MAX_PLANES];
	__le64 pad;
};

/*
 * struct hdmabuf_wire_msg - the message as it travels
 *
 * Fields as in struct hdmabuf_msg; @magic is HDMABUF_PROTO_MAGIC, @version
 * HDMABUF_PROTO_VERSION, and @reserved, @image's reserved words and the
 * bytes of @priv past @priv_len are zero.  A FRAME carries its damage
 * rectangles in @priv (four __le32 each, @priv_len bytes).
 */
struct hdmabuf_wire_msg {
	__le32 magic;
	__le16 version;
	__le16 type;
	__le32 req_id;
	__le32 status;
	__le32 flags;
	__le32 priv_len;
	__le32 id_vmid;
	__le32 id_seq;
	__le32 id_key[3];
	__le32 nr_pages;
	__le64 size;
	__le64 ref;
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	__le64 seq;
	__le64 reserved;
	struct hdmabuf_wire_image image;
	u8 priv[HYPER_DMABUF_PRIV_MAX];
};

/*
 * For the backends' test faults (CONFIG_HYPER_DMABUF_*_TEST_FAULTS), which
 * play a peer flooding us with announcements: whether @buf, an encoded
 * message, is an EXPORT, and make such a copy announce another buffer,
 * under a random id and a random reference, which costs the flooder
 * nothing.  The copy keeps the original's endpoint, so that its
 * announcements reach the files of a real endpoint.
 */
static inline bool hdmabuf_wire_is_export(const void *buf)
{
	const struct hdmabuf_wire_msg *w = buf;

	return le16_to_cpu(w->type) == HDMABUF_MSG_EXPORT;
}

static inline void hdmabuf_wire_forge_export(void *buf)
{
	struct hdmabuf_wire_msg *w = buf;
	int i;

	w->req_id = cpu_to_le32(get_random_u32());
	w->id_seq = cpu_to_le32(get_random_u32());
	for (i = 0; i < ARRAY_SIZE(w->id_key); i++)
		w->id_key[i] = cpu_to_le32(get_random_u32());
	w->ref = cpu_to_le64(get_random_u32());
}

bool hdmabuf_endpoint_valid(const char *name, bool allow_default);
int hdmabuf_image_check(const struct hyper_dmabuf_image *image, u64 size);
bool hdmabuf_rect_inside(const struct hyper_dmabuf_rect *r,
			 const struct hyper_dmabuf_image *image);
void hdmabuf_msg_encode(const struct hdmabuf_msg *msg, void *buf);
int hdmabuf_msg_decode(const void *buf, size_t len, u32 max_pages,
		       struct hdmabuf_msg *msg);

#endif /* _HDMABUF_PROTO_H */
