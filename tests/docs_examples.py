"""Helpers for the tests that keep the documentation from rotting (not a test module).

Two kinds of example:

* the ```python blocks of a page (README.md, docs/*.md): each runs in-process as
  a fresh ``__main__`` program and prints exactly the ```text block that follows
  it. A block meant as a fragment is fenced ```python no-run and is not run.
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

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES_DIR = DOCS / "examples"

# -- the ```python blocks of a page ----------------------------------------------

_FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n", re.MULTILINE)
_EXAMPLE = re.compile(
    r"^```python\n(?P<code>.*?)^```\n(?:\s*^```text\n(?P<out>.*?)^```$)?",
    re.DOTALL | re.MULTILINE,
)


class Example(NamedTuple):
    """A runnable ```python block of a page."""

    line: int  # the line of the page its first code line stands on
    code: str
    output: str | None  # the ```text block that follows it; None if none does


def python_fences(doc: Path) -> list[str]:
    """The info string after ```python of every python fence (``""`` or ``" no-run"``)."""
    return [m["info"] for m in _FENCE.finditer(doc.read_text(encoding="utf-8"))]


def doc_examples(doc: Path) -> list[Example]:
    """Each runnable example of ``doc``, in page order (``no-run`` fences are left out)."""
    text = doc.read_text(encoding="utf-8")
    return [
        Example(text.count("\n", 0, m.start("code")) + 1, m["code"], m["out"])
        for m in _EXAMPLE.finditer(text)
    ]


def parametrize_examples(examples: list[Example]) -> pytest.MarkDecorator:
    """Parametrize a test's ``example`` argument over ``examples``, with ids ``line<N>``."""
    return pytest.mark.parametrize(
        "example", examples, ids=[f"line{example.line}" for example in examples]
    )


def run_example(doc: Path, example: Example) -> None:
    """Run the example as a fresh ``__main__`` program; tracebacks point into ``doc``.

    ``dont_inherit``: the example must not run under the ``__future__`` imports of
    the module that calls this.
    """
    source = "\n" * (example.line - 1) + example.code
    compiled = compile(source, str(doc), "exec", dont_inherit=True)
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
