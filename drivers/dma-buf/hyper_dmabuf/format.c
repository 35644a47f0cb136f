// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: image descriptions, checked against the buffer.
 *
 * An exporter may say what image its buffer holds: a DRM fourcc, a
 * modifier, the size in pixels, and where each plane starts and how long
 * its rows are.  The importer hands that straight to KMS or EGL, so it
 * must describe memory inside the buffer: both kernels check it, the
 * exporter's against the caller, the importer's against the peer.  Only
 * the formats below are known; the DRM core's format table is not used,
 * so that the driver does not depend on DRM.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <uapi/drm/drm_fourcc.h>

#include "proto.h"

/* Largest width or height of a described image, as large as KMS goes. */
#define HDMABUF_IMAGE_MAX_DIM	32768

/**
 * struct hdmabuf_format - what the check needs to know of a format
 * @fourcc: DRM_FORMAT_* code
 * @planes: number of planes
 * @cpp: bytes per pixel (per pair of pixels' worth for packed 4:2:2
 *	formats, counted per pixel) of each plane
 * @hsub: horizontal subsampling of the planes after the first
 * @vsub: vertical subsampling of the planes after the first
 */
struct hdmabuf_format {
	u32 fourcc;
	u8 planes;
	u8 cpp[3];
	u8 hsub;
	u8 vsub;
};

#define RGB(f, c)		{ DRM_FORMAT_##f, 1, { c }, 1, 1 }
#define YUV2(f, c0, c1, h, v)	{ DRM_FORMAT_##f, 2, { c0, c1 }, h, v }
#define YUV3(f, h, v)		{ DRM_FORMAT_##f, 3, { 1, 1, 1 }, h, v }

static const struct hdmabuf_format hdmabuf_formats[] = {
	RGB(C8, 1), RGB(R8, 1), RGB(R16, 2), RGB(RG88, 2), RGB(GR88, 2),
	RGB(RGB565, 2), RGB(BGR565, 2), RGB(XRGB1555, 2), RGB(ARGB1555, 2),
	RGB(RGB888, 3), RGB(BGR888, 3),
	RGB(XRGB8888, 4), RGB(ARGB8888, 4), RGB(XBGR8888, 4),
	RGB(ABGR8888, 4), RGB(RGBX8888, 4), RGB(RGBA8888, 4),
	RGB(BGRX8888, 4), RGB(BGRA8888, 4),
	RGB(XRGB2101010, 4), RGB(ARGB2101010, 4), RGB(XBGR2101010, 4),
	RGB(ABGR2101010, 4),
	RGB(XRGB16161616F, 8), RGB(ARGB16161616F, 8),
	RGB(XBGR16161616F, 8), RGB(ABGR16161616F, 8),
	/* Packed 4:2:2: two bytes a pixel, in pairs. */
	RGB(YUYV, 2), RGB(YVYU, 2), RGB(UYVY, 2), RGB(VYUY, 2),
	YUV2(NV12, 1, 2, 2, 2), YUV2(NV21, 1, 2, 2, 2),
	YUV2(NV16, 1, 2, 2, 1), YUV2(NV61, 1, 2, 2, 1),
	YUV2(NV24, 1, 2, 1, 1), YUV2(NV42, 1, 2, 1, 1),
	YUV2(P010, 2, 4, 2, 2), YUV2(P012, 2, 4, 2, 2),
	YUV2(P016, 2, 4, 2, 2),
	YUV3(YUV420, 2, 2), YUV3(YVU420, 2, 2),
	YUV3(YUV422, 2, 1), YUV3(YVU422, 2, 1),
	YUV3(YUV444, 1, 1), YUV3(YVU444, 1, 1),
};

static const struct hdmabuf_format *hdmabuf_format_find(u32 fourcc)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hdmabuf_formats); i++)
		if (hdmabuf_formats[i].fourcc == fourcc)
			return &hdmabuf_formats[i];
	return NULL;
}

/* Does plane @i of @im, @w by @h pixels of @cpp bytes, lie in @size? */
static bool hdmabuf_plane_fits(const struct hyper_dmabuf_image *im, int i,
			       u32 w, u32 h, u32 cpp, u64 size)
{
	u64 row = (u64)w * cpp;

	if (im->pitch[i] < row)
		return false;
	return (u64)im->offset[i] + (u64)im->pitch[i] * (h - 1) + row <= size;
}

/**
 * hdmabuf_image_check() - check an image description against a buffer
 * @image: the description, from a caller or a peer
 * @size: the buffer's size in bytes
 *
 * An all-zero description (no image) passes.  Otherwise the format must
 * be known, the size non-zero and bounded, and the fields past the
 * format's planes zero.  With a linear layout every row of every plane
 * must lie inside the buffer, each pitch holding a row; with another
 * modifier, whose layout only the driver that made it knows, every plane
 * used must start inside the buffer and its row length stay within it.
 *
 * Return: 0 or -EINVAL.
 */
int hdmabuf_image_check(const struct hyper_dmabuf_image *image, u64 size)
{
	const struct hdmabuf_format *f;
	bool linear = image->modifier == DRM_FORMAT_MOD_LINEAR;
	u32 w, h;
	int i;

	if (!image->fourcc)
		return memchr_inv(image, 0, sizeof(*image)) ? -EINVAL : 0;
	f = hdmabuf_format_find(image->fourcc);
	if (!f || image->reserved || !image->width || !image->height ||
	    image->width > HDMABUF_IMAGE_MAX_DIM ||
	    image->height > HDMABUF_IMAGE_MAX_DIM ||
	    image->modifier == DRM_FORMAT_MOD_INVALID)
		return -EINVAL;
	for (i = 0; i < HYPER_DMABUF_MAX_PLANES; i++) {
		if (i >= f->planes) {
			/* A vendor layout may add planes (compression). */
			if (linear && (image->offset[i] || image->pitch[i]))
				return -EINVAL;
			if (!image->pitch[i] && image->offset[i])
				return -EINVAL;
			if (image->pitch[i] &&
			    (image->offset[i] >= size ||
			     image->pitch[i] > size))
				return -EINVAL;
			continue;
		}
		w = i ? DIV_ROUND_UP(image->width, f->hsub) : image->width;
		h = i ? DIV_ROUND_UP(image->height, f->vsub) : image->height;
		if (linear) {
			if (!hdmabuf_plane_fits(image, i, w, h, f->cpp[i], size))
				return -EINVAL;
		} else if (!image->pitch[i] || image->offset[i] >= size ||
			   image->pitch[i] > size) {
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * hdmabuf_rect_inside() - is a damage rectangle inside an image?
 * @r: the rectangle
 * @image: the image; a buffer without one has no inside
 *
 * Return: true when @r is non-empty and inside @image.
 */
bool hdmabuf_rect_inside(const struct hyper_dmabuf_rect *r,
			 const struct hyper_dmabuf_image *image)
{
	return image->fourcc && r->width && r->height &&
	       r->x < image->width && r->width <= image->width - r->x &&
	       r->y < image->height && r->height <= image->height - r->y;
}
