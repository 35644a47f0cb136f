// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the device's side of a split virtqueue.
 *
 * On a real ACRN a user VM (UOS) reaches its service VM (SOS) through
 * virtio: the UOS's driver keeps its virtqueues in its own RAM, and a
 * backend in the SOS serves them, reading the rings as a VBS-K or vhost
 * backend reads guest memory.  This is that backend's ring reader, for
 * the split layout of the virtio 1.x specification (section 2.7), in
 * little-endian, through the SOS's window onto the UOS's RAM.
 *
 * The driver is not trusted.  The areas, every descriptor's buffer and
 * every indirect table must lie inside the UOS's RAM; every index is
 * checked against its table; a chain is walked at most once around its
 * table (a loop is a lie, not a hang) and may hold at most
 * HDACRN_VRING_MAX_SEGS descriptors, the device-readable ones first; the
 * available index may not run more than a ring ahead of the device's own
 * count; indirect tables may not nest.  A descriptor is copied out of the
 * UOS's RAM before it is looked at.  The first lie breaks the ring for
 * good: the caller drops that UOS's transport, and no later call touches
 * the ring.  Linux's vringh does the same for vhost, but needs
 * CONFIG_VHOST_RING, which Debian's kernel lacks, and reads through
 * user, kernel or IOTLB addresses, none of which is a window.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/virtio_ring.h>

#include "acrn.h"
#include "vring.h"

/**
 * struct hdacrn_vring_desc - a descriptor as the driver writes it
 * @addr: guest-physical address of the buffer
 * @len: its length
 * @flags: VRING_DESC_F_*
 * @next: the next descriptor's index, with VRING_DESC_F_NEXT
 */
struct hdacrn_vring_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

/**
 * struct hdacrn_vring_used_elem - an entry of the used ring
 * @id: the head of the buffer the device is done with
 * @len: bytes the device wrote into it
 */
struct hdacrn_vring_used_elem {
	__le32 id;
	__le32 len;
};

/* Offsets in the driver and device areas: flags, index, ring. */
#define HDACRN_VRING_IDX	2
#define HDACRN_VRING_RING	4

static bool hdacrn_vring_inside(struct hdacrn_window *w, u64 gpa, u64 len)
{
	u64 end;

	return !check_add_overflow(gpa, len, &end) && end <= w->size;
}

/*
 * Copy between the UOS's RAM, already checked, and @buf: into the UOS's
 * RAM with @to_uos, when @buf is only read.
 */
static void hdacrn_vring_copy(struct hdacrn_window *w, u64 gpa, void *buf,
			      size_t len, bool to_uos)
{
	unsigned int off;
	size_t n;
	void *p;

	while (len) {
		off = offset_in_page(gpa);
		n = min_t(size_t, len, PAGE_SIZE - off);
		p = kmap_local_page(hdacrn_window_page(w, gpa - off));
		if (to_uos)
			memcpy(p + off, buf, n);
		else
			memcpy(buf, p + off, n);
		kunmap_local(p);
		gpa += n;
		buf += n;
		len -= n;
	}
}

static int hdacrn_vring_broke(struct hdacrn_vring *vr, const char *why)
{
	vr->why = why;
	return -EPROTO;
}

/**
 * hdacrn_vring_init() - take up a virtqueue the driver set up
 * @vr: the device's state, filled in
 * @w: the window onto the driver's RAM; the caller keeps it alive while
 *	it uses @vr
 * @num: the queue size the driver chose
 * @desc: guest-physical address of the descriptor table
 * @avail: ... of the driver area
 * @used: ... of the device area
 *
 * Return: 0, or -EINVAL when the size is not a power of two up to
 * %HDACRN_VRING_MAX or an area is misaligned or not all in the window.
 */
int hdacrn_vring_init(struct hdacrn_vring *vr, struct hdacrn_window *w,
		      u32 num, u64 desc, u64 avail, u64 used)
{
	if (!num || num > HDACRN_VRING_MAX || !is_power_of_2(num))
		return -EINVAL;
	if (!IS_ALIGNED(desc, 16) || !IS_ALIGNED(avail, 2) ||
	    !IS_ALIGNED(used, 4))
		return -EINVAL;
	if (!hdacrn_vring_inside(w, desc, 16ULL * num) ||
	    !hdacrn_vring_inside(w, avail, HDACRN_VRING_RING + 2ULL * num + 2) ||
	    !hdacrn_vring_inside(w, used, HDACRN_VRING_RING + 8ULL * num + 2))
		return -EINVAL;
	memset(vr, 0, sizeof(*vr));
	vr->w = w;
	vr->num = num;
	vr->desc = desc;
	vr->avail = avail;
	vr->used = used;
	return 0;
}

/* Add one checked data descriptor to @c. */
static int hdacrn_vring_add(struct hdacrn_vring *vr,
			    struct hdacrn_vring_chain *c, u64 addr, u32 len,
			    bool write)
{
	u32 *total = write ? &c->in_len : &c->out_len;

	if (!hdacrn_vring_inside(vr->w, addr, len))
		return hdacrn_vring_broke(vr, "buffer outside the UOS's RAM");
	if (!write && c->nr && c->seg[c->nr - 1].write)
		return hdacrn_vring_broke(vr,
					  "readable descriptor after a writable one");
	if (c->nr == HDACRN_VRING_MAX_SEGS)
		return hdacrn_vring_broke(vr, "buffer of too many descriptors");
	if (check_add_overflow(*total, len, total))
		return hdacrn_vring_broke(vr, "buffer longer than 4 GiB");
	c->seg[c->nr].gpa = addr;
	c->seg[c->nr].len = len;
	c->seg[c->nr].write = write;
	c->nr++;
	return 0;
}

/*
 * Walk the chain from @head: through the descriptor table, and through
 * at most one indirect table that a descriptor of it names.
 */
static int hdacrn_vring_walk(struct hdacrn_vring *vr, u16 head,
			     struct hdacrn_vring_chain *c)
{
	struct hdacrn_vring_desc d;
	u32 size = vr->num, steps = 0, len;
	bool indirect = false;
	u64 table = vr->desc;
	u16 flags, i = head;
	int ret;

	memset(c, 0, sizeof(*c));
	c->head = head;
	for (;;) {
		/* Each entry of a table at most once: a loop is a lie. */
		if (++steps > size)
			return hdacrn_vring_broke(vr,
						  "descriptor chain longer than its table (a loop?)");
		hdacrn_vring_copy(vr->w, table + 16ULL * i, &d, sizeof(d),
				  false);
		flags = le16_to_cpu(d.flags);
		len = le32_to_cpu(d.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return hdacrn_vring_broke(vr,
							  "indirect descriptor in an indirect table");
			if (flags & VRING_DESC_F_NEXT)
				return hdacrn_vring_broke(vr,
							  "indirect descriptor with a next one");
			if (!len || len % 16 || len / 16 > vr->num)
				return hdacrn_vring_broke(vr,
							  "indirect table of a bad length");
			table = le64_to_cpu(d.addr);
			if (!hdacrn_vring_inside(vr->w, table, len))
				return hdacrn_vring_broke(vr,
							  "indirect table outside the UOS's RAM");
			indirect = true;
			size = len / 16;
			steps = 0;
			i = 0;
			continue;
		}
		ret = hdacrn_vring_add(vr, c, le64_to_cpu(d.addr), len,
				       flags & VRING_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16_to_cpu(d.next);
		if (i >= size)
			return hdacrn_vring_broke(vr,
						  "next descriptor index out of range");
	}
}

/**
 * hdacrn_vring_pop() - take the next buffer the driver made available
 * @vr: the virtqueue
 * @c: filled in with the buffer's checked descriptors
 *
 * Return: 0; -ENOENT when none is available; -EPROTO when the driver
 * broke the ring (@vr->why says how), now or before.
 */
int hdacrn_vring_pop(struct hdacrn_vring *vr, struct hdacrn_vring_chain *c)
{
	__le16 raw;
	u16 idx, head;
	int ret;

	if (vr->why)
		return -EPROTO;
	hdacrn_vring_copy(vr->w, vr->avail + HDACRN_VRING_IDX, &raw,
			  sizeof(raw), false);
	idx = le16_to_cpu(raw);
	if ((u16)(idx - vr->last_avail) > vr->num)
		return hdacrn_vring_broke(vr,
					  "available index more than a ring ahead");
	if (idx == vr->last_avail)
		return -ENOENT;
	/* The entry only after the index that covers it. */
	virt_rmb();
	hdacrn_vring_copy(vr->w, vr->avail + HDACRN_VRING_RING +
			  2ULL * (vr->last_avail & (vr->num - 1)),
			  &raw, sizeof(raw), false);
	head = le16_to_cpu(raw);
	if (head >= vr->num)
		return hdacrn_vring_broke(vr,
					  "available descriptor index out of range");
	ret = hdacrn_vring_walk(vr, head, c);
	if (ret)
		return ret;
	vr->last_avail++;
	return 0;
}

/**
 * hdacrn_vring_push() - give a buffer back to the driver
 * @vr: the virtqueue
 * @head: the buffer, as hdacrn_vring_pop() gave it
 * @len: bytes the device wrote into it
 *
 * Return: 0; -EPROTO when the ring is broken; -EINVAL when no buffer is
 * out to give back.
 */
int hdacrn_vring_push(struct hdacrn_vring *vr, u16 head, u32 len)
{
	struct hdacrn_vring_used_elem e = {
		.id = cpu_to_le32(head),
		.len = cpu_to_le32(len),
	};
	__le16 raw;

	if (vr->why)
		return -EPROTO;
	if (head >= vr->num || vr->used_idx == vr->last_avail)
		return -EINVAL;
	hdacrn_vring_copy(vr->w, vr->used + HDACRN_VRING_RING +
			  8ULL * (vr->used_idx & (vr->num - 1)),
			  &e, sizeof(e), true);
	/* The entry before the index that publishes it. */
	virt_wmb();
	vr->used_idx++;
	raw = cpu_to_le16(vr->used_idx);
	hdacrn_vring_copy(vr->w, vr->used + HDACRN_VRING_IDX, &raw,
			  sizeof(raw), true);
	return 0;
}

/**
 * hdacrn_vring_wants_interrupt() - whether to interrupt the driver for
 *	what was pushed
 * @vr: the virtqueue
 *
 * Return: false when the driver asked for no interrupts
 * (VRING_AVAIL_F_NO_INTERRUPT), a hint only, or the ring is broken.
 */
bool hdacrn_vring_wants_interrupt(struct hdacrn_vring *vr)
{
	__le16 raw;

	if (vr->why)
		return false;
	/* The used index before the look at the driver's flags. */
	virt_mb();
	hdacrn_vring_copy(vr->w, vr->avail, &raw, sizeof(raw), false);
	return !(le16_to_cpu(raw) & VRING_AVAIL_F_NO_INTERRUPT);
}

/**
 * hdacrn_vring_read() - copy out what the driver put in a buffer
 * @vr: the virtqueue
 * @c: the buffer
 * @buf: where to
 * @len: at most this many bytes
 *
 * Return: the bytes copied, at most the buffer's readable length.
 */
ssize_t hdacrn_vring_read(struct hdacrn_vring *vr,
			  const struct hdacrn_vring_chain *c, void *buf,
			  size_t len)
{
	size_t done = 0, n;
	unsigned int i;

	for (i = 0; i < c->nr && done < len && !c->seg[i].write; i++) {
		n = min_t(size_t, len - done, c->seg[i].len);
		hdacrn_vring_copy(vr->w, c->seg[i].gpa, buf + done, n, false);
		done += n;
	}
	return done;
}

/**
 * hdacrn_vring_write() - fill the writable part of a buffer
 * @vr: the virtqueue
 * @c: the buffer
 * @buf: what to write
 * @len: its length
 *
 * Return: the bytes written, or -EMSGSIZE, having written nothing, when
 * the buffer's writable part is shorter than @len.
 */
ssize_t hdacrn_vring_write(struct hdacrn_vring *vr,
			   const struct hdacrn_vring_chain *c, const void *buf,
			   size_t len)
{
	size_t done = 0, n;
	unsigned int i;

	if (len > c->in_len)
		return -EMSGSIZE;
	for (i = 0; i < c->nr && done < len; i++) {
		if (!c->seg[i].write)
			continue;
		n = min_t(size_t, len - done, c->seg[i].len);
		/* Only read from, in this direction. */
		hdacrn_vring_copy(vr->w, c->seg[i].gpa, (void *)buf + done, n,
				  true);
		done += n;
	}
	return done;
}
