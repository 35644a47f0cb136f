// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf sharing: a vgem buffer exported to the loopback backend and
 * imported back is the very same memory (no copy), through mmap, kernel
 * vmap and a real device's attachment; metadata and QUERY describe it
 * (also when the importer maps it at once); read-only sharing is enforced.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <pthread.h>

#include "hdmabuf_util.h"

/* ---- zero copy, for several sizes ------------------------------------ */

/* Seconds per test: 32 MiB is filled and checked a few times under TCG. */
#define ZC_TIMEOUT	120

FIXTURE(zc) {
	struct hd_env env;
	struct hd_vbuf buf;		/* the exporter's buffer */
	struct hyper_dmabuf_id id;
	int fd;				/* imported read-write */
	unsigned char *map;		/* the importer's mapping of @fd */
	int ready;
};

FIXTURE_VARIANT(zc) {
	size_t size;
};

FIXTURE_VARIANT_ADD(zc, page) {
	.size = HD_PAGE_SIZE,
};

FIXTURE_VARIANT_ADD(zc, size_64k) {
	.size = 64 << 10,
};

FIXTURE_VARIANT_ADD(zc, size_1m) {
	.size = 1 << 20,
};

FIXTURE_VARIANT_ADD(zc, size_8m) {
	.size = 8 << 20,
};

FIXTURE_VARIANT_ADD(zc, size_32m) {
	.size = 32 << 20,
};

FIXTURE_SETUP(zc)
{
	void *map;

	hd_vbuf_init(&self->buf);
	self->fd = -1;
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, variant->size,
				    &self->buf));
	ASSERT_EQ(variant->size, self->buf.size);
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &self->id));
	ASSERT_EQ(0, hd_import_wait(self->env.dev, &self->id,
				    O_RDWR | O_CLOEXEC, &self->fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, self->buf.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	self->map = map;
	self->ready = 1;
}

FIXTURE_TEARDOWN(zc)
{
	if (self->map)
		munmap(self->map, self->buf.size);
	hd_close(&self->fd);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* What the exporter writes, the importer reads. */
TEST_F_TIMEOUT(zc, exporter_writes_reach_importer, ZC_TIMEOUT)
{
	size_t size = self->buf.size;

	if (!self->ready)
		return;
	hd_fill(self->buf.map, size, 11);
	EXPECT_EQ(size, hd_check(self->map, size, 11));
	/* and again, so that it is not a copy made at import */
	hd_fill(self->buf.map, size, 12);
	EXPECT_EQ(size, hd_check(self->map, size, 12));
	self->buf.map[size - 1] ^= 0x5a;
	EXPECT_EQ(self->buf.map[size - 1], self->map[size - 1]);
}

/* What the importer writes, the exporter reads. */
TEST_F_TIMEOUT(zc, importer_writes_reach_exporter, ZC_TIMEOUT)
{
	size_t size = self->buf.size;

	if (!self->ready)
		return;
	hd_fill(self->map, size, 13);
	EXPECT_EQ(size, hd_check(self->buf.map, size, 13));
	self->map[0] ^= 0xa5;
	EXPECT_EQ(self->map[0], self->buf.map[0]);
}

/* The kernel's vmap of the imported dma-buf sees the exporter's bytes. */
TEST_F_TIMEOUT(zc, vmap_sees_exporter_bytes, ZC_TIMEOUT)
{
	unsigned long long size, sum;
	size_t mid = self->buf.size / 2;

	if (!self->ready)
		return;
	hd_fill(self->buf.map, self->buf.size, 14);
	ASSERT_EQ(0, hd_vmap_check(self->fd, &size, &sum));
	EXPECT_EQ(self->buf.size, size);
	EXPECT_EQ(hd_byte_sum(self->buf.map, self->buf.size), sum);

	/* a change after the first vmap is seen too */
	self->buf.map[mid] = (unsigned char)(self->buf.map[mid] + 1);
	ASSERT_EQ(0, hd_vmap_check(self->fd, &size, &sum));
	EXPECT_EQ(hd_byte_sum(self->buf.map, self->buf.size), sum);
}

/* A real device (vgem) can attach to and map the imported dma-buf. */
TEST_F_TIMEOUT(zc, device_attach_and_map, ZC_TIMEOUT)
{
	size_t size = self->buf.size;
	__u32 handle = 0;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_vgem_import(self->env.vgem, self->fd, &handle));
	EXPECT_NE(0u, handle);
	EXPECT_NE(self->buf.handle, handle);
	/* the buffer is still shared while a device holds it */
	hd_fill(self->buf.map, size, 15);
	EXPECT_EQ(size, hd_check(self->map, size, 15));
	EXPECT_EQ(0, hd_vgem_close_handle(self->env.vgem, handle));
}

/* The CPU-access ioctls work on the imported dma-buf. */
TEST_F_TIMEOUT(zc, cpu_access_sync, ZC_TIMEOUT)
{
	static const __u64 dirs[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
	};
	size_t size = self->buf.size;
	struct dma_buf_sync sync;
	size_t i;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		sync.flags = DMA_BUF_SYNC_START | dirs[i];
		EXPECT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
		sync.flags = DMA_BUF_SYNC_END | dirs[i];
		EXPECT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	}

	/* a bracketed write through the importer reaches the exporter */
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	hd_fill(self->map, size, 16);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(size, hd_check(self->buf.map, size, 16));

	/* and a bracketed read sees the exporter's bytes */
	hd_fill(self->buf.map, size, 17);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(size, hd_check(self->map, size, 17));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, hd_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
}

/* ---- one buffer: metadata, QUERY, read-only, mmap --------------------- */

#define SHARE_SIZE	(16 * HD_PAGE_SIZE)

FIXTURE(share) {
	struct hd_env env;
	struct hd_vbuf buf;
	int ready;
};

FIXTURE_SETUP(share)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, SHARE_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, 21);
	self->ready = 1;
}

FIXTURE_TEARDOWN(share)
{
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

static int export_priv(int dev, int fd, __u32 vmid, const void *priv,
		       __u32 len, struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_export e;
	int ret;

	hd_export_init(&e, fd, vmid);
	e.priv = (uintptr_t)priv;
	e.priv_len = len;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
	*id = e.id;
	return ret;
}

/* The NEW event carries the id, the size and the exporter's metadata. */
TEST_F(share, new_event_carries_metadata)
{
	static const __u32 lens[] = { HYPER_DMABUF_PRIV_MAX, 17, 1, 0 };
	unsigned char priv[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, reader;
	size_t i;

	if (!self->ready)
		return;
	reader = hd_open_dev();
	ASSERT_LE(0, reader);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		hd_fill(priv, sizeof(priv), 100 + i);
		ASSERT_EQ(0, export_priv(dev, self->buf.fd, self->env.vmid,
					 priv, lens[i], &id));
		ASSERT_EQ(0, hd_wait_event(reader, HYPER_DMABUF_EVENT_NEW, &id,
					   &ev, HD_EVENT_TIMEOUT_MS));
		EXPECT_EQ(lens[i], ev.priv_len);
		EXPECT_EQ(0, memcmp(priv, ev.priv, lens[i]));
		EXPECT_EQ(self->env.vmid, ev.exporter_vmid);
		EXPECT_EQ(self->buf.size, ev.size);
		EXPECT_EQ(0u, ev.reserved);
		EXPECT_EQ(0u, ev.id.reserved);
		EXPECT_EQ(0, hd_unexport(dev, &id, 0));
	}
	close(reader);
}

/* QUERY returns the exporter's metadata. */
TEST_F(share, query_returns_metadata)
{
	unsigned char priv[HYPER_DMABUF_PRIV_MAX], out[HYPER_DMABUF_PRIV_MAX];
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev;

	if (!self->ready)
		return;
	hd_fill(priv, sizeof(priv), 31);
	ASSERT_EQ(0, export_priv(dev, self->buf.fd, self->env.vmid, priv,
				 sizeof(priv), &id));
	memset(out, 0, sizeof(out));
	memset(&q, 0, sizeof(q));
	q.id = id;
	q.priv = (uintptr_t)out;
	q.priv_len = sizeof(out);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q));
	EXPECT_EQ(sizeof(priv), q.priv_len);
	EXPECT_EQ(0, memcmp(priv, out, sizeof(priv)));

	/* the importing side knows it too, once the buffer reached it */
	ASSERT_TRUE(hd_wait_listed(dev, &id));
	memset(out, 0, sizeof(out));
	q.priv_len = sizeof(out);
	ASSERT_EQ(0, hd_ioctl(dev, HYPER_DMABUF_IOCTL_QUERY, &q));
	EXPECT_EQ(0, memcmp(priv, out, sizeof(priv)));
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* QUERY: VMs, size, and the status bits as the buffer goes through life. */
TEST_F(share, query_reports_state)
{
	const __u32 all = HD_ST_HERE | HD_ST_IMPORTED | HD_ST_UNEXPORTED |
			  HD_ST_PENDING;
	struct hyper_dmabuf_query q, q2;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, other, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_query(dev, &id, &q));
	EXPECT_EQ(self->env.vmid, q.exporter_vmid);
	EXPECT_EQ(self->env.vmid, q.importer_vmid);
	EXPECT_EQ(self->buf.size, q.size);
	EXPECT_EQ(HD_ST_HERE, q.status & all);

	/* any open file of this VM may ask */
	other = hd_open_dev();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, hd_query(other, &id, &q2));
	EXPECT_EQ(q.size, q2.size);
	EXPECT_EQ(q.exporter_vmid, q2.exporter_vmid);
	close(other);

	/* imported while an imported dma-buf lives */
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id,
					       HD_ST_HERE | HD_ST_IMPORTED,
					       HD_ST_UNEXPORTED),
				  HD_EVENT_TIMEOUT_MS));

	/* unexported, still imported */
	ASSERT_EQ(0, hd_unexport(dev, &id, 0));
	EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id,
					       HD_ST_HERE | HD_ST_IMPORTED |
					       HD_ST_UNEXPORTED,
					       HD_ST_PENDING),
				  HD_WITHDRAW_TIMEOUT_MS));
	ASSERT_EQ(0, hd_query(dev, &id, &q));
	EXPECT_EQ(self->buf.size, q.size);
	close(fd);
}

/* The imported bit goes away when the last imported dma-buf is released. */
TEST_F(share, query_imported_clears_on_release)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd, fd2;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	EXPECT_TRUE(hd_status_is(dev, &id, HD_ST_HERE, HD_ST_IMPORTED));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_import(dev, &id, O_RDWR | O_CLOEXEC, &fd2));
	EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id, HD_ST_IMPORTED, 0),
				  HD_EVENT_TIMEOUT_MS));
	close(fd);
	/* one is left */
	usleep(200000);
	EXPECT_TRUE(hd_status_is(dev, &id, HD_ST_IMPORTED, 0));
	close(fd2);
	EXPECT_TRUE(hd_wait_until(hd_status_is(dev, &id, HD_ST_HERE,
					       HD_ST_IMPORTED),
				  HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/**
 * struct share_racer - an importer that imports a buffer the moment it
 *	learns of it
 * @dev: its open file
 * @fd: out: the imported dma-buf, or -1
 * @id: out: the buffer
 */
struct share_racer {
	int dev;
	int fd;
	struct hyper_dmabuf_id id;
};

static void *share_race_import(void *arg)
{
	struct share_racer *r = arg;
	struct hyper_dmabuf_event ev;

	r->fd = -1;
	do {	/* a late WITHDRAWN of the round before may come first */
		if (hd_read_event(r->dev, &ev, HD_EVENT_TIMEOUT_MS))
			return NULL;
	} while (ev.type != HD_EV_NEW);
	r->id = ev.id;
	if (hd_import(r->dev, &ev.id, O_RDONLY | O_CLOEXEC, &r->fd))
		r->fd = -1;
	return NULL;
}

#define SHARE_RACES	40

/*
 * An importer may map a buffer before the exporting call has seen the
 * importer's answer: its USAGE then arrives while the export is still
 * being announced, and must count all the same (it was dropped, and the
 * exporter never saw the buffer imported).
 */
TEST_F(share, query_imported_when_imported_at_once)
{
	struct share_racer r;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, i, lost = 0;
	pthread_t th;

	if (!self->ready)
		return;
	r.dev = hd_open_dev();
	ASSERT_LE(0, r.dev);
	for (i = 0; i < SHARE_RACES; i++) {
		ASSERT_EQ(0, pthread_create(&th, NULL, share_race_import, &r));
		ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0,
				       &id));
		pthread_join(th, NULL);
		ASSERT_LE(0, r.fd);
		ASSERT_TRUE(hd_id_eq(&id, &r.id));
		if (!hd_wait_until(hd_status_is(dev, &id, HD_ST_IMPORTED, 0),
				   1000))
			lost++;
		close(r.fd);
		ASSERT_EQ(0, hd_unexport(dev, &id, 0));
		hd_drain_events(r.dev);
	}
	EXPECT_EQ(0, lost) {
		TH_LOG("%d of %d imports never showed in QUERY", lost,
		       SHARE_RACES);
	}
	close(r.dev);
}

static void expect_read_only(struct __test_metadata *_metadata, int fd,
			     size_t size, __u64 seed)
{
	unsigned char *map;

	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EACCES, errno);
	if (map != MAP_FAILED)
		munmap(map, size);

	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(size, hd_check(map, size, seed));
	/* nor can the mapping be made writable later */
	EXPECT_EQ(-1, mprotect(map, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(map, size);
}

/* A read-only export: mappable for reading only. */
TEST_F(share, rdonly_export_maps_read_only)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid,
			       HYPER_DMABUF_EXPORT_RDONLY, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	expect_read_only(_metadata, fd, self->buf.size, 21);
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* A read-write export imported read-only: mappable for reading only. */
TEST_F(share, rdonly_import_maps_read_only)
{
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDONLY | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	expect_read_only(_metadata, fd, self->buf.size, 21);
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* Each import is a dma-buf of its own, on the same pages. */
TEST_F(share, imports_are_separate_dmabufs)
{
	size_t size = self->buf.size;
	unsigned char *a, *b;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fa, fb;
	struct stat sa, sb;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fa,
				    HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_import(dev, &id, O_RDWR | O_CLOEXEC, &fb));
	ASSERT_EQ(0, fstat(fa, &sa));
	ASSERT_EQ(0, fstat(fb, &sb));
	EXPECT_NE(sa.st_ino, sb.st_ino);

	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
	ASSERT_NE(MAP_FAILED, b);
	hd_fill(a, size, 41);
	EXPECT_EQ(size, hd_check(b, size, 41));
	EXPECT_EQ(size, hd_check(self->buf.map, size, 41));
	hd_fill(b, size, 42);
	EXPECT_EQ(size, hd_check(a, size, 42));
	munmap(a, size);
	munmap(b, size);
	close(fa);
	close(fb);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

/* mmap at an offset maps that part; past the end it fails. */
TEST_F(share, mmap_offset_and_bounds)
{
	const size_t off = 8 * HD_PAGE_SIZE, len = 4 * HD_PAGE_SIZE;
	size_t size = self->buf.size;
	struct hyper_dmabuf_id id;
	int dev = self->env.dev, fd;
	unsigned char *map;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_export(dev, self->buf.fd, self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_import_wait(dev, &id, O_RDWR | O_CLOEXEC, &fd,
				    HD_EVENT_TIMEOUT_MS));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map, self->buf.map + off, len));
	map[1] ^= 0xff;
	EXPECT_EQ(map[1], self->buf.map[off + 1]);
	munmap(map, len);

	map = mmap(NULL, size + HD_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, map);
	if (map != MAP_FAILED)
		munmap(map, size + HD_PAGE_SIZE);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, size - HD_PAGE_SIZE);
	EXPECT_EQ(MAP_FAILED, map);
	if (map != MAP_FAILED)
		munmap(map, len);
	close(fd);
	EXPECT_EQ(0, hd_unexport(dev, &id, 0));
}

TEST_HARNESS_MAIN
