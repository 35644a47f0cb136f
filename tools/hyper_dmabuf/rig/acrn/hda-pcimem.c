// SPDX-License-Identifier: GPL-2.0
/*
 * hda-pcimem: read or write one little-endian 32-bit word of a PCI BAR
 * through sysfs, for the ACRN-model rig's scenarios and for debugging (the
 * debug kernel has no /dev/mem):
 *
 *	hda-pcimem DEVICE BAR OFFSET		print the word, in hex
 *	hda-pcimem DEVICE BAR OFFSET VALUE	write it
 *
 * DEVICE is a PCI address (0000:00:02.0).  For an ivshmem-doorbell device:
 * BAR 0 offset 8 is this VM's peer id, offset 12 the doorbell ("peer << 16
 * | vector"); BAR 2 is the shared memory.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint32_t *word;
	unsigned long off, base;
	char path[128];
	void *map;
	long pg = sysconf(_SC_PAGESIZE);
	int fd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: hda-pcimem DEVICE BAR OFFSET [VALUE]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%s",
		 argv[1], argv[2]);
	off = strtoul(argv[3], NULL, 0);
	if (off % 4) {
		fprintf(stderr, "hda-pcimem: unaligned offset\n");
		return 2;
	}
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	base = off & ~(pg - 1);
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	word = (uint32_t *)((char *)map + (off - base));
	/* One 32-bit access each way: device registers care. */
	if (argc == 5)
		__atomic_store_n(word, htole32((uint32_t)strtoul(argv[4], NULL, 0)),
				 __ATOMIC_SEQ_CST);
	else
		printf("0x%08x\n", le32toh(__atomic_load_n(word, __ATOMIC_SEQ_CST)));
	return 0;
}
