// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend, exporter side: grant a buffer's pages to the
 * importing domain and publish their references in a page directory.
 *
 * References are claimed from the grant table in batches.  The directory
 * is a chain of pages (see struct hdxen_dir_page), so a buffer has no size
 * cap of its own; the grant table's size is the limit.
 *
 * Access is ended only when the core says the importer released the
 * pages or is gone.  A grant the peer still maps is then ended later by
 * the grant-table code (gnttab_end_foreign_access()), which holds a page
 * reference until then: no page is freed while a peer may map it.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "xen.h"

/* References claimed from the grant table at a time. */
#define HDXEN_REF_BATCH		1024

/**
 * struct hdxen_share - a buffer granted to a peer
 * @domid: the importing domain
 * @nr_pages: data pages granted
 * @nr_dir: directory pages
 * @refs: grant reference of each data page
 * @dir_refs: grant reference of each directory page
 * @dir: the directory pages
 */
struct hdxen_share {
	domid_t domid;
	unsigned int nr_pages;
	unsigned int nr_dir;
	grant_ref_t *refs;
	grant_ref_t *dir_refs;
	struct page **dir;
};

/* Claim @n grant references into @refs, in batches; all or nothing. */
static int hdxen_claim_refs(grant_ref_t *refs, unsigned int n)
{
	unsigned int i = 0, batch, j;
	grant_ref_t head;
	int ret;

	while (i < n) {
		batch = min_t(unsigned int, n - i, HDXEN_REF_BATCH);
		ret = gnttab_alloc_grant_references(batch, &head);
		if (ret)
			goto err;
		for (j = 0; j < batch; j++)
			refs[i++] = gnttab_claim_grant_reference(&head);
		cond_resched();
	}
	return 0;

err:
	while (i--)
		gnttab_free_grant_reference(refs[i]);
	return ret;
}

static void hdxen_share_free(struct hdxen_share *sh)
{
	unsigned int i;

	if (sh->dir) {
		for (i = 0; i < sh->nr_dir; i++)
			if (sh->dir[i])
				__free_page(sh->dir[i]);
	}
	kfree(sh->dir);
	kfree(sh->dir_refs);
	kvfree(sh->refs);
	kfree(sh);
}

/* Fill the directory pages with the data refs and chain them. */
static void hdxen_dir_fill(struct hdxen_share *sh)
{
	unsigned int d, i, n = 0;

	for (d = 0; d < sh->nr_dir; d++) {
		struct hdxen_dir_page *dp = page_address(sh->dir[d]);

		dp->next = cpu_to_le32(d + 1 < sh->nr_dir ?
				       sh->dir_refs[d + 1] : 0);
		for (i = 0; i < HDXEN_REFS_PER_DIR && n < sh->nr_pages; i++)
			dp->refs[i] = cpu_to_le32(sh->refs[n++]);
	}
}

/* Tests of the importer's defences: make the directory lie. */
static void hdxen_dir_lie(struct hdxen_share *sh)
{
	struct hdxen_dir_page *dp;
	unsigned int mid;

	if (hdxen_fault(HDXEN_FAULT_DIR_LOOP)) {
		dp = page_address(sh->dir[sh->nr_dir - 1]);
		dp->next = cpu_to_le32(sh->dir_refs[0]);
	}
	dp = page_address(sh->dir[0]);
	mid = min_t(unsigned int, sh->nr_pages, HDXEN_REFS_PER_DIR) / 2;
	if (hdxen_fault(HDXEN_FAULT_RESERVED_REF))
		dp->refs[mid] = cpu_to_le32(GNTTAB_RESERVED_XENSTORE);
	if (hdxen_fault(HDXEN_FAULT_BAD_REF))
		dp->refs[mid] = cpu_to_le32(0x0fffffff);
}

/**
 * hdxen_share() - grant pages to a domain through a page directory
 * @be: our backend
 * @vmid: the importing domain
 * @pages: the pages
 * @nr_pages: how many, at least one
 * @readonly: grant them read-only
 * @handle: set to the share, for hdxen_unshare()
 * @ref: set to the grant reference of the first directory page
 *
 * Return: 0, -EHOSTUNREACH for a VM id that is no domain id, -ENOMEM, or
 * -ENOSPC when the grant table is full.  Nothing is granted on failure.
 */
int hdxen_share(struct hdmabuf_backend *be, u32 vmid, struct page **pages,
		unsigned int nr_pages, bool readonly, void **handle, u64 *ref)
{
	struct hdxen_share *sh;
	unsigned int i;
	int ret;

	if (vmid >= DOMID_FIRST_RESERVED)
		return -EHOSTUNREACH;
	if (!nr_pages)
		return -EINVAL;

	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
	if (!sh)
		return -ENOMEM;
	sh->domid = vmid;
	sh->nr_pages = nr_pages;
	sh->nr_dir = DIV_ROUND_UP(nr_pages, HDXEN_REFS_PER_DIR);
	sh->refs = kvmalloc_array(nr_pages, sizeof(*sh->refs), GFP_KERNEL);
	sh->dir_refs = kcalloc(sh->nr_dir, sizeof(*sh->dir_refs), GFP_KERNEL);
	sh->dir = kcalloc(sh->nr_dir, sizeof(*sh->dir), GFP_KERNEL);
	if (!sh->refs || !sh->dir_refs || !sh->dir) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < sh->nr_dir; i++) {
		sh->dir[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!sh->dir[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
	}

	ret = hdxen_claim_refs(sh->refs, nr_pages);
	if (ret)
		goto err_free;
	ret = hdxen_claim_refs(sh->dir_refs, sh->nr_dir);
	if (ret)
		goto err_refs;

	/* Nothing below fails: the grants go live only now. */
	if (hdxen_fault(HDXEN_FAULT_RO_GRANT))
		readonly = true;
	for (i = 0; i < nr_pages; i++)
		gnttab_page_grant_foreign_access_ref_one(sh->refs[i], sh->domid,
							 pages[i], readonly);
	hdxen_dir_fill(sh);
	hdxen_dir_lie(sh);
	for (i = 0; i < sh->nr_dir; i++)
		gnttab_page_grant_foreign_access_ref_one(sh->dir_refs[i],
							 sh->domid, sh->dir[i],
							 true);
	*handle = sh;
	*ref = sh->dir_refs[0];
	return 0;

err_refs:
	for (i = 0; i < nr_pages; i++)
		gnttab_free_grant_reference(sh->refs[i]);
err_free:
	hdxen_share_free(sh);
	return ret;
}

/**
 * hdxen_unshare() - end the grants of a share
 * @be: our backend
 * @handle: the share
 *
 * A grant still mapped by the peer is ended once the peer unmaps it; the
 * grant-table code keeps its page until then.  Directory pages are handed
 * to it likewise and freed when their grant ends.
 */
void hdxen_unshare(struct hdmabuf_backend *be, void *handle)
{
	struct hdxen_share *sh = handle;
	unsigned int i;

	for (i = 0; i < sh->nr_pages; i++) {
		gnttab_end_foreign_access(sh->refs[i], NULL);
		if (!(i % HDXEN_REF_BATCH))
			cond_resched();
	}
	for (i = 0; i < sh->nr_dir; i++) {
		gnttab_end_foreign_access(sh->dir_refs[i], sh->dir[i]);
		sh->dir[i] = NULL;	/* the grant-table code frees it */
	}
	hdxen_share_free(sh);
}
