"""Execute the notebooks in notebooks/ and store them WITH their outputs (so GitHub shows every figure).

    python notebooks/execute.py                 # every notebook, rewritten in place
    python notebooks/execute.py NAME.ipynb ...  # only these
    python notebooks/execute.py --check         # execute, compare with the committed outputs, write nothing

Each notebook runs top to bottom in a fresh ``python3`` kernel from the notebooks/ directory (headless:
figures come from the ordinary inline backend, no magic in the notebooks).  The stored file is normalised so
that a re-run changes only what the computation changed: execution counts renumbered 1, 2, ...; execution
timestamps and kernel metadata dropped; each code cell records the SHA-256 of its source under
``metadata["lpengine"]["source_sha256"]``, which is how ``tests/test_notebooks.py`` tells that a cell was
edited after its outputs were made.

The check (``--check``, and the test) compares the *structure* of the outputs, not their bytes: for every
code cell the streams it writes (stdout, stderr) and its other outputs in order with their kind (display,
result, error) and MIME types, and the number of images.  Bytes would differ with timings in printed text, float round-off across BLAS
builds and matplotlib/font versions in PNGs; the structure is what goes stale when a cell is edited without
re-running or when a figure stops displaying (the bug this machinery replaced: notebooks that computed
figures and showed none).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: Seconds one cell may take before the run fails.
CELL_TIMEOUT = 900


def source_sha(cell: Any) -> str:
    """SHA-256 of a cell's source text."""
    return hashlib.sha256(cell.source.encode("utf-8")).hexdigest()


def output_structure(nb: Any) -> list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    """Per code cell: the stream names it writes, and its other outputs in order as ``(kind, *MIME types)``.

    Streams are compared as a set: the kernel splits and interleaves stdout and stderr chunks depending on
    timing, while displays, results and errors come in a fixed order.
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        streams = sorted({o.name for o in cell.get("outputs", []) if o.output_type == "stream"})
        others = []
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                others.append(("error", o.get("ename", "")))
            elif o.output_type != "stream":
                others.append((o.output_type, *sorted(o.get("data", {}))))
        cells.append((tuple(streams), tuple(others)))
    return cells


def n_images(nb: Any) -> int:
    """Number of PNG/SVG outputs in the notebook."""
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if {"image/png", "image/svg+xml"} & set(o.get("data", {}))
    )


def execute(path: Path, *, timeout: int = CELL_TIMEOUT) -> Any:
    """Run a notebook in a fresh kernel (working directory notebooks/) and return it, normalised."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return normalise(nb)


def normalise(nb: Any) -> Any:
    """Renumber execution counts, drop timestamps and kernel details, record each code cell's source hash."""
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        for o in cell.get("outputs", []):
            if "execution_count" in o:
                o["execution_count"] = count
        cell.metadata["lpengine"] = {"source_sha256": source_sha(cell)}
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all in notebooks/)")
    parser.add_argument("--check", action="store_true", help="compare with the committed outputs; write nothing")
    args = parser.parse_args(argv)
    paths = [p if p.is_absolute() else Path.cwd() / p for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    stale = []
    for path in paths:
        fresh = execute(path)
        if args.check:
            old = nbformat.read(path, as_version=4)
            if output_structure(old) != output_structure(fresh):
                stale.append(path.name)
            sys.stdout.write(f"{path.name}: {'STALE' if path.name in stale else 'ok'} ({n_images(fresh)} images)\n")
        else:
            nbformat.write(fresh, path)
            sys.stdout.write(f"{path.name}: written ({n_images(fresh)} images)\n")
    if stale:
        sys.stdout.write(f"stale: {', '.join(stale)}; run `python notebooks/execute.py` and commit the result\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
