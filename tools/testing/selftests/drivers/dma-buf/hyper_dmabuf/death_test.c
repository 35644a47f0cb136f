// SPDX-License-Identifier: GPL-2.0
/*
 * The peer dies at each step of the protocol, over the loopback backend:
 * the step's message is held back in flight (debugfs
 * hyper_dmabuf_loopback/hold), or its map stalled halfway (map_delay_ms),
 * and then the peer goes away and comes back (the loopback's reconnect,
 * as a VM whose driver reloads, or a new VM under the same id).  The held
 * message dies with the peer.  Each time the survivor must end the step
 * at once with the documented result, keep what it maps, post each event
 * once, release every page, and make the next share work.
 *
 * Steps: after the announce and before the peer saw it; after the peer
 * took it and before its reply arrived; during the importer's map; with
 * the import mapped; during a delayed unexport; during a synchronous
 * unexport's wait for its reply; during RELEASE.  (A link handshake and
 * a module reload belong to the real transports: the rigs kill VMs
 * there.)
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>

#include "hdmabuf_util.h"

/* Message types of the protocol (drivers/.../proto.h). */
enum death_msg {
	DM_EXPORT = 1,
	DM_EXPORT_REPLY,
	DM_UNEXPORT,
	DM_RELEASE,
	DM_USAGE,
	DM_UNEXPORT_REPLY,
};

#define DEATH_SIZE	(16 * HD_PAGE_SIZE)
#define DEATH_SEED	0xdead
#define REL_EVENT	HYPER_DMABUF_EXPORT_RELEASED_EVENT
/* How long a map stalls: far longer than the test needs to act. */
#define MAP_DELAY_MS	3000
#define DELAY_MS	1500

FIXTURE(death) {
	struct hd_env env;
	struct hd_vbuf buf;
	int imp;		/* the importing side's own open file */
	long timeout_ms;	/* the core's msg_timeout_ms */
	int ready;
};

/* Empty the loopback's held messages: they died with the peer. */
static void drop_held(void)
{
	char msg[HD_LB_MSG_SIZE];
	int fd;

	fd = open(HD_LB_DEBUGFS "held", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (read(fd, msg, sizeof(msg)) == HD_LB_MSG_SIZE)
		;
	close(fd);
}

FIXTURE_SETUP(death)
{
	self->imp = -1;
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	if (access(HD_LB_PARAMS "reconnect", W_OK) ||
	    access(HD_LB_DEBUGFS "map_delay_ms", W_OK))
		SKIP(return, "loopback has no test hooks");
	self->timeout_ms = hd_param("msg_timeout_ms", 3500);
	self->imp = hd_open_dev();
	ASSERT_LE(0, self->imp);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, DEATH_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, DEATH_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(death)
{
	hd_lb_hold(0);
	hd_write_file(HD_LB_DEBUGFS "map_delay_ms", "0");
	drop_held();
	hd_close(&self->imp);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* Wait until a message of @type is held: the step is in flight. */
static int wait_held(int type)
{
	unsigned char msg[HD_LB_MSG_SIZE];

	return hd_lb_held(type, msg, HD_EVENT_TIMEOUT_MS);
}

/* The peer dies and a new one comes up under its id. */
static int peer_dies(void)
{
	return hd_lb_write("reconnect", "1");
}

/*
 * @id is released (WAIT_RELEASED returns at once or soon), and @dev got
 * its RELEASED event exactly once.
 */
static void released_once(struct __test_metadata *_metadata, int dev,
			  const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_event ev;

	EXPECT_EQ(0, hd_wait_released(dev, id, HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, id, &ev, 0));
	EXPECT_EQ(0, hd_count_events(dev, HD_EV_RELEASED, id));
}

/* The exports and pages of both sides are back where the test began. */
static void expect_back(struct __test_metadata *_metadata,
			const struct hd_env *env)
{
	hd_expect_baseline(_metadata, &env->base, HD_RELEASE_TIMEOUT_MS);
}

/*
 * The next normal share works, with the new peer: export, import, read
 * every byte, let go, unexport, and the release comes.
 */
static void next_share_works(struct __test_metadata *_metadata,
			     const struct hd_env *env,
			     const struct hd_vbuf *buf, int imp)
{
	size_t size = buf->size;
	struct hyper_dmabuf_id id;
	unsigned char *map;
	int fd;

	ASSERT_EQ(0, hd_export(env->dev, buf->fd, env->vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(imp, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(size, hd_check(map, size, DEATH_SEED));
	munmap(map, size);
	close(fd);
	EXPECT_EQ(0, hd_unexport(env->dev, &id, 0));
	EXPECT_EQ(0, hd_wait_released(env->dev, &id, HD_RELEASE_TIMEOUT_MS));
	expect_back(_metadata, env);
}

/*
 * Export the buffer (RELEASED event asked for) and import it on @imp:
 * its id in @id, the import in @fd.
 */
static void share(struct __test_metadata *_metadata, const struct hd_env *env,
		  const struct hd_vbuf *buf, int imp, struct hyper_dmabuf_id *id,
		  int *fd)
{
	ASSERT_EQ(0, hd_export(env->dev, buf->fd, env->vmid, REL_EVENT, id));
	ASSERT_EQ(0, hd_import_wait(imp, id, O_RDWR | O_CLOEXEC, fd,
				    HD_EVENT_TIMEOUT_MS));
}

/**
 * struct call - a call another thread makes while the test acts
 * @dev: the open file it uses
 * @fd: EXPORT: the dma-buf
 * @vmid: EXPORT: to whom
 * @id: EXPORT: out; UNEXPORT: in
 * @ret: out: 0 or a negative errno
 * @took: out: milliseconds from @t0 until it returned
 * @t0: set by the test when it acts
 * @thread: the thread
 */
struct call {
	int dev, fd;
	__u32 vmid;
	struct hyper_dmabuf_id id;
	int ret;
	long long took, t0;
	pthread_t thread;
};

static void *export_fn(void *arg)
{
	struct call *c = arg;

	c->ret = hd_export(c->dev, c->fd, c->vmid, REL_EVENT, &c->id);
	c->took = hd_now_ms();
	return NULL;
}

static void *unexport_fn(void *arg)
{
	struct call *c = arg;

	c->ret = hd_unexport(c->dev, &c->id, 0);
	c->took = hd_now_ms();
	return NULL;
}

static void *import_fn(void *arg)
{
	struct call *c = arg;

	c->ret = hd_import(c->dev, &c->id, O_RDWR | O_CLOEXEC, &c->fd);
	c->took = hd_now_ms();
	return NULL;
}

/*
 * Hold back messages of @type, start @fn in @c's thread and wait until
 * its message of @type is held: the call is in flight at that step.
 * 0 or a negative errno.
 */
static int call_until_held(struct call *c, void *(*fn)(void *), int type)
{
	int ret = hd_lb_hold(type);

	if (!ret)
		ret = -pthread_create(&c->thread, NULL, fn, c);
	return ret ?: wait_held(type);
}

/* Wait for @c; how long it took after the test acted is in @c->took. */
static void join(struct call *c)
{
	pthread_join(c->thread, NULL);
	c->took -= c->t0;
}

/*
 * The peer dies after the announce, before it ever saw it: EXPORT fails
 * with EHOSTUNREACH at once, not after the reply timeout, and leaves
 * nothing shared; the new peer never hears of the buffer.
 */
TEST_F(death, after_announce_before_delivery)
{
	struct call c = { .dev = self->env.dev, .fd = self->buf.fd,
			  .vmid = self->env.vmid };
	__u32 n;

	if (!self->ready)
		return;
	ASSERT_EQ(0, call_until_held(&c, export_fn, DM_EXPORT));
	c.t0 = hd_now_ms();
	ASSERT_EQ(0, peer_dies());
	join(&c);
	EXPECT_EQ(-EHOSTUNREACH, c.ret);
	EXPECT_GT(self->timeout_ms / 2, c.took) {
		TH_LOG("EXPORT returned %lld ms after the peer died", c.took);
	}
	ASSERT_EQ(0, hd_lb_hold(0));
	expect_back(_metadata, &self->env);
	ASSERT_EQ(0, hd_list_count(self->imp, &n));
	EXPECT_EQ(0u, n);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The peer took the announcement and its reply is in flight when it dies:
 * EXPORT fails with EHOSTUNREACH at once; on the importing side the
 * buffer came (NEW) and went (WITHDRAWN), once each, and cannot be
 * imported.
 */
TEST_F(death, after_accept_before_reply)
{
	struct call c = { .dev = self->env.dev, .fd = self->buf.fd,
			  .vmid = self->env.vmid };
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, call_until_held(&c, export_fn, DM_EXPORT_REPLY));
	/* the importing side has it, under the id the caller will be given */
	ASSERT_EQ(0, hd_read_event(self->imp, &ev, HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(HD_EV_NEW, ev.type);
	id = ev.id;
	c.t0 = hd_now_ms();
	ASSERT_EQ(0, peer_dies());
	join(&c);
	EXPECT_EQ(-EHOSTUNREACH, c.ret);
	EXPECT_GT(self->timeout_ms / 2, c.took);
	ASSERT_EQ(0, hd_lb_hold(0));
	EXPECT_EQ(0, hd_wait_event(self->imp, HD_EV_WITHDRAWN, &id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(-ENOENT, hd_import(self->imp, &id, O_RDWR, &fd));
	expect_back(_metadata, &self->env);
	EXPECT_EQ(0, hd_count_events(self->imp, HD_EV_NEW, &id));
	EXPECT_EQ(0, hd_count_events(self->imp, HD_EV_WITHDRAWN, &id));
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The peer dies while the importer maps the buffer (the map holds the
 * share and is stalled halfway): IMPORT fails with ENOENT once the map
 * ends, unmaps what it mapped, and only then does the exporter get its
 * pages back, with one RELEASED event.
 */
TEST_F(death, during_importer_map)
{
	struct call c = { .dev = self->imp, .fd = -1 };
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;
	char val[16];

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_TRUE(hd_wait_listed(self->imp, &id));
	snprintf(val, sizeof(val), "%d", MAP_DELAY_MS);
	ASSERT_EQ(0, hd_write_file(HD_LB_DEBUGFS "map_delay_ms", val));
	c.id = id;
	c.t0 = hd_now_ms();
	ASSERT_EQ(0, pthread_create(&c.thread, NULL, import_fn, &c));
	EXPECT_TRUE(hd_wait_until(!hd_read_file(HD_LB_DEBUGFS "map_stalled",
						val, sizeof(val)) &&
				  atoi(val) == 1, HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_write_file(HD_LB_DEBUGFS "map_delay_ms", "0"));
	ASSERT_EQ(0, peer_dies());
	/* the map still holds the pages: not released yet */
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 200));
	join(&c);
	EXPECT_EQ(-ENOENT, c.ret);
	if (!c.ret)
		close(c.fd);
	EXPECT_LE(MAP_DELAY_MS - 200, c.took);
	released_once(_metadata, dev, &id);
	expect_back(_metadata, &self->env);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The peer dies with the import mapped into a process: the export ends
 * on the exporting side at once, the importer withdraws the buffer (once)
 * but keeps reading and writing the same pages until it lets go, and the
 * exporter sees what it wrote; then the pages come back.
 */
TEST_F(death, with_import_mmapped)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd, fd2;
	unsigned char *map;

	if (!self->ready)
		return;
	share(_metadata, &self->env, &self->buf, self->imp, &id, &fd);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	hd_drain_events(self->imp);

	ASSERT_EQ(0, peer_dies());
	EXPECT_EQ(-ENOENT, hd_query(dev, &id, &q));
	EXPECT_EQ(0, hd_wait_event(self->imp, HD_EV_WITHDRAWN, &id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(-ENOENT, hd_import(self->imp, &id, O_RDWR, &fd2));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 300));
	EXPECT_EQ(size, hd_check(map, size, DEATH_SEED));
	hd_fill(map, size, DEATH_SEED + 1);
	EXPECT_EQ(size, hd_check(self->buf.map, size, DEATH_SEED + 1));
	hd_fill(self->buf.map, size, DEATH_SEED);
	munmap(map, size);

	released_once(_metadata, dev, &id);
	EXPECT_EQ(0, hd_count_events(self->imp, HD_EV_WITHDRAWN, &id));
	expect_back(_metadata, &self->env);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The peer dies while an unexport is delayed: the export ends then, and
 * the delayed withdrawal, when its time comes, finds nothing to do; one
 * RELEASED, and the id is unknown from then on.
 */
TEST_F(death, during_delayed_unexport)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	share(_metadata, &self->env, &self->buf, self->imp, &id, &fd);
	close(fd);
	ASSERT_EQ(0, hd_unexport(dev, &id, DELAY_MS));
	ASSERT_EQ(0, peer_dies());
	EXPECT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(-ENOENT, hd_unexport(dev, &id, 0));
	/* past the delay: the work ran, or was cancelled, and did nothing */
	usleep((DELAY_MS + 500) * 1000);
	EXPECT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev, 0));
	EXPECT_EQ(0, hd_count_events(dev, HD_EV_RELEASED, &id));
	EXPECT_EQ(-ENOENT, hd_unexport(dev, &id, 0));
	expect_back(_metadata, &self->env);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The peer dies while a synchronous unexport waits for its reply (the
 * importer maps the buffer, so the unexport cannot end it at once): the
 * call returns 0 at once, since nobody can make a new dma-buf of the
 * buffer any more; the importer keeps its pages until it lets go.
 */
TEST_F(death, during_unexport_reply)
{
	struct call c = { .dev = self->env.dev, .fd = -1 };
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	share(_metadata, &self->env, &self->buf, self->imp, &c.id, &fd);
	ASSERT_EQ(0, call_until_held(&c, unexport_fn, DM_UNEXPORT_REPLY));
	/* still waiting for the reply */
	usleep(200 * 1000);
	EXPECT_EQ(0, c.took);
	c.t0 = hd_now_ms();
	ASSERT_EQ(0, peer_dies());
	join(&c);
	EXPECT_EQ(0, c.ret);
	EXPECT_GT(self->timeout_ms / 2, c.took);
	ASSERT_EQ(0, hd_lb_hold(0));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &c.id, 200));
	close(fd);
	released_once(_metadata, dev, &c.id);
	expect_back(_metadata, &self->env);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

/*
 * The importer let go and its RELEASE is in flight when it dies: the
 * exporter, still waiting for that RELEASE, gets its pages back from the
 * peer's departure, with one RELEASED event.
 */
TEST_F(death, during_release)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	size_t size = self->buf.size;
	unsigned char *map;

	if (!self->ready)
		return;
	share(_metadata, &self->env, &self->buf, self->imp, &id, &fd);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	/* the importer still maps it: the exporter waits */
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 200));
	ASSERT_EQ(0, hd_lb_hold(DM_RELEASE));
	munmap(map, size);
	ASSERT_EQ(0, wait_held(DM_RELEASE));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 200));
	ASSERT_EQ(0, peer_dies());
	ASSERT_EQ(0, hd_lb_hold(0));
	released_once(_metadata, dev, &id);
	expect_back(_metadata, &self->env);
	next_share_works(_metadata, &self->env, &self->buf, self->imp);
}

TEST_HARNESS_MAIN
