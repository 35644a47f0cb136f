// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for hyper_dmabuf buffer ids.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>

#include "../hdmabuf.h"

static void hdmabuf_id_matches_itself(struct kunit *test)
{
	struct hyper_dmabuf_id a = { .vmid = 3, .seq = 77 }, b;

	hdmabuf_id_new_key(&a);
	b = a;
	KUNIT_EXPECT_TRUE(test, hdmabuf_id_match(&a, &b));
	KUNIT_EXPECT_EQ(test, a.reserved, 0u);
}

/* Any single differing bit, in any word, makes ids differ. */
static void hdmabuf_id_any_bit_differs(struct kunit *test)
{
	struct hyper_dmabuf_id a = { .vmid = 3, .seq = 77 }, b;
	u32 *w;
	int word, bit;

	hdmabuf_id_new_key(&a);
	for (word = 0; word < 5; word++) {
		for (bit = 0; bit < 32; bit++) {
			b = a;
			w = word == 0 ? &b.vmid : word == 1 ? &b.seq :
			    &b.key[word - 2];
			*w ^= BIT(bit);
			KUNIT_EXPECT_FALSE(test, hdmabuf_id_match(&a, &b));
		}
	}
}

/* Keys come from the RNG: many draws, no repeat, no all-zero key. */
static void hdmabuf_id_keys_are_fresh(struct kunit *test)
{
	const int n = 512;
	struct hyper_dmabuf_id *ids;
	int i, j;

	ids = kunit_kcalloc(test, n, sizeof(*ids), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ids);
	for (i = 0; i < n; i++) {
		hdmabuf_id_new_key(&ids[i]);
		KUNIT_EXPECT_TRUE(test,
				  ids[i].key[0] || ids[i].key[1] || ids[i].key[2]);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			KUNIT_EXPECT_FALSE(test,
					   hdmabuf_id_match(&ids[i], &ids[j]));
}

static struct kunit_case hdmabuf_id_cases[] = {
	KUNIT_CASE(hdmabuf_id_matches_itself),
	KUNIT_CASE(hdmabuf_id_any_bit_differs),
	KUNIT_CASE(hdmabuf_id_keys_are_fresh),
	{}
};

static struct kunit_suite hdmabuf_id_suite = {
	.name = "hyper_dmabuf_id",
	.test_cases = hdmabuf_id_cases,
};

kunit_test_suite(hdmabuf_id_suite);
