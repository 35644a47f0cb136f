// SPDX-License-Identifier: GPL-2.0
/*
 * rig_fault: misbehave on purpose, so that the VM rig's own check can prove
 * that it catches a kernel warning even when every test passed.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/bug.h>
#include <linux/module.h>

static int __init rig_fault_init(void)
{
	WARN(1, "rig_fault: deliberate warning\n");
	return 0;
}
module_init(rig_fault_init);

static void __exit rig_fault_exit(void)
{
}
module_exit(rig_fault_exit);

MODULE_DESCRIPTION("Deliberate kernel warning for the test rig's self-check");
MODULE_LICENSE("GPL");
