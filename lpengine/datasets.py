"""Regression data for training: scikit-learn's bundled datasets and CSV / NPZ files, with exact error locations.

* :func:`load_dataset` reads the small regression datasets that ship *inside*
  scikit-learn (no download): ``"diabetes"`` (442 x 10, one target) and
  ``"linnerud"`` (20 x 3, three targets: choose one).  Needs ``lpengine[sklearn]``.
* :func:`load_data_file` reads a ``.csv`` (comma-separated numbers, an optional
  header row of names) or a ``.npz`` (arrays ``X`` and ``y``).  A bad cell is
  reported with its file, 1-based row and 1-based column.

Standardisation (``standardize=True``) centres every feature and the target and
divides by the population standard deviation (constant columns are only centred);
the statistics are kept in the result (``Dataset.x_mean`` ...) to undo it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .exceptions import InvalidProblemError

__all__ = ["Dataset", "load_dataset", "load_data_file", "DATASETS"]

#: Names accepted by :func:`load_dataset`, with their targets (the first is the default).
DATASETS: dict[str, tuple[str, ...]] = {
    "diabetes": ("progression",),
    "linnerud": ("Weight", "Waist", "Pulse"),
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and one target, with names and the standardisation applied.

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
    feature_names : tuple of str
    target_name : str
    source : str
        Dataset name or file path.
    x_mean, x_scale : ndarray, shape (n_features,)
        ``X = (X_raw - x_mean) / x_scale`` (zeros and ones without standardisation).
    y_mean, y_scale : float
    """

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    feature_names: tuple[str, ...]
    target_name: str
    source: str
    x_mean: NDArray[np.float64]
    x_scale: NDArray[np.float64]
    y_mean: float
    y_scale: float

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])


def _make(
    X: NDArray[np.float64], y: NDArray[np.float64], names: tuple[str, ...], target: str, source: str, standardize: bool
) -> Dataset:
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    if standardize:
        xm, xs = X.mean(axis=0), X.std(axis=0)
        xs = np.where(xs > 0.0, xs, 1.0)
        ym, ys = float(y.mean()), float(y.std())
        ys = ys if ys > 0.0 else 1.0
        X, y = (X - xm) / xs, (y - ym) / ys
    else:
        xm, xs, ym, ys = np.zeros(X.shape[1]), np.ones(X.shape[1]), 0.0, 1.0
    for a in (X, y, xm, xs):
        a.flags.writeable = False
    return Dataset(X, y, names, target, source, xm, xs, ym, ys)


def load_dataset(name: str, *, target: str | None = None, standardize: bool = True) -> Dataset:
    """One of scikit-learn's bundled regression datasets (read from the installed package, offline).

    Parameters
    ----------
    name : {"diabetes", "linnerud"}
    target : str, optional
        ``linnerud``: ``"Weight"`` (default), ``"Waist"`` or ``"Pulse"``.
    standardize : bool, default True

    Raises
    ------
    InvalidProblemError
        Unknown name or target.
    ImportError
        scikit-learn is not installed.

    Examples
    --------
    >>> d = load_dataset("diabetes")
    >>> d.X.shape, d.target_name, round(float(d.y.std()), 12)
    ((442, 10), 'progression', 1.0)
    """
    if name not in DATASETS:
        raise InvalidProblemError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}.")
    targets = DATASETS[name]
    target = targets[0] if target is None else target
    if target not in targets:
        raise InvalidProblemError(f"dataset {name!r} has targets {list(targets)}; got target {target!r}.")
    try:
        from sklearn import datasets as skd
    except ImportError as exc:
        raise ImportError(f"load_dataset({name!r}) needs scikit-learn: pip install 'lpengine[sklearn]'.") from exc
    if name == "diabetes":
        bunch = skd.load_diabetes(scaled=False)
        return _make(bunch.data, bunch.target, tuple(bunch.feature_names), target, name, standardize)
    bunch = skd.load_linnerud()
    col = list(bunch.target_names).index(target)
    return _make(bunch.data, bunch.target[:, col], tuple(bunch.feature_names), target, name, standardize)


def load_data_file(path: str | os.PathLike[str], *, target: str | int = -1, standardize: bool = False) -> Dataset:
    """Read ``X, y`` from a ``.csv`` or ``.npz`` file.

    Parameters
    ----------
    path : path-like
        ``.csv``: comma-separated numbers, optionally a first row of column names.
        ``.npz``: arrays ``X`` (2-D) and ``y`` (1-D, or 2-D with one column).
    target : str or int, default -1
        CSV only: the target column, by name (needs a header) or 0-based index (-1: the last).
    standardize : bool, default False

    Raises
    ------
    InvalidProblemError
        The file cannot be read, or a cell is not a finite number (the message gives the file, the
        1-based row and column, and the cell's text), rows differ in length, or the shapes are wrong.
    """
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    if ext == ".npz":
        return _load_npz(p, standardize)
    if ext != ".csv":
        raise InvalidProblemError(f"data file {p!r}: expected a .csv or .npz file; got extension {ext!r}.")
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidProblemError(f"cannot read data file {p!r}: {exc}") from exc
    rows_n = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]  # 1-based line numbers
    if not rows_n:
        raise InvalidProblemError(f"data file {p!r} is empty.")
    header: list[str] | None = None
    first = rows_n[0][1]
    if not all(_is_number(c) for c in first):
        header = [c.strip() for c in first]
        rows_n = rows_n[1:]
    if not rows_n:
        raise InvalidProblemError(f"data file {p!r} has a header row but no data rows.")
    width = len(header) if header is not None else len(rows_n[0][1])
    if width < 2:
        raise InvalidProblemError(f"data file {p!r} has {width} column(s); expected >= 2 (features and a target).")
    M = np.empty((len(rows_n), width))
    for k, (line, r) in enumerate(rows_n):
        if len(r) != width:
            raise InvalidProblemError(f"{p}, row {line}: {len(r)} columns; expected {width} like the first row.")
        for j, cell in enumerate(r):
            try:
                v = float(cell)
            except ValueError:
                v = float("nan")
            if not np.isfinite(v):
                raise InvalidProblemError(f"{p}, row {line}, column {j + 1}: {cell!r} is not a finite number.")
            M[k, j] = v
    names = header if header is not None else [f"x{j}" for j in range(width)]
    if isinstance(target, str):
        if header is None:
            raise InvalidProblemError(f"target {target!r} is a column name, but {p!r} has no header row.")
        if target not in header:
            raise InvalidProblemError(f"data file {p!r} has no column {target!r}; columns: {header}.")
        t = header.index(target)
    else:
        if not -width <= int(target) < width:
            raise InvalidProblemError(f"target column {target} is out of range for {width} columns in {p!r}.")
        t = int(target) % width
    feats = [j for j in range(width) if j != t]
    return _make(M[:, feats], M[:, t], tuple(names[j] for j in feats), names[t], p, standardize)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _load_npz(p: str, standardize: bool) -> Dataset:
    try:
        with np.load(p, allow_pickle=False) as d:
            files = list(d.files)
            if "X" not in files or "y" not in files:
                raise InvalidProblemError(f"data file {p!r} must contain arrays 'X' and 'y'; has {files}.")
            X, y = np.asarray(d["X"]), np.asarray(d["y"])
    except (OSError, ValueError) as exc:
        raise InvalidProblemError(f"cannot read data file {p!r}: {exc}") from exc
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise InvalidProblemError(
            f"data file {p!r}: expected X of shape (n, p) and y of shape (n,); got {X.shape} and {y.shape}."
        )
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise InvalidProblemError(f"data file {p!r}: X and y must be numeric; got {X.dtype} and {y.dtype}.")
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        i, j = (int(v) + 1 for v in bad[0])
        raise InvalidProblemError(
            f"{p}: X[row {i}, column {j}] (1-based) is {X[i - 1, j - 1]}; expected a finite number."
        )
    bad_y = np.flatnonzero(~np.isfinite(y))
    if bad_y.size:
        raise InvalidProblemError(
            f"{p}: y[row {int(bad_y[0]) + 1}] (1-based) is {y[bad_y[0]]}; expected a finite number."
        )
    names = tuple(f"x{j}" for j in range(X.shape[1]))
    return _make(X.astype(np.float64), y.astype(np.float64), names, "y", p, standardize)
