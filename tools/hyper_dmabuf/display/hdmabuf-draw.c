// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-draw: the exporting half of the scan-out test, a guest's
 * "compositor" that renders an animation into a swapchain of dma-bufs
 * shared once with the display VM, frame by frame.
 *
 *   hdmabuf-draw VMID FRAMES [WIDTH HEIGHT [BUFFERS]]
 *
 * Allocates BUFFERS (3) XRGB8888 buffers of WIDTHxHEIGHT (800x600) from the
 * system dma-heap and exports each once to VM VMID, with its image
 * description (and, as metadata, "hdmabuf-draw buf=I of=N ...").  Then,
 * for frames 1 to FRAMES, the swapchain loop: take a free buffer (the one
 * released longest ago), draw the frame into it (scanout.h), PRESENT it
 * with the frame number as sequence number; when no buffer is free, wait
 * for a FRAME_RELEASED event.  At the end it waits until every frame is
 * released and prints an account: frames presented, released, dropped
 * (released unshown) and aborted.  It fails when a frame is never
 * released or comes back with the wrong sequence number.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/drm_fourcc.h>
#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>

#include "scanout.h"

#define MAX_BUFS	8
/* How long the display may keep every buffer. */
#define RELEASE_TIMEOUT_MS	180000

struct draw_buf {
	int fd;
	__u32 *px;
	struct hyper_dmabuf_id id;
	__u64 pending;		/* the frame out, 0 when free */
};

static struct draw_buf bufs[MAX_BUFS];
static unsigned int nbuf = 3;
/* Free buffers, the one released longest ago first. */
static unsigned int freeq[MAX_BUFS], nfree;
static unsigned int presented, released, dropped, aborted;

static void die(const char *what)
{
	fprintf(stderr, "hdmabuf-draw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int heap_alloc(size_t size)
{
	struct dma_heap_allocation_data a = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap, ret;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -1;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a);
	close(heap);
	return ret ? -1 : (int)a.fd;
}

static int same_id(const struct hyper_dmabuf_id *a,
		   const struct hyper_dmabuf_id *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Wait for one FRAME_RELEASED event and free its buffer. */
static void wait_release(int dev)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	struct hyper_dmabuf_event ev;
	unsigned int i;

	for (;;) {
		if (poll(&pfd, 1, RELEASE_TIMEOUT_MS) != 1) {
			errno = ETIMEDOUT;
			die("waiting for a frame's release");
		}
		if (read(dev, &ev, sizeof(ev)) != sizeof(ev))
			die("reading an event");
		if (ev.type != HYPER_DMABUF_EVENT_FRAME_RELEASED) {
			printf("event %u ignored\n", ev.type);
			continue;
		}
		for (i = 0; i < nbuf; i++)
			if (same_id(&bufs[i].id, &ev.id))
				break;
		if (i == nbuf || bufs[i].pending != ev.frame.seq) {
			fprintf(stderr,
				"hdmabuf-draw: frame %llu released, not one of ours\n",
				(unsigned long long)ev.frame.seq);
			exit(1);
		}
		released++;
		if (ev.frame.flags & HYPER_DMABUF_FRAME_DROPPED)
			dropped++;
		if (ev.frame.flags & HYPER_DMABUF_FRAME_ABORTED)
			aborted++;
		printf("frame %llu released from buf %u%s%s\n",
		       (unsigned long long)ev.frame.seq, i,
		       ev.frame.flags & HYPER_DMABUF_FRAME_DROPPED ?
		       ", dropped" : "",
		       ev.frame.flags & HYPER_DMABUF_FRAME_ABORTED ?
		       ", aborted" : "");
		bufs[i].pending = 0;
		freeq[nfree++] = i;
		return;
	}
}

int main(int argc, char **argv)
{
	unsigned int vmid, frames, w = 800, h = 600, pitch, i;
	char meta[128];
	__u64 seq;
	size_t size;
	int dev;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 && argc != 5 && argc != 6) {
		fprintf(stderr,
			"usage: %s VMID FRAMES [WIDTH HEIGHT [BUFFERS]]\n",
			argv[0]);
		return 2;
	}
	vmid = strtoul(argv[1], NULL, 0);
	frames = strtoul(argv[2], NULL, 0);
	if (argc >= 5) {
		w = strtoul(argv[3], NULL, 0);
		h = strtoul(argv[4], NULL, 0);
	}
	if (argc == 6)
		nbuf = strtoul(argv[5], NULL, 0);
	if (!w || !h || w > 4096 || h > 4096 || !nbuf || nbuf > MAX_BUFS) {
		fprintf(stderr, "hdmabuf-draw: bad size or buffer count\n");
		return 2;
	}
	pitch = w * 4;
	size = (size_t)pitch * h;

	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/" HYPER_DMABUF_DEVICE_NAME);
	for (i = 0; i < nbuf; i++) {
		struct hyper_dmabuf_export e = {
			.flags = HYPER_DMABUF_EXPORT_RDONLY,
			.remote_vmid = vmid,
			.priv = (unsigned long)meta,
			.image = {
				.fourcc = DRM_FORMAT_XRGB8888,
				.width = w,
				.height = h,
				.modifier = DRM_FORMAT_MOD_LINEAR,
				.pitch = { pitch },
			},
		};

		bufs[i].fd = heap_alloc(size);
		if (bufs[i].fd < 0)
			die("dma-heap allocation");
		bufs[i].px = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_SHARED, bufs[i].fd, 0);
		if (bufs[i].px == MAP_FAILED)
			die("mmap");
		snprintf(meta, sizeof(meta),
			 HD_SCANOUT_META " buf=%u of=%u width=%u height=%u pitch=%u format=XR24",
			 i, nbuf, w, h, pitch);
		e.fd = bufs[i].fd;
		e.priv_len = strlen(meta) + 1;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e))
			die("export");
		bufs[i].id = e.id;
		freeq[nfree++] = i;
		printf("exported buf %u as %x:%x (%llu bytes) to VM %u\n", i,
		       e.id.vmid, e.id.seq, (unsigned long long)e.size, vmid);
	}
	printf("ready %ux%u, %u buffers\n", w, h, nbuf);

	for (seq = 1; seq <= frames; seq++) {
		struct hyper_dmabuf_rect all = { .width = w, .height = h };
		struct hyper_dmabuf_present p = {
			.seq = seq,
			.nr_damage = 1,
			.damage = (unsigned long)&all,
		};

		while (!nfree)
			wait_release(dev);
		i = freeq[0];
		memmove(freeq, freeq + 1, --nfree * sizeof(freeq[0]));
		hd_scanout_draw(bufs[i].px, pitch, seq, w, h);
		p.id = bufs[i].id;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_PRESENT, &p))
			die("PRESENT");
		bufs[i].pending = seq;
		presented++;
		printf("frame %llu presented in buf %u\n",
		       (unsigned long long)seq, i);
	}
	while (nfree < nbuf)
		wait_release(dev);
	printf("account: %u frames presented, %u released (%u dropped, %u aborted)\n",
	       presented, released, dropped, aborted);
	return released == presented ? 0 : 1;
}
