// SPDX-License-Identifier: GPL-2.0
/*
 * An id names one buffer, even while the peer goes and comes back: the
 * loopback peer reconnects over and over while buffers are exported,
 * listed, imported and checked.  An import must map the very buffer its
 * id names (each carries its pattern's seed in its metadata), every id
 * that LIST shows must import or fail with ENOENT, and once the storm is
 * over nothing may be left behind (the fixture checks the counters; the
 * rig checks kmemleak).  And a million forged ids near real ones reach
 * nothing.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>
#include <stdatomic.h>

#include "hdmabuf_util.h"

#define LB_RECONNECT	"/sys/module/hyper_dmabuf_loopback/parameters/reconnect"
#define ID_BUFS		6
#define ID_SIZE		(4 * HD_PAGE_SIZE)
#define ID_LIVE_MAX	12
#define ID_STORM_MS	8000
#define ID_RECONNECT_US	7000

FIXTURE(id) {
	struct hd_env env;
	struct hd_vbuf buf[ID_BUFS];
	__u32 left;
	int ready;
};

/* Shared by the storm's threads. */
struct storm {
	struct hd_env *env;
	struct hd_vbuf *buf;
	atomic_bool stop;
	atomic_int exports, export_errs, imports, import_enoent;
	atomic_int wrong_buffer, bad_errno, reconnects;
	char bad[256];
	pthread_mutex_t lock;	/* protects bad */
};

FIXTURE_SETUP(id)
{
	int i;

	for (i = 0; i < ID_BUFS; i++)
		hd_vbuf_init(&self->buf[i]);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	if (access(LB_RECONNECT, W_OK))
		SKIP(return, "loopback has no reconnect knob");
	for (i = 0; i < ID_BUFS; i++) {
		ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, ID_SIZE,
					    &self->buf[i]));
		hd_fill(self->buf[i].map, ID_SIZE, 1000 + i);
	}
	self->ready = 1;
}

FIXTURE_TEARDOWN(id)
{
	int i;

	for (i = 0; i < ID_BUFS; i++)
		hd_vbuf_destroy(&self->buf[i]);
	hd_env_close(_metadata, &self->env);
}

static void storm_bad(struct storm *s, const char *fmt, int a, int b)
{
	pthread_mutex_lock(&s->lock);
	if (!s->bad[0])
		snprintf(s->bad, sizeof(s->bad), fmt, a, b);
	pthread_mutex_unlock(&s->lock);
}

/* Export the buffers in turn, each with its seed as metadata. */
static void *storm_exporter(void *arg)
{
	struct hyper_dmabuf_id live[ID_LIVE_MAX];
	struct hyper_dmabuf_export e;
	struct storm *s = arg;
	int dev, n = 0, i = 0, ret;
	__u64 seed;

	dev = hd_open_dev();
	if (dev < 0)
		return NULL;
	while (!atomic_load(&s->stop)) {
		if (n == ID_LIVE_MAX) {
			/* Oldest first; it may be gone with the peer. */
			ret = hd_unexport(dev, &live[0], 0);
			if (ret && ret != -ENOENT && ret != -ETIMEDOUT) {
				atomic_fetch_add(&s->bad_errno, 1);
				storm_bad(s, "UNEXPORT: %d (round %d)", ret, i);
			}
			memmove(live, live + 1, sizeof(live[0]) * --n);
		}
		seed = 1000 + i % ID_BUFS;
		hd_export_init(&e, s->buf[i % ID_BUFS].fd, s->env->vmid);
		e.priv = (uintptr_t)&seed;
		e.priv_len = sizeof(seed);
		ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
		if (!ret) {
			live[n++] = e.id;
			atomic_fetch_add(&s->exports, 1);
		} else if (ret == -EHOSTUNREACH || ret == -ETIMEDOUT) {
			/* The peer went away under the export. */
			atomic_fetch_add(&s->export_errs, 1);
		} else {
			atomic_fetch_add(&s->bad_errno, 1);
			storm_bad(s, "EXPORT: %d (round %d)", ret, i);
		}
		i++;
	}
	close(dev);	/* unexports what is left */
	return NULL;
}

/* Import one listed id and check it is the buffer its metadata names. */
static void storm_import(struct storm *s, int dev,
			 const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_query q;
	unsigned char *map;
	__u64 seed = 0;
	size_t good;
	int fd, ret;

	memset(&q, 0, sizeof(q));
	q.id = *id;
	q.priv = (uintptr_t)&seed;
	q.priv_len = sizeof(seed);
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q);
	if (ret == -ENOENT)
		return;
	if (ret || q.priv_len != sizeof(seed)) {
		atomic_fetch_add(&s->bad_errno, 1);
		storm_bad(s, "QUERY: %d, metadata of %d bytes", ret,
			  q.priv_len);
		return;
	}
	ret = hd_import(dev, id, O_RDONLY | O_CLOEXEC, &fd);
	if (ret == -ENOENT) {
		atomic_fetch_add(&s->import_enoent, 1);
		return;
	}
	if (ret) {
		atomic_fetch_add(&s->bad_errno, 1);
		storm_bad(s, "IMPORT of a listed id: %d (seq %d)", ret,
			  id->seq);
		return;
	}
	atomic_fetch_add(&s->imports, 1);
	map = mmap(NULL, ID_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		atomic_fetch_add(&s->bad_errno, 1);
		storm_bad(s, "mmap of an import: %d (seq %d)", -errno,
			  id->seq);
	} else {
		good = hd_check(map, ID_SIZE, seed);
		if (good != ID_SIZE) {
			atomic_fetch_add(&s->wrong_buffer, 1);
			storm_bad(s, "seq %d maps another buffer (%d bytes match)",
				  id->seq, (int)good);
		}
		munmap(map, ID_SIZE);
	}
	close(fd);
}

static void *storm_importer(void *arg)
{
	struct hyper_dmabuf_id *ids;
	struct storm *s = arg;
	__u32 i, n;
	int dev;

	dev = hd_open_dev();
	if (dev < 0)
		return NULL;
	while (!atomic_load(&s->stop)) {
		if (hd_list(dev, &ids, &n))
			continue;
		for (i = 0; i < n; i++)
			storm_import(s, dev, &ids[i]);
		free(ids);
	}
	close(dev);
	return NULL;
}

static void *storm_reconnector(void *arg)
{
	struct storm *s = arg;
	int fd;

	while (!atomic_load(&s->stop)) {
		usleep(ID_RECONNECT_US);
		fd = open(LB_RECONNECT, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		if (write(fd, "1", 1) == 1)
			atomic_fetch_add(&s->reconnects, 1);
		close(fd);
	}
	return NULL;
}

/*
 * Peer losses racing exports, imports and the messages in flight: no
 * import maps another buffer, every listed id imports or says ENOENT.
 */
TEST_F_TIMEOUT(id, reconnect_storm_keeps_identity, 120)
{
	pthread_t exp, imp, rec;
	struct storm s;

	if (!self->ready)
		return;
	memset(&s, 0, sizeof(s));
	s.env = &self->env;
	s.buf = self->buf;
	pthread_mutex_init(&s.lock, NULL);
	ASSERT_EQ(0, pthread_create(&exp, NULL, storm_exporter, &s));
	ASSERT_EQ(0, pthread_create(&imp, NULL, storm_importer, &s));
	ASSERT_EQ(0, pthread_create(&rec, NULL, storm_reconnector, &s));
	usleep(ID_STORM_MS * 1000);
	atomic_store(&s.stop, true);
	pthread_join(rec, NULL);
	pthread_join(imp, NULL);
	pthread_join(exp, NULL);
	TH_LOG("%d reconnects, %d exports (%d lost to the peer), %d imports checked, %d ENOENT",
	       s.reconnects, s.exports, s.export_errs, s.imports,
	       s.import_enoent);
	EXPECT_EQ(0, s.wrong_buffer);
	EXPECT_EQ(0, s.bad_errno) {
		TH_LOG("first: %s", s.bad);
	}
	if (s.wrong_buffer)
		TH_LOG("first: %s", s.bad);
	EXPECT_LT(0, s.reconnects);
	EXPECT_LT(0, s.imports);
	/* Everything was unexported or lost with the peer: nothing listed. */
	EXPECT_TRUE(hd_wait_until(!hd_list_count(self->env.dev, &self->left) &&
				  !self->left, HD_RELEASE_TIMEOUT_MS)) {
		TH_LOG("%u phantom ids listed", self->left);
	}
	pthread_mutex_destroy(&s.lock);
}

/* xorshift64*: the forger's reproducible stream */
static __u64 forge_next(__u64 *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dULL;
}

/*
 * forge() - an id near @real that names no buffer: a key with bits
 * flipped, another counter, another VM, the reserved word set, or all
 * random
 */
static void forge(__u64 *st, const struct hyper_dmabuf_id *real,
		  struct hyper_dmabuf_id *id)
{
	__u64 r = forge_next(st);
	int w;

	*id = *real;
	switch (r % 5) {
	case 0:
		w = (r >> 8) % 3;
		id->key[w] ^= (__u32)(forge_next(st) | 1);
		break;
	case 1:
		id->seq += 1 + (__u32)((r >> 8) % 1000000);
		break;
	case 2:
		id->vmid += 1 + (__u32)((r >> 8) % 1000);
		break;
	case 3:
		id->reserved = (__u32)(r >> 8) | 1;
		break;
	default:
		id->seq = (__u32)forge_next(st);
		id->key[0] = (__u32)forge_next(st);
		id->key[1] = (__u32)forge_next(st);
		id->key[2] = (__u32)(forge_next(st) | 1);
		break;
	}
}

/*
 * Forged ids reach nothing: $HD_FORGED_IDS (1,000,000) ids near the ids of
 * live buffers (seed $HD_FORGED_SEED) are refused by IMPORT, and every
 * eighth also by QUERY and UNEXPORT, with ENOENT (EINVAL for the reserved
 * word); the real buffers are still listed and hold their bytes.
 */
TEST_F_TIMEOUT(id, forged_ids_reach_nothing, 1800)
{
	const char *env = getenv("HD_FORGED_IDS");
	const char *senv = getenv("HD_FORGED_SEED");
	long long n = env ? atoll(env) : 1000000, i, t0;
	__u64 st = senv ? strtoull(senv, NULL, 0) : 0x5eed;
	long long imported = 0, enoent = 0, einval = 0, other = 0;
	struct hyper_dmabuf_id ids[ID_BUFS], id;
	struct hyper_dmabuf_query q;
	int dev = self->env.dev, fd, ret, b;
	unsigned char *map;

	if (!self->ready)
		return;
	TH_LOG("%lld forged ids, seed 0x%llx", n, (unsigned long long)st);
	for (b = 0; b < ID_BUFS; b++) {
		ASSERT_EQ(0, hd_export(dev, self->buf[b].fd, self->env.vmid, 0,
				       &ids[b]));
		ASSERT_TRUE(hd_wait_until(hd_listed(dev, &ids[b]) == 1,
					  HD_EVENT_TIMEOUT_MS));
	}
	t0 = hd_now_ms();
	for (i = 0; i < n; i++) {
		forge(&st, &ids[i % ID_BUFS], &id);
		fd = -1;
		ret = hd_import(dev, &id, O_RDONLY | O_CLOEXEC, &fd);
		if (!ret) {
			imported++;
			close(fd);
		}
		if (i % 8 == 0) {
			if (hd_query(dev, &id, &q) == 0)
				imported++;
			if (hd_unexport(dev, &id, 0) == 0)
				imported++;
		}
		if (ret == -ENOENT)
			enoent++;
		else if (ret == -EINVAL && id.reserved)
			einval++;
		else if (ret)
			other++;
	}
	TH_LOG("%lld ids in %lld ms: %lld ENOENT, %lld EINVAL, %lld other, %lld reached a buffer",
	       n, hd_now_ms() - t0, enoent, einval, other, imported);
	EXPECT_EQ(0, imported);
	EXPECT_EQ(0, other);
	EXPECT_EQ(n, enoent + einval);
	for (b = 0; b < ID_BUFS; b++) {
		EXPECT_EQ(1, hd_listed(dev, &ids[b]));
		ASSERT_EQ(0, hd_import(dev, &ids[b], O_RDONLY | O_CLOEXEC, &fd));
		map = mmap(NULL, ID_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		EXPECT_EQ(ID_SIZE, hd_check(map, ID_SIZE, 1000 + b));
		munmap(map, ID_SIZE);
		close(fd);
		EXPECT_EQ(0, hd_unexport(dev, &ids[b], 0));
	}
}

TEST_HARNESS_MAIN
