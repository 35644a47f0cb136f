// SPDX-License-Identifier: GPL-2.0
/*
 * hdmabuf-kms: the display half of the scan-out test, a display VM's
 * "compositor" that shows another VM's frames.  It imports the buffers that
 * VM shares through /dev/hyper_dmabuf and scans them out on the cirrus KMS
 * driver (QEMU's cirrus-vga), whose GEM shmem helpers import foreign
 * dma-bufs; the host captures the screen and checks it.
 *
 *   hdmabuf-kms CAPTURE FRAMES [BUFFERS]
 *
 * CAPTURE is the serial line to the host's capture daemon
 * (tools/hyper_dmabuf/rig/scanout-check).  The program waits for
 * BUFFERS (3) new-buffer events of hdmabuf-draw's buffers, imports each
 * (IMPORT, then PRIME_FD_TO_HANDLE and ADDFB2 with the buffer's image
 * description on the card whose driver is "cirrus") and says "ready".
 * Then, for FRAMES frames, the swapchain loop: wait for a FRAME event
 * (poll), scan its buffer out (SETCRTC, then DIRTYFB over the frame's
 * damage, made full-width), ask the host to capture the screen and check
 * it as frame SEQ ("frame SEQ buf B: checked SEQ diff D of T": D pixels
 * of T differ), and only then RELEASE_FRAME the frame shown before.  After
 * the first frame the host also checks its own checker ("selftest ...");
 * after the second, the first frame's buffer goes on screen once more and
 * the host must find it wrong as the second ("stale frame 2 ...").
 * At the end it releases the last frame and prints an account: frames
 * received, shown, released and dropped.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_mode.h>
#include <linux/hyper_dmabuf.h>

#include "../../testing/selftests/drivers/dma-buf/hyper_dmabuf/vgem.h"
#include "scanout.h"

#define MAX_BUFS	8
#define MAX_OBJS	16
/* How long the host may take to capture and check one frame. */
#define CAPTURE_TIMEOUT_MS	120000

struct kms_buf {
	struct hyper_dmabuf_id id;
	unsigned int w, h, pitch;
	int fd;			/* the import */
	__u32 handle, fb;
	int have;
};

static struct kms_buf bufs[MAX_BUFS];
static unsigned int nbuf = 3, shown;

static void die(const char *what)
{
	fprintf(stderr, "hdmabuf-kms: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The DRM card whose driver is @driver, or -1 (errno ENODEV). */
static int card_open(const char *driver)
{
	char path[64];
	int fd = hd_drm_open(driver, path, sizeof(path));

	if (fd < 0) {
		errno = ENODEV;
		return -1;
	}
	printf("%s is %s\n", path, driver);
	return fd;
}

/* The serial line to the host, raw. */
static int capture_open(const char *path)
{
	struct termios t;
	int fd;

	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &t))
		return -1;
	cfmakeraw(&t);
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t))
		return -1;
	tcflush(fd, TCIOFLUSH);
	return fd;
}

/* Send @req to the host and read its answer into @ans. */
static int host_ask(int cap, const char *req, char *ans, size_t len)
{
	char line[128];

	snprintf(line, sizeof(line), "%s\n", req);
	if (hd_write_all(cap, line))
		return -1;
	return hd_read_line(cap, ans, len, CAPTURE_TIMEOUT_MS);
}

/* Wait for the new-buffer events of hdmabuf-draw's buffers; import them. */
static void import_all(int dev)
{
	struct hyper_dmabuf_event ev;
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	unsigned int got = 0, i, of, w, h, pitch;

	while (got < nbuf) {
		if (poll(&pfd, 1, 120000) != 1)
			die("waiting for the buffers");
		if (read(dev, &ev, sizeof(ev)) != sizeof(ev))
			die("reading an event");
		if (ev.type != HYPER_DMABUF_EVENT_NEW)
			continue;
		ev.priv[sizeof(ev.priv) - 1] = 0;
		if (sscanf((const char *)ev.priv,
			   HD_SCANOUT_META " buf=%u of=%u width=%u height=%u pitch=%u format=XR24",
			   &i, &of, &w, &h, &pitch) != 5 || of != nbuf ||
		    i >= nbuf || bufs[i].have) {
			printf("ignoring buffer \"%s\"\n", (const char *)ev.priv);
			continue;
		}
		/* The typed description is what counts; it must agree. */
		if (ev.image.fourcc != DRM_FORMAT_XRGB8888 ||
		    ev.image.modifier != DRM_FORMAT_MOD_LINEAR ||
		    ev.image.width != w || ev.image.height != h ||
		    ev.image.pitch[0] != pitch || ev.image.offset[0]) {
			errno = EINVAL;
			die("the buffer's image description");
		}
		{
			struct hyper_dmabuf_import imp = {
				.id = ev.id,
				.flags = O_RDONLY | O_CLOEXEC,
			};

			if (ioctl(dev, HYPER_DMABUF_IOCTL_IMPORT, &imp))
				die("import");
			if ((size_t)pitch * h > imp.size) {
				errno = EINVAL;
				die("buffer smaller than its description");
			}
			bufs[i].fd = imp.fd;
		}
		bufs[i].id = ev.id;
		bufs[i].w = w;
		bufs[i].h = h;
		bufs[i].pitch = pitch;
		bufs[i].have = 1;
		got++;
		printf("imported buf %u: %x:%x from VM %u, %ux%u pitch %u\n", i,
		       ev.id.vmid, ev.id.seq, ev.exporter_vmid, w, h, pitch);
	}
}

/* PRIME_FD_TO_HANDLE and ADDFB2 (XRGB8888) for every buffer. */
static void add_fbs(int card)
{
	unsigned int i;

	for (i = 0; i < nbuf; i++) {
		struct drm_prime_handle prime = { .fd = bufs[i].fd };
		struct drm_mode_fb_cmd2 fb = {
			.width = bufs[i].w,
			.height = bufs[i].h,
			.pixel_format = DRM_FORMAT_XRGB8888,
		};

		if (ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime))
			die("PRIME_FD_TO_HANDLE of an import");
		bufs[i].handle = prime.handle;
		fb.handles[0] = prime.handle;
		fb.pitches[0] = bufs[i].pitch;
		if (ioctl(card, DRM_IOCTL_MODE_ADDFB2, &fb))
			die("ADDFB2 of an import");
		bufs[i].fb = fb.fb_id;
		printf("buf %u: GEM handle %u, framebuffer %u\n", i,
		       prime.handle, fb.fb_id);
	}
}

struct kms_pipe {
	__u32 crtc, conn;
	struct drm_mode_modeinfo mode;
};

/* A connector with a mode of @w x @h, and a CRTC. */
static void find_pipe(int card, unsigned int w, unsigned int h,
		      struct kms_pipe *p)
{
	__u32 crtcs[MAX_OBJS], conns[MAX_OBJS];
	struct drm_mode_card_res res = { 0 };
	unsigned int c, m;

	if (ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("GETRESOURCES");
	if (!res.count_crtcs || !res.count_connectors ||
	    res.count_crtcs > MAX_OBJS || res.count_connectors > MAX_OBJS) {
		errno = ENODEV;
		die("CRTCs and connectors");
	}
	res.count_fbs = 0;
	res.count_encoders = 0;
	res.crtc_id_ptr = (unsigned long)crtcs;
	res.connector_id_ptr = (unsigned long)conns;
	if (ioctl(card, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("GETRESOURCES");
	p->crtc = crtcs[0];
	for (c = 0; c < res.count_connectors; c++) {
		struct drm_mode_get_connector gc = { .connector_id = conns[c] };
		struct drm_mode_modeinfo *modes;

		/* No room asked for: the kernel probes the connector. */
		if (ioctl(card, DRM_IOCTL_MODE_GETCONNECTOR, &gc))
			die("GETCONNECTOR");
		if (!gc.count_modes)
			continue;
		modes = calloc(gc.count_modes, sizeof(*modes));
		if (!modes)
			die("calloc");
		gc.modes_ptr = (unsigned long)modes;
		gc.count_props = 0;
		gc.count_encoders = 0;
		if (ioctl(card, DRM_IOCTL_MODE_GETCONNECTOR, &gc))
			die("GETCONNECTOR");
		for (m = 0; m < gc.count_modes; m++) {
			if (modes[m].hdisplay == w && modes[m].vdisplay == h) {
				p->conn = conns[c];
				p->mode = modes[m];
				printf("connector %u, CRTC %u, mode %s\n",
				       p->conn, p->crtc, p->mode.name);
				free(modes);
				return;
			}
		}
		free(modes);
	}
	errno = ENOENT;
	die("a connector with the frame's mode");
}

/*
 * Scan out buffer @b: SETCRTC, then DIRTYFB over @dmg (@n rectangles, none
 * for the whole frame), each made full-width.
 */
static int flip(int card, const struct kms_pipe *p, unsigned int b,
		const struct hyper_dmabuf_rect *dmg, unsigned int n)
{
	struct drm_mode_crtc crtc = {
		.set_connectors_ptr = (unsigned long)&p->conn,
		.count_connectors = 1,
		.crtc_id = p->crtc,
		.fb_id = bufs[b].fb,
		.mode_valid = 1,
		.mode = p->mode,
	};
	struct drm_clip_rect clips[HYPER_DMABUF_MAX_DAMAGE];
	struct drm_mode_fb_dirty_cmd dirty = {
		.fb_id = bufs[b].fb,
		.num_clips = n ? n : 1,
		.clips_ptr = (unsigned long)clips,
	};
	unsigned int i;

	/*
	 * Full-width damage: cirrus in 6.1 puts a partial clip at the wrong
	 * place when it converts to 24 bpp (not at this width, but still).
	 */
	clips[0] = (struct drm_clip_rect){ .x2 = bufs[b].w, .y2 = bufs[b].h };
	for (i = 0; i < n && i < HYPER_DMABUF_MAX_DAMAGE; i++)
		clips[i] = (struct drm_clip_rect){
			.y1 = dmg[i].y,
			.x2 = bufs[b].w,
			.y2 = dmg[i].y + dmg[i].height,
		};
	if (ioctl(card, DRM_IOCTL_MODE_SETCRTC, &crtc))
		return -1;
	return ioctl(card, DRM_IOCTL_MODE_DIRTYFB, &dirty);
}

static int same_id(const struct hyper_dmabuf_id *a,
		   const struct hyper_dmabuf_id *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static unsigned int received, released;

static void release(int dev, unsigned int b, __u64 seq, __u32 flags)
{
	struct hyper_dmabuf_release_frame r = {
		.id = bufs[b].id,
		.seq = seq,
		.flags = flags,
	};

	if (ioctl(dev, HYPER_DMABUF_IOCTL_RELEASE_FRAME, &r))
		die("RELEASE_FRAME");
	released++;
}

/* The next FRAME event: its buffer, sequence number and damage. */
static unsigned int next_frame(int dev, struct hyper_dmabuf_event *ev)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	unsigned int b;

	for (;;) {
		if (poll(&pfd, 1, CAPTURE_TIMEOUT_MS) != 1) {
			errno = ETIMEDOUT;
			die("waiting for a frame");
		}
		if (read(dev, ev, sizeof(*ev)) != sizeof(*ev))
			die("reading an event");
		if (ev->type != HYPER_DMABUF_EVENT_FRAME) {
			printf("event %u ignored\n", ev->type);
			continue;
		}
		for (b = 0; b < nbuf; b++)
			if (same_id(&bufs[b].id, &ev->id))
				break;
		if (b == nbuf) {
			errno = ENOENT;
			die("a frame of a buffer not imported");
		}
		received++;
		return b;
	}
}

int main(int argc, char **argv)
{
	unsigned int frames, b, prev = 0;
	struct hyper_dmabuf_event ev;
	char line[128], ans[256];
	__u64 seq, prev_seq = 0;
	struct kms_pipe pipe;
	int dev, card, cap;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s CAPTURE FRAMES [BUFFERS]\n", argv[0]);
		return 2;
	}
	frames = strtoul(argv[2], NULL, 0);
	if (argc == 4)
		nbuf = strtoul(argv[3], NULL, 0);
	if (!nbuf || nbuf > MAX_BUFS) {
		fprintf(stderr, "hdmabuf-kms: bad buffer count\n");
		return 2;
	}

	cap = capture_open(argv[1]);
	if (cap < 0)
		die(argv[1]);
	if (host_ask(cap, "hello", ans, sizeof(ans)) < 0 ||
	    strncmp(ans, "hello", 5))
		die("no answer from the host's capture daemon");
	printf("host: %s\n", ans);

	card = card_open("cirrus");
	if (card < 0)
		die("the cirrus card");
	dev = open("/dev/" HYPER_DMABUF_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/" HYPER_DMABUF_DEVICE_NAME);
	printf("waiting for %u buffers\n", nbuf);
	import_all(dev);
	add_fbs(card);
	find_pipe(card, bufs[0].w, bufs[0].h, &pipe);
	printf("ready\n");

	while (shown < frames) {
		b = next_frame(dev, &ev);
		seq = ev.frame.seq;
		if (seq <= prev_seq) {
			fprintf(stderr, "hdmabuf-kms: frame %llu after %llu\n",
				(unsigned long long)seq,
				(unsigned long long)prev_seq);
			return 1;
		}
		if (flip(card, &pipe, b, ev.frame.damage, ev.frame.nr_damage))
			die("SETCRTC and DIRTYFB");
		shown++;
		snprintf(line, sizeof(line), "capture %llu %u %u",
			 (unsigned long long)seq, bufs[b].w, bufs[b].h);
		if (host_ask(cap, line, ans, sizeof(ans)) < 0)
			die("capture");
		printf("frame %llu buf %u: %s\n", (unsigned long long)seq, b,
		       ans);
		if (shown == 1) {
			if (host_ask(cap, "selftest", ans, sizeof(ans)) < 0)
				die("the host's self-test");
			printf("%s\n", ans);
		}
		/*
		 * Once, the test of the test: the frame before, which is not
		 * released yet, on screen again and checked as this one.
		 */
		if (shown == 2) {
			if (flip(card, &pipe, prev, NULL, 0))
				die("SETCRTC and DIRTYFB");
			snprintf(line, sizeof(line), "stale %llu %u %u",
				 (unsigned long long)seq, bufs[b].w, bufs[b].h);
			if (host_ask(cap, line, ans, sizeof(ans)) < 0)
				die("capture");
			printf("stale frame %llu (frame %llu, buf %u): %s\n",
			       (unsigned long long)seq,
			       (unsigned long long)prev_seq, prev, ans);
			if (flip(card, &pipe, b, NULL, 0))
				die("SETCRTC and DIRTYFB");
		}
		/* Captured: the frame shown before may go back. */
		if (prev_seq)
			release(dev, prev, prev_seq, 0);
		prev = b;
		prev_seq = seq;
	}
	if (prev_seq)
		release(dev, prev, prev_seq, 0);
	printf("account: %u frames received, %u shown, %u released, %u dropped\n",
	       received, shown, released, received - shown);
	return 0;
}
