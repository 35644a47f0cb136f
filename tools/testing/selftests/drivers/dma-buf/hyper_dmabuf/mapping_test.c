// SPDX-License-Identifier: GPL-2.0
/*
 * What a process can do to the mapping of an import: pin its pages
 * (vmsplice, O_DIRECT, io_uring fixed buffers), fork with or without
 * MADV_DOFORK, mremap it, MADV_DONTNEED it, and add write access to a
 * read-only one.  A peer's page must never be pinned beyond the import's
 * life, nor a mapping broken or grown past the buffer.  Runs on the
 * loopback backend; the Xen and ACRN-model rigs run the same attempts
 * with "hdmabuf abuse".
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "hdmabuf_util.h"

#define MAP_SIZE	(16 * HD_PAGE_SIZE)
#define MAP_SEED	0x51

FIXTURE(map) {
	struct hd_env env;
	struct hd_vbuf buf;
	struct hyper_dmabuf_id id;
	int fd;
	unsigned char *map;
	__u32 handle;
	int ready;
};

FIXTURE_SETUP(map)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, MAP_SIZE, &self->buf));
	hd_fill(self->buf.map, MAP_SIZE, MAP_SEED);
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &self->id));
	ASSERT_EQ(0, hd_import_wait(self->env.dev, &self->id,
				    O_RDWR | O_CLOEXEC, &self->fd,
				    HD_EVENT_TIMEOUT_MS));
	self->map = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->ready = 1;
}

FIXTURE_TEARDOWN(map)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, MAP_SIZE);
	hd_close(&self->fd);
	hd_vbuf_destroy(&self->buf);
	hd_close(&self->env.dev);
	hd_expect_baseline(_metadata, &self->env.base, HD_RELEASE_TIMEOUT_MS);
	hd_close(&self->env.vgem);
}

/* vmsplice would hold the page in a pipe after the import is gone. */
TEST_F(map, vmsplice_is_refused)
{
	struct iovec iov;
	int pipefd[2];

	if (!self->ready)
		return;
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = self->map;
	iov.iov_len = HD_PAGE_SIZE;
	EXPECT_EQ(-1, vmsplice(pipefd[1], &iov, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* An O_DIRECT read pins the page it reads into for the duration of I/O. */
TEST_F(map, odirect_read_is_refused)
{
	int blk;

	if (!self->ready)
		return;
	blk = open("/dev/ram0", O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (blk < 0)
		SKIP(return, "no /dev/ram0: %s", strerror(errno));
	EXPECT_EQ(-1, pread(blk, self->map, HD_PAGE_SIZE, 0));
	EXPECT_EQ(EFAULT, errno);
	close(blk);
	EXPECT_EQ(MAP_SIZE, hd_check(self->map, MAP_SIZE, MAP_SEED));
}

/* io_uring fixed buffers pin their pages until unregistered. */
TEST_F(map, iouring_fixed_buffer_is_refused)
{
	struct io_uring_params p;
	struct iovec iov;
	int ring;

	if (!self->ready)
		return;
	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		SKIP(return, "io_uring_setup: %s", strerror(errno));
	iov.iov_base = self->map;
	iov.iov_len = MAP_SIZE;
	EXPECT_EQ(-1, syscall(__NR_io_uring_register, ring,
			      IORING_REGISTER_BUFFERS, &iov, 1));
	EXPECT_EQ(EFAULT, errno);
	close(ring);
}

/*
 * A forked child may share the mapping (the entries name no page), and its
 * exit leaves the parent's intact.
 */
TEST_F(map, fork_child_exit_keeps_parent_mapping)
{
	int status;
	pid_t pid;

	if (!self->ready)
		return;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(hd_check(self->map, MAP_SIZE, MAP_SEED) == MAP_SIZE ?
		      0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(MAP_SIZE, hd_check(self->map, MAP_SIZE, MAP_SEED));
	hd_fill(self->map, MAP_SIZE, MAP_SEED + 1);
	EXPECT_EQ(MAP_SIZE, hd_check(self->buf.map, MAP_SIZE, MAP_SEED + 1));
}

/* The mapping is an I/O one: MADV_DOFORK cannot change how fork sees it. */
TEST_F(map, madv_dofork_is_refused)
{
	if (!self->ready)
		return;
	EXPECT_EQ(-1, madvise(self->map, MAP_SIZE, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);
}

/* MADV_DONTNEED cannot drop the entries and leave a mapping that SIGBUSes. */
TEST_F(map, madv_dontneed_keeps_data)
{
	if (!self->ready)
		return;
	EXPECT_EQ(-1, madvise(self->map, MAP_SIZE, MADV_DONTNEED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_SIZE, hd_check(self->map, MAP_SIZE, MAP_SEED));
}

/* mremap cannot grow the mapping past the buffer. */
TEST_F(map, mremap_grow_is_refused)
{
	if (!self->ready)
		return;
	EXPECT_EQ(MAP_FAILED, mremap(self->map, MAP_SIZE, 2 * MAP_SIZE,
				     MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(MAP_SIZE, hd_check(self->map, MAP_SIZE, MAP_SEED));
}

/* Moving the mapping moves the same frames. */
TEST_F(map, mremap_move_keeps_data)
{
	unsigned char *to, *moved;

	if (!self->ready)
		return;
	to = mmap(NULL, MAP_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, to);
	moved = mremap(self->map, MAP_SIZE, MAP_SIZE,
		       MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, moved);
	self->map = moved;
	EXPECT_EQ(MAP_SIZE, hd_check(moved, MAP_SIZE, MAP_SEED));
	hd_fill(moved, MAP_SIZE, MAP_SEED + 2);
	EXPECT_EQ(MAP_SIZE, hd_check(self->buf.map, MAP_SIZE, MAP_SEED + 2));
}

/* A read-only import's mapping can never become writable. */
TEST_F(map, rdonly_mapping_cannot_gain_write)
{
	unsigned char *ro;
	int fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_import(self->env.dev, &self->id,
			       O_RDONLY | O_CLOEXEC, &fd));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	ro = mmap(NULL, MAP_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, mprotect(ro, MAP_SIZE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_SIZE, hd_check(ro, MAP_SIZE, MAP_SEED));
	munmap(ro, MAP_SIZE);
	close(fd);
}

/*
 * A device driver may attach and map a read-only import too: DRM PRIME
 * importers map every buffer for both directions.
 */
TEST_F(map, rdonly_import_can_be_imported_by_vgem)
{
	int fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_import(self->env.dev, &self->id,
			       O_RDONLY | O_CLOEXEC, &fd));
	EXPECT_EQ(0, hd_vgem_import(self->env.vgem, fd, &self->handle));
	if (self->handle)
		EXPECT_EQ(0, hd_vgem_close_handle(self->env.vgem,
						  self->handle));
	close(fd);
}

TEST_HARNESS_MAIN
