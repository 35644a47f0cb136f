/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Find the vgem DRM card: a real dma-buf producer for the hyper_dmabuf
 * selftests and the demo.  Needs only libc and the DRM UAPI.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef HDMABUF_VGEM_H
#define HDMABUF_VGEM_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm/drm.h>

/* The vgem DRM card, or -1 when vgem is not loaded. */
static inline int hd_vgem_open(void)
{
	struct drm_version v;
	char name[16], path[64];
	int i, fd;

	for (i = 0; i < 64; i++) {
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

#endif /* HDMABUF_VGEM_H */
