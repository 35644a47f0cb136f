/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyper_dmabuf ACRN backend: the device's side of a split virtqueue that
 * a user VM's driver keeps in its own RAM, read and written by the
 * service VM through its window onto that RAM (vring.c).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDACRN_VRING_H
#define _HDACRN_VRING_H

#include <linux/types.h>

struct hdacrn_window;

/* The largest queue the device accepts: bounds the work of one chain. */
#define HDACRN_VRING_MAX		256
/* Descriptors one buffer may have, indirect ones included. */
#define HDACRN_VRING_MAX_SEGS		8

/**
 * struct hdacrn_vring_seg - one descriptor of a buffer, checked
 * @gpa: where its bytes are, in the UOS's RAM
 * @len: how many
 * @write: the device writes it (the driver reads)
 */
struct hdacrn_vring_seg {
	u64 gpa;
	u32 len;
	bool write;
};

/**
 * struct hdacrn_vring_chain - a buffer the driver made available
 * @head: the index of its first descriptor, for hdacrn_vring_push()
 * @nr: descriptors in @seg: the readable ones first, then the writable
 * @out_len: bytes the device may read
 * @in_len: bytes the device may write
 * @seg: its descriptors, copied and checked
 */
struct hdacrn_vring_chain {
	u16 head;
	unsigned int nr;
	u32 out_len;
	u32 in_len;
	struct hdacrn_vring_seg seg[HDACRN_VRING_MAX_SEGS];
};

/**
 * struct hdacrn_vring - the device's view of one split virtqueue
 * @w: the window onto the UOS's RAM, through which every access goes
 * @num: the queue size, a power of two up to %HDACRN_VRING_MAX
 * @desc: guest-physical address of the descriptor table
 * @avail: ... of the driver area (the available ring)
 * @used: ... of the device area (the used ring)
 * @last_avail: available entries taken, the device's own count
 * @used_idx: used entries published, the device's own count
 * @why: how the driver broke the ring, or NULL while it has not; once
 *	set, every call fails with -EPROTO
 *
 * The device keeps its own counts and reads each index the driver owns
 * once per look; every descriptor is copied out of the UOS's RAM before
 * it is checked, so a driver that rewrites the ring meanwhile changes
 * nothing that was checked.  One caller at a time.
 */
struct hdacrn_vring {
	struct hdacrn_window *w;
	u16 num;
	u64 desc;
	u64 avail;
	u64 used;
	u16 last_avail;
	u16 used_idx;
	const char *why;
};

int hdacrn_vring_init(struct hdacrn_vring *vr, struct hdacrn_window *w,
		      u32 num, u64 desc, u64 avail, u64 used);
int hdacrn_vring_pop(struct hdacrn_vring *vr, struct hdacrn_vring_chain *c);
int hdacrn_vring_push(struct hdacrn_vring *vr, u16 head, u32 len);
bool hdacrn_vring_wants_interrupt(struct hdacrn_vring *vr);
ssize_t hdacrn_vring_read(struct hdacrn_vring *vr,
			  const struct hdacrn_vring_chain *c, void *buf,
			  size_t len);
ssize_t hdacrn_vring_write(struct hdacrn_vring *vr,
			   const struct hdacrn_vring_chain *c, const void *buf,
			   size_t len);

#endif /* _HDACRN_VRING_H */
