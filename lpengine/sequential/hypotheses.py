"""A finite, well-ordered class of one-hidden-layer ReLU classifiers on an integer grid.

Every hypothesis is a network

    f_theta(x) = sum_j a_j * relu(w_j . x + b_j),        label(x) = +1 if f_theta(x) > 0 else -1,

with ``m`` hidden units, fixed non-zero integer output weights ``a_j`` and
first-layer parameters ``(w_j, b_j) = theta_j / K`` where every entry of the
integer array ``theta`` lies in ``{-K, ..., K}``.  The class therefore has
exactly ``(2K + 1) ** (m * p)`` members, ``p = n_in + 1`` (``n_in`` without
biases).  Different parameter arrays may compute the same function; the class
is a set of *parameters*, and ``|H|`` counts parameters.

The well-order.  Hypotheses are ranked by the Occam key ``sum |theta|`` and
then lexicographically by the flattened integer array ``(theta_1, ..., theta_m)``
(each ``theta_j = (w_j, b_j)``) under the usual order of the integers.  Index 0
is the all-zero network.  This order is the finite stand-in for the
well-order of *all* labelings that the Hardin--Taylor strategy needs.

Exact labels.  Because ``relu`` is positively homogeneous, the label of
``f_theta`` equals the sign of ``sum_j a_j relu(theta_j . (D x, D))`` for any
``D > 0``.  Every float64 input is a dyadic rational, so choosing ``D`` as the
common power-of-two denominator of a point's coordinates turns the whole
computation into integer arithmetic: :meth:`GridReLUClass.labels` is exact on
the binary values of the inputs (int64 when the magnitudes provably fit,
Python integers otherwise).  No tolerance is involved; ``f = 0`` (for example
when every unit is inactive) is labelled ``-1`` by the stated rule.
"""

from __future__ import annotations

import functools
import itertools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_array, check_int
from ..exceptions import InvalidOptionError, InvalidProblemError
from ..network import ReLUNetwork

__all__ = ["GridReLUClass", "MAX_CLASS_SIZE"]

logger = logging.getLogger(__name__)

#: Largest class :class:`GridReLUClass` agrees to build (its parameter table has
#: ``size * m * p`` int64 entries and label tables have ``size * n`` entries).
MAX_CLASS_SIZE = 2**20

# Integer magnitudes below this bound are handled in int64; above, in Python ints.
_INT64_SAFE = 2**62
# Entries of the label table computed per block (bounds peak memory).
_BLOCK_ENTRIES = 2**22


def _exact_dyadic(X: NDArray[np.float64]) -> tuple[list[list[int]], list[int]]:
    """Write each row of ``X`` as integer numerators over one power-of-two denominator."""
    nums: list[list[int]] = []
    dens: list[int] = []
    for row in X:
        ratios = [float(v).as_integer_ratio() for v in row]
        den = max((q for _, q in ratios), default=1)  # all powers of two: the max is the lcm
        nums.append([p * (den // q) for p, q in ratios])
        dens.append(den)
    return nums, dens


@dataclass(frozen=True)
class GridReLUClass:
    """The finite class of integer-grid one-hidden-layer ReLU classifiers (see module docstring).

    Parameters
    ----------
    n_in : int, default 1
        Input dimension ``d``.
    width : int, default 2
        Number of hidden units ``m``.
    scale : int, default 2
        Grid resolution ``K``: first-layer entries are ``k / K`` for integers
        ``|k| <= K``.
    output_weights : tuple of int, optional
        Non-zero integer output weights ``a`` (length ``width``); default
        alternating ``(+1, -1, +1, ...)``.
    bias : bool, default True
        Whether the hidden units have biases.

    Raises
    ------
    InvalidOptionError
        If a parameter is out of range or the class would exceed
        :data:`MAX_CLASS_SIZE` members.

    Examples
    --------
    >>> H = GridReLUClass(n_in=1, width=2, scale=1)
    >>> H.size
    81
    >>> H.integer_parameters(0).tolist()
    [[0, 0], [0, 0]]
    >>> H.labels([[0.25], [0.75]]).shape
    (81, 2)
    """

    n_in: int = 1
    width: int = 2
    scale: int = 2
    output_weights: tuple[int, ...] | None = None
    bias: bool = True

    def __post_init__(self) -> None:
        n_in = check_int(self.n_in, "n_in", low=1, error=InvalidOptionError)
        width = check_int(self.width, "width", low=1, error=InvalidOptionError)
        scale = check_int(self.scale, "scale", low=1, error=InvalidOptionError)
        if not isinstance(self.bias, (bool, np.bool_)):
            raise InvalidOptionError(f"The 'bias' parameter must be a bool. Got {self.bias!r} instead.")
        if self.output_weights is None:
            a = tuple(1 if j % 2 == 0 else -1 for j in range(width))
        else:
            try:
                a = tuple(self.output_weights)
            except TypeError:
                raise InvalidOptionError(
                    f"The 'output_weights' parameter must be a sequence of {width} non-zero ints. "
                    f"Got {self.output_weights!r} instead."
                ) from None
            if len(a) != width:
                raise InvalidOptionError(f"output_weights has {len(a)} entries; expected width = {width}.")
            a = tuple(check_int(v, f"output_weights[{j}]", error=InvalidOptionError) for j, v in enumerate(a))
            zero = [j for j, v in enumerate(a) if v == 0]
            if zero:
                raise InvalidOptionError(f"output_weights[{zero[0]}] is 0; expected a non-zero int.")
        p = n_in + (1 if self.bias else 0)
        size = (2 * scale + 1) ** (width * p)
        if size > MAX_CLASS_SIZE:
            raise InvalidOptionError(
                f"GridReLUClass(n_in={n_in}, width={width}, scale={scale}, bias={bool(self.bias)}) "
                f"has (2*{scale}+1)**({width}*{p}) = {size} members; at most {MAX_CLASS_SIZE} are supported. "
                f"Reduce width, scale or n_in."
            )
        object.__setattr__(self, "n_in", n_in)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "output_weights", a)
        object.__setattr__(self, "bias", bool(self.bias))

    # ----------------------------------------------------------- structure
    @property
    def n_params_per_unit(self) -> int:
        """``p = n_in + 1`` with biases, ``n_in`` without."""
        return self.n_in + (1 if self.bias else 0)

    @property
    def size(self) -> int:
        """``|H| = (2K + 1) ** (m * p)``."""
        return (2 * self.scale + 1) ** (self.width * self.n_params_per_unit)

    @functools.cached_property
    def _unit_rows(self) -> NDArray[np.int64]:
        """All integer unit parameter vectors ``theta_j`` in lexicographic order, shape (R, p)."""
        K, p = self.scale, self.n_params_per_unit
        rows = np.array(list(itertools.product(range(-K, K + 1), repeat=p)), dtype=np.int64)
        rows.flags.writeable = False
        return rows

    @functools.cached_property
    def _row_index(self) -> NDArray[np.int64]:
        """Row indices ``(size, m)``: hypothesis ``h`` uses unit rows ``_row_index[h]``, in the well-order."""
        R = self._unit_rows.shape[0]
        combos = np.array(list(itertools.product(range(R), repeat=self.width)), dtype=np.int64).reshape(-1, self.width)
        flat = self._unit_rows[combos].reshape(combos.shape[0], -1)  # (size, m*p) integer parameters
        occam = np.abs(flat).sum(axis=1)
        # np.lexsort sorts by the last key first: Occam key, then theta[0], theta[1], ...
        keys = [flat[:, k] for k in range(flat.shape[1] - 1, -1, -1)] + [occam]
        order = np.lexsort(keys)
        idx = combos[order]
        idx.flags.writeable = False
        return idx

    def integer_parameters(self, index: int) -> NDArray[np.int64]:
        """Integer parameters ``theta`` of hypothesis ``index``, shape ``(width, p)`` (last column: bias).

        Raises
        ------
        InvalidOptionError
            If ``index`` is not in ``[0, size - 1]``.
        """
        i = check_int(index, "index", low=0, high=self.size - 1, error=InvalidOptionError)
        out = self._unit_rows[self._row_index[i]].copy()
        return out

    def complexity(self, index: int) -> int:
        """The Occam key ``sum |theta|`` of hypothesis ``index``."""
        return int(np.abs(self.integer_parameters(index)).sum())

    def index_of(self, theta: Any) -> int:
        """Position of the integer parameter array ``theta`` (shape ``(width, p)``) in the well-order.

        Raises
        ------
        InvalidOptionError
            If ``theta`` has the wrong shape or entries outside ``{-K..K}``.
        """
        arr = np.asarray(theta)
        if arr.shape != (self.width, self.n_params_per_unit) or arr.dtype.kind not in "iu":
            raise InvalidOptionError(
                f"theta has shape {arr.shape} and dtype {arr.dtype}; expected an integer array of shape "
                f"({self.width}, {self.n_params_per_unit})."
            )
        if np.any(np.abs(arr) > self.scale):
            raise InvalidOptionError(f"theta has entries outside {{-{self.scale}..{self.scale}}}: {arr.tolist()}.")
        K, p = self.scale, self.n_params_per_unit
        digits = arr.astype(np.int64) + K
        base = 2 * K + 1
        rows = [int(sum(int(d) * base ** (p - 1 - k) for k, d in enumerate(r))) for r in digits]
        hits = np.flatnonzero(np.all(self._row_index == np.array(rows, dtype=np.int64), axis=1))
        return int(hits[0])

    def network(self, index: int) -> ReLUNetwork:
        """Hypothesis ``index`` as an :class:`~lpengine.network.ReLUNetwork` (real weights ``theta / K``)."""
        theta = self.integer_parameters(index).astype(np.float64) / self.scale
        W = theta[:, : self.n_in]
        b = theta[:, self.n_in] if self.bias else np.zeros(self.width)
        a = np.array(self.output_weights, dtype=np.float64).reshape(1, -1)
        return ReLUNetwork(weights=(W, a), biases=(b, np.zeros(1)))

    # -------------------------------------------------------------- labels
    def labels(self, X: Any) -> NDArray[np.int8]:
        """Exact labels of every hypothesis on every point.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_in)
            Finite inputs.

        Returns
        -------
        ndarray of int8, shape (size, n_samples)
            ``labels[h, i] = +1`` if ``f_h(X[i]) > 0`` else ``-1``, computed
            exactly on the binary values of ``X`` (module docstring); rows
            follow the well-order.

        Raises
        ------
        InvalidProblemError
            If ``X`` is not a finite 2-D array with ``n_in`` columns.
        """
        X = check_array(X, "X", ndim=2, shape=(None, self.n_in), error=InvalidProblemError)
        nums, dens = _exact_dyadic(X)
        rows = self._unit_rows
        K = self.scale
        a = self.output_weights
        assert a is not None  # __post_init__ replaces None by the default weights
        max_abs = max((abs(v) for r in nums for v in r), default=0)
        max_den = max(dens)
        bound = K * (self.n_in * max_abs + max_den) * self.width * max(abs(w) for w in a)
        exact_dtype: Any = np.int64 if bound < _INT64_SAFE else object
        logger.debug(
            "exact labels: %d hypotheses x %d points, integer bound %d (%s)",
            self.size,
            X.shape[0],
            bound,
            "int64" if exact_dtype is np.int64 else "python int",
        )
        pts = np.array([r + ([d] if self.bias else []) for r, d in zip(nums, dens, strict=True)], dtype=exact_dtype)
        z = rows.astype(exact_dtype) @ pts.T  # (R, n): D_i times each unit's pre-activation
        rz = np.where(z > 0, z, 0).astype(exact_dtype)
        idx = self._row_index
        n = X.shape[0]
        out = np.empty((self.size, n), dtype=np.int8)
        block = max(1, _BLOCK_ENTRIES // max(n, 1))
        for start in range(0, self.size, block):
            sl = idx[start : start + block]
            f = a[0] * rz[sl[:, 0]]
            for j in range(1, self.width):
                f = f + a[j] * rz[sl[:, j]]
            out[start : start + block] = np.where(f > 0, 1, -1)
        out.flags.writeable = False
        return out
