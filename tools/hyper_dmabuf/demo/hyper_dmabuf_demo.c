// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf_demo: the main job, run inside the test VM.
 *
 * Renders a 1080p test frame into a vgem dma-buf, exports it with
 * metadata to the VM reached through the loopback backend (this very
 * kernel), waits for the new-buffer event, imports it and checks every
 * byte through the importer's own mapping, then shows that a write on one
 * side is seen on the other: the same pages, no copy.  It prints TAP so
 * that the rig counts what it checked.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/hyper_dmabuf.h>

#include "../../testing/selftests/drivers/dma-buf/hyper_dmabuf/vgem.h"

#define W 1920
#define H 1080

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

int main(void)
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
