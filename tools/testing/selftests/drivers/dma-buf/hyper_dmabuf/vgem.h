/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Find a DRM card by its driver: vgem, a real dma-buf producer for the
 * hyper_dmabuf selftests and the demo, or the display tools' KMS card.
 * Needs only libc and the DRM UAPI.
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

/*
 * The DRM card whose driver is @driver, or -1 when none is; its path goes
 * to @path (@len bytes) unless that is NULL.  Cards are found by driver,
 * not number: which card is which depends on the order drivers load.
 */
static inline int hd_drm_open(const char *driver, char *path, size_t len)
{
	struct drm_version v;
	char name[32], p[64];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(p, sizeof(p), "/dev/dri/card%d", i);
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, driver)) {
			if (path)
				snprintf(path, len, "%s", p);
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* The vgem DRM card, or -1 when vgem is not loaded. */
static inline int hd_vgem_open(void)
{
	return hd_drm_open("vgem", NULL, 0);
}

#endif /* HDMABUF_VGEM_H */
