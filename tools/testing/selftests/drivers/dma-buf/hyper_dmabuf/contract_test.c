// SPDX-License-Identifier: GPL-2.0
/*
 * The local contract of the UAPI where it is easy to get wrong: access
 * modes carried from a dma-buf to its export, calls whose result cannot be
 * copied out (they must leave nothing behind), and what UNEXPORT promises
 * when it returns.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <dirent.h>

#include "hdmabuf_util.h"

#define CT_SIZE		(4 * HD_PAGE_SIZE)
#define CT_SEED		0xc7
/* Rounds of UNEXPORT followed at once by IMPORT. */
#define CT_ROUNDS	40

FIXTURE(ct) {
	struct hd_env env;
	struct hd_vbuf buf;
	__u32 ro_handle;
	int ready;
};

FIXTURE_SETUP(ct)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, CT_SIZE, &self->buf));
	hd_fill(self->buf.map, CT_SIZE, CT_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(ct)
{
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* Open file descriptors of this process. */
static int open_fds(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n - 1;	/* the directory's own */
}

/*
 * A page holding @len bytes of @arg, read-only from now on: the kernel can
 * read the argument but not write the result back.
 */
static void *read_only_arg(const void *arg, size_t len)
{
	void *p = mmap(NULL, HD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, arg, len);
	if (mprotect(p, HD_PAGE_SIZE, PROT_READ)) {
		munmap(p, HD_PAGE_SIZE);
		return NULL;
	}
	return p;
}

/* A fresh vgem dma-buf that its owner opened read-only. */
static int rdonly_dmabuf(int vgem, __u32 *handle)
{
	struct drm_mode_create_dumb dumb;
	struct drm_prime_handle prime;
	int ret;

	memset(&dumb, 0, sizeof(dumb));
	dumb.bpp = 32;
	dumb.width = HD_PAGE_SIZE / 4;
	dumb.height = 2;
	ret = hd_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	if (ret)
		return ret;
	*handle = dumb.handle;
	memset(&prime, 0, sizeof(prime));
	prime.handle = dumb.handle;
	prime.flags = DRM_CLOEXEC;	/* no DRM_RDWR */
	ret = hd_ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	return ret ? ret : prime.fd;
}

/*
 * Who holds a dma-buf read-only may share it read-only only: a writable
 * export would let the importer write what the exporter cannot.
 */
TEST_F(ct, rdonly_dmabuf_exports_only_rdonly)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, ro, fd;
	__u32 count, before;

	if (!self->ready)
		return;
	ro = rdonly_dmabuf(self->env.vgem, &self->ro_handle);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, hd_list_count(dev, &before));
	EXPECT_EQ(-EACCES, hd_export(dev, ro, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_list_count(dev, &count));
	EXPECT_EQ(before, count);

	ASSERT_EQ(0, hd_export(dev, ro, self->env.vmid,
			       HYPER_DMABUF_EXPORT_RDONLY, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	EXPECT_EQ(-EACCES, hd_import(dev, &id, O_RDWR, &fd));
	ASSERT_EQ(0, hd_import(dev, &id, O_RDONLY | O_CLOEXEC, &fd));
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
	close(ro);
	hd_vgem_close_handle(self->env.vgem, self->ro_handle);
}

/* IMPORT that cannot write its result back installs no descriptor. */
TEST_F(ct, import_efault_leaves_no_fd)
{
	struct hyper_dmabuf_import im, *ro;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fds, fd;
	struct hd_stats st, now;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	ASSERT_EQ(0, hd_stats_settle(&st, 300));
	memset(&im, 0, sizeof(im));
	im.id = id;
	im.flags = O_RDWR | O_CLOEXEC;
	ro = read_only_arg(&im, sizeof(im));
	ASSERT_NE(NULL, ro);

	fds = open_fds();
	EXPECT_EQ(-1, ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(fds, open_fds());
	/*
	 * Not imported: nothing maps it (the exporter learns that through a
	 * message, so wait), and it can still be imported.
	 */
	EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id, 0, HD_ST_IMPORTED),
				  HD_RELEASE_TIMEOUT_MS));
	EXPECT_TRUE(hd_stats_wait(&st, HD_RELEASE_TIMEOUT_MS, &now));
	ASSERT_EQ(0, hd_import(dev, &id, O_RDWR | O_CLOEXEC, &fd));
	close(fd);
	munmap(ro, HD_PAGE_SIZE);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* EXPORT that cannot write its result back shares and announces nothing. */
TEST_F(ct, export_efault_announces_nothing)
{
	struct hyper_dmabuf_export e, *ro;
	struct hyper_dmabuf_event ev;
	int dev = self->env.dev, listener;
	struct hd_stats st;
	__u32 before, count;

	if (!self->ready)
		return;
	listener = hd_open_dev();
	ASSERT_LE(0, listener);
	ASSERT_EQ(0, hd_list_count(dev, &before));
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	ro = read_only_arg(&e, sizeof(e));
	ASSERT_NE(NULL, ro);

	EXPECT_EQ(-1, ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-ETIMEDOUT, hd_read_event(listener, &ev, 1000));
	ASSERT_EQ(0, hd_list_count(dev, &count));
	EXPECT_EQ(before, count);
	EXPECT_TRUE(hd_stats_wait(&self->env.base, HD_RELEASE_TIMEOUT_MS,
				  &st));
	munmap(ro, HD_PAGE_SIZE);
	close(listener);
}

/*
 * Once UNEXPORT has returned, the importing VM can make no new dma-buf of
 * the buffer: a compositor that unexported a buffer may reuse it.
 */
TEST_F(ct, import_after_unexport_returned_fails)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, i, fd, ret, imported = 0;

	if (!self->ready)
		return;
	for (i = 0; i < CT_ROUNDS; i++) {
		ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0,
				       &id));
		ASSERT_TRUE(hd_wait_listed(dev, &id));
		ASSERT_EQ(0, hd_unexport(dev, &id, 0));
		ret = hd_import(dev, &id, O_RDONLY | O_CLOEXEC, &fd);
		if (!ret) {
			imported++;
			close(fd);
		} else {
			EXPECT_EQ(-ENOENT, ret);
		}
	}
	EXPECT_EQ(0, imported) {
		TH_LOG("%d of %d imports after UNEXPORT returned succeeded",
		       imported, CT_ROUNDS);
	}
}

/* HYPER_DMABUF_UNEXPORT_ASYNC returns at once, and the buffer still goes. */
TEST_F(ct, unexport_async_returns_at_once)
{
	struct hyper_dmabuf_unexport u;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.flags = HYPER_DMABUF_UNEXPORT_ASYNC;
	EXPECT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &u));
	EXPECT_TRUE(hd_wait_withdrawn(dev, &id));
}

/*
 * A second UNEXPORT says EALREADY while the importer still holds the
 * buffer, and ENOENT once it released it: the id is then unknown.
 */
TEST_F(ct, unexport_after_release_is_enoent)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_EQ(-EALREADY, hd_unexport(dev, &id, 0));
	close(fd);
	EXPECT_TRUE(hd_wait_until(hd_unexport(dev, &id, 0) == -ENOENT,
				  HD_RELEASE_TIMEOUT_MS));
}

TEST_HARNESS_MAIN
