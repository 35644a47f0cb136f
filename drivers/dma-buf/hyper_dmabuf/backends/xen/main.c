// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf Xen backend: shares dma-bufs with other Xen domains through
 * the grant table.  A domain's VM id is its domain id.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <xen/swiotlb-xen.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "xen.h"

/*
 * Whether this domain's devices reach foreign pages through xen-swiotlb,
 * which turns each page into its machine frame on its own: PV domains, and
 * Arm domains mapped 1:1 (dom0).  There, consecutive pages of an import are
 * other domains' frames, rarely consecutive, and xen-swiotlb would bounce
 * (copy) a segment of several, or fail one larger than its bounce buffer:
 * a device gets an import a page per segment.  Elsewhere (PVH, HVM, an Arm
 * domU) devices use the domain's own addresses, which an IOMMU translates.
 */
static bool hdxen_dma_by_page(void)
{
	if (xen_pv_domain())
		return true;
#if defined(CONFIG_ARM) || defined(CONFIG_ARM64)
	return xen_swiotlb_detect();
#else
	return false;
#endif
}

/* Auto-translated domains (PVH, HVM, Arm) map pages like any others. */
static const struct hdmabuf_backend_ops hdxen_ops = {
	.share = hdxen_share,
	.unshare = hdxen_unshare,
	.revoke = hdxen_revoke,
	.map = hdxen_map,
	.unmap = hdxen_unmap,
	.send = hdxen_send,
	.dma_to_pfn = hdxen_dma_to_pfn,
};

#ifdef CONFIG_XEN_PV
/* PV domains need the hypervisor to write every foreign page-table entry. */
static const struct hdmabuf_backend_ops hdxen_pv_ops = {
	.share = hdxen_share,
	.unshare = hdxen_unshare,
	.revoke = hdxen_revoke,
	.map = hdxen_map,
	.unmap = hdxen_unmap,
	.mmap = hdxen_mmap,
	.vmap = hdxen_vmap,
	.vunmap = hdxen_vunmap,
	.send = hdxen_send,
	.dma_to_pfn = hdxen_dma_to_pfn,
};
#endif

#ifdef CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS
static const char * const hdxen_fault_names[HDXEN_FAULT_NR] = {
	[HDXEN_FAULT_NONE] = "none",
	[HDXEN_FAULT_DIR_LOOP] = "dir-loop",
	[HDXEN_FAULT_RESERVED_REF] = "reserved-ref",
	[HDXEN_FAULT_BAD_REF] = "bad-ref",
	[HDXEN_FAULT_RO_GRANT] = "ro-grant",
	[HDXEN_FAULT_RING_LIE] = "ring-lie",
	[HDXEN_FAULT_FLOOD] = "flood",
	[HDXEN_FAULT_ANNOUNCE_FLOOD] = "announce-flood",
	[HDXEN_FAULT_DEAF] = "deaf",
	[HDXEN_FAULT_CLAIM_FAIL] = "claim-fail",
};

/* The armed fault; it fires once, on the next share or send. */
static atomic_t hdxen_fault_armed = ATOMIC_INIT(HDXEN_FAULT_NONE);

/**
 * hdxen_fault() - whether fault @f is armed; disarms it
 * @f: the fault
 *
 * Return: true once per arming of @f.
 */
bool hdxen_fault(enum hdxen_fault f)
{
	return atomic_cmpxchg(&hdxen_fault_armed, f, HDXEN_FAULT_NONE) == f;
}

/**
 * hdxen_fault_active() - whether fault @f is armed, leaving it armed
 * @f: a lasting fault (deaf)
 *
 * Return: true while @f is armed.
 */
bool hdxen_fault_active(enum hdxen_fault f)
{
	return atomic_read(&hdxen_fault_armed) == f;
}

static int hdxen_fault_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(hdxen_fault_names, val);

	if (i < 0)
		return -EINVAL;
	atomic_set(&hdxen_fault_armed, i);
	pr_warn("fault armed: %s\n", hdxen_fault_names[i]);
	/* A deaf domain hears again: what waits in its rings first. */
	hdxen_chan_kick_all();
	return 0;
}

static int hdxen_fault_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  hdxen_fault_names[atomic_read(&hdxen_fault_armed)]);
}

static const struct kernel_param_ops hdxen_fault_ops = {
	.set = hdxen_fault_set,
	.get = hdxen_fault_get,
};
module_param_cb(fault, &hdxen_fault_ops, NULL, 0600);
MODULE_PARM_DESC(fault, "Test only: make this domain lie once (dir-loop, reserved-ref, bad-ref, ro-grant, ring-lie, flood, announce-flood), stop reading messages until none (deaf), or fail its next grant claim (claim-fail)");
#endif

struct hdmabuf_backend hdxen_backend = {
	.name = "xen",
	.owner = THIS_MODULE,
	.ops = &hdxen_ops,
};

/* hyper_dmabuf_xen/grants: references granted and not yet ended. */
static struct dentry *hdxen_debugfs;

static int __init hdxen_init(void)
{
	unsigned int domid;
	int ret;

	if (!xen_domain())
		return -ENODEV;
	/* Our own id: dom0's toolstack and libxl both write "domid". */
	if (xenbus_scanf(XBT_NIL, "domid", "", "%u", &domid) != 1) {
		if (!xen_initial_domain()) {
			pr_err("cannot read this domain's id from xenstore\n");
			return -ENODEV;
		}
		domid = 0;
	}
	if (domid >= DOMID_FIRST_RESERVED)
		return -ENODEV;
	hdxen_backend.vmid = domid;
#ifdef CONFIG_XEN_PV
	if (xen_pv_domain())
		hdxen_backend.ops = &hdxen_pv_ops;
#endif
	hdxen_backend.dma_page_segments = hdxen_dma_by_page();

	ret = hdxen_shbuf_init();
	if (ret)
		return ret;
	ret = hdmabuf_backend_register(&hdxen_backend);
	if (ret)
		goto err_shbuf;
	ret = hdxen_chan_init();
	if (ret)
		goto err_unregister;
	hdxen_debugfs = debugfs_create_dir("hyper_dmabuf_xen", NULL);
	debugfs_create_atomic_t("grants", 0444, hdxen_debugfs, &hdxen_grants);
	debugfs_create_atomic_t("refs", 0444, hdxen_debugfs, &hdxen_refs);
	return 0;

err_unregister:
	hdmabuf_backend_unregister(&hdxen_backend);
err_shbuf:
	hdxen_shbuf_exit();
	return ret;
}
module_init(hdxen_init);

static void __exit hdxen_exit(void)
{
	/* Every share and mapping pinned this module: none is left. */
	debugfs_remove_recursive(hdxen_debugfs);
	hdxen_chan_exit();
	hdmabuf_backend_unregister(&hdxen_backend);
	hdxen_shbuf_exit();
}
module_exit(hdxen_exit);

MODULE_DESCRIPTION("hyper_dmabuf Xen backend: share dma-bufs between domains");
MODULE_LICENSE("GPL");
