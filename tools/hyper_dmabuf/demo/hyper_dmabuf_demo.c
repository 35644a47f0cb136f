// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf_demo: the main job, run inside the test VM.
 *
 * Until the core and its loopback backend land it can only show that the
 * device is there and that a real dma-buf producer (vgem) works in the VM;
 * it says so rather than pretend to share.  It prints TAP so that the rig
 * counts what it checked.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/hyper_dmabuf.h>

static int open_vgem(void)
{
	char name[16], path[64];
	struct drm_version v;
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

int main(void)
{
	struct drm_mode_create_dumb dumb = {
		.width = 1920, .height = 1080, .bpp = 32,
	};
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	int dev, vgem, ok = 1;
	unsigned int *px;
	size_t i;

	printf("TAP version 13\n1..2\n");
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	printf("%sok 1 /dev/%s is open\n", dev < 0 ? "not " : "",
	       HYPER_DMABUF_DEVICE_NAME);
	ok &= dev >= 0;

	vgem = open_vgem();
	if (vgem < 0 || ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
		printf("not ok 2 vgem frame as a dma-buf: %s\n", strerror(errno));
		return 1;
	}
	prime.handle = dumb.handle;
	if (ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime)) {
		printf("not ok 2 vgem frame as a dma-buf: %s\n", strerror(errno));
		return 1;
	}
	px = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		  prime.fd, 0);
	if (px == MAP_FAILED) {
		printf("not ok 2 vgem frame as a dma-buf: mmap: %s\n",
		       strerror(errno));
		return 1;
	}
	for (i = 0; i < dumb.size / 4; i++)
		px[i] = 0xff000000u | (unsigned int)i;
	printf("ok 2 vgem frame %ux%u, %llu bytes, as dma-buf fd %d\n",
	       dumb.width, dumb.height, (unsigned long long)dumb.size,
	       prime.fd);
	printf("demo: the frame stays local: nothing is shared yet\n");
	return ok ? 0 : 1;
}
