// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for the /dev/hyper_dmabuf device.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/hyper_dmabuf.h>

#include "../../../kselftest_harness.h"

#define DEVPATH "/dev/" HYPER_DMABUF_DEVICE_NAME

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(DEVPATH, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, DEVPATH " missing: is hyper_dmabuf loaded?");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The node is a character device owned by root, 0600 as the driver creates
 * it, or 0660 once the shipped udev rule has given it to a group: never
 * open to others.
 */
TEST_F(dev, node_is_private_chardev)
{
	unsigned int mode;
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0u, st.st_uid);
	mode = st.st_mode & 0777;
	EXPECT_TRUE(mode == 0600u || mode == 0660u)
		TH_LOG("mode %04o", mode);
}

/* A command the driver does not know is -ENOTTY, whatever its direction. */
TEST_F(dev, unknown_ioctl_is_enotty)
{
	unsigned long arg = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(HYPER_DMABUF_IOC_MAGIC, 0xff)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 1, unsigned long), &arg));
	EXPECT_EQ(ENOTTY, errno);
}

/* Each open is independent: many files may be open at once. */
TEST_F(dev, many_opens)
{
	int fds[64];
	int i;

	for (i = 0; i < 64; i++) {
		fds[i] = open(DEVPATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_HARNESS_MAIN
