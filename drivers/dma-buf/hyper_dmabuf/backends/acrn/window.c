// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: the service VM's window onto a user VM's RAM.
 *
 * Here the window is BAR 2 of the link's ivshmem device, which the host
 * backs with the UOS's RAM file; memremap_pages() gives it struct pages,
 * so the importer's dma-buf is built from ordinary pages that
 * sg_alloc_table_from_pages(), vmap() and vm_insert_page() accept.  A real
 * ACRN service VM would get the same range from its hypervisor service
 * module (HSM) instead, which knows where each user VM's memory lies; only
 * hdacrn_window_init() would change.
 *
 * Every guest-physical address goes through hdacrn_window_page(), which
 * refuses anything outside the window or not page aligned.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/percpu-refcount.h>

#include "acrn.h"

/**
 * hdacrn_window_init() - give a UOS's RAM struct pages in this VM
 * @w: the window to set up
 * @pdev: the device the range belongs to (for its NUMA node)
 * @phys: where the UOS's guest-physical address 0 lies here
 * @size: bytes of guest-physical address space to cover; a multiple of
 *	2 MiB (memory hotplug's subsection)
 *
 * Return: 0 or a negative errno.
 */
int hdacrn_window_init(struct hdacrn_window *w, struct pci_dev *pdev,
		       phys_addr_t phys, u64 size)
{
	void *addr;

	if (!size || !IS_ALIGNED(phys | size, SZ_2M))
		return -EINVAL;
	w->phys = phys;
	w->size = size;
	w->pgmap.type = MEMORY_DEVICE_GENERIC;
	w->pgmap.range.start = phys;
	w->pgmap.range.end = phys + size - 1;
	w->pgmap.nr_range = 1;
	addr = memremap_pages(&w->pgmap, dev_to_node(&pdev->dev));
	if (IS_ERR(addr))
		return PTR_ERR(addr);
	return 0;
}

/**
 * hdacrn_window_fini() - take the struct pages away again
 * @w: the window
 *
 * Waits until every hdacrn_window_get() has been put.
 */
void hdacrn_window_fini(struct hdacrn_window *w)
{
	memunmap_pages(&w->pgmap);
}

/**
 * hdacrn_window_page() - the page at a UOS's guest-physical address
 * @w: the window
 * @gpa: the address, as the UOS sent it
 *
 * Return: the page, or NULL when @gpa is not page aligned or lies outside
 * the UOS's RAM.
 */
struct page *hdacrn_window_page(struct hdacrn_window *w, u64 gpa)
{
	if (!PAGE_ALIGNED(gpa) || gpa >= w->size)
		return NULL;
	return pfn_to_page(PHYS_PFN(w->phys + gpa));
}

/**
 * hdacrn_window_get() - keep the window's pages while a mapping uses them
 * @w: the window
 *
 * Return: false when the window is going away.
 */
bool hdacrn_window_get(struct hdacrn_window *w)
{
	return percpu_ref_tryget_live(&w->pgmap.ref);
}

/**
 * hdacrn_window_put() - undo hdacrn_window_get()
 * @w: the window
 */
void hdacrn_window_put(struct hdacrn_window *w)
{
	percpu_ref_put(&w->pgmap.ref);
}
