// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer that knows the hyper_dmabuf UAPI.
 *
 * Eight threads share pools of open files, real dma-bufs (vgem), ids,
 * imports, mappings and fences, and throw well-formed and nearly
 * well-formed calls at them: every ioctl with valid ids and mutated
 * fields, bad flags, bad sizes, non-zero reserved fields and bad
 * pointers; read() and poll() of events; mmap, munmap and touches of
 * imported dma-bufs; the dma-buf's own sync ioctls; close, dup, dup2 and
 * fork.  The loopback backend is the peer, so exports come back as imports.
 *
 * Reproducible from a seed: call i of thread t draws everything it does
 * (the operation, the pool slots, every field) from (seed, t, i) alone, so
 * the same seed replays the same call sequence in every thread.  What a
 * call finds in the pools still depends on how the threads interleave.
 *
 * Environment (or kernel command line in the rig):
 *   HD_FUZZ_CALLS	calls in all (default 100000)
 *   HD_FUZZ_SEED	the seed (default: from the clock; always printed)
 *   HD_FUZZ_SECONDS	stop after this long even if calls remain (0: no limit)
 *   HD_FUZZ_THREADS	threads (default 8)
 *   HD_FUZZ_OPS		only these operations (names as in the report, comma
 *			separated), to narrow a failure down
 *
 * The run happens in a child process; when it ends, every file is closed
 * and the debugfs counters must come back to zero.  A call that must fail
 * (non-zero reserved field, unknown flag, dirty struct tail, bad pointer)
 * and succeeds fails the test; so does a hang or a crash of the child.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/sync_file.h>

#include "hdmabuf_util.h"

#define FZ_MAX_THREADS	32
#define FZ_DEVS		6
#define FZ_BUFS		12
#define FZ_IDS		48
#define FZ_IMPORTS	16
#define FZ_MAPS		16
#define FZ_FENCES	16
#define FZ_NERR		135	/* errno buckets; the last one is "other" */
#define FZ_EP		"fuzz"
#define FZ_EPS		"/sys/kernel/config/hyper_dmabuf/endpoints"
#define FZ_ARG_SIZE	16384	/* the largest _IOC_SIZE, and then some */
#define FZ_STALL_S	120	/* no call finished for this long: a hang */
#define FZ_NUDGE_S	10	/* a thread waiting this long is interrupted */

/* DRM_FORMAT_XRGB8888 */
#define FZ_XRGB8888	0x34325258u

enum fz_op {
	OP_EXPORT, OP_IMPORT, OP_UNEXPORT, OP_QUERY, OP_LIST, OP_INFO,
	OP_WAIT_RELEASED, OP_BIND, OP_PRESENT, OP_RELEASE_FRAME,
	OP_FRAME_FENCE, OP_BADCMD, OP_READ, OP_POLL, OP_MMAP, OP_MUNMAP,
	OP_TOUCH, OP_DMABUF, OP_OPEN, OP_CLOSE, OP_DUP, OP_NEWBUF, OP_FORK,
	OP_NR
};

/**
 * struct fz_shared - what the fuzzing child tells its parent (shared memory)
 * @calls: calls finished, per thread
 * @op: the operation each thread is in, or -1
 * @finished: each thread made its last call
 * @count: per thread, operation and errno bucket (0: success)
 * @violations: calls that must have failed but succeeded
 * @child_crashes: forked children that died of a signal
 * @nudges: waits interrupted because no other thread would end them
 * @done: the child finished its run
 */
struct fz_shared {
	unsigned long long calls[FZ_MAX_THREADS];
	int op[FZ_MAX_THREADS];
	int finished[FZ_MAX_THREADS];
	unsigned long long count[FZ_MAX_THREADS][OP_NR][FZ_NERR];
	unsigned long long violations;
	unsigned long long child_crashes;
	unsigned long long nudges;
	int done;
};

/**
 * struct fz_id - a known id and who exported it
 * @id: the id
 * @dev: the slot of the file that exported it, or -1 (seen in an event)
 * @seq: the latest frame sequence number presented of it
 * @ops: what succeeded on it: bits of enum fz_op and FZ_H_*
 */
struct fz_id {
	struct hyper_dmabuf_id id;
	int dev;
	__u64 seq;
	unsigned int ops;
};

/* History bits of struct fz_id beyond the operations. */
#define FZ_H_ODD_FD	0x10000000u	/* exported from a fd not vgem's */
#define FZ_H_IN_FENCE	0x20000000u	/* presented with an in-fence */
#define FZ_H_REL_FENCE	0x40000000u	/* released with a fence */

/**
 * struct fz_map - a mapping of a dma-buf
 * @addr: its address, or NULL
 * @len: its length
 */
struct fz_map {
	void *addr;
	size_t len;
};

/**
 * struct fz_pools - what the threads share
 * @lock: protects every array below (not what their fds refer to)
 * @dev: open files of /dev/hyper_dmabuf
 * @buf: vgem dma-bufs
 * @buf_size: their sizes
 * @ids: ids exported or announced
 * @imp: imported dma-bufs
 * @imp_size: their sizes
 * @map: mappings of imports and vgem buffers
 * @fence: sync_files of any fence
 * @afence: sync_files that may go into an import's dma_resv: arrival
 *	fences and what imports' reservations hold.  Not a release fence: on
 *	the loopback backend, where one kernel is both ends, a release fence
 *	in the import's reservation and a poll() of the import (which holds
 *	the dma-buf until the fence signals) wait for each other for ever.
 * @vmid: the loopback peer's VM id (this VM)
 * @vgem: the vgem card
 * @guard: a page that faults on any access
 * @edge: a writable page just before @guard
 * @have_ep: endpoint FZ_EP exists in configfs
 */
struct fz_pools {
	pthread_mutex_t lock;
	int dev[FZ_DEVS];
	int buf[FZ_BUFS];
	size_t buf_size[FZ_BUFS];
	struct fz_id ids[FZ_IDS];
	int imp[FZ_IMPORTS];
	size_t imp_size[FZ_IMPORTS];
	struct fz_map map[FZ_MAPS];
	int fence[FZ_FENCES];
	int afence[FZ_FENCES];
	__u32 vmid;
	int vgem;
	char *guard;
	char *edge;
	bool have_ep;
};

/**
 * struct fz_thread - one fuzzing thread
 * @idx: its number
 * @seed: its seed, from the run's
 * @calls: how many calls it makes
 * @deadline_ms: when to stop (0: never)
 * @rng: the state of the current call's generator
 * @must_fail: the current call has an argument the kernel must refuse
 * @why: what that argument is
 * @id_slot: the pool slot of the id the call uses unchanged, or -1
 * @hist: FZ_H_* bits to add to that id's history if the call succeeds
 * @sh: shared counters
 * @p: the pools
 * @thread: its pthread
 * @align: aligns @arg for any struct
 * @arg: room for any ioctl argument
 */
struct fz_thread {
	int idx;
	__u64 seed;
	unsigned long long calls;
	long long deadline_ms;
	__u64 rng;
	bool must_fail;
	const char *why;
	int id_slot;
	unsigned int hist;
	struct fz_shared *sh;
	struct fz_pools *p;
	pthread_t thread;
	union {
		__u64 align;
		unsigned char arg[FZ_ARG_SIZE];
	};
};

static __thread sigjmp_buf fz_jmp;
/* Set (atomically, for the signal handler) while a mapping is touched. */
static __thread int fz_in_touch;

/* ---- randomness ----------------------------------------------------- */

static __u64 fz_mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static __u64 fz_rand(struct fz_thread *t)
{
	t->rng = fz_mix(t->rng);
	return t->rng;
}

/* Record that the call must fail, and why (the first reason). */
static void fz_must_fail(struct fz_thread *t, const char *why)
{
	if (!t->must_fail)
		t->why = why;
	t->must_fail = true;
}

/* A number in [0, n). */
static __u32 fz_below(struct fz_thread *t, __u32 n)
{
	return n ? (__u32)(fz_rand(t) % n) : 0;
}

/* True with probability pct percent. */
static bool fz_pct(struct fz_thread *t, unsigned int pct)
{
	return fz_below(t, 100) < pct;
}

/* A value for a field: mostly @good, sometimes an edge or random value. */
static __u32 fz_u32(struct fz_thread *t, __u32 good)
{
	static const __u32 edges[] = { 0, 1, 0x7fffffff, 0x80000000,
				       0xffffffff, 4096, 4095 };

	switch (fz_below(t, 20)) {
	case 0:
		return edges[fz_below(t, ARRAY_SIZE(edges))];
	case 1:
		return (__u32)fz_rand(t);
	case 2:
		return good ^ (1u << fz_below(t, 32));
	default:
		return good;
	}
}

/* Must-be-zero: mostly zero, sometimes not (and then the call must fail). */
static __u64 fz_reserved(struct fz_thread *t, const char *name)
{
	if (!fz_pct(t, 3))
		return 0;
	fz_must_fail(t, name);
	return 1ull << fz_below(t, 64);
}

/* The same for a 32-bit field. */
static __u32 fz_reserved32(struct fz_thread *t, const char *name)
{
	if (!fz_pct(t, 3))
		return 0;
	fz_must_fail(t, name);
	return 1u << fz_below(t, 32);
}

/* Flags: mostly valid ones, sometimes an unknown bit (must fail). */
static __u32 fz_flags(struct fz_thread *t, __u32 valid)
{
	__u32 f = (__u32)fz_rand(t) & valid;
	__u32 bit;

	if (fz_pct(t, 4)) {
		bit = 1u << fz_below(t, 32);
		if (!(bit & valid)) {
			f |= bit;
			fz_must_fail(t, "an unknown flag");
		}
	}
	return f;
}

/* A user pointer for @len bytes at @good: sometimes NULL or faulting. */
static __u64 fz_uptr(struct fz_thread *t, void *good, size_t len)
{
	switch (fz_below(t, 40)) {
	case 0:
		if (len)
			fz_must_fail(t, "a NULL pointer");
		return 0;
	case 1:
		if (len)
			fz_must_fail(t, "a faulting pointer");
		return (uintptr_t)t->p->guard;
	case 2:
		/* the last byte falls into the guard page */
		if (len)
			fz_must_fail(t, "a pointer into a faulting page");
		return (uintptr_t)(t->p->edge + HD_PAGE_SIZE - len + 1);
	case 3:
		if (len)
			fz_must_fail(t, "a kernel pointer");
		return 0xffff800000000000ull;
	default:
		return (uintptr_t)good;
	}
}

/* ---- pools ---------------------------------------------------------- */

/*
 * The fd in a slot of @pool, or in the next slot that has one (mostly: an
 * empty slot's -1 is a bad fd worth trying too).
 */
static int fz_get_fd(struct fz_thread *t, const int *pool, int n)
{
	int i = fz_below(t, n), k, fd;
	bool any = fz_pct(t, 95);

	pthread_mutex_lock(&t->p->lock);
	fd = pool[i];
	for (k = 1; any && fd < 0 && k < n; k++)
		fd = pool[(i + k) % n];
	pthread_mutex_unlock(&t->p->lock);
	return fd;
}

static int fz_dev(struct fz_thread *t)
{
	return fz_get_fd(t, t->p->dev, FZ_DEVS);
}

/* Any fd of the pools, or a bad one. */
static int fz_any_fd(struct fz_thread *t)
{
	switch (fz_below(t, 8)) {
	case 0:
		return fz_dev(t);
	case 1:
	case 2:
		return fz_get_fd(t, t->p->buf, FZ_BUFS);
	case 3:
	case 4:
		return fz_get_fd(t, t->p->imp, FZ_IMPORTS);
	case 5:
		return fz_pct(t, 50) ? fz_get_fd(t, t->p->fence, FZ_FENCES) :
		       fz_get_fd(t, t->p->afence, FZ_FENCES);
	case 6:
		return -1;
	default:
		return (int)fz_below(t, 64);
	}
}

/* Put @fd into slot @slot of @pool; close what it evicts. */
static void fz_put_fd(struct fz_thread *t, int *pool, int slot, int fd)
{
	int old;

	pthread_mutex_lock(&t->p->lock);
	old = pool[slot];
	pool[slot] = fd;
	pthread_mutex_unlock(&t->p->lock);
	if (old >= 0)
		close(old);
}

/* Take the fd out of slot @slot of @pool: it is the caller's now. */
static int fz_take_fd(struct fz_thread *t, int *pool, int slot)
{
	int fd;

	pthread_mutex_lock(&t->p->lock);
	fd = pool[slot];
	pool[slot] = -1;
	pthread_mutex_unlock(&t->p->lock);
	return fd;
}

/* An id from the pool, sometimes forged; *slot is its pool slot. */
static void fz_id(struct fz_thread *t, struct hyper_dmabuf_id *id, int *slot,
		  int *dev)
{
	int i = fz_below(t, FZ_IDS);

	pthread_mutex_lock(&t->p->lock);
	*id = t->p->ids[i].id;
	if (dev)
		*dev = t->p->ids[i].dev;
	pthread_mutex_unlock(&t->p->lock);
	if (slot)
		*slot = i;
	t->id_slot = i;

	switch (fz_below(t, 24)) {
	case 0:
		id->key[fz_below(t, 3)] ^= 1u << fz_below(t, 32);
		break;
	case 1:
		id->seq += fz_pct(t, 50) ? 1 : -1;
		break;
	case 2:
		id->vmid = fz_u32(t, id->vmid ^ 1);
		break;
	case 3:
		id->reserved = fz_reserved32(t, "id.reserved");
		break;
	case 4:
		memset(id, 0, sizeof(*id));
		break;
	default:
		return;
	}
	t->id_slot = -1;
}

static void fz_put_id(struct fz_thread *t, int slot,
		      const struct hyper_dmabuf_id *id, int dev)
{
	pthread_mutex_lock(&t->p->lock);
	t->p->ids[slot].id = *id;
	t->p->ids[slot].dev = dev;
	t->p->ids[slot].seq = 0;
	t->p->ids[slot].ops = dev >= 0 ? 1u << OP_EXPORT | t->hist : 0;
	pthread_mutex_unlock(&t->p->lock);
}

/* The file that exported pool id @dev_slot mostly, else any. */
static int fz_owner(struct fz_thread *t, int dev_slot)
{
	int fd;

	if (dev_slot < 0 || fz_pct(t, 25))
		return fz_dev(t);
	pthread_mutex_lock(&t->p->lock);
	fd = t->p->dev[dev_slot];
	pthread_mutex_unlock(&t->p->lock);
	return fd;
}

static void fz_close_map(struct fz_map *m)
{
	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = NULL;
}

/* ---- calls ---------------------------------------------------------- */

static void fz_count(struct fz_thread *t, enum fz_op op, int ret)
{
	int e = ret < 0 ? -ret : 0;

	if (e >= FZ_NERR)
		e = FZ_NERR - 1;
	t->sh->count[t->idx][op][e]++;
}

/*
 * Issue ioctl @cmd with the @size bytes at t->arg, sometimes with its
 * size, direction or pointer mutated.  Returns 0 or -errno; *@intact says
 * whether the kernel was given the whole, real struct (outputs valid).
 */
static int fz_ioctl(struct fz_thread *t, int fd, unsigned long cmd,
		    size_t size, bool *intact)
{
	unsigned int dir = _IOC_DIR(cmd), nr = _IOC_NR(cmd);
	size_t usize = size;
	void *arg = t->arg;
	int ret;

	*intact = true;
	memset(t->arg + size, 0, 128);
	switch (fz_below(t, 48)) {
	case 0:		/* an older program's shorter struct */
		usize = fz_below(t, size);
		*intact = false;
		/* what made the call wrong may be in the part cut off */
		t->must_fail = false;
		break;
	case 1:		/* a newer program's longer struct, tail zero */
		usize = size + 1 + fz_below(t, 120);
		break;
	case 2:		/* a newer program's longer struct, tail not zero */
		usize = size + 1 + fz_below(t, 120);
		t->arg[size + fz_below(t, usize - size)] = 0x5a;
		fz_must_fail(t, "a dirty struct tail");
		*intact = false;
		break;
	case 3:		/* another direction */
		dir = (dir + 1 + fz_below(t, 3)) & 3;
		fz_must_fail(t, "another direction");
		*intact = false;
		break;
	case 4:		/* no argument */
		arg = NULL;
		fz_must_fail(t, "no argument");
		*intact = false;
		break;
	case 5:		/* the struct runs into a page that faults */
		arg = t->p->edge + HD_PAGE_SIZE - size + 1 + fz_below(t, size);
		memcpy(arg, t->arg, t->p->edge + HD_PAGE_SIZE - (char *)arg);
		fz_must_fail(t, "a struct running into a faulting page");
		*intact = false;
		break;
	default:
		break;
	}
	cmd = _IOC(dir, HYPER_DMABUF_IOC_MAGIC, nr, usize);
	ret = ioctl(fd, cmd, arg) ? -errno : 0;
	return ret;
}

static int fz_export(struct fz_thread *t)
{
	struct hyper_dmabuf_export *e = (void *)t->arg;
	static __thread unsigned char priv[HYPER_DMABUF_PRIV_MAX + 64];
	int slot = fz_below(t, FZ_IDS), devslot = fz_below(t, FZ_DEVS);
	int b = fz_below(t, FZ_BUFS), dev, ret;
	size_t size;
	bool intact;

	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&t->p->lock);
	dev = t->p->dev[devslot];
	e->fd = t->p->buf[b];
	size = t->p->buf_size[b];
	pthread_mutex_unlock(&t->p->lock);
	if (fz_pct(t, 10)) {
		e->fd = fz_any_fd(t);
		t->hist |= FZ_H_ODD_FD;
	}
	e->flags = fz_flags(t, HYPER_DMABUF_EXPORT_FLAGS);
	e->remote_vmid = fz_pct(t, 92) ? t->p->vmid :
			 fz_pct(t, 50) ? HD_UNREACHABLE_VMID :
			 fz_u32(t, HYPER_DMABUF_VMID_INVALID);
	if (fz_pct(t, 30)) {
		e->priv_len = fz_below(t, HYPER_DMABUF_PRIV_MAX + 1);
		if (fz_pct(t, 3)) {
			e->priv_len = HYPER_DMABUF_PRIV_MAX + 1 +
				      fz_below(t, 64);
			fz_must_fail(t, "oversized metadata");
		}
		memset(priv, (int)fz_below(t, 256), sizeof(priv));
		e->priv = fz_uptr(t, priv, e->priv_len);
	}
	e->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	switch (fz_below(t, 8)) {
	case 0:
		if (t->p->have_ep)
			strcpy(e->endpoint, FZ_EP);
		break;
	case 1:
		strcpy(e->endpoint, "nosuch");
		break;
	case 2:		/* not terminated */
		memset(e->endpoint, 'a' + fz_below(t, 26),
		       sizeof(e->endpoint));
		break;
	default:
		break;
	}
	if (fz_pct(t, 30) && size >= HD_PAGE_SIZE) {
		e->image.fourcc = FZ_XRGB8888;
		e->image.width = fz_u32(t, HD_PAGE_SIZE / 4);
		e->image.height = fz_u32(t, size / HD_PAGE_SIZE);
		e->image.pitch[0] = fz_u32(t, HD_PAGE_SIZE);
		e->image.offset[fz_below(t, 4)] = fz_u32(t, 0);
		e->image.reserved = fz_reserved32(t, "image.reserved");
		if (fz_pct(t, 3))
			e->image.modifier = fz_rand(t);
		if (fz_pct(t, 3))
			e->image.fourcc = fz_u32(t, FZ_XRGB8888);
	}

	ret = fz_ioctl(t, dev, HYPER_DMABUF_IOCTL_EXPORT, sizeof(*e), &intact);
	if (!ret && intact)
		fz_put_id(t, slot, &e->id, devslot);
	return ret;
}

static int fz_import(struct fz_thread *t)
{
	struct hyper_dmabuf_import *im = (void *)t->arg;
	int slot = fz_below(t, FZ_IMPORTS), dev = fz_dev(t), ret;
	bool intact;

	memset(im, 0, sizeof(*im));
	fz_id(t, &im->id, NULL, NULL);
	im->flags = (fz_pct(t, 50) ? O_RDWR : O_RDONLY) |
		    (fz_pct(t, 80) ? O_CLOEXEC : 0);
	if (fz_pct(t, 4)) {
		im->flags |= 1u << fz_below(t, 32);
		if (im->flags & ~(O_CLOEXEC | O_ACCMODE))
			fz_must_fail(t, "an unknown import flag");
	}
	im->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	ret = fz_ioctl(t, dev, HYPER_DMABUF_IOCTL_IMPORT, sizeof(*im),
		       &intact);
	if (!ret && intact) {
		fz_put_fd(t, t->p->imp, slot, im->fd);
		pthread_mutex_lock(&t->p->lock);
		t->p->imp_size[slot] = im->size;
		pthread_mutex_unlock(&t->p->lock);
	}
	return ret;
}

static int fz_unexport(struct fz_thread *t)
{
	struct hyper_dmabuf_unexport *u = (void *)t->arg;
	int devslot;
	bool intact;

	memset(u, 0, sizeof(*u));
	fz_id(t, &u->id, NULL, &devslot);
	switch (fz_below(t, 10)) {
	case 0:
	case 1:
		u->delay_ms = 1 + fz_below(t, 100);
		break;
	case 2:
		u->delay_ms = fz_pct(t, 90) ? 1000 + fz_below(t, 2000) :
			      fz_u32(t, HYPER_DMABUF_UNEXPORT_DELAY_MAX);
		if (u->delay_ms > HYPER_DMABUF_UNEXPORT_DELAY_MAX)
			fz_must_fail(t, "an unexport delay past the maximum");
		break;
	default:
		break;
	}
	u->flags = fz_flags(t, HYPER_DMABUF_UNEXPORT_FLAGS);
	u->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	return fz_ioctl(t, fz_owner(t, devslot), HYPER_DMABUF_IOCTL_UNEXPORT,
			sizeof(*u), &intact);
}

static int fz_query(struct fz_thread *t)
{
	struct hyper_dmabuf_query *q = (void *)t->arg;
	static __thread unsigned char priv[HYPER_DMABUF_PRIV_MAX];
	bool intact;

	memset(q, 0, sizeof(*q));
	fz_id(t, &q->id, NULL, NULL);
	if (fz_pct(t, 50)) {
		q->priv_len = fz_below(t, HYPER_DMABUF_PRIV_MAX + 1);
		/* A bad pointer need not fail: nothing may be copied. */
		q->priv = fz_uptr(t, priv, 0);
		if (fz_pct(t, 5))
			q->priv_len = fz_u32(t, q->priv_len);
	}
	q->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	if (fz_pct(t, 5))
		q->status = (__u32)fz_rand(t);
	return fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_QUERY, sizeof(*q),
			&intact);
}

static int fz_list(struct fz_thread *t)
{
	struct hyper_dmabuf_list *l = (void *)t->arg;
	static __thread struct hyper_dmabuf_id ids[FZ_IDS * 2];
	bool intact;

	memset(l, 0, sizeof(*l));
	l->count = fz_below(t, FZ_IDS * 2 + 1);
	/* A bad pointer fails only when something is to be copied. */
	l->ids = fz_uptr(t, ids, 0);
	if (fz_pct(t, 5))
		l->count = fz_u32(t, l->count);
	l->flags = fz_flags(t, 0);
	l->reserved = fz_reserved(t, "reserved");
	return fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_LIST, sizeof(*l),
			&intact);
}

static int fz_info(struct fz_thread *t)
{
	struct hyper_dmabuf_info *in = (void *)t->arg;
	static __thread struct hyper_dmabuf_peer peers[8];
	bool intact;

	memset(in, 0, sizeof(*in));
	in->nr_peers = fz_u32(t, fz_below(t, 9));
	in->peers = fz_uptr(t, peers, 0);
	if (fz_pct(t, 5))
		in->vmid = (__u32)fz_rand(t);
	in->flags = fz_flags(t, 0);
	in->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	return fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_INFO, sizeof(*in),
			&intact);
}

static int fz_wait_released(struct fz_thread *t)
{
	struct hyper_dmabuf_wait_released *w = (void *)t->arg;
	int devslot;
	bool intact;

	memset(w, 0, sizeof(*w));
	fz_id(t, &w->id, NULL, &devslot);
	w->timeout_ms = fz_pct(t, 70) ? 0 : fz_pct(t, 95) ? fz_below(t, 10) :
			fz_below(t, 200);
	w->flags = fz_flags(t, 0);
	w->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	return fz_ioctl(t, fz_owner(t, devslot),
			HYPER_DMABUF_IOCTL_WAIT_RELEASED, sizeof(*w), &intact);
}

static int fz_bind(struct fz_thread *t)
{
	struct hyper_dmabuf_bind *b = (void *)t->arg;
	bool intact;

	memset(b, 0, sizeof(*b));
	switch (fz_below(t, 6)) {
	case 0:
	case 1:
		strcpy(b->endpoint, FZ_EP);
		break;
	case 2:
		strcpy(b->endpoint, fz_pct(t, 50) ? ".hidden" : "nosuch");
		break;
	case 3:
		memset(b->endpoint, 'a' + fz_below(t, 26), sizeof(b->endpoint));
		break;
	case 4:
		b->endpoint[0] = (char)fz_rand(t);
		b->endpoint[1] = (char)fz_rand(t);
		break;
	default:
		break;	/* the default endpoint, by name */
	}
	b->flags = fz_flags(t, 0);
	b->reserved[fz_below(t, 3)] = fz_reserved32(t, "reserved");
	return fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_BIND, sizeof(*b),
			&intact);
}

static void fz_damage(struct fz_thread *t, struct hyper_dmabuf_rect *r,
		      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		r[i].x = fz_u32(t, fz_below(t, 1024));
		r[i].y = fz_u32(t, fz_below(t, 16));
		r[i].width = fz_u32(t, 1 + fz_below(t, 1024 - r[i].x));
		r[i].height = fz_u32(t, 1 + fz_below(t, 16 - r[i].y));
	}
}

static int fz_present(struct fz_thread *t)
{
	struct hyper_dmabuf_present *pr = (void *)t->arg;
	static __thread struct hyper_dmabuf_rect damage[HYPER_DMABUF_MAX_DAMAGE + 4];
	int slot, devslot, fslot = fz_below(t, FZ_FENCES), ret;
	bool intact;
	__u64 seq;

	memset(pr, 0, sizeof(*pr));
	fz_id(t, &pr->id, &slot, &devslot);
	pthread_mutex_lock(&t->p->lock);
	seq = t->p->ids[slot].seq;
	pthread_mutex_unlock(&t->p->lock);
	switch (fz_below(t, 16)) {
	case 0:
		pr->seq = seq;
		break;
	case 1:
		pr->seq = fz_pct(t, 50) ? 0 : ~0ull;
		break;
	default:
		pr->seq = seq + 1 + fz_below(t, 3);
		break;
	}
	pr->flags = fz_flags(t, HYPER_DMABUF_PRESENT_FLAGS);
	if (pr->flags & HYPER_DMABUF_PRESENT_IN_FENCE)
		t->hist |= FZ_H_IN_FENCE;
	pr->in_fence_fd = fz_pct(t, 80) ?
			  fz_get_fd(t, fz_pct(t, 50) ? t->p->fence : t->p->afence,
				    FZ_FENCES) : fz_any_fd(t);
	if (fz_pct(t, 5))
		pr->release_fence_fd = (__s32)fz_rand(t);
	if (fz_pct(t, 30)) {
		pr->nr_damage = 1 + fz_below(t, HYPER_DMABUF_MAX_DAMAGE);
		if (fz_pct(t, 5)) {
			pr->nr_damage = HYPER_DMABUF_MAX_DAMAGE + 1 +
					fz_below(t, 3);
			fz_must_fail(t, "too many damage rectangles");
		}
		fz_damage(t, damage, pr->nr_damage);
		pr->damage = fz_uptr(t, damage,
				     pr->nr_damage * sizeof(damage[0]));
	}
	pr->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	ret = fz_ioctl(t, fz_owner(t, devslot), HYPER_DMABUF_IOCTL_PRESENT,
		       sizeof(*pr), &intact);
	if (!ret && intact) {
		pthread_mutex_lock(&t->p->lock);
		if (t->p->ids[slot].seq < pr->seq)
			t->p->ids[slot].seq = pr->seq;
		pthread_mutex_unlock(&t->p->lock);
		if (pr->flags & HYPER_DMABUF_PRESENT_RELEASE_FENCE)
			fz_put_fd(t, t->p->fence, fslot, pr->release_fence_fd);
	}
	return ret;
}

static int fz_release_frame(struct fz_thread *t)
{
	struct hyper_dmabuf_release_frame *r = (void *)t->arg;
	int slot;
	bool intact;

	memset(r, 0, sizeof(*r));
	fz_id(t, &r->id, &slot, NULL);
	pthread_mutex_lock(&t->p->lock);
	r->seq = t->p->ids[slot].seq;
	pthread_mutex_unlock(&t->p->lock);
	if (fz_pct(t, 10))
		r->seq += fz_pct(t, 50) ? 1 : -1;
	r->flags = fz_flags(t, HYPER_DMABUF_RELEASE_FLAGS);
	if (r->flags & HYPER_DMABUF_RELEASE_FENCE)
		t->hist |= FZ_H_REL_FENCE;
	r->fence_fd = fz_pct(t, 80) ?
		      fz_get_fd(t, fz_pct(t, 50) ? t->p->fence : t->p->afence,
				FZ_FENCES) : fz_any_fd(t);
	r->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	return fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_RELEASE_FRAME,
			sizeof(*r), &intact);
}

static int fz_frame_fence(struct fz_thread *t)
{
	struct hyper_dmabuf_frame_fence *f = (void *)t->arg;
	int fslot = fz_below(t, FZ_FENCES), ret;
	bool intact;

	memset(f, 0, sizeof(*f));
	fz_id(t, &f->id, NULL, NULL);
	f->flags = fz_flags(t, 0);
	if (fz_pct(t, 5))
		f->fence_fd = (__s32)fz_rand(t);
	f->reserved[fz_below(t, 2)] = fz_reserved(t, "reserved");
	ret = fz_ioctl(t, fz_dev(t), HYPER_DMABUF_IOCTL_FRAME_FENCE,
		       sizeof(*f), &intact);
	if (!ret && intact)
		fz_put_fd(t, t->p->afence, fslot, f->fence_fd);
	return ret;
}

/* Commands that do not exist: ENOTTY, always. */
static int fz_badcmd(struct fz_thread *t)
{
	unsigned int dir = fz_below(t, 4), size = fz_below(t, 1 << 14);
	unsigned int nr = 0x0b + fz_below(t, 0x100 - 0x0b);
	unsigned long cmd;
	int ret;

	if (fz_pct(t, 20))
		nr = fz_below(t, 0x0b) | 0x100;	/* a valid nr, other magic */
	cmd = _IOC(dir, nr >> 8 ? HYPER_DMABUF_IOC_MAGIC + 1 :
		   HYPER_DMABUF_IOC_MAGIC, nr & 0xff, size);
	memset(t->arg, 0, size);
	ret = ioctl(fz_dev(t), cmd, t->arg) ? -errno : 0;
	if (ret != -ENOTTY && ret != -EBADF)
		fz_must_fail(t, "an unknown command");
	return ret;
}

static int fz_read(struct fz_thread *t)
{
	static __thread struct hyper_dmabuf_event ev[3];
	int slot = fz_below(t, FZ_IDS);
	size_t len = sizeof(ev[0]) * (1 + fz_below(t, 3));
	void *buf = ev;
	ssize_t n;

	switch (fz_below(t, 12)) {
	case 0:
		len = fz_below(t, sizeof(ev[0]));
		break;
	case 1:
		buf = (void *)(uintptr_t)fz_uptr(t, ev, sizeof(ev[0]));
		len = sizeof(ev[0]);
		t->must_fail = false;	/* no event, no fault */
		break;
	default:
		break;
	}
	n = read(fz_dev(t), buf, len);
	if (n < 0)
		return -errno;
	if (buf == ev && n >= (ssize_t)sizeof(ev[0]) &&
	    ev[0].type == HYPER_DMABUF_EVENT_NEW)
		fz_put_id(t, slot, &ev[0].id, -1);
	return 0;
}

static int fz_poll(struct fz_thread *t)
{
	struct pollfd pfd[3];
	unsigned int i, n = 1 + fz_below(t, 3);
	int ret;

	for (i = 0; i < n; i++) {
		pfd[i].fd = fz_any_fd(t);
		pfd[i].events = POLLIN | POLLOUT | POLLPRI;
	}
	ret = poll(pfd, n, fz_pct(t, 90) ? 0 : 1);
	return ret < 0 ? -errno : 0;
}

static int fz_mmap(struct fz_thread *t)
{
	int mslot = fz_below(t, FZ_MAPS), i = fz_below(t, FZ_IMPORTS);
	bool imp = fz_pct(t, 75);
	int prot = fz_pct(t, 50) ? PROT_READ : PROT_READ | PROT_WRITE;
	int flags = fz_pct(t, 95) ? MAP_SHARED : MAP_PRIVATE;
	struct fz_map old;
	off_t off = 0;
	size_t size;
	void *addr;
	int fd;

	pthread_mutex_lock(&t->p->lock);
	fd = imp ? t->p->imp[i] : t->p->buf[i % FZ_BUFS];
	size = imp ? t->p->imp_size[i] : t->p->buf_size[i % FZ_BUFS];
	pthread_mutex_unlock(&t->p->lock);
	if (!size)
		size = HD_PAGE_SIZE;
	switch (fz_below(t, 10)) {
	case 0:
		size += HD_PAGE_SIZE * (1 + fz_below(t, 2));
		break;
	case 1:
		off = HD_PAGE_SIZE * fz_below(t, size / HD_PAGE_SIZE + 2);
		break;
	case 2:
		size = 1 + fz_below(t, size);
		break;
	default:
		break;
	}
	addr = mmap(NULL, size, prot, flags, fd, off);
	if (addr == MAP_FAILED)
		return -errno;
	pthread_mutex_lock(&t->p->lock);
	old = t->p->map[mslot];
	t->p->map[mslot].addr = addr;
	t->p->map[mslot].len = size;
	pthread_mutex_unlock(&t->p->lock);
	fz_close_map(&old);
	return 0;
}

static int fz_munmap(struct fz_thread *t)
{
	int mslot = fz_below(t, FZ_MAPS);
	struct fz_map m;

	pthread_mutex_lock(&t->p->lock);
	m = t->p->map[mslot];
	t->p->map[mslot].addr = NULL;
	pthread_mutex_unlock(&t->p->lock);
	if (!m.addr)
		return -ENOENT;
	return munmap(m.addr, m.len) ? -errno : 0;
}

static void fz_fault(int sig)
{
	if (__atomic_load_n(&fz_in_touch, __ATOMIC_SEQ_CST))
		siglongjmp(fz_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read and write a mapping's first and last bytes; faults are counted. */
/* Read a byte of a mapping, and maybe write it back changed. */
static void fz_poke(unsigned char *c, bool write)
{
	unsigned char v = __atomic_load_n(c, __ATOMIC_RELAXED);

	if (write)
		__atomic_store_n(c, v + 1, __ATOMIC_RELAXED);
}

static int fz_touch_map(struct fz_thread *t, struct fz_map *m)
{
	unsigned char *c = m->addr;
	bool write = fz_pct(t, 50);
	int sig;

	sig = sigsetjmp(fz_jmp, 1);
	if (sig) {
		__atomic_store_n(&fz_in_touch, 0, __ATOMIC_SEQ_CST);
		return sig == SIGBUS ? -EIO : -EFAULT;
	}
	__atomic_store_n(&fz_in_touch, 1, __ATOMIC_SEQ_CST);
	fz_poke(c, write);
	fz_poke(c + m->len - 1, write);
	__atomic_store_n(&fz_in_touch, 0, __ATOMIC_SEQ_CST);
	return 0;
}

static int fz_touch(struct fz_thread *t)
{
	int mslot = fz_below(t, FZ_MAPS), ret = -ENOENT;
	struct fz_map *m;

	/* Under the lock: no thread may unmap it meanwhile. */
	pthread_mutex_lock(&t->p->lock);
	m = &t->p->map[mslot];
	if (m->addr)
		ret = fz_touch_map(t, m);
	pthread_mutex_unlock(&t->p->lock);
	return ret;
}

/* The dma-buf's own ioctls on imports: sync, and fences in and out. */
static int fz_dmabuf(struct fz_thread *t)
{
	bool imp = fz_pct(t, 80);
	int fd = imp ? fz_get_fd(t, t->p->imp, FZ_IMPORTS) :
		 fz_get_fd(t, t->p->buf, FZ_BUFS);
	int *fences = imp || fz_pct(t, 50) ? t->p->afence : t->p->fence;
	int fslot = fz_below(t, FZ_FENCES);
	struct dma_buf_export_sync_file ex;
	struct dma_buf_import_sync_file im;
	struct dma_buf_sync sync;
	int ret;

	switch (fz_below(t, 3)) {
	case 0:
		memset(&sync, 0, sizeof(sync));
		sync.flags = (fz_pct(t, 50) ? DMA_BUF_SYNC_START :
			      DMA_BUF_SYNC_END) | (1 + fz_below(t, 3));
		return hd_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	case 1:
		memset(&ex, 0, sizeof(ex));
		ex.flags = 1 + fz_below(t, 3);
		ex.fd = -1;
		ret = hd_ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &ex);
		if (!ret)
			fz_put_fd(t, fences, fslot, ex.fd);
		return ret;
	default:
		memset(&im, 0, sizeof(im));
		im.flags = 1 + fz_below(t, 3);
		im.fd = fz_get_fd(t, fences, FZ_FENCES);
		return hd_ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &im);
	}
}

static int fz_open(struct fz_thread *t)
{
	int slot = fz_below(t, FZ_DEVS), fd;

	fd = open(HD_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	fz_put_fd(t, t->p->dev, slot, fd);
	return 0;
}

static int *fz_pool_of(struct fz_thread *t, unsigned int which, int *n)
{
	switch (which) {
	case 0:
		*n = FZ_DEVS;
		return t->p->dev;
	case 1:
		*n = FZ_BUFS;
		return t->p->buf;
	case 2:
		*n = FZ_IMPORTS;
		return t->p->imp;
	case 3:
		*n = FZ_FENCES;
		return t->p->fence;
	default:
		*n = FZ_FENCES;
		return t->p->afence;
	}
}

static int fz_close(struct fz_thread *t)
{
	/* imports and fences mostly: files and buffers are fewer */
	static const unsigned int pools[] = { 0, 1, 2, 2, 2, 3, 3, 4 };
	unsigned int which = pools[fz_below(t, 8)];
	int n, *pool = fz_pool_of(t, which, &n);
	int fd = fz_take_fd(t, pool, fz_below(t, n));

	if (fd < 0)
		return -EBADF;
	return close(fd) ? -errno : 0;
}

/* dup, or dup2 over another fd of the pools (the target's slot is ours). */
static int fz_dup(struct fz_thread *t)
{
	unsigned int which = fz_below(t, 5);
	int n, *pool = fz_pool_of(t, which, &n);
	int src = fz_get_fd(t, pool, n), dslot = fz_below(t, n);
	int m, *tpool = fz_pool_of(t, fz_below(t, 5), &m);
	int target, tslot, fd;

	if (fz_pct(t, 50)) {
		fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	} else {
		tslot = fz_below(t, m);
		target = fz_take_fd(t, tpool, tslot);
		if (target < 0)
			return -EBADF;
		if (target == src) {
			/* the same slot: nothing to do, and no fd to lose */
			fz_put_fd(t, tpool, tslot, target);
			return -EINVAL;
		}
		fd = dup3(src, target, O_CLOEXEC);
		if (fd < 0)
			close(target);
	}
	if (fd < 0)
		return -errno;
	fz_put_fd(t, pool, dslot, fd);
	return 0;
}

static int fz_newbuf(struct fz_thread *t)
{
	int slot = fz_below(t, FZ_BUFS);
	size_t size = HD_PAGE_SIZE * (1 + fz_below(t, 16));
	struct hd_vbuf b;
	int ret;

	if (fz_pct(t, 10))
		size = 1 + fz_below(t, 3 * HD_PAGE_SIZE);
	ret = hd_vbuf_create(t->p->vgem, size, &b);
	if (ret)
		return ret;
	munmap(b.map, b.size);
	b.map = NULL;
	/* the dma-buf alone keeps the buffer */
	hd_vgem_close_handle(b.vgem, b.handle);
	b.handle = 0;
	pthread_mutex_lock(&t->p->lock);
	t->p->buf_size[slot] = b.size;
	pthread_mutex_unlock(&t->p->lock);
	fz_put_fd(t, t->p->buf, slot, b.fd);
	return 0;
}

/*
 * A child that inherits the pools' fds and mappings, makes a few calls on
 * them and exits (system calls only: other threads may hold locks).
 */
static void fz_child(struct fz_thread *t, const int *fds, int nfds,
		     const struct hyper_dmabuf_id *ids, struct fz_map *maps)
{
	struct hyper_dmabuf_import im;
	struct hyper_dmabuf_unexport u;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_event ev;
	struct fz_map *m;
	int i, fd;

	for (i = 0; i < 16; i++) {
		fd = fds[fz_below(t, nfds)];
		switch (fz_below(t, 6)) {
		case 0:
			memset(&im, 0, sizeof(im));
			im.id = ids[fz_below(t, 4)];
			im.flags = O_RDWR;
			ioctl(fd, HYPER_DMABUF_IOCTL_IMPORT, &im);
			break;
		case 1:
			memset(&u, 0, sizeof(u));
			u.id = ids[fz_below(t, 4)];
			u.flags = fz_below(t, 2);
			ioctl(fd, HYPER_DMABUF_IOCTL_UNEXPORT, &u);
			break;
		case 2:
			memset(&q, 0, sizeof(q));
			q.id = ids[fz_below(t, 4)];
			ioctl(fd, HYPER_DMABUF_IOCTL_QUERY, &q);
			break;
		case 3:
			if (read(fd, &ev, sizeof(ev)) < 0)
				break;
			break;
		case 4:
			m = &maps[fz_below(t, 4)];
			if (m->addr)
				fz_touch_map(t, m);
			break;
		default:
			close(fd);
			break;
		}
	}
	_exit(0);
}

static int fz_fork(struct fz_thread *t)
{
	struct hyper_dmabuf_id ids[4];
	struct fz_map maps[4];
	int fds[8], i, status;
	pid_t pid;

	pthread_mutex_lock(&t->p->lock);
	for (i = 0; i < 8; i++)
		fds[i] = i < 4 ? t->p->dev[fz_below(t, FZ_DEVS)] :
			 t->p->imp[fz_below(t, FZ_IMPORTS)];
	for (i = 0; i < 4; i++) {
		ids[i] = t->p->ids[fz_below(t, FZ_IDS)].id;
		maps[i] = t->p->map[fz_below(t, FZ_MAPS)];
	}
	/* The lock is held across fork: the child's maps are the snapshot. */
	pid = fork();
	if (!pid)
		fz_child(t, fds, 8, ids, maps);
	pthread_mutex_unlock(&t->p->lock);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		__atomic_add_fetch(&t->sh->child_crashes, 1, __ATOMIC_RELAXED);
		return -ECHILD;
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned int weight;
	int (*fn)(struct fz_thread *t);
} fz_ops[OP_NR] = {
	[OP_EXPORT]		= { "EXPORT",		12, fz_export },
	[OP_IMPORT]		= { "IMPORT",		12, fz_import },
	[OP_UNEXPORT]		= { "UNEXPORT",		8, fz_unexport },
	[OP_QUERY]		= { "QUERY",		6, fz_query },
	[OP_LIST]		= { "LIST",		4, fz_list },
	[OP_INFO]		= { "INFO",		2, fz_info },
	[OP_WAIT_RELEASED]	= { "WAIT_RELEASED",	4, fz_wait_released },
	[OP_BIND]		= { "BIND",		1, fz_bind },
	[OP_PRESENT]		= { "PRESENT",		9, fz_present },
	[OP_RELEASE_FRAME]	= { "RELEASE_FRAME",	7, fz_release_frame },
	[OP_FRAME_FENCE]	= { "FRAME_FENCE",	4, fz_frame_fence },
	[OP_BADCMD]		= { "bad-cmd",		2, fz_badcmd },
	[OP_READ]		= { "read",		6, fz_read },
	[OP_POLL]		= { "poll",		3, fz_poll },
	[OP_MMAP]		= { "mmap",		5, fz_mmap },
	[OP_MUNMAP]		= { "munmap",		3, fz_munmap },
	[OP_TOUCH]		= { "touch",		4, fz_touch },
	[OP_DMABUF]		= { "dma-buf-ioctl",	3, fz_dmabuf },
	[OP_OPEN]		= { "open",		1, fz_open },
	[OP_CLOSE]		= { "close",		5, fz_close },
	[OP_DUP]		= { "dup",		2, fz_dup },
	[OP_NEWBUF]		= { "vgem-buf",		2, fz_newbuf },
	[OP_FORK]		= { "fork",		1, fz_fork },
};

/* Weights of the operations; HD_FUZZ_OPS=NAME,NAME... keeps only those. */
static unsigned int fz_weight[OP_NR];

static void fz_weights(const char *only)
{
	char list[512], name[32];
	unsigned int i;

	snprintf(list, sizeof(list), ",%s,", only ? only : "");
	for (i = 0; i < OP_NR; i++) {
		snprintf(name, sizeof(name), ",%s,", fz_ops[i].name);
		fz_weight[i] = !only || !*only || strstr(list, name) ?
			       fz_ops[i].weight : 0;
	}
}

static enum fz_op fz_pick(struct fz_thread *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < OP_NR; i++)
		total += fz_weight[i];
	r = fz_below(t, total);
	for (i = 0; i < OP_NR; i++) {
		if (r < fz_weight[i])
			return i;
		r -= fz_weight[i];
	}
	return OP_QUERY;
}

static void fz_nothing(int sig)
{
}

static void *fz_thread_main(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long long i;
	enum fz_op op;
	int ret;

	for (i = 0; i < t->calls; i++) {
		if (t->deadline_ms && !(i & 63) && hd_now_ms() >= t->deadline_ms)
			break;
		/* Call i draws from (seed, thread, i) alone. */
		t->rng = fz_mix(t->seed ^ fz_mix(i));
		t->must_fail = false;
		t->id_slot = -1;
		t->hist = 0;
		op = fz_pick(t);
		t->sh->op[t->idx] = op;
		ret = fz_ops[op].fn(t);
		fz_count(t, op, ret);
		if (!ret && t->id_slot >= 0) {
			pthread_mutex_lock(&t->p->lock);
			t->p->ids[t->id_slot].ops |= 1u << op | t->hist;
			pthread_mutex_unlock(&t->p->lock);
		}
		if (!ret && t->must_fail) {
			__atomic_add_fetch(&t->sh->violations, 1,
					   __ATOMIC_RELAXED);
			fprintf(stderr,
				"# fuzz: thread %d call %llu: %s succeeded with %s\n",
				t->idx, i, fz_ops[op].name, t->why);
		}
		t->sh->calls[t->idx] = i + 1;
	}
	t->sh->op[t->idx] = -1;
	t->sh->finished[t->idx] = 1;
	return NULL;
}

/* ---- setup and the run ---------------------------------------------- */

static int fz_endpoint_add(void)
{
	if (mkdir(FZ_EPS "/" FZ_EP, 0755) && errno != EEXIST)
		return -errno;
	return hd_write_file(FZ_EPS "/" FZ_EP "/uid", "0");
}

static int fz_pools_init(struct fz_pools *p, struct fz_thread *t)
{
	char *pages;
	int i, ret;

	pthread_mutex_init(&p->lock, NULL);
	pages = mmap(NULL, 2 * HD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		return -errno;
	if (mprotect(pages + HD_PAGE_SIZE, HD_PAGE_SIZE, PROT_NONE))
		return -errno;
	p->edge = pages;
	p->guard = pages + HD_PAGE_SIZE;
	for (i = 0; i < FZ_DEVS; i++)
		p->dev[i] = -1;
	for (i = 0; i < FZ_BUFS; i++)
		p->buf[i] = -1;
	for (i = 0; i < FZ_IMPORTS; i++)
		p->imp[i] = -1;
	for (i = 0; i < FZ_FENCES; i++)
		p->fence[i] = -1;
	for (i = 0; i < FZ_FENCES; i++)
		p->afence[i] = -1;
	for (i = 0; i < FZ_IDS; i++)
		p->ids[i].dev = -1;
	p->have_ep = !fz_endpoint_add();

	t->p = p;
	for (i = 0; i < FZ_DEVS; i++) {
		t->rng = i;
		ret = fz_open(t);
		if (ret)
			return ret;
	}
	for (i = 0; i < FZ_BUFS; i++) {
		t->rng = 1000 + i;
		ret = fz_newbuf(t);
		if (ret)
			return ret;
	}
	return 0;
}

static unsigned long long fz_env(const char *name, unsigned long long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/*
 * Wait for the threads.  A thread that made no call for FZ_NUDGE_S may
 * wait, interruptibly, for what no other thread will do any more (a
 * dma-buf's CPU access waiting for a frame's fence, say): interrupt it.
 * An uninterruptible wait stays stuck, and the parent reports a stall.
 */
static void fz_reap(struct fz_shared *sh, struct fz_thread *th,
		    unsigned int n)
{
	unsigned long long seen[FZ_MAX_THREADS] = { 0 };
	long long since[FZ_MAX_THREADS];
	unsigned int i, left;

	for (i = 0; i < n; i++)
		since[i] = hd_now_ms();
	do {
		usleep(200000);
		for (i = 0, left = 0; i < n; i++) {
			if (sh->finished[i])
				continue;
			left++;
			if (sh->calls[i] != seen[i]) {
				seen[i] = sh->calls[i];
				since[i] = hd_now_ms();
			} else if (hd_now_ms() - since[i] >= FZ_NUDGE_S * 1000) {
				pthread_kill(th[i].thread, SIGUSR1);
				sh->nudges++;
				since[i] = hd_now_ms();
			}
		}
	} while (left);
}

/* The fuzzing child: run the threads, then exit (closing everything). */
static void fz_run(struct fz_shared *sh, struct fz_pools *p, __u64 seed,
		   unsigned long long calls, unsigned int nthreads,
		   unsigned int seconds)
{
	static struct fz_thread th[FZ_MAX_THREADS];
	struct sigaction sa;
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fz_fault;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/* No SA_RESTART: SIGUSR1 ends an interruptible wait with EINTR. */
	sa.sa_handler = fz_nothing;
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < nthreads; i++) {
		th[i].idx = i;
		th[i].seed = fz_mix(seed ^ fz_mix(0x100000000ull + i));
		th[i].calls = calls / nthreads + (i < calls % nthreads);
		th[i].deadline_ms = seconds ? hd_now_ms() + seconds * 1000LL : 0;
		th[i].sh = sh;
		th[i].p = p;
		if (pthread_create(&th[i].thread, NULL, fz_thread_main, &th[i]))
			_exit(2);
	}
	fz_reap(sh, th, nthreads);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i].thread, NULL);
	sh->done = 1;
	_exit(0);
}

static unsigned long long fz_total(struct fz_shared *sh, unsigned int n)
{
	unsigned long long sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += sh->calls[i];
	return sum;
}

static const char *fz_errname(int e)
{
	if (!e)
		return "ok";
	if (e == FZ_NERR - 1)
		return "other";
	return strerrorname_np(e) ?: "?";
}

static void fz_report(struct fz_shared *sh, unsigned int nthreads)
{
	unsigned long long per[FZ_NERR], n;
	char line[1024];
	unsigned int i, op;
	int e, len;

	for (op = 0; op < OP_NR; op++) {
		memset(per, 0, sizeof(per));
		n = 0;
		for (i = 0; i < nthreads; i++)
			for (e = 0; e < FZ_NERR; e++)
				per[e] += sh->count[i][op][e];
		for (e = 0; e < FZ_NERR; e++)
			n += per[e];
		len = snprintf(line, sizeof(line), "%s %llu:", fz_ops[op].name,
			       n);
		for (e = 0; e < FZ_NERR && len < (int)sizeof(line) - 40; e++) {
			if (!per[e])
				continue;
			len += snprintf(line + len, sizeof(line) - len,
					" %s %llu", fz_errname(e),
					per[e]);
		}
		printf("# fuzz: %s\n", line);
	}
	fflush(stdout);
}

/* After a leak: the ids of the pool that still exist, and their history. */
static void fz_leftovers(int dev, const struct fz_pools *p)
{
	struct hyper_dmabuf_query q;
	char line[512];
	unsigned int b;
	int i, len;

	for (i = 0; i < FZ_IDS; i++) {
		if (hd_id_is_zero(&p->ids[i].id) ||
		    hd_query(dev, &p->ids[i].id, &q))
			continue;
		len = snprintf(line, sizeof(line),
			       "# fuzz: left: id seq %u status %#x frame %llu:",
			       p->ids[i].id.seq, q.status,
			       (unsigned long long)q.frame_seq);
		for (b = 0; b < OP_NR; b++)
			if (p->ids[i].ops & 1u << b)
				len += snprintf(line + len, sizeof(line) - len,
						" %s", fz_ops[b].name);
		snprintf(line + len, sizeof(line) - len, "%s%s%s\n",
			 p->ids[i].ops & FZ_H_ODD_FD ? " odd-fd" : "",
			 p->ids[i].ops & FZ_H_IN_FENCE ? " in-fence" : "",
			 p->ids[i].ops & FZ_H_REL_FENCE ? " release-fence" : "");
		fputs(line, stdout);
	}
	fflush(stdout);
}

FIXTURE(fuzz) {
	struct hd_env env;
	int ready;
};

FIXTURE_SETUP(fuzz)
{
	self->ready = hd_env_setup(_metadata, &self->env, HD_NEED_ALL);
}

FIXTURE_TEARDOWN(fuzz)
{
	rmdir(FZ_EPS "/" FZ_EP);
	hd_env_close(_metadata, &self->env);
}

/* Allow a long run (make fuzz); the run itself watches for stalls. */
TEST_F_TIMEOUT(fuzz, uapi, 24 * 3600)
{
	unsigned long long calls, last = 0, now, forks;
	unsigned int nthreads, seconds, i;
	long long t0, progress, report;
	static struct fz_thread setup;
	struct fz_shared *sh;
	struct fz_pools *p;
	struct hd_stats s, zero;
	pid_t pid;
	__u64 seed;
	int status;
	bool ok;

	if (!self->ready)
		return;
	seed = fz_env("HD_FUZZ_SEED", 0);
	if (!seed)
		seed = fz_mix((__u64)time(NULL) ^ ((__u64)getpid() << 32));
	seconds = fz_env("HD_FUZZ_SECONDS", 0);
	calls = fz_env("HD_FUZZ_CALLS", seconds ? ~0ull : 100000);
	nthreads = fz_env("HD_FUZZ_THREADS", 8);
	fz_weights(getenv("HD_FUZZ_OPS"));
	if (!nthreads || nthreads > FZ_MAX_THREADS)
		nthreads = 8;
	printf("# fuzz: seed %llu, %llu calls, %u threads%s (replay: HD_FUZZ_SEED=%llu)\n",
	       (unsigned long long)seed, calls, nthreads,
	       seconds ? ", time-bound" : "", (unsigned long long)seed);
	fflush(stdout);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	/* Shared, so that what is left can be told after the run. */
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	p->vmid = self->env.vmid;
	p->vgem = self->env.vgem;
	for (i = 0; i < FZ_MAX_THREADS; i++)
		sh->op[i] = -1;

	t0 = hd_now_ms();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (fz_pools_init(p, &setup))
			_exit(3);
		fz_run(sh, p, seed, calls, nthreads, seconds);
	}

	progress = t0;
	report = t0;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
		now = fz_total(sh, nthreads);
		if (now != last) {
			last = now;
			progress = hd_now_ms();
		}
		if (hd_now_ms() - report >= 30000) {
			report = hd_now_ms();
			printf("# fuzz: %llu calls after %lld s\n", now,
			       (report - t0) / 1000);
			fflush(stdout);
		}
		if (hd_now_ms() - progress >= FZ_STALL_S * 1000) {
			for (i = 0; i < nthreads; i++)
				if (sh->op[i] >= 0)
					TH_LOG("thread %u stuck in %s after %llu calls",
					       i, fz_ops[sh->op[i]].name,
					       sh->calls[i]);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			EXPECT_TRUE(false) {
				TH_LOG("no call finished for %d s (seed %llu)",
				       FZ_STALL_S, (unsigned long long)seed);
			}
			break;
		}
	}

	fz_report(sh, nthreads);
	now = fz_total(sh, nthreads);
	for (i = 0, forks = 0; i < nthreads; i++)
		forks += sh->count[i][OP_FORK][0];
	printf("# fuzz: %llu calls in %lld s, %llu forked children, %llu %s, seed %llu\n",
	       now, (hd_now_ms() - t0) / 1000, forks, sh->nudges,
	       "waits interrupted", (unsigned long long)seed);
	fflush(stdout);

	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status) && sh->done) {
		TH_LOG("the fuzzing process %s %d (seed %llu)",
		       WIFEXITED(status) ? "exited" : "died of signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) :
		       WTERMSIG(status), (unsigned long long)seed);
	}
	EXPECT_EQ(0ull, sh->violations) {
		TH_LOG("calls that must fail succeeded (seed %llu)",
		       (unsigned long long)seed);
	}
	EXPECT_EQ(0ull, sh->child_crashes) {
		TH_LOG("forked children crashed (seed %llu)",
		       (unsigned long long)seed);
	}
	if (!seconds)
		EXPECT_EQ(calls, now);

	/* Everything is closed: the driver must come back to zero. */
	memset(&zero, 0, sizeof(zero));
	ok = hd_stats_wait(&zero, 30000, &s);
	EXPECT_TRUE(ok) {
		hd_log_stats(_metadata, "after the run", &s);
		TH_LOG("seed %llu", (unsigned long long)seed);
		fz_leftovers(self->env.dev, p);
	}
	munmap(sh, sizeof(*sh));
	munmap(p, sizeof(*p));
}

TEST_HARNESS_MAIN
