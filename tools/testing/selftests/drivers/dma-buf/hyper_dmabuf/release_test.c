// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting for release: the exporter learns when the importing VM can reach
 * none of a buffer's pages any more, and not before, through the RELEASED
 * event (asked for at export, sent to the exporting file only) and the
 * WAIT_RELEASED ioctl: after the importer lets go, while it still holds
 * the buffer (ETIMEDOUT), for ids the file never exported (ENOENT), for
 * ids released a while ago (the last HYPER_DMABUF_RELEASED_HISTORY), when
 * the peer goes away meanwhile, and under signals.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "hdmabuf_util.h"

#define REL_SIZE	(4 * HD_PAGE_SIZE)
#define REL_SEED	83
#define REL_EVENT	HYPER_DMABUF_EXPORT_RELEASED_EVENT

/* How long a thread waits before it acts, and a wait that must expire. */
#define LATER_MS	500
#define SHORT_MS	300

FIXTURE(rel) {
	struct hd_env env;
	struct hd_vbuf buf;
	int ready;
};

FIXTURE_SETUP(rel)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, REL_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, REL_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(rel)
{
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* The exports and shared pages are back to the start of the test, now. */
static void expect_pages_back(struct __test_metadata *_metadata,
			      const struct hd_env *env)
{
	struct hd_stats st;

	ASSERT_EQ(0, hd_stats_read(&st));
	EXPECT_EQ(env->base.exports, st.exports);
	EXPECT_EQ(env->base.shared_pages, st.shared_pages);
}

/**
 * struct later - something another thread does after LATER_MS
 * @fd: close this file descriptor, if not -1
 * @reconnect: then make the loopback peer go away and come back
 * @ret: out: 0 or a negative errno
 */
struct later {
	int fd;
	int reconnect;
	int ret;
};

static void *later_fn(void *arg)
{
	struct later *l = arg;

	usleep(LATER_MS * 1000);
	l->ret = 0;
	if (l->fd >= 0 && close(l->fd))
		l->ret = -errno;
	if (!l->ret && l->reconnect)
		l->ret = hd_lb_write("reconnect", "1");
	return NULL;
}

/*
 * RELEASED comes once the importer lets go, not while its mapping holds
 * the buffer after the unexport, and only to the exporting file; by then
 * the exporter's pages are back (the counters say so at that moment).
 */
TEST_F(rel, event_after_importer_lets_go)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, other, fd;
	struct hd_stats st;
	unsigned char *map;

	if (!self->ready)
		return;
	other = hd_open_dev();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));

	/* Withdrawn, but the mapping still holds the pages. */
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev,
					    1000));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 0));
	ASSERT_EQ(0, hd_stats_read(&st));
	EXPECT_EQ(self->env.base.exports + 1, st.exports);
	EXPECT_EQ(size, hd_check(map, size, REL_SEED));

	munmap(map, size);
	ASSERT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev,
				   HD_RELEASE_TIMEOUT_MS));
	expect_pages_back(_metadata, &self->env);
	EXPECT_EQ(self->env.vmid, ev.exporter_vmid);
	EXPECT_EQ(size, ev.size);
	EXPECT_EQ(0u, ev.priv_len);
	EXPECT_EQ(0u, ev.reserved);
	EXPECT_EQ(0, hd_wait_released(dev, &id, 0));
	EXPECT_EQ(0, hd_count_events(dev, HD_EV_RELEASED, NULL));

	/* Another open file heard of the buffer, not of its release. */
	EXPECT_EQ(0, hd_count_events(other, HD_EV_RELEASED, NULL));
	close(other);
}

/* Never imported: released once the unexport reaches the importer. */
TEST_F(rel, event_when_never_imported)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev,
				   HD_RELEASE_TIMEOUT_MS));
	expect_pages_back(_metadata, &self->env);
}

/* Without the flag there is no event (old programs see nothing new). */
TEST_F(rel, no_event_unless_asked)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS));
	/* The event would have been queued before the wait returned. */
	EXPECT_EQ(0, hd_count_events(dev, HD_EV_RELEASED, NULL));
}

/*
 * WAIT_RELEASED times out while the importer holds the buffer, and
 * returns 0 once it closed it, not before.
 */
TEST_F(rel, wait_returns_when_importer_closes)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	struct later l = { .fd = -1, .ret = -EINPROGRESS };
	pthread_t thread;
	long long t0, took;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));

	t0 = hd_now_ms();
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, SHORT_MS));
	took = hd_now_ms() - t0;
	EXPECT_LE(SHORT_MS, took);
	EXPECT_GT(SHORT_MS + 5000, took);

	l.fd = fd;
	t0 = hd_now_ms();
	ASSERT_EQ(0, pthread_create(&thread, NULL, later_fn, &l));
	EXPECT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS +
						LATER_MS));
	took = hd_now_ms() - t0;
	pthread_join(thread, NULL);
	EXPECT_EQ(0, l.ret);
	EXPECT_LE(LATER_MS, took);
	expect_pages_back(_metadata, &self->env);
}

/* A live export has not ended: the wait times out; 0 ms only looks. */
TEST_F(rel, wait_on_live_export_times_out)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;
	long long t0;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	t0 = hd_now_ms();
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, 0));
	EXPECT_GT(1000, hd_now_ms() - t0);
	t0 = hd_now_ms();
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, SHORT_MS));
	EXPECT_LE(SHORT_MS, hd_now_ms() - t0);
	EXPECT_TRUE(hd_status_is(dev, &id, HD_ST_HERE, HD_ST_UNEXPORTED));
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS));
}

/*
 * ENOENT for every id this file did not export: another file's live or
 * released export, a wrong key, vmid or seq, the all-zero id.
 */
TEST_F(rel, wait_foreign_ids_is_enoent)
{
	struct hyper_dmabuf_id id, theirs, bad;
	int dev = self->env.dev, other;

	if (!self->ready)
		return;
	other = hd_open_dev();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, hd_export(other, self->buf.fd, self->env.vmid, 0,
			       &theirs));
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &theirs, 0));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(other, &theirs, 0));

	bad = id;
	bad.key[1] ^= 1;
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &bad, 0));
	bad = id;
	bad.seq ^= 0x40000000u;
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &bad, 0));
	bad = id;
	bad.vmid ^= 1;
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &bad, 0));
	memset(&bad, 0, sizeof(bad));
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &bad, 0));

	/* Released, it is still another file's. */
	ASSERT_EQ(0, hd_unexport(other, &theirs, 0));
	EXPECT_EQ(0, hd_wait_released(other, &theirs, HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &theirs, 0));
	/* ... and an empty history matches no zero id. */
	memset(&bad, 0, sizeof(bad));
	EXPECT_EQ(-ENOENT, hd_wait_released(other, &bad, 0));
	close(other);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* Export, unexport and wait for the release of one buffer of @dev. */
static int cycle(int dev, struct hd_env *env, struct hd_vbuf *buf,
		 struct hyper_dmabuf_id *id)
{
	int ret;

	ret = hd_export(dev, buf->fd, env->vmid, 0, id);
	if (!ret)
		ret = hd_unexport(dev, id, 0);
	if (!ret)
		ret = hd_wait_released(dev, id, HD_RELEASE_TIMEOUT_MS);
	return ret;
}

/*
 * A wait that starts after the release returns 0 at once, for the last
 * HYPER_DMABUF_RELEASED_HISTORY releases of the file; older ids are
 * forgotten (ENOENT).
 */
TEST_F_TIMEOUT(rel, wait_after_release_within_history, 300)
{
	struct hyper_dmabuf_id first, id, second;
	struct hyper_dmabuf_event ev;
	int dev = self->env.dev, i;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &first));
	ASSERT_EQ(0, hd_unexport(dev, &first, 0));
	/* It has ended before anyone waits. */
	ASSERT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &first, &ev,
				   HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(0, hd_wait_released(dev, &first, 0));
	EXPECT_EQ(0, hd_wait_released(dev, &first, HD_RELEASE_TIMEOUT_MS));

	for (i = 1; i < HYPER_DMABUF_RELEASED_HISTORY; i++) {
		ASSERT_EQ(0, cycle(dev, &self->env, &self->buf, &id)) {
			TH_LOG("release %d", i);
		}
		if (i == 1)
			second = id;
	}
	/* @first is the oldest of the last HYPER_DMABUF_RELEASED_HISTORY. */
	EXPECT_EQ(0, hd_wait_released(dev, &first, 0));
	ASSERT_EQ(0, cycle(dev, &self->env, &self->buf, &id));
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &first, 0));
	EXPECT_EQ(0, hd_wait_released(dev, &second, 0));
	EXPECT_EQ(0, hd_wait_released(dev, &id, 0));
}

/*
 * The peer goes away while the exporter waits: the backend says the pages
 * are free (nothing maps them), and the wait returns 0, with the event.
 */
TEST_F(rel, peer_gone_while_waiting)
{
	struct later l = { .fd = -1, .reconnect = 1, .ret = -EINPROGRESS };
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;
	pthread_t thread;
	long long t0, took;

	if (!self->ready)
		return;
	if (access(HD_LB_PARAMS "reconnect", W_OK))
		SKIP(return, "loopback has no fault injection");
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	t0 = hd_now_ms();
	ASSERT_EQ(0, pthread_create(&thread, NULL, later_fn, &l));
	EXPECT_EQ(0, hd_wait_released(dev, &id, 30000));
	took = hd_now_ms() - t0;
	pthread_join(thread, NULL);
	ASSERT_EQ(0, l.ret);
	EXPECT_LE(LATER_MS, took);
	EXPECT_GT(LATER_MS + HD_RELEASE_TIMEOUT_MS, took);
	EXPECT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev, 0));
	expect_pages_back(_metadata, &self->env);
}

/*
 * The peer goes away while its mapping holds the buffer: the mapping
 * outlives the peer, so the wait goes on until it is gone.
 */
TEST_F(rel, peer_gone_while_mapped)
{
	struct later l = { .fd = -1, .reconnect = 1, .ret = -EINPROGRESS };
	size_t size = self->buf.size;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	unsigned char *map;
	pthread_t thread;

	if (!self->ready)
		return;
	if (access(HD_LB_PARAMS "reconnect", W_OK))
		SKIP(return, "loopback has no fault injection");
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);

	ASSERT_EQ(0, pthread_create(&thread, NULL, later_fn, &l));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, LATER_MS + 1500));
	pthread_join(thread, NULL);
	ASSERT_EQ(0, l.ret);
	/* The export ended here (the peer is gone) ... */
	EXPECT_EQ(-ENOENT, hd_query(dev, &id, &q));
	/* ... but its pages are still reachable. */
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(dev, &id, SHORT_MS));
	EXPECT_EQ(size, hd_check(map, size, REL_SEED));

	munmap(map, size);
	EXPECT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS));
	expect_pages_back(_metadata, &self->env);
}

static void on_signal(int sig)
{
}

/*
 * A signal ends the wait with EINTR; a fatal one kills the waiter at once.
 * The children wait on the export through the open file they inherited.
 */
TEST_F(rel, signals_end_the_wait)
{
	struct sigaction sa;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, status, ret;
	long long t0, end;
	pid_t pid;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;	/* not restarted all the same */
		sigaction(SIGUSR1, &sa, NULL);
		ret = hd_wait_released(dev, &id, 60000);
		_exit(ret == -EINTR ? 0 : 10 + (ret < 0 ? -ret : 0));
	}
	/* Until the child is in the wait, a signal may come too early. */
	usleep(SHORT_MS * 1000);
	t0 = hd_now_ms();
	end = t0 + 10000;
	do {
		kill(pid, SIGUSR1);
		usleep(100 * 1000);
		ret = waitpid(pid, &status, WNOHANG);
	} while (!ret && hd_now_ms() < end);
	if (!ret) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ASSERT_EQ(pid, ret);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		hd_wait_released(dev, &id, 60000);
		_exit(0);
	}
	usleep(SHORT_MS * 1000);
	t0 = hd_now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_GT(1500, hd_now_ms() - t0);

	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_EQ(0, hd_wait_released(dev, &id, HD_RELEASE_TIMEOUT_MS));
}

/* A file closed before its exports end is told nothing, and nothing breaks. */
TEST_F(rel, exporter_closes_before_release)
{
	size_t size = self->buf.size;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, exp, fd;
	unsigned char *map;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	ASSERT_EQ(0, close(exp));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));
	EXPECT_EQ(size, hd_check(map, size, REL_SEED));
	munmap(map, size);
	/* The release goes nowhere; the pages come back all the same. */
	EXPECT_EQ(-ENOENT, hd_wait_released(dev, &id, 0));
	hd_expect_baseline(_metadata, &self->env.base, HD_RELEASE_TIMEOUT_MS);
}

/*
 * A file that does not read its events: released events overflow like any
 * other (one overflow record, nothing after it), the wait still answers
 * for the last releases, and a drained queue takes the event again.
 */
TEST_F_TIMEOUT(rel, overflow_keeps_the_wait, 300)
{
	long qlen = hd_param("event_queue_len", HD_EVENT_QUEUE_LEN);
	int dev = self->env.dev, i, j, n, nr_overflow = 0, after = 0;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id *ids, id;
	int *seen;

	if (!self->ready)
		return;
	/* Each release queues its event: one more than the queue holds. */
	ASSERT_LT(0, qlen);
	n = qlen + 1;
	ids = calloc(n, sizeof(*ids));
	seen = calloc(n, sizeof(*seen));
	ASSERT_NE(NULL, ids);
	ASSERT_NE(NULL, seen);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid,
				       REL_EVENT, &ids[i]));
		ASSERT_EQ(0, hd_unexport(dev, &ids[i], 0));
		ASSERT_EQ(0, hd_wait_released(dev, &ids[i],
					      HD_RELEASE_TIMEOUT_MS));
	}
	while (!hd_read_event(dev, &ev, 0)) {
		if (nr_overflow) {
			after++;
			continue;
		}
		if (ev.type == HD_EV_OVERFLOW) {
			nr_overflow++;
			EXPECT_TRUE(hd_id_is_zero(&ev.id));
			continue;
		}
		if (ev.type != HD_EV_RELEASED)
			continue;
		for (j = 0; j < n; j++)
			if (hd_id_eq(&ev.id, &ids[j]))
				seen[j]++;
	}
	EXPECT_EQ(1, nr_overflow);
	EXPECT_EQ(0, after);
	for (j = 0; j < n; j++)
		EXPECT_GE(1, seen[j]);
	/* The wait does not depend on the queue. */
	j = n > HYPER_DMABUF_RELEASED_HISTORY ?
		n - HYPER_DMABUF_RELEASED_HISTORY : 0;
	for (; j < n; j++)
		EXPECT_EQ(0, hd_wait_released(dev, &ids[j], 0));

	/* The drained queue takes the event again. */
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, REL_EVENT,
			       &id));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_EQ(0, hd_wait_event(dev, HD_EV_RELEASED, &id, &ev,
				   HD_RELEASE_TIMEOUT_MS));
	free(seen);
	free(ids);
}

TEST_HARNESS_MAIN
