"""Helpers for the tests that keep the documentation from rotting (not a test module).

Two kinds of example:

* the fenced blocks of a page (README.md, docs/*.md). A ```python block runs
  in-process as a fresh ``__main__`` program, with a fresh temporary directory
  as its working directory, and prints exactly the ```text block that follows
  it (nothing, if none does). A fragment is fenced ```python no-run and is not
  run. Any other info string must be one of ``OTHER_INFOS``: an unknown one
  (```py, ```python norun) is a mistake that would leave an example unchecked,
  so the page is reported with the fence's file and line.
* the programs in docs/examples/: imported under their own names, or run as
  subprocesses that tell their story.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES_DIR = DOCS / "examples"

# -- the fenced blocks of a page -------------------------------------------------

RUN = "python"
NO_RUN = "python no-run"
OUTPUT = "text"
#: Info strings of fences that are shown, never run (add a language here to use it).
OTHER_INFOS = frozenset({"", OUTPUT, "sh", "bash", "console", "toml", "yaml", "json", "ini"})

_OPEN = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")
_INDENTED = re.compile(r"^\s+(`{3,}|~{3,})")


def pages() -> list[Path]:
    """README.md and every docs/*.md, in a stable order."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def page_name(page: Path) -> str:
    """``README.md`` or ``docs/agents.md``: the page's path from the repository root."""
    return page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else str(page)


class Fence(NamedTuple):
    """A fenced block of a page."""

    line: int  # the line of the opening fence (1-based)
    info: str  # the info string after the backticks, stripped
    body: str


class Block(NamedTuple):
    """A ```python block of a page (runnable or ``no-run``)."""

    page: Path
    line: int  # the line of its opening fence
    code: str
    output: str | None  # the ```text block that follows it; None if none does
    runnable: bool

    @property
    def id(self) -> str:
        """``agents.md:L120``: the page's file name and the fence's line."""
        return f"{self.page.name}:L{self.line}"


class Page(NamedTuple):
    """A page's fences, its python blocks, and what is wrong with its fences."""

    fences: list[Fence]
    blocks: list[Block]
    problems: list[str]  # each ``<page>:<line>: <what is wrong>``


def parse_page(page: Path) -> Page:
    """Read ``page``'s fences (```-fences at column 0, as CommonMark closes them)
    and its python blocks, each with the ```text block that follows it if the next
    non-blank line opens one."""
    lines = page.read_text(encoding="utf-8").splitlines()
    where = page_name(page)
    fences: list[Fence] = []
    problems: list[str] = []
    # the index in ``lines`` of each fence's closing line
    closes: list[int] = []
    i = 0
    while i < len(lines):
        text = lines[i]
        opening = _OPEN.match(text)
        if opening is None:
            if text.startswith("~~~") or _INDENTED.match(text):
                problems.append(
                    f"{where}:{i + 1}: fence {text.strip()!r} is not a ```-fence at column 0;"
                    " the docs test sees only those, so its block would go unchecked"
                )
            i += 1
            continue
        ticks = opening["fence"]
        info = opening["info"].strip()
        end = i + 1
        while end < len(lines) and not (
            lines[end].startswith(ticks) and lines[end].strip("`").strip() == ""
        ):
            end += 1
        if end == len(lines):
            problems.append(f"{where}:{i + 1}: fence {text!r} is never closed")
        fences.append(Fence(i + 1, info, "".join(f"{x}\n" for x in lines[i + 1 : end])))
        closes.append(end)
        if info not in OTHER_INFOS | {RUN, NO_RUN}:
            problems.append(
                f"{where}:{i + 1}: unknown fence info string {info!r}: a python example"
                f" is ```{RUN} (run, its output in the ```{OUTPUT} block after it) or"
                f" ```{NO_RUN} (a fragment); other fences: "
                + ", ".join(f"```{x}" for x in sorted(OTHER_INFOS))
            )
        i = end + 1

    blocks: list[Block] = []
    for n, fence in enumerate(fences):
        if fence.info not in (RUN, NO_RUN):
            continue
        output = None
        following = fences[n + 1] if n + 1 < len(fences) else None
        between = lines[closes[n] + 1 : following.line - 1] if following else []
        if following and following.info == OUTPUT and all(not x.strip() for x in between):
            output = following.body
        blocks.append(Block(page, fence.line, fence.body, output, fence.info == RUN))
    return Page(fences, blocks, problems)


def run_block(block: Block) -> None:
    """Run the block as a fresh ``__main__`` program; tracebacks point into its page.

    ``dont_inherit``: the block must not run under the ``__future__`` imports of
    the module that calls this. The caller sets the working directory.
    """
    source = "\n" * block.line + block.code  # its first code line is the fence's next
    compiled = compile(source, str(block.page), "exec", dont_inherit=True)
    exec(compiled, {"__name__": "__main__"})


# -- the programs in docs/examples/ ----------------------------------------------


def load_example(name: str) -> ModuleType:
    """Import docs/examples/<name>.py under its own name (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # cattrs resolves the states' annotations through it
    spec.loader.exec_module(module)
    return module


def run_program(name: str, *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run docs/examples/<name>.py in a fresh interpreter, capturing its output."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / f"{name}.py")],
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def assert_in_order(lines: list[str], keys: list[str]) -> None:
    """Every key is one of ``lines``, each after the one before."""
    position = -1
    for key in keys:
        assert key in lines[position + 1 :], f"missing (or out of order): {key!r}"
        position = lines.index(key, position + 1)


def assert_tells_its_story(
    proc: subprocess.CompletedProcess[bytes], key_lines: list[str]
) -> list[str]:
    """The program exited 0, wrote nothing to stderr, printed every key line in
    order and ended on the last one; returns its output lines."""
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    lines = proc.stdout.decode("utf-8").splitlines()
    assert_in_order(lines, key_lines)
    assert lines[-1] == key_lines[-1]
    return lines


def assert_same_bytes(
    first: subprocess.CompletedProcess[bytes], second: subprocess.CompletedProcess[bytes]
) -> None:
    """Two runs both exited 0 and printed identical bytes, with no object addresses."""
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert b" at 0x" not in first.stdout
