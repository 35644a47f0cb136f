// SPDX-License-Identifier: GPL-2.0
/*
 * rig-devmap: import a buffer and map it for a device, as a device driver
 * importing it would, through the test module hyper_dmabuf_devmap; print
 * where the device would reach it and hold the mapping until SIGTERM.
 *
 *	rig-devmap ID BUS DEVICE
 *
 * ID is VMID:SEQ:KEY (hexadecimal, as hdmabuf prints it), BUS "platform" or
 * "pci", DEVICE the device's name on that bus.  The import is writable when
 * the buffer was exported writable.  Prints the table, one DMA segment a
 * line ("seg OFFSET ADDRESS LENGTH", hexadecimal), then "mapped N
 * segments", and waits; SIGTERM or SIGINT unmap, drop the import and exit
 * 0.  Exits 1, saying why, when a step fails.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/hyper_dmabuf.h>

#define DEVMAP_FILE	"/sys/kernel/debug/hyper_dmabuf_devmap/map"
/* How long the export may take to reach this VM. */
#define IMPORT_WAIT_MS	10000

static int fail(const char *step)
{
	fprintf(stderr, "rig-devmap: %s: %s\n", step, strerror(errno));
	return 1;
}

static int parse_id(const char *s, struct hyper_dmabuf_id *id)
{
	char key[25], part[9];
	int i, n = 0;

	memset(id, 0, sizeof(*id));
	if (sscanf(s, "%8x:%8x:%24[0-9a-f]%n", &id->vmid, &id->seq, key,
		   &n) != 3 || s[n] || strlen(key) != 24)
		return -1;
	for (i = 0; i < 3; i++) {
		memcpy(part, key + 8 * i, 8);
		part[8] = '\0';
		id->key[i] = strtoul(part, NULL, 16);
	}
	return 0;
}

/*
 * Import @id writable, else read-only (a read-only export), retrying
 * while the export has not reached this VM yet.
 */
static int import_wait(int dev, const struct hyper_dmabuf_id *id)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct hyper_dmabuf_import im;
	int waited = 0;
	__u32 mode = O_RDWR;

	for (;;) {
		memset(&im, 0, sizeof(im));
		im.id = *id;
		im.flags = mode | O_CLOEXEC;
		if (!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &im))
			return im.fd;
		if (errno == EACCES && mode == O_RDWR) {
			mode = O_RDONLY;
			continue;
		}
		if (errno != ENOENT || waited >= IMPORT_WAIT_MS)
			return -1;
		nanosleep(&pause, NULL);
		waited += 50;
	}
}

int main(int argc, char **argv)
{
	struct hyper_dmabuf_id id;
	char cmd[128], table[65536];
	int dev, buf, map, sig, segs = 0;
	unsigned long long off, addr, len;
	ssize_t n, got = 0;
	sigset_t sigs;
	char *line;

	if (argc != 4 || parse_id(argv[1], &id)) {
		fprintf(stderr, "usage: rig-devmap VMID:SEQ:KEY BUS DEVICE\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	dev = open("/dev/hyper_dmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return fail("open /dev/hyper_dmabuf");
	buf = import_wait(dev, &id);
	if (buf < 0)
		return fail("import");
	map = open(DEVMAP_FILE, O_RDWR | O_CLOEXEC);
	if (map < 0)
		return fail("open " DEVMAP_FILE);
	snprintf(cmd, sizeof(cmd), "%d %s %s", buf, argv[2], argv[3]);
	if (write(map, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return fail("map for the device");
	while ((n = read(map, table + got, sizeof(table) - 1 - got)) > 0)
		got += n;
	if (n < 0)
		return fail("read the table");
	if (got == sizeof(table) - 1 && read(map, cmd, 1) > 0) {
		fprintf(stderr, "rig-devmap: the table is longer than %zu bytes\n",
			sizeof(table) - 1);
		return 1;
	}
	table[got] = '\0';
	for (line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "%llx %llx %llx", &off, &addr, &len) != 3) {
			fprintf(stderr, "rig-devmap: bad line: %s\n", line);
			return 1;
		}
		printf("seg %llx %llx %llx\n", off, addr, len);
		segs++;
	}
	printf("mapped %d segments\n", segs);
	fflush(stdout);

	errno = sigwait(&sigs, &sig);
	if (errno)
		return fail("sigwait");
	close(map);
	close(buf);
	close(dev);
	return 0;
}
