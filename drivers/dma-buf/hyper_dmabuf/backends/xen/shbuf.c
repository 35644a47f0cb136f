// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend, exporter side: grant a buffer's frames to the
 * importing domain and publish their references in a page directory.
 *
 * References are claimed from the grant table in batches.  The directory
 * is a chain of pages (see struct hdxen_dir_page), so a buffer has no size
 * cap of its own; the grant table's size is the limit.
 *
 * Ending a share: the core asks once the importer said it released the
 * buffer, or is gone, or never saw it.  None of these proves that no grant
 * is mapped any more (a peer may lie, or its driver may be gone while its
 * domain still maps the frames), so every grant is ended only when the
 * hypervisor says it is no longer in use, directory grants first and data
 * grants only after all of them (see xen.h, identity).  What is still in
 * use is retried from a work item, backing off to once a second, for as
 * long as it takes; only then are the frames given back to the core
 * (hdmabuf_unshare_done()), which keeps the buffer until that moment.  No
 * page reference stands in for this: the exporting driver of the buffer
 * (a TTM pool, say) need not honour one.
 *
 * Withdrawing a share: as soon as the core has queued the UNEXPORT, every
 * grant the importer does not map ends (hdxen_revoke()), in the same
 * order, so that an importer that never took the buffer cannot keep it;
 * what it maps waits for the unshare.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "xen.h"

/* References claimed from the grant table at a time. */
#define HDXEN_REF_BATCH		1024
/* Retry ending grants still in use after this long, doubling up to 1 s. */
#define HDXEN_END_FIRST_MS	10
#define HDXEN_END_MAX_MS	1000
/* Say once that a domain keeps a buffer mapped after this long. */
#define HDXEN_END_WARN_MS	60000

/**
 * struct hdxen_share - a buffer granted to a peer
 * @domid: the importing domain
 * @nr_pages: data pages granted
 * @nr_dir: directory pages
 * @refs: grant reference of each data page
 * @dir_refs: grant reference of each directory page
 * @dir: the directory pages
 * @owner: the core's, for hdmabuf_unshare_done()
 * @ended: grants ended so far while unsharing: directory ones first, then
 *	data ones; owned by @end_work
 * @delay_ms: the next retry's delay
 * @since: when unsharing began, in jiffies
 * @warned: the peer was said to keep the buffer mapped
 * @end_work: ends the grants, retrying those still in use
 */
struct hdxen_share {
	domid_t domid;
	unsigned int nr_pages;
	unsigned int nr_dir;
	grant_ref_t *refs;
	grant_ref_t *dir_refs;
	struct page **dir;
	void *owner;
	unsigned int ended;
	unsigned int delay_ms;
	unsigned long since;
	bool warned;
	struct delayed_work end_work;
};

static struct workqueue_struct *hdxen_end_wq;

/* Grant references granted through shares and not yet ended (debugfs). */
atomic_t hdxen_grants = ATOMIC_INIT(0);
/* Grant references claimed and not yet freed, granted or not (debugfs). */
atomic_t hdxen_refs = ATOMIC_INIT(0);

/**
 * hdxen_dma_to_pfn() - the frame of a DMA address of the core's device
 * @dev: the device
 * @addr: the address
 *
 * In a PV domain whose DMA goes through swiotlb-xen (dom0, or a domU with
 * more than 4 GiB), DMA addresses are bus, that is machine, addresses;
 * with plain dma-direct they are pseudo-physical.  Either way the result
 * is this domain's frame number.
 *
 * Return: the frame number.
 */
unsigned long hdxen_dma_to_pfn(struct device *dev, dma_addr_t addr)
{
	phys_addr_t phys = dma_to_phys(dev, addr);

	if (xen_pv_domain() && get_dma_ops(dev))
		return bfn_to_pfn(XEN_PFN_DOWN(phys));
	return PHYS_PFN(phys);
}

/* Claim @n grant references into @refs, in batches; all or nothing. */
static int hdxen_claim_refs(grant_ref_t *refs, unsigned int n)
{
	unsigned int i = 0, batch, j;
	grant_ref_t head;
	int ret;

	while (i < n) {
		batch = min_t(unsigned int, n - i, HDXEN_REF_BATCH);
		/* The test fault: the last batch finds the table full. */
		if (i + batch == n && hdxen_fault(HDXEN_FAULT_CLAIM_FAIL))
			ret = -ENOSPC;
		else
			ret = gnttab_alloc_grant_references(batch, &head);
		if (ret)
			goto err;
		for (j = 0; j < batch; j++)
			refs[i++] = gnttab_claim_grant_reference(&head);
		atomic_add(batch, &hdxen_refs);
		cond_resched();
	}
	return 0;

err:
	atomic_sub(i, &hdxen_refs);
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

/* Fill the directory pages with their headers and the data refs. */
static void hdxen_dir_fill(struct hdxen_share *sh,
			   const struct hyper_dmabuf_id *id)
{
	unsigned int d, i, n = 0;

	for (d = 0; d < sh->nr_dir; d++) {
		struct hdxen_dir_page *dp = page_address(sh->dir[d]);

		dp->magic = cpu_to_le32(HDXEN_DIR_MAGIC);
		dp->vmid = cpu_to_le32(id->vmid);
		dp->seq = cpu_to_le32(id->seq);
		for (i = 0; i < ARRAY_SIZE(dp->key); i++)
			dp->key[i] = cpu_to_le32(id->key[i]);
		dp->nr_pages = cpu_to_le32(sh->nr_pages);
		dp->index = cpu_to_le32(d);
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

static void hdxen_end_work(struct work_struct *work);

/**
 * hdxen_share() - grant frames to a domain through a page directory
 * @be: our backend
 * @vmid: the importing domain
 * @info: the buffer: its id, frames and access
 * @handle: set to the share, for hdxen_unshare()
 * @ref: set to the grant reference of the first directory page
 *
 * Return: 0, -EHOSTUNREACH for a VM id that is no domain id, -ENOMEM, or
 * -ENOSPC when the grant table is full.  Nothing is granted on failure.
 */
int hdxen_share(struct hdmabuf_backend *be, u32 vmid,
		const struct hdmabuf_share_info *info, void **handle, u64 *ref)
{
	unsigned int nr_pages = info->nr_pages;
	bool readonly = info->readonly;
	struct hdxen_share *sh;
	unsigned int i;
	int ret;

	if (vmid >= DOMID_FIRST_RESERVED)
		return -EHOSTUNREACH;
	if (!nr_pages)
		return -EINVAL;

	sh = kzalloc(sizeof(*sh), GFP_KERNEL_ACCOUNT);
	if (!sh)
		return -ENOMEM;
	sh->domid = vmid;
	sh->nr_pages = nr_pages;
	sh->nr_dir = DIV_ROUND_UP(nr_pages, HDXEN_REFS_PER_DIR);
	sh->owner = info->owner;
	INIT_DELAYED_WORK(&sh->end_work, hdxen_end_work);
	sh->refs = kvmalloc_array(nr_pages, sizeof(*sh->refs),
				  GFP_KERNEL_ACCOUNT);
	sh->dir_refs = kcalloc(sh->nr_dir, sizeof(*sh->dir_refs),
			       GFP_KERNEL_ACCOUNT);
	sh->dir = kcalloc(sh->nr_dir, sizeof(*sh->dir), GFP_KERNEL_ACCOUNT);
	if (!sh->refs || !sh->dir_refs || !sh->dir) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < sh->nr_dir; i++) {
		sh->dir[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
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
		gnttab_grant_foreign_access_ref(sh->refs[i], sh->domid,
						pfn_to_gfn(info->pfns[i]),
						readonly);
	hdxen_dir_fill(sh, &info->id);
	hdxen_dir_lie(sh);
	for (i = 0; i < sh->nr_dir; i++)
		gnttab_page_grant_foreign_access_ref_one(sh->dir_refs[i],
							 sh->domid, sh->dir[i],
							 true);
	atomic_add(nr_pages + sh->nr_dir, &hdxen_grants);
	*handle = sh;
	*ref = sh->dir_refs[0];
	return 0;

err_refs:
	for (i = 0; i < nr_pages; i++)
		gnttab_free_grant_reference(sh->refs[i]);
	atomic_sub(nr_pages, &hdxen_refs);
err_free:
	hdxen_share_free(sh);
	return ret;
}

/*
 * End the grant *@ref unless it is in use; 0 marks it ended, since no
 * reserved reference is ever ours.  Returns false when it is in use.
 */
static bool hdxen_end_ref(grant_ref_t *ref)
{
	if (!*ref)
		return true;
	if (!gnttab_try_end_foreign_access(*ref))
		return false;
	*ref = 0;
	atomic_dec(&hdxen_grants);
	atomic_dec(&hdxen_refs);
	return true;
}

/*
 * End the grants of @refs from index @sh->ended - @base on, while the
 * hypervisor lets us.  Returns false when one is still in use.
 */
static bool hdxen_end_refs(struct hdxen_share *sh, grant_ref_t *refs,
			   unsigned int base, unsigned int n)
{
	while (sh->ended - base < n) {
		if (!hdxen_end_ref(&refs[sh->ended - base]))
			return false;
		sh->ended++;
		if (!(sh->ended % HDXEN_REF_BATCH))
			cond_resched();
	}
	return true;
}

static void hdxen_end_work(struct work_struct *work)
{
	struct hdxen_share *sh = container_of(to_delayed_work(work),
					      struct hdxen_share, end_work);
	void *owner = sh->owner;

	/* The directory first: while the peer holds it, data refs stay. */
	if (!hdxen_end_refs(sh, sh->dir_refs, 0, sh->nr_dir) ||
	    !hdxen_end_refs(sh, sh->refs, sh->nr_dir, sh->nr_pages)) {
		if (!sh->warned &&
		    time_after(jiffies, sh->since +
			       msecs_to_jiffies(HDXEN_END_WARN_MS))) {
			pr_info("domain %u still maps a released buffer; its frames stay reserved until it unmaps\n",
				sh->domid);
			sh->warned = true;
		}
		queue_delayed_work(hdxen_end_wq, &sh->end_work,
				   msecs_to_jiffies(sh->delay_ms));
		sh->delay_ms = min(sh->delay_ms * 2, HDXEN_END_MAX_MS);
		return;
	}
	/* Every reference is free again, and no frame is reachable. */
	hdxen_share_free(sh);
	hdmabuf_unshare_done(owner);
}

/**
 * hdxen_revoke() - end the grants of a withdrawn share the peer does not map
 * @be: our backend
 * @handle: the share
 *
 * The directory first, as when unsharing (xen.h, identity): while the peer
 * maps a directory page it may be reading data references from it, and no
 * data grant ends.  Once no directory grant is left, every data grant the
 * peer does not map ends; those it maps stay for hdxen_unshare().  An
 * importer that comes to the directory afterwards finds its first page
 * ended, or once the reference is reused naming another buffer: -ESTALE,
 * never another buffer's pages.
 *
 * Return: true when no grant of the share is left.
 */
bool hdxen_revoke(struct hdmabuf_backend *be, void *handle)
{
	struct hdxen_share *sh = handle;
	bool mapped = false;
	unsigned int i;

	if (!hdxen_end_refs(sh, sh->dir_refs, 0, sh->nr_dir))
		return false;
	for (i = 0; i < sh->nr_pages; i++) {
		if (!hdxen_end_ref(&sh->refs[i]))
			mapped = true;
		if (!((i + 1) % HDXEN_REF_BATCH))
			cond_resched();
	}
	return !mapped;
}

/**
 * hdxen_unshare() - end the grants of a share
 * @be: our backend
 * @handle: the share
 *
 * Grants not in use end at once; the rest are retried until the peer
 * unmaps them (its domain's death unmaps them too).  Then the core is told
 * the frames are free.
 */
void hdxen_unshare(struct hdmabuf_backend *be, void *handle)
{
	struct hdxen_share *sh = handle;

	sh->since = jiffies;
	sh->delay_ms = HDXEN_END_FIRST_MS;
	hdxen_end_work(&sh->end_work.work);
}

/**
 * hdxen_defer() - run @work on the backend's own workqueue
 * @work: the work
 *
 * For what must finish before the module can go: its exit destroys the
 * workqueue, which waits for @work, even one that drops the last module
 * reference.
 */
void hdxen_defer(struct work_struct *work)
{
	queue_work(hdxen_end_wq, work);
}

/**
 * hdxen_shbuf_init() - set up ending grants
 *
 * Return: 0 or -ENOMEM.
 */
int hdxen_shbuf_init(void)
{
	hdxen_end_wq = alloc_workqueue("hyper_dmabuf_xen_end", WQ_UNBOUND, 0);
	return hdxen_end_wq ? 0 : -ENOMEM;
}

/**
 * hdxen_shbuf_exit() - nothing is left to end
 *
 * Every share pinned the module until its grants ended.
 */
void hdxen_shbuf_exit(void)
{
	destroy_workqueue(hdxen_end_wq);
}
