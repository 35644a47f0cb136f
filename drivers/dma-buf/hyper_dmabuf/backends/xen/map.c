// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend, importer side: read the exporter's page
 * directory and map its data pages.
 *
 * Everything here comes from the other domain.  The page count was
 * bounded by the core; the directory's length follows from it, so the
 * walk is bounded no matter what the chain says, and every reference is
 * copied out once and only that copy is used.  Every directory page must
 * name the buffer the core asked for, and stays mapped until the data
 * pages are (xen.h: identity).  Data pages are mapped in
 * batched gnttab_map_refs() calls onto unpopulated pages; when any fails,
 * exactly the mapped ones are unmapped again and the first failure's
 * errno is returned.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "xen.h"

/* Grant operations per hypercall batch. */
#define HDXEN_MAP_BATCH		256

/**
 * hdxen_gntst_errno() - errno for a grant operation's status
 * @status: GNTST_* from the hypervisor
 *
 * Return: 0 for success, -EACCES when the grant does not allow the access
 * (such as a writable map of a read-only grant), -ENOSPC when this
 * domain's map table is full, -EAGAIN, or -EINVAL for a reference or
 * domain that does not name a usable grant.
 */
int hdxen_gntst_errno(s16 status)
{
	switch (status) {
	case GNTST_okay:
		return 0;
	case GNTST_permission_denied:
		return -EACCES;
	case GNTST_no_space:
	case GNTST_no_device_space:
		return -ENOSPC;
	case GNTST_eagain:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

static u32 hdxen_map_flags(bool readonly)
{
	return GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
}

static unsigned long hdxen_kaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

/* Map one grant on @page; returns its handle or a negative errno. */
static int hdxen_map_one(struct page *page, domid_t domid, grant_ref_t ref,
			 bool readonly, grant_handle_t *handle)
{
	struct gnttab_map_grant_ref op;
	int ret;

	gnttab_set_map_op(&op, hdxen_kaddr(page), hdxen_map_flags(readonly),
			  ref, domid);
	op.status = GNTST_general_error;
	ret = gnttab_map_refs(&op, NULL, &page, 1);
	if (ret)
		return ret;
	/* Xen writes the handle only when the map succeeded. */
	if (op.status == GNTST_okay)
		*handle = op.handle;
	return hdxen_gntst_errno(op.status);
}

/*
 * Unmap one grant from @page, as the batches do: gnttab_unmap_refs_sync()
 * waits for anyone else holding the page to let go.  Everything it needs
 * is on the stack, so it works when no memory can be had.
 */
static void hdxen_unmap_one(struct page *page, bool readonly,
			    grant_handle_t handle)
{
	struct gnttab_unmap_grant_ref op;
	struct gntab_unmap_queue_data q = {
		.unmap_ops = &op,
		.pages = &page,
		.count = 1,
	};

	gnttab_set_unmap_op(&op, hdxen_kaddr(page), hdxen_map_flags(readonly),
			    handle);
	WARN_ON(gnttab_unmap_refs_sync(&q) || op.status != GNTST_okay);
}

/**
 * struct hdxen_dir_map - a peer's page directory, mapped while reading it
 * @nr_dir: its pages
 * @pages: the local pages they are mapped on
 * @handles: grant handle of each, or INVALID_GRANT_HANDLE
 */
struct hdxen_dir_map {
	unsigned int nr_dir;
	struct page **pages;
	grant_handle_t *handles;
};

/* Whether directory page @d names the buffer @m is to map as @id. */
static bool hdxen_dir_names(const struct hdxen_dir_page *dp,
			    const struct hdxen_map *m,
			    const struct hyper_dmabuf_id *id, unsigned int d)
{
	struct hyper_dmabuf_id found = { 0 };
	unsigned int i;

	found.vmid = le32_to_cpu(READ_ONCE(dp->vmid));
	found.seq = le32_to_cpu(READ_ONCE(dp->seq));
	for (i = 0; i < ARRAY_SIZE(found.key); i++)
		found.key[i] = le32_to_cpu(READ_ONCE(dp->key[i]));
	return le32_to_cpu(READ_ONCE(dp->magic)) == HDXEN_DIR_MAGIC &&
	       hdmabuf_id_match(&found, id) &&
	       le32_to_cpu(READ_ONCE(dp->nr_pages)) == m->nr_pages &&
	       le32_to_cpu(READ_ONCE(dp->index)) == d;
}

/* Unmap the directory pages still mapped and free what holds them. */
static void hdxen_dir_unmap(struct hdxen_dir_map *dm)
{
	unsigned int d;

	for (d = 0; d < dm->nr_dir; d++)
		if (dm->handles[d] != INVALID_GRANT_HANDLE)
			hdxen_unmap_one(dm->pages[d], true, dm->handles[d]);
	xen_free_unpopulated_pages(dm->nr_dir, dm->pages);
	kfree(dm->handles);
	kfree(dm->pages);
}

/*
 * Map the directory at @ref page by page, checking that each names the
 * buffer @id, and copy the references of @m->nr_pages data pages into
 * @m->refs.  The pages stay mapped (hdxen_dir_unmap() ends that) so that
 * the exporter keeps the data references while the caller maps them.
 *
 * Return: 0; -ESTALE when a page is not this buffer's directory (its
 * reference was reused); -EINVAL for a malformed chain or reference.
 */
static int hdxen_dir_map(struct hdxen_map *m, grant_ref_t ref,
			 const struct hyper_dmabuf_id *id,
			 struct hdxen_dir_map *dm)
{
	const struct hdxen_dir_page *dp;
	unsigned int d, i, n = 0, count;
	int ret;

	dm->nr_dir = DIV_ROUND_UP(m->nr_pages, HDXEN_REFS_PER_DIR);
	dm->pages = kcalloc(dm->nr_dir, sizeof(*dm->pages), GFP_KERNEL);
	dm->handles = kmalloc_array(dm->nr_dir, sizeof(*dm->handles),
				    GFP_KERNEL);
	if (!dm->pages || !dm->handles) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (d = 0; d < dm->nr_dir; d++)
		dm->handles[d] = INVALID_GRANT_HANDLE;
	ret = xen_alloc_unpopulated_pages(dm->nr_dir, dm->pages);
	if (ret)
		goto err_free;

	for (d = 0; d < dm->nr_dir; d++) {
		if (ref < GNTTAB_NR_RESERVED_ENTRIES) {
			ret = -EINVAL;
			goto err_unmap;
		}
		ret = hdxen_map_one(dm->pages[d], m->domid, ref, true,
				    &dm->handles[d]);
		/*
		 * A first page that names no grant of the peer's to us is a
		 * reference whose grant has ended: no buffer of it any more.
		 */
		if (ret == -EINVAL && !d)
			ret = -ESTALE;
		if (ret)
			goto err_unmap;
		dp = page_address(dm->pages[d]);
		if (!hdxen_dir_names(dp, m, id, d)) {
			ret = -ESTALE;
			goto err_unmap;
		}
		count = min_t(unsigned int, m->nr_pages - n, HDXEN_REFS_PER_DIR);
		for (i = 0; i < count; i++) {
			m->refs[n] = le32_to_cpu(READ_ONCE(dp->refs[i]));
			/* Reserved entries are the toolstack's (xenstore...) */
			if (m->refs[n++] < GNTTAB_NR_RESERVED_ENTRIES) {
				ret = -EINVAL;
				goto err_unmap;
			}
		}
		ref = le32_to_cpu(READ_ONCE(dp->next));
		/* The chain must end exactly where the page count says. */
		if ((d + 1 == dm->nr_dir) != !ref) {
			ret = -EINVAL;
			goto err_unmap;
		}
		cond_resched();
	}
	return 0;

err_unmap:
	hdxen_dir_unmap(dm);
	return ret;
err_free:
	kfree(dm->handles);
	kfree(dm->pages);
	return ret;
}

/* Unmap the data pages whose handle is valid. */
static void hdxen_unmap_pages(struct hdxen_map *m)
{
	struct gnttab_unmap_grant_ref *ops;
	struct gntab_unmap_queue_data q;
	struct page **pages;
	unsigned int i = 0, n;

	ops = kmalloc_array(HDXEN_MAP_BATCH, sizeof(*ops), GFP_KERNEL);
	pages = kmalloc_array(HDXEN_MAP_BATCH, sizeof(*pages), GFP_KERNEL);
	while (i < m->nr_pages) {
		n = 0;
		for (; i < m->nr_pages && n < HDXEN_MAP_BATCH; i++) {
			if (m->handles[i] == INVALID_GRANT_HANDLE)
				continue;
			if (!ops || !pages) {
				/* No memory for a batch: one at a time, alike. */
				hdxen_unmap_one(m->pages[i], m->readonly,
						m->handles[i]);
				m->handles[i] = INVALID_GRANT_HANDLE;
				continue;
			}
			gnttab_set_unmap_op(&ops[n], hdxen_kaddr(m->pages[i]),
					    hdxen_map_flags(m->readonly),
					    m->handles[i]);
			pages[n++] = m->pages[i];
			m->handles[i] = INVALID_GRANT_HANDLE;
		}
		if (!n)
			continue;
		q.unmap_ops = ops;
		q.kunmap_ops = NULL;
		q.pages = pages;
		q.count = n;
		q.age = 0;
		WARN_ON(gnttab_unmap_refs_sync(&q));
		cond_resched();
	}
	kfree(pages);
	kfree(ops);
}

/* Map every data page, in batches; on failure unmap what was mapped. */
static int hdxen_map_pages(struct hdxen_map *m)
{
	struct gnttab_map_grant_ref *ops;
	unsigned int i, j, n;
	int ret = 0, err;

	ops = kmalloc_array(HDXEN_MAP_BATCH, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	for (i = 0; i < m->nr_pages && !ret; i += n) {
		n = min_t(unsigned int, m->nr_pages - i, HDXEN_MAP_BATCH);
		for (j = 0; j < n; j++) {
			gnttab_set_map_op(&ops[j], hdxen_kaddr(m->pages[i + j]),
					  hdxen_map_flags(m->readonly),
					  m->refs[i + j], m->domid);
			/* What a failed hypercall leaves: nothing mapped. */
			ops[j].status = GNTST_general_error;
		}
		ret = gnttab_map_refs(ops, NULL, &m->pages[i], n);
		for (j = 0; j < n; j++) {
			err = hdxen_gntst_errno(ops[j].status);
			if (!err)
				m->handles[i + j] = ops[j].handle;
			else if (!ret)
				ret = err;
		}
		cond_resched();
	}
	kfree(ops);
	if (ret)
		hdxen_unmap_pages(m);
	return ret;
}

static void hdxen_map_free(struct hdxen_map *m)
{
	kvfree(m->unmap_ops);
	kvfree(m->pages);
	kvfree(m->handles);
	kvfree(m->refs);
	kfree(m);
}

/**
 * hdxen_map() - map a buffer another domain shared with us
 * @be: our backend
 * @vmid: the exporting domain
 * @info: the buffer: its id, the grant reference of its first directory
 *	page, its page count (already bounded by the core) and access
 * @handle: set to the mapping, for hdxen_unmap()
 * @pages: set to the mapped pages
 *
 * Return: 0; -ESTALE when the directory is not that buffer's (its
 * reference names another buffer now, or none); -EINVAL for a reference,
 * directory or grant that is not what the exporter announced (a reserved
 * or unknown reference, a chain that does not end where the page count
 * says, a read-only grant where the exporter announced a writable one);
 * -ENOSPC when this domain's map table is full; -ENOMEM.  Nothing stays
 * mapped on failure.
 */
int hdxen_map(struct hdmabuf_backend *be, u32 vmid,
	      const struct hdmabuf_map_info *info, void **handle,
	      struct page ***pages)
{
	unsigned int nr_pages = info->nr_pages;
	struct hdxen_dir_map dm;
	struct hdxen_map *m;
	unsigned int i;
	int ret;

	if (vmid >= DOMID_FIRST_RESERVED || !nr_pages || info->ref > U32_MAX)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->domid = vmid;
	m->nr_pages = nr_pages;
	m->readonly = info->readonly;
	m->refs = kvmalloc_array(nr_pages, sizeof(*m->refs),
				 GFP_KERNEL_ACCOUNT);
	m->handles = kvmalloc_array(nr_pages, sizeof(*m->handles),
				    GFP_KERNEL_ACCOUNT);
	m->pages = kvcalloc(nr_pages, sizeof(*m->pages), GFP_KERNEL_ACCOUNT);
	m->unmap_ops = kvmalloc_array(nr_pages, sizeof(*m->unmap_ops),
				      GFP_KERNEL_ACCOUNT);
	if (!m->refs || !m->handles || !m->pages || !m->unmap_ops) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < nr_pages; i++)
		m->handles[i] = INVALID_GRANT_HANDLE;

	ret = xen_alloc_unpopulated_pages(nr_pages, m->pages);
	if (ret)
		goto err_free;
	ret = hdxen_dir_map(m, info->ref, &info->id, &dm);
	if (ret)
		goto err_pages;
	/* While the directory is mapped, its references are this buffer's. */
	ret = hdxen_map_pages(m);
	hdxen_dir_unmap(&dm);
	if (ret)
		goto err_pages;
	*handle = m;
	*pages = m->pages;
	return 0;

err_pages:
	xen_free_unpopulated_pages(nr_pages, m->pages);
err_free:
	hdxen_map_free(m);
	return ret;
}

static void hdxen_unmap_free(struct work_struct *work)
{
	struct hdxen_map *m = container_of(work, struct hdxen_map, free_work);

	xen_free_unpopulated_pages(m->nr_pages, m->pages);
	hdxen_map_free(m);
	module_put(THIS_MODULE);
}

static void hdxen_unmap_done(int result, struct gntab_unmap_queue_data *q)
{
	struct hdxen_map *m = container_of(q, struct hdxen_map, unmap);
	unsigned int i;

	WARN_ON(result);
	for (i = 0; i < m->nr_pages; i++)
		WARN_ON(m->unmap_ops[i].status != GNTST_okay);
	/* Not here: the grant-table code's work calls this. */
	hdxen_defer(&m->free_work);
}

/**
 * hdxen_unmap() - unmap a buffer mapped by hdxen_map()
 * @be: our backend
 * @handle: the mapping
 *
 * Asynchronous, as gntdev's unmap (gnttab_unmap_refs_async()): the grants
 * are unmapped once no one else holds a page (on auto-translated domains
 * a page reference outside this driver delays it), and the pages freed
 * after that.  The caller, who holds the import's mapping lock, never
 * waits for it.  The mapping keeps the module until it is done.
 */
void hdxen_unmap(struct hdmabuf_backend *be, void *handle)
{
	struct hdxen_map *m = handle;
	unsigned int i;

	for (i = 0; i < m->nr_pages; i++) {
		gnttab_set_unmap_op(&m->unmap_ops[i], hdxen_kaddr(m->pages[i]),
				    hdxen_map_flags(m->readonly),
				    m->handles[i]);
		m->handles[i] = INVALID_GRANT_HANDLE;
	}
	INIT_WORK(&m->free_work, hdxen_unmap_free);
	m->unmap = (struct gntab_unmap_queue_data) {
		.done = hdxen_unmap_done,
		.unmap_ops = m->unmap_ops,
		.pages = m->pages,
		.count = m->nr_pages,
	};
	__module_get(THIS_MODULE);
	gnttab_unmap_refs_async(&m->unmap);
}
