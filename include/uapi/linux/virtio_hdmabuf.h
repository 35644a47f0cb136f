/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * The hyper_dmabuf virtio device: a user VM's link to the service VM that
 * imports its dma-bufs (Documentation/driver-api/hyper_dmabuf.rst, "The
 * virtio device").
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _UAPI_LINUX_VIRTIO_HDMABUF_H
#define _UAPI_LINUX_VIRTIO_HDMABUF_H

#include <linux/types.h>
#include <linux/virtio_types.h>

/*
 * Device ID, PROVISIONAL: no ID is reserved for this device in the virtio
 * specification's list.  63 is the last one a modern virtio-pci device
 * can carry (PCI device ID 0x1040 + 63 = 0x107f) and the furthest from
 * those assigned so far.  It is defined here and nowhere else.
 */
#define VIRTIO_ID_HDMABUF		63

/* Virtqueues: driver to device, then device to driver. */
#define VIRTIO_HDMABUF_VQ_TX		0
#define VIRTIO_HDMABUF_VQ_RX		1
#define VIRTIO_HDMABUF_NR_VQS		2

/* Every message is this long, in both directions. */
#define VIRTIO_HDMABUF_MSG_SIZE		416

/**
 * struct virtio_hdmabuf_config - the device's configuration (little endian)
 * @vm_id: the driver's VM id, as the hypervisor numbers VMs; set by the
 *	device, read only
 * @msg_size: %VIRTIO_HDMABUF_MSG_SIZE; read only
 * @driver_session: the driver's attachment: a non-zero nonce, fresh for
 *	each one; 0 when detached.  Written by the driver.
 * @device_session: the device's answer: equal to @driver_session once the
 *	device serves that attachment; 0 otherwise.  Read only.
 * @device_epoch: the device's epoch for that attachment; never reused.
 *	Read only.
 * @device_clear: no mapping the device made of the driver's pages under
 *	an epoch before this one is left; never goes back.  Read only.
 */
struct virtio_hdmabuf_config {
	__le32 vm_id;
	__le32 msg_size;
	__le32 driver_session;
	__le32 device_session;
	__le32 device_epoch;
	__le32 device_clear;
};

#endif /* _UAPI_LINUX_VIRTIO_HDMABUF_H */
