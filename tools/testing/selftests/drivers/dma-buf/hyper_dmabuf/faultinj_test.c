// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection, over the loopback backend: for each ioctl,
 * for event read() and for each message the core handles, fail the 1st,
 * 2nd, ... Nth allocation of that one call in turn
 * (/proc/thread-self/fail-nth, failslab and fail_page_alloc) until the
 * call runs without a fault being injected.  Each time the call either
 * fails with ENOMEM and leaves nothing behind, or fully succeeds; the
 * stats come back to where they were, and the next normal call works.
 *
 * Messages reach the core from the loopback's work item, not from this
 * task, so fail-nth of this task does not reach their handlers.  With
 * CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS the loopback holds back the
 * message types named in debugfs hyper_dmabuf_loopback/hold; the test
 * reads the real message out of "held" and writes it to "inject", which
 * hands it to the core in this task, under fail-nth.
 *
 * The number of fault points reached per call, the distinct slab
 * allocation sites they failed (from the kmem tracepoints), and the
 * running totals are printed as TAP diagnostics: the last one is the
 * total of the run.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>

#include "hdmabuf_util.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAILSLAB	HD_DEBUGFS_ROOT "/failslab/"
#define FAILPAGE	HD_DEBUGFS_ROOT "/fail_page_alloc/"
#define LB_DEBUGFS	HD_LB_DEBUGFS
#define LB_MSG_SIZE	HD_LB_MSG_SIZE
#define HD_REFCNT	"/sys/module/hyper_dmabuf/refcnt"
#define FI_EPS		"/sys/kernel/config/hyper_dmabuf/endpoints/"
#define FI_EP		"faultinj"

/* Message types of the protocol (drivers/.../proto.h). */
enum fi_msg {
	FI_MSG_EXPORT = 1,
	FI_MSG_EXPORT_REPLY,
	FI_MSG_UNEXPORT,
	FI_MSG_RELEASE,
	FI_MSG_USAGE,
	FI_MSG_UNEXPORT_REPLY,
	FI_MSG_FRAME,
	FI_MSG_FRAME_RELEASE,
};

/* No call of ours makes that many allocations: a bound against a loop. */
#define FI_MAX_POINTS	400
/* Seconds a case may take under KASAN in emulation. */
#define FI_TIMEOUT_S	900

#define FI_W		64
#define FI_H		64
#define FI_SIZE		(FI_W * FI_H * 4)
#define FI_SEED		0xfa17
#define FI_WAIT_MS	HD_EVENT_TIMEOUT_MS

#define HD_EV_FRAME	((__u32)HYPER_DMABUF_EVENT_FRAME)
#define HD_EV_FRAME_RELEASED ((__u32)HYPER_DMABUF_EVENT_FRAME_RELEASED)
#define HD_ST_FRAME	HYPER_DMABUF_STATUS_FRAME_PENDING

/* Allocation sites told apart, and the length of a site's name. */
#define FI_MAX_SITES	512
#define FI_SITE_LEN	96

/*
 * Fault points of the cases so far, and the distinct allocation sites
 * they failed: each case runs in its own process, so the count lives in
 * memory they all share.
 */
struct fi_tally {
	int points;
	int cases;
	int nr_sites;
	char sites[FI_MAX_SITES][FI_SITE_LEN];
};

static struct fi_tally *tally;

static void __attribute__((constructor)) fi_tally_init(void)
{
	void *p = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	tally = p == MAP_FAILED ? NULL : p;
}

/* A knob of the fault-injection attributes, and its value to restore. */
struct fi_knob {
	const char *path;
	const char *val;
	char old[16];
};

/**
 * struct fi_ctx - what a case works with
 * @env: the exporter's environment
 * @imp: the importer's own open file
 * @buf: the buffer exported
 * @nth: this task's fail-nth, open
 * @knob: the fault-injection knobs changed, to restore
 * @nr_knobs: how many
 * @ready: set up
 * @id: the buffer's id in this iteration
 * @fd: an import, a bound file or -1
 * @exported: @id is exported
 * @seq: the last frame presented
 * @listed: LIST count of @imp before the call
 * @before: stats before the call
 * @refcnt: the module's references, with the fixture's files
 * @msg: a captured message
 * @thread: a call waiting for a held message
 * @thread_ret: its result
 * @threaded: @thread runs
 * @thread_fn: what it runs
 */
struct fi_ctx {
	struct hd_env env;
	int imp;
	struct hd_vbuf buf;
	int nth;
	struct fi_knob knob[6];
	int nr_knobs;
	int ready;
	struct hyper_dmabuf_id id;
	int fd;
	int exported;
	__u64 seq;
	__u32 listed;
	struct hd_stats before;
	long refcnt;
	unsigned char msg[LB_MSG_SIZE];
	pthread_t thread;
	int thread_ret;
	int threaded;
	int (*thread_fn)(struct fi_ctx *self);
};

/*
 * The references on the hyper_dmabuf module: open files, dma-bufs,
 * configfs items.  A leaked one shows here even when the stats do not.
 */
static long fi_refcnt(void)
{
	char buf[32];

	return hd_read_file(HD_REFCNT, buf, sizeof(buf)) ? -1 : atol(buf);
}

static void fi_ctx_setup(struct __test_metadata *_metadata,
			 struct fi_ctx *self)
{
	static const struct { const char *path, *val; } knobs[] = {
		/* sleeping allocations fail too, quietly; pages too */
		{ FAILSLAB "ignore-gfp-wait", "N" },
		{ FAILSLAB "verbose", "0" },
		{ FAILPAGE "ignore-gfp-wait", "N" },
		{ FAILPAGE "ignore-gfp-highmem", "N" },
		{ FAILPAGE "min-order", "0" },
		{ FAILPAGE "verbose", "0" },
	};
	unsigned int i;

	self->imp = -1;
	self->nth = -1;
	self->fd = -1;
	hd_vbuf_init(&self->buf);
	hd_env_init(&self->env);	/* nothing for the teardown to close */
	if (access(FAIL_NTH, W_OK) || access(FAILSLAB "ignore-gfp-wait", W_OK))
		SKIP(return, "no fault injection (fail-nth, failslab)");
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	self->imp = hd_open_dev();
	ASSERT_LE(0, self->imp);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, FI_SIZE, &self->buf));
	hd_fill(self->buf.map, FI_SIZE, FI_SEED);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		struct fi_knob *k = &self->knob[self->nr_knobs];

		if (hd_read_file(knobs[i].path, k->old, sizeof(k->old)))
			continue;	/* fail_page_alloc may be missing */
		k->path = knobs[i].path;
		k->val = knobs[i].val;
		self->nr_knobs++;
		ASSERT_EQ(0, hd_write_file(k->path, k->val));
	}
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->refcnt = fi_refcnt();
	self->ready = 1;
}

static void fi_ctx_teardown(struct __test_metadata *_metadata,
			    struct fi_ctx *self)
{
	int i;

	if (self->nth >= 0) {
		if (write(self->nth, "0", 1) < 0)
			perror(FAIL_NTH);
		close(self->nth);
	}
	for (i = 0; i < self->nr_knobs; i++)
		hd_write_file(self->knob[i].path, self->knob[i].old);
	hd_write_file(LB_DEBUGFS "hold", "0");
	hd_close(&self->fd);
	hd_close(&self->imp);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* Fail the @nth allocation this task makes from now on. */
static int fi_arm(struct fi_ctx *self, int nth)
{
	char buf[16];
	int len;

	len = snprintf(buf, sizeof(buf), "%d", nth);
	return write(self->nth, buf, len) == len ? 0 : -errno;
}

/*
 * Whether the fault armed by fi_arm() was injected (fail-nth reads 0);
 * disarms it either way.  Neither the read nor the write allocates.
 */
static int fi_disarm(struct fi_ctx *self)
{
	char buf[16];
	ssize_t n;

	n = pread(self->nth, buf, sizeof(buf) - 1, 0);
	if (write(self->nth, "0", 1) < 0)
		return -errno;
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return atoi(buf) == 0;
}

/* ---- the calls ------------------------------------------------------ */

static void fi_image(struct hyper_dmabuf_image *im)
{
	memset(im, 0, sizeof(*im));
	im->fourcc = 0x34325258;	/* DRM_FORMAT_XRGB8888 */
	im->width = FI_W;
	im->height = FI_H;
	im->pitch[0] = FI_W * 4;
}

static const char fi_priv[] = "fault-injected metadata";

/* Export the buffer, with metadata and an image, to the loopback peer. */
static int fi_export(struct fi_ctx *self)
{
	struct hyper_dmabuf_export e;
	int ret;

	hd_export_init(&e, self->buf.fd, self->env.vmid);
	/* the RELEASE handler's event too */
	e.flags = HYPER_DMABUF_EXPORT_RELEASED_EVENT;
	e.priv = (uintptr_t)fi_priv;
	e.priv_len = sizeof(fi_priv);
	fi_image(&e.image);
	ret = hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
	if (!ret) {
		self->id = e.id;
		self->exported = 1;
	}
	return ret;
}

static int fi_unexport(struct fi_ctx *self)
{
	int ret = hd_unexport(self->env.dev, &self->id, 0);

	if (!ret)
		self->exported = 0;
	return ret;
}

static int fi_import(struct fi_ctx *self)
{
	return hd_import(self->imp, &self->id, O_RDWR | O_CLOEXEC, &self->fd);
}

static int fi_present(struct fi_ctx *self, __u32 flags, int *fence)
{
	struct hyper_dmabuf_rect damage[2] = {
		{ 0, 0, FI_W, 8 }, { 0, 16, 8, 8 },
	};
	struct hyper_dmabuf_present p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.id = self->id;
	p.seq = self->seq + 1;
	p.flags = flags;
	p.in_fence_fd = -1;
	p.nr_damage = 2;
	p.damage = (uintptr_t)damage;
	ret = hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_PRESENT, &p);
	if (!ret) {
		self->seq++;
		if (fence)
			*fence = p.release_fence_fd;
	}
	return ret;
}

static int fi_release_frame(struct fi_ctx *self)
{
	struct hyper_dmabuf_release_frame r;

	memset(&r, 0, sizeof(r));
	r.id = self->id;
	r.seq = self->seq;
	r.fence_fd = -1;
	return hd_ioctl(self->imp, HYPER_DMABUF_IOCTL_RELEASE_FRAME, &r);
}

/* The exporting side's state, once the stats settled after a call. */
static bool fi_stats_back(const struct hd_stats *want)
{
	struct hd_stats now;

	return hd_stats_wait(want, HD_RELEASE_TIMEOUT_MS, &now);
}

/* Export, and wait until the importing side lists the buffer. */
static void fi_prep_export(struct __test_metadata *_metadata,
			   struct fi_ctx *self)
{
	ASSERT_EQ(0, fi_export(self));
	ASSERT_TRUE(hd_wait_listed(self->imp, &self->id));
}

/* ... and import it and mmap it: the frame calls' starting point. */
static void fi_prep_import(struct __test_metadata *_metadata,
			   struct fi_ctx *self)
{
	fi_prep_export(_metadata, self);
	ASSERT_EQ(0, fi_import(self));
	hd_drain_events(self->imp);
	hd_drain_events(self->env.dev);
}

/* ... and present frame 1, which the importer has. */
static void fi_prep_frame(struct __test_metadata *_metadata,
			  struct fi_ctx *self)
{
	struct hyper_dmabuf_event ev;

	fi_prep_import(_metadata, self);
	ASSERT_EQ(0, fi_present(self, 0, NULL));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id, &ev,
				   FI_WAIT_MS));
}

/* Back to nothing: close the import, unexport, the stats at baseline. */
static void fi_undo(struct __test_metadata *_metadata, struct fi_ctx *self)
{
	hd_close(&self->fd);
	if (self->exported)
		EXPECT_EQ(0, fi_unexport(self));
	self->exported = 0;
	self->seq = 0;
	hd_drain_events(self->imp);
	hd_drain_events(self->env.dev);
	rmdir(FI_EPS FI_EP);	/* BIND's endpoint, if any: it pins us */
	EXPECT_TRUE(fi_stats_back(&self->env.base)) {
		struct hd_stats now;

		hd_stats_read(&now);
		hd_log_stats(_metadata, "baseline", &self->env.base);
		hd_log_stats(_metadata, "now", &now);
	}
	EXPECT_TRUE(hd_wait_until(fi_refcnt() == self->refcnt, FI_WAIT_MS)) {
		TH_LOG("module references: %ld, %ld before", fi_refcnt(),
		       self->refcnt);
	}
}

/**
 * struct fi_case - one call driven through its allocations
 * @name: for the report
 * @prep: bring the state the call starts from, without faults
 * @call: the call, 0 or a negative errno; run under fail-nth
 * @ok: check that the call fully succeeded, and undo what it made
 * @failed: check that the failed call left nothing (the stats are
 *	checked by the runner)
 * @msg: for a message handler: the type to capture; @call then makes the
 *	message (held), and the runner injects it under fail-nth
 * @finish: for a message handler: after the injection, check the outcome
 *	of the exchange (@injected: a fault was), and undo it
 */
struct fi_case {
	const char *name;
	void (*prep)(struct __test_metadata *_metadata, struct fi_ctx *self);
	int (*call)(struct fi_ctx *self);
	void (*ok)(struct __test_metadata *_metadata, struct fi_ctx *self);
	void (*failed)(struct __test_metadata *_metadata,
		       struct fi_ctx *self);
	int msg;
	void (*finish)(struct __test_metadata *_metadata,
		       struct fi_ctx *self, bool injected);
};

/* ---- the allocation sites ------------------------------------------- */

/*
 * Which allocation each injected fault failed: the kmem tracepoints record
 * a slab allocation's caller even when it returns NULL, so with a filter
 * on NULL results of this task the trace names every site failed.  (Page
 * allocations have no caller in their tracepoint: fail_page_alloc's points
 * count, their sites do not.)
 */
#define TRACEFS		HD_DEBUGFS_ROOT "/tracing/"

static const char * const fi_events[] = { "kmalloc", "kmem_cache_alloc" };

static void fi_trace_clear(void)
{
	int fd = open(TRACEFS "trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

/* Trace this task's failed slab allocations; 0 or -errno. */
static int fi_trace_start(void)
{
	char path[160], filter[64];
	unsigned int i;
	int ret;

	if (access(TRACEFS "tracing_on", W_OK))
		return -errno;
	ret = hd_write_file(TRACEFS "tracing_on", "0");
	fi_trace_clear();
	snprintf(filter, sizeof(filter), "ptr == 0 && common_pid == %d",
		 (int)gettid());
	for (i = 0; !ret && i < ARRAY_SIZE(fi_events); i++) {
		snprintf(path, sizeof(path), TRACEFS "events/kmem/%s/filter",
			 fi_events[i]);
		ret = hd_write_file(path, filter);
		snprintf(path, sizeof(path), TRACEFS "events/kmem/%s/enable",
			 fi_events[i]);
		if (!ret)
			ret = hd_write_file(path, "1");
	}
	if (!ret)
		ret = hd_write_file(TRACEFS "tracing_on", "1");
	return ret;
}

static void fi_trace_off(void)
{
	char path[160];
	unsigned int i;

	hd_write_file(TRACEFS "tracing_on", "0");
	for (i = 0; i < ARRAY_SIZE(fi_events); i++) {
		snprintf(path, sizeof(path), TRACEFS "events/kmem/%s/enable",
			 fi_events[i]);
		hd_write_file(path, "0");
		snprintf(path, sizeof(path), TRACEFS "events/kmem/%s/filter",
			 fi_events[i]);
		hd_write_file(path, "0");
	}
}

/* Add @site to the tally's sites unless it is there; true if new. */
static bool fi_site_add(const char *site)
{
	int i;

	for (i = 0; i < tally->nr_sites; i++)
		if (!strcmp(tally->sites[i], site))
			return false;
	if (tally->nr_sites == FI_MAX_SITES)
		return false;
	snprintf(tally->sites[tally->nr_sites++], FI_SITE_LEN, "%s", site);
	return true;
}

/*
 * Stop tracing; the distinct sites of this case (each new one is
 * printed), or -1 when the trace could not be read.
 */
static int fi_trace_stop(const char *name)
{
	char line[512], seen[64][FI_SITE_LEN], site[FI_SITE_LEN];
	int n = 0, i;
	char *p;
	FILE *f;

	hd_write_file(TRACEFS "tracing_on", "0");
	f = fopen(TRACEFS "trace", "re");
	if (!f) {
		fi_trace_off();
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "call_site=");
		if (!p || sscanf(p, "call_site=%95s", site) != 1)
			continue;
		for (i = 0; i < n && strcmp(seen[i], site); i++)
			;
		if (i < n || n == (int)ARRAY_SIZE(seen))
			continue;
		snprintf(seen[n++], FI_SITE_LEN, "%s", site);
		if (tally && fi_site_add(site))
			ksft_print_msg("faultinj: %s: new site %s\n", name,
				       site);
	}
	fclose(f);
	fi_trace_off();
	fi_trace_clear();
	return n;
}

/* ---- the runner ------------------------------------------------------ */

/* Run one call with the @nth allocation failing; 1 if one was failed. */
static int fi_ioctl_once(struct __test_metadata *_metadata,
			 struct fi_ctx *self, const struct fi_case *c,
			 int nth)
{
	int ret, injected;

	if (c->prep)
		c->prep(_metadata, self);
	if (!_metadata->passed)
		return -1;
	ASSERT_EQ(0, hd_stats_read(&self->before));
	ASSERT_EQ(0, hd_list_count(self->imp, &self->listed));

	ASSERT_EQ(0, fi_arm(self, nth));
	ret = c->call(self);
	injected = fi_disarm(self);
	ASSERT_LE(0, injected);

	if (ret) {
		/* A clean failure: ENOMEM, and nothing left of the call. */
		EXPECT_EQ(-ENOMEM, ret) {
			TH_LOG("%s, allocation %d failed: %s", c->name, nth,
			       strerror(-ret));
		}
		EXPECT_TRUE(injected) {
			TH_LOG("%s failed with no fault injected", c->name);
		}
		EXPECT_TRUE(fi_stats_back(&self->before)) {
			TH_LOG("%s, allocation %d: stats changed", c->name,
			       nth);
		}
		if (c->failed)
			c->failed(_metadata, self);
		/* the next normal call works */
		ret = c->call(self);
		EXPECT_EQ(0, ret) {
			TH_LOG("%s after allocation %d failed: %s", c->name,
			       nth, strerror(-ret));
		}
	}
	if (!ret)
		c->ok(_metadata, self);
	fi_undo(_metadata, self);
	return injected;
}

static void fi_hold(struct __test_metadata *_metadata, int type)
{
	ASSERT_EQ(0, hd_lb_hold(type));
}

/* Read the held message of @type into self->msg (waits for it). */
static int fi_capture(struct fi_ctx *self, int type)
{
	return hd_lb_held(type, self->msg, FI_WAIT_MS);
}

static void *fi_thread_fn(void *arg)
{
	struct fi_ctx *self = arg;

	self->thread_ret = self->thread_fn(self);
	return NULL;
}

/* Run @fn in another thread: it waits for a message the test holds. */
static int fi_start(struct fi_ctx *self,
		    int (*fn)(struct fi_ctx *self))
{
	self->thread_fn = fn;
	self->threaded = !pthread_create(&self->thread, NULL, fi_thread_fn,
					 self);
	return self->threaded ? 0 : -EAGAIN;
}

static int fi_join(struct fi_ctx *self)
{
	if (!self->threaded)
		return -ECHILD;
	pthread_join(self->thread, NULL);
	self->threaded = 0;
	return self->thread_ret;
}

/* One message of @c->msg, injected with the @nth allocation failing. */
static int fi_msg_once(struct __test_metadata *_metadata,
		       struct fi_ctx *self, const struct fi_case *c,
		       int nth)
{
	int fd, ret, injected;

	if (c->prep)
		c->prep(_metadata, self);
	if (!_metadata->passed)
		return -1;
	ASSERT_EQ(0, hd_stats_read(&self->before));
	ASSERT_EQ(0, hd_list_count(self->imp, &self->listed));

	fi_hold(_metadata, c->msg);
	ret = c->call(self);
	EXPECT_EQ(0, ret);
	ret = ret ?: fi_capture(self, c->msg);
	fi_hold(_metadata, 0);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: no message captured", c->name);
	}
	/* Opened before arming: the write alone runs under fail-nth. */
	fd = open(LB_DEBUGFS "inject", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fi_arm(self, nth));
	ret = write(fd, self->msg, LB_MSG_SIZE) == LB_MSG_SIZE ? 0 : -errno;
	injected = fi_disarm(self);
	close(fd);
	ASSERT_EQ(0, ret);
	ASSERT_LE(0, injected);
	c->finish(_metadata, self, injected);
	fi_undo(_metadata, self);
	return injected;
}

static void fi_run(struct __test_metadata *_metadata, struct fi_ctx *self,
		   const struct fi_case *c)
{
	long long start = hd_now_ms();
	int nth, injected, points = 0, sites = -1;
	bool traced;

	if (!self->ready)
		return;
	if (c->msg && access(LB_DEBUGFS "inject", W_OK))
		SKIP(return, "no %sinject (CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS)",
		     LB_DEBUGFS);
	traced = !fi_trace_start();
	for (nth = 1; nth <= FI_MAX_POINTS; nth++) {
		if (c->msg)
			injected = fi_msg_once(_metadata, self, c, nth);
		else
			injected = fi_ioctl_once(_metadata, self, c, nth);
		if (injected <= 0 || !_metadata->passed)
			break;
		points++;
	}
	if (traced)
		sites = fi_trace_stop(c->name);
	EXPECT_GT(FI_MAX_POINTS, nth);
	ksft_print_msg("faultinj: %s: %d fault points, %d slab allocation sites, %lld ms\n",
		       c->name, points, sites, hd_now_ms() - start);
	if (tally) {
		tally->points += points;
		tally->cases++;
		ksft_print_msg("faultinj: so far %d fault points in %d calls and messages\n",
			       tally->points, tally->cases);
		ksft_print_msg("faultinj: so far %d distinct slab allocation sites\n",
			       tally->nr_sites);
	}
}

/* ---- the ioctls ------------------------------------------------------ */

static int call_export(struct fi_ctx *self)
{
	return fi_export(self);
}

static void ok_export(struct __test_metadata *_metadata,
		      struct fi_ctx *self)
{
	struct hyper_dmabuf_query q;

	EXPECT_FALSE(hd_id_is_zero(&self->id));
	ASSERT_TRUE(hd_wait_listed(self->imp, &self->id));
	ASSERT_EQ(0, fi_import(self));
	ASSERT_EQ(0, hd_query(self->imp, &self->id, &q));
	EXPECT_EQ((__u32)sizeof(fi_priv), q.priv_len);
	EXPECT_EQ((__u64)FI_SIZE, q.size);
	EXPECT_EQ(0, hd_query(self->env.dev, &self->id, &q));
}

/* A failed export is not listed, and was never announced. */
static void failed_nothing_listed(struct __test_metadata *_metadata,
				  struct fi_ctx *self)
{
	__u32 n = 0;

	EXPECT_TRUE(hd_wait_until(!hd_list_count(self->imp, &n) &&
				  n == self->listed, FI_WAIT_MS)) {
		TH_LOG("LIST: %u buffers, %u before", n, self->listed);
	}
}

static int call_import(struct fi_ctx *self)
{
	return fi_import(self);
}

static void ok_import(struct __test_metadata *_metadata,
		      struct fi_ctx *self)
{
	unsigned char *map;

	map = mmap(NULL, FI_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ((size_t)FI_SIZE, hd_check(map, FI_SIZE, FI_SEED));
	munmap(map, FI_SIZE);
}

static void failed_import(struct __test_metadata *_metadata,
			  struct fi_ctx *self)
{
	EXPECT_TRUE(hd_status_is(self->imp, &self->id, 0, HD_ST_IMPORTED));
	self->fd = -1;
}

static int call_unexport(struct fi_ctx *self)
{
	return fi_unexport(self);
}

static void ok_unexport(struct __test_metadata *_metadata,
			struct fi_ctx *self)
{
	EXPECT_TRUE(hd_wait_withdrawn(self->imp, &self->id));
}

/* A failed unexport leaves the export live and listed. */
static void failed_unexport(struct __test_metadata *_metadata,
			    struct fi_ctx *self)
{
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id, HD_ST_HERE,
				 HD_ST_UNEXPORTED | HD_ST_PENDING));
	EXPECT_EQ(1, hd_listed(self->imp, &self->id));
}

static int call_query(struct fi_ctx *self)
{
	struct hyper_dmabuf_query q;
	char priv[64];

	memset(priv, 0, sizeof(priv));
	memset(&q, 0, sizeof(q));
	q.id = self->id;
	q.priv = (uintptr_t)priv;
	q.priv_len = sizeof(priv);
	if (hd_ioctl(self->imp, HYPER_DMABUF_IOCTL_QUERY, &q))
		return -errno;
	if (q.priv_len != sizeof(fi_priv) || strcmp(priv, fi_priv) ||
	    q.size != FI_SIZE || q.image.width != FI_W)
		return -EBADMSG;
	return 0;
}

static void ok_none(struct __test_metadata *_metadata, struct fi_ctx *self)
{
}

static int call_list(struct fi_ctx *self)
{
	struct hyper_dmabuf_id ids[16];
	struct hyper_dmabuf_list l;
	__u32 i;

	memset(ids, 0, sizeof(ids));
	memset(&l, 0, sizeof(l));
	l.count = 16;
	l.ids = (uintptr_t)ids;
	if (hd_ioctl(self->imp, HYPER_DMABUF_IOCTL_LIST, &l))
		return -errno;
	for (i = 0; i < l.count && i < 16; i++)
		if (hd_id_eq(&ids[i], &self->id))
			return 0;
	return -EBADMSG;
}

static int call_info(struct fi_ctx *self)
{
	struct hyper_dmabuf_peer peers[8];
	struct hyper_dmabuf_info info;

	memset(peers, 0, sizeof(peers));
	memset(&info, 0, sizeof(info));
	info.nr_peers = 8;
	info.peers = (uintptr_t)peers;
	if (hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_INFO, &info))
		return -errno;
	return info.nr_peers >= 1 && info.vmid == self->env.vmid ? 0 :
	       -EBADMSG;
}

/* Exported, then unexported without waiting: WAIT_RELEASED waits. */
static void prep_released(struct __test_metadata *_metadata,
			  struct fi_ctx *self)
{
	struct hyper_dmabuf_unexport u;

	fi_prep_export(_metadata, self);
	memset(&u, 0, sizeof(u));
	u.id = self->id;
	u.flags = HYPER_DMABUF_UNEXPORT_ASYNC;
	ASSERT_EQ(0, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_UNEXPORT, &u));
	self->exported = 0;
}

static int call_wait_released(struct fi_ctx *self)
{
	return hd_wait_released(self->env.dev, &self->id,
				HD_RELEASE_TIMEOUT_MS);
}

static void prep_bind(struct __test_metadata *_metadata,
		      struct fi_ctx *self)
{
	if (mkdir(FI_EPS FI_EP, 0755) && errno != EEXIST)
		SKIP(return, "no endpoint %s: %s", FI_EPS FI_EP,
		     strerror(errno));
	self->fd = hd_open_dev();
	ASSERT_LE(0, self->fd);
}

static int call_bind(struct fi_ctx *self)
{
	struct hyper_dmabuf_bind b;

	memset(&b, 0, sizeof(b));
	strcpy(b.endpoint, FI_EP);
	return hd_ioctl(self->fd, HYPER_DMABUF_IOCTL_BIND, &b);
}

/* Bound: an export to the endpoint reaches this file, not the default. */
static void ok_bind(struct __test_metadata *_metadata, struct fi_ctx *self)
{
	struct hyper_dmabuf_export e;
	struct hyper_dmabuf_id id;
	__u32 n = 0;

	hd_export_init(&e, self->buf.fd, self->env.vmid);
	strcpy(e.endpoint, FI_EP);
	ASSERT_EQ(0, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT, &e));
	id = e.id;
	EXPECT_TRUE(hd_wait_listed(self->fd, &id));
	EXPECT_EQ(0, hd_list_count(self->imp, &n));
	EXPECT_EQ(self->listed, n);
	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
}

static int call_present(struct fi_ctx *self)
{
	int fence = -1, ret;

	ret = fi_present(self, HYPER_DMABUF_PRESENT_RELEASE_FENCE, &fence);
	if (!ret) {
		if (fence < 0)
			return -EBADMSG;
		close(fence);
	}
	return ret;
}

/* The frame arrives and comes back. */
static void ok_present(struct __test_metadata *_metadata,
		       struct fi_ctx *self)
{
	struct hyper_dmabuf_event ev;

	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id, &ev,
				   FI_WAIT_MS));
	EXPECT_EQ(self->seq, ev.frame.seq);
	EXPECT_EQ(2u, ev.frame.nr_damage);
	ASSERT_EQ(0, fi_release_frame(self));
	ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
				   &self->id, &ev, FI_WAIT_MS));
	EXPECT_EQ(self->seq, ev.frame.seq);
	EXPECT_EQ(0u, ev.frame.flags);
}

/* No frame went out. */
static void failed_present(struct __test_metadata *_metadata,
			   struct fi_ctx *self)
{
	struct hyper_dmabuf_event ev;

	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id, 0, HD_ST_FRAME));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(self->imp, HD_EV_FRAME, &self->id,
					    &ev, 100));
}

static int call_release_frame(struct fi_ctx *self)
{
	return fi_release_frame(self);
}

/*
 * The exporter hears the frame is back: its FRAME_RELEASED event, or,
 * when a fault took the memory for the event (@injected), an overflow
 * record after which QUERY shows no frame out.
 */
static void fi_frame_back(struct __test_metadata *_metadata,
			  struct fi_ctx *self, bool injected)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	int ret;

	ret = hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED, &self->id,
			    &ev, FI_WAIT_MS);
	if (!ret) {
		EXPECT_EQ(self->seq, ev.frame.seq);
	} else {
		EXPECT_TRUE(injected && ret == -EOVERFLOW) {
			TH_LOG("frame %llu: no FRAME_RELEASED: %s",
			       (unsigned long long)self->seq, strerror(-ret));
		}
		ASSERT_EQ(0, hd_query(self->env.dev, &self->id, &q));
		EXPECT_FALSE(hd_has(q.status, HD_ST_FRAME));
		EXPECT_EQ(self->seq, q.frame_seq);
	}
}

static void ok_release_frame(struct __test_metadata *_metadata,
			     struct fi_ctx *self)
{
	fi_frame_back(_metadata, self, false);
	EXPECT_TRUE(hd_status_is(self->imp, &self->id, 0, HD_ST_FRAME));
}

static void failed_release_frame(struct __test_metadata *_metadata,
				 struct fi_ctx *self)
{
	EXPECT_TRUE(hd_status_is(self->imp, &self->id, HD_ST_FRAME, 0));
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id, HD_ST_FRAME, 0));
}

static int call_frame_fence(struct fi_ctx *self)
{
	struct hyper_dmabuf_frame_fence f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.id = self->id;
	ret = hd_ioctl(self->imp, HYPER_DMABUF_IOCTL_FRAME_FENCE, &f);
	if (!ret) {
		if (f.fence_fd < 0)
			return -EBADMSG;
		close(f.fence_fd);
	}
	return ret;
}

/* A NEW event waits on the importer's file. */
static void prep_event(struct __test_metadata *_metadata,
		       struct fi_ctx *self)
{
	struct pollfd pfd = { .fd = self->imp, .events = POLLIN };

	hd_drain_events(self->imp);
	fi_prep_export(_metadata, self);
	ASSERT_EQ(1, poll(&pfd, 1, FI_WAIT_MS));
}

static int call_read_event(struct fi_ctx *self)
{
	struct hyper_dmabuf_event ev;
	ssize_t n;

	memset(&ev, 0, sizeof(ev));
	n = read(self->imp, &ev, sizeof(ev));
	if (n < 0)
		return -errno;
	if (n != sizeof(ev) || ev.type != HD_EV_NEW ||
	    !hd_id_eq(&ev.id, &self->id) || ev.priv_len != sizeof(fi_priv))
		return -EBADMSG;
	return 0;
}

/* ---- the message handlers --------------------------------------------- */

/* EXPORT: the importer's handler; the export waits for its reply. */
static int make_export(struct fi_ctx *self)
{
	return fi_start(self, fi_export);
}

/* The exchange ends in a clean success or a clean ENOMEM. */
static void finish_export(struct __test_metadata *_metadata,
			  struct fi_ctx *self, bool injected)
{
	int ret = fi_join(self);

	if (!injected) {
		EXPECT_EQ(0, ret);
	} else if (ret) {
		EXPECT_EQ(-ENOMEM, ret) {
			TH_LOG("export: %s", strerror(-ret));
		}
		failed_nothing_listed(_metadata, self);
		EXPECT_TRUE(fi_stats_back(&self->before));
	}
	if (!ret)
		ok_export(_metadata, self);
}

/* UNEXPORT: the importer's handler; the unexport waits for its reply. */
static int make_unexport(struct fi_ctx *self)
{
	return fi_start(self, fi_unexport);
}

/* Withdrawn on both sides, whatever failed on the way. */
static void finish_unexport(struct __test_metadata *_metadata,
			    struct fi_ctx *self, bool injected)
{
	int ret = fi_join(self);

	EXPECT_EQ(0, ret) {
		TH_LOG("unexport: %s", strerror(-ret));
	}
	self->exported = 0;
	EXPECT_TRUE(hd_wait_withdrawn(self->imp, &self->id));
}

/* FRAME: the importer's handler. */
static int make_frame(struct fi_ctx *self)
{
	return fi_present(self, 0, NULL);
}

/*
 * The frame arrives, or the exporter hears it was dropped: never a
 * frame pending for ever on the exporter.
 */
static void finish_frame(struct __test_metadata *_metadata,
			 struct fi_ctx *self, bool injected)
{
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_event ev;
	int ret;

	ret = hd_wait_event(self->imp, HD_EV_FRAME, &self->id, &ev,
			    injected ? 500 : FI_WAIT_MS);
	if (!ret) {
		EXPECT_EQ(self->seq, ev.frame.seq);
		ASSERT_EQ(0, fi_release_frame(self));
	} else if (ret == -EOVERFLOW) {
		/* No memory for the event: QUERY tells the frame. */
		EXPECT_TRUE(injected);
		ASSERT_EQ(0, hd_query(self->imp, &self->id, &q));
		EXPECT_TRUE(hd_has(q.status, HD_ST_FRAME));
		EXPECT_EQ(self->seq, q.frame_seq);
		ASSERT_EQ(0, fi_release_frame(self));
	} else {
		EXPECT_TRUE(injected);
	}
	/*
	 * The exporter's file is bound to the same endpoint and got the
	 * FRAME event too: when the fault took its node, the overflow record
	 * queued in its place covers the FRAME_RELEASED that follows.
	 */
	fi_frame_back(_metadata, self, injected);
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id, 0, HD_ST_FRAME));
}

/* EXPORT_REPLY: the exporter's handler. */
static void finish_export_reply(struct __test_metadata *_metadata,
				struct fi_ctx *self, bool injected)
{
	int ret = fi_join(self);

	EXPECT_EQ(0, ret) {
		TH_LOG("export: %s", strerror(-ret));
	}
	if (!ret)
		ok_export(_metadata, self);
}

/* UNEXPORT_REPLY: the exporter's handler. */
static void finish_unexport_reply(struct __test_metadata *_metadata,
				  struct fi_ctx *self, bool injected)
{
	finish_unexport(_metadata, self, injected);
}

/* RELEASE: the exporter's; the unexport does not wait for it. */
static int make_release(struct fi_ctx *self)
{
	return fi_unexport(self);
}

/* The pages come back: the stats at baseline, checked by fi_undo(). */
static void finish_release(struct __test_metadata *_metadata,
			   struct fi_ctx *self, bool injected)
{
	EXPECT_EQ(0, hd_wait_released(self->env.dev, &self->id,
				      HD_RELEASE_TIMEOUT_MS));
}

/* USAGE: the exporter's; an import's first map sends it. */
static int make_usage(struct fi_ctx *self)
{
	return fi_import(self);
}

static void finish_usage(struct __test_metadata *_metadata,
			 struct fi_ctx *self, bool injected)
{
	ok_import(_metadata, self);
	EXPECT_TRUE(hd_wait_until(hd_status_is(self->env.dev, &self->id,
					       HD_ST_IMPORTED, 0),
				  FI_WAIT_MS));
}

/* FRAME_RELEASE: the exporter's. */
static int make_frame_release(struct fi_ctx *self)
{
	return fi_release_frame(self);
}

static void finish_frame_release(struct __test_metadata *_metadata,
				 struct fi_ctx *self, bool injected)
{
	fi_frame_back(_metadata, self, injected);
	EXPECT_TRUE(hd_status_is(self->imp, &self->id, 0, HD_ST_FRAME));
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id, 0, HD_ST_FRAME));
}

/* ---- the cases --------------------------------------------------------- */

FIXTURE(fi) {
	struct fi_ctx ctx;
};

FIXTURE_VARIANT(fi) {
	struct fi_case c;
};

FIXTURE_SETUP(fi)
{
	fi_ctx_setup(_metadata, &self->ctx);
}

FIXTURE_TEARDOWN(fi)
{
	fi_ctx_teardown(_metadata, &self->ctx);
}

FIXTURE_VARIANT_ADD(fi, EXPORT) {
	.c.name = "EXPORT",
	.c.call = call_export,
	.c.ok = ok_export,
	.c.failed = failed_nothing_listed,
};

FIXTURE_VARIANT_ADD(fi, IMPORT) {
	.c.name = "IMPORT",
	.c.prep = fi_prep_export,
	.c.call = call_import,
	.c.ok = ok_import,
	.c.failed = failed_import,
};

FIXTURE_VARIANT_ADD(fi, UNEXPORT) {
	.c.name = "UNEXPORT",
	.c.prep = fi_prep_export,
	.c.call = call_unexport,
	.c.ok = ok_unexport,
	.c.failed = failed_unexport,
};

FIXTURE_VARIANT_ADD(fi, QUERY) {
	.c.name = "QUERY",
	.c.prep = fi_prep_export,
	.c.call = call_query,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, LIST) {
	.c.name = "LIST",
	.c.prep = fi_prep_export,
	.c.call = call_list,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, INFO) {
	.c.name = "INFO",
	.c.call = call_info,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, WAIT_RELEASED) {
	.c.name = "WAIT_RELEASED",
	.c.prep = prep_released,
	.c.call = call_wait_released,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, BIND) {
	.c.name = "BIND",
	.c.prep = prep_bind,
	.c.call = call_bind,
	.c.ok = ok_bind,
};

FIXTURE_VARIANT_ADD(fi, PRESENT) {
	.c.name = "PRESENT",
	.c.prep = fi_prep_import,
	.c.call = call_present,
	.c.ok = ok_present,
	.c.failed = failed_present,
};

FIXTURE_VARIANT_ADD(fi, RELEASE_FRAME) {
	.c.name = "RELEASE_FRAME",
	.c.prep = fi_prep_frame,
	.c.call = call_release_frame,
	.c.ok = ok_release_frame,
	.c.failed = failed_release_frame,
};

FIXTURE_VARIANT_ADD(fi, FRAME_FENCE) {
	.c.name = "FRAME_FENCE",
	.c.prep = fi_prep_import,
	.c.call = call_frame_fence,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, read_event) {
	.c.name = "read_event",
	.c.prep = prep_event,
	.c.call = call_read_event,
	.c.ok = ok_none,
};

FIXTURE_VARIANT_ADD(fi, msg_EXPORT) {
	.c.name = "msg EXPORT",
	.c.call = make_export,
	.c.msg = FI_MSG_EXPORT,
	.c.finish = finish_export,
};

FIXTURE_VARIANT_ADD(fi, msg_EXPORT_REPLY) {
	.c.name = "msg EXPORT_REPLY",
	.c.call = make_export,
	.c.msg = FI_MSG_EXPORT_REPLY,
	.c.finish = finish_export_reply,
};

FIXTURE_VARIANT_ADD(fi, msg_UNEXPORT) {
	.c.name = "msg UNEXPORT",
	.c.prep = fi_prep_export,
	.c.call = make_unexport,
	.c.msg = FI_MSG_UNEXPORT,
	.c.finish = finish_unexport,
};

FIXTURE_VARIANT_ADD(fi, msg_UNEXPORT_REPLY) {
	.c.name = "msg UNEXPORT_REPLY",
	.c.prep = fi_prep_export,
	.c.call = make_unexport,
	.c.msg = FI_MSG_UNEXPORT_REPLY,
	.c.finish = finish_unexport_reply,
};

FIXTURE_VARIANT_ADD(fi, msg_RELEASE) {
	.c.name = "msg RELEASE",
	.c.prep = fi_prep_export,
	.c.call = make_release,
	.c.msg = FI_MSG_RELEASE,
	.c.finish = finish_release,
};

FIXTURE_VARIANT_ADD(fi, msg_USAGE) {
	.c.name = "msg USAGE",
	.c.prep = fi_prep_export,
	.c.call = make_usage,
	.c.msg = FI_MSG_USAGE,
	.c.finish = finish_usage,
};

FIXTURE_VARIANT_ADD(fi, msg_FRAME) {
	.c.name = "msg FRAME",
	.c.prep = fi_prep_import,
	.c.call = make_frame,
	.c.msg = FI_MSG_FRAME,
	.c.finish = finish_frame,
};

FIXTURE_VARIANT_ADD(fi, msg_FRAME_RELEASE) {
	.c.name = "msg FRAME_RELEASE",
	.c.prep = fi_prep_frame,
	.c.call = make_frame_release,
	.c.msg = FI_MSG_FRAME_RELEASE,
	.c.finish = finish_frame_release,
};

TEST_F_TIMEOUT(fi, faults, FI_TIMEOUT_S)
{
	fi_run(_metadata, &self->ctx, &variant->c);
}

TEST_HARNESS_MAIN
