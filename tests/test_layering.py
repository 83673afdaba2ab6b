"""The layering of the packages, read from the source of the ``jido_trio`` under
test (the checkout, or the installed wheel in CI's installed-package run).

* Supervision stands alone: ``_supervisor.py`` and the modules it stands on
  (``_errors``, ``_intercept``, ``_random``, ``_telemetry``, ``_util``,
  ``_validate``, and whatever of ``jido_trio`` they import in turn) import no
  agent module. Only imports that run count: one under ``if TYPE_CHECKING:`` is
  for annotations only and is allowed; one inside a function counts (it runs
  when the function does). Importing the package itself counts as importing
  what its ``__init__.py`` imports.
* ``jido_trio`` never imports ``chaos``, not even under ``TYPE_CHECKING``; and a
  fresh interpreter that imports ``jido_trio`` has no ``chaos`` module loaded.
* In CI's installed-package run (``JIDO_TRIO_EXPECT_INSTALLED=1``), the packages
  under test are the ones installed in the clean venv, with every file the
  checkout has.

Each failure names the offending ``file:line``. The import reader is pinned on
small packages written here (``test_reader_*``).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

import chaos
import jido_trio

ROOT = Path(__file__).resolve().parents[1]
PKG = Path(jido_trio.__file__).resolve().parent

#: The supervision modules (each that exists is a root of the check).
SUPERVISION = [
    "_supervisor",
    "_errors",
    "_intercept",
    "_random",
    "_telemetry",
    "_util",
    "_validate",
]
#: The agent modules supervision must not import.
AGENT = ["_agent", "_server", "_action", "_directive", "_signal", "_store", "_bus", "_convert"]


class Import(NamedTuple):
    """One module an import statement names."""

    file: Path
    line: int
    target: str  # the absolute dotted name of the module imported
    runtime: bool  # False under ``if TYPE_CHECKING:``

    def where(self) -> str:
        return f"{_shown(self.file)}:{self.line}"


def _shown(file: Path) -> str:
    """The file's path from the repository root, else from the package's parent."""
    for base in (ROOT, PKG.parent):
        if file.is_relative_to(base):
            return file.relative_to(base).as_posix()
    return str(file)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(nodes: list[ast.stmt], runtime: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement under ``nodes`` (functions and classes included), with
    whether it runs: False inside the body of an ``if TYPE_CHECKING:``."""
    for node in nodes:
        yield node, runtime
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.body, False)
            yield from _walk(node.orelse, runtime)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, [])
            for child in children:
                if isinstance(child, ast.stmt):
                    yield from _walk([child], runtime)
                else:  # an except handler or a match case: its statements
                    yield from _walk(child.body, runtime)


def module_name(file: Path, root: Path) -> str:
    """``jido_trio._agent`` for root/jido_trio/_agent.py; ``jido_trio`` for its __init__.py."""
    parts = list(file.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(file: Path, root: Path) -> list[Import]:
    """The modules ``file`` (a module of a package under ``root``) imports, in order."""
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    name = module_name(file, root)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node, runtime in _walk(tree.body, True):
        if isinstance(node, ast.Import):
            found += [Import(file, node.lineno, alias.name, runtime) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                # ``from pkg import sub`` imports the submodule when there is one
                sub = root.joinpath(*f"{base}.{alias.name}".split("."))
                is_module = sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file()
                target = f"{base}.{alias.name}" if is_module else base
                found.append(Import(file, node.lineno, target, runtime))
    return found


def source_file(module: str, root: Path) -> Path | None:
    """The file of ``module`` under ``root``, if it is there."""
    path = root.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def forbidden_imports(roots: list[str], forbidden: set[str], root: Path) -> list[str]:
    """Each runtime import of a ``forbidden`` module by ``roots`` or any module of
    ``root`` they import at run time, as ``file:line: a imports b (via ...)``."""
    via: dict[str, list[str]] = {module: [] for module in roots}
    queue = deque(roots)
    problems: list[str] = []
    while queue:
        module = queue.popleft()
        file = source_file(module, root)
        if file is None:
            continue
        for imp in imports(file, root):
            if not imp.runtime:
                continue
            chain = " -> ".join([*via[module], module])
            if imp.target in forbidden:
                problems.append(f"{imp.where()}: {module} imports {imp.target} (chain: {chain})")
            elif imp.target not in via and source_file(imp.target, root) is not None:
                via[imp.target] = [*via[module], module]
                queue.append(imp.target)
    return problems


# -- supervision stands alone -----------------------------------------------------


def test_supervision_imports_no_agent_module() -> None:
    """_supervisor.py and the modules it stands on import, at run time, no agent module."""
    roots = [f"jido_trio.{name}" for name in SUPERVISION if (PKG / f"{name}.py").is_file()]
    assert roots[0] == "jido_trio._supervisor"
    supervisor = imports(PKG / "_supervisor.py", PKG.parent)
    assert "jido_trio._errors" in {imp.target for imp in supervisor if imp.runtime}
    problems = forbidden_imports(roots, {f"jido_trio.{name}" for name in AGENT}, PKG.parent)
    if problems:
        pytest.fail("supervision imports agent modules:\n" + "\n".join(problems), False)


# -- jido_trio never imports chaos --------------------------------------------------


def test_no_module_of_jido_trio_imports_chaos() -> None:
    """No module of jido_trio imports chaos, at run time or under TYPE_CHECKING."""
    files = sorted(PKG.rglob("*.py"))
    assert {PKG / "__init__.py", PKG / "_supervisor.py"} <= set(files)
    found = [imp for file in files for imp in imports(file, PKG.parent)]
    assert "jido_trio._supervisor" in {imp.target for imp in found}
    problems = [
        f"{imp.where()}: imports {imp.target}"
        for imp in found
        if imp.target == "chaos" or imp.target.startswith("chaos.")
    ]
    if problems:
        pytest.fail("jido_trio imports chaos:\n" + "\n".join(problems), False)


def test_importing_jido_trio_loads_no_chaos_module(tmp_path: Path) -> None:
    """A fresh interpreter that imports jido_trio (the same one as here) has no
    chaos module loaded."""
    program = (
        "import jido_trio, sys\n"
        "loaded = sorted(m for m in sys.modules if m == 'chaos' or m.startswith('chaos.'))\n"
        "assert not loaded, f'importing jido_trio loaded {loaded}'\n"
        "print(jido_trio.__file__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{jido_trio.__file__}\n"


# -- the import reader, on packages written here -------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_reader_resolves_imports_and_tells_type_checking_apart(tmp_path: Path) -> None:
    """Relative and absolute imports resolve to module names; ``from . import sub``
    names the submodule; imports under TYPE_CHECKING are not runtime, imports in a
    function (and in the else of TYPE_CHECKING) are."""
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "",
            "sub/__init__.py": "",
            "sub/b.py": (
                "from typing import TYPE_CHECKING\n"
                "import typing\n"
                "from .. import a, name\n"
                "from ..a import thing\n"
                "from . import b\n"
                "if TYPE_CHECKING:\n"
                "    from pkg import a\n"
                "else:\n"
                "    import chaos.x\n"
                "if typing.TYPE_CHECKING:\n"
                "    import chaos\n"
                "def f():\n"
                "    try:\n"
                "        from .b import g\n"
                "    except ImportError:\n"
                "        import os.path\n"
            ),
        },
    )
    found = imports(root / "pkg" / "sub" / "b.py", root)
    assert [(imp.line, imp.target, imp.runtime) for imp in found] == [
        (1, "typing", True),
        (2, "typing", True),
        (3, "pkg.a", True),
        (3, "pkg", True),
        (4, "pkg.a", True),
        (5, "pkg.sub.b", True),
        (7, "pkg.a", False),
        (9, "chaos.x", True),
        (11, "chaos", False),
        (14, "pkg.sub.b", True),
        (16, "os.path", True),
    ]


def test_reader_follows_runtime_imports_and_names_the_chain(tmp_path: Path) -> None:
    """A forbidden import two modules away is reported with its file:line and the
    chain that reaches it; one under TYPE_CHECKING is not."""
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .bad import x\n",
            "top.py": "from typing import TYPE_CHECKING\nfrom . import mid\nif TYPE_CHECKING:\n"
            "    from .bad import y\n",
            "mid.py": "import os\n\nfrom pkg import bad\n",
            "bad.py": "",
        },
    )
    assert forbidden_imports(["pkg.top"], {"pkg.bad"}, root) == [
        f"{root / 'pkg' / 'mid.py'}:3: pkg.mid imports pkg.bad (chain: pkg.top -> pkg.mid)"
    ]
    assert forbidden_imports(["pkg.a_module_not_there"], {"pkg.bad"}, root) == []


# -- CI's installed-package run -------------------------------------------------------


def _files(package_dir: Path) -> list[str]:
    return sorted(
        path.relative_to(package_dir).as_posix()
        for path in package_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.mark.skipif(
    os.environ.get("JIDO_TRIO_EXPECT_INSTALLED") != "1",
    reason="JIDO_TRIO_EXPECT_INSTALLED=1 is set only in CI's installed-wheel run (.ci/run)",
)
def test_the_suite_runs_against_the_installed_packages() -> None:
    """jido_trio and chaos are imported from the venv's site-packages, not the
    checkout, and each holds every file the checkout's has (nothing left out of
    the wheel)."""
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert sys.prefix != sys.base_prefix, f"{sys.prefix} is not a virtual environment"
    for module in (jido_trio, chaos):
        assert module.__file__ is not None
        installed = Path(module.__file__).resolve().parent
        assert installed.parent == site_packages, f"{module.__name__} from {installed}"
        shipped, checkout = _files(installed), _files(ROOT / module.__name__)
        lacks, extra = sorted(set(checkout) - set(shipped)), sorted(set(shipped) - set(checkout))
        assert shipped == checkout, f"the wheel's {module.__name__} lacks {lacks}, adds {extra}"
