"""Inputs of the sequential-prediction experiments and the exact numbers they are compared with.

The default finite class, seeded dyadic input points (``integer / 2^bits``, so
the exact integer labels of :class:`~lpengine.sequential.hypotheses.GridReLUClass`
stay in int64), ``floor(log2 |H|)`` (the halving bound) and the exact central
band of Binomial(T, 1/2) (the mistake count under unrelated labels).  Used by
:mod:`lpengine.sequential.experiments` and :mod:`lpengine.sequential.refinement`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int, check_scalar
from ..exceptions import InvalidOptionError
from .hypotheses import GridReLUClass

__all__ = ["DEFAULT_CLASS", "POINT_BITS", "binomial_band", "dyadic_points", "floor_log2"]

#: The class used when ``hclass`` is None: 9**4 = 6561 hypotheses f(t) = relu(w1 t + b1) - relu(w2 t + b2)
#: with w, b in {-1, -3/4, ..., 1}.
DEFAULT_CLASS: dict[str, int] = {"n_in": 1, "width": 2, "scale": 4}

#: Inputs of the experiments are integers / 2**POINT_BITS in [0, 1).
POINT_BITS = 10


def default_class(hclass: GridReLUClass | None) -> GridReLUClass:
    """``hclass``, or the class of :data:`DEFAULT_CLASS` when it is None (checked)."""
    if hclass is None:
        return GridReLUClass(n_in=DEFAULT_CLASS["n_in"], width=DEFAULT_CLASS["width"], scale=DEFAULT_CLASS["scale"])
    if not isinstance(hclass, GridReLUClass):
        raise InvalidOptionError(
            f"The 'hclass' parameter must be a GridReLUClass or None. Got {type(hclass).__name__} instead."
        )
    return hclass


def floor_log2(n: int) -> int:
    """``floor(log2 n)`` for a positive int, computed exactly."""
    return int(n).bit_length() - 1


def dyadic_points(n_points: int, n_in: int, *, seed: Any = None, bits: int = POINT_BITS) -> NDArray[np.float64]:
    """``n_points`` seeded uniform points of the grid ``{0, 1, ..., 2^bits - 1} / 2^bits`` in ``[0, 1)^n_in``."""
    n = check_int(n_points, "n_points", low=1, error=InvalidOptionError)
    d = check_int(n_in, "n_in", low=1, error=InvalidOptionError)
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**bits, size=(n, d)).astype(np.float64) / 2**bits


def binomial_band(n_steps: int, confidence: float = 0.99) -> tuple[int, int, float]:
    """Exact central band of Binomial(n_steps, 1/2): ``(low, high, coverage)``.

    ``low`` is the ``(1 - confidence)/2`` quantile and ``high`` the
    ``(1 + confidence)/2`` quantile (``scipy.stats.binom.ppf``), so
    ``P(low <= M <= high) = coverage >= confidence``; ``coverage`` is computed
    exactly from the binomial CDF.

    Examples
    --------
    >>> binomial_band(100, 0.95)[:2]
    (40, 60)
    """
    from scipy.stats import binom

    T = check_int(n_steps, "n_steps", low=1, error=InvalidOptionError)
    c = check_scalar(confidence, "confidence", low=0.0, high=1.0, error=InvalidOptionError)
    lo = int(binom.ppf((1.0 - c) / 2.0, T, 0.5))
    hi = int(binom.ppf((1.0 + c) / 2.0, T, 0.5))
    coverage = float(binom.cdf(hi, T, 0.5) - binom.cdf(lo - 1, T, 0.5))
    return lo, hi, coverage
