// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf buffer lifetime: unexport and closing the exporter's file
 * withdraw a buffer but leave imported dma-bufs working; imports are
 * released in any order; delayed unexport; many exports cleaned up by
 * close.  After every test the debugfs stats return to where they were.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include "hdmabuf_util.h"

#define LIFE_SIZE	(16 * HD_PAGE_SIZE)
#define LIFE_SEED	51

/* The delay of the delayed-unexport tests, in milliseconds. */
#define DELAY_MS	300

/*
 * How many exports the bulk test makes from one open file, at most (and
 * by default): $HD_MANY_EXPORTS may ask for fewer, as the KASAN rig does.
 */
#define MANY_EXPORTS	10000
#define MANY_TIMEOUT_MS	(600 * 1000)

/* The per-peer limits the bulk test raises for its exports (in MiB too). */
static const struct {
	const char *name;
	long val;
} many_limits[] = {
	{ "max_exports_per_peer", 2 * MANY_EXPORTS },
	{ "max_export_mb_per_peer", 2048 },
	{ "max_imports", 2 * MANY_EXPORTS },
};

static int many_exports(void)
{
	const char *env = getenv("HD_MANY_EXPORTS");
	int n = env ? atoi(env) : MANY_EXPORTS;

	return n > 0 && n < MANY_EXPORTS ? n : MANY_EXPORTS;
}

FIXTURE(life) {
	struct hd_env env;
	struct hd_vbuf buf;
	int ready;
	long saved[ARRAY_SIZE(many_limits)];
	int raised;
};

FIXTURE_SETUP(life)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, LIFE_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, LIFE_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(life)
{
	int i;

	for (i = 0; i < self->raised; i++)
		hd_param_set(many_limits[i].name, self->saved[i]);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

static unsigned char *map_rw(int fd, size_t size)
{
	void *map;

	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return map == MAP_FAILED ? NULL : map;
}

/*
 * An imported dma-buf keeps working after its buffer was withdrawn: it
 * reads and writes the exporter's pages and can still be mapped.
 */
static void expect_still_shared(struct __test_metadata *_metadata,
				struct hd_vbuf *buf, int fd,
				unsigned char *map, __u64 seed)
{
	unsigned char *again;

	hd_fill(buf->map, buf->size, seed);
	EXPECT_EQ(buf->size, hd_check(map, buf->size, seed));
	map[buf->size - 1] ^= 0x3c;
	EXPECT_EQ(map[buf->size - 1], buf->map[buf->size - 1]);

	again = map_rw(fd, buf->size);
	ASSERT_NE(NULL, again);
	EXPECT_EQ(0, memcmp(again, buf->map, buf->size));
	munmap(again, buf->size);
}

static void expect_baseline_now(struct __test_metadata *_metadata,
				struct hd_env *env)
{
	hd_expect_baseline(_metadata, &env->base, HD_RELEASE_TIMEOUT_MS);
}

/* Unexport while imported and mapped: withdrawn, the mapping still works. */
TEST_F(life, unexport_while_imported_and_mapped)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd = -1;
	unsigned char *map;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = map_rw(fd, size);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED));

	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));
	EXPECT_EQ(-ENOENT, hd_import(dev, &id, O_RDONLY, &fd));

	/* the old mapping still reads the right bytes */
	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED));
	expect_still_shared(_metadata, &self->buf, fd, map, LIFE_SEED + 1);

	munmap(map, size);
	close(fd);
	expect_baseline_now(_metadata, &self->env);
}

/* Closing the exporter's file withdraws its buffers; imports keep working. */
TEST_F(life, close_exporter_file_while_imported)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, exp, fd;
	unsigned char *map;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = map_rw(fd, size);
	ASSERT_NE(NULL, map);

	ASSERT_EQ(0, close(exp));
	EXPECT_EQ(0, hd_wait_event(dev, HYPER_DMABUF_EVENT_WITHDRAWN, &id, &ev,
				   HD_WITHDRAW_TIMEOUT_MS));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));

	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED));
	expect_still_shared(_metadata, &self->buf, fd, map, LIFE_SEED + 2);

	munmap(map, size);
	close(fd);
	expect_baseline_now(_metadata, &self->env);
}

/* Closing the exporter's file withdraws its buffers, not other files'. */
TEST_F(life, close_exporter_file_withdraws_only_its_buffers)
{
	struct hyper_dmabuf_id ids[5], mine;
	int dev = self->env.dev, exp, i;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0,
				       &ids[i]));
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &mine));
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(hd_wait_listed(dev, &ids[i]));
	ASSERT_TRUE(hd_wait_listed(dev, &mine));

	ASSERT_EQ(0, close(exp));
	for (i = 0; i < 5; i++)
		EXPECT_TRUE(hd_wait_withdrawn(dev, &ids[i]));
	EXPECT_EQ(1, hd_listed(dev, &mine));
	EXPECT_TRUE(hd_status_is(dev, &mine, HD_ST_HERE, HD_ST_UNEXPORTED));
	EXPECT_EQ(0, hd_unexport(dev, &mine, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &mine));
	expect_baseline_now(_metadata, &self->env);
}

/*
 * Two imports of one buffer; close (and unmap) @first_closes of them, the
 * other keeps working, then close it too.
 */
static void two_imports(struct __test_metadata *_metadata,
			struct hd_env *env, struct hd_vbuf *buf,
			int first_closes)
{
	struct hyper_dmabuf_id id;
	unsigned char *map[2];
	size_t size = buf->size;
	int fd[2], first = first_closes, second = !first_closes;

	ASSERT_EQ(0, hd_export(env->dev, buf->fd, env->vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(env->dev, &id, O_RDWR | O_CLOEXEC, &fd[0],
				    HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_import(env->dev, &id, O_RDWR | O_CLOEXEC, &fd[1]));
	map[0] = map_rw(fd[0], size);
	ASSERT_NE(NULL, map[0]);
	map[1] = map_rw(fd[1], size);
	ASSERT_NE(NULL, map[1]);
	EXPECT_EQ(size, hd_check(map[0], size, LIFE_SEED));
	EXPECT_EQ(size, hd_check(map[1], size, LIFE_SEED));

	munmap(map[first], size);
	ASSERT_EQ(0, close(fd[first]));
	usleep(100000);
	expect_still_shared(_metadata, buf, fd[second], map[second],
			    LIFE_SEED + 3);
	EXPECT_TRUE(hd_status_is(env->dev, &id, HD_ST_IMPORTED, 0));

	munmap(map[second], size);
	ASSERT_EQ(0, close(fd[second]));
	EXPECT_TRUE(hd_wait_until(hd_status_is(env->dev, &id, HD_ST_HERE,
					       HD_ST_IMPORTED),
				  HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(0, hd_unexport(env->dev, &id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(env->dev, &id));
	expect_baseline_now(_metadata, env);
}

TEST_F(life, close_first_import_first)
{
	if (!self->ready)
		return;
	two_imports(_metadata, &self->env, &self->buf, 0);
}

TEST_F(life, close_second_import_first)
{
	if (!self->ready)
		return;
	two_imports(_metadata, &self->env, &self->buf, 1);
}

/* A mapping keeps the imported dma-buf alive after its fd is closed. */
TEST_F(life, mapping_outlives_import_fd)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	unsigned char *map;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = map_rw(fd, size);
	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));

	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED));
	hd_fill(self->buf.map, size, LIFE_SEED + 4);
	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED + 4));
	munmap(map, size);
	expect_baseline_now(_metadata, &self->env);
}

/* The export holds the exporter's dma-buf: it may close everything. */
TEST_F(life, export_outlives_exporter_dmabuf_fd)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	unsigned char *map;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	/* unmap, close the dma-buf and drop the GEM handle */
	hd_vbuf_destroy(&self->buf);

	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(size, hd_check(map, size, LIFE_SEED));
	munmap(map, size);
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &id));
	expect_baseline_now(_metadata, &self->env);
}

/*
 * Delayed unexport: pending (still listed, still importable, a second
 * unexport is EALREADY), then withdrawn once the delay has passed.
 */
TEST_F(life, delayed_unexport)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, reader, fd = -1, listed, ret;
	long long t0, t1;

	if (!self->ready)
		return;
	reader = hd_open_dev();
	ASSERT_LE(0, reader);
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));

	t0 = hd_now_ms();
	ASSERT_EQ(0, hd_unexport(dev, &id, DELAY_MS));
	ASSERT_EQ(0, hd_query(dev, &id, &q));
	listed = hd_listed(dev, &id);
	ret = hd_import(dev, &id, O_RDWR | O_CLOEXEC, &fd);
	t1 = hd_now_ms();
	if (t1 - t0 < DELAY_MS) {
		EXPECT_TRUE(hd_has(q.status, HD_ST_HERE | HD_ST_PENDING));
		EXPECT_FALSE(hd_has(q.status, HD_ST_UNEXPORTED));
		EXPECT_EQ(1, listed);
		EXPECT_EQ(0, ret);
	} else {
		TH_LOG("too slow to look inside the delay (%lld ms)", t1 - t0);
	}
	EXPECT_EQ(-EALREADY, hd_unexport(dev, &id, 0));

	ASSERT_EQ(0, hd_wait_event(reader, HYPER_DMABUF_EVENT_WITHDRAWN, &id,
				   &ev, DELAY_MS + HD_WITHDRAW_TIMEOUT_MS));
	/* not before the delay */
	EXPECT_LE(t0 + DELAY_MS, hd_now_ms());
	EXPECT_TRUE(hd_wait_withdrawn(dev, &id));
	if (fd >= 0) {
		/* still imported, so still known: now unexported */
		EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id,
						       HD_ST_UNEXPORTED,
						       HD_ST_PENDING),
					  HD_WITHDRAW_TIMEOUT_MS));
		close(fd);
	}
	close(reader);
	expect_baseline_now(_metadata, &self->env);
}

/* Closing the file with a delayed unexport pending still withdraws. */
TEST_F(life, close_file_with_delayed_unexport_pending)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, exp;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	ASSERT_EQ(0, hd_unexport(exp, &id, DELAY_MS));
	ASSERT_EQ(0, close(exp));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &id));
	expect_baseline_now(_metadata, &self->env);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct hyper_dmabuf_id));
}

/*
 * 10,000 exports (or $HD_MANY_EXPORTS) from one file; closing it releases
 * them all.
 */
TEST_F_TIMEOUT(life, many_exports_released_by_close, 1900)
{
	int dev = self->env.dev, exp, i, ret, many = many_exports();
	struct hd_stats st, now;
	struct hyper_dmabuf_id *ids;
	__u32 base_count, count = 0;

	if (!self->ready)
		return;
	TH_LOG("%d exports", many);
	for (i = 0; i < (int)ARRAY_SIZE(many_limits); i++) {
		self->saved[i] = hd_param(many_limits[i].name, -1);
		ASSERT_LE(0, self->saved[i]);
		ASSERT_EQ(0, hd_param_set(many_limits[i].name,
					  many_limits[i].val));
		self->raised = i + 1;
	}
	ids = calloc(many, sizeof(*ids));
	ASSERT_NE(NULL, ids);
	ASSERT_EQ(0, hd_list_count(dev, &base_count));
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	for (i = 0; i < many; i++) {
		ret = hd_export(exp, self->buf.fd, self->env.vmid, 0, &ids[i]);
		ASSERT_EQ(0, ret) {
			TH_LOG("export %d of %d failed", i, many);
		}
	}
	ASSERT_EQ(0, hd_stats_read(&st));
	EXPECT_EQ(self->env.base.exports + many, st.exports);
	EXPECT_TRUE(hd_wait_until(!hd_list_count(dev, &count) &&
				  count == base_count + many,
				  MANY_TIMEOUT_MS)) {
		TH_LOG("LIST: %u, expected %u", count,
		       base_count + many);
	}

	/* every id is different */
	qsort(ids, many, sizeof(*ids), id_cmp);
	for (i = 1; i < many; i++)
		ASSERT_NE(0, id_cmp(&ids[i - 1], &ids[i]));

	ASSERT_EQ(0, close(exp));
	EXPECT_TRUE(hd_wait_until(!hd_list_count(dev, &count) &&
				  count == base_count, MANY_TIMEOUT_MS)) {
		TH_LOG("LIST: %u, expected %u", count, base_count);
	}
	EXPECT_TRUE(hd_stats_wait(&self->env.base, MANY_TIMEOUT_MS, &now)) {
		hd_log_stats(_metadata, "at start", &self->env.base);
		hd_log_stats(_metadata, "now", &now);
	}
	EXPECT_EQ(0, hd_listed(dev, &ids[0]));
	free(ids);
}

TEST_HARNESS_MAIN
