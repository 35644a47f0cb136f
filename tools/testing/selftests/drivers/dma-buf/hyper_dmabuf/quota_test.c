// SPDX-License-Identifier: GPL-2.0
/*
 * Per-peer limits: what this VM may export to one VM, and what one VM may
 * announce to this one, over the loopback backend (whose peer is this VM,
 * so that both sides are counted here).  Each case lowers a limit for its
 * duration through the module parameter, and puts it back.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include "hdmabuf_util.h"

/* The buffer the cases export: 192 pages, three quarters of a MiB. */
#define QUOTA_PAGES	192u
#define QUOTA_SIZE	(QUOTA_PAGES * HD_PAGE_SIZE)
#define QUOTA_SEED	15
/* Parameters a case may change at once. */
#define QUOTA_PARAMS	2
/* An endpoint the cases configure; root may bind it. */
#define QUOTA_EPS	"/sys/kernel/config/hyper_dmabuf/endpoints"
#define QUOTA_EP	"quota"

/* Parameters a case changed, and their values before. */
struct quota_saved {
	const char *param[QUOTA_PARAMS];
	long val[QUOTA_PARAMS];
	int nr;
};

/* Set parameter @name to @val; quota_restore() puts the old value back. */
static int quota_set(struct quota_saved *s, const char *name, long val)
{
	long old = hd_param(name, -1);

	if (old < 0 || s->nr == QUOTA_PARAMS)
		return -EINVAL;
	s->param[s->nr] = name;
	s->val[s->nr++] = old;
	return hd_param_set(name, val);
}

static void quota_restore(struct quota_saved *s)
{
	while (s->nr > 0) {
		s->nr--;
		hd_param_set(s->param[s->nr], s->val[s->nr]);
	}
}

FIXTURE(quota) {
	struct hd_env env;
	struct hd_vbuf buf;
	int exp;
	int ep;
	int ready;
	struct quota_saved saved;
};

FIXTURE_SETUP(quota)
{
	hd_vbuf_init(&self->buf);
	self->exp = -1;
	self->ep = -1;
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, QUOTA_SIZE, &self->buf));
	hd_fill(self->buf.map, self->buf.size, QUOTA_SEED);
	/* The exports' own file: closing it unexports them all. */
	self->exp = hd_open_dev();
	ASSERT_LE(0, self->exp);
	hd_drain_events(self->env.dev);
	self->ready = 1;
}

FIXTURE_TEARDOWN(quota)
{
	quota_restore(&self->saved);
	hd_close(&self->ep);
	rmdir(QUOTA_EPS "/" QUOTA_EP);
	hd_close(&self->exp);
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/*
 * max_exports_per_peer: past it an export fails with ENOSPC at once, and
 * a released export makes room again.
 */
TEST_F(quota, exports_per_peer)
{
	struct hyper_dmabuf_id a, b;
	int ret;

	if (!self->ready)
		return;
	ASSERT_EQ(0, quota_set(&self->saved, "max_exports_per_peer",
			       self->env.base.exports + 2));
	ASSERT_EQ(0, quota_set(&self->saved, "max_export_mb_per_peer", 2048));
	ASSERT_EQ(0, hd_export(self->exp, self->buf.fd, self->env.vmid, 0, &a));
	ASSERT_EQ(0, hd_export(self->exp, self->buf.fd, self->env.vmid, 0, &b));
	EXPECT_EQ(-ENOSPC, hd_export(self->exp, self->buf.fd, self->env.vmid,
				     0, NULL));

	/* Counted until freed, which follows the release closely. */
	ASSERT_EQ(0, hd_unexport(self->exp, &a, 0));
	EXPECT_TRUE(hd_wait_until((ret = hd_export(self->exp, self->buf.fd,
						   self->env.vmid, 0,
						   NULL)) != -ENOSPC,
				  HD_RELEASE_TIMEOUT_MS));
	EXPECT_EQ(0, ret);
}

/*
 * max_export_mb_per_peer: a buffer that does not fit beside the others
 * fails with ENOSPC, one larger than the limit on its own with EFBIG.
 */
TEST_F(quota, export_mb_per_peer)
{
	struct hd_vbuf big;

	if (!self->ready)
		return;
	/* One MiB: room for one buffer of QUOTA_PAGES, not two. */
	if (self->env.base.shared_pages + QUOTA_PAGES > 256)
		SKIP(return, "%lld pages shared already",
		     self->env.base.shared_pages);
	ASSERT_EQ(0, quota_set(&self->saved, "max_export_mb_per_peer", 1));
	EXPECT_EQ(0, hd_export(self->exp, self->buf.fd, self->env.vmid, 0,
			       NULL));
	EXPECT_EQ(-ENOSPC, hd_export(self->exp, self->buf.fd, self->env.vmid,
				     0, NULL));

	hd_vbuf_init(&big);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, 2 << 20, &big));
	EXPECT_EQ(-EFBIG, hd_export(self->exp, big.fd, self->env.vmid, 0,
				    NULL));
	hd_vbuf_destroy(&big);
}

/*
 * max_imports on the importing side: an announcement past it is refused,
 * the exporter's ioctl fails with the importer's ENOSPC, and no event
 * announces what was refused.
 */
TEST_F(quota, imports_refused_without_event)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id a;
	int news = 0;

	if (!self->ready)
		return;
	ASSERT_EQ(0, quota_set(&self->saved, "max_imports",
			       self->env.base.imports + 1));
	ASSERT_EQ(0, hd_export(self->exp, self->buf.fd, self->env.vmid, 0, &a));
	EXPECT_EQ(-ENOSPC, hd_export(self->exp, self->buf.fd, self->env.vmid,
				     0, NULL));
	while (!hd_read_event(self->env.dev, &ev, 500)) {
		EXPECT_EQ(HD_EV_NEW, ev.type);
		EXPECT_TRUE(hd_id_eq(&ev.id, &a));
		news++;
	}
	EXPECT_EQ(1, news);
}

/* A new open file bound to endpoint @name, or -errno. */
static int quota_open_bound(const char *name)
{
	struct hyper_dmabuf_bind b;
	int dev, ret;

	dev = hd_open_dev();
	if (dev < 0)
		return dev;
	memset(&b, 0, sizeof(b));
	strncpy(b.endpoint, name, sizeof(b.endpoint) - 1);
	ret = hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b);
	if (ret) {
		close(dev);
		return ret;
	}
	return dev;
}

/*
 * max_imports counts a peer's announcements whatever endpoint they name:
 * past it one to a named endpoint and one to the default endpoint are both
 * refused with ENOSPC, and neither the named endpoint's file nor the
 * default one hears of them.
 */
TEST_F(quota, imports_refused_on_every_endpoint)
{
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id a;
	int news = 0;

	if (!self->ready)
		return;
	if (mkdir(QUOTA_EPS "/" QUOTA_EP, 0755) && errno != EEXIST)
		SKIP(return, "no %s (configfs not mounted?)", QUOTA_EPS);
	self->ep = quota_open_bound(QUOTA_EP);
	ASSERT_LE(0, self->ep);
	ASSERT_EQ(0, quota_set(&self->saved, "max_imports",
			       self->env.base.imports + 1));
	ASSERT_EQ(0, hd_export_to(self->exp, self->buf.fd, self->env.vmid,
				  QUOTA_EP, &a));
	EXPECT_EQ(-ENOSPC, hd_export_to(self->exp, self->buf.fd,
					self->env.vmid, QUOTA_EP, NULL));
	EXPECT_EQ(-ENOSPC, hd_export(self->exp, self->buf.fd, self->env.vmid,
				     0, NULL));
	while (!hd_read_event(self->ep, &ev, 500)) {
		EXPECT_EQ(HD_EV_NEW, ev.type);
		EXPECT_TRUE(hd_id_eq(&ev.id, &a));
		news++;
	}
	EXPECT_EQ(1, news);
	EXPECT_EQ(-ETIMEDOUT, hd_read_event(self->env.dev, &ev, 500));
}

TEST_HARNESS_MAIN
