// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the virtio device's status protocol (vdev.c), against
 * register writes a hostile driver makes.  Included by vdev.c, whose
 * static functions it calls.  As in vring_kunit.c, the test window covers
 * this kernel's own RAM from address 0.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>

/* Beyond the test window; page aligned. */
#define VD_OUTSIDE	BIT_ULL(46)
#define VD_NUM		16

/**
 * struct vd_fixture - a device without interrupts, and its driver's memory
 * @link: the device's link, with the test window
 * @v: the device
 * @regs: the transport's registers
 * @cfg: the device's configuration
 * @ring: a page for each queue's three areas
 * @req: the driver's request count
 */
struct vd_fixture {
	struct hdacrn_link link;
	struct hdacrn_vdev v;
	struct hdvio_regs regs;
	struct virtio_hdmabuf_config cfg;
	struct page *ring[VIRTIO_HDMABUF_NR_VQS];
	u32 req;
};

static int vd_init(struct kunit *test)
{
	struct vd_fixture *f;
	unsigned int i;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->link.vmid = 7;
	f->link.window.size = VD_OUTSIDE;
	f->v.link = &f->link;
	f->v.regs = &f->regs;
	f->v.cfg = &f->cfg;
	mutex_init(&f->v.rx_lock);
	mutex_init(&f->v.tx_lock);
	init_waitqueue_head(&f->v.tx_wait);
	f->link.chan = &f->v.chan;
	f->v.chan.impl = &hdacrn_vdev_impl;
	for (i = 0; i < VIRTIO_HDMABUF_NR_VQS; i++) {
		f->ring[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, f->ring[i]);
	}
	test->priv = f;
	return 0;
}

static void vd_exit(struct kunit *test)
{
	struct vd_fixture *f = test->priv;
	unsigned int i;

	for (i = 0; f && i < VIRTIO_HDMABUF_NR_VQS; i++)
		if (f->ring[i])
			__free_page(f->ring[i]);
}

/* The driver writes @status and asks; the device answers. */
static u32 vd_status(struct vd_fixture *f, u32 status)
{
	f->regs.status = cpu_to_le32(status);
	f->regs.request = cpu_to_le32(++f->req);
	mutex_lock(&f->v.rx_lock);
	hdacrn_vdev_status(&f->v);
	mutex_unlock(&f->v.rx_lock);
	return le32_to_cpu(f->regs.device_status);
}

/* The driver sets queue @i up at @desc, the other areas after it. */
static void vd_queue(struct vd_fixture *f, unsigned int i, u64 desc)
{
	struct hdvio_queue *q = &f->regs.queue[i];

	q->num = cpu_to_le16(VD_NUM);
	q->desc = cpu_to_le64(desc);
	q->driver = cpu_to_le64(desc + 16 * VD_NUM);
	q->device = cpu_to_le64(desc + 2048);
	q->enable = cpu_to_le16(1);
}

#define VD_FEATURES_OK	(VIRTIO_CONFIG_S_ACKNOWLEDGE | \
			 VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)

/* FEATURES_OK only for features the device offered, VERSION_1 among them. */
static void vdev_features(struct kunit *test)
{
	struct vd_fixture *f = test->priv;

	f->regs.driver_features = cpu_to_le64(BIT_ULL(VIRTIO_F_VERSION_1) |
					      BIT_ULL(5));
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK),
			VD_FEATURES_OK & ~VIRTIO_CONFIG_S_FEATURES_OK);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->regs.ack), f->req);

	KUNIT_EXPECT_EQ(test, vd_status(f, 0), 0);
	f->regs.driver_features =
		cpu_to_le64(BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK),
			VD_FEATURES_OK & ~VIRTIO_CONFIG_S_FEATURES_OK);

	KUNIT_EXPECT_EQ(test, vd_status(f, 0), 0);
	f->regs.driver_features = cpu_to_le64(HDACRN_VDEV_FEATURES);
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK), VD_FEATURES_OK);
	/* DRIVER_OK is not FEATURES_OK: without it, nothing is taken up. */
	KUNIT_EXPECT_EQ(test, vd_status(f, 0), 0);
	KUNIT_EXPECT_EQ(test, vd_status(f, VIRTIO_CONFIG_S_DRIVER_OK), 0);
	KUNIT_EXPECT_FALSE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
}

/* Queues outside the UOS's RAM: a reset is needed, and nothing else helps. */
static void vdev_queue_outside(struct kunit *test)
{
	struct vd_fixture *f = test->priv;
	u32 st;

	f->regs.driver_features = cpu_to_le64(HDACRN_VDEV_FEATURES);
	vd_queue(f, 0, page_to_phys(f->ring[0]));
	/* Its used ring runs past the end of the UOS's RAM. */
	vd_queue(f, 1, VD_OUTSIDE - 1024);
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK), VD_FEATURES_OK);
	st = vd_status(f, VD_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, st, VD_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_FALSE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
	/* Asking again changes nothing, but is answered. */
	vd_queue(f, 1, page_to_phys(f->ring[1]));
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK |
					VIRTIO_CONFIG_S_DRIVER_OK), st);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->regs.ack), f->req);
	KUNIT_EXPECT_FALSE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
	/* A reset, then it takes the queues, now inside. */
	KUNIT_EXPECT_EQ(test, vd_status(f, 0), 0);
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK), VD_FEATURES_OK);
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK |
					VIRTIO_CONFIG_S_DRIVER_OK),
			VD_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_TRUE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
}

/*
 * The driver is attached while its queues are taken up: its nonce reads
 * through only then, and a reset forgets the queues.
 */
static void vdev_attach_and_reset(struct kunit *test)
{
	struct vd_fixture *f = test->priv;

	f->regs.driver_features = cpu_to_le64(HDACRN_VDEV_FEATURES);
	f->cfg.driver_session = cpu_to_le32(0x1234567);
	vd_queue(f, 0, page_to_phys(f->ring[0]));
	vd_queue(f, 1, page_to_phys(f->ring[1]));
	KUNIT_EXPECT_EQ(test, hdacrn_hs_read(&f->link, HDACRN_HS_UOS_SESSION),
			0);
	vd_status(f, VD_FEATURES_OK);
	vd_status(f, VD_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, hdacrn_hs_read(&f->link, HDACRN_HS_UOS_SESSION),
			0x1234567);
	/* The device's words change the configuration's generation. */
	hdacrn_hs_write(&f->link, HDACRN_HS_SOS_SESSION, 0x1234567);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->cfg.device_session), 0x1234567);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->regs.config_generation), 1);
	/* The driver's word is the driver's. */
	hdacrn_hs_write(&f->link, HDACRN_HS_UOS_SESSION, 99);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->cfg.driver_session), 0x1234567);

	KUNIT_EXPECT_EQ(test, vd_status(f, 0), 0);
	KUNIT_EXPECT_FALSE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
	KUNIT_EXPECT_EQ(test, hdacrn_hs_read(&f->link, HDACRN_HS_UOS_SESSION),
			0);
}

/* A request is carried out once: rewriting the status alone does nothing. */
static void vdev_request_once(struct kunit *test)
{
	struct vd_fixture *f = test->priv;

	f->regs.driver_features = cpu_to_le64(HDACRN_VDEV_FEATURES);
	KUNIT_EXPECT_EQ(test, vd_status(f, VD_FEATURES_OK), VD_FEATURES_OK);
	f->regs.status = 0;
	mutex_lock(&f->v.rx_lock);
	hdacrn_vdev_status(&f->v);
	mutex_unlock(&f->v.rx_lock);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->regs.device_status),
			VD_FEATURES_OK);
	/* Nor do bits the driver may not set, or clear without a reset. */
	KUNIT_EXPECT_EQ(test, vd_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					VIRTIO_CONFIG_S_NEEDS_RESET),
			VD_FEATURES_OK);
}

/* The UOS's VM ended: its queues are forgotten, as by a reset. */
static void vdev_uos_ended(struct kunit *test)
{
	struct vd_fixture *f = test->priv;
	struct hdacrn_mbox_hdr hdr = { .host_state = cpu_to_le32(3) };

	f->link.mbox = &hdr;
	f->regs.driver_features = cpu_to_le64(HDACRN_VDEV_FEATURES);
	vd_queue(f, 0, page_to_phys(f->ring[0]));
	vd_queue(f, 1, page_to_phys(f->ring[1]));
	vd_status(f, VD_FEATURES_OK);
	vd_status(f, VD_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	mutex_lock(&f->v.rx_lock);
	hdacrn_vdev_host(&f->v);
	KUNIT_EXPECT_TRUE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
	hdr.host_state = cpu_to_le32(4);
	hdacrn_vdev_host(&f->v);
	mutex_unlock(&f->v.rx_lock);
	KUNIT_EXPECT_FALSE(test, test_bit(HDACRN_VDEV_LIVE, &f->v.flags));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(f->regs.device_status), 0);
}

static struct kunit_case hdacrn_vdev_cases[] = {
	KUNIT_CASE(vdev_features),
	KUNIT_CASE(vdev_queue_outside),
	KUNIT_CASE(vdev_attach_and_reset),
	KUNIT_CASE(vdev_request_once),
	KUNIT_CASE(vdev_uos_ended),
	{ }
};

static struct kunit_suite hdacrn_vdev_suite = {
	.name = "hyper_dmabuf_acrn_vdev",
	.init = vd_init,
	.exit = vd_exit,
	.test_cases = hdacrn_vdev_cases,
};

kunit_test_suite(hdacrn_vdev_suite);
