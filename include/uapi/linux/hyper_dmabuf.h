/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hyper_dmabuf: share dma-bufs between virtual machines without copies.
 *
 * Userspace interface of the /dev/hyper_dmabuf misc device.  See
 * Documentation/userspace-api/hyper_dmabuf.rst.
 */
#ifndef _UAPI_LINUX_HYPER_DMABUF_H
#define _UAPI_LINUX_HYPER_DMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Name of the misc device, as it appears under /dev. */
#define HYPER_DMABUF_DEVICE_NAME	"hyper_dmabuf"

/* ioctl magic, unused in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define HYPER_DMABUF_IOC_MAGIC		0xB8

/* Largest private metadata an exporter may attach to a buffer, in bytes. */
#define HYPER_DMABUF_PRIV_MAX		256

/* Largest delay an unexport may ask for, in milliseconds. */
#define HYPER_DMABUF_UNEXPORT_DELAY_MAX	60000

/* The VM id that no VM has. */
#define HYPER_DMABUF_VMID_INVALID	0xffffffffu

/*
 * Room for an endpoint's name, its NUL included: 1 to 15 characters of
 * A-Z, a-z, 0-9, '_', '-' and '.', not starting with '.'.  The empty name
 * is the default endpoint.
 */
#define HYPER_DMABUF_ENDPOINT_LEN	16

/* Planes an image description has room for. */
#define HYPER_DMABUF_MAX_PLANES		4

/* Damage rectangles a frame may carry; merge more into their bounding box. */
#define HYPER_DMABUF_MAX_DAMAGE		8

/**
 * struct hyper_dmabuf_id - system-wide name of a shared buffer
 * @vmid: id of the exporting VM
 * @seq: exporter's counter; unique among that VM's live exports
 * @key: 96 random bits from the exporting kernel's RNG; the capability that
 *	makes the id unguessable.  An id whose key is wrong behaves exactly
 *	like an id that does not exist.
 * @reserved: must be zero
 */
struct hyper_dmabuf_id {
	__u32 vmid;
	__u32 seq;
	__u32 key[3];
	__u32 reserved;
};

/**
 * struct hyper_dmabuf_image - how a buffer holds an image, as KMS and EGL
 *	take it
 * @fourcc: a DRM_FORMAT_* code of <drm/drm_fourcc.h>; 0 when the buffer
 *	carries no description (then every other field is zero)
 * @width: width in pixels, at least 1
 * @height: height in pixels, at least 1
 * @reserved: must be zero
 * @modifier: DRM_FORMAT_MOD_* layout; DRM_FORMAT_MOD_LINEAR (0) for rows
 *	of pixels one after another
 * @offset: byte offset of each plane in the buffer; zero past the format's
 *	planes
 * @pitch: bytes from one row of each plane to the next; zero past the
 *	format's planes
 *
 * The exporting kernel knows the common formats (see the userspace-api
 * page) and checks that every plane of a linear image lies inside the
 * buffer; other formats are refused with EINVAL.
 */
struct hyper_dmabuf_image {
	__u32 fourcc;
	__u32 width;
	__u32 height;
	__u32 reserved;
	__u64 modifier;
	__u32 offset[HYPER_DMABUF_MAX_PLANES];
	__u32 pitch[HYPER_DMABUF_MAX_PLANES];
};

/**
 * struct hyper_dmabuf_rect - a rectangle of an image, in pixels
 * @x: left column
 * @y: top row
 * @width: columns, at least 1
 * @height: rows, at least 1
 */
struct hyper_dmabuf_rect {
	__u32 x;
	__u32 y;
	__u32 width;
	__u32 height;
};

/* Flags of struct hyper_dmabuf_export. */
#define HYPER_DMABUF_EXPORT_RDONLY	(1u << 0)	/* importer may not write */
/* Post %HYPER_DMABUF_EVENT_RELEASED on the exporting file when it ends. */
#define HYPER_DMABUF_EXPORT_RELEASED_EVENT (1u << 1)
#define HYPER_DMABUF_EXPORT_FLAGS	(HYPER_DMABUF_EXPORT_RDONLY | \
					 HYPER_DMABUF_EXPORT_RELEASED_EVENT)

/**
 * struct hyper_dmabuf_export - argument of %HYPER_DMABUF_IOCTL_EXPORT
 * @fd: in: the local dma-buf to share
 * @flags: in: %HYPER_DMABUF_EXPORT_RDONLY, %HYPER_DMABUF_EXPORT_RELEASED_EVENT
 *	or 0
 * @remote_vmid: in: the only VM that may import the buffer
 * @priv_len: in: bytes of private metadata at @priv, at most
 *	%HYPER_DMABUF_PRIV_MAX
 * @priv: in: user pointer to the metadata, delivered to the importer
 * @id: out: the buffer's id
 * @size: out: bytes shared (the dma-buf's size)
 * @reserved: must be zero
 * @endpoint: in: the endpoint of @remote_vmid whose files alone may see and
 *	import the buffer, NUL-terminated; all zero (and for callers whose
 *	struct ends before it) the default endpoint
 * @image: in: what image the buffer holds, checked against its size;
 *	all zero (and for callers whose struct ends before it) none
 */
struct hyper_dmabuf_export {
	__s32 fd;
	__u32 flags;
	__u32 remote_vmid;
	__u32 priv_len;
	__u64 priv;
	struct hyper_dmabuf_id id;
	__u64 size;
	__u64 reserved[2];
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hyper_dmabuf_image image;
};

/* Flags of struct hyper_dmabuf_import: O_CLOEXEC and one of O_ACCMODE. */

/**
 * struct hyper_dmabuf_import - argument of %HYPER_DMABUF_IOCTL_IMPORT
 * @id: in: the buffer to import, exported to this VM
 * @flags: in: O_RDONLY or O_RDWR, optionally with O_CLOEXEC
 * @fd: out: a new local dma-buf file descriptor for the buffer
 * @size: out: the buffer's size in bytes
 * @reserved: must be zero
 */
struct hyper_dmabuf_import {
	struct hyper_dmabuf_id id;
	__u32 flags;
	__s32 fd;
	__u64 size;
	__u64 reserved[2];
};

/* Flags of struct hyper_dmabuf_unexport. */
#define HYPER_DMABUF_UNEXPORT_ASYNC	(1u << 0)	/* do not wait for the importer */
#define HYPER_DMABUF_UNEXPORT_FLAGS	HYPER_DMABUF_UNEXPORT_ASYNC

/**
 * struct hyper_dmabuf_unexport - argument of %HYPER_DMABUF_IOCTL_UNEXPORT
 * @id: in: a buffer this open file exported
 * @delay_ms: in: withdraw the buffer after this many milliseconds, at most
 *	%HYPER_DMABUF_UNEXPORT_DELAY_MAX; 0 withdraws it now
 * @flags: in: %HYPER_DMABUF_UNEXPORT_ASYNC or 0.  Without it, and without a
 *	delay, the call returns once the importing VM can make no new dma-buf
 *	of the buffer.
 * @reserved: must be zero
 */
struct hyper_dmabuf_unexport {
	struct hyper_dmabuf_id id;
	__u32 delay_ms;
	__u32 flags;
	__u64 reserved[2];
};

/*
 * How many of an open file's latest released exports
 * %HYPER_DMABUF_IOCTL_WAIT_RELEASED remembers.
 */
#define HYPER_DMABUF_RELEASED_HISTORY	64

/**
 * struct hyper_dmabuf_wait_released - argument of
 *	%HYPER_DMABUF_IOCTL_WAIT_RELEASED
 * @id: in: a buffer this open file exported
 * @timeout_ms: in: how long to wait, in milliseconds; 0 only looks
 * @flags: must be zero
 * @reserved: must be zero
 */
struct hyper_dmabuf_wait_released {
	struct hyper_dmabuf_id id;
	__u32 timeout_ms;
	__u32 flags;
	__u64 reserved[2];
};

/* Status bits of struct hyper_dmabuf_query. */
#define HYPER_DMABUF_STATUS_EXPORTED_HERE (1u << 0) /* this VM exported it */
#define HYPER_DMABUF_STATUS_IMPORTED	(1u << 1) /* the importer holds it */
#define HYPER_DMABUF_STATUS_UNEXPORTED	(1u << 2) /* withdrawn by exporter */
#define HYPER_DMABUF_STATUS_UNEXPORT_PENDING (1u << 3) /* delayed unexport */
/* A frame was presented (exporter) or arrived (importer), not yet released */
#define HYPER_DMABUF_STATUS_FRAME_PENDING (1u << 4)

/**
 * struct hyper_dmabuf_query - argument of %HYPER_DMABUF_IOCTL_QUERY
 * @id: in: a buffer this VM exported, or that this open file's endpoint
 *	may import
 * @exporter_vmid: out: the exporting VM
 * @importer_vmid: out: the VM that may import it
 * @size: out: size in bytes
 * @status: out: %HYPER_DMABUF_STATUS_* bits
 * @priv_len: in: room at @priv; out: length of the buffer's metadata (when
 *	larger than the room, nothing is copied and the call still succeeds)
 * @priv: in: user pointer that receives the metadata, or 0
 * @reserved: must be zero
 * @endpoint: out: the importing VM's endpoint it was exported to (empty:
 *	the default endpoint)
 * @image: out: the image the buffer holds, as exported (zero: none)
 * @frame_seq: out: the sequence number of the buffer's latest frame,
 *	pending (%HYPER_DMABUF_STATUS_FRAME_PENDING) or released; 0 before
 *	the first
 */
struct hyper_dmabuf_query {
	struct hyper_dmabuf_id id;
	__u32 exporter_vmid;
	__u32 importer_vmid;
	__u64 size;
	__u32 status;
	__u32 priv_len;
	__u64 priv;
	__u64 reserved[2];
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	struct hyper_dmabuf_image image;
	__u64 frame_seq;
};

/**
 * struct hyper_dmabuf_list - argument of %HYPER_DMABUF_IOCTL_LIST
 * @count: in: room in @ids, in entries; out: number of buffers this VM may
 *	import now, which may be larger than the room (only the first @count
 *	are copied)
 * @flags: must be zero
 * @ids: in: user pointer to an array of struct hyper_dmabuf_id
 * @reserved: must be zero
 */
struct hyper_dmabuf_list {
	__u32 count;
	__u32 flags;
	__u64 ids;
	__u64 reserved;
};

/* Flags of struct hyper_dmabuf_peer: what this VM may do with the peer. */
#define HYPER_DMABUF_PEER_EXPORT	(1u << 0)	/* export to it */
#define HYPER_DMABUF_PEER_IMPORT	(1u << 1)	/* import from it */

/**
 * struct hyper_dmabuf_peer - a VM this instance can reach
 * @vmid: the VM's id
 * @flags: %HYPER_DMABUF_PEER_EXPORT and %HYPER_DMABUF_PEER_IMPORT, for the
 *	directions the backend can share in (zero from kernels before them)
 * @backend: NUL-terminated name of the backend that reaches it
 */
struct hyper_dmabuf_peer {
	__u32 vmid;
	__u32 flags;
	char backend[16];
};

/**
 * struct hyper_dmabuf_info - argument of %HYPER_DMABUF_IOCTL_INFO
 * @vmid: out: this VM's id
 * @version: out: protocol version spoken with peers
 * @nr_peers: in: room in @peers, in entries; out: number of reachable VMs
 *	(only the first @nr_peers are copied)
 * @flags: must be zero
 * @peers: in: user pointer to an array of struct hyper_dmabuf_peer
 * @reserved: must be zero
 */
struct hyper_dmabuf_info {
	__u32 vmid;
	__u32 version;
	__u32 nr_peers;
	__u32 flags;
	__u64 peers;
	__u64 reserved[2];
};

/**
 * struct hyper_dmabuf_bind - argument of %HYPER_DMABUF_IOCTL_BIND
 * @endpoint: in: the endpoint to bind this open file to, NUL-terminated;
 *	root configures who may bind which name (configfs, see the docs)
 * @flags: must be zero
 * @reserved: must be zero
 *
 * An open file that is never bound belongs to the default endpoint.  Once
 * bound it sees, lists and imports only the buffers exported to its
 * endpoint, and gets only their events.  A file is bound at most once.
 */
struct hyper_dmabuf_bind {
	char endpoint[HYPER_DMABUF_ENDPOINT_LEN];
	__u32 flags;
	__u32 reserved[3];
};

/* Flags of struct hyper_dmabuf_present. */
#define HYPER_DMABUF_PRESENT_IN_FENCE	(1u << 0) /* wait for @in_fence_fd */
#define HYPER_DMABUF_PRESENT_NO_IMPLICIT (1u << 1) /* not for dma_resv fences */
#define HYPER_DMABUF_PRESENT_RELEASE_FENCE (1u << 2) /* make @release_fence_fd */
#define HYPER_DMABUF_PRESENT_FLAGS	(HYPER_DMABUF_PRESENT_IN_FENCE | \
					 HYPER_DMABUF_PRESENT_NO_IMPLICIT | \
					 HYPER_DMABUF_PRESENT_RELEASE_FENCE)

/**
 * struct hyper_dmabuf_present - argument of %HYPER_DMABUF_IOCTL_PRESENT
 * @id: in: a live buffer this open file exported
 * @seq: in: the frame's sequence number, larger than that of the buffer's
 *	previous frame
 * @flags: in: %HYPER_DMABUF_PRESENT_* bits
 * @in_fence_fd: in: with %HYPER_DMABUF_PRESENT_IN_FENCE, a sync_file the
 *	frame waits for before it goes out
 * @release_fence_fd: out: with %HYPER_DMABUF_PRESENT_RELEASE_FENCE, a new
 *	sync_file (close-on-exec) that signals when the importer released
 *	the frame, with an error when the sharing ended first
 * @nr_damage: in: rectangles at @damage, at most
 *	%HYPER_DMABUF_MAX_DAMAGE; 0 for the whole image
 * @damage: in: user pointer to struct hyper_dmabuf_rect, inside the
 *	buffer's image (a buffer exported without one takes no damage)
 * @reserved: must be zero
 *
 * The frame goes to the importer once the buffer's write fences (its
 * dma_resv, unless %HYPER_DMABUF_PRESENT_NO_IMPLICIT) and the in-fence
 * have signalled; the call does not wait for them.  A buffer has at most
 * one frame out at a time: until its %HYPER_DMABUF_EVENT_FRAME_RELEASED,
 * presenting it again is EBUSY.
 */
struct hyper_dmabuf_present {
	struct hyper_dmabuf_id id;
	__u64 seq;
	__u32 flags;
	__s32 in_fence_fd;
	__s32 release_fence_fd;
	__u32 nr_damage;
	__u64 damage;
	__u64 reserved[2];
};

/* Flags of struct hyper_dmabuf_release_frame. */
#define HYPER_DMABUF_RELEASE_FENCE	(1u << 0) /* release when @fence_fd signals */
#define HYPER_DMABUF_RELEASE_DROPPED	(1u << 1) /* the frame was never shown */
#define HYPER_DMABUF_RELEASE_FLAGS	(HYPER_DMABUF_RELEASE_FENCE | \
					 HYPER_DMABUF_RELEASE_DROPPED)

/**
 * struct hyper_dmabuf_release_frame - argument of
 *	%HYPER_DMABUF_IOCTL_RELEASE_FRAME
 * @id: in: a buffer this open file's endpoint may import
 * @seq: in: the sequence number of its pending frame
 * @flags: in: %HYPER_DMABUF_RELEASE_* bits
 * @fence_fd: in: with %HYPER_DMABUF_RELEASE_FENCE, a sync_file: the frame
 *	is released once it signals (the call does not wait)
 * @reserved: must be zero
 */
struct hyper_dmabuf_release_frame {
	struct hyper_dmabuf_id id;
	__u64 seq;
	__u32 flags;
	__s32 fence_fd;
	__u64 reserved[2];
};

/**
 * struct hyper_dmabuf_frame_fence - argument of
 *	%HYPER_DMABUF_IOCTL_FRAME_FENCE
 * @id: in: a buffer this open file's endpoint may import
 * @flags: must be zero
 * @fence_fd: out: a new sync_file (close-on-exec) that signals when a frame
 *	of the buffer has arrived: at once if one is pending, else with the
 *	next; with an error if the buffer is withdrawn first.  Import it into
 *	the imported dma-buf (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, as a write) and
 *	implicitly synchronised readers wait for the frame by themselves.
 * @reserved: must be zero
 */
struct hyper_dmabuf_frame_fence {
	struct hyper_dmabuf_id id;
	__u32 flags;
	__s32 fence_fd;
	__u64 reserved[2];
};

/* Flags of struct hyper_dmabuf_frame_info. */
#define HYPER_DMABUF_FRAME_DROPPED	(1u << 0) /* released unshown */
#define HYPER_DMABUF_FRAME_ABORTED	(1u << 1) /* the importer is gone */

/**
 * struct hyper_dmabuf_frame_info - a frame, in a frame event
 * @seq: its sequence number
 * @flags: %HYPER_DMABUF_EVENT_FRAME_RELEASED: %HYPER_DMABUF_FRAME_* bits
 * @nr_damage: %HYPER_DMABUF_EVENT_FRAME: valid entries of @damage, 0 for
 *	the whole image
 * @damage: what changed since the buffer's previous frame
 */
struct hyper_dmabuf_frame_info {
	__u64 seq;
	__u32 flags;
	__u32 nr_damage;
	struct hyper_dmabuf_rect damage[HYPER_DMABUF_MAX_DAMAGE];
};

/* Event types, in struct hyper_dmabuf_event. */
#define HYPER_DMABUF_EVENT_NEW		1u /* a buffer may be imported */
#define HYPER_DMABUF_EVENT_WITHDRAWN	2u /* the buffer was unexported */
#define HYPER_DMABUF_EVENT_OVERFLOW	3u /* later events lost: resync */
#define HYPER_DMABUF_EVENT_RELEASED	4u /* an export of this file ended */
#define HYPER_DMABUF_EVENT_FRAME	5u /* a frame of a buffer arrived */
#define HYPER_DMABUF_EVENT_FRAME_RELEASED 6u /* the importer is done with it */

/**
 * struct hyper_dmabuf_event - a record read() from /dev/hyper_dmabuf
 * @type: %HYPER_DMABUF_EVENT_*
 * @priv_len: bytes valid in @priv
 * @id: the buffer (zero for %HYPER_DMABUF_EVENT_OVERFLOW)
 * @exporter_vmid: the exporting VM
 * @reserved: zero
 * @size: buffer size in bytes
 * @priv: %HYPER_DMABUF_EVENT_NEW: the exporter's private metadata
 * @frame: %HYPER_DMABUF_EVENT_FRAME and %HYPER_DMABUF_EVENT_FRAME_RELEASED:
 *	the frame
 * @image: %HYPER_DMABUF_EVENT_NEW: the image the buffer holds (zero: none)
 *
 * read() returns whole records only; a buffer smaller than one record is
 * -EINVAL.  After %HYPER_DMABUF_EVENT_OVERFLOW the queue of this open file
 * had been full and events were dropped: use %HYPER_DMABUF_IOCTL_LIST (and
 * %HYPER_DMABUF_IOCTL_WAIT_RELEASED for released exports).
 * %HYPER_DMABUF_EVENT_RELEASED goes only to the open file that exported the
 * buffer with %HYPER_DMABUF_EXPORT_RELEASED_EVENT: the importing VM can
 * reach none of its pages any more, and the exporter may reuse them.
 * %HYPER_DMABUF_EVENT_FRAME goes to the files of the buffer's endpoint,
 * %HYPER_DMABUF_EVENT_FRAME_RELEASED to the file that presented it.
 */
struct hyper_dmabuf_event {
	__u32 type;
	__u32 priv_len;
	struct hyper_dmabuf_id id;
	__u32 exporter_vmid;
	__u32 reserved;
	__u64 size;
	union {
		__u8 priv[HYPER_DMABUF_PRIV_MAX];
		struct hyper_dmabuf_frame_info frame;
	};
	struct hyper_dmabuf_image image;
};

#define HYPER_DMABUF_IOCTL_EXPORT	_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x00, \
					      struct hyper_dmabuf_export)
#define HYPER_DMABUF_IOCTL_IMPORT	_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x01, \
					      struct hyper_dmabuf_import)
#define HYPER_DMABUF_IOCTL_UNEXPORT	_IOW(HYPER_DMABUF_IOC_MAGIC, 0x02, \
					     struct hyper_dmabuf_unexport)
#define HYPER_DMABUF_IOCTL_QUERY	_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x03, \
					      struct hyper_dmabuf_query)
#define HYPER_DMABUF_IOCTL_LIST		_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x04, \
					      struct hyper_dmabuf_list)
#define HYPER_DMABUF_IOCTL_INFO		_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x05, \
					      struct hyper_dmabuf_info)
#define HYPER_DMABUF_IOCTL_WAIT_RELEASED _IOW(HYPER_DMABUF_IOC_MAGIC, 0x06, \
					      struct hyper_dmabuf_wait_released)
#define HYPER_DMABUF_IOCTL_BIND		_IOW(HYPER_DMABUF_IOC_MAGIC, 0x07, \
					     struct hyper_dmabuf_bind)
#define HYPER_DMABUF_IOCTL_PRESENT	_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x08, \
					      struct hyper_dmabuf_present)
#define HYPER_DMABUF_IOCTL_RELEASE_FRAME _IOW(HYPER_DMABUF_IOC_MAGIC, 0x09, \
					      struct hyper_dmabuf_release_frame)
#define HYPER_DMABUF_IOCTL_FRAME_FENCE	_IOWR(HYPER_DMABUF_IOC_MAGIC, 0x0a, \
					      struct hyper_dmabuf_frame_fence)

#endif /* _UAPI_LINUX_HYPER_DMABUF_H */
