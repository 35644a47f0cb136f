// SPDX-License-Identifier: GPL-2.0
/*
 * rig-trinity-victims.so: let trinity open inherited descriptors by path.
 *
 *	RIG_TRINITY_VICTIMS=DIR LD_PRELOAD=rig-trinity-victims.so trinity -V DIR ...
 *
 * trinity opens its victim files with open() or fopen().  For a path
 * DIR/fdN.WHAT (a placeholder left by rig-trinity) this library returns a
 * new descriptor for the file that descriptor N, inherited from
 * rig-trinity, refers to (F_DUPFD): a dma-buf or the device file that
 * holds the exports.  Every other path is opened as usual.  The fuzzed
 * system calls themselves do not go through libc's wrappers and are not
 * touched.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The inherited descriptor @path stands for, or -1. */
static int victim_fd(const char *path)
{
	const char *dir = getenv("RIG_TRINITY_VICTIMS");
	size_t len;
	char *end;
	long fd;

	if (!dir || !path)
		return -1;
	len = strlen(dir);
	if (strncmp(path, dir, len) || strncmp(path + len, "/fd", 3))
		return -1;
	fd = strtol(path + len + 3, &end, 10);
	if (end == path + len + 3 || *end != '.' || fd < 0 || fd > 1023)
		return -1;
	return fd;
}

static int victim_dup(int fd)
{
	return fcntl(fd, F_DUPFD, 0);
}

typedef int open_fn(const char *path, int flags, ...);
typedef FILE *fopen_fn(const char *path, const char *mode);

static int real_open(const char *sym, const char *path, int flags,
		     mode_t mode)
{
	open_fn *fn = dlsym(RTLD_NEXT, sym);

	if (!fn) {
		errno = EINVAL;
		return -1;
	}
	return fn(path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	int fd = victim_fd(path);
	va_list ap;
	mode_t mode;

	if (fd >= 0)
		return victim_dup(fd);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	int fd = victim_fd(path);
	va_list ap;
	mode_t mode;

	if (fd >= 0)
		return victim_dup(fd);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real_open("open64", path, flags, mode);
}

/* fopen(): a stream of the access mode the descriptor really has. */
static FILE *victim_fopen(int fd)
{
	int acc = fcntl(fd, F_GETFL), nfd;
	const char *mode = "r+";
	FILE *f;

	if (acc < 0)
		return NULL;
	if ((acc & O_ACCMODE) == O_RDONLY)
		mode = "r";
	else if ((acc & O_ACCMODE) == O_WRONLY)
		mode = "w";
	nfd = victim_dup(fd);
	if (nfd < 0)
		return NULL;
	f = fdopen(nfd, mode);
	if (!f)
		close(nfd);
	return f;
}

FILE *fopen(const char *path, const char *mode)
{
	fopen_fn *fn;
	int fd = victim_fd(path);

	if (fd >= 0)
		return victim_fopen(fd);
	fn = dlsym(RTLD_NEXT, "fopen");
	return fn ? fn(path, mode) : NULL;
}

FILE *fopen64(const char *path, const char *mode)
{
	fopen_fn *fn;
	int fd = victim_fd(path);

	if (fd >= 0)
		return victim_fopen(fd);
	fn = dlsym(RTLD_NEXT, "fopen64");
	return fn ? fn(path, mode) : NULL;
}
