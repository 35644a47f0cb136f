// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf events: poll() and read() of /dev/hyper_dmabuf, new-buffer
 * and withdrawn events, whole records, non-blocking reads, and a queue
 * that overflows: an overflow record, never a silent drop, then LIST to
 * resynchronise.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>

#include "hdmabuf_util.h"

#define EV_SIZE		((ssize_t)sizeof(struct hyper_dmabuf_event))
#define EXPORT_DELAY_MS	300

FIXTURE(ev) {
	struct hd_env env;
	struct hd_vbuf buf;
	int reader;		/* an open file that only reads events */
	__u32 n;
	char gfp_wait[8], verbose[8];
	int ready;
};

FIXTURE_SETUP(ev)
{
	hd_vbuf_init(&self->buf);
	self->reader = -1;
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, HD_PAGE_SIZE, &self->buf));
	self->reader = hd_open_dev();
	ASSERT_LE(0, self->reader);
	self->ready = 1;
}

static void put_knob(const char *path, const char *val);

FIXTURE_TEARDOWN(ev)
{
	/* What a fault-injection case changed, even if it failed. */
	if (self->verbose[0])
		put_knob(HD_DEBUGFS_ROOT "/failslab/verbose", self->verbose);
	if (self->gfp_wait[0])
		put_knob(HD_DEBUGFS_ROOT "/failslab/ignore-gfp-wait",
			 self->gfp_wait);
	hd_close(&self->reader);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/**
 * struct later_export - an export made by another thread, after a while
 * @dev: the open file to export from
 * @fd: the dma-buf
 * @vmid: the importing VM
 * @id: out: the buffer's id
 * @ret: out: the export's result
 */
struct later_export {
	int dev;
	int fd;
	__u32 vmid;
	struct hyper_dmabuf_id id;
	int ret;
};

static void *later_export_fn(void *arg)
{
	struct later_export *le = arg;

	usleep(EXPORT_DELAY_MS * 1000);
	le->ret = hd_export(le->dev, le->fd, le->vmid, 0, &le->id);
	return NULL;
}

static void start_later_export(struct __test_metadata *_metadata,
			       struct hd_env *env, int fd,
			       struct later_export *le, pthread_t *thread)
{
	memset(le, 0, sizeof(*le));
	le->dev = env->dev;
	le->fd = fd;
	le->vmid = env->vmid;
	le->ret = -EINPROGRESS;
	ASSERT_EQ(0, pthread_create(thread, NULL, later_export_fn, le));
}

static void expect_new_event(struct __test_metadata *_metadata,
			     const struct hyper_dmabuf_event *ev,
			     const struct hyper_dmabuf_id *id,
			     struct hd_env *env, size_t size)
{
	EXPECT_EQ(HD_EV_NEW, ev->type);
	EXPECT_TRUE(hd_id_eq(id, &ev->id));
	EXPECT_EQ(env->vmid, ev->exporter_vmid);
	EXPECT_EQ(size, ev->size);
	EXPECT_EQ(0u, ev->reserved);
}

/* poll() sleeps until an export arrives, then reports POLLIN. */
TEST_F(ev, poll_wakes_on_export)
{
	struct pollfd pfd = { .fd = self->reader, .events = POLLIN };
	struct hyper_dmabuf_event ev;
	struct later_export le;
	pthread_t thread;
	long long t0;
	int ret;

	if (!self->ready)
		return;
	hd_drain_events(self->reader);
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	t0 = hd_now_ms();
	start_later_export(_metadata, &self->env, self->buf.fd, &le, &thread);
	ret = poll(&pfd, 1, EXPORT_DELAY_MS + HD_EVENT_TIMEOUT_MS);
	pthread_join(thread, NULL);
	ASSERT_EQ(0, le.ret);
	ASSERT_EQ(1, ret);
	EXPECT_TRUE(pfd.revents & POLLIN);
	EXPECT_LE(t0 + EXPORT_DELAY_MS, hd_now_ms());

	ASSERT_EQ(EV_SIZE, read(self->reader, &ev, sizeof(ev)));
	expect_new_event(_metadata, &ev, &le.id, &self->env, self->buf.size);
	EXPECT_EQ(0u, ev.priv_len);

	/* the queue is empty again */
	pfd.revents = 0;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, hd_unexport(self->env.dev, &le.id, 0));
}

/* A blocking read() waits for the event. */
TEST_F(ev, blocking_read_waits_for_event)
{
	struct hyper_dmabuf_event ev;
	struct later_export le;
	pthread_t thread;
	long long t0;
	ssize_t n;

	if (!self->ready)
		return;
	hd_drain_events(self->reader);
	t0 = hd_now_ms();
	start_later_export(_metadata, &self->env, self->buf.fd, &le, &thread);
	n = read(self->reader, &ev, sizeof(ev));
	pthread_join(thread, NULL);
	ASSERT_EQ(0, le.ret);
	ASSERT_EQ(EV_SIZE, n);
	EXPECT_LE(t0 + EXPORT_DELAY_MS, hd_now_ms());
	expect_new_event(_metadata, &ev, &le.id, &self->env, self->buf.size);
	EXPECT_EQ(0, hd_unexport(self->env.dev, &le.id, 0));
}

/* Every open file gets the event, the exporter's included. */
TEST_F(ev, every_open_file_gets_new_event)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int files[3], i;

	if (!self->ready)
		return;
	for (i = 0; i < 3; i++) {
		files[i] = hd_open_dev();
		ASSERT_LE(0, files[i]);
	}
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &id));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, hd_wait_event(files[i], HYPER_DMABUF_EVENT_NEW,
					   &id, &ev, HD_EVENT_TIMEOUT_MS));
		close(files[i]);
	}
	EXPECT_EQ(0, hd_wait_event(self->reader, HYPER_DMABUF_EVENT_NEW, &id,
				   &ev, HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(0, hd_wait_event(self->env.dev, HYPER_DMABUF_EVENT_NEW, &id,
				   &ev, HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
}

/* A buffer smaller than a record is EINVAL, and the event stays queued. */
TEST_F(ev, read_too_small_is_einval)
{
	static const size_t sizes[] = { 0, 1, 8, EV_SIZE - 1 };
	struct pollfd pfd = { .fd = self->reader, .events = POLLIN };
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	size_t i;

	if (!self->ready)
		return;
	hd_drain_events(self->reader);
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &id));
	ASSERT_EQ(1, poll(&pfd, 1, HD_EVENT_TIMEOUT_MS));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-1, read(self->reader, &ev, sizes[i]));
		EXPECT_EQ(EINVAL, errno);
	}
	pfd.revents = 0;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(EV_SIZE, read(self->reader, &ev, sizeof(ev)));
	expect_new_event(_metadata, &ev, &id, &self->env, self->buf.size);
	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
}

/* read() returns whole records only, as many as fit. */
TEST_F(ev, read_returns_whole_records)
{
	struct hyper_dmabuf_event evs[3];
	struct hyper_dmabuf_id ids[3];
	long long end;
	int i, j, got = 0, seen[3] = { 0 };
	ssize_t n;

	if (!self->ready)
		return;
	hd_drain_events(self->reader);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd,
				       self->env.vmid, 0, &ids[i]));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(hd_wait_listed(self->env.dev, &ids[i]));

	/* room for two and a half records */
	end = hd_now_ms() + HD_EVENT_TIMEOUT_MS;
	while (got < 3 && hd_now_ms() < end) {
		struct pollfd pfd = { .fd = self->reader, .events = POLLIN };

		if (poll(&pfd, 1, 100) != 1)
			continue;
		n = read(self->reader, evs, 2 * EV_SIZE + EV_SIZE / 2);
		ASSERT_LT(0, n);
		ASSERT_EQ(0, n % EV_SIZE);
		ASSERT_GE(2 * EV_SIZE, n);
		for (j = 0; j < n / EV_SIZE; j++) {
			EXPECT_EQ(HD_EV_NEW, evs[j].type);
			for (i = 0; i < 3; i++)
				if (hd_id_eq(&evs[j].id, &ids[i]))
					seen[i]++;
			got++;
		}
	}
	EXPECT_EQ(3, got);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(1, seen[i]);
		EXPECT_EQ(0, hd_unexport(self->env.dev, &ids[i], 0));
	}
}

/* A non-blocking read of an empty queue is EAGAIN. */
TEST_F(ev, nonblocking_read_empty_is_eagain)
{
	struct pollfd pfd = { .events = POLLIN };
	struct hyper_dmabuf_event ev;
	int fd;

	if (!self->ready)
		return;
	fd = open(HD_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	pfd.fd = fd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-1, read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);

	/* also when made non-blocking later */
	hd_drain_events(self->reader);
	ASSERT_EQ(0, fcntl(self->reader, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->reader, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
}

/* Unexport sends a withdrawn event for the buffer. */
TEST_F(ev, withdrawn_after_unexport)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &id));
	ASSERT_EQ(0, hd_wait_event(self->reader, HYPER_DMABUF_EVENT_NEW, &id,
				   &ev, HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_unexport(self->env.dev, &id, 0));
	ASSERT_EQ(0, hd_wait_event(self->reader, HYPER_DMABUF_EVENT_WITHDRAWN,
				   &id, &ev, HD_WITHDRAW_TIMEOUT_MS));
	EXPECT_EQ(self->env.vmid, ev.exporter_vmid);
	EXPECT_EQ(0u, ev.reserved);
	/* and LIST agrees */
	EXPECT_TRUE(hd_wait_withdrawn(self->env.dev, &id));
}

/* Closing the exporter's file sends withdrawn events too. */
TEST_F(ev, withdrawn_after_exporter_close)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id[2];
	int exp, i;

	if (!self->ready)
		return;
	exp = hd_open_dev();
	ASSERT_LE(0, exp);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, hd_export(exp, self->buf.fd, self->env.vmid, 0,
				       &id[i]));
	for (i = 0; i < 2; i++)
		ASSERT_TRUE(hd_wait_listed(self->env.dev, &id[i]));
	hd_drain_events(self->reader);
	ASSERT_EQ(0, close(exp));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, hd_wait_event(self->reader,
					   HYPER_DMABUF_EVENT_WITHDRAWN,
					   &id[i], &ev,
					   HD_WITHDRAW_TIMEOUT_MS));
}

/*
 * A file that does not read: its queue fills, then one overflow record
 * follows the events that fit; LIST resynchronises it; later events are
 * queued again.
 */
TEST_F_TIMEOUT(ev, overflow_then_resync, 180)
{
	long qlen = hd_param("event_queue_len", HD_EVENT_QUEUE_LEN);
	struct hyper_dmabuf_id *ids, *listed, few[4];
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_list l;
	int dev = self->env.dev, slow, nr_new = 0, nr_overflow = 0;
	int i, j, n, after_overflow = 0, *seen;
	__u32 base_count, count = 0, nl = 0;
	ssize_t r;

	if (!self->ready)
		return;
	ASSERT_LT(0, qlen);
	n = qlen + 10;
	ids = calloc(n, sizeof(*ids));
	seen = calloc(n, sizeof(*seen));
	ASSERT_NE(NULL, ids);
	ASSERT_NE(NULL, seen);
	slow = open(HD_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, slow);
	ASSERT_EQ(0, hd_list_count(dev, &base_count));

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0,
				       &ids[i]));
	ASSERT_TRUE(hd_wait_until(!hd_list_count(dev, &count) &&
				  count == base_count + n,
				  HD_EVENT_TIMEOUT_MS * 4)) {
		TH_LOG("LIST: %u, expected %u", count, base_count + n);
	}
	/* let the last events reach the queues */
	usleep(500000);

	for (;;) {
		r = read(slow, &ev, sizeof(ev));
		if (r < 0)
			break;
		ASSERT_EQ(EV_SIZE, r);
		if (nr_overflow) {
			after_overflow++;
			continue;
		}
		if (ev.type == HYPER_DMABUF_EVENT_OVERFLOW) {
			nr_overflow++;
			EXPECT_TRUE(hd_id_is_zero(&ev.id));
			continue;
		}
		EXPECT_EQ(HD_EV_NEW, ev.type);
		nr_new++;
		for (j = 0; j < n; j++)
			if (hd_id_eq(&ev.id, &ids[j]))
				seen[j]++;
	}
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, nr_overflow);
	EXPECT_EQ(0, after_overflow);
	/* the queue held qlen records, one of them maybe the overflow */
	EXPECT_LE(qlen - 1, nr_new);
	EXPECT_GE(qlen, nr_new);
	for (j = 0; j < n; j++)
		EXPECT_GE(1, seen[j]);

	/* LIST has them all */
	ASSERT_EQ(0, hd_list(dev, &listed, &nl));
	EXPECT_EQ(base_count + n, nl);
	for (j = 0; j < n; j++) {
		for (i = 0; i < (int)nl; i++)
			if (hd_id_eq(&listed[i], &ids[j]))
				break;
		EXPECT_LT(i, (int)nl);
	}
	free(listed);

	/* count 0: the total; a small array: only that many copied */
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l));
	EXPECT_EQ(base_count + n, l.count);
	memset(few, 0xa5, sizeof(few));
	memset(&l, 0, sizeof(l));
	l.count = 3;
	l.ids = (uintptr_t)few;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l));
	EXPECT_EQ(base_count + n, l.count);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0u, few[i].reserved);
	EXPECT_EQ(0xa5a5a5a5u, few[3].vmid);
	EXPECT_EQ(0xa5a5a5a5u, few[3].reserved);

	/* the drained queue takes events again */
	ASSERT_EQ(0, hd_unexport(dev, &ids[0], 0));
	EXPECT_EQ(0, hd_wait_event(slow, HYPER_DMABUF_EVENT_WITHDRAWN, &ids[0],
				   &ev, HD_WITHDRAW_TIMEOUT_MS));
	close(slow);
	free(seen);
	free(ids);
}

#define FAILSLAB	HD_DEBUGFS_ROOT "/failslab/"

/*
 * Write @val to debugfs file @path; the old value goes to @old.  Two opens:
 * these files cannot be seeked back to their start.
 */
static int swap_knob(const char *path, const char *val, char *old, int len)
{
	int ret = hd_read_file(path, old, len);

	return ret ? ret : hd_write_file(path, val);
}

static void put_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		perror(path);
	close(fd);
}

/* Fail the @nth allocation of this thread's next system call. */
static int fail_nth(int nth)
{
	char buf[16];
	int fd, len, ret = 0;

	fd = open("/proc/thread-self/fail-nth", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d", nth);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * A read that cannot copy its event out puts it back; when that needs
 * memory there is none of, the overflow record takes its place, so the
 * reader learns it must resynchronise instead of losing the event.
 */
TEST_F(ev, read_fault_without_memory_loses_nothing)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	void *bad;
	ssize_t n;

	if (!self->ready)
		return;
	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(FAILSLAB "ignore-gfp-wait", W_OK))
		SKIP(return, "no fault injection (fail-nth, failslab)");
	/* Sleeping allocations may fail too, and quietly. */
	ASSERT_EQ(0, swap_knob(FAILSLAB "ignore-gfp-wait", "N",
			       self->gfp_wait, sizeof(self->gfp_wait)));
	ASSERT_EQ(0, swap_knob(FAILSLAB "verbose", "0", self->verbose,
			       sizeof(self->verbose)));
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &id));
	ASSERT_TRUE(hd_wait_until(hd_list_count(self->reader, &self->n) ||
				  self->n, HD_EVENT_TIMEOUT_MS));
	bad = mmap(NULL, EV_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	ASSERT_NE(MAP_FAILED, bad);
	/* The read's first allocation is the one that puts the event back. */
	ASSERT_EQ(0, fail_nth(1));
	n = read(self->reader, bad, EV_SIZE);
	fail_nth(0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno);
	munmap(bad, EV_SIZE);

	ASSERT_EQ(0, hd_read_event(self->reader, &ev, 1000));
	EXPECT_EQ(HD_EV_OVERFLOW, ev.type);
	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
}

TEST_HARNESS_MAIN
