/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the scan-out test draws and how its halves talk: shared by
 * hdmabuf-draw (the exporter) and hdmabuf-kms (the display).  The host's
 * checker, tools/hyper_dmabuf/rig/scanout-check, computes the same frames.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef HDMABUF_SCANOUT_H
#define HDMABUF_SCANOUT_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Prefix of the metadata of every buffer hdmabuf-draw exports. */
#define HD_SCANOUT_META	"hdmabuf-draw"

/*
 * Pixel (@x, @y) of frame @frame, @w pixels wide, as XRGB8888: red follows
 * x, green follows y, both shifted by the frame number, blue is the frame
 * number's own, and a bar an eighth of the width wide, inverted, moves by a
 * sixteenth of the width per frame.  Two frames differ in nearly every
 * pixel, so a stale or torn frame cannot pass for the right one.
 */
static inline uint32_t hd_scanout_pixel(unsigned int frame, unsigned int x,
					unsigned int y, unsigned int w)
{
	unsigned int bar = frame * (w / 16) % w;
	uint32_t p;

	p = ((x + frame * 7) & 0xff) << 16 | ((y + frame * 13) & 0xff) << 8 |
	    ((frame * 29 + 64) & 0xff);
	if ((x + w - bar) % w < w / 8)
		p ^= 0xffffff;
	return p;
}

/* Draw frame @frame into @px, @pitch bytes a line. */
static inline void hd_scanout_draw(uint32_t *px, unsigned int pitch,
				   unsigned int frame, unsigned int w,
				   unsigned int h)
{
	unsigned int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			px[y * (pitch / 4) + x] = hd_scanout_pixel(frame, x, y, w);
}

/*
 * Read one line from @fd into @buf (without its newline), a byte at a time:
 * the channel is a serial line or a FIFO.  -1 with errno ETIMEDOUT after
 * @timeout_ms without a byte, EPIPE at the end.
 */
static inline int hd_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;
	char c;

	while (n + 1 < len) {
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, &c, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			if (!r)
				errno = EPIPE;
			return -1;
		}
		if (c == '\r')
			continue;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return n;
}

/* Write all of @s to @fd. */
static inline int hd_write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t r;

	while (len) {
		r = write(fd, s, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		len -= r;
	}
	return 0;
}

#endif /* HDMABUF_SCANOUT_H */
