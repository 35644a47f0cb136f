// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf under concurrency: threads export, import, map, check and
 * unexport at once, each from its own open file or all from one, while
 * another thread lists, asks for INFO and reads events.  Everything must
 * succeed, ids must never repeat, and the stats must come back.
 *
 * A worker keeps at most MAX_UNRELEASED of its exports unreleased: before
 * it exports again it waits (WAIT_RELEASED) for the one that many exports
 * back, as an exporter that recycles its buffers does.  A release is
 * asynchronous and, on a slow kernel, lags behind the ioctls; without that
 * wait the workers' exports not yet released would pile up to the per-peer
 * limits (max_exports_per_peer, max_imports), and EXPORT rightly fail with
 * ENOSPC.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <assert.h>
#include <pthread.h>

#include "hdmabuf_util.h"

#define NR_WORKERS	8
#define MAX_ITERS	200
#define RUN_MS		10000
/* the whole of the asynchronous release after so many operations */
#define DRAIN_MS	30000
/*
 * Exports of one worker not yet released, at most: all workers' together
 * stay well below the per-peer limits' default of 256, and one worker's
 * below the HYPER_DMABUF_RELEASED_HISTORY its own file remembers.
 */
#define MAX_UNRELEASED	16
static_assert(MAX_UNRELEASED < HYPER_DMABUF_RELEASED_HISTORY,
	      "a worker's file must remember its last releases");

/**
 * struct worker - one exporting and importing thread
 * @thread: the thread
 * @idx: its number
 * @dev: the open /dev/hyper_dmabuf it uses
 * @shared: @dev is the other workers' too
 * @vgem: the vgem card
 * @vmid: the loopback VM id
 * @deadline: when to stop (hd_now_ms())
 * @iters: iterations completed
 * @err: what failed first, or ""
 * @ids: the ids it exported
 */
struct worker {
	pthread_t thread;
	int idx;
	int dev;
	int shared;
	int vgem;
	__u32 vmid;
	long long deadline;
	int iters;
	char err[160];
	struct hyper_dmabuf_id ids[MAX_ITERS];
};

/**
 * struct observer - a thread that only looks
 * @thread: the thread
 * @dev: the open /dev/hyper_dmabuf it uses
 * @stop: set to end it
 * @rounds: rounds completed
 * @err: what failed first, or ""
 */
struct observer {
	pthread_t thread;
	int dev;
	int stop;
	int rounds;
	char err[160];
};

static void worker_fail(struct worker *w, int iter, const char *what,
			int ret)
{
	snprintf(w->err, sizeof(w->err), "iteration %d: %s: %s", iter, what,
		 strerror(-ret));
}

/* Export, import, map, check, unexport (before or after the mapping). */
static int worker_iter(struct worker *w, struct hd_vbuf *buf, int i)
{
	__u64 seed = (__u64)w->idx << 32 | i;
	int fd = -1, ret, early = i & 1;
	unsigned char *map;

	hd_fill(buf->map, buf->size, seed);
	ret = hd_export(w->dev, buf->fd, w->vmid, 0, &w->ids[i]);
	if (ret) {
		worker_fail(w, i, "export", ret);
		return ret;
	}
	ret = hd_import_wait(w->dev, &w->ids[i], O_RDWR | O_CLOEXEC, &fd,
			     HD_EVENT_TIMEOUT_MS);
	if (ret) {
		worker_fail(w, i, "import", ret);
		return ret;
	}
	if (early) {
		/* an imported dma-buf works after unexport */
		ret = hd_unexport(w->dev, &w->ids[i], 0);
		if (ret) {
			worker_fail(w, i, "unexport (early)", ret);
			goto out;
		}
	}
	map = mmap(NULL, buf->size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		worker_fail(w, i, "mmap", ret);
		goto out;
	}
	if (hd_check(map, buf->size, seed) != buf->size) {
		ret = -EIO;
		worker_fail(w, i, "contents", ret);
	}
	munmap(map, buf->size);
	if (!ret && !early) {
		ret = hd_unexport(w->dev, &w->ids[i], 0);
		if (ret)
			worker_fail(w, i, "unexport", ret);
	}
out:
	close(fd);
	return ret;
}

/*
 * Wait until the export of iteration @i is released.  On a file of its own
 * the worker has had fewer than HYPER_DMABUF_RELEASED_HISTORY releases
 * since, so the file must know the id; on a shared file the other workers'
 * releases may have pushed it out of that history, and ENOENT then means
 * it was released long ago.
 */
static int worker_wait_released(struct worker *w, int i)
{
	int ret;

	ret = hd_wait_released(w->dev, &w->ids[i], DRAIN_MS);
	if (ret == -ENOENT && w->shared)
		ret = 0;
	if (ret)
		worker_fail(w, i, "wait-released", ret);
	return ret;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct hd_vbuf buf;
	int i, ret;

	/* sizes of 1 to 4 pages, so that buffers differ */
	ret = hd_vbuf_create(w->vgem, (1 + w->idx % 4) * HD_PAGE_SIZE, &buf);
	if (ret) {
		worker_fail(w, 0, "vgem buffer", ret);
		return NULL;
	}
	for (i = 0; i < MAX_ITERS && hd_now_ms() < w->deadline; i++) {
		if (i >= MAX_UNRELEASED &&
		    worker_wait_released(w, i - MAX_UNRELEASED))
			break;
		if (worker_iter(w, &buf, i))
			break;
		w->iters = i + 1;
	}
	hd_vbuf_destroy(&buf);
	return NULL;
}

static void *observer_fn(void *arg)
{
	struct hyper_dmabuf_peer *peers;
	struct hyper_dmabuf_info info;
	struct hyper_dmabuf_id *ids;
	struct observer *o = arg;
	__u32 n;
	int ret;

	while (!__atomic_load_n(&o->stop, __ATOMIC_ACQUIRE)) {
		ret = hd_list(o->dev, &ids, &n);
		if (ret) {
			snprintf(o->err, sizeof(o->err), "LIST: %s",
				 strerror(-ret));
			break;
		}
		free(ids);
		ret = hd_info(o->dev, &info, &peers);
		if (ret) {
			snprintf(o->err, sizeof(o->err), "INFO: %s",
				 strerror(-ret));
			break;
		}
		free(peers);
		hd_drain_events(o->dev);
		o->rounds++;
		usleep(1000);
	}
	return NULL;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct hyper_dmabuf_id));
}

FIXTURE(stress) {
	struct hd_env env;
	struct worker w[NR_WORKERS];
	int ready;
};

FIXTURE_SETUP(stress)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		self->w[i].dev = -1;
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	self->ready = 1;
}

FIXTURE_TEARDOWN(stress)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		if (self->w[i].dev != self->env.dev)
			hd_close(&self->w[i].dev);
	hd_env_close(_metadata, &self->env);
}

/*
 * Run the workers (each on its own open file, or all on the environment's)
 * and an observer, then check that all went well and all was released.
 */
static void run_workers(struct __test_metadata *_metadata,
			struct hd_env *env, struct worker *w, int own_files)
{
	struct hyper_dmabuf_id *all;
	long long deadline = hd_now_ms() + RUN_MS;
	struct observer obs;
	struct hd_stats now;
	__u32 base_count, count = 0;
	int i, j, n = 0;

	ASSERT_EQ(0, hd_list_count(env->dev, &base_count));
	memset(&obs, 0, sizeof(obs));
	obs.dev = hd_open_dev();
	ASSERT_LE(0, obs.dev);
	for (i = 0; i < NR_WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		w[i].dev = own_files ? hd_open_dev() : env->dev;
		w[i].shared = !own_files;
		ASSERT_LE(0, w[i].dev);
		w[i].vgem = env->vgem;
		w[i].vmid = env->vmid;
		w[i].deadline = deadline;
	}
	ASSERT_EQ(0, pthread_create(&obs.thread, NULL, observer_fn, &obs));
	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_fn,
					    &w[i]));
	for (i = 0; i < NR_WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	__atomic_store_n(&obs.stop, 1, __ATOMIC_RELEASE);
	pthread_join(obs.thread, NULL);
	close(obs.dev);

	for (i = 0; i < NR_WORKERS; i++) {
		EXPECT_STREQ("", w[i].err) {
			TH_LOG("worker %d failed after %d iterations", i,
			       w[i].iters);
		}
		EXPECT_LT(0, w[i].iters);
		n += w[i].iters;
	}
	EXPECT_STREQ("", obs.err);
	EXPECT_LT(0, obs.rounds);
	TH_LOG("%d iterations by %d threads", n, NR_WORKERS);

	/* no id was handed out twice */
	all = calloc(NR_WORKERS * MAX_ITERS, sizeof(*all));
	ASSERT_NE(NULL, all);
	n = 0;
	for (i = 0; i < NR_WORKERS; i++)
		for (j = 0; j < w[i].iters; j++)
			all[n++] = w[i].ids[j];
	qsort(all, n, sizeof(*all), id_cmp);
	for (i = 1; i < n; i++)
		EXPECT_NE(0, id_cmp(&all[i - 1], &all[i]));
	free(all);

	/* everything is withdrawn and released */
	for (i = 0; i < NR_WORKERS; i++)
		if (own_files)
			hd_close(&w[i].dev);
	EXPECT_TRUE(hd_wait_until(!hd_list_count(env->dev, &count) &&
				  count == base_count, DRAIN_MS)) {
		TH_LOG("LIST has %u buffers, had %u", count, base_count);
	}
	EXPECT_TRUE(hd_stats_wait(&env->base, DRAIN_MS, &now)) {
		hd_log_stats(_metadata, "at start", &env->base);
		hd_log_stats(_metadata, "now", &now);
	}
}

/* Eight threads, each with its own open file. */
TEST_F_TIMEOUT(stress, threads_own_files, 180)
{
	if (!self->ready)
		return;
	run_workers(_metadata, &self->env, self->w, 1);
}

/* Eight threads sharing one open file. */
TEST_F_TIMEOUT(stress, threads_share_one_file, 180)
{
	if (!self->ready)
		return;
	run_workers(_metadata, &self->env, self->w, 0);
}

TEST_HARNESS_MAIN
