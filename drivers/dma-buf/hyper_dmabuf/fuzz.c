// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: a peer that sends malformed messages, for tests.
 *
 * Test builds (CONFIG_HYPER_DMABUF_TEST_FUZZ) add the debugfs file
 * hyper_dmabuf/peer_fuzz.  Root writes "VMID COUNT SEED [RATE]" to it, and
 * the writer then sends COUNT messages to VM VMID through that peer's
 * backend, at most RATE a second (default 2000), drawn from SEED: so the
 * peer's real transport (a Xen ring, an ACRN mailbox or virtqueue) carries
 * them to its real decoder and handlers, as a hostile VM would.  The same
 * seed sends the same messages.  Each message is one of:
 *
 * - random bytes;
 * - a sound header (magic, version) with a random type and random bytes;
 * - a well-formed message of a random type with random contents: ids,
 *   references, page counts, statuses, flags, metadata, frames and damage
 *   rectangles that name nothing the peer has, or lie;
 * - such a message with one to four bytes flipped.
 *
 * Reading the file gives the last run's figures.  Only one run at a time;
 * a fatal signal stops a run.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "hdmabuf.h"
#include "proto.h"

/* Messages a second when the writer names no rate. */
#define HDMABUF_FUZZ_RATE	2000
/* How long one message may wait for room in the peer's channel. */
#define HDMABUF_FUZZ_WAIT_MS	2000

/**
 * struct hdmabuf_fuzz_run - the figures of one run
 * @vmid: the VM the messages went to
 * @seed: the seed they were drawn from
 * @sent: messages the backend took
 * @kinds: of those, how many of each kind (random bytes, sound header,
 *	well-formed, flipped)
 * @waits: times the channel was full and the writer waited
 * @err: 0, or why the run stopped early
 */
struct hdmabuf_fuzz_run {
	u32 vmid;
	u64 seed;
	u64 sent;
	u64 kinds[4];
	u64 waits;
	int err;
};

static DEFINE_MUTEX(hdmabuf_fuzz_lock);	/* one run at a time; protects last */
static struct hdmabuf_fuzz_run hdmabuf_fuzz_last;

static u32 hdmabuf_fuzz_u32(struct rnd_state *rs, u32 below)
{
	return below ? prandom_u32_state(rs) % below : 0;
}

static void hdmabuf_fuzz_bytes(struct rnd_state *rs, void *buf, size_t len)
{
	prandom_bytes_state(rs, buf, len);
}

/*
 * A random id: the VM @vmid with a random counter and key, or now and
 * then one of another VM, or with the reserved word set.
 */
static void hdmabuf_fuzz_id(struct rnd_state *rs, struct hyper_dmabuf_id *id,
			    u32 vmid)
{
	hdmabuf_fuzz_bytes(rs, id, sizeof(*id));
	id->vmid = hdmabuf_fuzz_u32(rs, 8) ? vmid : prandom_u32_state(rs);
	if (hdmabuf_fuzz_u32(rs, 8))
		id->reserved = 0;
}

/*
 * hdmabuf_fuzz_wellformed() - a message the decoder takes, of a random
 * type, naming what the peer does not have: @self is this VM's id (the
 * exporter of what it announces), @peer the peer's (the exporter of what
 * it is told about).
 */
static void hdmabuf_fuzz_wellformed(struct rnd_state *rs,
				    struct hdmabuf_msg *m, u32 self, u32 peer)
{
	u32 i;

	memset(m, 0, sizeof(*m));
	m->type = 1 + hdmabuf_fuzz_u32(rs, HDMABUF_MSG_NR - 1);
	m->req_id = prandom_u32_state(rs);
	switch (m->type) {
	case HDMABUF_MSG_EXPORT:
		hdmabuf_fuzz_id(rs, &m->id, self);
		m->flags = hdmabuf_fuzz_u32(rs, 2) ? HDMABUF_MSG_F_RDONLY : 0;
		/* Mostly small, now and then more than any peer allows. */
		m->nr_pages = hdmabuf_fuzz_u32(rs, 4) ?
			1 + hdmabuf_fuzz_u32(rs, 64) :
			1 + hdmabuf_fuzz_u32(rs, 1u << 20);
		m->size = (u64)m->nr_pages << PAGE_SHIFT;
		m->ref = hdmabuf_fuzz_u32(rs, 2) ? hdmabuf_fuzz_u32(rs, 4096) :
			((u64)prandom_u32_state(rs) << 32 |
			 prandom_u32_state(rs));
		m->priv_len = hdmabuf_fuzz_u32(rs, HYPER_DMABUF_PRIV_MAX + 1);
		hdmabuf_fuzz_bytes(rs, m->priv, m->priv_len);
		break;
	case HDMABUF_MSG_UNEXPORT:
		hdmabuf_fuzz_id(rs, &m->id, self);
		break;
	case HDMABUF_MSG_FRAME:
		hdmabuf_fuzz_id(rs, &m->id, self);
		m->seq = 1 + hdmabuf_fuzz_u32(rs, 1000);
		m->nr_damage = hdmabuf_fuzz_u32(rs, HYPER_DMABUF_MAX_DAMAGE + 1);
		for (i = 0; i < m->nr_damage; i++) {
			m->damage[i].x = hdmabuf_fuzz_u32(rs, 4096);
			m->damage[i].y = hdmabuf_fuzz_u32(rs, 4096);
			m->damage[i].width = 1 + hdmabuf_fuzz_u32(rs, 4096);
			m->damage[i].height = 1 + hdmabuf_fuzz_u32(rs, 4096);
		}
		break;
	case HDMABUF_MSG_FRAME_RELEASE:
		hdmabuf_fuzz_id(rs, &m->id, peer);
		m->seq = 1 + hdmabuf_fuzz_u32(rs, 1000);
		m->flags = hdmabuf_fuzz_u32(rs, 2) ? HDMABUF_MSG_F_DROPPED : 0;
		break;
	case HDMABUF_MSG_EXPORT_REPLY:
		hdmabuf_fuzz_id(rs, &m->id, peer);
		m->status = hdmabuf_fuzz_u32(rs, MAX_ERRNO + 1);
		break;
	case HDMABUF_MSG_USAGE:
		hdmabuf_fuzz_id(rs, &m->id, peer);
		m->flags = hdmabuf_fuzz_u32(rs, 2) ? HDMABUF_MSG_F_IN_USE : 0;
		break;
	default:	/* RELEASE, UNEXPORT_REPLY */
		hdmabuf_fuzz_id(rs, &m->id, peer);
		break;
	}
}

/* hdmabuf_fuzz_one() - draw one message into @buf; returns its kind */
static unsigned int hdmabuf_fuzz_one(struct rnd_state *rs, u8 *buf,
				     struct hdmabuf_msg *m, u32 self, u32 peer)
{
	struct hdmabuf_wire_msg *w = (struct hdmabuf_wire_msg *)buf;
	unsigned int kind = hdmabuf_fuzz_u32(rs, 8), i, n;

	BUILD_BUG_ON(sizeof(*w) != HDMABUF_MSG_SIZE);
	switch (kind) {
	case 0:
		hdmabuf_fuzz_bytes(rs, buf, HDMABUF_MSG_SIZE);
		return 0;
	case 1:
		hdmabuf_fuzz_bytes(rs, buf, HDMABUF_MSG_SIZE);
		w->magic = cpu_to_le32(HDMABUF_PROTO_MAGIC);
		w->version = cpu_to_le16(HDMABUF_PROTO_VERSION);
		w->type = cpu_to_le16(hdmabuf_fuzz_u32(rs, HDMABUF_MSG_NR + 2));
		return 1;
	}
	hdmabuf_fuzz_wellformed(rs, m, self, peer);
	hdmabuf_msg_encode(m, buf);
	if (kind < 5)
		return 2;
	n = 1 + hdmabuf_fuzz_u32(rs, 4);
	for (i = 0; i < n; i++)
		buf[hdmabuf_fuzz_u32(rs, HDMABUF_MSG_SIZE)] ^=
			1 + hdmabuf_fuzz_u32(rs, 255);
	return 3;
}

/*
 * hdmabuf_fuzz_send() - hand @buf to @peer's backend without blocking in
 * it, waiting a little while its channel is full
 */
static int hdmabuf_fuzz_send(struct hdmabuf_peer *peer, const u8 *buf,
			     struct hdmabuf_fuzz_run *run)
{
	unsigned long end = jiffies + msecs_to_jiffies(HDMABUF_FUZZ_WAIT_MS);
	int err;

	for (;;) {
		err = peer->be->ops->send(peer->be, peer->vmid, buf,
					  HDMABUF_MSG_SIZE,
					  HDMABUF_SEND_NOWAIT);
		if (err != -EAGAIN)
			return err;
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		if (fatal_signal_pending(current))
			return -EINTR;
		run->waits++;
		usleep_range(500, 1000);
	}
}

static int hdmabuf_fuzz_run(struct hdmabuf_fuzz_run *run, u64 count,
			    u32 rate)
{
	struct hdmabuf_peer *peer;
	struct rnd_state rs;
	struct hdmabuf_msg *m;
	unsigned long start;
	u64 due_ms, spent_ms;
	u8 *buf;
	int err = 0;

	peer = hdmabuf_peer_get(run->vmid);
	if (!peer)
		return -ENOENT;
	m = kmalloc(sizeof(*m), GFP_KERNEL);
	buf = kmalloc(HDMABUF_MSG_SIZE, GFP_KERNEL);
	if (!m || !buf) {
		err = -ENOMEM;
		goto out;
	}
	prandom_seed_state(&rs, run->seed);
	start = jiffies;
	while (run->sent < count) {
		unsigned int kind;

		kind = hdmabuf_fuzz_one(&rs, buf, m, peer->be->vmid,
					peer->vmid);
		err = hdmabuf_fuzz_send(peer, buf, run);
		if (err)
			break;
		run->kinds[kind]++;
		run->sent++;
		/* Keep to the rate, a few messages at a time. */
		if (run->sent % 16 == 0) {
			due_ms = div_u64(run->sent * MSEC_PER_SEC, rate);
			spent_ms = jiffies_to_msecs(jiffies - start);
			if (due_ms > spent_ms)
				msleep(due_ms - spent_ms);
			else
				cond_resched();
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
	}
out:
	kfree(buf);
	kfree(m);
	hdmabuf_peer_put(peer);
	return err;
}

static ssize_t hdmabuf_fuzz_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct hdmabuf_fuzz_run run = { };
	unsigned long long count, seed;
	unsigned int vmid, rate = HDMABUF_FUZZ_RATE;
	char cmd[64];
	int n, err;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	n = sscanf(cmd, "%u %llu %llu %u", &vmid, &count, &seed, &rate);
	if (n < 3 || !rate)
		return -EINVAL;
	run.vmid = vmid;
	run.seed = seed;
	if (mutex_lock_interruptible(&hdmabuf_fuzz_lock))
		return -EINTR;
	err = hdmabuf_fuzz_run(&run, count, rate);
	run.err = err;
	hdmabuf_fuzz_last = run;
	mutex_unlock(&hdmabuf_fuzz_lock);
	if (err)
		pr_info("peer_fuzz: vm %u: stopped after %llu messages: %d\n",
			vmid, run.sent, err);
	return err ? err : len;
}

static int hdmabuf_fuzz_show(struct seq_file *s, void *unused)
{
	struct hdmabuf_fuzz_run run;

	mutex_lock(&hdmabuf_fuzz_lock);
	run = hdmabuf_fuzz_last;
	mutex_unlock(&hdmabuf_fuzz_lock);
	seq_printf(s, "vm %u seed %llu sent %llu random %llu header %llu wellformed %llu flipped %llu waits %llu err %d\n",
		   run.vmid, run.seed, run.sent, run.kinds[0], run.kinds[1],
		   run.kinds[2], run.kinds[3], run.waits, run.err);
	return 0;
}

static int hdmabuf_fuzz_open(struct inode *inode, struct file *file)
{
	return single_open(file, hdmabuf_fuzz_show, NULL);
}

static const struct file_operations hdmabuf_fuzz_fops = {
	.owner = THIS_MODULE,
	.open = hdmabuf_fuzz_open,
	.read = seq_read,
	.write = hdmabuf_fuzz_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * hdmabuf_fuzz_debugfs_init() - create peer_fuzz under @root
 * @root: the core's debugfs directory
 */
void hdmabuf_fuzz_debugfs_init(struct dentry *root)
{
	debugfs_create_file("peer_fuzz", 0600, root, NULL, &hdmabuf_fuzz_fops);
}
