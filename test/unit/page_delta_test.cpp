/*
 * page_delta_test.cpp -- GoogleTest for vx/core/page_delta.hpp: replaying a
 * delta onto the old image (as generic_redo does: fragments, then the new
 * hole zeroed) gives the new image, over random pages with random edits and
 * moving holes; fragments are as small as the format allows for isolated
 * changes and merged across short equal gaps; bytes of the old hole are
 * rewritten even when they happen to match.
 */
#include "vx/core/page_delta.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace vx::core {
namespace {

constexpr uint32_t kPage = 8192;

/* A page image with its hole bounds stored in the buffer (the test's own header: lower, upper as uint32 at 0, 4). */
struct TestPage
{
	std::vector<char> bytes = std::vector<char>(kPage, 0);
	uint32_t lower = 8, upper = kPage;

	PageImage image() const { return PageImage{bytes.data(), lower, upper}; }

	void
	zero_hole()
	{
		std::fill(bytes.begin() + lower, bytes.begin() + upper, 0);
	}
};

/* old after replaying the delta to target, as generic_redo leaves it. */
std::vector<char>
replay(const TestPage &old, const TestPage &target, size_t *bytes_out = nullptr)
{
	std::vector<char> delta(max_delta_bytes(kPage));
	size_t bytes = delta_between(old.image(), target.image(), kPage, delta.data());
	EXPECT_LE(bytes, delta.size());
	std::vector<char> page = old.bytes;
	apply_delta(page.data(), delta.data(), bytes);
	std::fill(page.begin() + target.lower, page.begin() + target.upper, 0);
	if (bytes_out != nullptr)
		*bytes_out = bytes;
	return page;
}

TEST(PageDelta, ReplayGivesTheNewImageUnderRandomEdits)
{
	std::mt19937_64 rng(7);
	for (int trial = 0; trial < 2000; trial++) {
		TestPage old;
		old.lower = 8 + (uint32_t) (rng() % 4000);
		old.upper = old.lower + (uint32_t) (rng() % (kPage - old.lower + 1));
		for (uint32_t i = 0; i < kPage; i++)
			old.bytes[i] = (char) (rng() % 4); /* small alphabet: many accidental matches */
		if (trial % 3 == 0)
			old.zero_hole();

		TestPage target = old;
		/* move the hole's bounds now and then; old's hole bytes are garbage the delta must not trust */
		if (trial % 2 == 1) {
			target.lower = 8 + (uint32_t) (rng() % 4000);
			target.upper = target.lower + (uint32_t) (rng() % (kPage - target.lower + 1));
		}
		int edits = (int) (rng() % 40);
		for (int e = 0; e < edits; e++) {
			uint32_t at = (uint32_t) (rng() % kPage), len = 1 + (uint32_t) (rng() % 64);
			for (uint32_t k = at; k < std::min(kPage, at + len); k++)
				target.bytes[k] = (char) (rng() % 4);
		}
		target.zero_hole();

		std::vector<char> got = replay(old, target);
		ASSERT_TRUE(got == target.bytes) << "trial " << trial;
	}
}

TEST(PageDelta, NoChangeWritesNothing)
{
	TestPage p;
	p.lower = 1000;
	p.upper = 5000;
	for (uint32_t i = 0; i < kPage; i++)
		p.bytes[i] = (char) (i * 7);
	p.zero_hole();
	size_t bytes = 99;
	replay(p, p, &bytes);
	EXPECT_EQ(bytes, 0u);
}

TEST(PageDelta, IsolatedChangesAreSmallFragmentsAndNearOnesMerge)
{
	TestPage old;
	old.lower = 6000;
	TestPage target = old;
	target.bytes[100] = 1; /* alone: header + 1 byte */
	target.bytes[3000] = 1; /* two changes 3 equal bytes apart: one fragment of 5 bytes */
	target.bytes[3004] = 1;
	target.bytes[5000] = 1; /* 40 equal bytes apart: two fragments */
	target.bytes[5041] = 1;
	size_t bytes = 0;
	EXPECT_TRUE(replay(old, target, &bytes) == target.bytes);
	EXPECT_EQ(bytes, (kDeltaFragmentHeader + 1) + (kDeltaFragmentHeader + 5) + 2 * (kDeltaFragmentHeader + 1));
}

TEST(PageDelta, OldHoleBytesAreRewrittenEvenWhenEqual)
{
	TestPage old;
	old.lower = 100;
	old.upper = 200;
	TestPage target = old;
	target.lower = 150; /* [100, 150) was old's hole: zero in both, still written */
	size_t bytes = 0;
	EXPECT_TRUE(replay(old, target, &bytes) == target.bytes);
	EXPECT_EQ(bytes, kDeltaFragmentHeader + 50u);

	/* and at the upper end: [150, 200) of a target whose hole shrank from above */
	TestPage target2 = old;
	target2.upper = 150;
	target2.lower = 100;
	EXPECT_TRUE(replay(old, target2, &bytes) == target2.bytes);
	EXPECT_EQ(bytes, kDeltaFragmentHeader + 50u);
}

} // namespace
} // namespace vx::core
