// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ioctl ABI: the happy path of every ioctl, every documented
 * errno for bad input (with no change of state: the debugfs stats and LIST
 * are the same before and after a failed call), and the extensible
 * argument structs (shorter and longer than the kernel's).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <stddef.h>
#include <sys/syscall.h>

#include "hdmabuf_util.h"

/* An ioctl number of command @nr whose argument is @size bytes. */
#define HD_IOC(nr, size) \
	_IOC(_IOC_READ | _IOC_WRITE, HYPER_DMABUF_IOC_MAGIC, (nr), (size))
/* The same for a command that only reads its argument. */
#define HD_IOW(nr, size) \
	_IOC(_IOC_WRITE, HYPER_DMABUF_IOC_MAGIC, (nr), (size))

#define HD_NR_EXPORT	0x00
#define HD_NR_IMPORT	0x01
#define HD_NR_INFO	0x05
#define HD_NR_WAIT	0x06

#define CANARY		0xa5

#define HD_STATE_IDS	64

/**
 * struct hd_state - what a failed ioctl must not change
 * @stats: the debugfs stats
 * @count: how many buffers LIST reports
 * @ids: the first of them
 */
struct hd_state {
	struct hd_stats stats;
	__u32 count;
	struct hyper_dmabuf_id ids[HD_STATE_IDS];
};

static int hd_state_read(int dev, struct hd_state *s)
{
	struct hyper_dmabuf_list l;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = hd_stats_read(&s->stats);
	if (ret)
		return ret;
	memset(&l, 0, sizeof(l));
	l.count = HD_STATE_IDS;
	l.ids = (uintptr_t)s->ids;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l);
	s->count = l.count;
	return ret;
}

static bool hd_state_has(const struct hd_state *s,
			 const struct hyper_dmabuf_id *id)
{
	__u32 i;

	for (i = 0; i < s->count && i < HD_STATE_IDS; i++)
		if (hd_id_eq(&s->ids[i], id))
			return true;
	return false;
}

static void expect_same_state(struct __test_metadata *_metadata,
			      const struct hd_state *before,
			      const struct hd_state *after)
{
	__u32 i;

	EXPECT_TRUE(hd_stats_eq(&before->stats, &after->stats)) {
		hd_log_stats(_metadata, "before", &before->stats);
		hd_log_stats(_metadata, "after", &after->stats);
	}
	EXPECT_EQ(before->count, after->count);
	for (i = 0; i < before->count && i < HD_STATE_IDS; i++)
		EXPECT_TRUE(hd_state_has(after, &before->ids[i]));
}

/* @call fails with -@err, and neither the stats nor LIST change. */
#define EXPECT_FAIL_NO_CHANGE(err, call) do {				\
	struct hd_state __before, __after;				\
									\
	ASSERT_EQ(0, hd_state_read(self->env.dev, &__before));		\
	EXPECT_EQ(-(err), (call));					\
	ASSERT_EQ(0, hd_state_read(self->env.dev, &__after));		\
	expect_same_state(_metadata, &__before, &__after);		\
} while (0)

static bool all_bytes(const void *p, int c, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != c)
			return false;
	return true;
}

/* An id that no live buffer has: same VM, another counter. */
static struct hyper_dmabuf_id unknown_id(const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_id u = *id;

	u.seq ^= 0x40000000u;
	return u;
}

FIXTURE(abi) {
	struct hd_env env;
	struct hd_vbuf buf;
	struct hyper_dmabuf_id id;	/* exported read-write */
	struct hyper_dmabuf_id ro_id;	/* exported read-only */
	void *bad;			/* an address that faults */
	int ready;
};

FIXTURE_SETUP(abi)
{
	hd_vbuf_init(&self->buf);
	self->bad = MAP_FAILED;
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	self->bad = mmap(NULL, HD_PAGE_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->bad);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, 2 * HD_PAGE_SIZE,
				    &self->buf));
	hd_fill(self->buf.map, self->buf.size, 1);
	self->ready = 1;
}

FIXTURE_TEARDOWN(abi)
{
	if (self->bad != MAP_FAILED)
		munmap(self->bad, HD_PAGE_SIZE);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/*
 * For the tests of IMPORT, UNEXPORT, QUERY and LIST: two live exports of
 * the buffer, one read-write and one read-only, known on the importing
 * side.  (Not in the setup, so that a broken EXPORT fails only the tests
 * that need one.)
 */
static void live_exports(struct __test_metadata *_metadata,
			 struct hd_env *env, struct hd_vbuf *buf,
			 struct hyper_dmabuf_id *id,
			 struct hyper_dmabuf_id *ro_id)
{
	struct hd_stats st;

	ASSERT_EQ(0, hd_export(env->dev, buf->fd, env->vmid, 0, id));
	ASSERT_EQ(0, hd_export(env->dev, buf->fd, env->vmid,
			       HYPER_DMABUF_EXPORT_RDONLY, ro_id));
	ASSERT_TRUE(hd_wait_listed(env->dev, id));
	ASSERT_TRUE(hd_wait_listed(env->dev, ro_id));
	/* let the asynchronous side of the exports finish */
	ASSERT_EQ(0, hd_stats_settle(&st, 300));
}

/* ---- INFO ------------------------------------------------------------ */

/* INFO names this VM, counts the peers and copies only what fits. */
TEST_F(abi, info_reports_peers)
{
	struct hyper_dmabuf_peer *peers, one[2];
	struct hyper_dmabuf_info info, again;
	int dev = self->env.dev;
	bool loopback = false;
	__u32 i;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_info(dev, &info, &peers));
	EXPECT_EQ(self->env.vmid, info.vmid);
	ASSERT_LE(1u, info.nr_peers);
	for (i = 0; i < info.nr_peers; i++) {
		/* Only the known flags; loopback shares both ways. */
		EXPECT_EQ(0u, peers[i].flags & ~(HYPER_DMABUF_PEER_EXPORT |
						 HYPER_DMABUF_PEER_IMPORT));
		EXPECT_NE(NULL, memchr(peers[i].backend, '\0',
				       sizeof(peers[i].backend)));
		if (peers[i].vmid == info.vmid &&
		    !strcmp(peers[i].backend, "loopback")) {
			loopback = true;
			EXPECT_EQ(HYPER_DMABUF_PEER_EXPORT |
				  HYPER_DMABUF_PEER_IMPORT, peers[i].flags);
		}
	}
	EXPECT_TRUE(loopback);

	/* room for one: one is copied, the total is still reported */
	memset(one, CANARY, sizeof(one));
	memset(&again, 0, sizeof(again));
	again.nr_peers = 1;
	again.peers = (uintptr_t)one;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &again));
	EXPECT_EQ(info.nr_peers, again.nr_peers);
	EXPECT_EQ(info.vmid, again.vmid);
	EXPECT_EQ(info.version, again.version);
	EXPECT_EQ(0, memcmp(&one[0], &peers[0], sizeof(one[0])));
	EXPECT_TRUE(all_bytes(&one[1], CANARY, sizeof(one[1])));
	free(peers);
}

TEST_F(abi, info_rejects_flags)
{
	struct hyper_dmabuf_info info;

	if (!self->ready)
		return;
	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(self->env.dev,
					       HYPER_DMABUF_IOCTL_INFO, &info));
	info.flags = 0x80000000u;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(self->env.dev,
					       HYPER_DMABUF_IOCTL_INFO, &info));
}

TEST_F(abi, info_rejects_reserved)
{
	struct hyper_dmabuf_info info;
	int i;

	if (!self->ready)
		return;
	for (i = 0; i < 2; i++) {
		memset(&info, 0, sizeof(info));
		info.reserved[i] = 1;
		EXPECT_FAIL_NO_CHANGE(EINVAL,
				      hd_ioctl(self->env.dev,
					       HYPER_DMABUF_IOCTL_INFO, &info));
	}
}

TEST_F(abi, info_bad_peers_pointer_is_efault)
{
	struct hyper_dmabuf_info info;

	if (!self->ready)
		return;
	memset(&info, 0, sizeof(info));
	info.nr_peers = 4;
	info.peers = (uintptr_t)self->bad;
	EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(self->env.dev,
					       HYPER_DMABUF_IOCTL_INFO, &info));
}

/* ---- EXPORT ---------------------------------------------------------- */

/* EXPORT fills in a fresh id of this VM and the dma-buf's size. */
TEST_F(abi, export_returns_id_and_size)
{
	struct hyper_dmabuf_export e, e2;
	int dev = self->env.dev;
	struct hd_stats before, after;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_stats_read(&before));
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e));
	EXPECT_EQ(self->env.vmid, e.id.vmid);
	EXPECT_EQ(0u, e.id.reserved);
	EXPECT_EQ(self->buf.size, e.size);
	EXPECT_EQ(0ull, e.reserved[0]);
	EXPECT_EQ(0ull, e.reserved[1]);
	ASSERT_EQ(0, hd_stats_read(&after));
	EXPECT_EQ(before.exports + 1, after.exports);

	/* the same dma-buf again: another buffer id */
	hd_export_init(&e2, self->buf.fd, self->env.vmid);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e2));
	EXPECT_FALSE(hd_id_eq(&e.id, &e2.id));
	EXPECT_NE(e.id.seq, e2.id.seq);

	EXPECT_TRUE(hd_wait_listed(dev, &e.id));
	EXPECT_TRUE(hd_wait_listed(dev, &e2.id));
	EXPECT_EQ(0, hd_unexport(dev, &e.id, 0));
	EXPECT_EQ(0, hd_unexport(dev, &e2.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e.id));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e2.id));
}

/* Up to HYPER_DMABUF_PRIV_MAX bytes of metadata are accepted. */
TEST_F(abi, export_accepts_max_priv)
{
	unsigned char priv[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_export e;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	hd_fill(priv, sizeof(priv), 7);
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.priv = (uintptr_t)priv;
	e.priv_len = sizeof(priv);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e));
	EXPECT_EQ(0, hd_unexport(dev, &e.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e.id));
}

TEST_F(abi, export_bad_fd_is_ebadf)
{
	int dev = self->env.dev, closed;

	if (!self->ready)
		return;
	closed = dup(dev);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	EXPECT_FAIL_NO_CHANGE(EBADF, hd_export(dev, -1, self->env.vmid, 0,
					       NULL));
	EXPECT_FAIL_NO_CHANGE(EBADF, hd_export(dev, closed, self->env.vmid, 0,
					       NULL));
	EXPECT_FAIL_NO_CHANGE(EBADF, hd_export(dev, 1 << 20, self->env.vmid,
					       0, NULL));
}

/* Files that are not dma-bufs cannot be exported. */
TEST_F(abi, export_non_dmabuf_is_einval)
{
	int dev = self->env.dev, vmid = self->env.vmid;
	int pipefd[2], null, mfd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	mfd = syscall(__NR_memfd_create, "hd", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, HD_PAGE_SIZE));

	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, pipefd[0], vmid, 0,
						NULL));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, pipefd[1], vmid, 0,
						NULL));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, null, vmid, 0, NULL));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, mfd, vmid, 0, NULL));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, dev, vmid, 0, NULL));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, self->env.vgem, vmid, 0,
						NULL));
	close(pipefd[0]);
	close(pipefd[1]);
	close(null);
	close(mfd);
}

TEST_F(abi, export_rejects_unknown_flags)
{
	static const __u32 flags[] = {
		1u << 2, 1u << 31, ~HYPER_DMABUF_EXPORT_FLAGS, ~0u,
	};
	int dev = self->env.dev;
	size_t i;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		EXPECT_FAIL_NO_CHANGE(EINVAL, hd_export(dev, self->buf.fd,
							self->env.vmid,
							flags[i], NULL));
}

TEST_F(abi, export_rejects_reserved)
{
	struct hyper_dmabuf_export e;
	int i;

	if (!self->ready)
		return;
	for (i = 0; i < 2; i++) {
		hd_export_init(&e, self->buf.fd, self->env.vmid);
		e.reserved[i] = 1ull << (i * 63);
		EXPECT_FAIL_NO_CHANGE(EINVAL,
				      hd_ioctl(self->env.dev,
					       HYPER_DMABUF_IOCTL_EXPORT, &e));
	}
}

TEST_F(abi, export_oversize_priv_is_einval)
{
	unsigned char priv[2 * HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_export e;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	memset(priv, 0, sizeof(priv));
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.priv = (uintptr_t)priv;
	e.priv_len = HYPER_DMABUF_PRIV_MAX + 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT,
					       &e));
	e.priv_len = sizeof(priv);
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT,
					       &e));
	e.priv_len = ~0u;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT,
					       &e));
}

TEST_F(abi, export_bad_priv_pointer_is_efault)
{
	struct hyper_dmabuf_export e;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.priv = (uintptr_t)self->bad;
	e.priv_len = 16;
	EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT,
					       &e));
	e.priv = 0;
	e.priv_len = 1;
	EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT,
					       &e));
}

TEST_F(abi, export_unreachable_vmid_is_ehostunreach)
{
	int dev = self->env.dev;

	if (!self->ready)
		return;
	EXPECT_FAIL_NO_CHANGE(EHOSTUNREACH,
			      hd_export(dev, self->buf.fd, HD_UNREACHABLE_VMID,
					0, NULL));
	EXPECT_FAIL_NO_CHANGE(EHOSTUNREACH,
			      hd_export(dev, self->buf.fd, HD_UNREACHABLE_VMID,
					HYPER_DMABUF_EXPORT_RDONLY, NULL));
}

/* ---- IMPORT ---------------------------------------------------------- */

/* IMPORT returns a dma-buf of the right size, access mode and cloexec. */
TEST_F(abi, import_returns_dmabuf_fd)
{
	struct hyper_dmabuf_import im;
	int dev = self->env.dev, fd2;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&im, 0, sizeof(im));
	im.id = self->id;
	im.flags = O_RDWR | O_CLOEXEC;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &im));
	ASSERT_LE(0, im.fd);
	EXPECT_EQ(self->buf.size, im.size);
	EXPECT_EQ(0ull, im.reserved[0]);
	EXPECT_EQ(0ull, im.reserved[1]);
	EXPECT_EQ((off_t)self->buf.size, lseek(im.fd, 0, SEEK_END));
	EXPECT_EQ(O_RDWR, fcntl(im.fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(im.fd, F_GETFD) & FD_CLOEXEC);

	/* without O_CLOEXEC, read-only; a separate dma-buf each time */
	ASSERT_EQ(0, hd_import(dev, &self->id, O_RDONLY, &fd2));
	EXPECT_NE(im.fd, fd2);
	EXPECT_EQ(O_RDONLY, fcntl(fd2, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ((off_t)self->buf.size, lseek(fd2, 0, SEEK_END));
	close(fd2);
	close(im.fd);
}

TEST_F(abi, import_rejects_bad_flags)
{
	static const __u32 flags[] = {
		O_WRONLY, O_WRONLY | O_CLOEXEC, O_ACCMODE, O_RDWR | O_NONBLOCK,
		O_RDONLY | O_APPEND, O_RDWR | O_TRUNC, O_RDWR | O_CREAT,
		0x80000000u,
	};
	int dev = self->env.dev, fd = -1;
	size_t i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		EXPECT_FAIL_NO_CHANGE(EINVAL, hd_import(dev, &self->id,
							flags[i], &fd));
		EXPECT_EQ(-1, fd);
	}
}

TEST_F(abi, import_unknown_id_is_enoent)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd = -1;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	id = unknown_id(&self->id);
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
	id = self->id;
	id.vmid = HD_UNREACHABLE_VMID;
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
	memset(&id, 0, sizeof(id));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
	EXPECT_EQ(-1, fd);
}

/* A wrong key fails exactly like an unknown id. */
TEST_F(abi, import_wrong_key_is_enoent)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd = -1, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	for (i = 0; i < 3; i++) {
		id = self->id;
		id.key[i] ^= 1;
		EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
		id.key[i] ^= 0x80000001u;
		EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDONLY,
							&fd));
	}
	id = self->id;
	memset(id.key, 0, sizeof(id.key));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
	/* read-only export: the key is checked before the access mode */
	id = self->ro_id;
	id.key[2] ^= 4;
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &id, O_RDWR, &fd));
	EXPECT_EQ(-1, fd);
}

TEST_F(abi, import_rejects_reserved)
{
	struct hyper_dmabuf_import im;
	int dev = self->env.dev, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&im, 0, sizeof(im));
	im.id = self->id;
	im.id.reserved = 1;
	im.flags = O_RDWR;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT,
					       &im));
	for (i = 0; i < 2; i++) {
		memset(&im, 0, sizeof(im));
		im.id = self->id;
		im.flags = O_RDWR;
		im.reserved[i] = 1;
		EXPECT_FAIL_NO_CHANGE(EINVAL,
				      hd_ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT,
					       &im));
	}
}

/* A read-only export is imported read-only, never read-write. */
TEST_F(abi, import_rdwr_of_rdonly_export_is_eacces)
{
	int dev = self->env.dev, fd = -1;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	EXPECT_FAIL_NO_CHANGE(EACCES, hd_import(dev, &self->ro_id, O_RDWR,
						&fd));
	EXPECT_FAIL_NO_CHANGE(EACCES, hd_import(dev, &self->ro_id,
						O_RDWR | O_CLOEXEC, &fd));
	EXPECT_EQ(-1, fd);
	ASSERT_EQ(0, hd_import(dev, &self->ro_id, O_RDONLY | O_CLOEXEC, &fd));
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
}

TEST_F(abi, import_after_unexport_is_enoent)
{
	int dev = self->env.dev, fd = -1;
	struct hd_stats st;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	ASSERT_EQ(0, hd_unexport(dev, &self->id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &self->id));
	ASSERT_EQ(0, hd_stats_settle(&st, 300));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &self->id, O_RDWR, &fd));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_import(dev, &self->id, O_RDONLY,
						&fd));
	EXPECT_EQ(-1, fd);
}

/* ---- UNEXPORT -------------------------------------------------------- */

/* UNEXPORT withdraws the buffer and, once released, the export is gone. */
TEST_F(abi, unexport_withdraws_buffer)
{
	struct hyper_dmabuf_event ev;
	struct hd_stats before, now;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	ASSERT_EQ(0, hd_stats_read(&before));
	hd_drain_events(dev);
	ASSERT_EQ(0, hd_unexport(dev, &self->id, 0));
	EXPECT_EQ(0, hd_wait_event(dev, HYPER_DMABUF_EVENT_WITHDRAWN,
				   &self->id, &ev, HD_WITHDRAW_TIMEOUT_MS));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &self->id));
	EXPECT_EQ(1, hd_listed(dev, &self->ro_id));
	EXPECT_TRUE(hd_wait_until(!hd_stats_read(&now) &&
				  now.exports == before.exports - 1,
				  HD_RELEASE_TIMEOUT_MS)) {
		hd_log_stats(_metadata, "before", &before);
		hd_log_stats(_metadata, "now", &now);
	}
}

TEST_F(abi, unexport_unknown_id_is_enoent)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	id = unknown_id(&self->id);
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_unexport(dev, &id, 0));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_unexport(dev, &id, 100));
	memset(&id, 0, sizeof(id));
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_unexport(dev, &id, 0));
}

/* A wrong key fails exactly like an unknown id, even for another file. */
TEST_F(abi, unexport_wrong_key_is_enoent)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, other, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	other = hd_open_dev();
	ASSERT_LE(0, other);
	for (i = 0; i < 3; i++) {
		id = self->id;
		id.key[i] ^= 1u << (i * 7);
		EXPECT_FAIL_NO_CHANGE(ENOENT, hd_unexport(dev, &id, 0));
		EXPECT_FAIL_NO_CHANGE(ENOENT, hd_unexport(other, &id, 0));
	}
	close(other);
	/* the real one was left alone */
	EXPECT_EQ(1, hd_listed(dev, &self->id));
}

/* Only the open file that exported a buffer may unexport it. */
TEST_F(abi, unexport_from_other_file_is_eperm)
{
	int dev = self->env.dev, other;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	other = hd_open_dev();
	ASSERT_LE(0, other);
	EXPECT_FAIL_NO_CHANGE(EPERM, hd_unexport(other, &self->id, 0));
	EXPECT_FAIL_NO_CHANGE(EPERM, hd_unexport(other, &self->ro_id, 500));
	close(other);
	EXPECT_EQ(1, hd_listed(dev, &self->id));
	EXPECT_EQ(0, hd_unexport(dev, &self->id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &self->id));
}

TEST_F(abi, unexport_twice_is_ealready)
{
	int dev = self->env.dev, fd;
	struct hd_stats st;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	/*
	 * Withdrawn but still imported, so certainly still known: without
	 * an import the release may complete before the second call, and
	 * the id is then rightly unknown (ENOENT).
	 */
	ASSERT_EQ(0, hd_import(dev, &self->id, O_RDWR, &fd));
	ASSERT_EQ(0, hd_unexport(dev, &self->id, 0));
	ASSERT_TRUE(hd_wait_withdrawn(dev, &self->id));
	ASSERT_EQ(0, hd_stats_settle(&st, 300));
	EXPECT_FAIL_NO_CHANGE(EALREADY, hd_unexport(dev, &self->id, 0));
	EXPECT_FAIL_NO_CHANGE(EALREADY, hd_unexport(dev, &self->id, 100));
	close(fd);
}

/* A pending delayed unexport counts as unexported. */
TEST_F(abi, unexport_while_delayed_is_ealready)
{
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	ASSERT_EQ(0, hd_unexport(dev, &self->id, 300));
	EXPECT_EQ(-EALREADY, hd_unexport(dev, &self->id, 0));
	EXPECT_EQ(-EALREADY, hd_unexport(dev, &self->id, 300));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &self->id));
}

TEST_F(abi, unexport_delay_over_max_is_einval)
{
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_unexport(dev, &self->id,
					  HYPER_DMABUF_UNEXPORT_DELAY_MAX + 1));
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_unexport(dev, &self->id, ~0u));
	EXPECT_EQ(1, hd_listed(dev, &self->id));
}

TEST_F(abi, unexport_rejects_flags)
{
	struct hyper_dmabuf_unexport u;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&u, 0, sizeof(u));
	u.id = self->id;
	u.flags = HYPER_DMABUF_UNEXPORT_FLAGS << 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT,
					       &u));
	u.flags = 0x80000000u;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT,
					       &u));
}

TEST_F(abi, unexport_rejects_reserved)
{
	struct hyper_dmabuf_unexport u;
	int dev = self->env.dev, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&u, 0, sizeof(u));
	u.id = self->id;
	u.id.reserved = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT,
					       &u));
	for (i = 0; i < 2; i++) {
		memset(&u, 0, sizeof(u));
		u.id = self->id;
		u.reserved[i] = 1;
		EXPECT_FAIL_NO_CHANGE(EINVAL,
				      hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT,
					       &u));
	}
}

/* ---- QUERY ----------------------------------------------------------- */

TEST_F(abi, query_describes_export)
{
	struct hyper_dmabuf_query q;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	ASSERT_EQ(0, hd_query(dev, &self->id, &q));
	EXPECT_EQ(self->env.vmid, q.exporter_vmid);
	EXPECT_EQ(self->env.vmid, q.importer_vmid);
	EXPECT_EQ(self->buf.size, q.size);
	EXPECT_TRUE(hd_has(q.status, HYPER_DMABUF_STATUS_EXPORTED_HERE));
	EXPECT_FALSE(hd_has(q.status, HYPER_DMABUF_STATUS_UNEXPORTED));
	EXPECT_FALSE(hd_has(q.status, HYPER_DMABUF_STATUS_UNEXPORT_PENDING));
	EXPECT_EQ(0u, q.priv_len);
	ASSERT_EQ(0, hd_query(dev, &self->ro_id, &q));
	EXPECT_EQ(self->buf.size, q.size);
}

TEST_F(abi, query_unknown_id_and_wrong_key_are_enoent)
{
	struct hyper_dmabuf_query q;
	int dev = self->env.dev, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&q, 0, sizeof(q));
	q.id = unknown_id(&self->id);
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY,
					       &q));
	for (i = 0; i < 3; i++) {
		memset(&q, 0, sizeof(q));
		q.id = self->id;
		q.id.key[i] ^= 0x100;
		EXPECT_FAIL_NO_CHANGE(ENOENT,
				      hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY,
					       &q));
	}
}

TEST_F(abi, query_rejects_reserved)
{
	struct hyper_dmabuf_query q;
	int dev = self->env.dev, i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&q, 0, sizeof(q));
	q.id = self->id;
	q.id.reserved = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY,
					       &q));
	for (i = 0; i < 2; i++) {
		memset(&q, 0, sizeof(q));
		q.id = self->id;
		q.reserved[i] = 1;
		EXPECT_FAIL_NO_CHANGE(EINVAL,
				      hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY,
					       &q));
	}
}

/* Too little room for the metadata: its length, nothing copied, success. */
TEST_F(abi, query_priv_room)
{
	unsigned char priv[100], out[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_export e;
	struct hyper_dmabuf_query q;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	hd_fill(priv, sizeof(priv), 3);
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.priv = (uintptr_t)priv;
	e.priv_len = sizeof(priv);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e));

	/* asking for the length */
	ASSERT_EQ(0, hd_query(dev, &e.id, &q));
	EXPECT_EQ(sizeof(priv), q.priv_len);

	/* room but no pointer: the length only */
	memset(&q, 0, sizeof(q));
	q.id = e.id;
	q.priv_len = sizeof(out);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q));
	EXPECT_EQ(sizeof(priv), q.priv_len);

	/* too little room */
	memset(out, CANARY, sizeof(out));
	memset(&q, 0, sizeof(q));
	q.id = e.id;
	q.priv_len = sizeof(priv) - 1;
	q.priv = (uintptr_t)out;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q));
	EXPECT_EQ(sizeof(priv), q.priv_len);
	EXPECT_TRUE(all_bytes(out, CANARY, sizeof(out)));

	/* enough room */
	memset(&q, 0, sizeof(q));
	q.id = e.id;
	q.priv_len = sizeof(out);
	q.priv = (uintptr_t)out;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q));
	EXPECT_EQ(sizeof(priv), q.priv_len);
	EXPECT_EQ(0, memcmp(out, priv, sizeof(priv)));

	EXPECT_EQ(0, hd_unexport(dev, &e.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e.id));
}

TEST_F(abi, query_bad_priv_pointer_is_efault)
{
	unsigned char priv[32];
	struct hyper_dmabuf_export e;
	struct hyper_dmabuf_query q;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	hd_fill(priv, sizeof(priv), 4);
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.priv = (uintptr_t)priv;
	e.priv_len = sizeof(priv);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e));
	ASSERT_TRUE(hd_wait_listed(dev, &e.id));

	memset(&q, 0, sizeof(q));
	q.id = e.id;
	q.priv_len = HYPER_DMABUF_PRIV_MAX;
	q.priv = (uintptr_t)self->bad;
	EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY,
					       &q));
	EXPECT_EQ(0, hd_unexport(dev, &e.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e.id));
}

/* ---- LIST ------------------------------------------------------------ */

/* LIST counts what may be imported and copies only what fits. */
TEST_F(abi, list_counts_and_copies)
{
	struct hyper_dmabuf_id *all, two[2];
	struct hyper_dmabuf_list l;
	int dev = self->env.dev;
	__u32 n, i, found = 0;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	ASSERT_EQ(0, hd_list(dev, &all, &n));
	ASSERT_LE(2u, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0u, all[i].reserved);
		if (hd_id_eq(&all[i], &self->id) ||
		    hd_id_eq(&all[i], &self->ro_id))
			found++;
	}
	EXPECT_EQ(2u, found);

	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l));
	EXPECT_EQ(n, l.count);

	memset(two, CANARY, sizeof(two));
	memset(&l, 0, sizeof(l));
	l.count = 1;
	l.ids = (uintptr_t)two;
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l));
	EXPECT_EQ(n, l.count);
	EXPECT_FALSE(all_bytes(&two[0], CANARY, sizeof(two[0])));
	EXPECT_TRUE(all_bytes(&two[1], CANARY, sizeof(two[1])));
	free(all);
}

TEST_F(abi, list_rejects_flags_and_reserved)
{
	struct hyper_dmabuf_id ids[4];
	struct hyper_dmabuf_list l;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	memset(&l, 0, sizeof(l));
	l.count = 4;
	l.ids = (uintptr_t)ids;
	l.flags = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST,
					       &l));
	l.flags = 0x80000000u;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST,
					       &l));
	l.flags = 0;
	l.reserved = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST,
					       &l));
}

TEST_F(abi, list_bad_ids_pointer_is_efault)
{
	struct hyper_dmabuf_list l;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&l, 0, sizeof(l));
	l.count = 4;
	l.ids = (uintptr_t)self->bad;
	EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST,
					       &l));
}

/* ---- WAIT_RELEASED --------------------------------------------------- */

/* Flags, reserved fields and id.reserved must be zero. */
TEST_F(abi, wait_released_rejects_flags_and_reserved)
{
	struct hyper_dmabuf_wait_released w;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&w, 0, sizeof(w));
	w.id = self->id;
	EXPECT_EQ(-ETIMEDOUT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
	w.flags = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
	w.flags = 1u << 31;
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
	w.flags = 0;
	w.reserved[0] = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
	w.reserved[0] = 0;
	w.reserved[1] = 1ull << 63;
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
	w.reserved[1] = 0;
	w.id.reserved = 1;
	EXPECT_FAIL_NO_CHANGE(EINVAL,
			      hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED,
				       &w));
}

/* An id this file did not export, or with a wrong key: ENOENT. */
TEST_F(abi, wait_released_unknown_id_is_enoent)
{
	struct hyper_dmabuf_id wrong;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	wrong = unknown_id(&self->id);
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_wait_released(dev, &wrong, 0));
	wrong = self->id;
	wrong.key[2] ^= 0x80000000u;
	EXPECT_FAIL_NO_CHANGE(ENOENT, hd_wait_released(dev, &wrong, 0));
}

/* ---- common to all --------------------------------------------------- */

TEST_F(abi, bad_argument_pointer_is_efault)
{
	static const unsigned long cmds[] = {
		HYPER_DMABUF_IOCTL_EXPORT, HYPER_DMABUF_IOCTL_IMPORT,
		HYPER_DMABUF_IOCTL_UNEXPORT, HYPER_DMABUF_IOCTL_QUERY,
		HYPER_DMABUF_IOCTL_LIST, HYPER_DMABUF_IOCTL_INFO,
		HYPER_DMABUF_IOCTL_WAIT_RELEASED,
	};
	int dev = self->env.dev;
	size_t i;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, cmds[i],
						       self->bad));
		EXPECT_FAIL_NO_CHANGE(EFAULT, hd_ioctl(dev, cmds[i], NULL));
	}
}

/* Commands the driver does not know: ENOTTY, whatever direction and size. */
TEST_F(abi, unknown_ioctl_is_enotty)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	static const unsigned int sizes[] = {
		0, 8, sizeof(struct hyper_dmabuf_export), 1024,
	};
	static const unsigned int nrs[] = { 0x0b, 0x3f, 0x80, 0xff };
	struct hyper_dmabuf_export e;
	struct dma_buf_sync sync;
	unsigned char arg[1024];
	int dev = self->env.dev;
	unsigned long cmd;
	size_t d, s, n;

	if (!self->ready)
		return;
	memset(arg, 0, sizeof(arg));
	for (n = 0; n < ARRAY_SIZE(nrs); n++) {
		for (d = 0; d < ARRAY_SIZE(dirs); d++) {
			for (s = 0; s < ARRAY_SIZE(sizes); s++) {
				cmd = _IOC(dirs[d], HYPER_DMABUF_IOC_MAGIC,
					   nrs[n], sizes[s]);
				EXPECT_FAIL_NO_CHANGE(ENOTTY,
						      hd_ioctl(dev, cmd, arg));
			}
		}
	}

	/* a well-formed export under another magic is not an export */
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	EXPECT_FAIL_NO_CHANGE(ENOTTY,
			      hd_ioctl(dev, _IOWR(HYPER_DMABUF_IOC_MAGIC + 1,
						  HD_NR_EXPORT,
						  struct hyper_dmabuf_export),
				       &e));
	/* nor is a dma-buf ioctl */
	memset(&sync, 0, sizeof(sync));
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	EXPECT_FAIL_NO_CHANGE(ENOTTY, hd_ioctl(dev, DMA_BUF_IOCTL_SYNC, &sync));
}

/* ---- extensible structs ---------------------------------------------- */

/* An old EXPORT without the reserved tail works; the kernel keeps to it. */
TEST_F(abi, export_smaller_struct)
{
	const size_t size = offsetof(struct hyper_dmabuf_export, reserved);
	struct hyper_dmabuf_export e;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	/* not passed, so neither read (it is not zero) nor written */
	memset(e.reserved, CANARY, sizeof(e.reserved));
	ASSERT_EQ(0, hd_ioctl(dev, HD_IOC(HD_NR_EXPORT, size), &e));
	EXPECT_TRUE(all_bytes(e.reserved, CANARY, sizeof(e.reserved)));
	EXPECT_EQ(self->env.vmid, e.id.vmid);
	EXPECT_EQ(self->buf.size, e.size);
	ASSERT_EQ(0, hd_import_wait(dev, &e.id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &e.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &e.id));
}

/**
 * struct export_v2 - EXPORT of a newer program, with fields this kernel
 *	does not know
 * @e: what this kernel knows
 * @ext: the newer fields
 */
struct export_v2 {
	struct hyper_dmabuf_export e;
	__u64 ext[2];
};

/* A newer, longer EXPORT works while its unknown tail is zero. */
TEST_F(abi, export_larger_struct)
{
	struct export_v2 big;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	memset(&big, 0, sizeof(big));
	hd_export_init(&big.e, self->buf.fd, self->env.vmid);
	ASSERT_EQ(0, hd_ioctl(dev, HD_IOC(HD_NR_EXPORT, sizeof(big)), &big));
	EXPECT_EQ(self->env.vmid, big.e.id.vmid);
	EXPECT_EQ(self->buf.size, big.e.size);
	ASSERT_EQ(0, hd_import_wait(dev, &big.e.id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &big.e.id, 0));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &big.e.id));
}

/*
 * A field this kernel does not know, set, must not be ignored silently.
 * The document does not name the errno: EINVAL (as for reserved fields)
 * or E2BIG (as copy_struct_from_user()) are both accepted.
 */
TEST_F(abi, export_larger_struct_nonzero_tail_fails)
{
	struct hd_state before, after;
	struct export_v2 big;
	int dev = self->env.dev;
	int ret;

	if (!self->ready)
		return;
	memset(&big, 0, sizeof(big));
	hd_export_init(&big.e, self->buf.fd, self->env.vmid);
	big.ext[1] = 1;
	ASSERT_EQ(0, hd_state_read(dev, &before));
	ret = hd_ioctl(dev, HD_IOC(HD_NR_EXPORT, sizeof(big)), &big);
	EXPECT_TRUE(ret == -EINVAL || ret == -E2BIG) {
		TH_LOG("EXPORT with a non-zero unknown tail: %d", ret);
	}
	if (!ret)
		hd_unexport(dev, &big.e.id, 0);
	ASSERT_EQ(0, hd_state_read(dev, &after));
	expect_same_state(_metadata, &before, &after);
}

TEST_F(abi, import_smaller_struct)
{
	const size_t size = offsetof(struct hyper_dmabuf_import, reserved);
	struct hyper_dmabuf_import im;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&im, 0, sizeof(im));
	im.id = self->id;
	im.flags = O_RDWR | O_CLOEXEC;
	memset(im.reserved, CANARY, sizeof(im.reserved));
	ASSERT_EQ(0, hd_ioctl(dev, HD_IOC(HD_NR_IMPORT, size), &im));
	EXPECT_TRUE(all_bytes(im.reserved, CANARY, sizeof(im.reserved)));
	EXPECT_EQ(self->buf.size, im.size);
	EXPECT_EQ((off_t)self->buf.size, lseek(im.fd, 0, SEEK_END));
	close(im.fd);
}

TEST_F(abi, info_smaller_struct)
{
	const size_t size = offsetof(struct hyper_dmabuf_info, reserved);
	struct hyper_dmabuf_info full, info;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	memset(&full, 0, sizeof(full));
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &full));

	memset(&info, 0, sizeof(info));
	memset(info.reserved, CANARY, sizeof(info.reserved));
	ASSERT_EQ(0, hd_ioctl(dev, HD_IOC(HD_NR_INFO, size), &info));
	EXPECT_TRUE(all_bytes(info.reserved, CANARY, sizeof(info.reserved)));
	EXPECT_EQ(full.vmid, info.vmid);
	EXPECT_EQ(full.version, info.version);
	EXPECT_EQ(full.nr_peers, info.nr_peers);
}

/**
 * struct info_v2 - INFO of a newer program
 * @i: what this kernel knows
 * @ext: the newer fields
 */
struct info_v2 {
	struct hyper_dmabuf_info i;
	__u64 ext[4];
};

TEST_F(abi, info_larger_struct)
{
	struct hyper_dmabuf_info full;
	int dev = self->env.dev;
	struct info_v2 big;
	int ret;

	if (!self->ready)
		return;
	memset(&full, 0, sizeof(full));
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &full));

	memset(&big, 0, sizeof(big));
	ASSERT_EQ(0, hd_ioctl(dev, HD_IOC(HD_NR_INFO, sizeof(big)), &big));
	EXPECT_EQ(full.vmid, big.i.vmid);
	EXPECT_EQ(full.version, big.i.version);
	EXPECT_EQ(full.nr_peers, big.i.nr_peers);

	/* a set unknown field is not ignored (see above for the errno) */
	memset(&big, 0, sizeof(big));
	big.ext[3] = 1;
	ret = hd_ioctl(dev, HD_IOC(HD_NR_INFO, sizeof(big)), &big);
	EXPECT_TRUE(ret == -EINVAL || ret == -E2BIG) {
		TH_LOG("INFO with a non-zero unknown tail: %d", ret);
	}
}

/* An older, shorter WAIT_RELEASED: what it did not pass is zero. */
TEST_F(abi, wait_released_smaller_struct)
{
	const size_t sizes[] = {
		sizeof(struct hyper_dmabuf_id),
		offsetof(struct hyper_dmabuf_wait_released, reserved),
	};
	struct hyper_dmabuf_wait_released w;
	int dev = self->env.dev;
	size_t i;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(&w, 0, sizeof(w));
		w.id = self->id;
		/* not passed, so not read */
		memset(w.reserved, CANARY, sizeof(w.reserved));
		EXPECT_EQ(-ETIMEDOUT, hd_ioctl(dev, HD_IOW(HD_NR_WAIT, sizes[i]),
					       &w));
	}
	memset(&w, 0, sizeof(w));
	w.id = self->id;
	w.id.key[0] ^= 1;
	EXPECT_EQ(-ENOENT, hd_ioctl(dev, HD_IOW(HD_NR_WAIT, sizes[0]), &w));
}

/**
 * struct wait_v2 - WAIT_RELEASED of a newer program
 * @w: what this kernel knows
 * @ext: the newer fields
 */
struct wait_v2 {
	struct hyper_dmabuf_wait_released w;
	__u64 ext[2];
};

/* A newer, longer WAIT_RELEASED works while its unknown tail is zero. */
TEST_F(abi, wait_released_larger_struct)
{
	int dev = self->env.dev, ret;
	struct wait_v2 big;

	if (!self->ready)
		return;
	live_exports(_metadata, &self->env, &self->buf, &self->id,
		     &self->ro_id);
	memset(&big, 0, sizeof(big));
	big.w.id = self->id;
	EXPECT_EQ(-ETIMEDOUT, hd_ioctl(dev, HD_IOW(HD_NR_WAIT, sizeof(big)),
				       &big));
	big.ext[1] = 1;
	ret = hd_ioctl(dev, HD_IOW(HD_NR_WAIT, sizeof(big)), &big);
	EXPECT_TRUE(ret == -EINVAL || ret == -E2BIG) {
		TH_LOG("WAIT_RELEASED with a non-zero unknown tail: %d", ret);
	}
	/* Read-write is not its direction. */
	big.ext[1] = 0;
	EXPECT_FAIL_NO_CHANGE(ENOTTY,
			      hd_ioctl(dev, HD_IOC(HD_NR_WAIT, sizeof(big.w)),
				       &big));
}

TEST_HARNESS_MAIN
