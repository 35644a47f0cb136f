// SPDX-License-Identifier: GPL-2.0
/*
 * The peer misbehaves or goes away: a silent peer, a peer whose driver
 * reloads, and module unload while buffers live.  Uses the loopback
 * backend's fault-injection parameters.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "hdmabuf_util.h"

#define PEER_SIZE	(8 * HD_PAGE_SIZE)
#define PEER_SEED	77

FIXTURE(peer) {
	struct hd_env env;
	struct hd_vbuf buf;
	int ready;
};

FIXTURE_SETUP(peer)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	if (access(HD_LB_PARAMS "silent", W_OK))
		SKIP(return, "loopback has no fault injection");
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, PEER_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, PEER_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(peer)
{
	hd_lb_write("silent", "0");
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/*
 * A peer that never answers: the export fails with ETIMEDOUT after the
 * message timeout, not a hang.  The peer may have seen the announcement,
 * but it never mapped the buffer: the withdrawal revokes the sharing and
 * the export is released at once.
 */
TEST_F(peer, silent_peer_times_out)
{
	long timeout = hd_param("msg_timeout_ms", 3500);
	struct hd_stats st;
	long long t0, took;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_lb_write("silent", "1"));
	t0 = hd_now_ms();
	EXPECT_EQ(-ETIMEDOUT, hd_export(self->env.dev, self->buf.fd,
					self->env.vmid, 0, NULL));
	took = hd_now_ms() - t0;
	EXPECT_GE(took, timeout - 50);
	EXPECT_LT(took, timeout + 10000);
	EXPECT_TRUE(hd_stats_wait(&self->env.base, HD_RELEASE_TIMEOUT_MS,
				  &st)) {
		hd_log_stats(_metadata, "at start", &self->env.base);
		hd_log_stats(_metadata, "now", &st);
	}
	ASSERT_EQ(0, hd_lb_write("silent", "0"));
}

/*
 * What a peer that stops answering keeps after unexport: the buffer it
 * maps, and nothing else.  Of two exports, one imported and mapped here
 * and one never taken, the second is revoked and released at once when
 * withdrawn; the first stays shared, its import reading the exporter's
 * pages, until the peer is gone (it never hears of the withdrawal).
 */
TEST_F(peer, silent_peer_keeps_what_it_maps)
{
	struct hyper_dmabuf_id mapped, idle;
	size_t size = self->buf.size;
	int exp, fd = -1;
	struct hd_stats st;
	unsigned char *map;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0, &mapped));
	ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0, &idle));
	ASSERT_EQ(0, hd_import_wait(self->env.dev, &mapped, O_RDONLY, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);

	ASSERT_EQ(0, hd_lb_write("silent", "1"));
	EXPECT_EQ(0, hd_unexport(exp, &idle, 0));
	EXPECT_EQ(-ETIMEDOUT, hd_unexport(exp, &mapped, 0));
	ASSERT_EQ(0, hd_stats_read(&st));
	EXPECT_EQ(self->env.base.exports + 1, st.exports);
	EXPECT_EQ(self->env.base.shared_pages + 8, st.shared_pages);
	EXPECT_EQ(size, hd_check(map, size, PEER_SEED));
	munmap(map, size);
	close(fd);
	close(exp);
	ASSERT_EQ(0, hd_stats_read(&st));
	EXPECT_EQ(self->env.base.exports + 1, st.exports);

	/* The peer comes back as a new instance: everything is released. */
	ASSERT_EQ(0, hd_lb_write("silent", "0"));
	ASSERT_EQ(0, hd_lb_write("reconnect", "1"));
	EXPECT_TRUE(hd_stats_wait(&self->env.base, HD_RELEASE_TIMEOUT_MS,
				  &st));
}

/* Waiting for a silent peer can be killed. */
TEST_F(peer, wait_for_silent_peer_is_killable)
{
	struct hd_stats st;
	long long t0;
	pid_t pid;
	int status;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_lb_write("silent", "1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			  NULL);
		_exit(0);
	}
	usleep(300 * 1000);
	t0 = hd_now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_LT(hd_now_ms() - t0, 1500);

	ASSERT_EQ(0, hd_lb_write("silent", "0"));
	ASSERT_EQ(0, hd_lb_write("reconnect", "1"));
	EXPECT_TRUE(hd_stats_wait(&self->env.base, HD_RELEASE_TIMEOUT_MS,
				  &st));
}

/*
 * The peer's driver reloads while a buffer is imported and mapped: the
 * import is withdrawn (event, list), the mapping keeps the same pages,
 * and the export, released by the peer's departure, is gone.
 */
TEST_F(peer, peer_reload_keeps_mappings)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd = -1;
	unsigned char *map;
	size_t size = self->buf.size;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	hd_drain_events(dev);

	ASSERT_EQ(0, hd_lb_write("reconnect", "1"));
	EXPECT_EQ(0, hd_wait_event(dev, HD_EV_WITHDRAWN, &id, &ev,
				   HD_WITHDRAW_TIMEOUT_MS));
	EXPECT_EQ(0, hd_listed(dev, &id));
	EXPECT_EQ(-ENOENT, hd_import(dev, &id, O_RDONLY, &fd));
	EXPECT_EQ(-ENOENT, hd_unexport(dev, &id, 0));

	/* Still the exporter's pages, both ways. */
	EXPECT_EQ(size, hd_check(map, size, PEER_SEED));
	hd_fill(self->buf.map, size, PEER_SEED + 1);
	EXPECT_EQ(size, hd_check(map, size, PEER_SEED + 1));

	/* The peer is back: sharing works again. */
	EXPECT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	munmap(map, size);
	close(fd);
}

#define PEER_FUZZ	HD_DEBUGFS "/peer_fuzz"
#define PEER_RX		HD_DEBUGFS "/rx"

/* One counter of hyper_dmabuf/rx, or -1. */
static long long rx_count(const char *key)
{
	char line[128], k[64];
	long long val, ret = -1;
	FILE *f = fopen(PEER_RX, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %63[^: ] : %lld", k, &val) == 2 &&
		    !strcmp(k, key))
			ret = val;
	fclose(f);
	return ret;
}

/* The value after @key in peer_fuzz's line @line, or -1. */
static long long fuzz_field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	long long val;

	if (!p || sscanf(p + strlen(key), " %lld", &val) != 1)
		return -1;
	return val;
}

/*
 * The peer sends malformed and lying messages (hyper_dmabuf/peer_fuzz,
 * $HD_PEER_FUZZ of them, 20,000 by default, seed $HD_PEER_FUZZ_SEED):
 * every one is counted, at least every one that cannot decode is
 * rejected, a real import made before works all along, and once the peer
 * has gone and come back nothing of what it announced is left.
 */
TEST_F(peer, malformed_messages_from_peer)
{
	const char *env = getenv("HD_PEER_FUZZ");
	const char *senv = getenv("HD_PEER_FUZZ_SEED");
	long long count = env ? atoll(env) : 20000;
	long long seed = senv ? atoll(senv) : 97;
	long long m0, b0, m1, b1, bad;
	struct hyper_dmabuf_id id;
	struct hd_stats base, st;
	char cmd[64], line[256];
	int dev = self->env.dev, fd = -1;
	unsigned char *map;
	ssize_t n;
	int pf;

	if (!self->ready)
		return;
	if (access(PEER_FUZZ, W_OK))
		SKIP(return, "no %s (CONFIG_HYPER_DMABUF_TEST_FUZZ)", PEER_FUZZ);
	ASSERT_EQ(0, hd_stats_settle(&base, 500));
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, self->buf.size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	m0 = rx_count("messages");
	b0 = rx_count("malformed");
	ASSERT_LE(0, m0);
	ASSERT_LE(0, b0);

	TH_LOG("seed %lld: %lld messages", seed, count);
	pf = open(PEER_FUZZ, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pf);
	snprintf(cmd, sizeof(cmd), "%u %lld %lld", self->env.vmid, count, seed);
	EXPECT_EQ((ssize_t)strlen(cmd), write(pf, cmd, strlen(cmd)));
	n = pread(pf, line, sizeof(line) - 1, 0);
	close(pf);
	ASSERT_LT(0, n);
	line[n] = '\0';
	TH_LOG("%s", line);
	EXPECT_EQ(count, fuzz_field(line, "sent"));
	EXPECT_EQ(0, fuzz_field(line, "err"));
	bad = fuzz_field(line, "random") + fuzz_field(line, "header");

	EXPECT_TRUE(hd_wait_until(rx_count("messages") - m0 >= count,
				  60000));
	m1 = rx_count("messages");
	b1 = rx_count("malformed");
	TH_LOG("received %lld, malformed %lld", m1 - m0, b1 - b0);
	EXPECT_LE(bad, b1 - b0);
	EXPECT_GE(m1 - m0, b1 - b0);

	/* The real import saw none of it. */
	EXPECT_EQ(self->buf.size, hd_check(map, self->buf.size, PEER_SEED));
	EXPECT_EQ(1, hd_listed(dev, &id));
	munmap(map, self->buf.size);
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));

	/* The peer goes and comes back: what it announced goes with it. */
	ASSERT_EQ(0, hd_lb_write("reconnect", "1"));
	EXPECT_TRUE(hd_stats_wait(&base, HD_RELEASE_TIMEOUT_MS, &st));
	hd_log_stats(_metadata, "after", &st);
	EXPECT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	EXPECT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

static long delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* Modules cannot be unloaded from under live buffers. */
TEST_F(peer, unload_refused_while_shared)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd = -1;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(-1, delete_module("hyper_dmabuf_loopback"));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(-1, delete_module("hyper_dmabuf"));
	EXPECT_EQ(EWOULDBLOCK, errno);

	/* Unexported, but the import still maps the pages. */
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &id));
	EXPECT_EQ(-1, delete_module("hyper_dmabuf_loopback"));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
}

TEST_HARNESS_MAIN
