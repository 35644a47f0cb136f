// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend: mmap and vmap of an imported buffer in a PV
 * domain.
 *
 * In a PV domain only the hypervisor may put a foreign frame in a page
 * table, and only through a grant map.  So, as gntdev does for its own
 * mappings, each mmap and vmap maps the buffer's grants a second time,
 * with GNTMAP_contains_pte, straight into the page-table entries of the
 * new range.  Those entries must be unmapped by the hypervisor before the
 * kernel zaps them (Xen kills a domain that clears a granted entry
 * itself), so a user mapping registers an MMU interval notifier and
 * unmaps whatever part of its range is invalidated: munmap, exit, or
 * anything else that clears its entries.  When the mapping outlives that
 * (MADV_DONTNEED, mprotect), the next access faults the same grant in
 * again; never another page.
 *
 * The mapping may not be inherited, split, grown or moved; see
 * hdxen_vm_ops for how each is refused.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/pgtable_types.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>
#include <xen/grant_table.h>

#include "xen.h"

/* Grant operations per hypercall. */
#define HDXEN_PTE_BATCH		16

/**
 * struct hdxen_ptemap - grants mapped into one range of page tables
 * @m: the import whose grants these are
 * @start: first virtual address
 * @first: index in @m of the page mapped at @start
 * @count: pages in the range
 * @flags: GNTMAP_* flags the grants were mapped with
 * @lock: protects @ptes and @handles
 * @ptes: machine address of each page-table entry
 * @handles: grant handle of each entry, or INVALID_GRANT_HANDLE
 * @ref: user mappings: one per vma that points here, the mapping's own
 *	and, while mremap tries to move it, the copy it made
 * @notifier: user mappings: unmaps the grants before the entries go
 * @vaddr: kernel mappings: the area
 * @placeholder: kernel mappings: the page the area maps until the grants
 * @node: kernel mappings: entry in hdxen_vmaps
 */
struct hdxen_ptemap {
	struct hdxen_map *m;
	unsigned long start;
	unsigned int first;
	unsigned int count;
	u32 flags;
	struct mutex lock;	/* protects ptes and handles */
	u64 *ptes;
	grant_handle_t *handles;
	struct kref ref;
	struct mmu_interval_notifier notifier;
	void *vaddr;
	struct page *placeholder;
	struct list_head node;
};

/* Kernel mappings made by hdxen_vmap(), found again by address. */
static LIST_HEAD(hdxen_vmaps);
static DEFINE_MUTEX(hdxen_vmaps_lock);	/* protects hdxen_vmaps */

static struct hdxen_ptemap *hdxen_ptemap_new(struct hdxen_map *m,
					     unsigned long start,
					     unsigned int first,
					     unsigned int count, u32 flags)
{
	struct hdxen_ptemap *pm;
	unsigned int i;

	pm = kzalloc(sizeof(*pm), GFP_KERNEL);
	if (!pm)
		return NULL;
	pm->ptes = kvmalloc_array(count, sizeof(*pm->ptes), GFP_KERNEL);
	pm->handles = kvmalloc_array(count, sizeof(*pm->handles), GFP_KERNEL);
	if (!pm->ptes || !pm->handles) {
		kvfree(pm->ptes);
		kvfree(pm->handles);
		kfree(pm);
		return NULL;
	}
	for (i = 0; i < count; i++)
		pm->handles[i] = INVALID_GRANT_HANDLE;
	pm->m = m;
	pm->start = start;
	pm->first = first;
	pm->count = count;
	pm->flags = flags;
	mutex_init(&pm->lock);
	kref_init(&pm->ref);
	return pm;
}

static void hdxen_ptemap_free(struct hdxen_ptemap *pm)
{
	mutex_destroy(&pm->lock);
	kvfree(pm->ptes);
	kvfree(pm->handles);
	kfree(pm);
}

static int hdxen_find_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct hdxen_ptemap *pm = data;

	pm->ptes[(addr - pm->start) >> PAGE_SHIFT] =
		arbitrary_virt_to_machine(pte).maddr;
	return 0;
}

/* Unmap the grants of entries [@from, @to) that are mapped. */
static void hdxen_ptemap_unmap(struct hdxen_ptemap *pm, unsigned int from,
			       unsigned int to)
{
	struct gnttab_unmap_grant_ref ops[HDXEN_PTE_BATCH];
	unsigned int i, n = 0;

	lockdep_assert_held(&pm->lock);
	for (i = from; i < to; i++) {
		if (pm->handles[i] != INVALID_GRANT_HANDLE) {
			gnttab_set_unmap_op(&ops[n++], pm->ptes[i], pm->flags,
					    pm->handles[i]);
			pm->handles[i] = INVALID_GRANT_HANDLE;
		}
		if (n == HDXEN_PTE_BATCH || (n && i + 1 == to)) {
			WARN_ON(HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref,
							  ops, n));
			while (n--)
				WARN_ON(ops[n].status != GNTST_okay);
			n = 0;
		}
	}
}

/* Map every entry's grant; on failure unmap them all again. */
static int hdxen_ptemap_map(struct hdxen_ptemap *pm)
{
	struct gnttab_map_grant_ref ops[HDXEN_PTE_BATCH];
	struct hdxen_map *m = pm->m;
	unsigned int i, j, n;
	int ret = 0, err;

	mutex_lock(&pm->lock);
	for (i = 0; i < pm->count && !ret; i += n) {
		n = min_t(unsigned int, pm->count - i, HDXEN_PTE_BATCH);
		for (j = 0; j < n; j++)
			gnttab_set_map_op(&ops[j], pm->ptes[i + j], pm->flags,
					  m->refs[pm->first + i + j], m->domid);
		gnttab_batch_map(ops, n);
		for (j = 0; j < n; j++) {
			err = hdxen_gntst_errno(ops[j].status);
			if (!err)
				pm->handles[i + j] = ops[j].handle;
			else if (!ret)
				ret = err;
		}
		if (!(i % 1024))
			cond_resched();
	}
	if (ret)
		hdxen_ptemap_unmap(pm, 0, pm->count);
	mutex_unlock(&pm->lock);
	return ret;
}

static bool hdxen_invalidate(struct mmu_interval_notifier *mn,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	struct hdxen_ptemap *pm = container_of(mn, struct hdxen_ptemap,
					       notifier);
	unsigned long end = pm->start + ((unsigned long)pm->count << PAGE_SHIFT);
	unsigned long from = max(range->start, pm->start);
	unsigned long to = min(range->end, end);

	if (!mmu_notifier_range_blockable(range))
		return false;
	mutex_lock(&pm->lock);
	mmu_interval_set_seq(mn, cur_seq);
	if (from < to)
		hdxen_ptemap_unmap(pm, (from - pm->start) >> PAGE_SHIFT,
				   (to - pm->start + PAGE_SIZE - 1) >> PAGE_SHIFT);
	mutex_unlock(&pm->lock);
	return true;
}

static const struct mmu_interval_notifier_ops hdxen_mn_ops = {
	.invalidate = hdxen_invalidate,
};

/* The last vma went: its range was invalidated, so nothing is mapped. */
static void hdxen_ptemap_release(struct kref *ref)
{
	struct hdxen_ptemap *pm = container_of(ref, struct hdxen_ptemap, ref);

	mmu_interval_notifier_remove(&pm->notifier);
	mutex_lock(&pm->lock);
	hdxen_ptemap_unmap(pm, 0, pm->count);
	mutex_unlock(&pm->lock);
	hdxen_ptemap_free(pm);
}

static void hdxen_vma_open(struct vm_area_struct *vma)
{
	struct hdxen_ptemap *pm = vma->vm_private_data;

	kref_get(&pm->ref);
}

static void hdxen_vma_close(struct vm_area_struct *vma)
{
	struct hdxen_ptemap *pm = vma->vm_private_data;

	vma->vm_private_data = NULL;
	kref_put(&pm->ref, hdxen_ptemap_release);
}

static int hdxen_find_one_pte(pte_t *pte, unsigned long addr, void *data)
{
	u64 *maddr = data;

	*maddr = arbitrary_virt_to_machine(pte).maddr;
	return 0;
}

/*
 * An entry whose grant the notifier unmapped while the mapping stayed
 * (MADV_DONTNEED, mprotect, a refused mremap): map the same grant there
 * again, writable only if the vma is now.  Only in the vma the notifier
 * covers, never in a copy of it.
 */
static vm_fault_t hdxen_vma_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct hdxen_ptemap *pm = vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK;
	struct hdxen_map *m = pm->m;
	struct gnttab_map_grant_ref op;
	unsigned long seq;
	unsigned int i;
	u64 maddr;
	u32 flags;
	int err = 0;

	if (vma->vm_start != pm->start || vma_pages(vma) != pm->count)
		return VM_FAULT_SIGBUS;
	i = (addr - pm->start) >> PAGE_SHIFT;
	flags = pm->flags & ~GNTMAP_readonly;
	if (m->readonly || !(vma->vm_flags & VM_WRITE))
		flags |= GNTMAP_readonly;
	for (;;) {
		seq = mmu_interval_read_begin(&pm->notifier);
		if (apply_to_page_range(vma->vm_mm, addr, PAGE_SIZE,
					hdxen_find_one_pte, &maddr))
			return VM_FAULT_OOM;
		mutex_lock(&pm->lock);
		if (!mmu_interval_read_retry(&pm->notifier, seq))
			break;
		mutex_unlock(&pm->lock);
	}
	if (pm->handles[i] == INVALID_GRANT_HANDLE) {
		gnttab_set_map_op(&op, maddr, flags, m->refs[pm->first + i],
				  m->domid);
		gnttab_batch_map(&op, 1);
		err = hdxen_gntst_errno(op.status);
		if (!err) {
			pm->ptes[i] = maddr;
			pm->handles[i] = op.handle;
		}
	} else if (WARN_ON_ONCE(pm->ptes[i] != maddr)) {
		/* Mapped, but not here: faulting again would never end. */
		err = -EFAULT;
	}
	mutex_unlock(&pm->lock);
	return err ? VM_FAULT_SIGBUS : VM_FAULT_NOPAGE;
}

/* One notifier and one set of handles per mapping: never split it. */
static int hdxen_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

/* The notifier's interval cannot move with the vma: see hdxen_vm_ops. */
static int hdxen_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/*
 * Grant entries must only ever sit in this mm's page tables inside the
 * range the notifier covers, which is fixed at mmap time, and the state
 * is shared by every vma that points to it.  What a process can do:
 *
 * - fork: VM_DONTCOPY keeps the mapping out of the child, and VM_IO makes
 *   madvise(MADV_DOFORK) fail with -EINVAL rather than clear it.  (A
 *   child's copy of the entries would name foreign frames without a grant
 *   map: Xen refuses to pin its page tables, and the child spins in its
 *   first fault.)
 * - split (munmap, mprotect or mremap of part of it): .may_split refuses.
 * - grow: VM_DONTEXPAND makes mremap fail with -EFAULT; it also refuses
 *   MREMAP_DONTUNMAP and the "duplicate" of a zero old length.
 * - move (mremap of the whole range elsewhere, MREMAP_FIXED): move_vma()
 *   copies the vma first (copy_vma() calls .open: a second reference),
 *   then move_page_tables() invalidates the old range, so the notifier
 *   unmaps every grant before any entry moves, and only empty entries
 *   move.  .mremap then refuses, move_vma() moves the empty entries back
 *   and unmaps the copy, whose .close drops its reference.  The old vma
 *   stays with empty entries, and its next accesses fault the same grants
 *   in again, in the old range.  So no grant ever lies outside the
 *   notifier's range, and the state is freed once, by the last .close.
 * - MADV_DONTNEED, mprotect, clearing soft-dirty bits: the notifier
 *   unmaps the grants of the range first; .fault maps them again.
 * - get_user_pages(), and so vmsplice, O_DIRECT and io_uring fixed
 *   buffers: VM_IO refuses it (-EFAULT), and the entries have no struct
 *   page anyway (_GNTMAP_guest_avail0 makes them special).
 */
static const struct vm_operations_struct hdxen_vm_ops = {
	.open = hdxen_vma_open,
	.close = hdxen_vma_close,
	.fault = hdxen_vma_fault,
	.may_split = hdxen_vma_may_split,
	.mremap = hdxen_vma_mremap,
};

/**
 * hdxen_mmap() - map an imported buffer into user space, on PV
 * @be: our backend
 * @handle: the import's mapping (struct hdxen_map)
 * @vma: the new mapping; the dma-buf core checked its size
 *
 * Return: 0, -EINVAL for a range outside the buffer, or the errno of a
 * failed grant map, with nothing mapped.
 */
int hdxen_mmap(struct hdmabuf_backend *be, void *handle,
	       struct vm_area_struct *vma)
{
	struct hdxen_map *m = handle;
	unsigned long size = vma->vm_end - vma->vm_start;
	unsigned int count = size >> PAGE_SHIFT;
	bool ro = m->readonly || !(vma->vm_flags & VM_WRITE);
	struct hdxen_ptemap *pm;
	u32 flags;
	int ret;

	if (vma->vm_pgoff >= m->nr_pages || count > m->nr_pages - vma->vm_pgoff)
		return -EINVAL;
	flags = GNTMAP_host_map | GNTMAP_application_map | GNTMAP_contains_pte |
		(1 << _GNTMAP_guest_avail0) | (ro ? GNTMAP_readonly : 0);
	pm = hdxen_ptemap_new(m, vma->vm_start, vma->vm_pgoff, count, flags);
	if (!pm)
		return -ENOMEM;

	/*
	 * Special entries, not struct pages: see _GNTMAP_guest_avail0.  Never
	 * copied, grown or pinned: see hdxen_vm_ops.
	 */
	vma->vm_flags |= VM_IO | VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY |
			 VM_MIXEDMAP;
	if (ro)
		vma->vm_flags &= ~VM_MAYWRITE;
	ret = mmu_interval_notifier_insert_locked(&pm->notifier, vma->vm_mm,
						  vma->vm_start, size,
						  &hdxen_mn_ops);
	if (ret)
		goto err_free;
	/* The mmap lock is held: no invalidation can race with the walk. */
	mmu_interval_read_begin(&pm->notifier);
	ret = apply_to_page_range(vma->vm_mm, vma->vm_start, size,
				  hdxen_find_pte, pm);
	if (ret)
		goto err_notifier;
	ret = hdxen_ptemap_map(pm);
	if (ret)
		goto err_notifier;
	vma->vm_private_data = pm;
	vma->vm_ops = &hdxen_vm_ops;
	return 0;

err_notifier:
	mmu_interval_notifier_remove(&pm->notifier);
err_free:
	hdxen_ptemap_free(pm);
	return ret;
}

/*
 * Kernel page tables cannot be walked from a module; make the kernel build
 * them instead.  vmap() maps one read-only placeholder page at every slot
 * of a new area, and each grant map then replaces a placeholder entry
 * (Xen drops its hold on the page it replaces).  hdxen_vunmap() unmaps the
 * grants, which clears the entries, and vunmap() frees the area.
 */
static void *hdxen_vmap_area(struct page *placeholder, unsigned int count)
{
	struct page **pages;
	unsigned int i;
	void *vaddr;

	pages = kvmalloc_array(count, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < count; i++)
		pages[i] = placeholder;
	vaddr = vmap(pages, count, VM_MAP, PAGE_KERNEL_RO);
	kvfree(pages);
	return vaddr;
}

/**
 * hdxen_vmap() - map an imported buffer into the kernel, on PV
 * @be: our backend
 * @handle: the import's mapping (struct hdxen_map)
 * @writable: map it writable (and the grants allow it)
 * @vaddr: set to the address of the mapping
 *
 * Return: 0, -ENOMEM, or the errno of a failed grant map.
 */
int hdxen_vmap(struct hdmabuf_backend *be, void *handle, bool writable,
	       void **vaddr)
{
	struct hdxen_map *m = handle;
	bool ro = m->readonly || !writable;
	struct hdxen_ptemap *pm;
	unsigned int i;
	unsigned int level;
	pte_t *pte;
	int ret;

	pm = hdxen_ptemap_new(m, 0, 0, m->nr_pages,
			      GNTMAP_host_map | GNTMAP_contains_pte |
			      (ro ? GNTMAP_readonly : 0));
	if (!pm)
		return -ENOMEM;
	pm->placeholder = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!pm->placeholder) {
		ret = -ENOMEM;
		goto err_free;
	}
	pm->vaddr = hdxen_vmap_area(pm->placeholder, m->nr_pages);
	if (!pm->vaddr) {
		ret = -ENOMEM;
		goto err_page;
	}
	pm->start = (unsigned long)pm->vaddr;
	for (i = 0; i < m->nr_pages; i++) {
		pte = lookup_address(pm->start + ((unsigned long)i << PAGE_SHIFT),
				     &level);
		if (WARN_ON(!pte || level != PG_LEVEL_4K)) {
			ret = -EFAULT;
			goto err_area;
		}
		pm->ptes[i] = arbitrary_virt_to_machine(pte).maddr;
	}
	ret = hdxen_ptemap_map(pm);
	if (ret)
		goto err_area;
	mutex_lock(&hdxen_vmaps_lock);
	list_add(&pm->node, &hdxen_vmaps);
	mutex_unlock(&hdxen_vmaps_lock);
	*vaddr = pm->vaddr;
	return 0;

err_area:
	vunmap(pm->vaddr);
err_page:
	__free_page(pm->placeholder);
err_free:
	hdxen_ptemap_free(pm);
	return ret;
}

/**
 * hdxen_vunmap() - undo hdxen_vmap()
 * @be: our backend
 * @handle: the import's mapping
 * @vaddr: what hdxen_vmap() returned
 */
void hdxen_vunmap(struct hdmabuf_backend *be, void *handle, void *vaddr)
{
	struct hdxen_ptemap *pm, *found = NULL;

	mutex_lock(&hdxen_vmaps_lock);
	list_for_each_entry(pm, &hdxen_vmaps, node) {
		if (pm->vaddr == vaddr && pm->m == handle) {
			list_del(&pm->node);
			found = pm;
			break;
		}
	}
	mutex_unlock(&hdxen_vmaps_lock);
	if (WARN_ON(!found))
		return;
	mutex_lock(&found->lock);
	hdxen_ptemap_unmap(found, 0, found->count);
	mutex_unlock(&found->lock);
	vunmap(found->vaddr);
	__free_page(found->placeholder);
	hdxen_ptemap_free(found);
}
