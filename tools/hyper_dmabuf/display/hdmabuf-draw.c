// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-draw: the exporting half of the scan-out test, a guest's
 * "compositor" that draws an animation into a swapchain of dma-bufs shared
 * with the display VM.
 *
 *   hdmabuf-draw VMID CTL [WIDTH HEIGHT [BUFFERS]]
 *
 * Allocates BUFFERS (3) XRGB8888 buffers of WIDTHxHEIGHT (800x600) from the
 * system dma-heap, exports each once to VM VMID with its description as
 * metadata ("hdmabuf-draw buf=I of=N width=W height=H pitch=P
 * format=XR24"), then makes the FIFOs CTL.in and CTL.out and says "ready".
 * For each line "draw N" on CTL.in it draws frame N (scanout.h) into buffer
 * N % BUFFERS and answers "drawn N buf B" on CTL.out; "quit" ends it.
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
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>

#include "scanout.h"

#define MAX_BUFS	8

struct draw_buf {
	int fd;
	uint32_t *px;
	struct hyper_dmabuf_id id;
};

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

static int reply(const char *ctl, const char *line)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s.out", ctl);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = hd_write_all(fd, line);
	close(fd);
	return ret;
}

static int make_fifos(const char *ctl)
{
	char path[256];

	snprintf(path, sizeof(path), "%s.in", ctl);
	unlink(path);
	if (mkfifo(path, 0600))
		return -1;
	snprintf(path, sizeof(path), "%s.out", ctl);
	unlink(path);
	return mkfifo(path, 0600);
}

int main(int argc, char **argv)
{
	unsigned int vmid, w = 800, h = 600, nbuf = 3, pitch, i, frame;
	unsigned int drawn = 0;
	struct draw_buf bufs[MAX_BUFS];
	char meta[128], line[128], path[256];
	const char *ctl;
	size_t size;
	int dev, in;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 && argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s VMID CTL [WIDTH HEIGHT [BUFFERS]]\n",
			argv[0]);
		return 2;
	}
	vmid = strtoul(argv[1], NULL, 0);
	ctl = argv[2];
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
	if (dev < 0) {
		perror("hdmabuf-draw: /dev/" HYPER_DMABUF_DEVICE_NAME);
		return 1;
	}
	for (i = 0; i < nbuf; i++) {
		struct hyper_dmabuf_export e = {
			.flags = HYPER_DMABUF_EXPORT_RDONLY,
			.remote_vmid = vmid,
			.priv = (unsigned long)meta,
		};

		bufs[i].fd = heap_alloc(size);
		if (bufs[i].fd < 0) {
			perror("hdmabuf-draw: dma-heap allocation");
			return 1;
		}
		bufs[i].px = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_SHARED, bufs[i].fd, 0);
		if (bufs[i].px == MAP_FAILED) {
			perror("hdmabuf-draw: mmap");
			return 1;
		}
		/* Nothing shown yet: black. */
		memset(bufs[i].px, 0, size);
		snprintf(meta, sizeof(meta),
			 HD_SCANOUT_META " buf=%u of=%u width=%u height=%u pitch=%u format=XR24",
			 i, nbuf, w, h, pitch);
		e.fd = bufs[i].fd;
		e.priv_len = strlen(meta) + 1;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e)) {
			perror("hdmabuf-draw: export");
			return 1;
		}
		bufs[i].id = e.id;
		printf("exported buf %u as %x:%x (%llu bytes) to VM %u\n", i,
		       e.id.vmid, e.id.seq, (unsigned long long)e.size, vmid);
	}
	if (make_fifos(ctl)) {
		perror("hdmabuf-draw: mkfifo");
		return 1;
	}
	snprintf(path, sizeof(path), "%s.in", ctl);
	/* Read and write: the FIFO never reads as ended between writers. */
	in = open(path, O_RDWR | O_CLOEXEC);
	if (in < 0) {
		perror("hdmabuf-draw: open control FIFO");
		return 1;
	}
	printf("ready %ux%u, %u buffers\n", w, h, nbuf);

	for (;;) {
		if (hd_read_line(in, line, sizeof(line), -1) < 0) {
			perror("hdmabuf-draw: control FIFO");
			return 1;
		}
		if (!strcmp(line, "quit"))
			break;
		if (sscanf(line, "draw %u", &frame) != 1) {
			fprintf(stderr, "hdmabuf-draw: bad command '%s'\n", line);
			continue;
		}
		i = frame % nbuf;
		hd_scanout_draw(bufs[i].px, pitch, frame, w, h);
		drawn++;
		printf("drew frame %u into buf %u\n", frame, i);
		snprintf(line, sizeof(line), "drawn %u buf %u\n", frame, i);
		if (reply(ctl, line)) {
			perror("hdmabuf-draw: reply");
			return 1;
		}
	}
	printf("account: %u frames drawn into %u buffers\n", drawn, nbuf);
	return 0;
}
