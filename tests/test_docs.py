"""The documentation cannot rot: every ```python block of README.md and of every
docs/*.md page (globbed, so a new page is covered without editing this file)
either runs as a fresh program and prints exactly the ```text block that follows
it, or is explicitly marked ```python no-run. A fence with an unknown info string
fails its page, naming the file and line. The parser itself is pinned on small
pages written here (``test_parser_*``).

Page-specific checks live beside this file: test_docs_pages.py (README and
agents.md), test_docs_telemetry.py (the event catalogue against real events).
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from docs_examples import ROOT, Block, page_name, pages, parse_page, run_block

PAGES = pages()
PARSED = {page: parse_page(page) for page in PAGES}
BLOCKS = [block for parsed in PARSED.values() for block in parsed.blocks]


def test_every_page_is_found() -> None:
    """The glob finds the README and the docs pages, and they hold runnable blocks
    (guards the parametrised tests below against running on nothing)."""
    names = [page_name(page) for page in PAGES]
    assert names[0] == "README.md"
    assert {"docs/agents.md", "docs/supervision.md", "docs/telemetry.md"} <= set(names)
    assert all(page.is_file() for page in PAGES)
    assert any(block.runnable for block in BLOCKS)
    assert {block.page for block in BLOCKS if block.runnable} >= {ROOT / "README.md"}


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_fence_is_known(page: Path) -> None:
    """Every fence of the page is closed and has a known info string: a python block
    is ```python (run) or ```python no-run, so none is skipped by a typo."""
    problems = PARSED[page].problems
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_block_prints_its_output(
    block: Block,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The block runs as a program (its own trio.run, in a fresh empty working
    directory) and prints exactly what the page shows after it (nothing, if no
    ```text block follows); a ```python no-run fragment is skipped, visibly."""
    if not block.runnable:
        pytest.skip(f"{page_name(block.page)}:{block.line}: a ```python no-run fragment")
    monkeypatch.chdir(tmp_path)
    failure: str | None = None
    try:
        run_block(block)
    except Exception as exc:  # noqa: BLE001 - reported below as the block's own traceback
        # (pytest's would print the page's prose from its line 1 down to the failing line)
        failure = _trace_from_the_page(exc, block.page)
    if failure is not None:
        pytest.fail(f"{page_name(block.page)}:{block.line}: the block raised\n{failure}", False)
    out = capsys.readouterr().out
    assert out == (block.output or "")
    assert " at 0x" not in out  # an object address would differ between runs


def _trace_from_the_page(exc: Exception, page: Path) -> str:
    """``exc``'s traceback from its first frame in ``page`` on."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(page):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


# -- the parser, on pages written here -------------------------------------------

_GOOD = """\
# A page

```python
print("hi")
```

```text
hi
```

Some prose.

```python no-run
fragment(
```

```sh
echo shown, never run
```

```python
x = 1
```

Prose between a block and a text block: the text block is not its output.

```text
not the output
```
"""


def _write(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_parser_reads_blocks_outputs_and_fragments(tmp_path: Path) -> None:
    """Each python block is found with its fence's line, its code, whether it runs,
    and the ```text block right after it (only if nothing but blank lines is between)."""
    page = _write(tmp_path, _GOOD)
    parsed = parse_page(page)
    assert parsed.problems == []
    infos = [fence.info for fence in parsed.fences]
    assert infos == ["python", "text", "python no-run", "sh", "python", "text"]
    assert parsed.blocks == [
        Block(page, 3, 'print("hi")\n', "hi\n", True),
        Block(page, 13, "fragment(\n", None, False),
        Block(page, 21, "x = 1\n", None, True),
    ]
    assert parsed.blocks[0].id == "page.md:L3"


def test_run_block_reports_the_page_line(tmp_path: Path) -> None:
    """A failing block's traceback names the page and the line of the failing code."""
    page = _write(tmp_path, "text\n\n```python\nx = 1\nraise ValueError(x)\n```\n")
    (block,) = parse_page(page).blocks
    with pytest.raises(ValueError, match=r"^1$") as info:
        run_block(block)
    frame = info.traceback[-1]
    assert (frame.path, frame.lineno + 1) == (page, 5)


@pytest.mark.parametrize(
    ("fence", "problem"),
    [
        ("```python norun", "page.md:3: unknown fence info string 'python norun'"),
        ("```py", "page.md:3: unknown fence info string 'py'"),
        ("```Python", "page.md:3: unknown fence info string 'Python'"),
        ("```python  no-run", "page.md:3: unknown fence info string 'python  no-run'"),
    ],
)
def test_parser_reports_an_unknown_info_string(tmp_path: Path, fence: str, problem: str) -> None:
    """A fence whose info string is not known is reported with its file and line."""
    page = _write(tmp_path, f"# A page\n\n{fence}\nprint(1)\n```\n")
    (reported,) = parse_page(page).problems
    assert reported.startswith(f"{tmp_path}/{problem}: a python example is ```python")


def test_parser_reports_fences_it_cannot_see(tmp_path: Path) -> None:
    """An unclosed fence, an indented fence and a ~~~ fence are each reported with their line."""
    page = _write(tmp_path, "- item\n\n  ```python\n  x\n  ```\n~~~python\n~~~\n```python\nx = 1\n")
    assert [p.split(": ", 1)[0] for p in parse_page(page).problems] == [
        f"{page}:3",
        f"{page}:5",
        f"{page}:6",
        f"{page}:7",
        f"{page}:8",
    ]
    assert parse_page(page).problems[-1] == f"{page}:8: fence '```python' is never closed"
