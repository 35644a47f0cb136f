// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf ACRN backend: when a user VM may reuse the pages it shared.
 *
 * The SOS maps a UOS's pages straight from its window, and a local dma-buf
 * made from them stays valid after the link goes down (the core keeps an
 * importer's dma-bufs until they are released), so a process of the SOS
 * may go on writing to them.  The UOS must not reuse such a page: a
 * sharing ends for good only once the SOS holds no mapping of it.
 *
 * Every session of a link has an epoch, which the SOS picks and announces
 * (acrn.h).  The SOS counts the mappings it makes in each: those of the
 * live session, and those of sessions that are over.  When the last
 * mapping of an ended session goes, it writes into the mailbox's header
 * the epoch before which none is left (sos_clear) and rings the UOS; a
 * new SOS driver, with nothing mapped, does so when it binds.
 *
 * The UOS records the epoch under which it shared each buffer.  When the
 * core asks it to end a sharing while that session is still up, the SOS
 * has reported the release (or never saw the buffer), and the pages are
 * free at once.  Otherwise (the SOS went away, reattached or broke the
 * ring) the buffer goes into a quarantine, pages and tables, until the
 * SOS's sos_clear is past its epoch.  The quarantine outlives the UOS's
 * link, since the core keeps each buffer, and with it this module, until
 * hdmabuf_unshare_done(): a UOS driver bound again picks it up.
 *
 * Both words live in the mailbox, which the UOS can write too.  The SOS
 * keeps its own count and reads them only when it binds, to go on from
 * them; a UOS that scribbles over them loses only its own protection.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/spinlock.h>

#include "acrn.h"

/* Epoch @a comes after @b (epochs are free-running u32s). */
static bool hdacrn_after(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

/* --- the SOS: its mappings of a UOS's pages ---------------------------- */

/* Tell the UOS that no mapping of an epoch before @clear is left. */
static void hdacrn_maps_publish(struct hdacrn_link *link, u32 clear)
{
	lockdep_assert_held(&link->maps_lock);
	/* The unmapping that got us here before the word that ends it. */
	smp_wmb();
	hdacrn_hs_write(link, HDACRN_HS_SOS_CLEAR, clear);
	if (link->regs)
		hdacrn_doorbell(link->regs, link->peer_id, 0);
}

/**
 * hdacrn_maps_init() - a new SOS link: nothing of the UOS is mapped here
 * @link: the link, its mailbox mapped
 *
 * Sets @link->epoch to the last epoch any SOS used on the link, so that
 * this one goes on from there, and tells the UOS that nothing is mapped:
 * the mappings of an SOS driver bound before this one are gone (its
 * unbinding waited for them), and so are those of an SOS VM that ended.
 */
void hdacrn_maps_init(struct hdacrn_link *link)
{
	u32 epoch = hdacrn_hs_read(link, HDACRN_HS_SOS_EPOCH);
	u32 clear = hdacrn_hs_read(link, HDACRN_HS_SOS_CLEAR);

	/* An attach that failed used an epoch without announcing it. */
	link->epoch = hdacrn_after(clear - 1, epoch) ? clear - 1 : epoch;
	spin_lock(&link->maps_lock);
	link->maps_epoch = link->epoch;
	hdacrn_maps_publish(link, link->epoch + 1);
	spin_unlock(&link->maps_lock);
}

/**
 * hdacrn_maps_open() - a session starts: its imports may be mapped
 * @link: the link, with @epoch the session's, never used before
 */
void hdacrn_maps_open(struct hdacrn_link *link)
{
	spin_lock(&link->maps_lock);
	/* Any mapping left of the last session is an old one already. */
	WARN_ON(link->maps_live || link->nr_maps_cur);
	link->maps_epoch = link->epoch;
	link->maps_live = true;
	spin_unlock(&link->maps_lock);
}

/**
 * hdacrn_maps_close() - the session is over
 * @link: the link, its imports withdrawn by the core
 *
 * Its mappings count as old from now on; when there are none, the UOS
 * may reuse everything it shared so far.
 */
void hdacrn_maps_close(struct hdacrn_link *link)
{
	spin_lock(&link->maps_lock);
	if (link->maps_live) {
		link->maps_live = false;
		link->nr_maps_old += link->nr_maps_cur;
		link->nr_maps_cur = 0;
		if (!link->nr_maps_old)
			hdacrn_maps_publish(link, link->maps_epoch + 1);
	}
	spin_unlock(&link->maps_lock);
}

/**
 * hdacrn_maps_get() - count a mapping of the UOS's pages about to be made
 * @link: the link
 * @epoch: set to the session it belongs to, for hdacrn_maps_put()
 *
 * Return: 0, or -ENOENT when no session is up: its imports are withdrawn.
 */
int hdacrn_maps_get(struct hdacrn_link *link, u32 *epoch)
{
	int ret = -ENOENT;

	spin_lock(&link->maps_lock);
	if (link->maps_live) {
		link->nr_maps_cur++;
		*epoch = link->maps_epoch;
		ret = 0;
	}
	spin_unlock(&link->maps_lock);
	return ret;
}

/**
 * hdacrn_maps_put() - a mapping counted by hdacrn_maps_get() is gone
 * @link: the link
 * @epoch: the mapping's session
 *
 * The last mapping of sessions that are over tells the UOS.  Call it
 * while the window is held: the mailbox and registers are then mapped.
 */
void hdacrn_maps_put(struct hdacrn_link *link, u32 epoch)
{
	spin_lock(&link->maps_lock);
	if (link->maps_live && epoch == link->maps_epoch) {
		link->nr_maps_cur--;
	} else if (!--link->nr_maps_old) {
		hdacrn_maps_publish(link, link->maps_live ?
				    link->maps_epoch : link->maps_epoch + 1);
	}
	spin_unlock(&link->maps_lock);
}

/* --- the UOS: its shares the SOS may still map ------------------------- */

/**
 * struct hdacrn_reclaim - a UOS's view of the SOS's mappings
 * @lock: protects all of it
 * @live: a session with the SOS is up
 * @epoch: its epoch, or the last one's
 * @clear_seen: @clear has been read from the SOS
 * @clear: the SOS's sos_clear, the latest seen
 * @quarantine: struct hdacrn_shbuf unshared while the SOS may map them
 *
 * One per module: a UOS has a single link, and the quarantine must outlive
 * it.
 */
struct hdacrn_reclaim {
	spinlock_t lock;	/* all of it */
	bool live;
	u32 epoch;
	bool clear_seen;
	u32 clear;
	struct list_head quarantine;
};

static struct hdacrn_reclaim hdacrn_reclaim_state = {
	.lock = __SPIN_LOCK_UNLOCKED(hdacrn_reclaim_state.lock),
	.quarantine = LIST_HEAD_INIT(hdacrn_reclaim_state.quarantine),
};

/* No mapping of the SOS's made in epoch @epoch is left.  Lock held. */
static bool hdacrn_reclaim_clear(u32 epoch)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;

	lockdep_assert_held(&r->lock);
	return r->clear_seen && hdacrn_after(r->clear, epoch);
}

/**
 * hdacrn_reclaim_open() - the UOS's link is up
 * @epoch: the SOS's epoch for it
 */
void hdacrn_reclaim_open(u32 epoch)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;

	spin_lock(&r->lock);
	r->live = true;
	r->epoch = epoch;
	spin_unlock(&r->lock);
}

/**
 * hdacrn_reclaim_close() - the UOS's link goes down
 *
 * From here on, a sharing of that session ends in the quarantine: the SOS
 * may still map its pages.
 */
void hdacrn_reclaim_close(void)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;

	spin_lock(&r->lock);
	r->live = false;
	spin_unlock(&r->lock);
}

/**
 * hdacrn_reclaim_epoch() - the epoch a new sharing belongs to
 *
 * Return: the live session's, or the last one's (a sharing made while the
 * link is down is never announced).
 */
u32 hdacrn_reclaim_epoch(void)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;
	u32 epoch;

	spin_lock(&r->lock);
	epoch = r->epoch;
	spin_unlock(&r->lock);
	return epoch;
}

/**
 * hdacrn_reclaim() - end a UOS's sharing once the SOS cannot reach it
 * @sb: the sharing, unshared by the core
 *
 * Released at once when its session is still up (the SOS released it, or
 * never saw it) or the SOS has said that its mappings of that session are
 * gone; otherwise quarantined until it says so.
 */
void hdacrn_reclaim(struct hdacrn_shbuf *sb)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;
	bool now;

	spin_lock(&r->lock);
	now = (r->live && sb->epoch == r->epoch) ||
	      hdacrn_reclaim_clear(sb->epoch);
	if (!now)
		list_add_tail(&sb->node, &r->quarantine);
	spin_unlock(&r->lock);
	if (now)
		hdacrn_shbuf_release(sb);
}

/**
 * hdacrn_reclaim_poll() - read the SOS's word, release what it allows
 * @link: the UOS's link, whose mailbox is mapped
 *
 * Called after each doorbell.  Process context.
 */
void hdacrn_reclaim_poll(struct hdacrn_link *link)
{
	struct hdacrn_reclaim *r = &hdacrn_reclaim_state;
	u32 clear = hdacrn_hs_read(link, HDACRN_HS_SOS_CLEAR);
	struct hdacrn_shbuf *sb, *next;
	LIST_HEAD(done);

	/* The word before the reuse of anything it allows. */
	smp_rmb();
	spin_lock(&r->lock);
	if (!r->clear_seen || hdacrn_after(clear, r->clear)) {
		r->clear = clear;
		r->clear_seen = true;
	}
	list_for_each_entry_safe(sb, next, &r->quarantine, node)
		if (hdacrn_reclaim_clear(sb->epoch))
			list_move_tail(&sb->node, &done);
	spin_unlock(&r->lock);

	list_for_each_entry_safe(sb, next, &done, node) {
		list_del(&sb->node);
		hdacrn_shbuf_release(sb);
	}
}

/**
 * hdacrn_reclaim_exit() - the module goes
 *
 * Every quarantined sharing holds a reference on this module through its
 * export in the core, so none can be left.
 */
void hdacrn_reclaim_exit(void)
{
	WARN_ON(!list_empty(&hdacrn_reclaim_state.quarantine));
}
