"""Tree-path globs: ``root/workers/*`` (one segment), ``root/**`` (any depth),
``**/tracker`` (a node named tracker anywhere), ``root/worker-*`` (a pattern
inside a segment). Only ``*`` is special: every other character, ``?`` and
``[`` included, matches itself, as child ids may hold any character but
``/``."""

from __future__ import annotations

import functools
import re

from ._errors import InvalidPlanError

__all__ = ["check_glob", "compile_glob", "matches"]

_SEGMENT = re.compile(r"[^/]+")


def check_glob(pattern: object, where: str = "path") -> str:
    """Return ``pattern`` if it is a valid path glob, else raise."""
    if not isinstance(pattern, str) or not pattern:
        raise InvalidPlanError(f"{where}={pattern!r} is not valid; expected a tree path or glob")
    for segment in pattern.split("/"):
        if not segment or not _SEGMENT.fullmatch(segment):
            raise InvalidPlanError(
                f"{where}={pattern!r} is not valid: an empty segment; expected segments "
                "separated by single '/', each a child id, '*', '**' or an id with '*' in it "
                "(e.g. 'root/workers/*' or '**/tracker')"
            )
    return pattern


@functools.lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regex for a (checked) glob: ``*`` and ``x*`` stay inside a segment,
    ``**`` spans any number of segments (none included)."""
    segments = pattern.split("/")
    regex = ""
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            if not last:
                regex += "(?:[^/]+/)*"
            elif i == 0:
                regex += "[^/]+(?:/[^/]+)*"
            else:
                regex = regex[:-1] + "(?:/[^/]+)*"
        else:
            regex += "".join("[^/]*" if ch == "*" else re.escape(ch) for ch in segment)
            regex += "" if last else "/"
    return re.compile(regex)


def matches(pattern: str, path: str) -> bool:
    """Whether the tree path ``path`` matches the glob ``pattern``."""
    return compile_glob(pattern).fullmatch(path) is not None
