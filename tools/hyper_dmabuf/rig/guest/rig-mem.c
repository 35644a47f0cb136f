// SPDX-License-Identifier: GPL-2.0
/*
 * rig-mem: the two halves of the rigs' page-reuse checks (the ACRN-model
 * rig's 55-reclaim, the Xen rig's 47-held), and the importer's half of the
 * Xen rig's device-map check (75-devmap), static, for the VMs:
 *
 *	rig-mem scribble ID
 *		import buffer ID read-write, map it shared and print
 *		"mapped BYTES"; on each SIGUSR1 write 0x5c over every byte
 *		and print "scribbled BYTES"; exit 0 on SIGTERM.  The SOS's
 *		process that keeps a mapping after the link went away.
 *	rig-mem fill MIB SEED
 *		map MIB MiB of anonymous memory, fill it with pattern SEED
 *		(every 8-byte word: SEED in the high half, its index in the
 *		low) and print "filled MIB"; on SIGUSR1 check every word and
 *		print "intact MIB" (exit 0), or "overwritten N pages, first at
 *		OFFSET: WORD" (exit 1).  The exporter reusing its memory.
 *	rig-mem fill-heap MIB SEED
 *		the same in a system-heap buffer: it takes the large blocks
 *		a freed heap buffer gave back before anything else does.
 *	rig-mem devmap ID BUS DEVICE
 *		import buffer ID read-write and map it for device DEVICE on
 *		bus BUS ("platform" or "pci") as a device driver would,
 *		through the test module hyper_dmabuf_devmap; print its DMA
 *		table, a line a segment ("seg OFFSET ADDRESS LENGTH", in
 *		hexadecimal), then "mapped N segments"; on SIGTERM unmap,
 *		drop the import and exit 0.
 *
 * A failure prints "rig-mem: WHAT: strerror" and exits 1; bad usage
 * exits 2.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>

/* Set by the signal handler, read by the main loop. */
static int got_usr1, got_term;

static void on_signal(int sig)
{
	__atomic_store_n(sig == SIGUSR1 ? &got_usr1 : &got_term, 1,
			 __ATOMIC_SEQ_CST);
}

static void die(const char *what)
{
	fprintf(stderr, "rig-mem: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: rig-mem scribble ID | rig-mem fill|fill-heap MIB SEED |\n"
			"       rig-mem devmap ID BUS DEVICE\n");
	exit(2);
}

/*
 * Wait for a signal, which the caller blocks outside sigsuspend(); 1 for
 * SIGUSR1, 0 for SIGTERM or SIGINT.
 */
static int next_signal(sigset_t *old)
{
	while (!__atomic_load_n(&got_usr1, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&got_term, __ATOMIC_SEQ_CST))
		sigsuspend(old);
	if (__atomic_load_n(&got_term, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&got_usr1, 0, __ATOMIC_SEQ_CST);
	return 1;
}

/* @n hex digits of @s, up to @stop; -1 for anything else. */
static int hex32(const char **s, int n, char stop, __u32 *v)
{
	char buf[9];
	int len = strchr(*s, stop) ? (int)(strchr(*s, stop) - *s) : -1;

	if (len < 1 || len > n || (stop == '\0' && len != n))
		return -1;
	memcpy(buf, *s, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789abcdefABCDEF") != (size_t)len)
		return -1;
	*v = (__u32)strtoul(buf, NULL, 16);
	*s += len;
	return 0;
}

/* VMID:SEQ:KEY, all hex, KEY exactly 24 digits (as the hdmabuf CLI). */
static int parse_id(const char *s, struct hyper_dmabuf_id *id)
{
	char part[9];
	const char *p;
	int i;

	memset(id, 0, sizeof(*id));
	if (hex32(&s, 8, ':', &id->vmid) || *s++ != ':' ||
	    hex32(&s, 8, ':', &id->seq) || *s++ != ':' || strlen(s) != 24)
		return -1;
	for (i = 0; i < 3; i++) {
		memcpy(part, s + 8 * i, 8);
		part[8] = '\0';
		p = part;
		if (hex32(&p, 8, '\0', &id->key[i]))
			return -1;
	}
	return 0;
}

/* Import buffer @arg read-write into @imp; the device's descriptor. */
static int import_rw(const char *arg, struct hyper_dmabuf_import *imp)
{
	int dev;

	memset(imp, 0, sizeof(*imp));
	imp->flags = O_RDWR | O_CLOEXEC;
	if (parse_id(arg, &imp->id))
		bad_usage();
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open /dev/" HYPER_DMABUF_DEVICE_NAME);
	if (ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, imp))
		die("import");
	return dev;
}

static int scribble(const char *arg, sigset_t *old)
{
	struct hyper_dmabuf_import imp;
	unsigned char *map;
	int dev;

	dev = import_rw(arg, &imp);
	map = mmap(NULL, imp.size, PROT_READ | PROT_WRITE, MAP_SHARED, imp.fd,
		   0);
	if (map == MAP_FAILED)
		die("mmap");
	printf("mapped %llu\n", (unsigned long long)imp.size);
	while (next_signal(old)) {
		memset(map, 0x5c, imp.size);
		printf("scribbled %llu\n", (unsigned long long)imp.size);
	}
	munmap(map, imp.size);
	close(imp.fd);
	close(dev);
	return 0;
}

/*
 * @mib MiB to fill: anonymous memory, or with @heap a system-heap buffer,
 * which takes the large blocks a freed heap buffer gave back first.
 */
static uint64_t *fill_area(size_t mib, int heap)
{
	struct dma_heap_allocation_data alloc = {
		.len = mib << 20,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *p;
	int fd;

	if (!heap) {
		p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		return p;
	}
	fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/dma_heap/system");
	if (ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &alloc))
		die("heap alloc");
	close(fd);
	p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
		 alloc.fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the heap buffer");
	return p;
}

static int fill(const char *mib_arg, const char *seed_arg, int heap,
		sigset_t *old)
{
	size_t mib = strtoul(mib_arg, NULL, 0), n, i, bad = 0, first = 0;
	uint64_t seed = strtoull(seed_arg, NULL, 0) << 32, *w;
	size_t words_per_page = sysconf(_SC_PAGESIZE) / sizeof(*w);

	if (!mib)
		bad_usage();
	n = (mib << 20) / sizeof(*w);
	w = fill_area(mib, heap);
	for (i = 0; i < n; i++)
		w[i] = seed | i;
	printf("filled %zu\n", mib);
	if (!next_signal(old))
		return 0;
	for (i = 0; i < n; i += words_per_page) {
		size_t j;

		for (j = i; j < i + words_per_page; j++)
			if (w[j] != (seed | j))
				break;
		if (j == i + words_per_page)
			continue;
		if (!bad++)
			first = j;
	}
	if (!bad) {
		printf("intact %zu\n", mib);
		return 0;
	}
	printf("overwritten %zu pages, first at %zu: 0x%016llx\n", bad,
	       first * sizeof(*w), (unsigned long long)w[first]);
	return 1;
}

#define DEVMAP_FILE	"/sys/kernel/debug/hyper_dmabuf_devmap/map"

static int devmap(const char *arg, const char *bus, const char *name,
		  sigset_t *old)
{
	unsigned long long off, addr, len;
	struct hyper_dmabuf_import imp;
	char cmd[128], line[128];
	int dev, map, segs = 0;
	FILE *table;

	dev = import_rw(arg, &imp);
	map = open(DEVMAP_FILE, O_RDWR | O_CLOEXEC);
	if (map < 0)
		die("open " DEVMAP_FILE);
	snprintf(cmd, sizeof(cmd), "%d %s %s", imp.fd, bus, name);
	if (write(map, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		die("map for the device");
	table = fdopen(map, "r");
	if (!table)
		die("fdopen");
	while (fgets(line, sizeof(line), table)) {
		if (sscanf(line, "%llx %llx %llx", &off, &addr, &len) != 3) {
			fprintf(stderr, "rig-mem: bad line in the DMA table: %s",
				line);
			return 1;
		}
		printf("seg %llx %llx %llx\n", off, addr, len);
		segs++;
	}
	if (ferror(table))
		die("read the table");
	printf("mapped %d segments\n", segs);
	while (next_signal(old))
		;
	fclose(table);
	close(imp.fd);
	close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (argc == 3 && !strcmp(argv[1], "scribble"))
		return scribble(argv[2], &old);
	if (argc == 4 && !strcmp(argv[1], "fill"))
		return fill(argv[2], argv[3], 0, &old);
	if (argc == 4 && !strcmp(argv[1], "fill-heap"))
		return fill(argv[2], argv[3], 1, &old);
	if (argc == 5 && !strcmp(argv[1], "devmap"))
		return devmap(argv[2], argv[3], argv[4], &old);
	bad_usage();
	return 2;
}
