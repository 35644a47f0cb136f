// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf_devmap: map a dma-buf for a device, and say where the device
 * would reach it.  For tests.
 *
 * The test rigs use it to check that a device given an import's DMA
 * addresses reaches the exporting VM's frames, not copies and not this VM's
 * own unpopulated pages.  Root opens the debugfs file
 * hyper_dmabuf_devmap/map and writes
 *
 *	FD BUS DEVICE
 *
 * to it: FD is one of the writer's dma-buf file descriptors, DEVICE the
 * name of a device on bus BUS ("platform" or "pci") that does DMA.  The
 * buffer is then attached to that device and mapped for it in both
 * directions (only to the device when FD is read-only), exactly as a
 * device driver importing it would (dma_buf_attach(),
 * dma_buf_map_attachment()), and reading the file gives the mapped table,
 * one line per DMA segment, in hexadecimal:
 *
 *	OFFSET ADDRESS LENGTH
 *
 * where OFFSET is the segment's offset in the buffer.  Whoever can read the
 * machine's memory as devices do (the rig's host, through QEMU's monitor)
 * can then look at those addresses.  The mapping lasts until the file is
 * closed; one mapping per open file.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* Longest line a writer may send: "FD BUS DEVICE". */
#define HDMABUF_DEVMAP_CMD_MAX	128
/* Longest line of the table: three hexadecimal u64s. */
#define HDMABUF_DEVMAP_LINE_MAX	64

/**
 * struct hdmabuf_devmap - one open file's mapping
 * @lock: protects every other member, against concurrent writes and reads
 *	of the same open file
 * @dev: the device the buffer is mapped for, referenced
 * @dmabuf: the buffer, referenced
 * @attach: its attachment to @dev
 * @sgt: the table mapped for @dev
 * @dir: the direction it is mapped in: both, or only to the device when
 *	the writer's descriptor is read-only
 * @text: the table as text, what reading the file gives
 * @len: length of @text
 */
struct hdmabuf_devmap {
	struct mutex lock;	/* the members below */
	struct device *dev;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	char *text;
	size_t len;
};

static struct dentry *hdmabuf_devmap_dir;

static const struct bus_type *hdmabuf_devmap_bus(const char *name)
{
	if (!strcmp(name, "platform"))
		return &platform_bus_type;
#ifdef CONFIG_PCI
	if (!strcmp(name, "pci"))
		return &pci_bus_type;
#endif
	return NULL;
}

/* The table of @dm->sgt as text into @dm->text, its DMA segments only. */
static int hdmabuf_devmap_text(struct hdmabuf_devmap *dm)
{
	struct scatterlist *sg;
	size_t size, len = 0;
	u64 off = 0;
	unsigned int i;

	size = (size_t)dm->sgt->nents * HDMABUF_DEVMAP_LINE_MAX + 1;
	dm->text = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!dm->text)
		return -ENOMEM;
	for_each_sgtable_dma_sg(dm->sgt, sg, i) {
		len += scnprintf(dm->text + len, size - len, "%llx %llx %x\n",
				 off, (u64)sg_dma_address(sg), sg_dma_len(sg));
		off += sg_dma_len(sg);
	}
	dm->len = len;
	return 0;
}

static int hdmabuf_devmap_map(struct hdmabuf_devmap *dm, int fd,
			      const char *bus_name, const char *dev_name)
{
	const struct bus_type *bus = hdmabuf_devmap_bus(bus_name);
	int ret;

	if (!bus)
		return -EINVAL;
	/* bus_find_device_by_name() takes a non-const bus before 6.3. */
	dm->dev = bus_find_device_by_name((struct bus_type *)bus, NULL,
					  dev_name);
	if (!dm->dev)
		return -ENODEV;
	/* A device that does no DMA: the DMA API would warn. */
	ret = -EINVAL;
	if (!dm->dev->dma_mask)
		goto err_dev;
	dm->dmabuf = dma_buf_get(fd);
	if (IS_ERR(dm->dmabuf)) {
		ret = PTR_ERR(dm->dmabuf);
		goto err_dev;
	}
	/*
	 * A read-only buffer only to the device: a bounce buffer would
	 * otherwise be copied back over it at unmap.
	 */
	dm->dir = dm->dmabuf->file->f_mode & FMODE_WRITE ?
		  DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	dm->attach = dma_buf_attach(dm->dmabuf, dm->dev);
	if (IS_ERR(dm->attach)) {
		ret = PTR_ERR(dm->attach);
		goto err_put;
	}
	dm->sgt = dma_buf_map_attachment_unlocked(dm->attach, dm->dir);
	if (IS_ERR(dm->sgt)) {
		ret = PTR_ERR(dm->sgt);
		goto err_detach;
	}
	ret = -EIO;
	if (!dm->sgt->nents)
		goto err_unmap;
	ret = hdmabuf_devmap_text(dm);
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	dma_buf_unmap_attachment_unlocked(dm->attach, dm->sgt, dm->dir);
err_detach:
	dma_buf_detach(dm->dmabuf, dm->attach);
err_put:
	dma_buf_put(dm->dmabuf);
err_dev:
	put_device(dm->dev);
	dm->dev = NULL;
	return ret;
}

static void hdmabuf_devmap_unmap(struct hdmabuf_devmap *dm)
{
	if (!dm->dev)
		return;
	kvfree(dm->text);
	dma_buf_unmap_attachment_unlocked(dm->attach, dm->sgt, dm->dir);
	dma_buf_detach(dm->dmabuf, dm->attach);
	dma_buf_put(dm->dmabuf);
	put_device(dm->dev);
	dm->dev = NULL;
}

static int hdmabuf_devmap_open(struct inode *inode, struct file *file)
{
	struct hdmabuf_devmap *dm;

	dm = kzalloc(sizeof(*dm), GFP_KERNEL_ACCOUNT);
	if (!dm)
		return -ENOMEM;
	mutex_init(&dm->lock);
	file->private_data = dm;
	return nonseekable_open(inode, file);
}

static ssize_t hdmabuf_devmap_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct hdmabuf_devmap *dm = file->private_data;
	char cmd[HDMABUF_DEVMAP_CMD_MAX], bus[16], dev[64];
	int fd, ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (sscanf(cmd, "%d %15s %63s", &fd, bus, dev) != 3)
		return -EINVAL;
	mutex_lock(&dm->lock);
	ret = dm->dev ? -EBUSY : hdmabuf_devmap_map(dm, fd, bus, dev);
	mutex_unlock(&dm->lock);
	return ret ? ret : count;
}

static ssize_t hdmabuf_devmap_read(struct file *file, char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct hdmabuf_devmap *dm = file->private_data;
	ssize_t ret = -ENODATA;

	mutex_lock(&dm->lock);
	if (dm->dev)
		ret = simple_read_from_buffer(ubuf, count, ppos, dm->text,
					      dm->len);
	mutex_unlock(&dm->lock);
	return ret;
}

static int hdmabuf_devmap_release(struct inode *inode, struct file *file)
{
	struct hdmabuf_devmap *dm = file->private_data;

	hdmabuf_devmap_unmap(dm);
	mutex_destroy(&dm->lock);
	kfree(dm);
	return 0;
}

static const struct file_operations hdmabuf_devmap_fops = {
	.owner = THIS_MODULE,
	.open = hdmabuf_devmap_open,
	.write = hdmabuf_devmap_write,
	.read = hdmabuf_devmap_read,
	.release = hdmabuf_devmap_release,
	.llseek = no_llseek,
};

static int __init hdmabuf_devmap_init(void)
{
	hdmabuf_devmap_dir = debugfs_create_dir("hyper_dmabuf_devmap", NULL);
	debugfs_create_file("map", 0600, hdmabuf_devmap_dir, NULL,
			    &hdmabuf_devmap_fops);
	return 0;
}

static void __exit hdmabuf_devmap_exit(void)
{
	debugfs_remove_recursive(hdmabuf_devmap_dir);
}

module_init(hdmabuf_devmap_init);
module_exit(hdmabuf_devmap_exit);

MODULE_DESCRIPTION("hyper_dmabuf tests: map a dma-buf for a device");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
