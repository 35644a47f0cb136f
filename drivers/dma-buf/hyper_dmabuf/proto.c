// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: encoding and validation of inter-driver messages.
 *
 * Every message is HDMABUF_MSG_SIZE bytes, little endian, versioned.  The
 * decoder trusts nothing: it checks the length, magic, version, type, every
 * reserved field and every bound before the core sees a field.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "backend.h"
#include "proto.h"

static_assert(sizeof(struct hdmabuf_wire_msg) == HDMABUF_MSG_SIZE);

static bool hdmabuf_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static void hdmabuf_image_encode(const struct hyper_dmabuf_image *im,
				 struct hdmabuf_wire_image *w)
{
	int i;

	w->fourcc = cpu_to_le32(im->fourcc);
	w->width = cpu_to_le32(im->width);
	w->height = cpu_to_le32(im->height);
	w->modifier = cpu_to_le64(im->modifier);
	for (i = 0; i < HYPER_DMABUF_MAX_PLANES; i++) {
		w->offset[i] = cpu_to_le32(im->offset[i]);
		w->pitch[i] = cpu_to_le32(im->pitch[i]);
	}
}

static void hdmabuf_image_decode(const struct hdmabuf_wire_image *w,
				 struct hyper_dmabuf_image *im)
{
	int i;

	im->fourcc = le32_to_cpu(w->fourcc);
	im->width = le32_to_cpu(w->width);
	im->height = le32_to_cpu(w->height);
	im->reserved = le32_to_cpu(w->reserved);
	im->modifier = le64_to_cpu(w->modifier);
	for (i = 0; i < HYPER_DMABUF_MAX_PLANES; i++) {
		im->offset[i] = le32_to_cpu(w->offset[i]);
		im->pitch[i] = le32_to_cpu(w->pitch[i]);
	}
}

/* Damage rectangles travel in the payload, four __le32 each. */
static void hdmabuf_damage_encode(const struct hdmabuf_msg *msg, u8 *priv)
{
	__le32 *p = (__le32 *)priv;
	u32 i;

	for (i = 0; i < msg->nr_damage; i++) {
		*p++ = cpu_to_le32(msg->damage[i].x);
		*p++ = cpu_to_le32(msg->damage[i].y);
		*p++ = cpu_to_le32(msg->damage[i].width);
		*p++ = cpu_to_le32(msg->damage[i].height);
	}
}

static int hdmabuf_damage_decode(const u8 *priv, u32 len,
				 struct hdmabuf_msg *msg)
{
	const __le32 *p = (const __le32 *)priv;
	struct hyper_dmabuf_rect *r;
	u32 i;

	if (len % (4 * sizeof(__le32)) ||
	    len / (4 * sizeof(__le32)) > HYPER_DMABUF_MAX_DAMAGE)
		return -EPROTO;
	msg->nr_damage = len / (4 * sizeof(__le32));
	for (i = 0; i < msg->nr_damage; i++) {
		r = &msg->damage[i];
		r->x = le32_to_cpu(*p++);
		r->y = le32_to_cpu(*p++);
		r->width = le32_to_cpu(*p++);
		r->height = le32_to_cpu(*p++);
		if (!r->width || !r->height ||
		    (u64)r->x + r->width > U32_MAX ||
		    (u64)r->y + r->height > U32_MAX)
			return -EPROTO;
	}
	return 0;
}

/**
 * hdmabuf_msg_encode() - encode a message for the wire
 * @msg: the message; fields not used by its type must be zero
 * @buf: HDMABUF_MSG_SIZE bytes to fill
 */
void hdmabuf_msg_encode(const struct hdmabuf_msg *msg, void *buf)
{
	struct hdmabuf_wire_msg *w = buf;
	u32 len = min_t(u32, msg->priv_len, HYPER_DMABUF_PRIV_MAX);
	int i;

	memset(w, 0, sizeof(*w));
	w->magic = cpu_to_le32(HDMABUF_PROTO_MAGIC);
	w->version = cpu_to_le16(HDMABUF_PROTO_VERSION);
	w->type = cpu_to_le16(msg->type);
	w->req_id = cpu_to_le32(msg->req_id);
	w->status = cpu_to_le32(msg->status);
	w->flags = cpu_to_le32(msg->flags);
	w->priv_len = cpu_to_le32(len);
	w->id_vmid = cpu_to_le32(msg->id.vmid);
	w->id_seq = cpu_to_le32(msg->id.seq);
	for (i = 0; i < 3; i++)
		w->id_key[i] = cpu_to_le32(msg->id.key[i]);
	w->nr_pages = cpu_to_le32(msg->nr_pages);
	w->size = cpu_to_le64(msg->size);
	w->ref = cpu_to_le64(msg->ref);
	memcpy(w->endpoint, msg->endpoint, sizeof(w->endpoint));
	w->seq = cpu_to_le64(msg->seq);
	hdmabuf_image_encode(&msg->image, &w->image);
	if (msg->type == HDMABUF_MSG_FRAME) {
		len = min_t(u32, msg->nr_damage, HYPER_DMABUF_MAX_DAMAGE);
		w->priv_len = cpu_to_le32(len * 4 * sizeof(__le32));
		hdmabuf_damage_encode(msg, w->priv);
		return;
	}
	memcpy(w->priv, msg->priv, len);
}

/* Fields each type may carry; everything else must be zero. */
#define F_STATUS	BIT(0)
#define F_EXPORT	BIT(1)	/* nr_pages, size, ref, priv, endpoint, image */
#define F_SEQ		BIT(2)
#define F_DAMAGE	BIT(3)	/* priv holds damage rectangles */

static const struct {
	u32 fields;
	u32 flags;
} hdmabuf_msg_layout[HDMABUF_MSG_NR] = {
	[HDMABUF_MSG_EXPORT]		= { F_EXPORT, HDMABUF_MSG_F_RDONLY },
	[HDMABUF_MSG_EXPORT_REPLY]	= { F_STATUS, 0 },
	[HDMABUF_MSG_UNEXPORT]		= { 0, 0 },
	[HDMABUF_MSG_RELEASE]		= { 0, 0 },
	[HDMABUF_MSG_USAGE]		= { 0, HDMABUF_MSG_F_IN_USE },
	[HDMABUF_MSG_UNEXPORT_REPLY]	= { 0, 0 },
	[HDMABUF_MSG_FRAME]		= { F_SEQ | F_DAMAGE, 0 },
	[HDMABUF_MSG_FRAME_RELEASE]	= { F_SEQ, HDMABUF_MSG_F_DROPPED },
};

/**
 * hdmabuf_msg_decode() - decode and validate a message from a peer
 * @buf: what the peer sent
 * @len: its length
 * @max_pages: largest page count an export may carry
 * @msg: filled with the decoded message on success
 *
 * On failure, once the header (length, magic, version, type) is sound,
 * @msg->type, @msg->req_id and @msg->id are set so that the caller can
 * answer a bad request; nothing else in @msg may be used.
 *
 * Return: 0, or -EPROTO for anything malformed (wrong size, magic, version
 * or type, a reserved field or a field the type does not carry set, an
 * unknown flag, a frame without a sequence number or with a bad damage
 * rectangle), -EFBIG for a page count over @max_pages, -EINVAL for a size
 * that is not the page count's worth of whole pages or an image
 * description that does not fit the buffer.
 */
int hdmabuf_msg_decode(const void *buf, size_t len, u32 max_pages,
		       struct hdmabuf_msg *msg)
{
	const struct hdmabuf_wire_msg *w = buf;
	u32 fields, type;
	int i, ret;

	memset(msg, 0, sizeof(*msg));
	if (len != sizeof(*w) || le32_to_cpu(w->magic) != HDMABUF_PROTO_MAGIC ||
	    le16_to_cpu(w->version) != HDMABUF_PROTO_VERSION)
		return -EPROTO;
	type = le16_to_cpu(w->type);
	if (type == 0 || type >= HDMABUF_MSG_NR)
		return -EPROTO;
	/* From here on the caller may use type, req_id and id to answer. */
	msg->type = type;
	msg->req_id = le32_to_cpu(w->req_id);
	msg->id.vmid = le32_to_cpu(w->id_vmid);
	msg->id.seq = le32_to_cpu(w->id_seq);
	for (i = 0; i < 3; i++)
		msg->id.key[i] = le32_to_cpu(w->id_key[i]);
	if (w->reserved || w->image.pad)
		return -EPROTO;

	msg->status = le32_to_cpu(w->status);
	msg->flags = le32_to_cpu(w->flags);
	msg->nr_pages = le32_to_cpu(w->nr_pages);
	msg->size = le64_to_cpu(w->size);
	msg->ref = le64_to_cpu(w->ref);
	msg->priv_len = le32_to_cpu(w->priv_len);
	msg->seq = le64_to_cpu(w->seq);
	hdmabuf_image_decode(&w->image, &msg->image);

	fields = hdmabuf_msg_layout[type].fields;
	if (msg->flags & ~hdmabuf_msg_layout[type].flags)
		return -EPROTO;
	if (!(fields & F_STATUS) && msg->status)
		return -EPROTO;
	if ((fields & F_STATUS) && msg->status > MAX_ERRNO)
		return -EPROTO;
	if (msg->priv_len > HYPER_DMABUF_PRIV_MAX ||
	    !hdmabuf_zero(w->priv + msg->priv_len,
			  sizeof(w->priv) - msg->priv_len))
		return -EPROTO;

	if (!(fields & F_SEQ) != !msg->seq)
		return -EPROTO;

	memcpy(msg->endpoint, w->endpoint, sizeof(msg->endpoint));
	if (!(fields & F_EXPORT)) {
		if (msg->nr_pages || msg->size || msg->ref ||
		    !hdmabuf_zero(msg->endpoint, sizeof(msg->endpoint)) ||
		    !hdmabuf_zero(&w->image, sizeof(w->image)))
			return -EPROTO;
		if (fields & F_DAMAGE) {
			ret = hdmabuf_damage_decode(w->priv, msg->priv_len,
						    msg);
			msg->priv_len = 0;
			return ret;
		}
		return msg->priv_len ? -EPROTO : 0;
	}
	if (!hdmabuf_endpoint_valid(msg->endpoint, true))
		return -EPROTO;

	if (!msg->nr_pages)
		return -EINVAL;
	if (msg->nr_pages > max_pages)
		return -EFBIG;
	/* Only whole pages are shared. */
	if (msg->size != (u64)msg->nr_pages << PAGE_SHIFT)
		return -EINVAL;
	ret = hdmabuf_image_check(&msg->image, msg->size);
	if (ret)
		return ret;
	memcpy(msg->priv, w->priv, msg->priv_len);
	return 0;
}
