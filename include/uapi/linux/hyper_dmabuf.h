/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hyper_dmabuf: share dma-bufs between virtual machines without copies.
 *
 * Userspace interface of the /dev/hyper_dmabuf misc device.  See
 * Documentation/userspace-api/hyper_dmabuf.rst.
 */
#ifndef _UAPI_LINUX_HYPER_DMABUF_H
#define _UAPI_LINUX_HYPER_DMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Name of the misc device, as it appears under /dev. */
#define HYPER_DMABUF_DEVICE_NAME	"hyper_dmabuf"

/* ioctl magic; the numbers used are listed in the userspace-api page. */
#define HYPER_DMABUF_IOC_MAGIC		'H'

#endif /* _UAPI_LINUX_HYPER_DMABUF_H */
