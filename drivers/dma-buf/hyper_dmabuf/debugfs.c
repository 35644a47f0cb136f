// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: debugfs.
 *
 * hyper_dmabuf/stats counts live exports, imports, shared pages and mapped
 * pages, so that tests can prove nothing leaks.  hyper_dmabuf/tx counts
 * how the calls a peer waits on sent their messages: from the caller's
 * own context, or through the transmit work.  hyper_dmabuf/rx counts the
 * messages peers sent, and those that were malformed or from nobody.
 * hyper_dmabuf/vmap_check lets a test exercise the kernel vmap path of a
 * dma-buf: write the number of one of the writer's dma-buf file
 * descriptors, read back its size and the sum of its bytes as seen
 * through dma_buf_vmap().  hyper_dmabuf/ioctls counts the ioctls that
 * reached the device and those of them that reached a command's handler,
 * so that a fuzzer's run can say how many of its calls got to us.  Test
 * builds add hyper_dmabuf/peer_fuzz (fuzz.c).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

static struct dentry *hdmabuf_debugfs;

static int hdmabuf_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "exports: %ld\n",
		   atomic_long_read(&hdmabuf_stats.exports));
	seq_printf(m, "imports: %ld\n",
		   atomic_long_read(&hdmabuf_stats.imports));
	seq_printf(m, "shared_pages: %ld\n",
		   atomic_long_read(&hdmabuf_stats.shared_pages));
	seq_printf(m, "mapped_pages: %ld\n",
		   atomic_long_read(&hdmabuf_stats.mapped_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hdmabuf_stats);

static int hdmabuf_tx_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "direct: %ld\n",
		   atomic_long_read(&hdmabuf_tx_counts.direct));
	seq_printf(m, "deferred: %ld\n",
		   atomic_long_read(&hdmabuf_tx_counts.deferred));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hdmabuf_tx);

static int hdmabuf_rx_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "messages: %ld\n",
		   atomic_long_read(&hdmabuf_rx_counts.messages));
	seq_printf(m, "malformed: %ld\n",
		   atomic_long_read(&hdmabuf_rx_counts.malformed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hdmabuf_rx);

static int hdmabuf_ioctls_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "calls: %ld\n",
		   atomic_long_read(&hdmabuf_ioctl_counts.calls));
	seq_printf(m, "dispatched: %ld\n",
		   atomic_long_read(&hdmabuf_ioctl_counts.dispatched));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hdmabuf_ioctls);

/* The result of the last write, per open file. */
#define HDMABUF_VMAP_RESULT	64

static int hdmabuf_vmap_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(HDMABUF_VMAP_RESULT, GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int hdmabuf_vmap_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static int hdmabuf_vmap_sum(struct dma_buf *dmabuf, u64 *sum)
{
	struct iosys_map map;
	const u8 *p;
	size_t i;
	int ret;

	ret = dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	ret = dma_buf_vmap(dmabuf, &map);
	if (!ret && map.is_iomem) {
		dma_buf_vunmap(dmabuf, &map);
		ret = -EOPNOTSUPP;
	}
	if (!ret) {
		p = map.vaddr;
		for (*sum = 0, i = 0; i < dmabuf->size; i++) {
			*sum += p[i];
			if (!(i & 0xfffff))
				cond_resched();
		}
		dma_buf_vunmap(dmabuf, &map);
	}
	dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE);
	return ret;
}

static ssize_t hdmabuf_vmap_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct dma_buf *dmabuf;
	u64 sum;
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (ret)
		return ret;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = hdmabuf_vmap_sum(dmabuf, &sum);
	if (!ret)
		snprintf(file->private_data, HDMABUF_VMAP_RESULT,
			 "size=%zu sum=%llx\n", dmabuf->size, sum);
	dma_buf_put(dmabuf);
	return ret ? ret : count;
}

static ssize_t hdmabuf_vmap_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	const char *res = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, res, strlen(res));
}

static const struct file_operations hdmabuf_vmap_fops = {
	.owner = THIS_MODULE,
	.open = hdmabuf_vmap_open,
	.release = hdmabuf_vmap_release,
	.write = hdmabuf_vmap_write,
	.read = hdmabuf_vmap_read,
	.llseek = default_llseek,
};

/**
 * hdmabuf_debugfs_init() - create hyper_dmabuf/ in debugfs
 *
 * Failure is not fatal: debugfs is a debugging aid.
 */
void hdmabuf_debugfs_init(void)
{
	hdmabuf_debugfs = debugfs_create_dir("hyper_dmabuf", NULL);
	debugfs_create_file("stats", 0444, hdmabuf_debugfs, NULL,
			    &hdmabuf_stats_fops);
	debugfs_create_file("tx", 0444, hdmabuf_debugfs, NULL,
			    &hdmabuf_tx_fops);
	debugfs_create_file("rx", 0444, hdmabuf_debugfs, NULL,
			    &hdmabuf_rx_fops);
	debugfs_create_file("ioctls", 0444, hdmabuf_debugfs, NULL,
			    &hdmabuf_ioctls_fops);
	debugfs_create_file("vmap_check", 0600, hdmabuf_debugfs, NULL,
			    &hdmabuf_vmap_fops);
	hdmabuf_fuzz_debugfs_init(hdmabuf_debugfs);
}

/**
 * hdmabuf_debugfs_exit() - remove hyper_dmabuf/ from debugfs
 */
void hdmabuf_debugfs_exit(void)
{
	debugfs_remove_recursive(hdmabuf_debugfs);
}
