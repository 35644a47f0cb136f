// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf: the command-line client of /dev/hyper_dmabuf.  A user shares a
 * buffer, lists, imports, checks and watches shared buffers with it, and
 * scripts drive it (the test rigs' shell scenarios use it too).  Each
 * subcommand does one thing with the UAPI of <linux/hyper_dmabuf.h> and
 * prints what happened as lines of "keyword value..." on stdout
 * (line-buffered, so that a script can follow a process that keeps
 * running), or with --json as one JSON object per line.  See hdmabuf(1).
 * Exit status: 0 success, 1 failure, 2 bad usage, 3 timed out (watch and
 * wait-release only).  A failure prints one line on stderr:
 *
 *	hdmabuf: STEP: ENAME (strerror text)[: detail]
 *
 * where STEP names what failed (an ioctl such as "import", or "open
 * /dev/hyper_dmabuf", "mmap", "verify", ...) and ENAME is the errno's name.
 * Failures that are not a system call's use: EBADMSG for data that does not
 * match the expected pattern, ETIMEDOUT for timeouts, EINVAL for bad usage.
 *
 * It needs only libc and the installed UAPI headers (linux-libc-dev), with
 * the few DRM definitions of the vgem allocator below.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/hyper_dmabuf.h>
#include <linux/io_uring.h>
#include <linux/types.h>
#include <linux/udmabuf.h>

#define DEV_PATH	"/dev/" HYPER_DMABUF_DEVICE_NAME
#define HEAP_PATH	"/dev/dma_heap/system"
#define UDMABUF_PATH	"/dev/udmabuf"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Exit statuses. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_TIMEOUT	3

/* Default timeouts, in milliseconds. */
#define DEF_EVENT_TIMEOUT_MS	10000
#define DEF_EXPECT_TIMEOUT_MS	10000
#define DEF_GUESS_TRIES		1000

/* How often a waiting exporter looks at its buffer, in milliseconds. */
#define EXPECT_POLL_MS		10

static const char usage_head[] =
"usage: hdmabuf [--bind ENDPOINT] COMMAND [ARGS]\n"
"       hdmabuf COMMAND --help\n"
"\n"
"  --bind binds every open of the device to ENDPOINT first: the command\n"
"  then sees, lists, imports and hears of only the buffers exported to\n"
"  it (without it: the default endpoint).\n"
"\n";

static const char usage_info[] =
"  info [--json]\n"
"      vmid N, then one line per reachable VM: peer VMID BACKEND, then\n"
"      export and/or import: the directions this VM shares in with it\n";

static const char usage_list[] =
"  list [--json]\n"
"      the ids this VM may import now, one per line\n";

static const char usage_export[] =
"  export --to VMID --size BYTES [--ro] [--seed S] [--priv STRING]\n"
"         [--idfile PATH] [--alloc heap|memfd|vgem] [--delay-ms MS]\n"
"         [--expect-seed S2 [--timeout MS]] [--released-seed S3]\n"
"         [--endpoint NAME] [--wait-released MS] [--exit-after-export]\n"
"         [--json]\n"
"      allocate a dma-buf (default: the first of heap, memfd, vgem that\n"
"      works), fill it with pattern S (default 0), export it to VMID;\n"
"      print: alloc KIND SIZE / exported ID SIZE.  Then hold the export:\n"
"      SIGUSR1 unexports it (after --delay-ms) and prints unexported;\n"
"      SIGTERM or SIGINT exits 0, which unexports what is left.\n"
"      --expect-seed waits until the whole buffer holds pattern S2\n"
"      (written by the importer), prints peer-wrote ok, else fails after\n"
"      --timeout (default 10000 ms).  --released-seed: after SIGUSR1,\n"
"      wait until the importer released the buffer, then check that it\n"
"      holds pattern S3 (after-release ok BYTES | after-release mismatch\n"
"      OFFSET).  --endpoint exports to that endpoint of VMID (default:\n"
"      its default endpoint).  --wait-released: after SIGUSR1, wait up\n"
"      to MS ms until the importing VM can reach no page of the buffer\n"
"      any more (WAIT_RELEASED), print released, else fail with\n"
"      ETIMEDOUT.  --exit-after-export exits at once.\n"
"      BYTES may end in k, m or g (binary); it is rounded up to pages.\n";

static const char usage_import[] =
"  import ID [--rw] [--wait MS] [--verify S] [--write S2] [--hold-ms MS]\n"
"         [--read-after-ms MS --verify-after S3] [--expect-errno NAME]\n"
"         [--json]\n"
"      import, print size N, map (read-only unless --rw), verify pattern\n"
"      S (verify ok BYTES | verify mismatch OFFSET), write pattern S2\n"
"      (wrote BYTES), keep reading the mapping for MS ms (holding MS,\n"
"      held ok), sleep MS then verify S3 (verify-after ok BYTES), unmap.\n"
"      --wait retries an import that fails with ENOENT for up to MS ms.\n"
"      --expect-errno: succeed only if the import fails with errno NAME\n"
"      (prints import-failed NAME).\n";

static const char usage_wait_event[] =
"  wait-event [--timeout MS] [--type new|withdrawn|overflow|released|\n"
"             frame|frame-released] [--id ID]\n"
"             [--count N]\n"
"      open the device (prints listening), then wait for N (default 1)\n"
"      events matching the filters, printing each as\n"
"      event TYPE ID SIZE [PRIV], frame events as\n"
"      event TYPE ID SIZE seq SEQ flags FLAGS damage N; others are\n"
"      skipped.  Fails with\n"
"      ETIMEDOUT after MS ms (default 10000; -1 waits forever).\n";

static const char usage_watch[] =
"  watch [-n COUNT] [--timeout MS] [--type TYPE] [--id ID] [--json]\n"
"      follow the events of an open file of the device: prints\n"
"      listening, then one line per event (as wait-event) until killed,\n"
"      until COUNT events (-n, --count) were printed, or for MS ms\n"
"      (default: forever).  Exit status 0; 3 when the timeout came\n"
"      before COUNT events.  --type and --id keep only those events.\n";

static const char usage_wait_release[] =
"  wait-release ID [--timeout MS] [--json]\n"
"      in the exporting VM: wait until buffer ID, exported by this VM,\n"
"      is released (unexported, and its importer let go of it: this VM\n"
"      forgot the id).  Prints waiting ID, then released ID; unknown ID\n"
"      when the id was not known at the start (released before, or never\n"
"      exported by this VM).  Exit status 0 then; 3 (timeout ID) when it\n"
"      is not released within MS ms (default 10000; -1 waits forever).\n";

static const char usage_query[] =
"  query ID\n"
"      the QUERY result as key value lines\n";

static const char usage_guess[] =
"  guess VMID [--tries N]\n"
"      N (default 1000) ids of VMID with random keys (sequence numbers\n"
"      0, 1, 2, ... and random ones in turn): import, query and unexport\n"
"      must each fail with ENOENT; prints guess ok N\n";

static const char usage_abuse[] =
"  abuse ID [--rw] [--wait MS] [--only NAME[,NAME...]]\n"
"      import (as import does), then try what a process may do to a\n"
"      mapping, each on a fresh one: dofork (MADV_DOFORK, then fork; the\n"
"      child reads the first word), fork (the same without madvise),\n"
"      mremap-move (same size, MREMAP_FIXED), mremap-grow (one page\n"
"      more), dontneed (MADV_DONTNEED, then read it all), vmsplice (the\n"
"      first page into a pipe), odirect (pread 4096 bytes of /dev/ram0\n"
"      with O_DIRECT into it), iouring (IORING_REGISTER_BUFFERS).  One\n"
"      line each: abuse NAME refused ENAME[: what remains] |\n"
"      abuse NAME allowed[: what happened] | abuse NAME skipped: why.\n"
"      Exit status 0 when every attempt ran, whatever its outcome.\n";

static const char usage_pattern_write[] =
"  pattern-write FILE SEED BYTES\n"
"      write BYTES of pattern SEED to FILE\n";

static const char usage_pattern_check[] =
"  pattern-check FILE SEED\n"
"      check that FILE holds pattern SEED\n";

static const char usage_tail[] =
"\n"
"--json prints one JSON object per line instead (see hdmabuf(1)).\n"
"IDs are one token VMID:SEQ:KEY, all hex: e.g. 1:2a:0123456789abcdef01234567\n"
"(KEY is exactly 24 digits).  Other numbers are decimal or 0x-prefixed hex;\n"
"VMID arguments of --to and guess too.\n"
"Exit status: 0 success, 1 failure (one line hdmabuf: STEP: ENAME ... on\n"
"stderr), 2 bad usage, 3 timed out (watch, wait-release).\n";

/* The running subcommand's usage, for its --help. */
static const char *cmd_usage;

/* --json of the running subcommand: JSON Lines instead of keywords. */
static int json_out;

static void print_usage(FILE *f);

/* The subcommand running, for error messages. */
static const char *cmd_name = "usage";

/* ---- errors ---------------------------------------------------------- */

static const char *errno_name(int err)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	return name ? name : "EUNKNOWN";
}

/* Parse an errno name ("ENOENT") or number; 0 if it is neither. */
static int errno_parse(const char *s)
{
	char *end;
	long v;
	int i;

	for (i = 1; i < 4096; i++) {
		const char *name = strerrorname_np(i);

		if (name && !strcmp(name, s))
			return i;
	}
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v <= 0 || v >= 4096)
		return 0;
	return (int)v;
}

/* Print "hdmabuf: STEP: ENAME (text)[: DETAIL]" on stderr. */
static void error_line(const char *step, int err, const char *detail)
{
	fflush(stdout);
	fprintf(stderr, "hdmabuf: %s: %s (%s)%s%s\n", step, errno_name(err),
		strerror(err), detail ? ": " : "", detail ? detail : "");
}

static noreturn void fail(const char *step, int err, const char *detail)
{
	error_line(step, err, detail);
	exit(EXIT_FAIL);
}

static noreturn void usage_error(const char *detail)
{
	error_line(cmd_name, EINVAL, detail);
	exit(EXIT_USAGE);
}

static noreturn void bad_arg(const char *what, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "bad %s '%s'", what, arg);
	usage_error(msg);
}

/* ---- numbers and ids ------------------------------------------------- */

/* Decimal, or hex after "0x" (never octal: "010" is ten). */
static int parse_u64(const char *s, unsigned long long *v)
{
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static unsigned long long arg_u64(const char *what, const char *s)
{
	unsigned long long v;

	if (parse_u64(s, &v))
		bad_arg(what, s);
	return v;
}

static unsigned int arg_u32(const char *what, const char *s)
{
	unsigned long long v = arg_u64(what, s);

	if (v > UINT_MAX)
		bad_arg(what, s);
	return (unsigned int)v;
}

/* A millisecond count for poll(): 0 to INT_MAX, or -1 for "forever". */
static int arg_ms(const char *what, const char *s, int allow_forever)
{
	unsigned int v;

	if (allow_forever && !strcmp(s, "-1"))
		return -1;
	v = arg_u32(what, s);
	if (v > INT_MAX)
		bad_arg(what, s);
	return (int)v;
}

/* BYTES, optionally with a binary k, m or g suffix. */
static unsigned long long arg_size(const char *s)
{
	unsigned long long v, mult = 1;
	char num[32];
	size_t len = strlen(s);

	if (!len || len >= sizeof(num))
		bad_arg("size", s);
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K':
		mult = 1ull << 10;
		break;
	case 'm': case 'M':
		mult = 1ull << 20;
		break;
	case 'g': case 'G':
		mult = 1ull << 30;
		break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (parse_u64(num, &v) || !v || v > ULLONG_MAX / mult)
		bad_arg("size", s);
	return v * mult;
}

/*
 * Buffer ids, printed and parsed as one token everywhere:
 *
 *	VMID:SEQ:KEY
 *
 * VMID and SEQ are the id's vmid and seq in lowercase hex without leading
 * zeros (zero is "0"); KEY is exactly 24 hex digits, key[0], key[1] and
 * key[2] as 8 digits each, in that order.  Example, vmid 1 and seq 42:
 *
 *	1:2a:0123456789abcdef01234567
 *
 * Parsing accepts upper-case digits too; the id's reserved field is zero.
 */
#define ID_STR_LEN	(8 + 1 + 8 + 1 + 24 + 1)

static const char *id_str(const struct hyper_dmabuf_id *id, char *buf)
{
	snprintf(buf, ID_STR_LEN, "%x:%x:%08x%08x%08x", id->vmid, id->seq,
		 id->key[0], id->key[1], id->key[2]);
	return buf;
}

/* Parse @n (1 to @max) hex digits at *@s, up to @stop. */
static int parse_hex32(const char **s, int max, char stop, __u32 *v)
{
	const char *p = *s;
	int n = 0;

	*v = 0;
	while (*p && *p != stop && n < max) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		*v = *v << 4 | d;
		p++;
		n++;
	}
	if (!n || *p != stop)
		return -EINVAL;
	*s = p;
	return 0;
}

static int id_parse(const char *s, struct hyper_dmabuf_id *id)
{
	const char *p = s;
	int i;

	memset(id, 0, sizeof(*id));
	if (parse_hex32(&p, 8, ':', &id->vmid))
		return -EINVAL;
	p++;
	if (parse_hex32(&p, 8, ':', &id->seq))
		return -EINVAL;
	p++;
	if (strlen(p) != 24)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		const char *chunk = p + 8 * i;
		char part[9];

		memcpy(part, chunk, 8);
		part[8] = '\0';
		chunk = part;
		if (parse_hex32(&chunk, 8, '\0', &id->key[i]))
			return -EINVAL;
	}
	return 0;
}

static void arg_id(const char *s, struct hyper_dmabuf_id *id)
{
	if (id_parse(s, id))
		bad_arg("id (want VMID:SEQ:KEY, e.g. 1:2a:0123456789abcdef01234567)",
			s);
}

/* ---- the test pattern ------------------------------------------------ */

/*
 * The pattern of seed S: the 64-bit word at byte offset OFF (a multiple of
 * 8) is pattern_word(S, OFF), stored in the CPU's byte order; a last,
 * partial word holds the first bytes of its word.  For a fixed offset the
 * word is a bijection of S (splitmix64's finaliser of S * an odd constant
 * plus the word index), so the patterns of two seeds differ in every word.
 * Every subcommand uses these three functions.
 */
static __u64 pattern_word(__u64 seed, __u64 off)
{
	__u64 x = seed * 0x9e3779b97f4a7c15ull + (off >> 3);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fill @len bytes at @p, which sit at offset @off (multiple of 8). */
static void pattern_fill(unsigned char *p, __u64 off, size_t len, __u64 seed)
{
	size_t i;
	__u64 w;

	for (i = 0; i + 8 <= len; i += 8) {
		w = pattern_word(seed, off + i);
		memcpy(p + i, &w, 8);
	}
	if (i < len) {
		w = pattern_word(seed, off + i);
		memcpy(p + i, &w, len - i);
	}
}

/* Index of the first byte of @p (at offset @off) not as filled, or @len. */
static size_t pattern_check(const unsigned char *p, __u64 off, size_t len,
			    __u64 seed)
{
	unsigned char want[8];
	size_t i, j, n;
	__u64 w, got;

	for (i = 0; i < len; i += 8) {
		w = pattern_word(seed, off + i);
		if (i + 8 <= len) {
			memcpy(&got, p + i, 8);
			if (got == w)
				continue;
		}
		memcpy(want, &w, 8);
		n = len - i < 8 ? len - i : 8;
		for (j = 0; j < n; j++)
			if (p[i + j] != want[j])
				return i + j;
	}
	return len;
}

/* ---- guarded access to mappings -------------------------------------- */

/*
 * A mapping of a buffer that went away may fault.  Accesses run under a
 * SIGBUS/SIGSEGV handler that jumps back, so that such a fault becomes a
 * clear EFAULT with its offset instead of a crash.
 */
static sigjmp_buf fault_jmp;
static int fault_armed;
static int fault_sig;
static unsigned char *fault_addr;

enum mem_op { MEM_CHECK, MEM_FILL, MEM_TOUCH, MEM_COPY, MEM_COMPARE };

struct mem_job {
	enum mem_op op;
	unsigned char *map;
	size_t len;
	__u64 seed;
	size_t start;	/* MEM_CHECK: first byte to look at */
	size_t result;	/* MEM_CHECK, MEM_COMPARE: first bad byte or len */
	unsigned char *copy;	/* MEM_COPY: to here; MEM_COMPARE: with it */
};

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!__atomic_load_n(&fault_armed, __ATOMIC_SEQ_CST)) {
		signal(sig, SIG_DFL);
		return;
	}
	__atomic_store_n(&fault_armed, 0, __ATOMIC_SEQ_CST);
	fault_sig = sig;
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

static void fault_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Read one word of every page, so that every page is accessed. */
static void mem_touch(const unsigned char *map, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 4096)
		__atomic_load_n((const __u64 *)(map + i), __ATOMIC_RELAXED);
}

static void mem_run(struct mem_job *job)
{
	switch (job->op) {
	case MEM_CHECK:
		job->result = job->start +
			pattern_check(job->map + job->start, job->start,
				      job->len - job->start, job->seed);
		break;
	case MEM_FILL:
		pattern_fill(job->map, 0, job->len, job->seed);
		break;
	case MEM_TOUCH:
		mem_touch(job->map, job->len);
		break;
	case MEM_COPY:
		memcpy(job->copy, job->map, job->len);
		break;
	case MEM_COMPARE:
		job->result = 0;
		if (!memcmp(job->map, job->copy, job->len))
			job->result = job->len;
		while (job->result < job->len &&
		       job->map[job->result] == job->copy[job->result])
			job->result++;
		break;
	}
}

/* Run @job; -EFAULT (and fail_offset()) if the mapping faulted. */
static int mem_guarded(struct mem_job *job)
{
	if (sigsetjmp(fault_jmp, 1))
		return -EFAULT;
	__atomic_store_n(&fault_armed, 1, __ATOMIC_SEQ_CST);
	mem_run(job);
	__atomic_store_n(&fault_armed, 0, __ATOMIC_SEQ_CST);
	return 0;
}

static noreturn void fail_fault(const char *step, const struct mem_job *job)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s at offset %lld of the mapping",
		 fault_sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
		 (long long)(fault_addr - job->map));
	fail(step, EFAULT, msg);
}

/* ---- dma-bufs -------------------------------------------------------- */

static int dmabuf_sync(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync)) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

/*
 * Check, fill or touch a dma-buf mapping inside DMA_BUF_IOCTL_SYNC
 * begin/end; fails (exits) on a sync error or a fault.
 */
static void dmabuf_access(int fd, struct mem_job *job, const char *step)
{
	__u64 dir = job->op == MEM_FILL ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	int ret;

	ret = dmabuf_sync(fd, DMA_BUF_SYNC_START | dir);
	if (ret)
		fail("DMA_BUF_IOCTL_SYNC start", -ret, NULL);
	if (mem_guarded(job))
		fail_fault(step, job);
	ret = dmabuf_sync(fd, DMA_BUF_SYNC_END | dir);
	if (ret)
		fail("DMA_BUF_IOCTL_SYNC end", -ret, NULL);
}

/*
 * Check the mapping against @seed from byte @start on; the first bad offset
 * or the size.  The check starts at the word holding @start: a difference
 * found inside a word (its first bytes as wanted, by chance) leaves a
 * @start that is not a multiple of 8, and pattern_check() compares whole,
 * aligned words.
 */
static size_t dmabuf_check(int fd, unsigned char *map, size_t len, __u64 seed,
			   size_t start, const char *step)
{
	struct mem_job job = {
		.op = MEM_CHECK, .map = map, .len = len, .seed = seed,
		.start = start & ~(size_t)7,
	};

	dmabuf_access(fd, &job, step);
	return job.result;
}

static void *map_dmabuf(int fd, size_t len, int prot)
{
	void *map = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (map == MAP_FAILED)
		fail("mmap", errno, NULL);
	return map;
}

/* A dma-buf from the system dma-heap. */
static int alloc_heap(size_t size, int *fd)
{
	struct dma_heap_allocation_data data;
	int heap, ret = 0;

	heap = open(HEAP_PATH, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	memset(&data, 0, sizeof(data));
	data.len = size;
	data.fd_flags = O_RDWR | O_CLOEXEC;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data))
		ret = -errno;
	else
		*fd = data.fd;
	close(heap);
	return ret;
}

/* A udmabuf of a sealed memfd. */
static int alloc_memfd(size_t size, int *fd)
{
	struct udmabuf_create create;
	int memfd, dev, ret = 0;

	dev = open(UDMABUF_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	memfd = memfd_create("hdmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0) {
		ret = -errno;
		goto out_dev;
	}
	if (ftruncate(memfd, size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL)) {
		ret = -errno;
		goto out;
	}
	memset(&create, 0, sizeof(create));
	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.size = size;
	ret = ioctl(dev, UDMABUF_CREATE, &create);
	if (ret < 0)
		ret = -errno;
	else
		*fd = ret;
	ret = ret < 0 ? ret : 0;
out:
	close(memfd);
out_dev:
	close(dev);
	return ret;
}

/*
 * The DRM UAPI the vgem allocator needs, from <drm/drm.h> and
 * <drm/drm_mode.h> (which Debian's linux-libc-dev does not ship: libdrm-dev
 * has them under /usr/include/libdrm).  These layouts and numbers are ABI.
 */
struct hd_drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct hd_drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct hd_drm_mode_create_dumb {
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};

#define HD_DRM_IOCTL_VERSION	_IOWR('d', 0x00, struct hd_drm_version)
#define HD_DRM_IOCTL_PRIME_HANDLE_TO_FD \
	_IOWR('d', 0x2d, struct hd_drm_prime_handle)
#define HD_DRM_IOCTL_MODE_CREATE_DUMB \
	_IOWR('d', 0xb2, struct hd_drm_mode_create_dumb)

/* The vgem DRM card (found by driver name, not number), or -1. */
static int vgem_open(void)
{
	struct hd_drm_version v;
	char name[32], path[64];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, HD_DRM_IOCTL_VERSION, &v) &&
		    !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

/* A vgem dumb buffer: pages of 1024 32-bit pixels. */
static int alloc_vgem(size_t size, int *fd)
{
	struct hd_drm_mode_create_dumb dumb;
	struct hd_drm_prime_handle prime;
	int vgem, ret = 0;

	if (size / 4096 > UINT_MAX)
		return -EFBIG;
	vgem = vgem_open();
	if (vgem < 0)
		return -ENODEV;
	memset(&dumb, 0, sizeof(dumb));
	dumb.width = 1024;
	dumb.height = size / 4096;
	dumb.bpp = 32;
	if (ioctl(vgem, HD_DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
		ret = -errno;
		goto out;
	}
	memset(&prime, 0, sizeof(prime));
	prime.handle = dumb.handle;
	prime.flags = O_CLOEXEC | O_RDWR;
	if (ioctl(vgem, HD_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		ret = -errno;
	else
		*fd = prime.fd;
	/* The dma-buf keeps the object: the handle and card may go. */
out:
	close(vgem);
	return ret;
}

static const struct allocator {
	const char *name;
	int (*alloc)(size_t size, int *fd);
} allocators[] = {
	{ "heap", alloc_heap },
	{ "memfd", alloc_memfd },
	{ "vgem", alloc_vgem },
};

#define NR_ALLOCATORS	ARRAY_SIZE(allocators)

/*
 * Allocate @size bytes with @kind, or with the first allocator that works;
 * returns the dma-buf and sets *@kind and *@got (its real size).
 */
static int alloc_dmabuf(const char **kind, size_t size, size_t *got)
{
	char msg[256] = "";
	size_t i, used = 0;
	int fd = -1, ret = -ENODEV;
	off_t end;

	for (i = 0; i < NR_ALLOCATORS; i++) {
		if (*kind && strcmp(*kind, allocators[i].name))
			continue;
		ret = allocators[i].alloc(size, &fd);
		if (!ret) {
			*kind = allocators[i].name;
			break;
		}
		used += snprintf(msg + used, sizeof(msg) - used, "%s%s %s",
				 used ? ", " : "", allocators[i].name,
				 errno_name(-ret));
		if (used >= sizeof(msg))
			used = sizeof(msg) - 1;
	}
	if (fd < 0)
		fail("alloc", -ret, msg);
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		fail("alloc: lseek", errno, NULL);
	*got = end;
	return fd;
}

/* ---- the device ------------------------------------------------------ */

/* --bind NAME, before the command: the endpoint every open is bound to. */
static const char *bind_endpoint;

static int open_dev(void)
{
	struct hyper_dmabuf_bind b;
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail("open " DEV_PATH, errno, NULL);
	if (bind_endpoint) {
		memset(&b, 0, sizeof(b));
		strncpy(b.endpoint, bind_endpoint, sizeof(b.endpoint) - 1);
		if (ioctl(fd, HYPER_DMABUF_IOCTL_BIND, &b))
			fail("bind", errno, bind_endpoint);
	}
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Whether @len bytes of metadata are printable text (trailing NULs ok). */
static int priv_printable(const unsigned char *priv, size_t len)
{
	size_t i;

	while (len && !priv[len - 1])
		len--;
	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (priv[i] < 0x20 || priv[i] > 0x7e)
			return 0;
	return 1;
}

/* ---- options --------------------------------------------------------- */

enum {
	OPT_TO = 256, OPT_SIZE, OPT_RO, OPT_SEED, OPT_PRIV, OPT_IDFILE,
	OPT_ALLOC, OPT_DELAY, OPT_EXPECT_SEED, OPT_TIMEOUT, OPT_EXIT,
	OPT_RW, OPT_WAIT, OPT_VERIFY, OPT_WRITE, OPT_HOLD, OPT_READ_AFTER,
	OPT_VERIFY_AFTER, OPT_EXPECT_ERRNO, OPT_TYPE, OPT_ID, OPT_COUNT,
	OPT_TRIES, OPT_ONLY, OPT_RELEASED_SEED, OPT_ENDPOINT, OPT_WAIT_RELEASED,
	OPT_HELP, OPT_JSON,
};

/* getopt_long()'s short options: -h everywhere, -n for watch. */
static const char *short_opts = ":h";

/* getopt_long() over @argv; unknown options are usage errors. */
static int next_opt(int argc, char **argv, const struct option *opts)
{
	int c;

	/*
	 * Quiet getopt_long(); the leading ':' makes a missing argument
	 * ':' and leaves '?' to unknown options.
	 */
	opterr = 0;
	c = getopt_long(argc, argv, short_opts, opts, NULL);
	if (c == ':')
		bad_arg("option (its argument is missing)", argv[optind - 1]);
	if (c == '?')
		bad_arg("option (see hdmabuf --help)", argv[optind - 1]);
	if (c == 'h' || c == OPT_HELP) {
		print_usage(stdout);
		exit(EXIT_OK);
	}
	if (c == OPT_JSON)
		json_out = 1;
	return c;
}

/* ---- output: keyword lines or JSON Lines ------------------------------ */

/* @len bytes of @s as a JSON string; other bytes than ASCII as U+00XX. */
static void json_str(const char *s, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/*
 * One record of output: KEYWORD VALUE... on a line, or with --json the
 * object {"event":"KEYWORD","KEY":VALUE,...}.  The values' order is the
 * line's; a labelled value is "LABEL VALUE" on the line.
 */
static void rec_begin(const char *event)
{
	if (json_out) {
		fputs("{\"event\":", stdout);
		json_str(event, strlen(event));
	} else {
		fputs(event, stdout);
	}
}

static void rec_str(const char *key, const char *val)
{
	if (json_out) {
		printf(",\"%s\":", key);
		json_str(val, strlen(val));
	} else {
		printf(" %s", val);
	}
}

static void rec_u64(const char *key, unsigned long long val)
{
	if (json_out)
		printf(",\"%s\":%llu", key, val);
	else
		printf(" %llu", val);
}

static void rec_end(void)
{
	puts(json_out ? "}" : "");
}

/* A record of a check: WHAT ok BYTES, or WHAT RESULT OFFSET. */
static void rec_check(const char *what, const char *result, size_t n)
{
	rec_begin(what);
	rec_str("result", result);
	rec_u64(strcmp(result, "ok") ? "offset" : "bytes", n);
	rec_end();
}

/* A record of one word: WORD, or WORD ok. */
static void rec_word(const char *event, const char *result)
{
	rec_begin(event);
	if (result)
		rec_str("result", result);
	rec_end();
}

/* ---- subcommands ----------------------------------------------------- */

/* The options of a command that has only --json (and --help). */
static void parse_json_only(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};

	while (next_opt(argc, argv, opts) != -1)
		;
	if (optind != argc)
		bad_arg("argument", argv[optind]);
}

/* A NUL-padded name of at most @len bytes as a JSON string. */
static void json_name(const char *name, size_t len)
{
	json_str(name, strnlen(name, len));
}

static void info_json(const struct hyper_dmabuf_info *info,
		      const struct hyper_dmabuf_peer *peers)
{
	__u32 i;

	printf("{\"vmid\":%u,\"version\":%u,\"peers\":[", info->vmid,
	       info->version);
	for (i = 0; i < info->nr_peers; i++) {
		printf("%s{\"vmid\":%u,\"backend\":", i ? "," : "",
		       peers[i].vmid);
		json_name(peers[i].backend, sizeof(peers[i].backend));
		printf(",\"export\":%s,\"import\":%s}",
		       peers[i].flags & HYPER_DMABUF_PEER_EXPORT ? "true" : "false",
		       peers[i].flags & HYPER_DMABUF_PEER_IMPORT ? "true" : "false");
	}
	puts("]}");
}

/*
 * One buffer of list --json: its id and what QUERY says of it (nothing
 * more when it is gone meanwhile).
 */
static void list_json(int dev, const struct hyper_dmabuf_id *id)
{
	unsigned char priv[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_query q;
	char buf[ID_STR_LEN];
	size_t len;

	printf("{\"id\":\"%s\",\"exporter_vmid\":%u,\"seq\":%u",
	       id_str(id, buf), id->vmid, id->seq);
	memset(&q, 0, sizeof(q));
	q.id = *id;
	q.priv_len = sizeof(priv);
	q.priv = (unsigned long)priv;
	if (!ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q)) {
		printf(",\"size\":%llu,\"endpoint\":",
		       (unsigned long long)q.size);
		json_name(q.endpoint, sizeof(q.endpoint));
		if (q.priv_len <= sizeof(priv)) {
			len = q.priv_len;
			while (len && !priv[len - 1])
				len--;
			fputs(",\"priv\":", stdout);
			json_str((const char *)priv, len);
		}
	}
	puts("}");
}

static int cmd_info(int argc, char **argv)
{
	struct hyper_dmabuf_peer *peers = NULL;
	struct hyper_dmabuf_info info;
	__u32 room = 0, i;
	int dev;

	parse_json_only(argc, argv);
	dev = open_dev();
	for (;;) {
		memset(&info, 0, sizeof(info));
		info.nr_peers = room;
		info.peers = (unsigned long)peers;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info))
			fail("info", errno, NULL);
		if (info.nr_peers <= room)
			break;
		free(peers);
		room = info.nr_peers;
		peers = calloc(room, sizeof(*peers));
		if (!peers)
			fail("info", ENOMEM, NULL);
	}
	if (json_out)
		info_json(&info, peers);
	else
		printf("vmid %u\n", info.vmid);
	for (i = 0; !json_out && i < info.nr_peers; i++)
		printf("peer %u %.*s%s%s\n", peers[i].vmid,
		       (int)sizeof(peers[i].backend), peers[i].backend,
		       peers[i].flags & HYPER_DMABUF_PEER_EXPORT ? " export" : "",
		       peers[i].flags & HYPER_DMABUF_PEER_IMPORT ? " import" : "");
	free(peers);
	close(dev);
	return EXIT_OK;
}

static int cmd_list(int argc, char **argv)
{
	struct hyper_dmabuf_id *ids = NULL;
	struct hyper_dmabuf_list list;
	char buf[ID_STR_LEN];
	__u32 room = 0, i;
	int dev;

	parse_json_only(argc, argv);
	dev = open_dev();
	for (;;) {
		memset(&list, 0, sizeof(list));
		list.count = room;
		list.ids = (unsigned long)ids;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &list))
			fail("list", errno, NULL);
		if (list.count <= room)
			break;
		free(ids);
		/* Room for some more that may come meanwhile. */
		room = list.count + 16;
		ids = calloc(room, sizeof(*ids));
		if (!ids)
			fail("list", ENOMEM, NULL);
	}
	for (i = 0; i < list.count; i++) {
		if (json_out)
			list_json(dev, &ids[i]);
		else
			printf("%s\n", id_str(&ids[i], buf));
	}
	free(ids);
	close(dev);
	return EXIT_OK;
}

/* Write @id to @path through a temporary file and rename(). */
static void write_idfile(const char *path, const struct hyper_dmabuf_id *id)
{
	char tmp[PATH_MAX], buf[ID_STR_LEN];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		fail("idfile", ENAMETOOLONG, path);
	fd = mkstemp(tmp);
	if (fd < 0)
		fail("idfile", errno, tmp);
	f = fdopen(fd, "w");
	if (!f)
		fail("idfile", errno, tmp);
	fprintf(f, "%s\n", id_str(id, buf));
	if (fflush(f) || fsync(fd) || fclose(f))
		fail("idfile", errno, tmp);
	if (rename(tmp, path))
		fail("idfile", errno, path);
}

struct export_args {
	unsigned int to;
	int have_to;
	unsigned long long size;
	int ro;
	__u64 seed;
	const char *priv;
	const char *idfile;
	const char *alloc;
	unsigned int delay_ms;
	int expect;
	__u64 expect_seed;
	int timeout_ms;
	int exit_after;
	int wait_released;
	int wait_released_ms;
	int released;
	__u64 released_seed;
	const char *endpoint;
};

static void parse_export(int argc, char **argv, struct export_args *a)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "ro", no_argument, NULL, OPT_RO },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "priv", required_argument, NULL, OPT_PRIV },
		{ "idfile", required_argument, NULL, OPT_IDFILE },
		{ "alloc", required_argument, NULL, OPT_ALLOC },
		{ "delay-ms", required_argument, NULL, OPT_DELAY },
		{ "expect-seed", required_argument, NULL, OPT_EXPECT_SEED },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "exit-after-export", no_argument, NULL, OPT_EXIT },
		{ "wait-released", required_argument, NULL, OPT_WAIT_RELEASED },
		{ "released-seed", required_argument, NULL, OPT_RELEASED_SEED },
		{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = DEF_EXPECT_TIMEOUT_MS;
	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_TO:
			a->to = arg_u32("--to", optarg);
			a->have_to = 1;
			break;
		case OPT_SIZE:
			a->size = arg_size(optarg);
			break;
		case OPT_RO:
			a->ro = 1;
			break;
		case OPT_SEED:
			a->seed = arg_u64("--seed", optarg);
			break;
		case OPT_PRIV:
			a->priv = optarg;
			break;
		case OPT_IDFILE:
			a->idfile = optarg;
			break;
		case OPT_ALLOC:
			for (i = 0; i < NR_ALLOCATORS; i++)
				if (!strcmp(optarg, allocators[i].name))
					break;
			if (i == NR_ALLOCATORS)
				bad_arg("--alloc (heap, memfd or vgem)",
					optarg);
			a->alloc = optarg;
			break;
		case OPT_DELAY:
			a->delay_ms = arg_u32("--delay-ms", optarg);
			break;
		case OPT_EXPECT_SEED:
			a->expect = 1;
			a->expect_seed = arg_u64("--expect-seed", optarg);
			break;
		case OPT_TIMEOUT:
			a->timeout_ms = arg_ms("--timeout", optarg, 0);
			break;
		case OPT_EXIT:
			a->exit_after = 1;
			break;
		case OPT_WAIT_RELEASED:
			a->wait_released = 1;
			a->wait_released_ms = arg_ms("--wait-released", optarg,
						     0);
			break;
		case OPT_RELEASED_SEED:
			a->released = 1;
			a->released_seed = arg_u64("--released-seed", optarg);
			break;
		case OPT_ENDPOINT:
			if (!*optarg ||
			    strlen(optarg) >= HYPER_DMABUF_ENDPOINT_LEN)
				bad_arg("--endpoint", optarg);
			a->endpoint = optarg;
			break;
		}
	}
	if (optind != argc)
		bad_arg("argument", argv[optind]);
	if (!a->have_to || !a->size)
		usage_error("export needs --to VMID and --size BYTES");
	if (a->exit_after && (a->expect || a->released || a->wait_released))
		usage_error("--exit-after-export excludes --expect-seed and the release options");
	if (a->size > SIZE_MAX - 4096)
		bad_arg("size", "(too large)");
}

/* SIGUSR1 in the exporter: withdraw the buffer. */
static int export_unexport(int dev, const struct hyper_dmabuf_id *id,
			   unsigned int delay_ms)
{
	struct hyper_dmabuf_unexport u;

	memset(&u, 0, sizeof(u));
	u.id = *id;
	u.delay_ms = delay_ms;
	if (ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &u)) {
		error_line("unexport", errno, NULL);
		return -1;
	}
	rec_word("unexported", NULL);
	return 0;
}

/*
 * --wait-released: after the unexport, wait until the exporting VM has the
 * pages back, the importing VM being able to reach none of them.
 */
static void export_wait_released(int dev, const struct hyper_dmabuf_id *id,
				 int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms, left;
	struct hyper_dmabuf_wait_released w;
	char msg[96];

	for (;;) {
		left = deadline - now_ms();
		memset(&w, 0, sizeof(w));
		w.id = *id;
		w.timeout_ms = left > 0 ? left : 0;
		if (!ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED, &w))
			break;
		/* A stopped and continued process: go on waiting. */
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			fail("wait-released", errno, NULL);
		snprintf(msg, sizeof(msg), "not released within %d ms",
			 timeout_ms);
		fail("wait-released", ETIMEDOUT, msg);
	}
	rec_word("released", NULL);
}

/*
 * --released-seed: once the importer released the buffer (QUERY no longer
 * knows the id), the whole buffer must hold what it wrote: nothing may
 * copy a stale snapshot back over it when the sharing ends.
 */
static void export_check_released(int dev, int fd, unsigned char *map,
				  size_t size, const struct hyper_dmabuf_id *id,
				  const struct export_args *a)
{
	long long deadline = now_ms() + a->timeout_ms;
	struct hyper_dmabuf_query q;
	char msg[160];
	size_t good;

	for (;;) {
		memset(&q, 0, sizeof(q));
		q.id = *id;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q) && errno == ENOENT)
			break;
		if (now_ms() >= deadline)
			fail("released-seed", ETIMEDOUT,
			     "the importer did not release the buffer");
		sleep_ms(EXPECT_POLL_MS);
	}
	/* The end of the sharing follows the release: give it time. */
	sleep_ms(500);
	good = dmabuf_check(fd, map, size, a->released_seed, 0,
			    "released-seed");
	if (good != size) {
		rec_check("after-release", "mismatch", good);
		snprintf(msg, sizeof(msg),
			 "pattern %llu gone after the release, first at offset %zu",
			 (unsigned long long)a->released_seed, good);
		fail("released-seed", EBADMSG, msg);
	}
	rec_check("after-release", "ok", size);
}

static int cmd_export(int argc, char **argv)
{
	struct hyper_dmabuf_export e;
	struct export_args a;
	char buf[ID_STR_LEN], msg[192];
	long long deadline = 0;
	int dev, fd, sig, status = EXIT_OK;
	size_t size, checked = 0;
	unsigned char *map;
	sigset_t sigs;
	struct mem_job fill;

	parse_export(argc, argv, &a);

	/* The signals that drive us are taken with sigtimedwait() only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	dev = open_dev();
	size = (a.size + 4095) & ~(size_t)4095;
	fd = alloc_dmabuf(&a.alloc, size, &size);
	rec_begin("alloc");
	rec_str("kind", a.alloc);
	rec_u64("size", size);
	rec_end();
	map = map_dmabuf(fd, size, PROT_READ | PROT_WRITE);
	memset(&fill, 0, sizeof(fill));
	fill.op = MEM_FILL;
	fill.map = map;
	fill.len = size;
	fill.seed = a.seed;
	dmabuf_access(fd, &fill, "fill");

	memset(&e, 0, sizeof(e));
	e.fd = fd;
	e.flags = a.ro ? HYPER_DMABUF_EXPORT_RDONLY : 0;
	e.remote_vmid = a.to;
	if (a.endpoint)
		strncpy(e.endpoint, a.endpoint, sizeof(e.endpoint) - 1);
	if (a.priv) {
		e.priv_len = strlen(a.priv) + 1;
		e.priv = (unsigned long)a.priv;
	}
	if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e))
		fail("export", errno, NULL);
	rec_begin("exported");
	rec_str("id", id_str(&e.id, buf));
	rec_u64("size", e.size);
	rec_end();
	if (a.idfile)
		write_idfile(a.idfile, &e.id);
	if (a.exit_after)
		return EXIT_OK;

	if (a.expect)
		deadline = now_ms() + a.timeout_ms;
	for (;;) {
		struct timespec ts = { 0, EXPECT_POLL_MS * 1000000L };

		if (a.expect) {
			/*
			 * Resume where the last look found a difference (at
			 * its word); when that reaches the end, check it all
			 * once more.
			 */
			checked = dmabuf_check(fd, map, size, a.expect_seed,
					       checked, "expect-seed");
			if (checked == size)
				checked = dmabuf_check(fd, map, size,
						       a.expect_seed, 0,
						       "expect-seed");
			if (checked == size) {
				rec_word("peer-wrote", "ok");
				a.expect = 0;
				continue;
			}
			if (now_ms() >= deadline) {
				rec_check("peer-wrote", "timeout", checked);
				snprintf(msg, sizeof(msg),
					 "pattern %llu not there after %d ms, first difference at offset %zu",
					 (unsigned long long)a.expect_seed,
					 a.timeout_ms, checked);
				fail("expect-seed", ETIMEDOUT, msg);
			}
		}
		sig = sigtimedwait(&sigs, NULL, a.expect ? &ts : NULL);
		if (sig < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fail("sigtimedwait", errno, NULL);
		}
		if (sig == SIGUSR1) {
			if (export_unexport(dev, &e.id, a.delay_ms)) {
				status = EXIT_FAIL;
				continue;
			}
			if (a.wait_released)
				export_wait_released(dev, &e.id,
						     a.wait_released_ms);
			if (a.released)
				export_check_released(dev, fd, map, size, &e.id,
						      &a);
			continue;
		}
		/* SIGTERM or SIGINT */
		if (a.expect)
			fail("expect-seed", EINTR,
			     "signalled before the peer wrote the pattern");
		break;
	}
	munmap(map, size);
	close(fd);
	close(dev);
	return status;
}

struct import_args {
	struct hyper_dmabuf_id id;
	int rw;
	int wait_ms;
	int verify;
	__u64 verify_seed;
	int write;
	__u64 write_seed;
	int hold_ms;
	int read_after;
	int read_after_ms;
	int verify_after;
	__u64 verify_after_seed;
	int expect_errno;
};

static void parse_import(int argc, char **argv, struct import_args *a)
{
	static const struct option opts[] = {
		{ "rw", no_argument, NULL, OPT_RW },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "verify", required_argument, NULL, OPT_VERIFY },
		{ "write", required_argument, NULL, OPT_WRITE },
		{ "hold-ms", required_argument, NULL, OPT_HOLD },
		{ "read-after-ms", required_argument, NULL, OPT_READ_AFTER },
		{ "verify-after", required_argument, NULL, OPT_VERIFY_AFTER },
		{ "expect-errno", required_argument, NULL, OPT_EXPECT_ERRNO },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_RW:
			a->rw = 1;
			break;
		case OPT_WAIT:
			a->wait_ms = arg_ms("--wait", optarg, 0);
			break;
		case OPT_VERIFY:
			a->verify = 1;
			a->verify_seed = arg_u64("--verify", optarg);
			break;
		case OPT_WRITE:
			a->write = 1;
			a->write_seed = arg_u64("--write", optarg);
			break;
		case OPT_HOLD:
			a->hold_ms = arg_ms("--hold-ms", optarg, 0);
			break;
		case OPT_READ_AFTER:
			a->read_after = 1;
			a->read_after_ms = arg_ms("--read-after-ms", optarg, 0);
			break;
		case OPT_VERIFY_AFTER:
			a->verify_after = 1;
			a->verify_after_seed = arg_u64("--verify-after", optarg);
			break;
		case OPT_EXPECT_ERRNO:
			a->expect_errno = errno_parse(optarg);
			if (!a->expect_errno)
				bad_arg("--expect-errno", optarg);
			break;
		}
	}
	if (optind != argc - 1)
		usage_error("import needs one ID");
	arg_id(argv[optind], &a->id);
	if (a->write && !a->rw)
		usage_error("--write needs --rw");
	if (a->read_after && !a->verify_after)
		usage_error("--read-after-ms needs --verify-after");
}

/* Report a check of the mapping: "WHAT ok BYTES" or fail. */
static void report_check(const char *what, size_t bad, size_t size,
			 __u64 seed)
{
	char msg[160];

	if (bad == size) {
		rec_check(what, "ok", size);
		return;
	}
	rec_check(what, "mismatch", bad);
	snprintf(msg, sizeof(msg),
		 "buffer differs from pattern %llu first at offset %zu of %zu",
		 (unsigned long long)seed, bad, size);
	fail(what, EBADMSG, msg);
}

/*
 * IMPORT @id (read-write if @rw) into *@imp, retrying one that fails with
 * ENOENT for up to @wait_ms; returns 0 or the errno.
 */
static int import_retry(int dev, const struct hyper_dmabuf_id *id, int rw,
			int wait_ms, struct hyper_dmabuf_import *imp)
{
	long long end = now_ms() + wait_ms;

	for (;;) {
		memset(imp, 0, sizeof(*imp));
		imp->id = *id;
		imp->flags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC;
		if (!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, imp))
			return 0;
		if (errno != ENOENT || now_ms() >= end)
			return errno;
		sleep_ms(2);
	}
}

static int cmd_import(int argc, char **argv)
{
	struct hyper_dmabuf_import imp;
	struct import_args a;
	struct mem_job job;
	char msg[128];
	unsigned char *map;
	long long end;
	size_t size;
	int dev, err;

	parse_import(argc, argv, &a);
	dev = open_dev();

	err = import_retry(dev, &a.id, a.rw, a.wait_ms, &imp);
	if (err) {
		if (a.expect_errno == err) {
			rec_begin("import-failed");
			rec_str("errno", errno_name(err));
			rec_end();
			return EXIT_OK;
		}
		if (a.expect_errno) {
			snprintf(msg, sizeof(msg), "expected %s",
				 errno_name(a.expect_errno));
			fail("import", err, msg);
		}
		fail("import", err, NULL);
	}
	if (a.expect_errno) {
		close(imp.fd);
		fflush(stdout);
		fprintf(stderr, "hdmabuf: import: succeeded, expected %s\n",
			errno_name(a.expect_errno));
		return EXIT_FAIL;
	}
	size = imp.size;
	rec_begin("size");
	rec_u64("size", size);
	rec_end();
	map = map_dmabuf(imp.fd, size, PROT_READ | (a.rw ? PROT_WRITE : 0));

	if (a.verify)
		report_check("verify",
			     dmabuf_check(imp.fd, map, size, a.verify_seed, 0,
					  "verify"), size, a.verify_seed);
	if (a.write) {
		memset(&job, 0, sizeof(job));
		job.op = MEM_FILL;
		job.map = map;
		job.len = size;
		job.seed = a.write_seed;
		dmabuf_access(imp.fd, &job, "write");
		rec_begin("wrote");
		rec_u64("bytes", size);
		rec_end();
	}
	if (a.hold_ms) {
		memset(&job, 0, sizeof(job));
		job.op = MEM_TOUCH;
		job.map = map;
		job.len = size;
		rec_begin("holding");
		rec_u64("ms", a.hold_ms);
		rec_end();
		end = now_ms() + a.hold_ms;
		do {
			if (mem_guarded(&job))
				fail_fault("hold", &job);
			sleep_ms(1);
		} while (now_ms() < end);
		rec_word("held", "ok");
	}
	if (a.verify_after) {
		sleep_ms(a.read_after_ms);
		report_check("verify-after",
			     dmabuf_check(imp.fd, map, size,
					  a.verify_after_seed, 0,
					  "verify-after"),
			     size, a.verify_after_seed);
	}
	munmap(map, size);
	close(imp.fd);
	close(dev);
	return EXIT_OK;
}

static const char * const event_names[] = {
	[HYPER_DMABUF_EVENT_NEW] = "new",
	[HYPER_DMABUF_EVENT_WITHDRAWN] = "withdrawn",
	[HYPER_DMABUF_EVENT_OVERFLOW] = "overflow",
	[HYPER_DMABUF_EVENT_RELEASED] = "released",
	[HYPER_DMABUF_EVENT_FRAME] = "frame",
	[HYPER_DMABUF_EVENT_FRAME_RELEASED] = "frame-released",
};

#define NR_EVENT_NAMES	ARRAY_SIZE(event_names)

/* An event's type: its name, or "typeN" for a type this tool lacks. */
static const char *event_name(__u32 type, char *buf, size_t len)
{
	if (type < NR_EVENT_NAMES && event_names[type])
		return event_names[type];
	snprintf(buf, len, "type%u", type);
	return buf;
}

/*
 * One event: "event TYPE ID SIZE [PRIV]", frame events
 * "event TYPE ID SIZE seq SEQ flags FLAGS damage N"; with --json the
 * object of hdmabuf(1).
 */
static void print_event(const struct hyper_dmabuf_event *ev)
{
	const struct hyper_dmabuf_image *im = &ev->image;
	int frame = ev->type == HYPER_DMABUF_EVENT_FRAME ||
		    ev->type == HYPER_DMABUF_EVENT_FRAME_RELEASED;
	char buf[ID_STR_LEN], name[16];
	size_t len = ev->priv_len;

	if (!json_out) {
		printf("event %s %s %llu", event_name(ev->type, name,
						      sizeof(name)),
		       id_str(&ev->id, buf), (unsigned long long)ev->size);
		if (frame)
			printf(" seq %llu flags 0x%x damage %u",
			       (unsigned long long)ev->frame.seq,
			       ev->frame.flags, ev->frame.nr_damage);
		else if (ev->priv_len <= sizeof(ev->priv) &&
			 priv_printable(ev->priv, ev->priv_len))
			printf(" %.*s", (int)ev->priv_len,
			       (const char *)ev->priv);
		putchar('\n');
		return;
	}
	rec_begin(event_name(ev->type, name, sizeof(name)));
	rec_str("id", id_str(&ev->id, buf));
	rec_u64("exporter_vmid", ev->exporter_vmid);
	rec_u64("size", ev->size);
	if (frame) {
		rec_u64("frame_seq", ev->frame.seq);
		rec_u64("frame_flags", ev->frame.flags);
		rec_u64("damage", ev->frame.nr_damage);
	} else if (ev->type == HYPER_DMABUF_EVENT_NEW &&
		   len <= sizeof(ev->priv)) {
		while (len && !ev->priv[len - 1])
			len--;
		fputs(",\"priv\":", stdout);
		json_str((const char *)ev->priv, len);
	}
	if (ev->type == HYPER_DMABUF_EVENT_NEW && im->fourcc) {
		fputs(",\"fourcc\":", stdout);
		json_str((const char *)&im->fourcc, sizeof(im->fourcc));
		rec_u64("width", im->width);
		rec_u64("height", im->height);
		rec_u64("modifier", im->modifier);
	}
	rec_end();
}

/* Which events wait-event and watch want, and how many. */
struct event_filter {
	unsigned int type;
	int have_id;
	struct hyper_dmabuf_id id;
	unsigned int count;	/* 0: no limit */
	int timeout_ms;		/* -1: forever */
};

/*
 * Print "listening", then the events of @f until @f->count were printed
 * (returns 0) or @f->timeout_ms passed (returns 1); *@seen counts them.
 */
static int follow_events(const struct event_filter *f, unsigned int *seen)
{
	struct hyper_dmabuf_event ev;
	long long end = now_ms() + f->timeout_ms;
	struct pollfd pfd;
	int dev, ret, left;
	ssize_t n;

	dev = open_dev();
	rec_word("listening", NULL);
	*seen = 0;
	while (!f->count || *seen < f->count) {
		left = -1;
		if (f->timeout_ms >= 0) {
			long long l = end - now_ms();

			left = l > 0 ? (int)l : 0;
		}
		pfd.fd = dev;
		pfd.events = POLLIN;
		ret = poll(&pfd, 1, left);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			fail("poll", errno, NULL);
		}
		if (!ret) {
			close(dev);
			return 1;
		}
		n = read(dev, &ev, sizeof(ev));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail("read", errno, NULL);
		}
		if (n != sizeof(ev))
			fail("read", EIO, "short event record");
		if (f->type && ev.type != f->type)
			continue;
		if (f->have_id && memcmp(&ev.id, &f->id, sizeof(f->id)))
			continue;
		(*seen)++;
		print_event(&ev);
	}
	close(dev);
	return 0;
}

/* The options of wait-event and watch. */
static void parse_events(int argc, char **argv, struct event_filter *f,
			 int watch)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "id", required_argument, NULL, OPT_ID },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int i;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_TIMEOUT:
			f->timeout_ms = arg_ms("--timeout", optarg, 1);
			break;
		case OPT_TYPE:
			for (i = 1; i < NR_EVENT_NAMES; i++)
				if (!strcmp(optarg, event_names[i]))
					break;
			if (i == NR_EVENT_NAMES)
				bad_arg("--type (an event name of --help)",
					optarg);
			f->type = i;
			break;
		case OPT_ID:
			arg_id(optarg, &f->id);
			f->have_id = 1;
			break;
		case 'n':
		case OPT_COUNT:
			f->count = arg_u32("--count", optarg);
			break;
		case OPT_JSON:
			if (!watch)
				bad_arg("option (see hdmabuf wait-event --help)",
					"--json");
			break;
		}
	}
	if (optind != argc)
		bad_arg("argument", argv[optind]);
}

static int cmd_wait_event(int argc, char **argv)
{
	struct event_filter f = { .count = 1,
				  .timeout_ms = DEF_EVENT_TIMEOUT_MS };
	unsigned int seen;
	char msg[128];

	parse_events(argc, argv, &f, 0);
	if (!f.count) {
		/* --count 0: only the "listening" (0 is watch's "no limit"). */
		close(open_dev());
		rec_word("listening", NULL);
		return EXIT_OK;
	}
	if (follow_events(&f, &seen)) {
		snprintf(msg, sizeof(msg), "%u of %u events in %d ms",
			 seen, f.count, f.timeout_ms);
		fail("wait-event", ETIMEDOUT, msg);
	}
	return EXIT_OK;
}

static int cmd_watch(int argc, char **argv)
{
	struct event_filter f = { .timeout_ms = -1 };
	unsigned int seen;
	char msg[128];

	short_opts = ":hn:";
	parse_events(argc, argv, &f, 1);
	if (follow_events(&f, &seen) && f.count) {
		snprintf(msg, sizeof(msg), "%u of %u events in %d ms",
			 seen, f.count, f.timeout_ms);
		error_line("watch", ETIMEDOUT, msg);
		return EXIT_TIMEOUT;
	}
	return EXIT_OK;
}

/* How often wait-release asks QUERY, in milliseconds. */
#define RELEASE_POLL_MS		10

/*
 * wait-release: another process's export can only be watched through
 * QUERY, which knows the id until the importer let go after the unexport
 * (WAIT_RELEASED and the RELEASED event are for the exporting open file
 * alone; export --wait-released uses them).
 */
static int cmd_wait_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int timeout_ms = DEF_EVENT_TIMEOUT_MS, dev, c, seen = 0;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	char buf[ID_STR_LEN], msg[128];
	long long start, end;

	while ((c = next_opt(argc, argv, opts)) != -1)
		if (c == OPT_TIMEOUT)
			timeout_ms = arg_ms("--timeout", optarg, 1);
	if (optind != argc - 1)
		usage_error("wait-release needs one ID");
	arg_id(argv[optind], &id);
	id_str(&id, buf);

	dev = open_dev();
	start = now_ms();
	end = start + timeout_ms;
	for (;;) {
		memset(&q, 0, sizeof(q));
		q.id = id;
		if (ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q)) {
			if (errno != ENOENT)
				fail("wait-release", errno, NULL);
			rec_begin(seen ? "released" : "unknown");
			rec_str("id", buf);
			if (seen)
				rec_u64("ms", now_ms() - start);
			rec_end();
			break;
		}
		if (!(q.status & HYPER_DMABUF_STATUS_EXPORTED_HERE))
			fail("wait-release", EREMOTE,
			     "not exported by this VM: run it in the exporting VM");
		if (!seen) {
			rec_begin("waiting");
			rec_str("id", buf);
			rec_end();
			seen = 1;
		}
		if (timeout_ms >= 0 && now_ms() >= end) {
			rec_begin("timeout");
			rec_str("id", buf);
			rec_u64("ms", now_ms() - start);
			rec_end();
			snprintf(msg, sizeof(msg), "not released within %d ms",
				 timeout_ms);
			error_line("wait-release", ETIMEDOUT, msg);
			return EXIT_TIMEOUT;
		}
		sleep_ms(RELEASE_POLL_MS);
	}
	close(dev);
	return EXIT_OK;
}

static int cmd_query(int argc, char **argv)
{
	unsigned char priv[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	char buf[ID_STR_LEN];
	int dev;

	if (argc != 2)
		usage_error("query needs one ID");
	arg_id(argv[1], &id);
	dev = open_dev();
	memset(&q, 0, sizeof(q));
	q.id = id;
	q.priv_len = sizeof(priv);
	q.priv = (unsigned long)priv;
	if (ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q))
		fail("query", errno, NULL);
	printf("id %s\n", id_str(&q.id, buf));
	printf("exporter_vmid %u\n", q.exporter_vmid);
	printf("importer_vmid %u\n", q.importer_vmid);
	printf("size %llu\n", (unsigned long long)q.size);
	printf("status 0x%x\n", q.status);
	printf("exported_here %d\n",
	       !!(q.status & HYPER_DMABUF_STATUS_EXPORTED_HERE));
	printf("imported %d\n", !!(q.status & HYPER_DMABUF_STATUS_IMPORTED));
	printf("unexported %d\n",
	       !!(q.status & HYPER_DMABUF_STATUS_UNEXPORTED));
	printf("unexport_pending %d\n",
	       !!(q.status & HYPER_DMABUF_STATUS_UNEXPORT_PENDING));
	printf("frame_pending %d\n",
	       !!(q.status & HYPER_DMABUF_STATUS_FRAME_PENDING));
	printf("frame_seq %llu\n", (unsigned long long)q.frame_seq);
	if (q.image.fourcc)
		printf("image %.4s %ux%u modifier 0x%llx pitch %u offset %u\n",
		       (const char *)&q.image.fourcc, q.image.width,
		       q.image.height, (unsigned long long)q.image.modifier,
		       q.image.pitch[0], q.image.offset[0]);
	printf("priv_len %u\n", q.priv_len);
	if (q.priv_len <= sizeof(priv) && priv_printable(priv, q.priv_len))
		printf("priv %.*s\n", (int)q.priv_len, (const char *)priv);
	close(dev);
	return EXIT_OK;
}

/* One guessed id must be unknown to IMPORT, QUERY and UNEXPORT alike. */
static void guess_one(int dev, const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_unexport u;
	struct hyper_dmabuf_import imp;
	struct hyper_dmabuf_query q;
	char buf[ID_STR_LEN];

	memset(&imp, 0, sizeof(imp));
	imp.id = *id;
	imp.flags = O_RDONLY | O_CLOEXEC;
	if (!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &imp)) {
		close(imp.fd);
		printf("guess imported %s\n", id_str(id, buf));
		fail("guess", EEXIST, "a guessed id was imported");
	}
	if (errno != ENOENT)
		fail("guess: import", errno, id_str(id, buf));
	memset(&q, 0, sizeof(q));
	q.id = *id;
	if (!ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q)) {
		printf("guess queried %s\n", id_str(id, buf));
		fail("guess", EEXIST, "a guessed id was queried");
	}
	if (errno != ENOENT)
		fail("guess: query", errno, id_str(id, buf));
	memset(&u, 0, sizeof(u));
	u.id = *id;
	if (!ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &u)) {
		printf("guess unexported %s\n", id_str(id, buf));
		fail("guess", EEXIST, "a guessed id was unexported");
	}
	if (errno != ENOENT)
		fail("guess: unexport", errno, id_str(id, buf));
}

/*
 * Random numbers for guessing.  Never getrandom() without GRND_INSECURE:
 * early in a VM's boot the kernel's CRNG may not be ready and a blocking
 * call waits (or spins) for it.  splitmix64 seeded from GRND_INSECURE
 * where the kernel has it (5.6), else from the clock and pid, is
 * unpredictable enough for a test.
 */
static __u64 rand_state;

static void rand_seed(void)
{
	struct timespec ts;
	__u64 seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_INSECURE) != sizeof(seed) &&
	    getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	rand_state = seed ^ ((__u64)ts.tv_sec << 32) ^ ts.tv_nsec ^
		     ((__u64)getpid() << 48);
}

static __u32 rand_u32(void)
{
	rand_state += 0x9e3779b97f4a7c15ull;
	return pattern_word(rand_state, 0) >> 32;
}

static int cmd_guess(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tries", required_argument, NULL, OPT_TRIES },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int vmid, tries = DEF_GUESS_TRIES, i, k;
	struct hyper_dmabuf_id id;
	int dev, c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		if (c == OPT_TRIES)
			tries = arg_u32("--tries", optarg);
	}
	if (optind != argc - 1)
		usage_error("guess needs one VMID");
	vmid = arg_u32("VMID", argv[optind]);
	dev = open_dev();
	rand_seed();
	for (i = 0; i < tries; i++) {
		memset(&id, 0, sizeof(id));
		id.vmid = vmid;
		/* Live exports have small sequence numbers: try them all. */
		id.seq = i % 2 ? rand_u32() : i / 2;
		for (k = 0; k < 3; k++)
			id.key[k] = rand_u32();
		guess_one(dev, &id);
	}
	printf("guess ok %u\n", tries);
	close(dev);
	return EXIT_OK;
}

/* ---- abuse: what a process may do to a mapping of an import ---------- */

/*
 * Each attempt gets a fresh mapping of the whole buffer, does one thing a
 * process is free to do to any shared mapping, and prints one line:
 *
 *	abuse NAME refused ENAME[: what remains]
 *	abuse NAME allowed[: what happened]
 *	abuse NAME skipped: why
 *
 * "What remains" and "what happened" compare the mapping with the buffer's
 * contents as read at the start: "intact", "differs at offset N", or
 * "SIGBUS at offset N" (or SIGSEGV).  An attempt that could not run at
 * all (mmap or fork failed...) prints an error line instead and makes the
 * exit status 1; the outcomes themselves are for the caller to judge.
 */

/* How long a forked child may take to read one word, in milliseconds. */
#define ABUSE_CHILD_TIMEOUT_MS	10000
/* What vmsplice and O_DIRECT move, and mremap-grow adds. */
#define ABUSE_CHUNK		4096
#define RAM_DISK_PATH		"/dev/ram0"

/* How a forked child's read of the mapping ended: its exit status. */
enum {
	CHILD_SAME = 10,	/* read the buffer's first word */
	CHILD_OTHER,		/* read another value */
	CHILD_SIGSEGV,
	CHILD_SIGBUS,
};

struct abuse {
	int fd;			/* the imported dma-buf */
	size_t size;
	int prot;
	unsigned char *ref;	/* its contents, read at the start */
	int status;		/* EXIT_FAIL once an attempt could not run */
};

/* An attempt that could not run: an error line, and exit status 1. */
static void abuse_error(struct abuse *a, const char *name, const char *step,
			int err)
{
	char what[128];

	snprintf(what, sizeof(what), "abuse %s: %s", name, step);
	error_line(what, err, NULL);
	a->status = EXIT_FAIL;
}

static void abuse_unmap(struct abuse *a, const char *name, void *map,
			size_t len)
{
	if (munmap(map, len))
		abuse_error(a, name, "munmap", errno);
}

/*
 * Compare the first @len bytes at @map with the buffer's contents, inside
 * a CPU-access bracket, and describe the outcome in @buf.
 */
static const char *abuse_check(struct abuse *a, unsigned char *map,
			       size_t len, char *buf, size_t buflen)
{
	struct mem_job job = {
		.op = MEM_COMPARE, .map = map, .len = len, .copy = a->ref,
	};
	int ret;

	ret = dmabuf_sync(a->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (ret) {
		snprintf(buf, buflen, "DMA_BUF_IOCTL_SYNC %s",
			 errno_name(-ret));
		return buf;
	}
	if (mem_guarded(&job))
		snprintf(buf, buflen, "%s at offset %lld",
			 fault_sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
			 (long long)(fault_addr - map));
	else if (job.result < len)
		snprintf(buf, buflen, "differs at offset %zu", job.result);
	else
		snprintf(buf, buflen, "intact");
	dmabuf_sync(a->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return buf;
}

/* In a forked child: read the first word of @map, exit with how it went. */
static noreturn void abuse_child(const unsigned char *map, __u64 want)
{
	__u64 got;

	if (sigsetjmp(fault_jmp, 1))
		_exit(fault_sig == SIGBUS ? CHILD_SIGBUS : CHILD_SIGSEGV);
	__atomic_store_n(&fault_armed, 1, __ATOMIC_SEQ_CST);
	got = __atomic_load_n((const __u64 *)map, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fault_armed, 0, __ATOMIC_SEQ_CST);
	_exit(got == want ? CHILD_SAME : CHILD_OTHER);
}

/*
 * Fork a child that reads the first word of @map; wait for it, killing it
 * after ABUSE_CHILD_TIMEOUT_MS, and describe what it saw in @buf.
 * Returns -1 (reported) when there was no child.
 */
static int abuse_fork_read(struct abuse *a, const char *name,
			   const unsigned char *map, char *buf, size_t len)
{
	long long end = now_ms() + ABUSE_CHILD_TIMEOUT_MS;
	pid_t pid, got;
	__u64 want;
	int st;

	memcpy(&want, a->ref, sizeof(want));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		abuse_error(a, name, "fork", errno);
		return -1;
	}
	if (!pid)
		abuse_child(map, want);
	while (!(got = waitpid(pid, &st, WNOHANG))) {
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(buf, len, "child hung, killed after %d ms",
				 ABUSE_CHILD_TIMEOUT_MS);
			return 0;
		}
		sleep_ms(10);
	}
	if (got < 0) {
		abuse_error(a, name, "waitpid", errno);
		return -1;
	}
	if (WIFSIGNALED(st)) {
		snprintf(buf, len, "child killed by signal %d", WTERMSIG(st));
		return 0;
	}
	switch (WEXITSTATUS(st)) {
	case CHILD_SAME:
		snprintf(buf, len, "child read the buffer");
		break;
	case CHILD_OTHER:
		snprintf(buf, len, "child read other data");
		break;
	case CHILD_SIGSEGV:
		snprintf(buf, len, "child SIGSEGV");
		break;
	case CHILD_SIGBUS:
		snprintf(buf, len, "child SIGBUS");
		break;
	default:
		snprintf(buf, len, "child exit %d", WEXITSTATUS(st));
		break;
	}
	return 0;
}

/* dofork and fork: a child must never get the mapping. */
static void abuse_fork_common(struct abuse *a, const char *name,
			      unsigned char *map, int dofork)
{
	char child[64], parent[64];
	int err = 0;

	if (dofork && madvise(map, a->size, MADV_DOFORK))
		err = errno;
	if (!abuse_fork_read(a, name, map, child, sizeof(child))) {
		abuse_check(a, map, a->size, parent, sizeof(parent));
		if (err)
			printf("abuse %s refused %s: %s; parent %s\n", name,
			       errno_name(err), child, parent);
		else
			printf("abuse %s allowed: %s; parent %s\n", name,
			       child, parent);
	}
	abuse_unmap(a, name, map, a->size);
}

static void abuse_dofork(struct abuse *a, const char *name,
			 unsigned char *map)
{
	abuse_fork_common(a, name, map, 1);
}

static void abuse_fork(struct abuse *a, const char *name, unsigned char *map)
{
	abuse_fork_common(a, name, map, 0);
}

/* Move the mapping, same size, over a placeholder of our own. */
static void abuse_mremap_move(struct abuse *a, const char *name,
			      unsigned char *map)
{
	unsigned char *to, *moved;
	char what[64];
	int err;

	to = mmap(NULL, a->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		  0);
	if (to == MAP_FAILED) {
		abuse_error(a, name, "mmap placeholder", errno);
		abuse_unmap(a, name, map, a->size);
		return;
	}
	moved = mremap(map, a->size, a->size, MREMAP_MAYMOVE | MREMAP_FIXED,
		       to);
	if (moved == MAP_FAILED) {
		err = errno;
		printf("abuse %s refused %s: old mapping %s\n", name,
		       errno_name(err),
		       abuse_check(a, map, a->size, what, sizeof(what)));
		abuse_unmap(a, name, map, a->size);
		/* The placeholder, if mremap did not unmap it already. */
		abuse_unmap(a, name, to, a->size);
		return;
	}
	printf("abuse %s allowed: moved mapping %s\n", name,
	       abuse_check(a, moved, a->size, what, sizeof(what)));
	abuse_unmap(a, name, moved, a->size);
}

static void abuse_mremap_grow(struct abuse *a, const char *name,
			      unsigned char *map)
{
	unsigned char *grown;
	char what[64];
	int err;

	grown = mremap(map, a->size, a->size + ABUSE_CHUNK, MREMAP_MAYMOVE);
	if (grown == MAP_FAILED) {
		err = errno;
		printf("abuse %s refused %s: mapping %s\n", name,
		       errno_name(err),
		       abuse_check(a, map, a->size, what, sizeof(what)));
		abuse_unmap(a, name, map, a->size);
		return;
	}
	printf("abuse %s allowed: grown mapping %s\n", name,
	       abuse_check(a, grown, a->size, what, sizeof(what)));
	abuse_unmap(a, name, grown, a->size + ABUSE_CHUNK);
}

static void abuse_dontneed(struct abuse *a, const char *name,
			   unsigned char *map)
{
	char what[64];
	int err;

	if (madvise(map, a->size, MADV_DONTNEED)) {
		err = errno;
		printf("abuse %s refused %s: mapping %s\n", name,
		       errno_name(err),
		       abuse_check(a, map, a->size, what, sizeof(what)));
	} else {
		printf("abuse %s allowed: data %s\n", name,
		       abuse_check(a, map, a->size, what, sizeof(what)));
	}
	abuse_unmap(a, name, map, a->size);
}

/* vmsplice() would let the pipe hold the mapping's pages. */
static void abuse_vmsplice(struct abuse *a, const char *name,
			   unsigned char *map)
{
	struct iovec iov = { .iov_base = map, .iov_len = ABUSE_CHUNK };
	unsigned char buf[ABUSE_CHUNK];
	ssize_t n, got;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		abuse_error(a, name, "pipe2", errno);
		abuse_unmap(a, name, map, a->size);
		return;
	}
	n = vmsplice(p[1], &iov, 1, SPLICE_F_NONBLOCK);
	if (n < 0) {
		printf("abuse %s refused %s\n", name, errno_name(errno));
	} else {
		got = read(p[0], buf, sizeof(buf));
		printf("abuse %s allowed: %zd bytes, %s\n", name, n,
		       got == n && !memcmp(buf, a->ref, n) ?
		       "the buffer's" : "other data");
	}
	close(p[0]);
	close(p[1]);
	abuse_unmap(a, name, map, a->size);
}

/* A block device's direct I/O would write into the mapping's pages. */
static void abuse_odirect(struct abuse *a, const char *name,
			  unsigned char *map)
{
	ssize_t n;
	int fd;

	fd = open(RAM_DISK_PATH, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			printf("abuse %s skipped: no " RAM_DISK_PATH "\n",
			       name);
		else
			abuse_error(a, name, "open " RAM_DISK_PATH, errno);
		abuse_unmap(a, name, map, a->size);
		return;
	}
	n = pread(fd, map, ABUSE_CHUNK, 0);
	if (n < 0)
		printf("abuse %s refused %s\n", name, errno_name(errno));
	else
		printf("abuse %s allowed: read %zd bytes into the mapping\n",
		       name, n);
	close(fd);
	abuse_unmap(a, name, map, a->size);
}

/* io_uring's fixed buffers pin the mapping's pages for the ring's life. */
static void abuse_iouring(struct abuse *a, const char *name,
			  unsigned char *map)
{
	struct iovec iov = { .iov_base = map, .iov_len = a->size };
	struct io_uring_params params;
	int ring;

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0) {
		/* A kernel without io_uring: rig-features tells. */
		printf("abuse %s skipped: io_uring_setup %s\n", name,
		       errno_name(errno));
		abuse_unmap(a, name, map, a->size);
		return;
	}
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		    &iov, 1) < 0) {
		printf("abuse %s refused %s\n", name, errno_name(errno));
	} else {
		syscall(__NR_io_uring_register, ring,
			IORING_UNREGISTER_BUFFERS, NULL, 0);
		printf("abuse %s allowed: registered\n", name);
	}
	close(ring);
	abuse_unmap(a, name, map, a->size);
}

static const struct abuse_attempt {
	const char *name;
	void (*run)(struct abuse *a, const char *name, unsigned char *map);
} abuse_attempts[] = {
	{ "dofork", abuse_dofork },
	{ "fork", abuse_fork },
	{ "mremap-move", abuse_mremap_move },
	{ "mremap-grow", abuse_mremap_grow },
	{ "dontneed", abuse_dontneed },
	{ "vmsplice", abuse_vmsplice },
	{ "odirect", abuse_odirect },
	{ "iouring", abuse_iouring },
};

#define NR_ABUSE_ATTEMPTS	ARRAY_SIZE(abuse_attempts)

/* --only NAME[,NAME...]: a bit per attempt to run. */
static unsigned int abuse_parse_only(const char *arg)
{
	char *list = strdup(arg), *tok, *save = NULL;
	unsigned int mask = 0;
	size_t i;

	if (!list)
		fail("abuse", ENOMEM, NULL);
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_ABUSE_ATTEMPTS; i++)
			if (!strcmp(tok, abuse_attempts[i].name))
				break;
		if (i == NR_ABUSE_ATTEMPTS)
			bad_arg("--only (see hdmabuf --help)", tok);
		mask |= 1u << i;
	}
	free(list);
	if (!mask)
		bad_arg("--only", arg);
	return mask;
}

static int cmd_abuse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rw", no_argument, NULL, OPT_RW },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int only = ~0u;
	struct hyper_dmabuf_import imp;
	struct hyper_dmabuf_id id;
	struct abuse a;
	struct mem_job job;
	unsigned char *map;
	int dev, c, rw = 0, wait_ms = 0, err;
	size_t i;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_RW:
			rw = 1;
			break;
		case OPT_WAIT:
			wait_ms = arg_ms("--wait", optarg, 0);
			break;
		case OPT_ONLY:
			only = abuse_parse_only(optarg);
			break;
		}
	}
	if (optind != argc - 1)
		usage_error("abuse needs one ID");
	arg_id(argv[optind], &id);
	dev = open_dev();
	err = import_retry(dev, &id, rw, wait_ms, &imp);
	if (err)
		fail("import", err, NULL);

	memset(&a, 0, sizeof(a));
	a.fd = imp.fd;
	a.size = imp.size;
	a.prot = PROT_READ | (rw ? PROT_WRITE : 0);
	if (a.size < ABUSE_CHUNK)
		fail("abuse", EINVAL, "the buffer is smaller than a page");
	printf("size %zu\n", a.size);
	a.ref = malloc(a.size);
	if (!a.ref)
		fail("abuse", ENOMEM, NULL);
	map = map_dmabuf(a.fd, a.size, a.prot);
	memset(&job, 0, sizeof(job));
	job.op = MEM_COPY;
	job.map = map;
	job.len = a.size;
	job.copy = a.ref;
	dmabuf_access(a.fd, &job, "read");
	munmap(map, a.size);

	for (i = 0; i < NR_ABUSE_ATTEMPTS; i++) {
		if (!(only & (1u << i)))
			continue;
		map = mmap(NULL, a.size, a.prot, MAP_SHARED, a.fd, 0);
		if (map == MAP_FAILED) {
			abuse_error(&a, abuse_attempts[i].name, "mmap", errno);
			continue;
		}
		abuse_attempts[i].run(&a, abuse_attempts[i].name, map);
	}
	free(a.ref);
	close(a.fd);
	close(dev);
	return a.status;
}

#define FILE_CHUNK	(1024 * 1024)

static int cmd_pattern_write(int argc, char **argv)
{
	unsigned long long size, off;
	unsigned char *buf;
	__u64 seed;
	size_t n;
	FILE *f;

	if (argc != 4)
		usage_error("pattern-write needs FILE SEED BYTES");
	seed = arg_u64("SEED", argv[2]);
	size = arg_size(argv[3]);
	buf = malloc(FILE_CHUNK);
	if (!buf)
		fail("pattern-write", ENOMEM, NULL);
	f = fopen(argv[1], "we");
	if (!f)
		fail("open", errno, argv[1]);
	for (off = 0; off < size; off += n) {
		n = size - off < FILE_CHUNK ? size - off : FILE_CHUNK;
		pattern_fill(buf, off, n, seed);
		if (fwrite(buf, 1, n, f) != n)
			fail("write", errno ? errno : EIO, argv[1]);
	}
	if (fclose(f))
		fail("write", errno, argv[1]);
	free(buf);
	printf("wrote %llu\n", size);
	return EXIT_OK;
}

static int cmd_pattern_check(int argc, char **argv)
{
	unsigned long long off = 0;
	char msg[PATH_MAX + 128];
	unsigned char *buf;
	size_t n, bad;
	__u64 seed;
	FILE *f;

	if (argc != 3)
		usage_error("pattern-check needs FILE SEED");
	seed = arg_u64("SEED", argv[2]);
	buf = malloc(FILE_CHUNK);
	if (!buf)
		fail("pattern-check", ENOMEM, NULL);
	f = fopen(argv[1], "re");
	if (!f)
		fail("open", errno, argv[1]);
	while ((n = fread(buf, 1, FILE_CHUNK, f)) > 0) {
		bad = pattern_check(buf, off, n, seed);
		if (bad != n) {
			printf("verify mismatch %llu\n", off + bad);
			snprintf(msg, sizeof(msg),
				 "%s differs from pattern %llu first at offset %llu",
				 argv[1], (unsigned long long)seed, off + bad);
			fail("verify", EBADMSG, msg);
		}
		off += n;
	}
	if (ferror(f))
		fail("read", EIO, argv[1]);
	fclose(f);
	free(buf);
	printf("verify ok %llu\n", off);
	return EXIT_OK;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "info", cmd_info, usage_info },
	{ "list", cmd_list, usage_list },
	{ "export", cmd_export, usage_export },
	{ "import", cmd_import, usage_import },
	{ "wait-event", cmd_wait_event, usage_wait_event },
	{ "watch", cmd_watch, usage_watch },
	{ "wait-release", cmd_wait_release, usage_wait_release },
	{ "query", cmd_query, usage_query },
	{ "guess", cmd_guess, usage_guess },
	{ "abuse", cmd_abuse, usage_abuse },
	{ "pattern-write", cmd_pattern_write, usage_pattern_write },
	{ "pattern-check", cmd_pattern_check, usage_pattern_check },
};

/* The usage of the running command, or of all before one runs. */
static void print_usage(FILE *f)
{
	size_t i;

	if (cmd_usage) {
		fputs("usage: hdmabuf [--bind ENDPOINT]\n", f);
		fputs(cmd_usage, f);
	} else {
		fputs(usage_head, f);
		for (i = 0; i < ARRAY_SIZE(commands); i++)
			fputs(commands[i].usage, f);
	}
	fputs(usage_tail, f);
}

static int is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fault_setup();
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--bind")) {
		if (argc < 4)
			usage_error("--bind needs an endpoint and a command");
		if (!*argv[2] || strlen(argv[2]) >= HYPER_DMABUF_ENDPOINT_LEN)
			bad_arg("endpoint", argv[2]);
		bind_endpoint = argv[2];
		argc -= 2;
		argv += 2;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		cmd_name = commands[i].name;
		cmd_usage = commands[i].usage;
		if (argc > 2 && is_help(argv[2])) {
			print_usage(stdout);
			return EXIT_OK;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	bad_arg("command (see hdmabuf --help)", argv[1]);
}
