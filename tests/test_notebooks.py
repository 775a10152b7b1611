"""The notebooks in notebooks/: they run, they show their figures, and their committed outputs are current.

The notebooks are committed WITH outputs (GitHub shows them), made by ``python notebooks/execute.py``.  Here
each one is executed again, headless, and must

* run top to bottom (the notebooks ``assert`` their claims, so a wrong claim fails here);
* produce outputs with the same structure as the committed ones: per code cell, the same sequence of output
  kinds and MIME types, so the same number of figures in the same cells.  Bytes are not compared: printed
  timings and float round-off in text, and PNG bytes across matplotlib/font versions, change without the
  notebook being stale.  The structure is what goes stale when a cell is edited without re-running, and what
  broke when figures silently stopped displaying;
* show at least one figure, and contain no error output.

A cheaper check runs without executing: every code cell's source hash matches the one recorded when its
outputs were made (an edited cell whose outputs were not regenerated fails at once, naming the cell).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REGENERATE = "run `python notebooks/execute.py` and commit the notebooks"


def _tool():
    spec = importlib.util.spec_from_file_location("notebooks_execute", ROOT / "notebooks" / "execute.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_match_their_sources(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    tool = _tool()
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    for i, cell in enumerate(code, start=1):
        recorded = cell.metadata.get("lpengine", {}).get("source_sha256")
        assert recorded == tool.source_sha(cell), (
            f"{path.name}: code cell {i} was edited after its outputs were made (or never executed); {REGENERATE}"
        )
        assert cell.get("outputs") is not None
        assert not any(o.output_type == "error" for o in cell.outputs), f"{path.name}: code cell {i} holds an error"
    assert tool.n_images(nb) >= 1, f"{path.name} shows no figure"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_outputs_are_current(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    tool = _tool()
    committed = nbformat.read(path, as_version=4)
    fresh = tool.execute(path)  # raises CellExecutionError on the first failing cell
    got, want = tool.output_structure(fresh), tool.output_structure(committed)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        assert g == w, f"{path.name}: code cell {i} now outputs {g}, the committed notebook {w}; {REGENERATE}"
    assert tool.n_images(fresh) == tool.n_images(committed) >= 1
