/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio over an ivshmem-doorbell link: the register block that the user
 * VM's transport (virtio_ivshmem.c, the driver's side) and the service
 * VM's device (vdev.c) share.
 *
 * The link's shared memory (BAR 2 of each VM's ivshmem-doorbell device)
 * is the user VM's RAM file: the user VM's RAM, then a 2 MiB mailbox.  A
 * link the host signed with %HDVIO_MAGIC carries virtio; one signed with
 * the mailbox transport's magic carries that instead (acrn.h).  In the
 * mailbox:
 *
 *   0x0000  the host's header: magic, layout version, presence word
 *           (the first three words of struct hdacrn_mbox_hdr)
 *   0x1000  struct hdvio_regs: the transport's registers
 *   0x1400  the device's configuration (%HDVIO_CONFIG_SIZE bytes)
 *
 * Unlike virtio-pci's registers, these are plain memory: nobody traps a
 * write.  Each field has one writer, named below.  A write the other side
 * must act on is followed by a doorbell (MSI-X vector 0 of the other VM's
 * device), and the device answers a status write by copying the request
 * number into @ack, so that a status write is synchronous, as the virtio
 * specification's transports make it.  The virtqueues live in the user
 * VM's RAM and the device reaches them through its window onto that RAM;
 * addresses are the user VM's guest-physical addresses.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef _HDVIO_H
#define _HDVIO_H

#include <linux/sizes.h>
#include <linux/types.h>

#define HDVIO_MAGIC		0x56414448	/* "HDAV" */
#define HDVIO_VERSION		1
#define HDVIO_MBOX_SIZE		SZ_2M
#define HDVIO_REGS_OFF		SZ_4K
#define HDVIO_CONFIG_OFF	(HDVIO_REGS_OFF + 0x400)
#define HDVIO_CONFIG_SIZE	0x100
#define HDVIO_MAX_QUEUES	8

/* The host's header, at offset 0 of the mailbox. */
#define HDVIO_HOST_MAGIC	0
#define HDVIO_HOST_VERSION	4

/**
 * struct hdvio_queue - one virtqueue's registers, written by the driver
 * @num: the queue size the driver chose, a power of two up to
 *	&hdvio_regs.queue_num_max
 * @enable: 1 once the driver set the queue up (before DRIVER_OK)
 * @reserved: zero
 * @desc: guest-physical address of the descriptor table
 * @driver: ... of the driver area (available ring)
 * @device: ... of the device area (used ring)
 */
struct hdvio_queue {
	__le16 num;
	__le16 enable;
	__le32 reserved;
	__le64 desc;
	__le64 driver;
	__le64 device;
};

/**
 * struct hdvio_regs - the transport's registers (little endian)
 * @device_id: the virtio device ID; 0 while no device serves the link.
 *	Written by the device, last when it arrives, first when it goes.
 * @vendor_id: the device's vendor ID. Device.
 * @device_features: feature bits the device offers. Device.
 * @num_queues: virtqueues the device has. Device.
 * @queue_num_max: largest queue size it accepts. Device.
 * @device_status: the device status as the device holds it: what the
 *	driver asked for, less what the device refused, plus
 *	DEVICE_NEEDS_RESET when it must be reset. Device.
 * @ack: the last @request the device carried out. Device.
 * @config_generation: changes whenever the device changes its
 *	configuration, before the doorbell that says so. Device.
 * @pad0: zero; keeps the driver's fields off the device's cache line
 * @driver_features: feature bits the driver accepts. Driver.
 * @status: the device status the driver asks for. Driver.
 * @request: bumped by the driver each time it writes @status. Driver.
 * @pad1: zero
 * @queue: the virtqueues' registers. Driver.
 */
struct hdvio_regs {
	__le32 device_id;
	__le32 vendor_id;
	__le64 device_features;
	__le16 num_queues;
	__le16 queue_num_max;
	__le32 device_status;
	__le32 ack;
	__le32 config_generation;
	u8 pad0[32];
	__le64 driver_features;
	__le32 status;
	__le32 request;
	u8 pad1[48];
	struct hdvio_queue queue[HDVIO_MAX_QUEUES];
};

/* Doorbell (ivshmem peer) id of the service VM on user VM @vmid's link. */
#define HDVIO_SOS_PEER(vmid)	(0x100 + (vmid))

#endif /* _HDVIO_H */
