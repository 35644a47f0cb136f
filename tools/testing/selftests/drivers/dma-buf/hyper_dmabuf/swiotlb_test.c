// SPDX-License-Identifier: GPL-2.0
/*
 * A buffer that its exporter maps through bounce buffers cannot be shared:
 * sharing the bounce copy would lose what the importer writes, and the
 * final unmap would copy the stale copy back over the buffer.  Boot with
 * swiotlb=force to run it (the plain rig's --swiotlb mode); otherwise it
 * skips.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/dma-heap.h>

#include "hdmabuf_util.h"

#define SW_SIZE		(64 * HD_PAGE_SIZE)

FIXTURE(sw) {
	struct hd_env env;
	struct hd_vbuf buf;
	int ready;
};

static bool swiotlb_forced(void)
{
	char line[4096];
	bool forced;
	FILE *f;

	f = fopen("/proc/cmdline", "re");
	if (!f)
		return false;
	forced = fgets(line, sizeof(line), f) && strstr(line, "swiotlb=force");
	fclose(f);
	return forced;
}

FIXTURE_SETUP(sw)
{
	hd_vbuf_init(&self->buf);
	if (!swiotlb_forced())
		SKIP(return, "not booted with swiotlb=force");
	if (!hd_env_setup(_metadata, &self->env, HD_NEED_ALL))
		return;
	ASSERT_EQ(0, hd_vbuf_create(self->env.vgem, SW_SIZE, &self->buf));
	self->ready = 1;
}

FIXTURE_TEARDOWN(sw)
{
	hd_vbuf_destroy(&self->buf);
	hd_env_close(_metadata, &self->env);
}

/* vgem's buffer maps through bounce buffers: refused, nothing shared. */
TEST_F(sw, bounced_vgem_buffer_is_refused)
{
	struct hyper_dmabuf_id id;
	__u32 count;

	if (!self->ready)
		return;
	EXPECT_EQ(-EOPNOTSUPP, hd_export(self->env.dev, self->buf.fd,
					 self->env.vmid, 0, &id));
	ASSERT_EQ(0, hd_list_count(self->env.dev, &count));
	EXPECT_EQ(0u, count);
}

/* So does a system-heap buffer, whose mapping copies to and fro. */
TEST_F(sw, bounced_heap_buffer_is_refused)
{
	struct dma_heap_allocation_data alloc;
	struct hyper_dmabuf_id id;
	int heap;

	if (!self->ready)
		return;
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		SKIP(return, "no system heap: %s", strerror(errno));
	memset(&alloc, 0, sizeof(alloc));
	alloc.len = SW_SIZE;
	alloc.fd_flags = O_RDWR | O_CLOEXEC;
	ASSERT_EQ(0, hd_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc));
	EXPECT_EQ(-EOPNOTSUPP, hd_export(self->env.dev, alloc.fd,
					 self->env.vmid, 0, &id));
	close(alloc.fd);
	close(heap);
}

TEST_HARNESS_MAIN
