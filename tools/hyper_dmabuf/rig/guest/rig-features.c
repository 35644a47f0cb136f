// SPDX-License-Identifier: GPL-2.0
/*
 * rig-features: check that the kernel under test gives a process every
 * feature a compositor's process has on a distribution kernel, so that a
 * test of what such a process may do to an import's mapping (hdmabuf
 * abuse) cannot pass because the kernel lacks the feature: madvise
 * (MADV_DOFORK), io_uring with fixed buffers, vmsplice, splice,
 * userfaultfd, memfd_create and O_DIRECT on a block device (/dev/ram0).
 * Each is used for real on ordinary memory.
 *
 * Prints TAP, one result per feature; exit status 0 when all work, 1 when
 * one does not (ENOSYS: the kernel was built without it).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/userfaultfd.h>

#define PAGE		4096
#define RAM_DISK_PATH	"/dev/ram0"

static int n, failed;

/* One TAP result: @err is 0, or the errno of the step that failed. */
static void result(const char *what, const char *step, int err)
{
	n++;
	if (!err) {
		printf("ok %d %s\n", n, what);
		return;
	}
	failed++;
	printf("not ok %d %s: %s: %s (%s)\n", n, what, step,
	       strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN",
	       strerror(err));
}

/* An anonymous page holding a known pattern, or NULL. */
static unsigned char *anon_page(void)
{
	unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (p == MAP_FAILED)
		return NULL;
	for (i = 0; i < PAGE; i++)
		p[i] = i * 7 + 3;
	return p;
}

static void check_madvise(void)
{
	const char *what = "madvise: MADV_DONTFORK, MADV_DOFORK (anonymous)";
	unsigned char *p = anon_page();

	if (!p) {
		result(what, "mmap", errno);
		return;
	}
	if (madvise(p, PAGE, MADV_DONTFORK))
		result(what, "MADV_DONTFORK", errno);
	else if (madvise(p, PAGE, MADV_DOFORK))
		result(what, "MADV_DOFORK", errno);
	else
		result(what, NULL, 0);
	munmap(p, PAGE);
}

static void check_memfd(void)
{
	const char *what = "memfd_create";
	int fd = memfd_create("rig-features", MFD_CLOEXEC);

	if (fd < 0) {
		result(what, "memfd_create", errno);
		return;
	}
	result(what, "ftruncate", ftruncate(fd, PAGE) ? errno : 0);
	close(fd);
}

/* vmsplice an anonymous page into a pipe and read it back. */
static void check_vmsplice(void)
{
	const char *what = "vmsplice: an anonymous page into a pipe";
	unsigned char *p = anon_page(), buf[PAGE];
	struct iovec iov = { .iov_len = PAGE };
	int fds[2];

	if (!p) {
		result(what, "mmap", errno);
		return;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		result(what, "pipe2", errno);
		munmap(p, PAGE);
		return;
	}
	iov.iov_base = p;
	errno = 0;
	if (vmsplice(fds[1], &iov, 1, 0) != PAGE)
		result(what, "vmsplice", errno ? errno : EIO);
	else if (read(fds[0], buf, PAGE) != PAGE || memcmp(buf, p, PAGE))
		result(what, "read back", errno ? errno : EBADMSG);
	else
		result(what, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	munmap(p, PAGE);
}

/* splice a page of a memfd into a pipe and read it back. */
static void check_splice(void)
{
	const char *what = "splice: a memfd page into a pipe";
	unsigned char *p = anon_page(), buf[PAGE];
	int fd, fds[2];
	loff_t off = 0;

	if (!p) {
		result(what, "mmap", errno);
		return;
	}
	fd = memfd_create("rig-features", MFD_CLOEXEC);
	if (fd < 0) {
		result(what, "memfd_create", errno);
		munmap(p, PAGE);
		return;
	}
	errno = 0;
	if (pwrite(fd, p, PAGE, 0) != PAGE) {
		result(what, "pwrite", errno ? errno : EIO);
	} else if (pipe2(fds, O_CLOEXEC)) {
		result(what, "pipe2", errno);
	} else {
		if (splice(fd, &off, fds[1], NULL, PAGE, 0) != PAGE)
			result(what, "splice", errno ? errno : EIO);
		else if (read(fds[0], buf, PAGE) != PAGE ||
			 memcmp(buf, p, PAGE))
			result(what, "read back", errno ? errno : EBADMSG);
		else
			result(what, NULL, 0);
		close(fds[0]);
		close(fds[1]);
	}
	close(fd);
	munmap(p, PAGE);
}

/* A ring, with an anonymous page registered as its fixed buffer. */
static void check_io_uring(void)
{
	const char *what = "io_uring: setup, fixed buffers (anonymous)";
	struct io_uring_params params;
	unsigned char *p = anon_page();
	struct iovec iov = { .iov_len = PAGE };
	int ring;

	if (!p) {
		result(what, "mmap", errno);
		return;
	}
	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0) {
		result(what, "io_uring_setup", errno);
		munmap(p, PAGE);
		return;
	}
	iov.iov_base = p;
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		    &iov, 1) < 0)
		result(what, "IORING_REGISTER_BUFFERS", errno);
	else if (syscall(__NR_io_uring_register, ring,
			 IORING_UNREGISTER_BUFFERS, NULL, 0) < 0)
		result(what, "IORING_UNREGISTER_BUFFERS", errno);
	else
		result(what, NULL, 0);
	close(ring);
	munmap(p, PAGE);
}

static void check_userfaultfd(void)
{
	const char *what = "userfaultfd: open, UFFDIO_API";
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		result(what, "userfaultfd", errno);
		return;
	}
	result(what, "UFFDIO_API", ioctl(fd, UFFDIO_API, &api) ? errno : 0);
	close(fd);
}

static void check_odirect(void)
{
	const char *what = "O_DIRECT: read a page of " RAM_DISK_PATH;
	void *buf;
	int fd, err;

	err = posix_memalign(&buf, PAGE, PAGE);
	if (err) {
		result(what, "posix_memalign", err);
		return;
	}
	fd = open(RAM_DISK_PATH, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		result(what, "open", errno);
	} else {
		errno = 0;
		err = pread(fd, buf, PAGE, 0) == PAGE ? 0 : errno ? errno : EIO;
		result(what, "pread", err);
		close(fd);
	}
	free(buf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	check_madvise();
	check_memfd();
	check_vmsplice();
	check_splice();
	check_io_uring();
	check_userfaultfd();
	check_odirect();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
