"""Imports flow one way: the library never imports the CLI, and two former import circles stay broken."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "lpengine"


def _imports(module: str) -> set[str]:
    """Modules imported anywhere in ``module`` (top level or inside functions), resolved to absolute names."""
    parts = module.split(".")
    path = ROOT.parent.joinpath(*parts)
    f = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    pkg = parts if f.name == "__init__.py" else parts[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = pkg[: len(pkg) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _library_modules() -> list[str]:
    mods = []
    for f in ROOT.rglob("*.py"):
        rel = f.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        if not name.startswith("lpengine.cli") and name != "lpengine.__main__":
            mods.append(name)
    return sorted(mods)


def test_the_library_never_imports_the_cli():
    offenders = {m for m in _library_modules() if any(t.startswith("lpengine.cli") for t in _imports(m))}
    assert offenders == set()


@pytest.mark.parametrize(
    "a, b",
    [
        ("lpengine.bounds.activation_histograms", "lpengine.bounds.hinz_vandegeer2019"),
        ("lpengine.lp.backends", "lpengine.lp.backends.highs"),
    ],
)
def test_former_import_circles_are_one_way(a, b):
    assert not (b in _imports(a) and a in _imports(b))
