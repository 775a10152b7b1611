"""The project's habits, enforced by the default suite (CI runs only ``python -m pytest -n auto``).

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
import json
import os
import pkgutil
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

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


# --- types -------------------------------------------------------------------------------------------


def test_mypy() -> None:
    """``mypy`` reports nothing on lpengine/ (``[tool.mypy]`` in pyproject.toml: every function annotated,
    bodies checked, each ignore naming its error code and still needed)."""
    _run([*_tool("mypy")])


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


# --- packaging -----------------------------------------------------------------------------------------

_NOT_SHIPPED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".benchmarks",
    "_build",
    "generated",
    "out",
)


def test_wheel_installs_and_runs_outside_the_tree(tmp_path: Path) -> None:
    """sdist and wheel build, ``twine check`` passes, and the wheel works in a fresh venv outside the tree.

    Kept in the default suite (about 20 s): the venv installs only the wheel (``--no-deps --no-index``, no
    network) and borrows the dependencies of the running environment by listing its site-packages in a
    ``.pth`` file.  Listing the directories, rather than ``--system-site-packages``, keeps that environment's
    own ``.pth`` hooks out, in particular an editable install of lpengine that would otherwise shadow the
    wheel.  The run happens in an empty directory with PYTHONPATH unset, and checks that lpengine is
    imported from the venv.
    """
    build = [*_tool("build")]
    twine = [*_tool("twine")]
    pytest.importorskip("setuptools", reason="the build backend comes with the test extra")
    # Build from a copy of the tree: the build writes egg-info and build/ next to the sources.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_SHIPPED)
    dist = tmp_path / "dist"
    _run([*build, "--no-isolation", "--outdir", str(dist), str(src)])  # sdist, then the wheel from the sdist
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    assert wheels[0].name == f"lpengine-{lpengine.__version__}-py3-none-any.whl"
    _run([*twine, "check", "--strict", str(wheels[0]), str(sdists[0])])

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    venv_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    outer = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (venv_site / "_outer_dependencies.pth").write_text("\n".join(outer) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheels[0]),
        ]
    )

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = _run(
        [str(python), "-c", "import lpengine; print(lpengine.__file__); print(lpengine.__version__)"], cwd=work, env=env
    )
    file, version = where.split()
    assert Path(file).is_relative_to(venv), f"lpengine imported from {file}, not from the venv"
    assert version == lpengine.__version__

    lpengine_cli = str(venv / "bin" / "lpengine")
    # The main job on the bundled default problem, found by name (no checkout, no problems/ directory).
    solved = json.loads(_run([lpengine_cli, "solve", "default", "--json"], cwd=work, env=env))
    assert solved["status"] == "ok" and solved["exit_code"] == 0
    # 34 regions: confirmed independently by brute force over all 2^16 sign vectors (lpengine crosscheck).
    counted = json.loads(_run([lpengine_cli, "count", "--net", "regions_default", "--json"], cwd=work, env=env))
    assert counted["status"] == "ok"
    assert counted["result"]["regions"] == 34


# --- the README --------------------------------------------------------------------------------------------


def test_readme_tour_runs(tmp_path: Path) -> None:
    """The README's tour runs as written, and its numbers agree with independent checks."""
    import re

    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")  # headless, and no window in CI
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## A short tour\n.*?```python\n(.*?)```", text, re.S)
    assert match, "README.md has no '## A short tour' section with a python block"
    ns: dict[str, Any] = {}
    exec(compile(match.group(1), "README.md (tour)", "exec"), ns)
    from lpengine.regions.brute import brute_force_regions

    res = ns["res"]
    assert res.complete
    # the count against brute force over all 2^16 sign vectors (independent code)
    brute = brute_force_regions(ns["net"], box=(-1, 1))
    assert res.count == brute.count
    assert ns["walk"].certified


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """``.ci/run`` runs the README's second command word for word (the one a newcomer types)."""
    import re

    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2, "README.md opens with two bash commands: install-and-run, install-and-test"
    ci_lines = [ln for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert ci_lines[-1] == blocks[1].strip()
    assert blocks[1].startswith("pip install -e") and "pytest" in blocks[1]
