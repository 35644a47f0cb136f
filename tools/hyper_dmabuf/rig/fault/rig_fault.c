// SPDX-License-Identifier: GPL-2.0
/*
 * rig_fault: misbehave on purpose, so that the VM rig's own check can prove
 * that it catches each kind of kernel bug even when every test passed.
 *
 *   mode=warn       a WARN()
 *   mode=uaf        a read after kfree() (KASAN)
 *   mode=inversion  two mutexes taken in both orders (lockdep)
 *   mode=leak       a kmalloc() nobody frees (kmemleak)
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *mode = "warn";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "warn, uaf, inversion or leak");

static DEFINE_MUTEX(rig_fault_a);	/* protects nothing: lock-order bait */
static DEFINE_MUTEX(rig_fault_b);	/* protects nothing: lock-order bait */

static void rig_fault_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return;
	kfree(p);
	pr_info("rig_fault: read after free: %d\n", READ_ONCE(p[8]));
}

static void rig_fault_inversion(void)
{
	mutex_lock(&rig_fault_a);
	mutex_lock(&rig_fault_b);
	mutex_unlock(&rig_fault_b);
	mutex_unlock(&rig_fault_a);

	mutex_lock(&rig_fault_b);
	mutex_lock(&rig_fault_a);
	mutex_unlock(&rig_fault_a);
	mutex_unlock(&rig_fault_b);
}

static void rig_fault_leak(void)
{
	void *p = kmalloc(1024, GFP_KERNEL);

	/* Forget it, and leave no copy of the pointer behind. */
	OPTIMIZER_HIDE_VAR(p);
	p = NULL;
}

static int __init rig_fault_init(void)
{
	if (!strcmp(mode, "warn"))
		WARN(1, "rig_fault: deliberate warning\n");
	else if (!strcmp(mode, "uaf"))
		rig_fault_uaf();
	else if (!strcmp(mode, "inversion"))
		rig_fault_inversion();
	else if (!strcmp(mode, "leak"))
		rig_fault_leak();
	else
		return -EINVAL;
	return 0;
}
module_init(rig_fault_init);

static void __exit rig_fault_exit(void)
{
}
module_exit(rig_fault_exit);

MODULE_DESCRIPTION("Deliberate kernel bugs for the test rig's self-check");
MODULE_LICENSE("GPL");
