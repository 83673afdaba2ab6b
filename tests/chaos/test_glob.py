"""Tree-path globs (``chaos/_glob.py``): what each pattern matches, and which
patterns are refused before a run."""

from __future__ import annotations

import re

import pytest

from chaos import InvalidPlanError, Kill
from chaos._glob import check_glob, matches

PATHS = (
    "root",
    "root/a",
    "root/b",
    "root/workers",
    "root/workers/w-1",
    "root/workers/w-2",
    "root/workers/w-1/tracker",
    "root/tracker",
    "tracker",
    "other/tracker",
)


def matching(pattern: str) -> list[str]:
    return [path for path in PATHS if matches(pattern, path)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("root/a", ["root/a"]),
        ("root", ["root"]),
        ("root/*", ["root/a", "root/b", "root/workers", "root/tracker"]),
        ("*", ["root", "tracker"]),
        ("root/*/w-1", ["root/workers/w-1"]),
        ("*/tracker", ["root/tracker", "other/tracker"]),
    ],
)
def test_a_star_is_exactly_one_segment(pattern: str, expected: list[str]) -> None:
    """'*' stands for one whole segment: never none, never two."""
    assert matching(pattern) == expected


def test_a_leading_double_star_matches_the_name_at_any_depth() -> None:
    """'**/tracker' matches a node named tracker at the top and at every depth."""
    assert matching("**/tracker") == [
        "root/workers/w-1/tracker",
        "root/tracker",
        "tracker",
        "other/tracker",
    ]


def test_a_trailing_double_star_matches_the_node_and_everything_under_it() -> None:
    """'root/workers/**' matches root/workers itself and all its descendants, nothing beside it."""
    assert matching("root/workers/**") == [
        "root/workers",
        "root/workers/w-1",
        "root/workers/w-2",
        "root/workers/w-1/tracker",
    ]


def test_a_middle_double_star_spans_zero_or_more_segments() -> None:
    """'root/**/tracker' matches root/tracker (zero segments between) and deeper ones."""
    assert matching("root/**/tracker") == ["root/workers/w-1/tracker", "root/tracker"]


def test_a_lone_double_star_matches_every_path() -> None:
    """'**' matches every path, one segment long or many."""
    assert matching("**") == list(PATHS)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("root/workers/w-*", ["root/workers/w-1", "root/workers/w-2"]),
        ("root/*ers", ["root/workers"]),
        ("root/t*r", ["root/tracker"]),
        ("root/workers/*-1", ["root/workers/w-1"]),
        ("root/workers*", ["root/workers"]),
    ],
)
def test_a_star_inside_a_segment_stays_inside_it(pattern: str, expected: list[str]) -> None:
    """A partial segment such as 'w-*' matches within one segment, never across a '/'."""
    assert matching(pattern) == expected


def test_a_star_inside_a_segment_may_match_nothing() -> None:
    """'w-*' matches 'w-' too: the star stands for any run of characters, the empty one included."""
    assert matches("root/w-*", "root/w-")
    assert not matches("root/w-*", "root/w")


def test_other_characters_are_literal() -> None:
    """'.', '?', '[' and ']' in a glob match themselves only (they are not regex or fnmatch)."""
    assert matches("root/a.b", "root/a.b")
    assert not matches("root/a.b", "root/axb")
    assert matches("root/w?", "root/w?")
    assert not matches("root/w?", "root/w1")
    assert matches("root/w[1]", "root/w[1]")
    assert not matches("root/w[1]", "root/w1")


@pytest.mark.parametrize("pattern", ["root//a", "/root", "root/"])
def test_a_glob_with_an_empty_segment_is_refused(pattern: str) -> None:
    """An empty segment (a leading, trailing or doubled '/') is refused, naming the glob."""
    expected = f"Kill.target={pattern!r} is not valid: an empty segment; expected segments"
    with pytest.raises(InvalidPlanError, match=f"^{re.escape(expected)}"):
        check_glob(pattern, "Kill.target")


@pytest.mark.parametrize("child_id", ["a b", "a\\b", "w?", "x:y@z"])
def test_a_glob_can_name_any_child_id(child_id: str) -> None:
    """Child ids may hold any character but '/': a glob can name each of them literally."""
    assert check_glob(f"root/{child_id}") == f"root/{child_id}"
    assert matches(f"root/{child_id}", f"root/{child_id}")
    assert matches("root/*", f"root/{child_id}")


@pytest.mark.parametrize("pattern", ["", None, 5, ["root/a"]])
def test_a_glob_that_is_not_a_non_empty_string_is_refused(pattern: object) -> None:
    """A glob must be a non-empty string."""
    with pytest.raises(
        InvalidPlanError, match=r"^target=.* is not valid; expected a tree path or glob$"
    ):
        check_glob(pattern, "target")


def test_a_fault_refuses_a_bad_target_glob_when_built() -> None:
    """A fault checks its target glob at construction, naming the class and field."""
    with pytest.raises(
        InvalidPlanError, match=r"^Kill\.target='root//a' is not valid: an empty segment"
    ):
        Kill(target="root//a", at=1.0)
