"""Render the notebooks for the documentation: execute ``notebooks/*.ipynb``, write them with outputs to ``docs/notebooks/``.

The notebooks in ``notebooks/`` are committed with their outputs stripped (the suite executes them and
checks that).  The documentation shows them *with* outputs but never executes anything at build time
(``nb_execution_mode = "off"`` in ``docs/conf.py``), so the rendered copies are committed under
``docs/notebooks/``.  Run this script after changing a notebook::

    python docs/render_notebooks.py            # all notebooks
    python docs/render_notebooks.py landscape_analysis

``tests/test_habits.py`` fails when a rendered copy's cells differ from its source notebook, naming this
command.  Each notebook runs in a fresh temporary directory (as in ``tests/test_notebooks.py``), so files
it writes do not land in the tree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks"
TARGET = ROOT / "docs" / "notebooks"


def render(path: Path, target_dir: Path = TARGET, *, timeout: int = 600) -> Path:
    """Execute one notebook in a temporary directory and write it, with outputs, into ``target_dir``."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}
        ).execute()
    # Execution metadata (timestamps) would make every re-render a diff; keep the outputs only.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    out = target_dir / path.name
    target_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook stems (default: all of notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = [SOURCE / f"{n}.ipynb" for n in args.names] if args.names else sorted(SOURCE.glob("*.ipynb"))
    for path in paths:
        if not path.is_file():
            parser.error(f"no notebook {path}")
        print(f"rendering {path.relative_to(ROOT)} ...", flush=True)
        print(f"  wrote {render(path).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
