"""Text made to fit: cut at the end for a line or a cell, in the middle for an output, with a marker that
says so; and the token estimate prompts are budgeted with."""

from __future__ import annotations

import pytest

from sandbox.text import ELLIPSIS, clip, estimate_tokens, first_line

pytestmark = pytest.mark.kernel


def test_text_that_fits_is_returned_whole() -> None:
    assert clip("twelve chars", 12) == "twelve chars"
    assert clip("twelve chars", 12, cut="middle", marker=lambda cut: "never") == "twelve chars"


def test_an_end_cut_keeps_the_width_with_its_marker_inside_it() -> None:
    assert clip("the quick brown fox", 12) == "the quick..."
    assert clip("the quick brown fox", 10, marker=ELLIPSIS) == "the quick…"
    assert len(clip("x" * 500, 80, marker=ELLIPSIS)) == 80


def test_a_notice_is_told_what_was_cut_and_added_beside_what_is_kept() -> None:
    text = "".join(str(n % 10) for n in range(100))
    clipped = clip(text, 30, cut="middle", marker=lambda cut: f"[{len(cut)} cut]")
    assert clipped == text[:20] + "[70 cut]" + text[-10:]
    assert clip(text, 30, marker=lambda cut: f" +{len(cut)}") == text[:30] + " +70"


def test_first_line_skips_blank_lines_and_cuts_to_the_width() -> None:
    assert first_line("\n\n  Find the issue.\nThen close it.", 80) == "Find the issue."
    assert first_line("a" * 100, 20) == "a" * 19 + ELLIPSIS
    assert first_line(None, 20) == first_line("   ", 20) == ""


def test_tokens_are_estimated_as_characters_over_four_rounded_up() -> None:
    assert [estimate_tokens(text) for text in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]
