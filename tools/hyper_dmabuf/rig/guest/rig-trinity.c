// SPDX-License-Identifier: GPL-2.0
/*
 * rig-trinity: hand hyper_dmabuf's file descriptors to a fuzzer.
 *
 *	rig-trinity DIR COMMAND [ARG...]
 *
 * Opens /dev/hyper_dmabuf, exports two vgem buffers to this VM itself (the
 * loopback backend's only peer), one read-write and one read-only, imports
 * both, and runs COMMAND with all of these descriptors inherited.  For
 * each it leaves placeholders in DIR, regular files of the buffer's size
 * named "fdN.WHAT.K" for descriptor N, and copies of the device node named
 * "hyper_dmabuf.K" (so that the fuzzer opens fresh files of its own too).
 *
 * Why the placeholders: trinity (1.9+git20230109) fuzzes only descriptors
 * it opened itself, from the paths under its victim directory (-V), and a
 * dma-buf cannot be opened again by path (its inode refuses open:
 * /proc/PID/fd/N gives ENXIO).  rig-trinity-victims.so, preloaded into
 * trinity, turns trinity's open of a placeholder into a dup of the
 * inherited descriptor N; a placeholder's size makes trinity mmap the
 * buffer as well.
 *
 * Prints what it handed over, then waits for COMMAND and prints how many
 * ioctls the device received meanwhile ("# ioctls during the run: calls N
 * dispatched N", from debugfs hyper_dmabuf/ioctls); after that it checks
 * that the device still answers and that the imports still read, and
 * exits with COMMAND's status (1 when the setup or the check failed).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/hyper_dmabuf.h>

#include "../../testing/selftests/drivers/dma-buf/hyper_dmabuf/vgem.h"

#define DEV_PATH	"/dev/" HYPER_DMABUF_DEVICE_NAME
#define BUF_SIZE	(64 * 1024)

static const char *dir;

static void die(const char *what)
{
	fprintf(stderr, "rig-trinity: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * trinity opens as many files as it finds (up to 250), each picked at
 * random among the paths: several paths per descriptor make it likely
 * that it opens each at least once.
 */
#define COPIES		4

/* Placeholders DIR/fdN.WHAT.K of @size bytes for descriptor @fd. */
static void placeholder(int fd, const char *what, off_t size)
{
	char path[PATH_MAX];
	int f, k;

	for (k = 0; k < COPIES; k++) {
		snprintf(path, sizeof(path), "%s/fd%d.%s.%d", dir, fd, what, k);
		f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (f < 0 || ftruncate(f, size))
			die(path);
		close(f);
	}
	printf("# victim %s/fd%d.%s.[0-%d]: %s\n", dir, fd, what, COPIES - 1,
	       what);
}

/* A vgem dumb buffer of @size bytes, as a dma-buf. */
static int vgem_buffer(size_t size)
{
	struct drm_mode_create_dumb dumb = {
		.width = 1024, .height = size / 4096, .bpp = 32,
	};
	struct drm_prime_handle prime = { .flags = DRM_RDWR };
	int vgem = hd_vgem_open();

	if (vgem < 0) {
		errno = ENODEV;
		die("vgem");
	}
	if (ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		die("vgem: create dumb");
	prime.handle = dumb.handle;
	if (ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		die("vgem: prime");
	close(vgem);
	return prime.fd;
}

/* Export a new buffer to @vmid and import it back; returns the import. */
static int share(int dev, __u32 vmid, __u32 flags, int *exp_fd)
{
	struct hyper_dmabuf_export exp = {
		.flags = flags, .remote_vmid = vmid,
	};
	struct hyper_dmabuf_import imp;
	int tries;

	exp.fd = *exp_fd = vgem_buffer(BUF_SIZE);
	if (ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &exp))
		die("export");
	/* The announcement reaches the importing side asynchronously. */
	for (tries = 0; tries < 5000; tries++) {
		memset(&imp, 0, sizeof(imp));
		imp.id = exp.id;
		imp.flags = flags & HYPER_DMABUF_EXPORT_RDONLY ? O_RDONLY :
								 O_RDWR;
		if (!ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &imp))
			return imp.fd;
		if (errno != ENOENT)
			break;
		usleep(1000);
	}
	die("import");
	return -1;
}

#define IOCTL_COUNTS	"/sys/kernel/debug/hyper_dmabuf/ioctls"

/* hyper_dmabuf/ioctls: calls and dispatched, -1 when not there. */
static void ioctl_counts(long *calls, long *dispatched)
{
	FILE *f = fopen(IOCTL_COUNTS, "re");

	*calls = *dispatched = -1;
	if (!f)
		return;
	if (fscanf(f, "calls: %ld dispatched: %ld", calls, dispatched) != 2)
		*calls = *dispatched = -1;
	fclose(f);
}

/* After the run: the device answers and each import still reads. */
static int check_after(int dev, const int *imports, int n)
{
	struct hyper_dmabuf_info info = { 0 };
	unsigned long sum;
	int i, bad = 0;
	void *p;

	if (ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info)) {
		fprintf(stderr, "rig-trinity: after: info: %s\n",
			strerror(errno));
		bad = 1;
	}
	for (i = 0; i < n; i++) {
		p = mmap(NULL, BUF_SIZE, PROT_READ, MAP_SHARED, imports[i], 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "rig-trinity: after: mmap import %d: %s\n",
				imports[i], strerror(errno));
			bad = 1;
			continue;
		}
		/* Read every byte: what was mapped must still be there. */
		sum = 0;
		for (size_t off = 0; off < BUF_SIZE; off++)
			sum += ((const unsigned char *)p)[off];
		munmap(p, BUF_SIZE);
		printf("# after: import %d reads, bytes sum to %lu\n",
		       imports[i], sum);
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct hyper_dmabuf_info info = { 0 };
	int dev, exp_rw, exp_ro, imports[2], status, k;
	long calls0, disp0, calls1, disp1;
	char node[PATH_MAX];
	struct stat st;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: rig-trinity DIR COMMAND [ARG...]\n");
		return 2;
	}
	dir = argv[1];
	/*
	 * Non-blocking, or each read trinity makes while no event is queued
	 * waits for its one-second alarm; its fresh opens of the device
	 * still reach the blocking read.
	 */
	dev = open(DEV_PATH, O_RDWR | O_NONBLOCK);
	if (dev < 0)
		die(DEV_PATH);
	if (ioctl(dev, HYPER_DMABUF_IOCTL_INFO, &info))
		die("info");
	imports[0] = share(dev, info.vmid, 0, &exp_rw);
	imports[1] = share(dev, info.vmid, HYPER_DMABUF_EXPORT_RDONLY, &exp_ro);

	if (fstat(dev, &st))
		die("fstat " DEV_PATH);
	for (k = 0; k < COPIES; k++) {
		snprintf(node, sizeof(node), "%s/%s.%d", dir,
			 HYPER_DMABUF_DEVICE_NAME, k);
		if (mknod(node, S_IFCHR | 0666, st.st_rdev) ||
		    chmod(node, 0666))
			die(node);
	}
	printf("# victim %s/%s.[0-%d]: the device, opened afresh\n", dir,
	       HYPER_DMABUF_DEVICE_NAME, COPIES - 1);
	placeholder(dev, "device-with-exports", 0);
	placeholder(exp_rw, "vgem-exported-rw", BUF_SIZE);
	placeholder(exp_ro, "vgem-exported-ro", BUF_SIZE);
	placeholder(imports[0], "import-rw", BUF_SIZE);
	placeholder(imports[1], "import-ro", BUF_SIZE);
	fflush(stdout);

	ioctl_counts(&calls0, &disp0);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rig-trinity: %s: %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	ioctl_counts(&calls1, &disp1);
	if (calls0 >= 0 && calls1 >= 0)
		printf("# ioctls during the run: calls %ld dispatched %ld\n",
		       calls1 - calls0, disp1 - disp0);
	fflush(stdout);
	if (check_after(dev, imports, 2))
		return 1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "rig-trinity: %s killed by signal %d\n",
			argv[2], WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}
