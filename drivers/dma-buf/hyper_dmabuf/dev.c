// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: the /dev/hyper_dmabuf misc device.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include <linux/hyper_dmabuf.h>

static long hdmabuf_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations hdmabuf_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hdmabuf_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hdmabuf_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= HYPER_DMABUF_DEVICE_NAME,
	.fops	= &hdmabuf_fops,
	.mode	= 0600,
};

static int __init hdmabuf_init(void)
{
	int ret;

	ret = misc_register(&hdmabuf_misc);
	if (ret)
		pr_err("cannot register misc device: %d\n", ret);
	return ret;
}
module_init(hdmabuf_init);

static void __exit hdmabuf_exit(void)
{
	misc_deregister(&hdmabuf_misc);
}
module_exit(hdmabuf_exit);

MODULE_DESCRIPTION("Share dma-bufs between virtual machines");
MODULE_LICENSE("GPL");
