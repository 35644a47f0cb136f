// SPDX-License-Identifier: GPL-2.0
/*
 * rig-xen-bulk: copy stdin to QEMU's debugcon (I/O port 0xe9), the Xen
 * rig's bulk channel from dom0 to the host.  A PV dom0 may use that port;
 * rep outsb through Xen's emulation moves about 200 KiB/s under TCG, some
 * twenty times the rate of an emulated 115200-baud serial port.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <stdio.h>
#include <sys/io.h>
#include <unistd.h>

#define DEBUGCON_PORT	0xe9

int main(void)
{
	static unsigned char buf[65536];
	ssize_t n;

	if (ioperm(DEBUGCON_PORT, 1, 1)) {
		perror("rig-xen-bulk: ioperm");
		return 1;
	}
	while ((n = read(0, buf, sizeof(buf))) > 0)
		outsb(DEBUGCON_PORT, buf, n);
	if (n < 0) {
		perror("rig-xen-bulk: read");
		return 1;
	}
	return 0;
}
