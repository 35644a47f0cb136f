// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-bench: the guest half of make bench.  Each subcommand times one
 * side of a share between two VMs with CLOCK_MONOTONIC and prints one line
 * per measurement:
 *
 *	sample SERIES SIZE NS
 *
 * plus "note KEY VALUE" lines.  The host (bench/report.sh) takes medians
 * and spreads over every run's samples; only ratios between series taken
 * in the same boot mean anything.
 *
 *   export --to VMID --size BYTES --reps N
 *	export N buffers (system dma-heap), timing each EXPORT ioctl
 *	(series "export"), and print the slab and vmalloc memory the exports
 *	cost per shared page beyond the heap buffers' own ("note
 *	kmem-per-page-SIZE"); print "ready N"; on SIGUSR1 unexport each and time
 *	until its pages are back, the importer having released it
 *	(WAIT_RELEASED, "unexport"); on SIGUSR2 just exit.
 *   import --from VMID --size BYTES --count N [--rw]
 *	wait until VMID announced N buffers of BYTES, then time for each the
 *	IMPORT ioctl ("import"), an mmap and first read of every byte
 *	("first-read", of which the mmap() and munmap() calls are
 *	"first-map" and "first-unmap"), the plain copy of as many bytes
 *	between two local buffers ("copy", what a copying design pays at the
 *	least), and the same read loop over local memory ("local-read": under emulation the
 *	loop itself costs more than a memcpy of the bytes).
 *   scale --to VMID --count N
 *	export ten one-page buffers; time exporting one more and withdrawing
 *	it ("export-at-10", see export_at()) and a QUERY of each
 *	("lookup-at-10"); print "ready 10" and hold until SIGUSR1.  Then
 *	export up to N and time the same at N ("export-at-N", "lookup-at-N"
 *	over ten ids across them), and print the slab and vmalloc memory
 *	each one-page export costs beyond its heap buffer's own ("note
 *	kmem-per-buffer-4096"); print "ready N" and hold.  SIGUSR1
 *	unexports everything; SIGUSR2 or SIGTERM at either hold just exits.
 *   grant --to DOMID --size BYTES --reps N		(Xen only)
 *	the raw grant floor of "export": allocate N buffers' worth of pages
 *	granted to DOMID with /dev/xen/gntalloc, timing each ioctl
 *	("floor-export"); write buffer K's references as ranges
 *	("first-last,...", no newline) to /tmp/hdmabuf-bench-refs/K, then
 *	print "ready N"; hold; free them.
 *   grant-map --from DOMID --size BYTES --count N RANGES...	(Xen only)
 *	the raw floor of "import" and "first-read" with /dev/xen/gntdev:
 *	for each RANGES, time the MAP_GRANT_REF ioctl ("floor-import") and
 *	the mmap and first read of every byte and munmap ("floor-read", of
 *	which munmap() is "floor-unmap"), then unmap the grants.
 *   scale-import --from VMID --count N
 *	once N buffers of VMID are announced, time LIST and ten imports
 *	spread across them ("list-at-N", "import-at-N").
 *   window-map --from VMID --size BYTES --count N [--offset GPA]
 *	(ACRN model, SOS) the raw floor of "import" and "first-read" on the
 *	ACRN model: map BYTES of VMID's RAM straight from the window (the
 *	driver's debugfs file, test builds; at GPA, or other pages from
 *	64 MiB on each time), timing the mmap ("floor-import") and the read of
 *	every byte and munmap ("floor-read", of which munmap() is
 *	"floor-unmap").
 *   ping --bell BELL --reps N / pong --bell BELL --reps N
 *	the raw round trip between two VMs: ping rings the other VM, whose
 *	pong rings back, N times ("raw-rtt").
 *   event --to VMID --bell BELL --reps N / event-echo --from VMID ...
 *	event latency: event exports a one-page buffer to VMID; event-echo,
 *	there, rings the raw bell back as soon as poll() woke it for the
 *	new-buffer event; event times from the EXPORT ioctl to that ring
 *	("event-rtt": our event one way plus the raw bell the other way),
 *	then unexports.  The report takes the event one way as event-rtt
 *	less half of raw-rtt.
 *   frame --to VMID --bell BELL --reps N / frame-echo --from VMID ... --ring
 *	frame latency, the same way: frame exports one 1080p buffer
 *	(1920x1080 XRGB8888) once; frame-echo, there, imports it and for
 *	each FRAME event rings the raw bell back, then releases the frame;
 *	frame times from each PRESENT to that ring ("frame-rtt"), and waits
 *	for FRAME_RELEASED before the next.  The report takes the frame's one
 *	way as frame-rtt less half of raw-rtt.
 *   frame-release --to VMID --bell BELL --reps N / frame-echo --from VMID ...
 *	the frame round trip: as frame, with no bell back; times from each
 *	PRESENT until poll() woke it for FRAME_RELEASED
 *	("present-release-rtt").
 *   swapchain --to VMID --bell BELL --reps N /
 *   frame-echo --from VMID ... --buffers 3
 *	sustained frames: three 1080p buffers, N frames, each buffer presented
 *	again as soon as its frame came back released, the importer
 *	releasing each frame as soon as it arrived; one sample, the run's
 *	time per frame ("swapchain-frame"), then ten memcpy()s of one
 *	frame between two local buffers ("frame-copy").  The bell only says
 *	when the importer is ready.
 *
 * BELL is the raw doorbell: "acrn:VMID" (ACRN model: vector 1 of the link
 * to VMID, hyper_dmabuf_acrn's debugfs file in test builds,
 * hyper_dmabuf_acrn/vmN/doorbell), "acrn-virtio:VMID" (the same vector on
 * a user VM whose link carries virtio, whose device is the virtio
 * transport's: hyper_dmabuf_virtio_ivshmem/vmN/doorbell, N being 0, the
 * service VM), or on Xen an event channel of /dev/xen/evtchn:
 * "xen-listen:DOMID" (allocates a port for DOMID and prints "port P") on
 * one side, "xen-connect:DOMID:P" on the other.  The responder (pong,
 * event-echo) rings once when ready, and the initiator waits for that ring
 * before it starts.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>
/* The Xen UAPI headers use the hypervisor's names for these. */
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;
#include <xen/evtchn.h>
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#define DEV_PATH	"/dev/" HYPER_DMABUF_DEVICE_NAME
#define HEAP_PATH	"/dev/dma_heap/system"
#define ACRN_DEBUGFS	"/sys/kernel/debug/hyper_dmabuf_acrn"
#define VIRTIO_DEBUGFS	"/sys/kernel/debug/hyper_dmabuf_virtio_ivshmem"
#define WINDOW_OFFSET	(64ull << 20)	/* where the window floor starts */
#define WAIT_MS		120000
#define SAMPLE		10
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *cmd = "hdmabuf-bench";

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", cmd, what, strerror(err));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One line per measurement; the host takes medians over all runs. */
static void report(const char *name, size_t size, const uint64_t *ns,
		   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("sample %s %zu %llu\n", name, size,
		       (unsigned long long)ns[i]);
	fflush(stdout);
}

static int open_dev(void)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " DEV_PATH, errno);
	return fd;
}

static int heap_alloc(size_t size)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open(HEAP_PATH, O_RDONLY | O_CLOEXEC);

	if (heap < 0)
		die("open " HEAP_PATH, errno);
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data))
		die("heap alloc", errno);
	close(heap);
	return data.fd;
}

/* Export a fresh buffer; the dma-buf fd is closed (the export holds it). */
static struct hyper_dmabuf_id export_one(int dev, unsigned int to,
					 size_t size, uint64_t *ns)
{
	struct hyper_dmabuf_export ex = {
		.fd = heap_alloc(size),
		.remote_vmid = to,
	};
	uint64_t t0 = now_ns();

	if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &ex))
		die("export", errno);
	if (ns)
		*ns = now_ns() - t0;
	close(ex.fd);
	return ex.id;
}

static struct hyper_dmabuf_id *ids_alloc(size_t n)
{
	struct hyper_dmabuf_id *ids = calloc(n, sizeof(*ids));

	if (!ids)
		die("ids", ENOMEM);
	return ids;
}

static int query(int dev, const struct hyper_dmabuf_id *id,
		 struct hyper_dmabuf_query *q)
{
	memset(q, 0, sizeof(*q));
	q->id = *id;
	return ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, q) ? -errno : 0;
}

/*
 * Unexport @id and return how long until its pages are back here, the
 * importer having released it and the backend ended the sharing.
 */
static uint64_t unexport_released(int dev, const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_unexport un = { .id = *id };
	struct hyper_dmabuf_wait_released w = {
		.id = *id, .timeout_ms = WAIT_MS,
	};
	uint64_t t0 = now_ns();

	if (ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &un))
		die("unexport", errno);
	if (ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED, &w))
		die("wait for release", errno);
	return now_ns() - t0;
}

/* The signals hold() waits for: SIGUSR1 goes on, SIGUSR2 and SIGTERM stop. */
static void hold_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGTERM);
}

/* Wait for SIGUSR1 (returns 1) or SIGUSR2/SIGTERM (returns 0). */
static int hold(void)
{
	sigset_t set;
	int sig;

	hold_signals(&set);
	do
		sig = sigwaitinfo(&set, NULL);
	while (sig < 0 && errno == EINTR);
	return sig == SIGUSR1;
}

/* The ids of @from's buffers of @size (any size if 0), at most @max. */
static size_t list_ids(int dev, unsigned int from, size_t size,
		       struct hyper_dmabuf_id *out, size_t max,
		       uint64_t *list_ns)
{
	static struct hyper_dmabuf_id *all;
	static size_t cap = 1024;
	struct hyper_dmabuf_list l;
	struct hyper_dmabuf_query q;
	size_t i, n = 0;
	uint64_t t0;

	for (;;) {
		all = realloc(all, cap * sizeof(*all));
		if (!all)
			die("list", ENOMEM);
		memset(&l, 0, sizeof(l));
		l.count = cap;
		l.ids = (uintptr_t)all;
		t0 = now_ns();
		if (ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l))
			die("list", errno);
		if (list_ns)
			*list_ns = now_ns() - t0;
		if (l.count <= cap)
			break;
		cap = l.count + 64;
	}
	for (i = 0; i < l.count && n < max; i++) {
		if (all[i].vmid != from || query(dev, &all[i], &q))
			continue;
		if (!size || q.size == size)
			out[n++] = all[i];
	}
	return n;
}

static size_t wait_ids(int dev, unsigned int from, size_t size,
		       struct hyper_dmabuf_id *out, size_t want)
{
	uint64_t t0 = now_ns();
	size_t n;

	while ((n = list_ids(dev, from, size, out, want, NULL)) < want) {
		if (now_ns() - t0 > WAIT_MS * 1000000ull)
			die("wait for buffers", ETIMEDOUT);
		usleep(10000);
	}
	return n;
}

/* Import @id; returns the dma-buf fd and the ioctl's time. */
static int import_one(int dev, const struct hyper_dmabuf_id *id, int rw,
		      uint64_t *ns)
{
	struct hyper_dmabuf_import im = {
		.id = *id,
		.flags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC,
	};
	uint64_t t0 = now_ns();

	if (ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &im))
		die("import", errno);
	*ns = now_ns() - t0;
	return im.fd;
}

/* Where reads and copies leave a byte, so that none is optimised away. */
uint64_t bench_sink;

/* Read every byte of the mapping @p of @size and unmap it: munmap()'s time. */
static uint64_t read_unmap(const uint64_t *p, size_t size)
{
	uint64_t sum = 0, t0;
	size_t i;

	for (i = 0; i < size / sizeof(*p); i++)
		sum += p[i];
	bench_sink = sum;
	t0 = now_ns();
	munmap((void *)p, size);
	return now_ns() - t0;
}

/*
 * Map and read every byte once: what a consumer's first frame costs.
 * *@map_ns and *@unmap_ns get the mmap() and munmap() calls' shares.
 */
static uint64_t first_read(int fd, size_t size, uint64_t *map_ns,
			   uint64_t *unmap_ns)
{
	const uint64_t *p;
	uint64_t t0 = now_ns();

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", errno);
	*map_ns = now_ns() - t0;
	*unmap_ns = read_unmap(p, size);
	return now_ns() - t0;
}

static char *src, *dst;
static size_t have;

/* Two local buffers of @size, every page touched. */
static void local_buffers(size_t size)
{
	if (have < size) {
		free(src);
		free(dst);
		src = malloc(size);
		dst = malloc(size);
		if (!src || !dst)
			die("copy buffers", ENOMEM);
		memset(src, 1, size);
		memset(dst, 2, size);
		have = size;
	}
}

/* The first-read loop over local memory: the loop's own cost. */
static uint64_t local_read(size_t size)
{
	const uint64_t *p;
	uint64_t t0, sum = 0;
	size_t i;

	local_buffers(size);
	p = (const uint64_t *)src;
	t0 = now_ns();
	for (i = 0; i < size / sizeof(*p); i++)
		sum += p[i];
	bench_sink = sum;
	return now_ns() - t0;
}

static uint64_t copy_once(size_t size)
{
	uint64_t t0;

	local_buffers(size);
	t0 = now_ns();
	memcpy(dst, src, size);
	bench_sink = dst[size - 1];
	return now_ns() - t0;
}

/* Slab plus vmalloc in use, from /proc/meminfo, in bytes. */
static long long kmem_bytes(void)
{
	char line[128];
	long long kb, sum = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo", errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld kB", &kb) == 1 ||
		    sscanf(line, "VmallocUsed: %lld kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum * 1024;
}

struct args {
	unsigned int vmid;
	size_t size;
	size_t n;
	int rw;
	const char *bell;
	long long offset;
	size_t buffers;
	int ring;
};

static void parse(int argc, char **argv, struct args *a, const char *peer)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'n' },
		{ "rw", no_argument, NULL, 'w' },
		{ "bell", required_argument, NULL, 'b' },
		{ "offset", required_argument, NULL, 'o' },
		{ "buffers", required_argument, NULL, 'k' },
		{ "ring", no_argument, NULL, 'r' },
		{ }
	};
	int c, have_peer = 0;

	memset(a, 0, sizeof(*a));
	a->offset = -1;
	a->buffers = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
		case 'f':
			a->vmid = strtoul(optarg, NULL, 0);
			have_peer = 1;
			break;
		case 's':
			a->size = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			a->n = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			a->rw = 1;
			break;
		case 'b':
			a->bell = optarg;
			break;
		case 'o':
			a->offset = strtoll(optarg, NULL, 0);
			break;
		case 'k':
			a->buffers = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			a->ring = 1;
			break;
		default:
			exit(2);
		}
	}
	if ((peer && !have_peer) || !a->n) {
		fprintf(stderr, "%s: %s: --%s and a count are required\n",
			cmd, argv[0], peer ? peer : "bell");
		exit(2);
	}
}

static uint64_t *samples(size_t n)
{
	uint64_t *ns = calloc(n ? n : 1, sizeof(*ns));

	if (!ns)
		die("samples", ENOMEM);
	return ns;
}

/* Kernel memory @n heap buffers of @size cost with no export at all. */
static long long heap_baseline(size_t n, size_t size)
{
	struct rlimit rl = { n + 64, n + 64 };
	long long kmem0, kmem1;
	int *fds;
	size_t i;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit", errno);
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		die("fds", ENOMEM);
	kmem0 = kmem_bytes();
	for (i = 0; i < n; i++)
		fds[i] = heap_alloc(size);
	kmem1 = kmem_bytes();
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return kmem1 - kmem0;
}

static int cmd_export(int argc, char **argv)
{
	long long base, kmem0, kmem1;
	struct hyper_dmabuf_id *ids;
	struct args a;
	uint64_t *ns;
	int dev, go;
	size_t i;

	parse(argc, argv, &a, "to");
	dev = open_dev();
	ids = ids_alloc(a.n);
	ns = samples(a.n);
	base = heap_baseline(a.n, a.size);
	kmem0 = kmem_bytes();
	for (i = 0; i < a.n; i++)
		ids[i] = export_one(dev, a.vmid, a.size, &ns[i]);
	kmem1 = kmem_bytes();
	report("export", a.size, ns, a.n);
	/* Slab and vmalloc beyond what the heap buffers cost unexported. */
	printf("note kmem-per-page-%zu %lld\n", a.size,
	       (kmem1 - kmem0 - base) / (long long)(a.n * (a.size / 4096)));
	printf("ready %zu\n", a.n);
	fflush(stdout);
	go = hold();
	for (i = 0; go && i < a.n; i++)
		ns[i] = unexport_released(dev, &ids[i]);
	if (go)
		report("unexport", a.size, ns, a.n);
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	uint64_t *imp, *rd, *mp, *ump, *cp, *lr;
	struct hyper_dmabuf_id *ids;
	struct args a;
	int dev, fd;
	size_t i;

	parse(argc, argv, &a, "from");
	dev = open_dev();
	ids = ids_alloc(a.n);
	imp = samples(a.n);
	rd = samples(a.n);
	mp = samples(a.n);
	ump = samples(a.n);
	cp = samples(a.n);
	lr = samples(a.n);
	wait_ids(dev, a.vmid, a.size, ids, a.n);
	for (i = 0; i < a.n; i++) {
		fd = import_one(dev, &ids[i], a.rw, &imp[i]);
		rd[i] = first_read(fd, a.size, &mp[i], &ump[i]);
		close(fd);
		cp[i] = copy_once(a.size);
		lr[i] = local_read(a.size);
	}
	report("import", a.size, imp, a.n);
	report("first-read", a.size, rd, a.n);
	report("first-map", a.size, mp, a.n);
	report("first-unmap", a.size, ump, a.n);
	report("copy", a.size, cp, a.n);
	report("local-read", a.size, lr, a.n);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Time QUERY of SAMPLE ids spread over @live.  Each sample is the median
 * of ten rounds over all of them, each round the mean of ten lookups of
 * the id: a job's output comes back as a tail, so few lines, each steady.
 */
static void lookups(int dev, struct hyper_dmabuf_id *ids, const char *name,
		    size_t live)
{
	uint64_t ns[SAMPLE], round[SAMPLE][10], t0;
	struct hyper_dmabuf_query q;
	size_t i, k, r;

	/* Let the exports' own messages and work settle first. */
	usleep(500000);
	for (r = 0; r < 10; r++) {
		for (i = 0; i < SAMPLE; i++) {
			t0 = now_ns();
			for (k = 0; k < 10; k++)
				if (query(dev, &ids[i * (live / SAMPLE)], &q))
					die("query", errno);
			round[i][r] = (now_ns() - t0) / 10;
		}
	}
	for (i = 0; i < SAMPLE; i++) {
		qsort(round[i], 10, sizeof(round[i][0]), cmp_u64);
		ns[i] = round[i][5];
	}
	report(name, 4096, ns, SAMPLE);
}

/*
 * Time SAMPLE exports of one more one-page buffer with those there are
 * alive, each sample the median of three, each export withdrawn again at
 * once, so that the count stays put.
 */
static void export_at(int dev, unsigned int to, const char *name)
{
	uint64_t ns[SAMPLE], t[3];
	struct hyper_dmabuf_id id;
	size_t i, r;

	for (i = 0; i < SAMPLE; i++) {
		for (r = 0; r < 3; r++) {
			id = export_one(dev, to, 4096, &t[r]);
			unexport_released(dev, &id);
		}
		qsort(t, 3, sizeof(t[0]), cmp_u64);
		ns[i] = t[1];
	}
	report(name, 4096, ns, SAMPLE);
}

static int cmd_scale(int argc, char **argv)
{
	long long base, kmem0, kmem1;
	struct hyper_dmabuf_id *ids;
	size_t i, rest;
	char name[32];
	struct args a;
	int dev, go;

	parse(argc, argv, &a, "to");
	if (a.n < 3 * SAMPLE)
		a.n = 3 * SAMPLE;
	rest = a.n - SAMPLE;
	dev = open_dev();
	ids = ids_alloc(a.n);
	base = heap_baseline(rest, 4096);
	for (i = 0; i < SAMPLE; i++)
		ids[i] = export_one(dev, a.vmid, 4096, NULL);
	export_at(dev, a.vmid, "export-at-10");
	lookups(dev, ids, "lookup-at-10", SAMPLE);
	printf("ready %d\n", SAMPLE);
	fflush(stdout);
	go = hold();

	kmem0 = kmem_bytes();
	for (; go && i < a.n; i++)
		ids[i] = export_one(dev, a.vmid, 4096, NULL);
	kmem1 = kmem_bytes();
	if (go) {
		snprintf(name, sizeof(name), "export-at-%zu", a.n);
		export_at(dev, a.vmid, name);
		snprintf(name, sizeof(name), "lookup-at-%zu", a.n);
		lookups(dev, ids, name, a.n);
		/* Slab and vmalloc beyond what the heap buffers cost alone. */
		printf("note kmem-per-buffer-4096 %lld\n",
		       (kmem1 - kmem0 - base) / (long long)rest);
		printf("ready %zu\n", a.n);
		fflush(stdout);
		go = hold();
	}
	for (; i > 0; i--) {
		struct hyper_dmabuf_unexport un = { .id = ids[i - 1] };

		if (go && ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &un))
			die("unexport", errno);
	}
	return 0;
}

#define REFS_DIR	"/tmp/hdmabuf-bench-refs"

/* Write @refs as ranges "a-b,c,d-e" (gntalloc hands out runs) to file @k. */
static void write_ranges(const uint32_t *refs, size_t n, size_t k)
{
	char path[64];
	size_t i = 0, j;
	FILE *f;

	mkdir(REFS_DIR, 0700);
	snprintf(path, sizeof(path), REFS_DIR "/%zu", k);
	f = fopen(path, "w");
	if (!f)
		die(path, errno);
	while (i < n) {
		for (j = i; j + 1 < n && refs[j + 1] == refs[j] + 1; j++)
			;
		if (j > i)
			fprintf(f, "%s%u-%u", i ? "," : "", refs[i], refs[j]);
		else
			fprintf(f, "%s%u", i ? "," : "", refs[i]);
		i = j + 1;
	}
	if (fclose(f))
		die(path, errno);
}

static int cmd_grant(int argc, char **argv)
{
	struct ioctl_gntalloc_alloc_gref *g;
	size_t pages, i;
	uint64_t *ns, t0;
	uint64_t *index;
	struct args a;
	int fd;

	parse(argc, argv, &a, "to");
	pages = (a.size + 4095) / 4096;
	fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/xen/gntalloc", errno);
	g = calloc(1, sizeof(*g) + pages * sizeof(g->gref_ids[0]));
	index = calloc(a.n, sizeof(*index));
	ns = samples(a.n);
	if (!g || !index)
		die("grants", ENOMEM);
	for (i = 0; i < a.n; i++) {
		g->domid = a.vmid;
		g->flags = GNTALLOC_FLAG_WRITABLE;
		g->count = pages;
		t0 = now_ns();
		if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, g))
			die("gntalloc", errno);
		ns[i] = now_ns() - t0;
		index[i] = g->index;
		write_ranges(g->gref_ids, pages, i);
	}
	report("floor-export", a.size, ns, a.n);
	printf("ready %zu\n", a.n);
	fflush(stdout);
	hold();
	for (i = 0; i < a.n; i++) {
		struct ioctl_gntalloc_dealloc_gref d = {
			.index = index[i],
			.count = pages,
		};

		if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &d))
			die("gntalloc dealloc", errno);
	}
	return 0;
}

/* Expand "a-b,c" into @pages references of domain @dom. */
static void parse_ranges(const char *s, struct ioctl_gntdev_grant_ref *refs,
			 size_t pages, unsigned int dom)
{
	unsigned long a, b;
	size_t n = 0;
	char *end;

	while (*s) {
		a = strtoul(s, &end, 10);
		b = *end == '-' ? strtoul(end + 1, &end, 10) : a;
		for (; a <= b; a++) {
			if (n == pages)
				die("refs", E2BIG);
			refs[n].domid = dom;
			refs[n++].ref = a;
		}
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			die("refs", EINVAL);
	}
	if (n != pages)
		die("refs", EINVAL);
}

static int cmd_grant_map(int argc, char **argv)
{
	struct ioctl_gntdev_map_grant_ref *m;
	uint64_t *imp, *rd, *um, t0;
	size_t pages, i, nr;
	const uint64_t *p;
	struct args a;
	int fd;

	/* --count is the number of RANGES arguments after the options. */
	parse(argc, argv, &a, "from");
	nr = a.n;
	if ((size_t)(argc - optind) != nr)
		die("grant-map: RANGES arguments", EINVAL);
	pages = (a.size + 4095) / 4096;
	fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/xen/gntdev", errno);
	m = calloc(1, sizeof(*m) + pages * sizeof(m->refs[0]));
	imp = samples(nr);
	rd = samples(nr);
	um = samples(nr);
	if (!m)
		die("refs", ENOMEM);
	for (i = 0; i < nr; i++) {
		struct ioctl_gntdev_unmap_grant_ref u = { .count = pages };

		parse_ranges(argv[optind + i], m->refs, pages, a.vmid);
		m->count = pages;
		t0 = now_ns();
		if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, m))
			die("gntdev map", errno);
		imp[i] = now_ns() - t0;
		t0 = now_ns();
		p = mmap(NULL, a.size, PROT_READ, MAP_SHARED, fd, m->index);
		if (p == MAP_FAILED)
			die("gntdev mmap", errno);
		um[i] = read_unmap(p, a.size);
		rd[i] = now_ns() - t0;
		u.index = m->index;
		if (ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u))
			die("gntdev unmap", errno);
	}
	report("floor-import", a.size, imp, nr);
	report("floor-read", a.size, rd, nr);
	report("floor-unmap", a.size, um, nr);
	return 0;
}

static int cmd_scale_import(int argc, char **argv)
{
	struct hyper_dmabuf_id *ids;
	uint64_t ns[SAMPLE], lns[SAMPLE], t[3];
	char name[32];
	struct args a;
	int dev, fd;
	size_t i, r;

	parse(argc, argv, &a, "from");
	dev = open_dev();
	ids = ids_alloc(a.n);
	wait_ids(dev, a.vmid, 0, ids, a.n);
	for (i = 0; i < SAMPLE; i++)
		list_ids(dev, a.vmid, 0, ids, a.n, &lns[i]);
	snprintf(name, sizeof(name), "list-at-%zu", a.n);
	report(name, 4096, lns, SAMPLE);
	/* Each sample the median of three, the mapping gone in between. */
	for (i = 0; i < SAMPLE; i++) {
		for (r = 0; r < 3; r++) {
			fd = import_one(dev, &ids[i * (a.n / SAMPLE)], 0, &t[r]);
			close(fd);
			usleep(50000);
		}
		qsort(t, 3, sizeof(t[0]), cmp_u64);
		ns[i] = t[1];
	}
	snprintf(name, sizeof(name), "import-at-%zu", a.n);
	report(name, 4096, ns, SAMPLE);
	return 0;
}

/*
 * Where the window floor's mapping @i of @size starts: fresh pages each
 * time, as an import's are, from 64 MiB on in 384 MiB of the UOS's RAM.
 */
static off_t window_offset(size_t size, size_t i)
{
	size_t room = (384ull << 20) / size;

	return WINDOW_OFFSET + (off_t)(i % (room ? room : 1)) * size;
}

static int cmd_window_map(int argc, char **argv)
{
	uint64_t *imp, *rd, *um, t0;
	const uint64_t *p;
	char path[96];
	struct args a;
	size_t i;
	int fd;

	parse(argc, argv, &a, "from");
	snprintf(path, sizeof(path), ACRN_DEBUGFS "/vm%u/window", a.vmid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, errno);
	imp = samples(a.n);
	rd = samples(a.n);
	um = samples(a.n);
	for (i = 0; i < a.n; i++) {
		t0 = now_ns();
		p = mmap(NULL, a.size, PROT_READ, MAP_SHARED, fd,
			 a.offset >= 0 ? a.offset : window_offset(a.size, i));
		if (p == MAP_FAILED)
			die("window mmap", errno);
		imp[i] = now_ns() - t0;
		t0 = now_ns();
		um[i] = read_unmap(p, a.size);
		rd[i] = now_ns() - t0;
	}
	report("floor-import", a.size, imp, a.n);
	report("floor-read", a.size, rd, a.n);
	report("floor-unmap", a.size, um, a.n);
	return 0;
}

/* A raw doorbell to another VM (see BELL above). */
struct bell {
	int fd;
	int xen;
	uint32_t port;		/* Xen: our end of the event channel */
};

static void bell_wait(struct bell *b);

static void bell_open(struct bell *b, const char *spec)
{
	unsigned int vm, port;
	char path[96];

	memset(b, 0, sizeof(*b));
	if (!spec)
		die("--bell is required", EINVAL);
	if (sscanf(spec, "acrn:%u", &vm) == 1 ||
	    sscanf(spec, "acrn-virtio:%u", &vm) == 1) {
		snprintf(path, sizeof(path), "%s/vm%u/doorbell",
			 spec[4] == ':' ? ACRN_DEBUGFS : VIRTIO_DEBUGFS, vm);
		b->fd = open(path, O_RDWR | O_CLOEXEC);
		if (b->fd < 0)
			die(path, errno);
		return;
	}
	b->xen = 1;
	b->fd = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		die("open /dev/xen/evtchn", errno);
	if (sscanf(spec, "xen-connect:%u:%u", &vm, &port) == 2) {
		struct ioctl_evtchn_bind_interdomain bind = {
			.remote_domain = vm,
			.remote_port = port,
		};
		int ret = ioctl(b->fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);

		if (ret < 0)
			die("evtchn bind", errno);
		b->port = ret;
		/*
		 * Xen sets the new port pending in case the other end rang
		 * before it was bound: take that one.
		 */
		bell_wait(b);
	} else if (sscanf(spec, "xen-listen:%u", &vm) == 1) {
		struct ioctl_evtchn_bind_unbound_port bind = {
			.remote_domain = vm,
		};
		int ret = ioctl(b->fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);

		if (ret < 0)
			die("evtchn alloc", errno);
		b->port = ret;
		printf("port %u\n", b->port);
		fflush(stdout);
	} else {
		die(spec, EINVAL);
	}
}

static void bell_ring(struct bell *b)
{
	struct ioctl_evtchn_notify n = { .port = b->port };

	if (b->xen ? ioctl(b->fd, IOCTL_EVTCHN_NOTIFY, &n) :
	    write(b->fd, "1", 1) != 1)
		die("ring", errno);
}

/* Wait until the other VM rang (at least once since the last wait). */
static void bell_wait(struct bell *b)
{
	uint64_t count;
	uint32_t port;

	if (!b->xen) {
		if (read(b->fd, &count, sizeof(count)) != sizeof(count))
			die("doorbell", errno);
		return;
	}
	/* The port comes back masked: unmask it for the next one. */
	if (read(b->fd, &port, sizeof(port)) != sizeof(port) ||
	    write(b->fd, &port, sizeof(port)) != sizeof(port))
		die("evtchn", errno);
}

static int cmd_ping(int argc, char **argv)
{
	struct bell b;
	struct args a;
	uint64_t *ns, t0;
	size_t i;

	parse(argc, argv, &a, NULL);
	bell_open(&b, a.bell);
	ns = samples(a.n);
	bell_wait(&b);		/* the other side is ready */
	for (i = 0; i < a.n; i++) {
		t0 = now_ns();
		bell_ring(&b);
		bell_wait(&b);
		ns[i] = now_ns() - t0;
	}
	report("raw-rtt", 4096, ns, a.n);
	return 0;
}

static int cmd_pong(int argc, char **argv)
{
	struct bell b;
	struct args a;
	size_t i;

	parse(argc, argv, &a, NULL);
	bell_open(&b, a.bell);
	bell_ring(&b);		/* ready */
	for (i = 0; i < a.n; i++) {
		bell_wait(&b);
		bell_ring(&b);
	}
	return 0;
}

/* event's listener thread: when the bell last rang, and how often. */
static pthread_mutex_t rang_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rang_cond = PTHREAD_COND_INITIALIZER;
static uint64_t rang_at;
static size_t rang;

static void *bell_listener(void *arg)
{
	struct bell *b = arg;
	uint64_t t;

	for (;;) {
		bell_wait(b);
		t = now_ns();
		pthread_mutex_lock(&rang_lock);
		rang_at = t;
		rang++;
		pthread_cond_signal(&rang_cond);
		pthread_mutex_unlock(&rang_lock);
	}
	return NULL;
}

static int cmd_event(int argc, char **argv)
{
	struct hyper_dmabuf_export ex;
	struct bell b;
	struct args a;
	uint64_t *ns, t0;
	pthread_t thr;
	size_t i, seen;
	int dev;

	parse(argc, argv, &a, "to");
	dev = open_dev();
	bell_open(&b, a.bell);
	ns = samples(a.n);
	bell_wait(&b);		/* the other side is listening */
	/* The ring back wakes this thread even while EXPORT waits. */
	errno = pthread_create(&thr, NULL, bell_listener, &b);
	if (errno)
		die("thread", errno);
	for (i = 0; i < a.n; i++) {
		memset(&ex, 0, sizeof(ex));
		ex.fd = heap_alloc(4096);
		ex.remote_vmid = a.vmid;
		pthread_mutex_lock(&rang_lock);
		seen = rang;
		pthread_mutex_unlock(&rang_lock);
		t0 = now_ns();
		if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &ex))
			die("export", errno);
		pthread_mutex_lock(&rang_lock);
		while (rang == seen)
			pthread_cond_wait(&rang_cond, &rang_lock);
		ns[i] = rang_at - t0;
		pthread_mutex_unlock(&rang_lock);
		close(ex.fd);
		unexport_released(dev, &ex.id);
	}
	report("event-rtt", 4096, ns, a.n);
	return 0;
}

static int cmd_event_echo(int argc, char **argv)
{
	struct hyper_dmabuf_event ev[16];
	struct pollfd pfd;
	struct bell b;
	struct args a;
	size_t n = 0;
	ssize_t len;
	int i;

	parse(argc, argv, &a, "from");
	pfd.fd = open_dev();
	pfd.events = POLLIN;
	bell_open(&b, a.bell);
	bell_ring(&b);		/* listening */
	while (n < a.n) {
		i = poll(&pfd, 1, WAIT_MS);
		if (i <= 0)
			die("poll", i ? errno : ETIMEDOUT);
		len = read(pfd.fd, ev, sizeof(ev));
		if (len < 0)
			die("read events", errno);
		for (i = 0; i < (int)(len / sizeof(ev[0])); i++) {
			if (ev[i].type != HYPER_DMABUF_EVENT_NEW ||
			    ev[i].exporter_vmid != a.vmid)
				continue;
			bell_ring(&b);
			n++;
		}
	}
	return 0;
}

/* --- frames: a swapchain of 1080p buffers, shared once -------------------- */
#define FRAME_W		1920
#define FRAME_H		1080
#define FRAME_PITCH	(FRAME_W * 4)
#define FRAME_SIZE	((size_t)FRAME_PITCH * FRAME_H)	/* 8294400 */
#define FRAME_XRGB8888	0x34325258u	/* DRM_FORMAT_XRGB8888, "XR24" */
#define SWAPCHAIN	3
#define FRAME_COPIES	10

/* Export a fresh 1080p XRGB8888 buffer to @to, with its image. */
static struct hyper_dmabuf_id export_frame_buffer(int dev, unsigned int to)
{
	struct hyper_dmabuf_export ex = {
		.fd = heap_alloc(FRAME_SIZE),
		.remote_vmid = to,
	};

	ex.image.fourcc = FRAME_XRGB8888;
	ex.image.width = FRAME_W;
	ex.image.height = FRAME_H;
	ex.image.pitch[0] = FRAME_PITCH;
	if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &ex))
		die("export", errno);
	close(ex.fd);
	return ex.id;
}

/* Frame @seq of @id, the whole image, no fence to wait for. */
static void present(int dev, const struct hyper_dmabuf_id *id, uint64_t seq)
{
	struct hyper_dmabuf_present p = { .id = *id, .seq = seq };

	if (ioctl(dev, HYPER_DMABUF_IOCTL_PRESENT, &p))
		die("present", errno);
}

static void release_frame(int dev, const struct hyper_dmabuf_id *id,
			  uint64_t seq)
{
	struct hyper_dmabuf_release_frame r = { .id = *id, .seq = seq };

	if (ioctl(dev, HYPER_DMABUF_IOCTL_RELEASE_FRAME, &r))
		die("release frame", errno);
}

/* Events read from @dev and not yet taken. */
static struct hyper_dmabuf_event evq[16];
static size_t evq_n, evq_at;

/*
 * The next event of @type on @dev, waiting for it with poll(); others are
 * skipped.  An overflow would lose frames: it ends the run.
 */
static const struct hyper_dmabuf_event *next_event(int dev, uint32_t type)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	const struct hyper_dmabuf_event *e;
	ssize_t len;
	int ret;

	for (;;) {
		while (evq_at < evq_n) {
			e = &evq[evq_at++];
			if (e->type == type)
				return e;
			if (e->type == HYPER_DMABUF_EVENT_OVERFLOW)
				die("events", EOVERFLOW);
		}
		ret = poll(&pfd, 1, WAIT_MS);
		if (ret <= 0)
			die("poll", ret ? errno : ETIMEDOUT);
		len = read(dev, evq, sizeof(evq));
		if (len < 0)
			die("read events", errno);
		evq_n = len / sizeof(evq[0]);
		evq_at = 0;
	}
}

/* Which of @ids @id is; dies when none. */
static size_t which_id(const struct hyper_dmabuf_id *ids, size_t n,
		       const struct hyper_dmabuf_id *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(&ids[i], id, sizeof(*id)))
			return i;
	die("event for an unknown buffer", ENOENT);
	return 0;
}

/* The exporter's wait for frame @seq of @id to come back released. */
static void wait_frame_released(int dev, const struct hyper_dmabuf_id *id,
				uint64_t seq)
{
	const struct hyper_dmabuf_event *e;

	e = next_event(dev, HYPER_DMABUF_EVENT_FRAME_RELEASED);
	if (memcmp(&e->id, id, sizeof(*id)) || e->frame.seq != seq ||
	    e->frame.flags)
		die("frame released out of turn", EPROTO);
}

/*
 * frame and frame-release: one 1080p buffer, N frames one after another.
 * With @bell_back, time from PRESENT until the importer, woken by poll()
 * for the FRAME event, rang the raw bell back ("frame-rtt", as event-rtt);
 * without, until the FRAME_RELEASED event woke us here
 * ("present-release-rtt": FRAME there, RELEASE_FRAME at once, back here).
 */
static int frame_initiator(int argc, char **argv, int bell_back)
{
	struct hyper_dmabuf_id id;
	struct bell b;
	struct args a;
	uint64_t *ns, t0;
	pthread_t thr;
	size_t i, seen = 0;
	int dev;

	parse(argc, argv, &a, "to");
	dev = open_dev();
	bell_open(&b, a.bell);
	ns = samples(a.n);
	id = export_frame_buffer(dev, a.vmid);
	bell_wait(&b);		/* the other side has the buffer and listens */
	if (bell_back) {
		errno = pthread_create(&thr, NULL, bell_listener, &b);
		if (errno)
			die("thread", errno);
	}
	for (i = 0; i < a.n; i++) {
		pthread_mutex_lock(&rang_lock);
		seen = rang;
		pthread_mutex_unlock(&rang_lock);
		t0 = now_ns();
		present(dev, &id, i + 1);
		if (bell_back) {
			pthread_mutex_lock(&rang_lock);
			while (rang == seen)
				pthread_cond_wait(&rang_cond, &rang_lock);
			ns[i] = rang_at - t0;
			pthread_mutex_unlock(&rang_lock);
		}
		wait_frame_released(dev, &id, i + 1);
		if (!bell_back)
			ns[i] = now_ns() - t0;
	}
	report(bell_back ? "frame-rtt" : "present-release-rtt", FRAME_SIZE,
	       ns, a.n);
	unexport_released(dev, &id);
	return 0;
}

static int cmd_frame(int argc, char **argv)
{
	return frame_initiator(argc, argv, 1);
}

static int cmd_frame_release(int argc, char **argv)
{
	return frame_initiator(argc, argv, 0);
}

/*
 * swapchain: three 1080p buffers and N frames, each presented as soon as
 * a buffer is free; the importer releases each frame as soon as it
 * arrived.  One sample per run: the run's time per frame
 * ("swapchain-frame"), then a plain memcpy() of one frame, ten times
 * ("frame-copy").
 */
static int cmd_swapchain(int argc, char **argv)
{
	struct hyper_dmabuf_id ids[SWAPCHAIN];
	const struct hyper_dmabuf_event *e;
	uint64_t cp[FRAME_COPIES], t0, per;
	size_t presented = 0, released = 0, k;
	struct bell b;
	struct args a;
	int dev;

	parse(argc, argv, &a, "to");
	dev = open_dev();
	bell_open(&b, a.bell);
	for (k = 0; k < SWAPCHAIN; k++)
		ids[k] = export_frame_buffer(dev, a.vmid);
	bell_wait(&b);		/* the other side imported them and listens */
	t0 = now_ns();
	for (k = 0; k < SWAPCHAIN && presented < a.n; k++)
		present(dev, &ids[k], ++presented);
	while (released < a.n) {
		e = next_event(dev, HYPER_DMABUF_EVENT_FRAME_RELEASED);
		if (e->frame.flags)
			die("frame released unshown", EPROTO);
		k = which_id(ids, SWAPCHAIN, &e->id);
		released++;
		if (presented < a.n)
			present(dev, &ids[k], ++presented);
	}
	per = (now_ns() - t0) / a.n;
	for (k = 0; k < FRAME_COPIES; k++)
		cp[k] = copy_once(FRAME_SIZE);
	report("frame-copy", FRAME_SIZE, cp, FRAME_COPIES);
	report("swapchain-frame", FRAME_SIZE, &per, 1);
	for (k = 0; k < SWAPCHAIN; k++)
		unexport_released(dev, &ids[k]);
	return 0;
}

/*
 * frame-echo: the importer of frame, frame-release and swapchain.  Wait
 * for --buffers 1080p buffers of VMID, import them (a consumer holds its
 * dma-bufs), ring when ready, then for each FRAME event ring the raw
 * bell back (with --ring) and release the frame at once, N times.
 */
static int cmd_frame_echo(int argc, char **argv)
{
	const struct hyper_dmabuf_event *e;
	struct hyper_dmabuf_id *ids;
	struct bell b;
	struct args a;
	uint64_t ns;
	size_t k, n = 0;
	int dev, *fds;

	parse(argc, argv, &a, "from");
	dev = open_dev();
	bell_open(&b, a.bell);
	ids = ids_alloc(a.buffers);
	fds = calloc(a.buffers, sizeof(*fds));
	if (!fds)
		die("fds", ENOMEM);
	wait_ids(dev, a.vmid, FRAME_SIZE, ids, a.buffers);
	for (k = 0; k < a.buffers; k++)
		fds[k] = import_one(dev, &ids[k], 0, &ns);
	bell_ring(&b);		/* ready */
	while (n < a.n) {
		e = next_event(dev, HYPER_DMABUF_EVENT_FRAME);
		if (e->exporter_vmid != a.vmid)
			continue;
		if (a.ring)
			bell_ring(&b);
		release_frame(dev, &e->id, e->frame.seq);
		n++;
	}
	for (k = 0; k < a.buffers; k++)
		close(fds[k]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "export", cmd_export },
		{ "import", cmd_import },
		{ "scale", cmd_scale },
		{ "scale-import", cmd_scale_import },
		{ "grant", cmd_grant },
		{ "grant-map", cmd_grant_map },
		{ "window-map", cmd_window_map },
		{ "ping", cmd_ping },
		{ "pong", cmd_pong },
		{ "event", cmd_event },
		{ "event-echo", cmd_event_echo },
		{ "frame", cmd_frame },
		{ "frame-release", cmd_frame_release },
		{ "swapchain", cmd_swapchain },
		{ "frame-echo", cmd_frame_echo },
	};
	sigset_t set;
	size_t i;

	/* hold() takes these with sigwaitinfo(); none may kill us first. */
	hold_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: %s COMMAND ARGS (see the source)\n",
			cmd);
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command %s\n", cmd, argv[1]);
	return 2;
}
