// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoints: a buffer exported to an endpoint is seen, listed and imported
 * only by the open files bound to it; root says in configfs who may bind
 * which name; and, through the shipped udev rule, a compositor that is no
 * root but in group video uses the device while others cannot open it.
 * A release, which is not an endpoint's business, is told to the exporting
 * file alone, whatever endpoint it and the buffer belong to.
 * Runs as root on the loopback backend; the unprivileged parts in forked
 * children that drop to the rig's users (hd-udev-apply: "compositor", uid
 * 1000 in group video, 44; "other", uid 1001).
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <grp.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hdmabuf_util.h"

#define EPS		"/sys/kernel/config/hyper_dmabuf/endpoints"
#define EP_SIZE		(4 * HD_PAGE_SIZE)
#define EP_SEED		0xe9
#define UID_COMPOSITOR	1000
#define UID_OTHER	1001
#define GID_VIDEO	44
#define GID_OTHER	1001

FIXTURE(ep) {
	struct hd_env env;
	struct hd_vbuf buf;
	struct stat st;
	int ready;
};

/* Configure endpoint @name for @uid and @gid (-1: none). */
static int ep_add(const char *name, int uid, int gid)
{
	char path[128], val[16];
	int fd, len, ret = 0;
	static const char * const attr[] = { "uid", "gid" };
	int vals[] = { uid, gid };
	int i;

	snprintf(path, sizeof(path), EPS "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	for (i = 0; i < 2 && !ret; i++) {
		snprintf(path, sizeof(path), EPS "/%s/%s", name, attr[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		len = snprintf(val, sizeof(val), "%d", vals[i]);
		if (write(fd, val, len) != len)
			ret = -errno;
		close(fd);
	}
	return ret;
}

static void ep_del(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), EPS "/%s", name);
	rmdir(path);
}

static int hd_bind(int dev, const char *name)
{
	struct hyper_dmabuf_bind b;

	memset(&b, 0, sizeof(b));
	strncpy(b.endpoint, name, sizeof(b.endpoint) - 1);
	return hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b);
}

/* Become @uid with groups @gids (the first the primary one). */
static int become(uid_t uid, const gid_t *gids, int n)
{
	if (setgroups(n, gids) || setgid(gids[0]) || setuid(uid))
		return -errno;
	return 0;
}

/*
 * Run @fn in a child as @uid with @gid as its only group; its exit status
 * (0 on success) or 255 when it could not become that user.
 */
static int as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 254;
	if (!pid)
		_exit(become(uid, &gid, 1) ? 255 : fn(arg));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 253;
	return WEXITSTATUS(status);
}

FIXTURE_SETUP(ep)
{
	hd_vbuf_init(&self->buf);
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	if (access(EPS, W_OK))
		SKIP(return, "no %s (configfs not mounted?)", EPS);
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, EP_SIZE, &self->buf));
	hd_fill(self->buf.map, EP_SIZE, EP_SEED);
	self->ready = 1;
}

FIXTURE_TEARDOWN(ep)
{
	ep_del("display");
	ep_del("by-gid");
	ep_del("camera");
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

TEST_F(ep, bind_rejects_bad_arguments)
{
	static const char * const bad[] = { "", ".dot", "a/b", "sp ace",
					     "0123456789abcdef" };
	struct hyper_dmabuf_bind b;
	int dev, i;

	if (!self->ready)
		return;
	ASSERT_EQ(0, ep_add("display", -1, -1));
	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		dev = hd_open_dev();
		ASSERT_LE(0, dev);
		memset(&b, 0, sizeof(b));
		memcpy(b.endpoint, bad[i], strlen(bad[i]) < sizeof(b.endpoint) ?
		       strlen(bad[i]) : sizeof(b.endpoint));
		EXPECT_EQ(-EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b)) {
			TH_LOG("name '%s'", bad[i]);
		}
		close(dev);
	}
	dev = hd_open_dev();
	ASSERT_LE(0, dev);
	memset(&b, 0, sizeof(b));
	strcpy(b.endpoint, "display");
	b.flags = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b));
	b.flags = 0;
	b.reserved[2] = 1;
	EXPECT_EQ(-EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b));
	/* Bytes after the name's NUL count as part of it. */
	b.reserved[2] = 0;
	b.endpoint[10] = 'x';
	EXPECT_EQ(-EINVAL, hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, &b));
	EXPECT_EQ(-EFAULT, hd_ioctl(dev, HYPER_DMABUF_IOCTL_BIND, NULL));
	close(dev);
}

/* Only configured names, once per file; even root cannot make one up. */
TEST_F(ep, bind_configured_names_once)
{
	int dev;

	if (!self->ready)
		return;
	dev = hd_open_dev();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOENT, hd_bind(dev, "nosuchname"));
	ASSERT_EQ(0, ep_add("display", -1, -1));
	EXPECT_EQ(0, hd_bind(dev, "display"));	/* CAP_SYS_ADMIN */
	EXPECT_EQ(-EBUSY, hd_bind(dev, "display"));
	close(dev);
	/* Invalid names cannot even be configured. */
	EXPECT_EQ(-1, mkdir(EPS "/.hidden", 0755));
	EXPECT_EQ(-1, mkdir(EPS "/0123456789abcdef", 0755));
}

static int child_bind(void *arg)
{
	int dev = hd_open_dev(), ret;

	if (dev < 0)
		return 100 + errno;
	ret = hd_bind(dev, arg);
	close(dev);
	return ret ? -ret : 0;
}

/* The endpoint's user, or a member of its group, may bind it; others not. */
TEST_F(ep, bind_is_permissioned)
{
	if (!self->ready)
		return;
	/* The device must be open to the users for this alone. */
	if (stat(HD_DEV, &self->st) || chmod(HD_DEV, 0666))
		SKIP(return, "cannot open the device to other users");
	ASSERT_EQ(0, ep_add("display", UID_COMPOSITOR, -1));
	ASSERT_EQ(0, ep_add("by-gid", -1, GID_VIDEO));
	EXPECT_EQ(0, as_user(UID_COMPOSITOR, GID_OTHER, child_bind, "display"));
	EXPECT_EQ(EACCES, as_user(UID_OTHER, GID_OTHER, child_bind, "display"));
	EXPECT_EQ(0, as_user(UID_OTHER, GID_VIDEO, child_bind, "by-gid"));
	EXPECT_EQ(EACCES, as_user(UID_COMPOSITOR, GID_OTHER, child_bind,
				  "by-gid"));
	EXPECT_EQ(ENOENT, as_user(UID_COMPOSITOR, GID_VIDEO, child_bind,
				  "unset"));
	chmod(HD_DEV, self->st.st_mode & 07777);
}

/*
 * A buffer exported to an endpoint is invisible to the default one, and
 * the other way round: no event, not listed, not importable.
 */
TEST_F(ep, endpoints_do_not_see_each_other)
{
	struct hyper_dmabuf_id id, def_id;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_query q;
	int dfl, disp, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, ep_add("display", -1, -1));
	dfl = hd_open_dev();
	disp = hd_open_dev();
	ASSERT_LE(0, dfl);
	ASSERT_LE(0, disp);
	ASSERT_EQ(0, hd_bind(disp, "display"));

	ASSERT_EQ(0, hd_export_to(self->env.dev, self->buf.fd, self->env.vmid,
				  "display", &id));
	EXPECT_EQ(0, hd_wait_event(disp, HD_EV_NEW, &id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(1, hd_listed(disp, &id));
	EXPECT_EQ(0, hd_listed(dfl, &id));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_event(dfl, HD_EV_NEW, &id, &ev, 500));
	EXPECT_EQ(-ENOENT, hd_import(dfl, &id, O_RDONLY | O_CLOEXEC, &fd));
	ASSERT_EQ(0, hd_import(disp, &id, O_RDONLY | O_CLOEXEC, &fd));
	close(fd);
	/* Its exporter's file still describes it, and names the endpoint. */
	ASSERT_EQ(0, hd_query(self->env.dev, &id, &q));
	EXPECT_STREQ("display", q.endpoint);

	/* And a default-endpoint buffer is not the display's. */
	ASSERT_EQ(0, hd_export(self->env.dev, self->buf.fd, self->env.vmid, 0,
			       &def_id));
	EXPECT_EQ(0, hd_wait_event(dfl, HD_EV_NEW, &def_id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ(0, hd_listed(disp, &def_id));
	EXPECT_EQ(-ENOENT, hd_import(disp, &def_id, O_RDONLY, &fd));

	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
	EXPECT_EQ(0, hd_wait_event(disp, HD_EV_WITHDRAWN, &id, &ev,
				   HD_WITHDRAW_TIMEOUT_MS));
	EXPECT_EQ(0, hd_unexport(self->env.dev, &def_id, 0));
	close(dfl);
	close(disp);
}

/* A program built before endpoints passes a shorter struct: the default. */
TEST_F(ep, old_export_struct_goes_to_default)
{
	struct hyper_dmabuf_export e;
	struct hyper_dmabuf_id id;
	unsigned long old_cmd;

	if (!self->ready)
		return;
	old_cmd = _IOWR(HYPER_DMABUF_IOC_MAGIC, 0x00,
			char[offsetof(struct hyper_dmabuf_export, endpoint)]);
	hd_export_init(&e, self->buf.fd, self->env.vmid);
	strcpy(e.endpoint, "never-read");
	ASSERT_EQ(0, hd_ioctl(self->env.dev, old_cmd, &e));
	id = e.id;
	EXPECT_TRUE(hd_wait_listed(self->env.dev, &id));
	EXPECT_EQ(0, hd_unexport(self->env.dev, &id, 0));
}

/*
 * A release is told to the file that exported the buffer, not to an
 * endpoint: a file bound to "camera" exports to "display" with the
 * RELEASED event.  It alone learns of the release, by event and by
 * WAIT_RELEASED; the display's file that imported the buffer, and a file
 * of the default endpoint, get no RELEASED event and cannot wait for it.
 */
TEST_F(ep, released_goes_to_the_exporting_file_only)
{
	struct hyper_dmabuf_export e;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	int cam, disp, dfl, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, ep_add("camera", -1, -1));
	ASSERT_EQ(0, ep_add("display", -1, -1));
	cam = hd_open_dev();
	disp = hd_open_dev();
	dfl = hd_open_dev();
	ASSERT_LE(0, cam);
	ASSERT_LE(0, disp);
	ASSERT_LE(0, dfl);
	ASSERT_EQ(0, hd_bind(cam, "camera"));
	ASSERT_EQ(0, hd_bind(disp, "display"));

	hd_export_init(&e, self->buf.fd, self->env.vmid);
	e.flags = HYPER_DMABUF_EXPORT_RELEASED_EVENT;
	strcpy(e.endpoint, "display");
	ASSERT_EQ(0, hd_ioctl(cam, HYPER_DMABUF_IOCTL_EXPORT, &e));
	id = e.id;
	ASSERT_EQ(0, hd_wait_event(disp, HD_EV_NEW, &id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, hd_import(disp, &id, O_RDONLY | O_CLOEXEC, &fd));
	EXPECT_EQ(-ENOENT, hd_wait_released(disp, &id, 0));
	EXPECT_EQ(-ENOENT, hd_wait_released(dfl, &id, 0));
	EXPECT_EQ(-ENOENT, hd_wait_released(self->env.dev, &id, 0));

	ASSERT_EQ(0, hd_unexport(cam, &id, 0));
	EXPECT_EQ(-ETIMEDOUT, hd_wait_released(cam, &id, 300));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, hd_wait_released(cam, &id, HD_WITHDRAW_TIMEOUT_MS));
	EXPECT_EQ(0, hd_wait_event(cam, HD_EV_RELEASED, &id, &ev,
				   HD_EVENT_TIMEOUT_MS));
	EXPECT_EQ((__u64)EP_SIZE, ev.size);
	/* The release is over: whatever the others were to get is queued. */
	EXPECT_EQ(0, hd_count_events(disp, HD_EV_RELEASED, NULL));
	EXPECT_EQ(0, hd_count_events(dfl, HD_EV_RELEASED, NULL));
	EXPECT_EQ(0, hd_count_events(self->env.dev, HD_EV_RELEASED, NULL));
	EXPECT_EQ(-ENOENT, hd_wait_released(disp, &id, 0));
	close(cam);
	close(disp);
	close(dfl);
}

/* What the compositor does, without root, through the udev rule. */
static int compositor(void *arg)
{
	struct hd_vbuf *buf = arg;
	struct hyper_dmabuf_event ev;
	struct hyper_dmabuf_id id;
	unsigned char *map;
	int dev, fd, ok;
	__u32 vmid;

	dev = hd_open_dev();
	if (dev < 0)
		return 10;
	if (hd_loopback_vmid(dev, &vmid))
		return 11;
	if (hd_export(dev, buf->fd, vmid, 0, &id))
		return 12;
	if (hd_wait_event(dev, HD_EV_NEW, &id, &ev, HD_EVENT_TIMEOUT_MS))
		return 13;
	if (hd_import(dev, &id, O_RDWR | O_CLOEXEC, &fd))
		return 14;
	map = mmap(NULL, EP_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 15;
	ok = hd_check(map, EP_SIZE, EP_SEED) == EP_SIZE;
	munmap(map, EP_SIZE);
	close(fd);
	if (hd_unexport(dev, &id, 0))
		return 16;
	close(dev);
	return ok ? 0 : 17;
}

static int other(void *arg)
{
	int dev = hd_open_dev();

	if (dev >= 0) {
		close(dev);
		return 20;
	}
	return errno == EACCES ? 0 : 21;
}

TEST_F(ep, non_root_through_the_udev_rule)
{
	if (!self->ready)
		return;
	ASSERT_EQ(0, stat(HD_DEV, &self->st));
	if (self->st.st_gid != GID_VIDEO || (self->st.st_mode & 0777) != 0660)
		SKIP(return, "the udev rule was not applied (gid %u, mode %o)",
		     self->st.st_gid, self->st.st_mode & 0777);
	/* The compositor's own buffer: a fresh vgem fd it inherits. */
	EXPECT_EQ(0, as_user(UID_COMPOSITOR, GID_VIDEO, compositor,
			     &self->buf));
	EXPECT_EQ(0, as_user(UID_OTHER, GID_OTHER, other, NULL));
}

TEST_HARNESS_MAIN
