"""Input checks used at lpengine's public boundary, with one message format.

Message = what + where + expected + got (scikit-learn's ``check_array`` style).
Internals trust arrays that passed through these checks.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["check_array", "check_scalar", "check_int", "check_numpy_file", "read_csv_table"]

#: The first bytes of a .npz archive (a zip file) and of a .npy file.
_MAGIC = {".npz": b"PK\x03\x04", ".npy": b"\x93NUMPY"}


def check_array(
    value: Any,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    error: type[Exception] = ValueError,
    allow_empty: bool = False,
    finite: bool = True,
) -> NDArray[np.float64]:
    """Return ``value`` as a C-contiguous float64 array, or raise ``error``.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        How the message names it, e.g. ``"weights[1]"``.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries are free.
    error : exception type
        The exception class to raise (a ``ValueError`` subclass).
    allow_empty : bool
        Whether a zero-size array is acceptable.
    finite : bool
        Whether NaN/inf entries are rejected.
    """
    if isinstance(value, np.ndarray) and value.dtype == object:
        raise error(f"{name} has dtype object; expected a numeric array.")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} cannot be converted to a numeric array: {exc}") from exc
    if arr.dtype.kind not in "biuf":
        raise error(f"{name} has dtype {arr.dtype}; expected a real numeric dtype (float64).")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise error(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}); expected {ndim}.")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise error(f"{name} has shape {arr.shape}; expected {want}.")
    if not allow_empty and arr.size == 0:
        raise error(f"{name} is empty (shape {arr.shape}).")
    if finite and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise error(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}).")
    return arr


def check_scalar(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
    error: type[Exception] = ValueError,
) -> float:
    """Return ``value`` as a finite Python float in the given range, or raise."""
    lo_b = "[" if low_inclusive else "("
    hi_b = "]" if high_inclusive else ")"
    rng = f"{lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"The '{name}' parameter must be a float in the range {rng}. Got {value!r} instead.")
    v = float(value)
    ok = np.isfinite(v)
    if ok and low is not None:
        ok = v >= low if low_inclusive else v > low
    if ok and high is not None:
        ok = v <= high if high_inclusive else v < high
    if not ok:
        raise error(f"The '{name}' parameter must be a float in the range {rng}. Got {value!r} instead.")
    return v


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    error: type[Exception] = ValueError,
) -> int:
    """Return ``value`` as a Python int in ``[low, high]``, or raise (floats and bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"The '{name}' parameter must be an int. Got {value!r} of type {type(value).__name__}.")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise error(
            f"The '{name}' parameter must be an int in the range "
            f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]. Got {v}."
        )
    return v


def check_numpy_file(path: Any, *, what: str, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` unless ``path`` (ending in .npz or .npy) really is such a file.

    ``numpy.load`` reports any other content, e.g. a text file named ``.npz``, as "pickled (object)
    data"; this check says what the file is instead.  Missing files are left to the caller's ``open``.
    """
    import os

    name = os.fspath(path)
    ext = os.path.splitext(name)[1].lower()
    if ext not in _MAGIC or not os.path.isfile(name):
        return
    with open(name, "rb") as fh:
        head = fh.read(16)
    if head.startswith(_MAGIC[ext]):
        return
    try:
        text = head.decode("utf-8")
        looks = f"it is a text file beginning {text.splitlines()[0][:12]!r}" if text.strip() else "it is empty"
    except UnicodeDecodeError:
        looks = f"it begins with the bytes {head[:8]!r}"
    raise error(
        f"cannot read {what} {name!r}: not a NumPy {ext} file ({looks}); "
        f"write it with numpy.{'savez' if ext == '.npz' else 'save'}."
    )


def read_csv_table(path: Any, *, what: str, error: type[Exception] = ValueError) -> NDArray[np.float64]:
    """A numeric CSV table (comma-separated; a first line that is not numeric is a header and skipped).

    Errors name the line and column as an editor shows them (both 1-based, the header counted as line 1).
    """
    import os

    name = os.fspath(path)
    rows: list[list[float]] = []
    width = 0
    first_data_line = 0
    with open(name, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            cells = [c.strip() for c in line.split(",")]
            try:
                row = [float(c) for c in cells]
            except ValueError:
                if not rows and lineno == 1:
                    continue  # a header line
                col = next(j for j, c in enumerate(cells, start=1) if not _is_float(c))
                raise error(
                    f"{what} {name!r}, line {lineno}, column {col}: {cells[col - 1]!r} is not a number."
                ) from None
            if not rows:
                width, first_data_line = len(row), lineno
            elif len(row) != width:
                raise error(
                    f"{what} {name!r}, line {lineno}: {len(row)} columns, but line {first_data_line} "
                    f"(the first data line) has {width}."
                )
            rows.append(row)
    if not rows:
        raise error(f"{what} {name!r} has no data lines.")
    table = np.array(rows, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(table))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise error(f"{what} {name!r}, data row {i + 1}, column {j + 1}: {table[i, j]} is not finite.")
    return table


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
