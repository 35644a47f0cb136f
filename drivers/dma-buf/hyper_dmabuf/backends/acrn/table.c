// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: address tables.
 *
 * A UOS shares a buffer by writing the guest-physical addresses of its
 * pages into a tree of table pages (acrn.h) and sending the root's
 * address.  The SOS walks the tree through its window onto the UOS's RAM.
 * The tree's shape follows from the page count the core has already
 * checked, so the walk is bounded by it; every address is copied out of
 * the UOS's memory once, and checked against the window, before use.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "acrn.h"

/**
 * struct hdacrn_mapping - a UOS's buffer as the SOS maps it
 * @link: the link to the UOS, whose window holds the pages
 * @epoch: the session it was mapped in (reclaim.c)
 * @nr_pages: pages
 * @pages: the window's pages, in buffer order
 */
struct hdacrn_mapping {
	struct hdacrn_link *link;
	u32 epoch;
	unsigned int nr_pages;
	struct page **pages;
};

/**
 * hdacrn_levels() - levels of address table for a buffer
 * @nr_pages: its data pages
 *
 * Return: 1, 2 or 3 (also for more pages than three levels hold).
 */
unsigned int hdacrn_levels(unsigned long nr_pages)
{
	unsigned int levels = 1;
	unsigned long span = HDACRN_GPAS_PER_PAGE;

	while (nr_pages > span && levels < HDACRN_MAX_LEVELS) {
		span *= HDACRN_GPAS_PER_PAGE;
		levels++;
	}
	return levels;
}

/* Set entry @i of the consecutive table pages @tables to @gpa. */
static void hdacrn_set(struct page **tables, unsigned long i, u64 gpa)
{
	__le64 *t = kmap_local_page(tables[i / HDACRN_GPAS_PER_PAGE]);

	t[i % HDACRN_GPAS_PER_PAGE] = cpu_to_le64(gpa);
	kunmap_local(t);
}

#ifdef CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS
/* Far beyond any UOS's RAM, and page aligned. */
#define HDACRN_LIE_GPA	BIT_ULL(46)

/* Test only: tell the SOS one lie about a buffer, if one is armed. */
static void hdacrn_share_lie(struct hdacrn_shbuf *sb, u64 *ref)
{
	__le64 *t;

	if (hdacrn_fault(HDACRN_FAULT_TABLE_OOB)) {
		*ref = HDACRN_LIE_GPA;
		return;
	}
	t = kmap_local_page(sb->tables[0]);
	if (hdacrn_fault(HDACRN_FAULT_GPA_OOB))
		t[0] = cpu_to_le64(HDACRN_LIE_GPA);
	else if (hdacrn_fault(HDACRN_FAULT_GPA_UNALIGNED))
		t[0] = cpu_to_le64(le64_to_cpu(t[0]) + 64);
	kunmap_local(t);
}
#else
static inline void hdacrn_share_lie(struct hdacrn_shbuf *sb, u64 *ref)
{
}
#endif

/**
 * hdacrn_table_build() - write the address tables of @nr_pages frames
 * @pfns: the data pages' frames
 * @nr_pages: how many, at least one
 * @sbp: set to the tables, for hdacrn_table_free()
 * @root: set to the root table's guest-physical address
 *
 * Return: 0, -E2BIG beyond three levels, -ENOMEM.
 */
int hdacrn_table_build(const unsigned long *pfns, unsigned int nr_pages,
		       struct hdacrn_shbuf **sbp, u64 *root)
{
	unsigned int levels = hdacrn_levels(nr_pages);
	unsigned long n, total = 0, first, i;
	struct hdacrn_shbuf *sb;
	unsigned int l;

	if (!nr_pages)
		return -EINVAL;
	n = nr_pages;
	for (l = 0; l < levels; l++) {
		n = DIV_ROUND_UP(n, HDACRN_GPAS_PER_PAGE);
		total += n;
	}
	if (n != 1)
		return -E2BIG;

	sb = kvzalloc(struct_size(sb, tables, total), GFP_KERNEL_ACCOUNT);
	if (!sb)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		sb->tables[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!sb->tables[i])
			goto err_free;
		sb->nr_tables++;
	}

	/* Leaves: the data pages' addresses; above: the level below's. */
	for (i = 0; i < nr_pages; i++)
		hdacrn_set(sb->tables, i, PFN_PHYS(pfns[i]));
	first = 0;
	for (n = nr_pages, l = 1; l < levels; l++) {
		n = DIV_ROUND_UP(n, HDACRN_GPAS_PER_PAGE);
		for (i = 0; i < n; i++)
			hdacrn_set(sb->tables + first + n, i,
				   page_to_phys(sb->tables[first + i]));
		first += n;
	}

	*root = page_to_phys(sb->tables[total - 1]);
	*sbp = sb;
	return 0;

err_free:
	hdacrn_table_free(sb);
	return -ENOMEM;
}

/**
 * hdacrn_table_free() - free the tables built by hdacrn_table_build()
 * @sb: the tables
 */
void hdacrn_table_free(struct hdacrn_shbuf *sb)
{
	while (sb->nr_tables)
		__free_page(sb->tables[--sb->nr_tables]);
	if (sb->desc) {
		/* A freed page no longer names the buffer, whoever reads it. */
		clear_highpage(sb->desc);
		__free_page(sb->desc);
	}
	kvfree(sb);
}

/**
 * hdacrn_share() - share frames with the SOS: their tables, a descriptor
 * @be: our backend
 * @vmid: the SOS (any other VM: -EOPNOTSUPP)
 * @info: the buffer: its id and frames; read-only is not enforced, since
 *	the SOS can reach all of our RAM
 * @handle: set to the tables
 * @ref: set to the descriptor page's guest-physical address
 *
 * Return: 0, -EOPNOTSUPP when this VM is not a UOS or @vmid is not the
 * SOS, or an error of hdacrn_table_build().
 */
int hdacrn_share(struct hdmabuf_backend *be, u32 vmid,
		 const struct hdmabuf_share_info *info, void **handle,
		 u64 *ref)
{
	struct hdacrn_shbuf *sb;
	struct hdacrn_desc *d;
	unsigned int i;
	u64 root;
	int ret;

	if (be->vmid == HDACRN_SOS_VMID || vmid != HDACRN_SOS_VMID)
		return -EOPNOTSUPP;
	ret = hdacrn_table_build(info->pfns, info->nr_pages, &sb, &root);
	if (ret)
		return ret;
	sb->desc = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!sb->desc) {
		hdacrn_table_free(sb);
		return -ENOMEM;
	}
	sb->owner = info->owner;
	sb->epoch = hdacrn_reclaim_epoch();
	d = kmap_local_page(sb->desc);
	d->magic = cpu_to_le32(HDACRN_DESC_MAGIC);
	d->vmid = cpu_to_le32(info->id.vmid);
	d->seq = cpu_to_le32(info->id.seq);
	for (i = 0; i < ARRAY_SIZE(d->key); i++)
		d->key[i] = cpu_to_le32(info->id.key[i]);
	d->nr_pages = cpu_to_le32(info->nr_pages);
	d->levels = cpu_to_le32(hdacrn_levels(info->nr_pages));
	d->root = cpu_to_le64(root);
	kunmap_local(d);
	*ref = page_to_phys(sb->desc);
	hdacrn_share_lie(sb, ref);
	*handle = sb;
	return 0;
}

/**
 * hdacrn_shbuf_release() - the SOS cannot reach a shared buffer any more:
 *	free its tables, and let the core have its pages back
 * @sb: the buffer, unshared
 */
void hdacrn_shbuf_release(struct hdacrn_shbuf *sb)
{
	void *owner = sb->owner;

	hdacrn_table_free(sb);
	hdmabuf_unshare_done(owner);
}

/**
 * hdacrn_unshare() - end the sharing of a buffer
 * @be: our backend
 * @handle: from hdacrn_share()
 *
 * The SOS has released the buffer, never saw it, or is gone.  In the last
 * case it may still map the pages: they are released only once it says
 * that it no longer does (reclaim.c).
 */
void hdacrn_unshare(struct hdmabuf_backend *be, void *handle)
{
	hdacrn_reclaim(handle);
}

/*
 * Walk one table page at @gpa of @level (1 = leaf) covering @count data
 * pages from @first on.  Recursion is at most HDACRN_MAX_LEVELS deep.
 */
static int hdacrn_walk(struct hdacrn_link *link, struct page **pages,
		       unsigned int level, u64 gpa, unsigned long first,
		       unsigned long count)
{
	struct hdacrn_window *w = &link->window;
	unsigned long span = 1, i, entries;
	struct page *table;
	__le64 *t;
	u64 e;
	int ret = 0;

	table = hdacrn_window_page(w, gpa);
	if (!table) {
		hdacrn_complain(link, HDACRN_LIE_TABLE,
				"level %u table at %#llx outside its RAM", level,
				gpa);
		return -EINVAL;
	}
	for (i = 1; i < level; i++)
		span *= HDACRN_GPAS_PER_PAGE;
	entries = DIV_ROUND_UP(count, span);
	if (entries > HDACRN_GPAS_PER_PAGE)
		return -E2BIG;	/* more pages than three levels hold */

	t = kmap_local_page(table);
	for (i = 0; i < entries; i++) {
		/* Once: the UOS may be rewriting its table under us. */
		e = le64_to_cpu(READ_ONCE(t[i]));
		if (level > 1) {
			kunmap_local(t);
			ret = hdacrn_walk(link, pages, level - 1, e,
					  first + i * span,
					  min(span, count - i * span));
			if (ret)
				return ret;
			t = kmap_local_page(table);
			continue;
		}
		pages[first + i] = hdacrn_window_page(w, e);
		if (!pages[first + i]) {
			hdacrn_complain(link, HDACRN_LIE_TABLE,
					"page %lu at %#llx: not a page of its RAM",
					first + i, e);
			ret = -EINVAL;
			break;
		}
	}
	kunmap_local(t);
	return ret;
}

/**
 * hdacrn_table_read() - read a UOS's address tables through the window
 * @link: the link to the UOS, whose window is used
 * @root: the root table's address, from the UOS
 * @nr_pages: data pages, checked by the core
 * @pages: set to the window's page for each data page
 *
 * Return: 0, -EINVAL when a table or data address is outside the UOS's RAM
 * or not page aligned, -E2BIG beyond three levels.
 */
int hdacrn_table_read(struct hdacrn_link *link, u64 root,
		      unsigned int nr_pages, struct page **pages)
{
	return hdacrn_walk(link, pages, hdacrn_levels(nr_pages), root, 0,
			   nr_pages);
}

/**
 * hdacrn_desc_read() - read and check a buffer's descriptor
 * @link: the link to the UOS, whose window is used
 * @ref: the descriptor's address, from the UOS
 * @id: the buffer the core asks for
 * @nr_pages: its page count, as announced
 * @root: set to the root table's address
 *
 * Return: 0; -EINVAL when @ref is outside the UOS's RAM or not page
 * aligned; -ESTALE when the page there does not describe buffer @id
 * with @nr_pages pages (the UOS reused it, or lies).
 */
int hdacrn_desc_read(struct hdacrn_link *link, u64 ref,
		     const struct hyper_dmabuf_id *id, unsigned int nr_pages,
		     u64 *root)
{
	struct hyper_dmabuf_id found = { 0 };
	const struct hdacrn_desc *d;
	struct page *page;
	bool ok;
	int i;

	page = hdacrn_window_page(&link->window, ref);
	if (!page) {
		hdacrn_complain(link, HDACRN_LIE_TABLE,
				"descriptor at %#llx outside its RAM", ref);
		return -EINVAL;
	}
	d = kmap_local_page(page);
	/* Each field once: the UOS may be rewriting the page under us. */
	found.vmid = le32_to_cpu(READ_ONCE(d->vmid));
	found.seq = le32_to_cpu(READ_ONCE(d->seq));
	for (i = 0; i < ARRAY_SIZE(found.key); i++)
		found.key[i] = le32_to_cpu(READ_ONCE(d->key[i]));
	ok = le32_to_cpu(READ_ONCE(d->magic)) == HDACRN_DESC_MAGIC &&
	     le32_to_cpu(READ_ONCE(d->nr_pages)) == nr_pages &&
	     le32_to_cpu(READ_ONCE(d->levels)) == hdacrn_levels(nr_pages);
	*root = le64_to_cpu(READ_ONCE(d->root));
	kunmap_local(d);
	return ok && hdmabuf_id_match(&found, id) ? 0 : -ESTALE;
}

/**
 * hdacrn_map() - map a UOS's buffer from this SOS's window
 * @be: our backend
 * @vmid: the UOS
 * @info: the buffer: its id, the descriptor's guest-physical address and
 *	page count from the UOS; read-only is the core's to enforce
 * @handle: set to the mapping
 * @pages: set to its pages
 *
 * Return: 0, -EOPNOTSUPP when this VM is not the SOS, -ENOENT when the
 * UOS's link, its window or its session is gone (the core has withdrawn,
 * or is withdrawing, the import: no such buffer any more), -ESTALE when
 * the descriptor does not name the buffer, -EINVAL for a descriptor or
 * table that names anything outside the UOS's RAM, -ENOMEM.
 */
int hdacrn_map(struct hdmabuf_backend *be, u32 vmid,
	       const struct hdmabuf_map_info *info, void **handle,
	       struct page ***pages)
{
	unsigned int nr_pages = info->nr_pages;
	struct hdacrn_mapping *m;
	u64 root;
	int ret;

	if (be->vmid != HDACRN_SOS_VMID)
		return -EOPNOTSUPP;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->nr_pages = nr_pages;
	m->pages = kvcalloc(nr_pages, sizeof(*m->pages), GFP_KERNEL_ACCOUNT);
	if (!m->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	/*
	 * A link goes away only after the core withdrew its imports, but an
	 * import may have passed the core's check just before: for it, as
	 * for the importer, the buffer is gone.
	 */
	m->link = hdacrn_link_get(vmid);
	if (!m->link) {
		ret = -ENOENT;
		goto err_free_pages;
	}
	if (!hdacrn_window_get(&m->link->window)) {
		ret = -ENOENT;
		goto err_put_link;
	}
	/* Counted before the UOS's pages are first read. */
	ret = hdacrn_maps_get(m->link, &m->epoch);
	if (ret)
		goto err_put_window;
	ret = hdacrn_desc_read(m->link, info->ref, &info->id, nr_pages, &root);
	if (ret)
		goto err_put_maps;
	ret = hdacrn_table_read(m->link, root, nr_pages, m->pages);
	if (ret)
		goto err_put_maps;
	*handle = m;
	*pages = m->pages;
	return 0;

err_put_maps:
	hdacrn_maps_put(m->link, m->epoch);
err_put_window:
	hdacrn_window_put(&m->link->window);
err_put_link:
	hdacrn_link_put(m->link);
err_free_pages:
	kvfree(m->pages);
err_free:
	kfree(m);
	return ret;
}

/**
 * hdacrn_unmap() - undo hdacrn_map()
 * @be: our backend
 * @handle: the mapping
 */
void hdacrn_unmap(struct hdmabuf_backend *be, void *handle)
{
	struct hdacrn_mapping *m = handle;

	/* While the window, and so the mailbox, is still there. */
	hdacrn_maps_put(m->link, m->epoch);
	hdacrn_window_put(&m->link->window);
	hdacrn_link_put(m->link);
	kvfree(m->pages);
	kfree(m);
}
