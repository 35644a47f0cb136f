// SPDX-License-Identifier: GPL-2.0
/*
 * Frames on live buffers, over the loopback backend: a swapchain shared
 * once and presented frame by frame (PRESENT, the FRAME event,
 * RELEASE_FRAME, the FRAME_RELEASED event), the typed image description,
 * the fences (the buffer's implicit write fences, an explicit in-fence,
 * the release fence back to the exporter, the arrival fence on the
 * importer), bad input, a flood of presents against a slow releaser, and
 * a peer that goes away with a frame out.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <drm/vgem_drm.h>
#include <linux/sync_file.h>

#include "hdmabuf_util.h"

#define FR_BUFS		3
#define FR_W		64
#define FR_H		64
#define FR_PITCH	(FR_W * 4)
#define FR_SIZE		(FR_PITCH * FR_H)	/* 16 KiB */
#define FR_FRAMES	12
#define FR_WAIT_MS	HD_EVENT_TIMEOUT_MS
/* How long nothing must happen while a fence holds a frame back. */
#define FR_QUIET_MS	300

#define HD_EV_FRAME	((__u32)HYPER_DMABUF_EVENT_FRAME)
#define HD_EV_FRAME_RELEASED ((__u32)HYPER_DMABUF_EVENT_FRAME_RELEASED)
#define HD_ST_FRAME	HYPER_DMABUF_STATUS_FRAME_PENDING

FIXTURE(fr) {
	struct hd_env env;
	int imp;	/* the importer's own open file */
	struct hd_vbuf buf[FR_BUFS];
	struct hyper_dmabuf_id id[FR_BUFS];
	int ready;
};

static void fr_image(struct hyper_dmabuf_image *im)
{
	memset(im, 0, sizeof(*im));
	im->fourcc = 0x34325258;	/* DRM_FORMAT_XRGB8888, "XR24" */
	im->width = FR_W;
	im->height = FR_H;
	im->pitch[0] = FR_PITCH;
}

/* Export @fd to @vmid with the image of FR_W by FR_H XRGB8888 pixels. */
static int fr_export(int dev, int fd, __u32 vmid, bool image,
		     struct hyper_dmabuf_id *id)
{
	struct hyper_dmabuf_export e;
	int ret;

	hd_export_init(&e, fd, vmid);
	if (image)
		fr_image(&e.image);
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_EXPORT, &e);
	if (!ret)
		*id = e.id;
	return ret;
}

FIXTURE_SETUP(fr)
{
	int i;

	self->imp = -1;
	for (i = 0; i < FR_BUFS; i++)
		hd_vbuf_init(&self->buf[i]);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	self->imp = hd_open_dev();
	ASSERT_LE(0, self->imp);
	for (i = 0; i < FR_BUFS; i++) {
		ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, FR_SIZE,
					    &self->buf[i]));
		ASSERT_EQ(0, fr_export(self->env.dev, self->buf[i].fd,
				       self->env.vmid, true, &self->id[i]));
		ASSERT_TRUE(hd_wait_listed(self->imp, &self->id[i]));
	}
	self->ready = 1;
}

FIXTURE_TEARDOWN(fr)
{
	int i;

	hd_close(&self->imp);
	for (i = 0; i < FR_BUFS; i++)
		hd_vbuf_destroy(&self->buf[i]);
	hd_env_close(_metadata, &self->env);
}

static int fr_present(int dev, const struct hyper_dmabuf_id *id, __u64 seq,
		      __u32 flags, const struct hyper_dmabuf_rect *damage,
		      __u32 nr_damage, int in_fence, int *release_fence)
{
	struct hyper_dmabuf_present p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.id = *id;
	p.seq = seq;
	p.flags = flags;
	p.in_fence_fd = in_fence;
	p.nr_damage = nr_damage;
	p.damage = (uintptr_t)damage;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_PRESENT, &p);
	if (!ret && release_fence)
		*release_fence = p.release_fence_fd;
	return ret;
}

static int fr_release(int dev, const struct hyper_dmabuf_id *id, __u64 seq,
		      __u32 flags, int fence)
{
	struct hyper_dmabuf_release_frame r;

	memset(&r, 0, sizeof(r));
	r.id = *id;
	r.seq = seq;
	r.flags = flags;
	r.fence_fd = fence;
	return hd_ioctl(dev, HYPER_DMABUF_IOCTL_RELEASE_FRAME, &r);
}

static int fr_frame_fence(int dev, const struct hyper_dmabuf_id *id, int *fd)
{
	struct hyper_dmabuf_frame_fence f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.id = *id;
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_FRAME_FENCE, &f);
	if (!ret)
		*fd = f.fence_fd;
	return ret;
}

/* 1 when @fd (a sync_file or dma-buf) polls ready for @events, else 0. */
static int fr_ready(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & events);
}

/* A sync_file's status: 1 signalled, 0 not yet, or a negative errno. */
static int fr_fence_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	return info.status;
}

/* A vgem write fence on @b: returns its id, or a negative errno. */
static int fr_vgem_fence(struct hd_vbuf *b)
{
	struct drm_vgem_fence_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.handle = b->handle;
	a.flags = VGEM_FENCE_WRITE;
	ret = hd_ioctl(b->vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &a);
	return ret ? ret : (int)a.out_fence;
}

static int fr_vgem_signal(struct hd_vbuf *b, int fence)
{
	struct drm_vgem_fence_signal s;

	memset(&s, 0, sizeof(s));
	s.fence = fence;
	return hd_ioctl(b->vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &s);
}

/* Draw frame @n of the animation into @map. */
static void fr_draw(unsigned char *map, unsigned int n)
{
	hd_fill(map, FR_SIZE, 7000 + n);
}

/* The swapchain loop: every frame arrives, intact, and comes back. */
TEST_F(fr, swapchain_loop)
{
	struct hyper_dmabuf_rect full = { 0, 0, FR_W, FR_H };
	struct hyper_dmabuf_rect bar;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	unsigned char *in[FR_BUFS] = { NULL };
	int fd[FR_BUFS], i;
	unsigned int n;

	if (!self->ready)
		return;
	for (i = 0; i < FR_BUFS; i++) {
		ASSERT_EQ(0, hd_import(self->imp, &self->id[i],
				       O_RDONLY | O_CLOEXEC, &fd[i]));
		in[i] = mmap(NULL, FR_SIZE, PROT_READ, MAP_SHARED, fd[i], 0);
		ASSERT_NE(MAP_FAILED, in[i]);
	}
	hd_drain_events(self->imp);
	hd_drain_events(self->env.dev);

	for (n = 0; n < FR_FRAMES; n++) {
		i = n % FR_BUFS;
		bar = (struct hyper_dmabuf_rect){ 0, n * 4, FR_W, 4 };
		fr_draw(self->buf[i].map, n);
		ASSERT_EQ(0, fr_present(self->env.dev, &self->id[i], n + 1, 0,
					n ? &bar : &full, 1, -1, NULL));
		ASSERT_TRUE(hd_status_is(self->env.dev, &self->id[i],
					 HD_ST_FRAME, 0));

		ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME,
					   &self->id[i], &ev, FR_WAIT_MS));
		EXPECT_EQ((__u64)n + 1, ev.frame.seq);
		ASSERT_EQ(1u, ev.frame.nr_damage);
		EXPECT_EQ(0, memcmp(&ev.frame.damage[0], n ? &bar : &full,
				    sizeof(bar)));
		EXPECT_EQ((__u64)FR_SIZE, ev.size);
		/* The importer sees the frame, not an older one. */
		EXPECT_EQ((size_t)FR_SIZE, hd_check(in[i], FR_SIZE, 7000 + n));
		ASSERT_EQ(0, hd_query(self->imp, &self->id[i], &q));
		EXPECT_TRUE(hd_has(q.status, HD_ST_FRAME));
		EXPECT_EQ((__u64)n + 1, q.frame_seq);

		ASSERT_EQ(0, fr_release(self->imp, &self->id[i], n + 1, 0, -1));
		ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
					   &self->id[i], &ev, FR_WAIT_MS));
		EXPECT_EQ((__u64)n + 1, ev.frame.seq);
		EXPECT_EQ(0u, ev.frame.flags);
		ASSERT_EQ(0, hd_query(self->env.dev, &self->id[i], &q));
		EXPECT_FALSE(hd_has(q.status, HD_ST_FRAME));
		EXPECT_EQ((__u64)n + 1, q.frame_seq);
	}
	for (i = 0; i < FR_BUFS; i++) {
		munmap(in[i], FR_SIZE);
		close(fd[i]);
	}
}

/* The image travels with the NEW event and QUERY, on both sides. */
TEST_F(fr, image_description)
{
	struct hyper_dmabuf_image want;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	struct hyper_dmabuf_id id;
	struct hd_vbuf b;
	int imp2;

	if (!self->ready)
		return;
	fr_image(&want);
	ASSERT_EQ(0, hd_query(self->imp, &self->id[0], &q));
	EXPECT_EQ(0, memcmp(&want, &q.image, sizeof(want)));
	ASSERT_EQ(0, hd_query(self->env.dev, &self->id[0], &q));
	EXPECT_EQ(0, memcmp(&want, &q.image, sizeof(want)));

	imp2 = hd_open_dev();
	ASSERT_LE(0, imp2);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, FR_SIZE, &b));
	ASSERT_EQ(0, fr_export(self->env.dev, b.fd, self->env.vmid, true,
			       &id));
	ASSERT_EQ(0, hd_wait_event(imp2, HD_EV_NEW, &id, &ev, FR_WAIT_MS));
	EXPECT_EQ(0, memcmp(&want, &ev.image, sizeof(want)));
	ASSERT_EQ(0, hd_unexport(self->env.dev, &id, 0));
	hd_vbuf_destroy(&b);
	close(imp2);
}

/* Descriptions that do not fit the buffer are refused, leaving nothing. */
TEST_F(fr, image_refused)
{
	struct hyper_dmabuf_export e;
	struct hd_stats before, after;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_stats_read(&before));
	hd_export_init(&e, self->buf[0].fd, self->env.vmid);
	fr_image(&e.image);
	e.image.height = FR_H + 1;	/* one row past the end */
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT,
				    &e));
	fr_image(&e.image);
	e.image.pitch[0] = FR_PITCH - 4;	/* shorter than a row */
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT,
				    &e));
	fr_image(&e.image);
	e.image.fourcc = 0x45504f4e;		/* "NOPE" */
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT,
				    &e));
	fr_image(&e.image);
	e.image.reserved = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT,
				    &e));
	fr_image(&e.image);
	e.image.pitch[1] = FR_PITCH;		/* a plane XR24 has not */
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_EXPORT,
				    &e));
	ASSERT_EQ(0, hd_stats_read(&after));
	EXPECT_TRUE(hd_stats_eq(&before, &after));
}

/* One frame out per buffer; sequence numbers only grow. */
TEST_F(fr, one_frame_out)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;

	if (!self->ready)
		return;
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 5, 0, NULL, 0,
				-1, NULL));
	EXPECT_EQ(-EBUSY, fr_present(self->env.dev, &self->id[0], 6, 0, NULL,
				     0, -1, NULL));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	EXPECT_EQ(-EBUSY, fr_present(self->env.dev, &self->id[0], 6, 0, NULL,
				     0, -1, NULL));
	/* Releasing another frame than the one out is stale. */
	EXPECT_EQ(-ESTALE, fr_release(self->imp, &self->id[0], 4, 0, -1));
	EXPECT_EQ(-ESTALE, fr_release(self->imp, &self->id[1], 5, 0, -1));
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 5,
				HYPER_DMABUF_RELEASE_DROPPED, -1));
	EXPECT_EQ(-ESTALE, fr_release(self->imp, &self->id[0], 5, 0, -1));
	ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
				   &self->id[0], &ev, FR_WAIT_MS));
	EXPECT_EQ(5u, ev.frame.seq);
	EXPECT_EQ(HYPER_DMABUF_FRAME_DROPPED, ev.frame.flags);
	/* Not after the last frame: refused, and nothing changed. */
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 5, 0, NULL,
				      0, -1, NULL));
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 3, 0, NULL,
				      0, -1, NULL));
	ASSERT_EQ(0, hd_query(self->env.dev, &self->id[0], &q));
	EXPECT_EQ(5u, q.frame_seq);
	EXPECT_FALSE(hd_has(q.status, HD_ST_FRAME));
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 6, 0, NULL, 0,
				-1, NULL));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	EXPECT_EQ(6u, ev.frame.seq);
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 6, 0, -1));
}

/* Bad input: a precise errno, and no frame goes out. */
TEST_F(fr, bad_input)
{
	struct hyper_dmabuf_rect r[HYPER_DMABUF_MAX_DAMAGE + 1];
	struct hyper_dmabuf_rect out = { FR_W - 1, 0, 2, 1 };
	struct hyper_dmabuf_present p;
	struct hyper_dmabuf_release_frame rf;
	struct hyper_dmabuf_frame_fence ff;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id bad;
	struct hd_vbuf plain;
	struct hyper_dmabuf_id plain_id;
	int other, i;

	if (!self->ready)
		return;
	for (i = 0; i <= HYPER_DMABUF_MAX_DAMAGE; i++)
		r[i] = (struct hyper_dmabuf_rect){ 0, i, 1, 1 };
	bad = self->id[0];
	bad.key[1] ^= 1;
	EXPECT_EQ(-ENOENT, fr_present(self->env.dev, &bad, 1, 0, NULL, 0, -1,
				      NULL));
	/* Another file's buffer. */
	other = hd_open_dev();
	ASSERT_LE(0, other);
	EXPECT_EQ(-EPERM, fr_present(other, &self->id[0], 1, 0, NULL, 0, -1,
				     NULL));
	close(other);
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 0, 0, NULL,
				      0, -1, NULL));
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 1, 1u << 7,
				      NULL, 0, -1, NULL));
	memset(&p, 0, sizeof(p));
	p.id = self->id[0];
	p.seq = 1;
	p.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(self->env.dev, HYPER_DMABUF_IOCTL_PRESENT,
				    &p));
	/* Damage outside the image, too much of it, or unreadable. */
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 1, 0, &out,
				      1, -1, NULL));
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 1, 0, r,
				      HYPER_DMABUF_MAX_DAMAGE + 1, -1, NULL));
	EXPECT_EQ(-EFAULT, fr_present(self->env.dev, &self->id[0], 1, 0,
				      (void *)8, 1, -1, NULL));
	/* A bad in-fence: no file, and a file that is no sync_file. */
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 1,
				      HYPER_DMABUF_PRESENT_IN_FENCE, NULL, 0,
				      -1, NULL));
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &self->id[0], 1,
				      HYPER_DMABUF_PRESENT_IN_FENCE, NULL, 0,
				      self->env.dev, NULL));
	/* A buffer exported without an image takes no damage. */
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, FR_SIZE, &plain));
	ASSERT_EQ(0, fr_export(self->env.dev, plain.fd, self->env.vmid, false,
			       &plain_id));
	EXPECT_EQ(-EINVAL, fr_present(self->env.dev, &plain_id, 1, 0, r, 1,
				      -1, NULL));
	ASSERT_EQ(0, hd_unexport(self->env.dev, &plain_id, 0));
	hd_vbuf_destroy(&plain);

	/* The importer's calls. */
	EXPECT_EQ(-ENOENT, fr_release(self->imp, &bad, 1, 0, -1));
	EXPECT_EQ(-EINVAL, fr_release(self->imp, &self->id[0], 0, 0, -1));
	EXPECT_EQ(-EINVAL, fr_release(self->imp, &self->id[0], 1, 1u << 9,
				      -1));
	memset(&rf, 0, sizeof(rf));
	rf.id = self->id[0];
	rf.seq = 1;
	rf.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(self->imp,
				    HYPER_DMABUF_IOCTL_RELEASE_FRAME, &rf));
	EXPECT_EQ(-ENOENT, fr_frame_fence(self->imp, &bad, &i));
	memset(&ff, 0, sizeof(ff));
	ff.id = self->id[0];
	ff.flags = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(self->imp, HYPER_DMABUF_IOCTL_FRAME_FENCE,
				    &ff));

	/* None of it sent a frame: the first real one is seq 1. */
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id[0], 0, HD_ST_FRAME));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(self->imp, HD_EV_FRAME,
					    &self->id[0], &ev, FR_QUIET_MS));
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1, 0, NULL, 0,
				-1, NULL));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	/* A bad release fence leaves the frame out. */
	EXPECT_EQ(-EINVAL, fr_release(self->imp, &self->id[0], 1,
				      HYPER_DMABUF_RELEASE_FENCE, -1));
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 1, 0, -1));
}

/*
 * A flood of presents against a releaser that takes its time: every
 * buffer has one frame out, the rest is EBUSY, and the importer gets one
 * FRAME per buffer, no more.
 */
TEST_F(fr, flood_against_slow_releaser)
{
	struct hyper_dmabuf_event ev;
	int i, n, ret, busy = 0, frames = 0, released = 0;

	if (!self->ready)
		return;
	hd_drain_events(self->imp);
	hd_drain_events(self->env.dev);
	for (n = 0; n < 3000; n++) {
		i = n % FR_BUFS;
		ret = fr_present(self->env.dev, &self->id[i], n + 1, 0, NULL, 0,
				 -1, NULL);
		if (ret == -EBUSY)
			busy++;
		else
			ASSERT_EQ(0, ret);
	}
	EXPECT_EQ(3000 - FR_BUFS, busy);
	while (!hd_read_event(self->imp, &ev, FR_QUIET_MS * 2)) {
		if (ev.type == HD_EV_FRAME)
			frames++;
		EXPECT_NE(HD_EV_OVERFLOW, ev.type);
	}
	EXPECT_EQ(FR_BUFS, frames);
	for (i = 0; i < FR_BUFS; i++)
		ASSERT_EQ(0, fr_release(self->imp, &self->id[i], i + 1, 0, -1));
	while (released < FR_BUFS &&
	       !hd_read_event(self->env.dev, &ev, FR_WAIT_MS))
		released += ev.type == HD_EV_FRAME_RELEASED;
	EXPECT_EQ(FR_BUFS, released);
}

/* PRESENT waits for the buffer's write fences, unless told not to. */
TEST_F(fr, implicit_fence)
{
	struct hyper_dmabuf_event ev;
	int fence;

	if (!self->ready)
		return;
	fence = fr_vgem_fence(&self->buf[0]);
	ASSERT_LE(0, fence);
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1, 0, NULL, 0,
				-1, NULL));
	/* Presented, but held back: the GPU still writes. */
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id[0], HD_ST_FRAME, 0));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(self->imp, HD_EV_FRAME,
					    &self->id[0], &ev, FR_QUIET_MS));
	ASSERT_EQ(0, fr_vgem_signal(&self->buf[0], fence));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 1, 0, -1));

	/* An explicitly synchronised compositor skips them. */
	fence = fr_vgem_fence(&self->buf[1]);
	ASSERT_LE(0, fence);
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[1], 1,
				HYPER_DMABUF_PRESENT_NO_IMPLICIT, NULL, 0, -1,
				NULL));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[1], &ev,
				   FR_WAIT_MS));
	ASSERT_EQ(0, fr_vgem_signal(&self->buf[1], fence));
	ASSERT_EQ(0, fr_release(self->imp, &self->id[1], 1, 0, -1));
}

/* PRESENT waits for an explicit in-fence, RELEASE_FRAME for its own. */
TEST_F(fr, explicit_fences)
{
	struct dma_buf_export_sync_file ex;
	struct hyper_dmabuf_event ev;
	int fence, sync;

	if (!self->ready)
		return;
	/* A sync_file of a vgem fence on buffer 2 fences buffer 0's frame. */
	fence = fr_vgem_fence(&self->buf[2]);
	ASSERT_LE(0, fence);
	memset(&ex, 0, sizeof(ex));
	ex.flags = DMA_BUF_SYNC_READ;	/* the write fences */
	ASSERT_EQ(0, hd_ioctl(self->buf[2].fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
			      &ex));
	sync = ex.fd;
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1,
				HYPER_DMABUF_PRESENT_IN_FENCE, NULL, 0, sync,
				NULL));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(self->imp, HD_EV_FRAME,
					    &self->id[0], &ev, FR_QUIET_MS));
	ASSERT_EQ(0, fr_vgem_signal(&self->buf[2], fence));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));

	/* The consumer still reads: release once its fence signals. */
	fence = fr_vgem_fence(&self->buf[2]);
	ASSERT_LE(0, fence);
	close(sync);
	ASSERT_EQ(0, hd_ioctl(self->buf[2].fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
			      &ex));
	sync = ex.fd;
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 1,
				HYPER_DMABUF_RELEASE_FENCE, sync));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(self->env.dev,
					    HD_EV_FRAME_RELEASED,
					    &self->id[0], &ev, FR_QUIET_MS));
	EXPECT_TRUE(hd_status_is(self->env.dev, &self->id[0], HD_ST_FRAME, 0));
	ASSERT_EQ(0, fr_vgem_signal(&self->buf[2], fence));
	ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
				   &self->id[0], &ev, FR_WAIT_MS));
	close(sync);
}

/* The release fence signals on release, with an error if the sharing ends. */
TEST_F(fr, release_fence)
{
	struct hyper_dmabuf_event ev;
	int rf, held;

	if (!self->ready)
		return;
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1,
				HYPER_DMABUF_PRESENT_RELEASE_FENCE, NULL, 0,
				-1, &rf));
	ASSERT_LE(0, rf);
	EXPECT_EQ(FD_CLOEXEC, fcntl(rf, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	EXPECT_EQ(0, fr_ready(rf, POLLIN, FR_QUIET_MS));
	EXPECT_EQ(0, fr_fence_status(rf));
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 1, 0, -1));
	EXPECT_EQ(1, fr_ready(rf, POLLIN, FR_WAIT_MS));
	EXPECT_EQ(1, fr_fence_status(rf));
	close(rf);

	/*
	 * Unexported with a frame out, while the importer still holds the
	 * buffer: the fence ends in an error once it lets go, not never.
	 */
	ASSERT_EQ(0, hd_import(self->imp, &self->id[1], O_RDONLY | O_CLOEXEC,
			       &held));
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[1], 1,
				HYPER_DMABUF_PRESENT_RELEASE_FENCE, NULL, 0,
				-1, &rf));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[1], &ev,
				   FR_WAIT_MS));
	ASSERT_EQ(0, hd_unexport(self->env.dev, &self->id[1], 0));
	EXPECT_EQ(-ESHUTDOWN, fr_present(self->env.dev, &self->id[1], 2, 0,
					 NULL, 0, -1, NULL));
	EXPECT_EQ(-ENOTCONN, fr_release(self->imp, &self->id[1], 1, 0, -1));
	EXPECT_EQ(0, fr_ready(rf, POLLIN, FR_QUIET_MS));
	close(held);
	EXPECT_EQ(1, fr_ready(rf, POLLIN, HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(-ECANCELED, fr_fence_status(rf));
	EXPECT_EQ(-ENOTCONN, fr_present(self->env.dev, &self->id[1], 2, 0,
					NULL, 0, -1, NULL));
	close(rf);
}

/*
 * The arrival fence: ready at once while a frame is out, else with the
 * next frame; imported into the dma-buf, implicit-sync readers wait.
 */
TEST_F(fr, arrival_fence)
{
	struct dma_buf_import_sync_file is;
	struct hyper_dmabuf_event ev;
	int af, af2, buf;

	if (!self->ready)
		return;
	ASSERT_EQ(0, hd_import(self->imp, &self->id[0], O_RDONLY | O_CLOEXEC,
			       &buf));
	ASSERT_EQ(0, fr_frame_fence(self->imp, &self->id[0], &af));
	EXPECT_EQ(0, fr_ready(af, POLLIN, FR_QUIET_MS));
	memset(&is, 0, sizeof(is));
	is.flags = DMA_BUF_SYNC_WRITE;
	is.fd = af;
	ASSERT_EQ(0, hd_ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &is));
	/* A reader of the buffer now waits for the frame by itself. */
	EXPECT_EQ(0, fr_ready(buf, POLLIN, FR_QUIET_MS));

	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1, 0, NULL, 0,
				-1, NULL));
	EXPECT_EQ(1, fr_ready(af, POLLIN, FR_WAIT_MS));
	EXPECT_EQ(1, fr_fence_status(af));
	EXPECT_EQ(1, fr_ready(buf, POLLIN, FR_WAIT_MS));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	/* A frame is out: the next fence is ready at once. */
	ASSERT_EQ(0, fr_frame_fence(self->imp, &self->id[0], &af2));
	EXPECT_EQ(1, fr_fence_status(af2));
	close(af2);
	ASSERT_EQ(0, fr_release(self->imp, &self->id[0], 1, 0, -1));
	ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
				   &self->id[0], &ev, FR_WAIT_MS));

	/* Withdrawn before the next frame: an error, not a hang. */
	ASSERT_EQ(0, fr_frame_fence(self->imp, &self->id[0], &af2));
	EXPECT_EQ(0, fr_fence_status(af2));
	ASSERT_EQ(0, hd_unexport(self->env.dev, &self->id[0], 0));
	EXPECT_EQ(1, fr_ready(af2, POLLIN, FR_WAIT_MS));
	EXPECT_EQ(-ECANCELED, fr_fence_status(af2));
	EXPECT_EQ(-ENOTCONN, fr_frame_fence(self->imp, &self->id[0], &af));
	close(af2);
	close(af);
	close(buf);
}

/* The importing VM goes away with frames out: nobody waits for ever. */
TEST_F(fr, peer_gone_with_frames_out)
{
	struct hyper_dmabuf_event ev;
	int rf, af, i;

	if (!self->ready)
		return;
	if (access(HD_LB_PARAMS "reconnect", W_OK))
		SKIP(return, "loopback has no reconnect knob");
	ASSERT_EQ(0, fr_present(self->env.dev, &self->id[0], 1,
				HYPER_DMABUF_PRESENT_RELEASE_FENCE, NULL, 0,
				-1, &rf));
	ASSERT_EQ(0, hd_wait_event(self->imp, HD_EV_FRAME, &self->id[0], &ev,
				   FR_WAIT_MS));
	ASSERT_EQ(0, fr_frame_fence(self->imp, &self->id[1], &af));
	hd_drain_events(self->env.dev);

	ASSERT_EQ(0, hd_lb_write("reconnect", "1"));
	ASSERT_EQ(0, hd_wait_event(self->env.dev, HD_EV_FRAME_RELEASED,
				   &self->id[0], &ev, FR_WAIT_MS));
	EXPECT_EQ(1u, ev.frame.seq);
	EXPECT_EQ(HYPER_DMABUF_FRAME_ABORTED, ev.frame.flags);
	EXPECT_EQ(1, fr_ready(rf, POLLIN, FR_WAIT_MS));
	EXPECT_EQ(-ENOTCONN, fr_fence_status(rf));
	EXPECT_EQ(1, fr_ready(af, POLLIN, FR_WAIT_MS));
	EXPECT_EQ(-ECANCELED, fr_fence_status(af));
	for (i = 0; i < FR_BUFS; i++)
		EXPECT_EQ(-ENOTCONN, fr_present(self->env.dev, &self->id[i],
						2, 0, NULL, 0, -1, NULL));
	/* Gone with the peer: the importer's buffer is unknown now. */
	EXPECT_EQ(-ENOENT, fr_release(self->imp, &self->id[0], 1, 0, -1));
	close(rf);
	close(af);
}

TEST_HARNESS_MAIN
