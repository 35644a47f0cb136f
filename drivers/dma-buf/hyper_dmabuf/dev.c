// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: the /dev/hyper_dmabuf misc device and its ioctls.
 *
 * Ioctls are dispatched from a table by command number.  Like dma-heap, the
 * size encoded in the command may differ from the kernel's struct: the
 * kernel copies what both know and zero-fills the rest, so older and newer
 * userspace keep working.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"

unsigned int hdmabuf_max_exports = 65536;
module_param_named(max_exports, hdmabuf_max_exports, uint, 0644);
MODULE_PARM_DESC(max_exports, "Live exports this VM may have (default 65536)");

/*
 * Per peer, so that an importer that never lets go (a deaf one, say)
 * cannot take every export, or on Xen every grant reference, from the
 * others: 64 MiB is 16,384 grant references, half of the 32,768 a domain
 * has with Xen's default of 64 grant frames.
 */
unsigned int hdmabuf_max_exports_per_peer = 256;
module_param_named(max_exports_per_peer, hdmabuf_max_exports_per_peer, uint,
		   0644);
MODULE_PARM_DESC(max_exports_per_peer,
		 "Exports to one VM this VM may have at once (default 256)");

unsigned int hdmabuf_max_export_mb_per_peer = 64;
module_param_named(max_export_mb_per_peer, hdmabuf_max_export_mb_per_peer,
		   uint, 0644);
MODULE_PARM_DESC(max_export_mb_per_peer,
		 "MiB this VM may share with one VM at once; on Xen one grant reference per 4 KiB (default 64)");

/*
 * Per peer, so that no peer can take what the others need.  Each buffer a
 * peer announces costs about 512 bytes of kernel memory here, charged to
 * no process: 128 KiB per peer at most by default, 32 MiB for the 255
 * peers an ACRN service VM may have.
 */
unsigned int hdmabuf_max_imports = 256;
module_param_named(max_imports, hdmabuf_max_imports, uint, 0644);
MODULE_PARM_DESC(max_imports,
		 "Buffers one peer may have announced to this VM at once (default 256)");

unsigned int hdmabuf_max_import_mb_per_peer = 2048;
module_param_named(max_import_mb_per_peer, hdmabuf_max_import_mb_per_peer,
		   uint, 0644);
MODULE_PARM_DESC(max_import_mb_per_peer,
		 "MiB one peer may have announced to this VM at once (default 2048)");

unsigned int hdmabuf_max_buffer_mb = 2048;
module_param_named(max_buffer_mb, hdmabuf_max_buffer_mb, uint, 0644);
MODULE_PARM_DESC(max_buffer_mb,
		 "Largest buffer exported or imported, in MiB (default 2048)");

unsigned int hdmabuf_event_queue_len = 64;
module_param_named(event_queue_len, hdmabuf_event_queue_len, uint, 0644);
MODULE_PARM_DESC(event_queue_len,
		 "Events queued per open file before overflow (default 64)");

unsigned int hdmabuf_msg_timeout_ms = 3500;
module_param_named(msg_timeout_ms, hdmabuf_msg_timeout_ms, uint, 0644);
MODULE_PARM_DESC(msg_timeout_ms,
		 "How long an export waits for the importer, ms (default 3500)");

struct hdmabuf_stats hdmabuf_stats;
struct hdmabuf_ioctl_counts hdmabuf_ioctl_counts;

static long hdmabuf_ioctl_query(struct hdmabuf_file *hf, void *arg,
				const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_query *q = arg;
	u32 room = q->priv_len;
	u8 *priv;
	int ret;

	if (q->reserved[0] || q->reserved[1] || q->id.reserved)
		return -EINVAL;
	priv = kzalloc(HYPER_DMABUF_PRIV_MAX, GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	ret = hdmabuf_export_query(&q->id, q, priv);
	if (ret == -ENOENT)
		ret = hdmabuf_import_query(hf, &q->id, q, priv);
	if (!ret && q->priv_len <= room && q->priv &&
	    copy_to_user(u64_to_user_ptr(q->priv), priv, q->priv_len))
		ret = -EFAULT;
	kfree(priv);
	return ret;
}

static long hdmabuf_ioctl_list(struct hdmabuf_file *hf, void *arg,
			       const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_list *l = arg;

	if (l->flags || l->reserved)
		return -EINVAL;
	return hdmabuf_import_list(hf, u64_to_user_ptr(l->ids), l->count,
				   &l->count);
}

static long hdmabuf_ioctl_info(struct hdmabuf_file *hf, void *arg,
			       const struct hdmabuf_ioctl_out *out)
{
	struct hyper_dmabuf_info *i = arg;

	if (i->flags || i->reserved[0] || i->reserved[1])
		return -EINVAL;
	i->version = HDMABUF_PROTO_VERSION;
	return hdmabuf_peers_info(u64_to_user_ptr(i->peers), i->nr_peers,
				  &i->nr_peers, &i->vmid);
}

typedef long (*hdmabuf_ioctl_fn)(struct hdmabuf_file *hf, void *arg,
				 const struct hdmabuf_ioctl_out *out);

/*
 * The ioctls.  Those with side effects copy their result out themselves,
 * before the effect becomes visible (@copies_out), so that a fault on the
 * way out leaves nothing behind; for the others the dispatcher does.
 */
static const struct {
	unsigned int cmd;
	hdmabuf_ioctl_fn fn;
	bool copies_out;
} hdmabuf_ioctls[] = {
	[0x00] = { HYPER_DMABUF_IOCTL_EXPORT, hdmabuf_ioctl_export, true },
	[0x01] = { HYPER_DMABUF_IOCTL_IMPORT, hdmabuf_ioctl_import, true },
	[0x02] = { HYPER_DMABUF_IOCTL_UNEXPORT, hdmabuf_ioctl_unexport, true },
	[0x03] = { HYPER_DMABUF_IOCTL_QUERY, hdmabuf_ioctl_query },
	[0x04] = { HYPER_DMABUF_IOCTL_LIST, hdmabuf_ioctl_list },
	[0x05] = { HYPER_DMABUF_IOCTL_INFO, hdmabuf_ioctl_info },
	[0x06] = { HYPER_DMABUF_IOCTL_WAIT_RELEASED,
		   hdmabuf_ioctl_wait_released },
	[0x07] = { HYPER_DMABUF_IOCTL_BIND, hdmabuf_ioctl_bind, true },
	[0x08] = { HYPER_DMABUF_IOCTL_PRESENT, hdmabuf_ioctl_present, true },
	[0x09] = { HYPER_DMABUF_IOCTL_RELEASE_FRAME,
		   hdmabuf_ioctl_release_frame, true },
	[0x0a] = { HYPER_DMABUF_IOCTL_FRAME_FENCE, hdmabuf_ioctl_frame_fence,
		   true },
};

/**
 * hdmabuf_ioctl_copy_out() - copy an ioctl's result to its caller
 * @out: where it goes
 * @arg: the kernel's copy of the argument
 *
 * Return: 0 or -EFAULT.
 */
int hdmabuf_ioctl_copy_out(const struct hdmabuf_ioctl_out *out,
			   const void *arg)
{
	return copy_to_user(out->uarg, arg, out->size) ? -EFAULT : 0;
}

/* Largest argument struct of hdmabuf_ioctls. */
#define HDMABUF_IOCTL_MAX_SIZE	256

static long hdmabuf_ioctl(struct file *file, unsigned int ucmd,
			  unsigned long arg)
{
	unsigned int kcmd, nr = _IOC_NR(ucmd);
	unsigned int in_size, out_size, ksize;
	u64 kdata[HDMABUF_IOCTL_MAX_SIZE / sizeof(u64)];
	void __user *uarg = (void __user *)arg;
	struct hdmabuf_ioctl_out out;
	long ret;

	atomic_long_inc(&hdmabuf_ioctl_counts.calls);
	if (_IOC_TYPE(ucmd) != HYPER_DMABUF_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(hdmabuf_ioctls))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(hdmabuf_ioctls));
	kcmd = hdmabuf_ioctls[nr].cmd;
	if (!hdmabuf_ioctls[nr].fn || _IOC_NR(kcmd) != nr ||
	    _IOC_DIR(ucmd) != _IOC_DIR(kcmd))
		return -ENOTTY;

	ksize = _IOC_SIZE(kcmd);
	in_size = _IOC_SIZE(ucmd);
	out_size = in_size;
	if (!(_IOC_DIR(ucmd) & _IOC_WRITE))
		in_size = 0;
	if (!(_IOC_DIR(ucmd) & _IOC_READ))
		out_size = 0;

	/* A longer struct is fine as long as what we do not know is 0. */
	if (in_size > ksize) {
		char tail[32];
		unsigned int off;

		for (off = ksize; off < in_size; off += sizeof(tail)) {
			unsigned int n = min_t(unsigned int, sizeof(tail),
					       in_size - off);

			if (copy_from_user(tail, uarg + off, n))
				return -EFAULT;
			if (memchr_inv(tail, 0, n))
				return -EINVAL;
		}
		in_size = ksize;
	}
	out_size = min(out_size, ksize);

	BUILD_BUG_ON(sizeof(struct hyper_dmabuf_export) > sizeof(kdata));
	BUILD_BUG_ON(sizeof(struct hyper_dmabuf_query) > sizeof(kdata));
	memset(kdata, 0, ksize);
	if (copy_from_user(kdata, uarg, in_size))
		return -EFAULT;

	out.uarg = uarg;
	out.size = out_size;
	atomic_long_inc(&hdmabuf_ioctl_counts.dispatched);
	ret = hdmabuf_ioctls[nr].fn(file->private_data, kdata, &out);
	if (!ret && !hdmabuf_ioctls[nr].copies_out)
		ret = hdmabuf_ioctl_copy_out(&out, kdata);
	return ret;
}

static int hdmabuf_open(struct inode *inode, struct file *file)
{
	struct hdmabuf_file *hf;
	int ret;

	hf = kzalloc(sizeof(*hf), GFP_KERNEL);
	if (!hf)
		return -ENOMEM;
	INIT_LIST_HEAD(&hf->exports);
	hdmabuf_release_file_init(hf);
	ret = hdmabuf_event_file_init(hf);
	if (ret) {
		kfree(hf);
		return ret;
	}
	file->private_data = hf;
	return nonseekable_open(inode, file);
}

static int hdmabuf_release(struct inode *inode, struct file *file)
{
	struct hdmabuf_file *hf = file->private_data;

	hdmabuf_export_file_release(hf);
	hdmabuf_release_file_exit(hf);
	hdmabuf_event_file_exit(hf);
	kfree(hf);
	return 0;
}

static ssize_t hdmabuf_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	return hdmabuf_event_read(file->private_data, buf, count,
				  file->f_flags & O_NONBLOCK);
}

static __poll_t hdmabuf_poll(struct file *file, struct poll_table_struct *wait)
{
	return hdmabuf_event_poll(file->private_data, file, wait);
}

static const struct file_operations hdmabuf_fops = {
	.owner		= THIS_MODULE,
	.open		= hdmabuf_open,
	.release	= hdmabuf_release,
	.read		= hdmabuf_read,
	.poll		= hdmabuf_poll,
	.unlocked_ioctl	= hdmabuf_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

static struct miscdevice hdmabuf_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= HYPER_DMABUF_DEVICE_NAME,
	.fops	= &hdmabuf_fops,
	.mode	= 0600,
};

/**
 * hdmabuf_device() - the device our own dma-buf attachments are made for
 *
 * Return: the misc device, set up for DMA to all of memory.
 */
struct device *hdmabuf_device(void)
{
	return hdmabuf_misc.this_device;
}

static int __init hdmabuf_init(void)
{
	int ret;

	ret = hdmabuf_core_init();
	if (ret)
		return ret;
	ret = hdmabuf_endpoint_init();
	if (ret) {
		pr_err("cannot register the endpoints in configfs: %d\n", ret);
		goto err_core;
	}
	ret = misc_register(&hdmabuf_misc);
	if (ret) {
		pr_err("cannot register misc device: %d\n", ret);
		goto err_endpoint;
	}
	ret = dma_coerce_mask_and_coherent(hdmabuf_device(), DMA_BIT_MASK(64));
	if (ret)
		goto err_misc;
	hdmabuf_debugfs_init();
	return 0;

err_misc:
	misc_deregister(&hdmabuf_misc);
err_endpoint:
	hdmabuf_endpoint_exit();
err_core:
	hdmabuf_core_exit();
	return ret;
}
module_init(hdmabuf_init);

static void __exit hdmabuf_exit(void)
{
	hdmabuf_debugfs_exit();
	misc_deregister(&hdmabuf_misc);
	hdmabuf_endpoint_exit();
	hdmabuf_fence_exit();
	hdmabuf_core_exit();
}
module_exit(hdmabuf_exit);

MODULE_DESCRIPTION("Share dma-bufs between virtual machines");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
