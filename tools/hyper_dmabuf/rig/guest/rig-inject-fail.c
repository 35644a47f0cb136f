// SPDX-License-Identifier: GPL-2.0
/*
 * A kselftest that fails on purpose.  The rig's own check packs it into the
 * VM to prove that a failing test fails the run.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */

#include "kselftest_harness.h"

TEST(passes)
{
	EXPECT_EQ(1, 1);
}

TEST(fails_on_purpose)
{
	ASSERT_EQ(1, 2);
}

TEST_HARNESS_MAIN
