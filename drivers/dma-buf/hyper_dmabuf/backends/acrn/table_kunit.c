// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the ACRN backend's address tables: the UOS's build and
 * the SOS's walk, one to three levels, against tables a hostile UOS
 * wrote.  Both sides run in this one kernel: the test window covers this
 * kernel's own RAM from address 0, so a "guest-physical" address is a
 * physical one and the walk must give back the very pages it was given.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "acrn.h"

/* Beyond the test window; page aligned. */
#define OUTSIDE		BIT_ULL(46)
#define POOL		5
#define TEST_VMID	4242

struct table_fixture {
	struct hdacrn_link link;
	struct page *pool[POOL];
	struct page **in;
	unsigned long *pfns;
	struct page **out;
	unsigned int nr;
	struct hdacrn_shbuf *tables;
	u64 ref;
};

/* The shape the tables must have: the UOS's pages, in the same order. */
static int table_setup(struct kunit *test, struct table_fixture *f,
		       unsigned int nr)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	/* No VM's id, so that its complaints are told apart from a rig's. */
	f->link.vmid = TEST_VMID;
	f->link.window.size = OUTSIDE;
	for (i = 0; i < POOL; i++) {
		f->pool[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, f->pool[i]);
	}
	f->nr = nr;
	f->in = kvcalloc(nr, sizeof(*f->in), GFP_KERNEL);
	f->pfns = kvcalloc(nr, sizeof(*f->pfns), GFP_KERNEL);
	f->out = kvcalloc(nr, sizeof(*f->out), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->in);
	KUNIT_ASSERT_NOT_NULL(test, f->pfns);
	KUNIT_ASSERT_NOT_NULL(test, f->out);
	/* A buffer may name a page twice; the walk must keep the order. */
	for (i = 0; i < nr; i++) {
		f->in[i] = f->pool[(i * 3 + i / 7) % POOL];
		f->pfns[i] = page_to_pfn(f->in[i]);
	}
	return hdacrn_table_build(f->pfns, nr, &f->tables, &f->ref);
}

static void table_teardown(struct table_fixture *f)
{
	unsigned int i;

	if (f->tables)
		hdacrn_table_free(f->tables);
	kvfree(f->in);
	kvfree(f->pfns);
	kvfree(f->out);
	for (i = 0; i < POOL; i++)
		if (f->pool[i])
			__free_page(f->pool[i]);
}

/* Overwrite entry @idx of the table page at @gpa with @val. */
static void table_poke(u64 gpa, unsigned int idx, u64 val)
{
	__le64 *t = kmap_local_page(pfn_to_page(PHYS_PFN(gpa)));

	t[idx] = cpu_to_le64(val);
	kunmap_local(t);
}

static u64 table_peek(u64 gpa, unsigned int idx)
{
	__le64 *t = kmap_local_page(pfn_to_page(PHYS_PFN(gpa)));
	u64 v = le64_to_cpu(t[idx]);

	kunmap_local(t);
	return v;
}

static void acrn_levels_follow_the_count(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, hdacrn_levels(1), 1u);
	KUNIT_EXPECT_EQ(test, hdacrn_levels(512), 1u);
	KUNIT_EXPECT_EQ(test, hdacrn_levels(513), 2u);
	KUNIT_EXPECT_EQ(test, hdacrn_levels(512 * 512), 2u);
	KUNIT_EXPECT_EQ(test, hdacrn_levels(512 * 512 + 1), 3u);
	KUNIT_EXPECT_EQ(test, hdacrn_levels(512UL * 512 * 512 + 1), 3u);
}

/* Every size class round-trips, up to a 3-level table past 1 GiB. */
static void acrn_tables_round_trip(struct kunit *test)
{
	static const unsigned int sizes[] = {
		1, 2, 511, 512, 513, 1024, 4097, 512 * 512, 512 * 512 + 1,
	};
	struct table_fixture f;
	unsigned int s, i, bad;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		KUNIT_ASSERT_EQ(test, table_setup(test, &f, sizes[s]), 0);
		KUNIT_ASSERT_EQ(test, hdacrn_table_read(&f.link, f.ref, f.nr,
							f.out), 0);
		for (bad = 0, i = 0; i < f.nr; i++)
			bad += f.out[i] != f.in[i];
		KUNIT_EXPECT_EQ_MSG(test, bad, 0u, "%u pages", f.nr);
		table_teardown(&f);
	}
}

/* Anything a UOS can get wrong in its tables is refused, never mapped. */
static void acrn_tables_refuse_lies(struct kunit *test)
{
	struct table_fixture f;
	u64 leaf, root;

	/* One level: the root is the leaf. */
	KUNIT_ASSERT_EQ(test, table_setup(test, &f, 100), 0);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, OUTSIDE, f.nr,
						f.out), -EINVAL);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, f.ref + 8, f.nr,
						f.out), -EINVAL);
	table_poke(f.ref, 99, OUTSIDE + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, f.ref, f.nr,
						f.out), -EINVAL);
	table_poke(f.ref, 99, page_to_phys(f.pool[0]) + 64);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, f.ref, f.nr,
						f.out), -EINVAL);
	/* Entries past the count are never read, whatever they hold. */
	table_poke(f.ref, 99, page_to_phys(f.pool[0]));
	table_poke(f.ref, 100, OUTSIDE);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, f.ref, f.nr,
						f.out), 0);
	table_teardown(&f);

	/* Two levels: a bad leaf address, then a leaf that is the root. */
	KUNIT_ASSERT_EQ(test, table_setup(test, &f, 1000), 0);
	root = f.ref;
	leaf = table_peek(root, 1);
	table_poke(root, 1, OUTSIDE);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, root, f.nr, f.out),
			-EINVAL);
	table_poke(root, 1, leaf + 1);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, root, f.nr, f.out),
			-EINVAL);
	/*
	 * A table naming itself is only more of the UOS's own memory: the
	 * walk still reads exactly as many entries as the count needs.
	 */
	table_poke(root, 1, root);
	KUNIT_EXPECT_EQ(test, hdacrn_table_read(&f.link, root, f.nr, f.out),
			0);
	KUNIT_EXPECT_PTR_EQ(test, f.out[512],
			    pfn_to_page(PHYS_PFN(table_peek(root, 0))));
	table_poke(root, 1, leaf);
	table_teardown(&f);
}

static struct kunit_case acrn_table_cases[] = {
	KUNIT_CASE(acrn_levels_follow_the_count),
	KUNIT_CASE(acrn_tables_round_trip),
	KUNIT_CASE(acrn_tables_refuse_lies),
	{}
};

static struct kunit_suite acrn_table_suite = {
	.name = "hyper_dmabuf_acrn_table",
	.test_cases = acrn_table_cases,
};

kunit_test_suite(acrn_table_suite);
