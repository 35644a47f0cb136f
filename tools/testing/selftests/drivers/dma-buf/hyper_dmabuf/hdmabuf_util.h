/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the hyper_dmabuf selftests: the device and its ioctls,
 * vgem as a real dma-buf producer, the debugfs statistics, events and
 * waiting for asynchronous changes.
 *
 * Wrappers of system calls return 0 or a negative errno, so that a test can
 * say ASSERT_EQ(-ENOENT, hd_import(...)).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#ifndef HDMABUF_UTIL_H
#define HDMABUF_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/dma-buf.h>
#include <linux/hyper_dmabuf.h>

#include "../../../kselftest_harness.h"
#include "vgem.h"

#define HD_DEV			"/dev/" HYPER_DMABUF_DEVICE_NAME
#define HD_DEBUGFS_ROOT		"/sys/kernel/debug"
#define HD_DEBUGFS		HD_DEBUGFS_ROOT "/hyper_dmabuf"
#define HD_STATS		HD_DEBUGFS "/stats"
#define HD_VMAP_CHECK		HD_DEBUGFS "/vmap_check"
#define HD_PARAMS		"/sys/module/hyper_dmabuf/parameters/"
#define HD_DEBUGFS_MAGIC	0x64626720

/* A VM id that no backend reaches. */
#define HD_UNREACHABLE_VMID	4242u

/* Default of the event_queue_len module parameter. */
#define HD_EVENT_QUEUE_LEN	64

/* How long asynchronous changes may take on a slow (emulated) VM. */
#define HD_EVENT_TIMEOUT_MS	5000
#define HD_WITHDRAW_TIMEOUT_MS	5000
#define HD_RELEASE_TIMEOUT_MS	10000

#define HD_PAGE_SIZE		4096u

/* What hd_env_open() must find, else the test is skipped. */
#define HD_NEED_VGEM		0x1u
#define HD_NEED_LOOPBACK	0x2u
#define HD_NEED_STATS		0x4u
#define HD_NEED_ALL	\
	(HD_NEED_VGEM | HD_NEED_LOOPBACK | HD_NEED_STATS)

/* hd_env_open() result: ready, skip the test, or fail it. */
#define HD_ENV_READY		0
#define HD_ENV_SKIP		1
#define HD_ENV_FAIL		(-1)

static inline long long hd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * hd_wait_until() - evaluate @cond until it is true or @timeout_ms passed;
 * the value is the last evaluation of @cond.  @cond is always evaluated at
 * least once, and once more after the deadline.
 */
#define hd_wait_until(cond, timeout_ms)					\
({									\
	long long __hd_end = hd_now_ms() + (timeout_ms);		\
	bool __hd_ok;							\
									\
	for (;;) {							\
		__hd_ok = (cond);					\
		if (__hd_ok || hd_now_ms() >= __hd_end)			\
			break;						\
		usleep(5000);						\
	}								\
	__hd_ok;							\
})

static inline int hd_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static inline int hd_open_dev(void)
{
	return open(HD_DEV, O_RDWR | O_CLOEXEC);
}

static inline void hd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static inline bool hd_id_eq(const struct hyper_dmabuf_id *a,
			    const struct hyper_dmabuf_id *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline bool hd_id_is_zero(const struct hyper_dmabuf_id *id)
{
	static const struct hyper_dmabuf_id zero;

	return hd_id_eq(id, &zero);
}

/* A module parameter of hyper_dmabuf, or @def when it cannot be read. */
static inline long hd_param(const char *name, long def)
{
	char path[128];
	long val;
	FILE *f;

	snprintf(path, sizeof(path), HD_PARAMS "%s", name);
	f = fopen(path, "re");
	if (!f)
		return def;
	if (fscanf(f, "%ld", &val) != 1)
		val = def;
	fclose(f);
	return val;
}

/* Set module parameter @name of hyper_dmabuf; 0 or -errno. */
static inline int hd_param_set(const char *name, long val)
{
	char path[128];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), HD_PARAMS "%s", name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", val) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* The loopback backend's module parameters. */
#define HD_LB_PARAMS	"/sys/module/hyper_dmabuf_loopback/parameters/"

/* Write @val to the file at @path (a sysfs knob, say); 0 or -errno. */
static inline int hd_write_file(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Read up to @len - 1 bytes of file @path into @buf, NUL-terminated;
 * 0 or -errno.
 */
static inline int hd_read_file(const char *path, char *buf, int len)
{
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Write @val to the loopback backend's parameter @param; 0 or -errno. */
static inline int hd_lb_write(const char *param, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), HD_LB_PARAMS "%s", param);
	return hd_write_file(path, val);
}

/*
 * The loopback's test hooks (CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS):
 * messages of the types in debugfs "hold" are kept back from delivery,
 * and read out of "held", oldest first.
 */
#define HD_LB_DEBUGFS	HD_DEBUGFS_ROOT "/hyper_dmabuf_loopback/"
#define HD_LB_MSG_SIZE	416	/* HDMABUF_MSG_SIZE */

/* Hold back messages of @type (0: none any more); 0 or -errno. */
static inline int hd_lb_hold(int type)
{
	char val[16];

	snprintf(val, sizeof(val), "0x%x", type ? 1u << type : 0);
	return hd_write_file(HD_LB_DEBUGFS "hold", val);
}

/*
 * Wait up to @timeout_ms for a held message of @type and read it into
 * @msg (HD_LB_MSG_SIZE bytes): it is never delivered.  Held messages of
 * other types read on the way are dropped.  0, -ETIMEDOUT or -errno.
 */
static inline int hd_lb_held(int type, unsigned char *msg, int timeout_ms)
{
	long long end = hd_now_ms() + timeout_ms;
	int fd, ret = -ETIMEDOUT;
	ssize_t n;

	fd = open(HD_LB_DEBUGFS "held", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (hd_now_ms() < end) {
		n = read(fd, msg, HD_LB_MSG_SIZE);
		if (n < 0) {
			ret = -errno;
			break;
		}
		/* type: __le16 after magic and version */
		if (n == HD_LB_MSG_SIZE && msg[6] == type) {
			ret = 0;
			break;
		}
		if (!n)
			usleep(2000);
	}
	close(fd);
	return ret;
}

/* ---- vgem: a real dma-buf producer ---------------------------------- */

/* Give dma-buf @fd to vgem: it attaches to it and maps it. */
static inline int hd_vgem_import(int vgem, int fd, __u32 *handle)
{
	struct drm_prime_handle prime;
	int ret;

	memset(&prime, 0, sizeof(prime));
	prime.fd = fd;
	ret = hd_ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime);
	if (!ret)
		*handle = prime.handle;
	return ret;
}

static inline int hd_vgem_close_handle(int vgem, __u32 handle)
{
	struct drm_gem_close gc;

	memset(&gc, 0, sizeof(gc));
	gc.handle = handle;
	return hd_ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc);
}

/**
 * struct hd_vbuf - a vgem buffer, as a dma-buf mapped read-write
 * @vgem: the vgem card it lives on
 * @handle: its GEM handle, or 0
 * @fd: the dma-buf, or -1
 * @size: its size in bytes, as vgem rounded it
 * @map: a shared read-write mapping of @fd, or NULL
 */
struct hd_vbuf {
	int vgem;
	__u32 handle;
	int fd;
	size_t size;
	unsigned char *map;
};

static inline void hd_vbuf_init(struct hd_vbuf *b)
{
	memset(b, 0, sizeof(*b));
	b->vgem = -1;
	b->fd = -1;
}

static inline void hd_vbuf_destroy(struct hd_vbuf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	b->map = NULL;
	hd_close(&b->fd);
	if (b->handle && b->vgem >= 0)
		hd_vgem_close_handle(b->vgem, b->handle);
	b->handle = 0;
}

/* A vgem buffer of at least @size bytes, exported as a dma-buf, mapped. */
static inline int hd_vbuf_create(int vgem, size_t size, struct hd_vbuf *b)
{
	struct drm_mode_create_dumb dumb;
	struct drm_prime_handle prime;
	void *map;
	int ret;

	hd_vbuf_init(b);
	b->vgem = vgem;
	memset(&dumb, 0, sizeof(dumb));
	if (size >= HD_PAGE_SIZE && !(size % HD_PAGE_SIZE)) {
		dumb.bpp = 32;
		dumb.width = HD_PAGE_SIZE / 4;
		dumb.height = size / HD_PAGE_SIZE;
	} else {
		dumb.bpp = 8;
		dumb.width = size;
		dumb.height = 1;
	}
	ret = hd_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &dumb);
	if (ret)
		return ret;
	b->handle = dumb.handle;
	b->size = dumb.size;
	if (b->size < size) {
		hd_vbuf_destroy(b);
		return -ENOSPC;
	}

	memset(&prime, 0, sizeof(prime));
	prime.handle = b->handle;
	prime.flags = DRM_CLOEXEC | DRM_RDWR;
	ret = hd_ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
	if (ret) {
		hd_vbuf_destroy(b);
		return ret;
	}
	b->fd = prime.fd;

	map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		hd_vbuf_destroy(b);
		return ret;
	}
	b->map = map;
	return 0;
}

/* ---- buffer contents ------------------------------------------------ */

static inline __u64 hd_pattern_word(__u64 seed, size_t i)
{
	__u64 x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

/* Fill @len bytes at @p with a pattern that depends on @seed and offset. */
static inline void hd_fill(void *p, size_t len, __u64 seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		__u64 w = hd_pattern_word(seed, i / 8);

		memcpy(c + i, &w, 8);
	}
	for (; i < len; i++)
		c[i] = (unsigned char)hd_pattern_word(seed, i);
}

/* Offset of the first byte of @p that hd_fill(@seed) did not write, or @len. */
static inline size_t hd_check(const void *p, size_t len, __u64 seed)
{
	const unsigned char *c = p;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		__u64 w = hd_pattern_word(seed, i / 8), got;

		memcpy(&got, c + i, 8);
		if (got == w)
			continue;
		for (j = 0; j < 8; j++)
			if (c[i + j] != ((unsigned char *)&w)[j])
				return i + j;
	}
	for (; i < len; i++)
		if (c[i] != (unsigned char)hd_pattern_word(seed, i))
			return i;
	return len;
}

/* The sum of all bytes at @p, each as an unsigned 8-bit value. */
static inline unsigned long long hd_byte_sum(const void *p, size_t len)
{
	const __u64 lo = 0x00ff00ff00ff00ffull;
	const unsigned char *c = p;
	unsigned long long sum = 0;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		__u64 w;

		memcpy(&w, c + i, 8);
		/* four 16-bit lanes of byte pairs, then fold the lanes */
		w = (w & lo) + ((w >> 8) & lo);
		w = (w & 0x0000ffff0000ffffull) +
		    ((w >> 16) & 0x0000ffff0000ffffull);
		sum += (w & 0xffffffffull) + (w >> 32);
	}
	for (; i < len; i++)
		sum += c[i];
	return sum;
}

/* ---- the ioctls ----------------------------------------------------- */

/* A full INFO: this VM's id and the peers (caller frees *peers). */
static inline int hd_info(int dev, struct hyper_dmabuf_info *info,
			  struct hyper_dmabuf_peer **peers)
{
	struct hyper_dmabuf_peer *p = NULL;
	__u32 room = 0;
	int ret;

	for (;;) {
		memset(info, 0, sizeof(*info));
		info->nr_peers = room;
		info->peers = (uintptr_t)p;
		ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_INFO, info);
		if (ret || info->nr_peers <= room)
			break;
		free(p);
		room = info->nr_peers;
		p = calloc(room, sizeof(*p));
		if (!p)
			return -ENOMEM;
	}
	if (ret) {
		free(p);
		p = NULL;
	}
	*peers = p;
	return ret;
}

/* The vmid of the loopback peer (this VM itself), or -ENODEV. */
static inline int hd_loopback_vmid(int dev, __u32 *vmid)
{
	struct hyper_dmabuf_peer *peers;
	struct hyper_dmabuf_info info;
	int ret;
	__u32 i;

	ret = hd_info(dev, &info, &peers);
	if (ret)
		return ret;
	ret = -ENODEV;
	for (i = 0; i < info.nr_peers; i++) {
		if (peers[i].vmid == info.vmid &&
		    !strncmp(peers[i].backend, "loopback",
			     sizeof(peers[i].backend))) {
			*vmid = info.vmid;
			ret = 0;
			break;
		}
	}
	free(peers);
	return ret;
}

static inline void hd_export_init(struct hyper_dmabuf_export *e, int fd,
				  __u32 vmid)
{
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->remote_vmid = vmid;
}

/* Export dma-buf @fd to @vmid without metadata; @id and @size may be NULL. */
static inline int hd_export(int dev, int fd, __u32 vmid, __u32 flags,
			    struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_export e;
	int ret;

	hd_export_init(&e, fd, vmid);
	e.flags = flags;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
	if (!ret && id)
		*id = e.id;
	return ret;
}

/* Export dma-buf @fd to endpoint @endpoint of @vmid; @id may be NULL. */
static inline int hd_export_to(int dev, int fd, __u32 vmid,
			       const char *endpoint, struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_export e;
	int ret;

	hd_export_init(&e, fd, vmid);
	strncpy(e.endpoint, endpoint, sizeof(e.endpoint) - 1);
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
	if (!ret && id)
		*id = e.id;
	return ret;
}

static inline int hd_import(int dev, const struct hyper_dmabuf_id *id,
			    __u32 flags, int *fd)
{
	struct hyper_dmabuf_import im;
	int ret;

	memset(&im, 0, sizeof(im));
	im.id = *id;
	im.flags = flags;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &im);
	if (!ret)
		*fd = im.fd;
	return ret;
}

/*
 * Import, retrying while the buffer is not known yet: the export reaches
 * the importing side asynchronously.
 */
static inline int hd_import_wait(int dev, const struct hyper_dmabuf_id *id,
				 __u32 flags, int *fd, int timeout_ms)
{
	long long end = hd_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		ret = hd_import(dev, id, flags, fd);
		if (ret != -ENOENT || hd_now_ms() >= end)
			return ret;
		usleep(2000);
	}
}

static inline int hd_unexport(int dev, const struct hyper_dmabuf_id *id,
			      __u32 delay_ms)
{
	struct hyper_dmabuf_unexport u;

	memset(&u, 0, sizeof(u));
	u.id = *id;
	u.delay_ms = delay_ms;
	return hd_ioctl(dev, HYPER_DMABUF_IOCTL_UNEXPORT, &u);
}

/* WAIT_RELEASED of @id for up to @timeout_ms. */
static inline int hd_wait_released(int dev, const struct hyper_dmabuf_id *id,
				   __u32 timeout_ms)
{
	struct hyper_dmabuf_wait_released w;

	memset(&w, 0, sizeof(w));
	w.id = *id;
	w.timeout_ms = timeout_ms;
	return hd_ioctl(dev, HYPER_DMABUF_IOCTL_WAIT_RELEASED, &w);
}

/* QUERY without metadata. */
static inline int hd_query(int dev, const struct hyper_dmabuf_id *id,
			   struct hyper_dmabuf_query *q)
{
	memset(q, 0, sizeof(*q));
	q->id = *id;
	return hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, q);
}

/* Short names of the QUERY status bits. */
#define HD_ST_HERE		HYPER_DMABUF_STATUS_EXPORTED_HERE
#define HD_ST_IMPORTED		HYPER_DMABUF_STATUS_IMPORTED
#define HD_ST_UNEXPORTED	HYPER_DMABUF_STATUS_UNEXPORTED
#define HD_ST_PENDING		HYPER_DMABUF_STATUS_UNEXPORT_PENDING

/* Event types, unsigned like the field they are compared with. */
#define HD_EV_NEW		((__u32)HYPER_DMABUF_EVENT_NEW)
#define HD_EV_WITHDRAWN		((__u32)HYPER_DMABUF_EVENT_WITHDRAWN)
#define HD_EV_OVERFLOW		((__u32)HYPER_DMABUF_EVENT_OVERFLOW)
#define HD_EV_RELEASED		((__u32)HYPER_DMABUF_EVENT_RELEASED)

/* All of @bits are set in @status. */
static inline bool hd_has(__u32 status, __u32 bits)
{
	return (status & bits) == bits;
}

/* QUERY succeeds, all of @set is in status and none of @clear. */
static inline bool hd_status_is(int dev, const struct hyper_dmabuf_id *id,
				__u32 set, __u32 clear)
{
	struct hyper_dmabuf_query q;

	if (hd_query(dev, id, &q))
		return false;
	return (q.status & set) == set && !(q.status & clear);
}

/* How many buffers this VM may import now. */
static inline int hd_list_count(int dev, __u32 *count)
{
	struct hyper_dmabuf_list l;
	int ret;

	memset(&l, 0, sizeof(l));
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l);
	if (!ret)
		*count = l.count;
	return ret;
}

/* All the buffers this VM may import now; the caller frees *ids. */
static inline int hd_list(int dev, struct hyper_dmabuf_id **ids, __u32 *count)
{
	struct hyper_dmabuf_list l;
	__u32 room;
	int ret;

	*ids = NULL;
	ret = hd_list_count(dev, &room);
	while (!ret) {
		room += 16;
		*ids = calloc(room, sizeof(**ids));
		if (!*ids)
			return -ENOMEM;
		memset(&l, 0, sizeof(l));
		l.count = room;
		l.ids = (uintptr_t)*ids;
		ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_LIST, &l);
		if (!ret && l.count <= room) {
			*count = l.count;
			return 0;
		}
		free(*ids);
		*ids = NULL;
		room = l.count;
	}
	return ret;
}

/* 1 if LIST shows @id, 0 if not, or a negative errno. */
static inline int hd_listed(int dev, const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_id *ids;
	__u32 i, n;
	int ret;

	ret = hd_list(dev, &ids, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (hd_id_eq(&ids[i], id))
			break;
	ret = i < n;
	free(ids);
	return ret;
}

/* Wait until the importing side knows @id (LIST shows it). */
static inline bool hd_wait_listed(int dev, const struct hyper_dmabuf_id *id)
{
	return hd_wait_until(hd_listed(dev, id) == 1, HD_EVENT_TIMEOUT_MS);
}

/* IMPORT of @id says ENOENT (a successful import is closed again). */
static inline bool hd_import_enoent(int dev, const struct hyper_dmabuf_id *id)
{
	int fd, ret;

	ret = hd_import(dev, id, O_RDONLY | O_CLOEXEC, &fd);
	if (!ret)
		close(fd);
	return ret == -ENOENT;
}

/* Wait until @id is withdrawn: LIST lacks it and IMPORT says ENOENT. */
static inline bool hd_wait_withdrawn(int dev, const struct hyper_dmabuf_id *id)
{
	return hd_wait_until(hd_listed(dev, id) == 0 &&
			     hd_import_enoent(dev, id),
			     HD_WITHDRAW_TIMEOUT_MS);
}

/* ---- events --------------------------------------------------------- */

/* Wait up to @timeout_ms for one event and read it. */
static inline int hd_read_event(int dev, struct hyper_dmabuf_event *ev,
				int timeout_ms)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	n = read(dev, ev, sizeof(*ev));
	if (n < 0)
		return -errno;
	return n == sizeof(*ev) ? 0 : -EIO;
}

/*
 * Read events until one of @type for @id arrives (others are skipped).
 * -ETIMEDOUT if it did not, -EOVERFLOW if it did not and an overflow
 * record was seen on the way.
 */
static inline int hd_wait_event(int dev, __u32 type,
				const struct hyper_dmabuf_id *id,
				struct hyper_dmabuf_event *ev, int timeout_ms)
{
	long long end = hd_now_ms() + timeout_ms;
	bool overflow = false;
	long long left;
	int ret;

	for (;;) {
		left = end - hd_now_ms();
		ret = hd_read_event(dev, ev, left > 0 ? (int)left : 0);
		if (ret == -ETIMEDOUT)
			return overflow ? -EOVERFLOW : ret;
		if (ret)
			return ret;
		if (ev->type == HYPER_DMABUF_EVENT_OVERFLOW)
			overflow = true;
		if (ev->type == type && hd_id_eq(&ev->id, id))
			return 0;
	}
}

/* Discard every queued event. */
static inline void hd_drain_events(int dev)
{
	struct hyper_dmabuf_event ev;

	while (!hd_read_event(dev, &ev, 0))
		;
}

/*
 * Read everything @dev has queued; how many events of @type (for @id if
 * @id is set) were among them.
 */
static inline int hd_count_events(int dev, __u32 type,
				  const struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_event ev;
	int n = 0;

	while (!hd_read_event(dev, &ev, 0))
		if (ev.type == type && (!id || hd_id_eq(&ev.id, id)))
			n++;
	return n;
}

/* ---- debugfs -------------------------------------------------------- */

/**
 * struct hd_stats - live counts of /sys/kernel/debug/hyper_dmabuf/stats
 * @exports: buffers exported
 * @imports: buffers imported
 * @shared_pages: pages shared with another VM
 * @mapped_pages: pages of another VM mapped here
 */
struct hd_stats {
	long long exports;
	long long imports;
	long long shared_pages;
	long long mapped_pages;
};

static inline int hd_stats_read(struct hd_stats *s)
{
	char line[128], key[64];
	int found = 0;
	long long val;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(HD_STATS, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %63[^: ] : %lld", key, &val) != 2)
			continue;
		if (!strcmp(key, "exports")) {
			s->exports = val;
			found |= 1;
		} else if (!strcmp(key, "imports")) {
			s->imports = val;
			found |= 2;
		} else if (!strcmp(key, "shared_pages")) {
			s->shared_pages = val;
			found |= 4;
		} else if (!strcmp(key, "mapped_pages")) {
			s->mapped_pages = val;
			found |= 8;
		}
	}
	fclose(f);
	return found == 15 ? 0 : -EPROTO;
}

static inline bool hd_stats_eq(const struct hd_stats *a,
			       const struct hd_stats *b)
{
	return a->exports == b->exports && a->imports == b->imports &&
	       a->shared_pages == b->shared_pages &&
	       a->mapped_pages == b->mapped_pages;
}

/* Wait until the stats equal @want; *@now is the last reading. */
static inline bool hd_stats_wait(const struct hd_stats *want, int timeout_ms,
				 struct hd_stats *now)
{
	return hd_wait_until(!hd_stats_read(now) && hd_stats_eq(want, now),
			     timeout_ms);
}

/*
 * The stats at rest: wait (up to HD_RELEASE_TIMEOUT_MS) for what was
 * released before to settle: until all counts are zero, or they did not
 * change for @stable_ms.
 */
static inline int hd_stats_settle(struct hd_stats *s, int stable_ms)
{
	long long end = hd_now_ms() + HD_RELEASE_TIMEOUT_MS;
	long long stable = hd_now_ms();
	struct hd_stats prev;
	int ret;

	ret = hd_stats_read(&prev);
	while (!ret) {
		if (!prev.exports && !prev.imports && !prev.shared_pages &&
		    !prev.mapped_pages)
			break;
		if (hd_now_ms() - stable >= stable_ms || hd_now_ms() >= end)
			break;
		usleep(20000);
		ret = hd_stats_read(s);
		if (!ret && !hd_stats_eq(s, &prev)) {
			prev = *s;
			stable = hd_now_ms();
		}
	}
	*s = prev;
	return ret;
}

static inline void hd_log_stats(struct __test_metadata *_metadata,
				const char *what, const struct hd_stats *s)
{
	TH_LOG("%s: exports %lld imports %lld shared %lld mapped %lld", what,
	       s->exports, s->imports, s->shared_pages, s->mapped_pages);
}

/*
 * Ask the kernel to vmap imported dma-buf @fd and sum its bytes:
 * /sys/kernel/debug/hyper_dmabuf/vmap_check.
 */
static inline int hd_vmap_check(int fd, unsigned long long *size,
				unsigned long long *sum)
{
	char buf[128];
	int dfd, len, ret = 0;
	ssize_t n;

	dfd = open(HD_VMAP_CHECK, O_RDWR | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", fd);
	n = write(dfd, buf, len);
	if (n != len) {
		ret = n < 0 ? -errno : -EIO;
		goto out;
	}
	if (lseek(dfd, 0, SEEK_SET) < 0) {
		ret = -errno;
		goto out;
	}
	n = read(dfd, buf, sizeof(buf) - 1);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	buf[n] = '\0';
	if (sscanf(buf, "size=%llu sum=%llx", size, sum) != 2)
		ret = -EPROTO;
out:
	close(dfd);
	return ret;
}

/* ---- the environment of a test -------------------------------------- */

/**
 * struct hd_env - what most tests start from
 * @dev: an open /dev/hyper_dmabuf, or -1
 * @vgem: the vgem card, or -1
 * @vmid: the loopback backend's VM id (this VM)
 * @have_stats: @base holds the stats at the start of the test
 * @base: the stats at the start of the test
 */
struct hd_env {
	int dev;
	int vgem;
	__u32 vmid;
	int have_stats;
	struct hd_stats base;
};

static inline void hd_env_init(struct hd_env *env)
{
	memset(env, 0, sizeof(*env));
	env->dev = -1;
	env->vgem = -1;
}

static inline bool hd_debugfs_mounted(void)
{
	struct statfs sfs;

	return !statfs(HD_DEBUGFS_ROOT, &sfs) &&
	       sfs.f_type == HD_DEBUGFS_MAGIC;
}

/*
 * Open what @need asks for.  HD_ENV_SKIP when something is missing from
 * the machine, HD_ENV_FAIL when hyper_dmabuf misbehaves; @why says what.
 */
static inline int hd_env_open(struct hd_env *env, unsigned int need,
			      char *why, size_t len)
{
	int ret;

	env->dev = hd_open_dev();
	if (env->dev < 0) {
		ret = errno;
		snprintf(why, len, "%s: %s", HD_DEV, strerror(ret));
		return ret == ENOENT ? HD_ENV_SKIP : HD_ENV_FAIL;
	}
	if (need & HD_NEED_VGEM) {
		env->vgem = hd_vgem_open();
		if (env->vgem < 0) {
			snprintf(why, len, "vgem is not loaded");
			return HD_ENV_SKIP;
		}
	}
	if (need & HD_NEED_LOOPBACK) {
		ret = hd_loopback_vmid(env->dev, &env->vmid);
		if (ret == -ENODEV) {
			snprintf(why, len, "no loopback peer in INFO");
			return HD_ENV_SKIP;
		}
		if (ret) {
			snprintf(why, len, "INFO: %s", strerror(-ret));
			return HD_ENV_FAIL;
		}
	}
	if (need & HD_NEED_STATS) {
		if (access(HD_STATS, R_OK) && !hd_debugfs_mounted()) {
			snprintf(why, len, "debugfs is not mounted");
			return HD_ENV_SKIP;
		}
		ret = hd_stats_settle(&env->base, 1000);
		if (ret) {
			snprintf(why, len, "%s: %s", HD_STATS, strerror(-ret));
			return HD_ENV_FAIL;
		}
		env->have_stats = 1;
	}
	return HD_ENV_READY;
}

/*
 * Everything the test opened must be released: the stats come back.
 * (No EXPECT_*() { handler } here: this runs in teardown, where after a
 * failed ASSERT_*() the harness would run the handler for nothing.)
 */
static inline void hd_expect_baseline(struct __test_metadata *_metadata,
				      const struct hd_stats *base,
				      int timeout_ms)
{
	struct hd_stats now;
	bool back;

	back = hd_stats_wait(base, timeout_ms, &now);
	if (!back) {
		hd_log_stats(_metadata, "at start", base);
		hd_log_stats(_metadata, "now", &now);
	}
	EXPECT_TRUE(back);
}

static inline void hd_env_close(struct __test_metadata *_metadata,
				struct hd_env *env)
{
	hd_close(&env->dev);
	hd_close(&env->vgem);
	if (env->have_stats)
		hd_expect_baseline(_metadata, &env->base,
				   HD_RELEASE_TIMEOUT_MS);
}

/*
 * The usual fixture setup: open the environment, SKIP or fail as needed.
 * Returns true when the test may run.
 */
static inline bool hd_env_setup(struct __test_metadata *_metadata,
				struct hd_env *env, unsigned int need)
{
	char why[256] = "";
	int ret;

	hd_env_init(env);
	ret = hd_env_open(env, need, why, sizeof(why));
	if (ret == HD_ENV_SKIP)
		SKIP(return false, "%s", why);
	EXPECT_EQ(HD_ENV_READY, ret) {
		TH_LOG("%s", why);
	}
	return ret == HD_ENV_READY;
}

#endif /* HDMABUF_UTIL_H */
