// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf_demo: the main job, run inside the test VMs.
 *
 *   hyper_dmabuf_demo export VMID   (the domU)
 *	renders a 1080p test frame into a dma-heap buffer, exports it with its
 *	format as metadata to VM VMID, waits until the importer's write
 *	shows up in the frame, then holds the export until SIGTERM
 *   hyper_dmabuf_demo import FILE.png   (dom0)
 *	waits for the new-buffer event, imports the frame, checks every
 *	pixel through its own mapping, saves it as a PNG and writes one
 *	pixel back for the exporter to see
 *   hyper_dmabuf_demo   (no arguments)
 *	both halves in one VM, through the loopback backend
 *
 * A write on one side seen on the other shows that both map the same
 * pages: nothing is copied.  It prints TAP so that the rig counts what it
 * checked.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>

#include "../../testing/selftests/drivers/dma-buf/hyper_dmabuf/vgem.h"

#define W 1920
#define H 1080
/* What the importer writes at the frame's first pixel. */
#define MARK 0xff00ff00u

static int step;
static int failed;

static void report(int ok, const char *what)
{
	step++;
	printf("%sok %d %s\n", ok ? "" : "not ", step, what);
	if (!ok) {
		printf("# %s\n", strerror(errno));
		failed = 1;
	}
}

/* A colour-bar test frame with a gradient, XRGB8888. */
static unsigned int pixel(unsigned int x, unsigned int y)
{
	static const unsigned int bars[8] = {
		0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
		0xff00ff, 0xff0000, 0x0000ff, 0x000000,
	};

	if (y < H * 3 / 4)
		return 0xff000000u | bars[x * 8 / W];
	return 0xff000000u | ((x * 255 / W) * 0x010101u);
}

static int export_frame(int dev, int fd, unsigned int vmid,
			struct hyper_dmabuf_id *id)
{
	static const char meta[] = "format=XR24 width=1920 height=1080 pitch=7680";
	struct hyper_dmabuf_export e = {
		.fd = fd,
		.remote_vmid = vmid,
		.priv_len = sizeof(meta),
		.priv = (unsigned long)meta,
	};

	if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e))
		return -1;
	*id = e.id;
	return 0;
}

static int demo_loopback(void)
{
	struct drm_mode_create_dumb dumb = { .width = W, .height = H, .bpp = 32 };
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct hyper_dmabuf_peer peers[8];
	struct hyper_dmabuf_info info = {
		.nr_peers = 8, .peers = (unsigned long)peers,
	};
	struct hyper_dmabuf_import imp = { .flags = O_RDWR | O_CLOEXEC };
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id = { 0 };
	struct pollfd pfd;
	unsigned int *src, *dst, x, y, bad = 0;
	int dev, vgem;

	printf("TAP version 13\n");
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	report(dev >= 0, "open /dev/hyper_dmabuf");
	report(dev >= 0 && !ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info) &&
	       info.nr_peers > 0, "a peer VM is reachable");
	if (failed)
		return 1;
	printf("# this VM is %u; sharing with VM %u through %s\n",
	       info.vmid, peers[0].vmid, peers[0].backend);

	vgem = hd_vgem_open();
	report(vgem >= 0 && !ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb),
	       "vgem dumb buffer for a 1920x1080 frame");
	if (failed)
		return 1;
	prime.handle = dumb.handle;
	report(!ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime),
	       "frame exported by vgem as a dma-buf");
	if (failed)
		return 1;
	src = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   prime.fd, 0);
	report(src != MAP_FAILED, "frame mapped for rendering");
	if (failed)
		return 1;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			src[y * (dumb.pitch / 4) + x] = pixel(x, y);

	report(!export_frame(dev, prime.fd, peers[0].vmid, &id),
	       "frame exported to the peer VM");
	if (failed)
		return 1;
	printf("# id: vm %u seq %u key %08x%08x%08x\n", id.vmid, id.seq,
	       id.key[0], id.key[1], id.key[2]);

	pfd.fd = dev;
	pfd.events = POLLIN;
	report(poll(&pfd, 1, 5000) == 1 &&
	       read(dev, &ev, sizeof(ev)) == sizeof(ev) &&
	       ev.type == HYPER_DMABUF_EVENT_NEW && ev.id.seq == id.seq,
	       "the peer announced the new buffer");
	if (failed)
		return 1;
	printf("# event: %llu bytes from VM %u, metadata \"%s\"\n",
	       (unsigned long long)ev.size, ev.exporter_vmid,
	       (const char *)ev.priv);

	imp.id = ev.id;
	report(!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &imp),
	       "the peer imported it as a local dma-buf");
	if (failed)
		return 1;
	dst = mmap(NULL, imp.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   imp.fd, 0);
	report(dst != MAP_FAILED, "the import is mapped");
	if (failed)
		return 1;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			bad += dst[y * (dumb.pitch / 4) + x] != pixel(x, y);
	errno = 0;
	report(!bad, "every pixel reads back through the import");
	dst[0] = 0xdeadbeef;
	report(src[0] == 0xdeadbeef,
	       "a write through the import shows in the exporter's frame");
	printf("# shared %llu bytes (%ux%u XRGB8888) from VM %u to VM %u: %s\n",
	       (unsigned long long)imp.size, W, H, id.vmid, peers[0].vmid,
	       "same pages, no copy");
	printf("1..%d\n", step);
	return failed;
}

/* ---- across VMs ---------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int png_chunk(FILE *f, const char *type, const unsigned char *data,
		     uint32_t len)
{
	unsigned char hdr[8], crc[4];
	unsigned long c;

	put32(hdr, len);
	memcpy(hdr + 4, type, 4);
	c = crc32(0, hdr + 4, 4);
	c = crc32(c, data, len);
	put32(crc, c);
	return fwrite(hdr, 8, 1, f) != 1 ||
	       (len && fwrite(data, len, 1, f) != 1) ||
	       fwrite(crc, 4, 1, f) != 1;
}

/* Save an XRGB8888 frame as an 8-bit RGB PNG. */
static int save_png(const char *path, const unsigned int *px,
		    unsigned int pitch)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
					      0x1a, '\n' };
	size_t raw_len = (size_t)H * (1 + W * 3);
	unsigned char ihdr[13] = { 0 }, *raw, *z, *r;
	/* zlib's own bound is smaller: stored blocks cost 5 bytes per 16k */
	unsigned long z_len = raw_len + raw_len / 1000 + 64;
	unsigned int x, y, p;
	FILE *f;
	int bad;

	raw = malloc(raw_len);
	z = malloc(z_len);
	if (!raw || !z)
		return -1;
	r = raw;
	for (y = 0; y < H; y++) {
		*r++ = 0;	/* filter: none */
		for (x = 0; x < W; x++) {
			p = px[y * (pitch / 4) + x];
			*r++ = p >> 16;
			*r++ = p >> 8;
			*r++ = p;
		}
	}
	if (compress2(z, &z_len, raw, raw_len, 6) != Z_OK)
		return -1;
	put32(ihdr, W);
	put32(ihdr + 4, H);
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 2;	/* colour type: RGB */
	f = fopen(path, "wb");
	if (!f)
		return -1;
	bad = fwrite(sig, sizeof(sig), 1, f) != 1 ||
	      png_chunk(f, "IHDR", ihdr, sizeof(ihdr)) ||
	      png_chunk(f, "IDAT", z, z_len) ||
	      png_chunk(f, "IEND", NULL, 0);
	bad |= fclose(f);
	free(raw);
	free(z);
	return bad ? -1 : 0;
}

/*
 * A frame buffer from the system dma-heap: its mmap works in every kind of
 * guest (vgem's write-combined faults do not in a Xen PV domU).
 */
static int heap_frame(size_t size)
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

static int demo_export(unsigned int vmid)
{
	struct hyper_dmabuf_info info = { 0 };
	struct hyper_dmabuf_id id = { 0 };
	struct timespec tick = { .tv_nsec = 100000000 };
	size_t size = (size_t)W * H * 4;
	unsigned int *src, x, y, i;
	int dev, fd, sig, stop = 0;
	sigset_t term;

	printf("TAP version 13\n");
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	report(dev >= 0 && !ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info),
	       "open /dev/hyper_dmabuf");
	fd = heap_frame(size);
	report(fd >= 0, "dma-heap buffer for a 1920x1080 frame");
	if (failed)
		return 1;
	src = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	report(src != MAP_FAILED, "frame mapped for rendering");
	if (failed)
		return 1;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			src[y * W + x] = pixel(x, y);
	report(!export_frame(dev, fd, vmid, &id),
	       "frame exported to the other VM");
	if (failed)
		return 1;
	printf("# VM %u rendered a 1920x1080 XRGB8888 frame (%zu bytes)\n",
	       info.vmid, size);
	printf("# exported it to VM %u as %x:%x:%08x%08x%08x\n", vmid,
	       id.vmid, id.seq, id.key[0], id.key[1], id.key[2]);
	/* SIGTERM or SIGINT ends the wait and the hold. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);
	for (i = 0; i < 1200 && !stop && src[0] != MARK; i++)
		stop = sigtimedwait(&term, NULL, &tick) > 0;
	errno = 0;
	report(src[0] == MARK,
	       "the importer's write shows in this VM's frame: same pages");
	printf("1..%d\n", step);
	if (!stop)
		sigwait(&term, &sig);
	return failed;
}

static int demo_import(const char *png)
{
	struct hyper_dmabuf_import imp = { .flags = O_RDWR | O_CLOEXEC };
	struct hyper_dmabuf_info info = { 0 };
	struct hyper_dmabuf_event ev;
	unsigned int *dst, x, y, bad = 0, pitch = W * 4;
	struct pollfd pfd;
	int dev;

	printf("TAP version 13\n");
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	report(dev >= 0 && !ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info),
	       "open /dev/hyper_dmabuf");
	if (failed)
		return 1;
	pfd.fd = dev;
	pfd.events = POLLIN;
	report(poll(&pfd, 1, 120000) == 1 &&
	       read(dev, &ev, sizeof(ev)) == sizeof(ev) &&
	       ev.type == HYPER_DMABUF_EVENT_NEW,
	       "a new buffer was announced");
	if (failed)
		return 1;
	ev.priv[sizeof(ev.priv) - 1] = 0;
	printf("# event: %llu bytes from VM %u, metadata \"%s\"\n",
	       (unsigned long long)ev.size, ev.exporter_vmid,
	       (const char *)ev.priv);
	if (sscanf((const char *)ev.priv,
		   "format=XR24 width=%*u height=%*u pitch=%u", &pitch) != 1)
		pitch = W * 4;
	imp.id = ev.id;
	report(!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &imp),
	       "imported as a local dma-buf");
	if (failed)
		return 1;
	dst = mmap(NULL, imp.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   imp.fd, 0);
	report(dst != MAP_FAILED && (size_t)pitch * H <= imp.size,
	       "the import is mapped");
	if (failed)
		return 1;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			bad += dst[y * (pitch / 4) + x] != pixel(x, y);
	errno = 0;
	report(!bad, "every pixel of the frame reads back in this VM");
	report(!save_png(png, dst, pitch), "frame saved as a PNG");
	dst[0] = MARK;
	printf("# shared %llu bytes (%ux%u XRGB8888) from VM %u to VM %u:\n",
	       (unsigned long long)imp.size, W, H, ev.exporter_vmid,
	       info.vmid);
	printf("# this VM maps the exporter's own pages; no byte was copied between the VMs\n");
	printf("1..%d\n", step);
	munmap(dst, imp.size);
	close(imp.fd);
	return failed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "export"))
		return demo_export(strtoul(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "import"))
		return demo_import(argv[2]);
	if (argc == 1)
		return demo_loopback();
	fprintf(stderr, "usage: %s [export VMID | import FILE.png]\n", argv[0]);
	return 2;
}
