// SPDX-License-Identifier: GPL-2.0
/*
 * hyper_dmabuf: buffer ids.
 *
 * An id is the exporting VM's id, a counter unique among that VM's live
 * exports (allocated cyclically by the export table, so recently freed
 * values come back last) and a 96-bit key from the kernel RNG.  The key is
 * the capability; it is compared in constant time so that a wrong key
 * cannot be told from an unknown id, by errno or by timing.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/export.h>
#include <linux/random.h>

#include "hdmabuf.h"

/**
 * hdmabuf_id_new_key() - give an id a fresh random key
 * @id: the id; its key is overwritten
 */
void hdmabuf_id_new_key(struct hyper_dmabuf_id *id)
{
	get_random_bytes(id->key, sizeof(id->key));
	id->reserved = 0;
}

/**
 * hdmabuf_id_match() - whether two ids are equal
 * @a: an id
 * @b: another id
 *
 * Compares every word, the key included, in time that does not depend on
 * where they differ (crypto_memneq() would pull in CONFIG_CRYPTO for twelve
 * bytes; this is the same technique).
 *
 * Return: true when all of @a equals @b.
 */
bool hdmabuf_id_match(const struct hyper_dmabuf_id *a,
		      const struct hyper_dmabuf_id *b)
{
	u32 diff = (a->vmid ^ b->vmid) | (a->seq ^ b->seq);
	int i;

	for (i = 0; i < ARRAY_SIZE(a->key); i++)
		diff |= a->key[i] ^ b->key[i];
	OPTIMIZER_HIDE_VAR(diff);
	return !diff;
}
EXPORT_SYMBOL_GPL(hdmabuf_id_match);
