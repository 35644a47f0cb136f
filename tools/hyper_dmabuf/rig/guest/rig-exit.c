// SPDX-License-Identifier: GPL-2.0
/*
 * rig-exit: end a QEMU test VM with a verdict.
 *
 * Writes the status to QEMU's isa-debug-exit port (0xf4), which makes QEMU
 * exit with (status << 1) | 1: 1 means the guest passed, 3 that it failed.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned int status = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;

	sync();
	if (ioperm(0xf4, 4, 1)) {
		perror("rig-exit: ioperm");
		return 1;
	}
	outl(status ? 1 : 0, 0xf4);
	/* Not reached when the isa-debug-exit device is present. */
	fprintf(stderr, "rig-exit: no isa-debug-exit device\n");
	return 1;
}
