// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the raw floors that make bench measures the
 * driver against.  Built with CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS only.
 *
 * Each link gets a directory hyper_dmabuf_acrn/vmN/ in debugfs, N being
 * the peer's VM id, with:
 *
 * doorbell
 *	write() rings MSI-X vector 1 of the peer's device; read() of 8 bytes
 *	waits until our own vector 1 rang and returns how many times it rang
 *	since the last read, as a u64.  Nothing else uses vector 1: this is
 *	the bare interrupt path between the two VMs, user space to user
 *	space, which no transport over the device can beat.
 * window (service VM only)
 *	mmap() maps the UOS's RAM straight from the window, the file offset
 *	being the guest-physical address: no address tables, no checks but
 *	the window's bounds, no dma-buf.  It is what mapping the same page
 *	count costs with no driver logic.
 *
 * The files hold a reference on this state, not on the link: once the
 * link goes, reads return and writes fail with ENODEV.  An open window
 * file holds the window's dev_pagemap, so unbinding waits for it.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "acrn.h"

/* The doorbell vector the floors use; the transport has vector 0. */
#define HDACRN_BENCH_VECTOR	1

/**
 * struct hdacrn_bench - the floors of one link
 * @kref: held by the link and by every open file
 * @lock: protects @dying, and the device's registers against it
 * @dying: the link is going: the registers and the window may be gone
 * @regs: the device's BAR 0
 * @peer_id: the peer's doorbell id
 * @irq: our vector 1, or negative when the device has one vector only
 * @rung: times vector 1 rang since the last read
 * @wait: readers of @rung
 * @window: the SOS's window onto the UOS's RAM, or NULL on a UOS
 * @dir: our debugfs directory
 */
struct hdacrn_bench {
	struct kref kref;
	struct mutex lock;	/* @dying and the registers */
	bool dying;
	void __iomem *regs;
	u32 peer_id;
	int irq;
	atomic_long_t rung;
	wait_queue_head_t wait;
	struct hdacrn_window *window;
	struct dentry *dir;
};

static struct dentry *hdacrn_bench_root;

static void hdacrn_bench_release(struct kref *kref)
{
	struct hdacrn_bench *b = container_of(kref, struct hdacrn_bench, kref);

	mutex_destroy(&b->lock);
	kfree(b);
}

static irqreturn_t hdacrn_bench_irq(int irq, void *data)
{
	struct hdacrn_bench *b = data;

	atomic_long_inc(&b->rung);
	wake_up(&b->wait);
	return IRQ_HANDLED;
}

/* The file may outlive its dentry: take our own reference while we can. */
static int hdacrn_bench_open(struct inode *inode, struct file *file)
{
	struct hdacrn_bench *b = inode->i_private;
	int ret;

	ret = debugfs_file_get(file->f_path.dentry);
	if (ret)
		return ret;
	mutex_lock(&b->lock);
	if (b->dying) {
		ret = -ENODEV;
	} else {
		kref_get(&b->kref);
		file->private_data = b;
	}
	mutex_unlock(&b->lock);
	debugfs_file_put(file->f_path.dentry);
	return ret ? ret : nonseekable_open(inode, file);
}

static int hdacrn_bench_close(struct inode *inode, struct file *file)
{
	struct hdacrn_bench *b = file->private_data;

	kref_put(&b->kref, hdacrn_bench_release);
	return 0;
}

static ssize_t hdacrn_bell_read(struct file *file, char __user *buf,
				size_t len, loff_t *ppos)
{
	struct hdacrn_bench *b = file->private_data;
	long n = 0;
	u64 val;
	int ret;

	if (len < sizeof(val))
		return -EINVAL;
	ret = wait_event_interruptible(b->wait,
				       (n = atomic_long_xchg(&b->rung, 0)) ||
				       READ_ONCE(b->dying));
	if (ret)
		return ret;
	if (!n)
		return -ENODEV;
	val = n;
	if (copy_to_user(buf, &val, sizeof(val))) {
		atomic_long_add(n, &b->rung);
		return -EFAULT;
	}
	return sizeof(val);
}

static ssize_t hdacrn_bell_write(struct file *file, const char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct hdacrn_bench *b = file->private_data;
	ssize_t ret = len;

	mutex_lock(&b->lock);
	if (b->dying)
		ret = -ENODEV;
	else
		hdacrn_doorbell(b->regs, b->peer_id, HDACRN_BENCH_VECTOR);
	mutex_unlock(&b->lock);
	return ret;
}

static const struct file_operations hdacrn_bell_fops = {
	.owner = THIS_MODULE,
	.open = hdacrn_bench_open,
	.release = hdacrn_bench_close,
	.read = hdacrn_bell_read,
	.write = hdacrn_bell_write,
	.llseek = no_llseek,
};

static int hdacrn_window_open(struct inode *inode, struct file *file)
{
	struct hdacrn_bench *b;
	int ret;

	ret = hdacrn_bench_open(inode, file);
	if (ret)
		return ret;
	b = file->private_data;
	/* Unbinding waits for the window's users; the file is one. */
	if (!hdacrn_window_get(b->window)) {
		hdacrn_bench_close(inode, file);
		return -ENODEV;
	}
	return 0;
}

static int hdacrn_window_close(struct inode *inode, struct file *file)
{
	struct hdacrn_bench *b = file->private_data;

	hdacrn_window_put(b->window);
	return hdacrn_bench_close(inode, file);
}

static int hdacrn_window_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hdacrn_bench *b = file->private_data;
	struct hdacrn_window *w = b->window;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;

	if (off >= w->size || len > w->size - off)
		return -EINVAL;
	/* The mapping holds the file, which holds the window. */
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(w->phys + off),
			       len, vma->vm_page_prot);
}

static const struct file_operations hdacrn_window_fops = {
	.owner = THIS_MODULE,
	.open = hdacrn_window_open,
	.release = hdacrn_window_close,
	.mmap = hdacrn_window_mmap,
	.llseek = no_llseek,
};

/**
 * hdacrn_bench_create() - give a link its floors in debugfs
 * @pdev: the link's device, with its interrupt vectors allocated
 * @regs: its BAR 0
 * @peer_id: the peer's doorbell id
 * @vmid: the peer's VM id, which names the directory
 * @window: the window onto the UOS's RAM on the SOS, NULL on a UOS
 *
 * A benchmark aid: failure leaves the link without it, and says why.
 *
 * Return: the floors, or NULL.
 */
struct hdacrn_bench *hdacrn_bench_create(struct pci_dev *pdev,
					 void __iomem *regs, u32 peer_id,
					 u32 vmid, struct hdacrn_window *window)
{
	struct hdacrn_bench *b;
	char name[16];
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return NULL;
	kref_init(&b->kref);
	mutex_init(&b->lock);
	init_waitqueue_head(&b->wait);
	b->regs = regs;
	b->peer_id = peer_id;
	b->window = window;
	b->irq = pci_irq_vector(pdev, HDACRN_BENCH_VECTOR);
	if (b->irq >= 0) {
		ret = request_irq(b->irq, hdacrn_bench_irq, 0, KBUILD_MODNAME,
				  b);
		if (ret) {
			dev_warn(&pdev->dev, "no raw doorbell: %d\n", ret);
			b->irq = -1;
		}
	}
	snprintf(name, sizeof(name), "vm%u", vmid);
	b->dir = debugfs_create_dir(name, hdacrn_bench_root);
	if (b->irq >= 0)
		debugfs_create_file_unsafe("doorbell", 0600, b->dir, b,
					   &hdacrn_bell_fops);
	if (window)
		debugfs_create_file_unsafe("window", 0400, b->dir, b,
					   &hdacrn_window_fops);
	return b;
}

/**
 * hdacrn_bench_destroy() - take a link's floors away
 * @b: the floors, or NULL
 *
 * Before the link's registers and window go: open files keep the state
 * but can no longer reach the device.
 */
void hdacrn_bench_destroy(struct hdacrn_bench *b)
{
	if (!b)
		return;
	debugfs_remove(b->dir);
	mutex_lock(&b->lock);
	b->dying = true;
	mutex_unlock(&b->lock);
	wake_up_all(&b->wait);
	if (b->irq >= 0)
		free_irq(b->irq, b);
	kref_put(&b->kref, hdacrn_bench_release);
}

/**
 * hdacrn_bench_init() - where the links' directories go
 * @root: the module's debugfs directory, hyper_dmabuf_acrn/ (main.c's)
 */
void hdacrn_bench_init(struct dentry *root)
{
	hdacrn_bench_root = root;
}
