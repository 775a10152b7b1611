"""Experiment (d): one scenario on ``[0, 1)`` observed on nested dyadic grids of ``2^k`` times.

Unrelated labels keep a mistake rate near 1/2 at every resolution, a target
inside the class keeps a bounded count (rate -> 0).  The other experiments are
in :mod:`lpengine.sequential.experiments`, which also exports this one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidOptionError
from .hypotheses import GridReLUClass
from .protocol import run_protocol
from .reference import binomial_band, default_class

__all__ = ["RefinementResult", "experiment_refinement"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefinementResult:
    """Experiment (d): one scenario on ``[0, 1)`` observed on nested grids of ``2^k`` times.

    Attributes
    ----------
    n_hypotheses : int
    levels : tuple of int
        The ``k`` values; level ``k`` observes the times ``j / 2^k``, ``j < 2^k``,
        in increasing order (each grid contains the coarser ones).
    n_points : tuple of int
        ``2^k`` per level.
    target : int
        The target hypothesis of the realizable scenario.
    mistakes_random_least_consistent, mistakes_random_halving : tuple of int
        Mistakes on the unrelated (white-noise) scenario per level.
    mistakes_target_least_consistent, mistakes_target_halving : tuple of int
        Mistakes on the scenario given by ``target`` per level.
    band_low, band_high : tuple of int
        Exact Binomial(2^k, 1/2) bands at ``confidence`` per level.
    confidence : float
    """

    n_hypotheses: int
    levels: tuple[int, ...]
    n_points: tuple[int, ...]
    target: int
    mistakes_random_least_consistent: tuple[int, ...]
    mistakes_random_halving: tuple[int, ...]
    mistakes_target_least_consistent: tuple[int, ...]
    mistakes_target_halving: tuple[int, ...]
    band_low: tuple[int, ...]
    band_high: tuple[int, ...]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "experiment": "refinement",
            "n_hypotheses": self.n_hypotheses,
            "levels": list(self.levels),
            "n_points": list(self.n_points),
            "target": self.target,
            "mistakes_random_least_consistent": list(self.mistakes_random_least_consistent),
            "mistakes_random_halving": list(self.mistakes_random_halving),
            "mistakes_target_least_consistent": list(self.mistakes_target_least_consistent),
            "mistakes_target_halving": list(self.mistakes_target_halving),
            "band_low": list(self.band_low),
            "band_high": list(self.band_high),
            "confidence": self.confidence,
        }


def experiment_refinement(
    hclass: GridReLUClass | None = None,
    *,
    levels: Any = (3, 4, 5, 6, 7, 8, 9, 10),
    confidence: float = 0.99,
    seed: Any = 0,
) -> RefinementResult:
    """Experiment (d): refine the time grid on ``[0, 1)`` and count mistakes at each resolution.

    Two scenarios ``v : [0, 1) -> {-1, +1}`` are fixed once, on the finest grid:
    white noise (independent fair coins per time) and a target hypothesis of the
    class (drawn, seeded, among those not constant on the finest grid).  Level
    ``k`` observes the same scenario at the times ``j / 2^k`` in increasing order.

    Parameters
    ----------
    hclass : GridReLUClass, optional
        Must have ``n_in = 1`` (time is one-dimensional).
    levels : sequence of int, default 3..10
        Grid levels ``k`` (``0 <= k <= 20``).
    confidence : float, default 0.99
    seed : default 0

    Returns
    -------
    RefinementResult

    Raises
    ------
    InvalidOptionError
        If ``hclass.n_in != 1`` or ``levels`` is empty or out of range.

    Examples
    --------
    >>> r = experiment_refinement(GridReLUClass(width=1), levels=(3, 4))
    >>> r.n_points, r.band_low[0] <= r.mistakes_random_halving[0] <= r.band_high[0]
    ((8, 16), True)
    """
    H = default_class(hclass)
    if H.n_in != 1:
        raise InvalidOptionError(f"experiment_refinement needs a class with n_in = 1 (time); got n_in = {H.n_in}.")
    try:
        lv = tuple(check_int(k, f"levels[{i}]", low=0, high=20, error=InvalidOptionError) for i, k in enumerate(levels))
    except TypeError:
        raise InvalidOptionError(f"The 'levels' parameter must be a sequence of ints. Got {levels!r}.") from None
    if not lv:
        raise InvalidOptionError("The 'levels' parameter is empty; expected at least one grid level.")
    L = max(lv)
    rng = np.random.default_rng(seed)
    noise = rng.choice(np.array([-1, 1], dtype=np.int8), size=2**L)
    t_fine = (np.arange(2**L, dtype=np.float64) / 2**L).reshape(-1, 1)
    B_fine = H.labels(t_fine)
    nonconstant = np.flatnonzero(np.any(B_fine != B_fine[:, :1], axis=1))
    if nonconstant.size == 0:
        raise InvalidOptionError("every hypothesis is constant on the finest grid; use a finer or richer class.")
    target = int(rng.choice(nonconstant))
    out: dict[str, list[int]] = {k: [] for k in ("rl", "rh", "tl", "th", "lo", "hi")}
    for k in lv:
        cols = np.arange(2**k) * 2 ** (L - k)
        B = B_fine[:, cols]
        out["rl"].append(run_protocol(B, noise[cols], predictor="least_consistent").mistakes)
        out["rh"].append(run_protocol(B, noise[cols], predictor="halving").mistakes)
        out["tl"].append(run_protocol(B, B[target], predictor="least_consistent").mistakes)
        out["th"].append(run_protocol(B, B[target], predictor="halving").mistakes)
        lo, hi, _ = binomial_band(2**k, confidence)
        out["lo"].append(lo)
        out["hi"].append(hi)
        logger.info("refinement level %d: random %d/%d, target %d", k, out["rl"][-1], 2**k, out["tl"][-1])
    return RefinementResult(
        n_hypotheses=H.size,
        levels=lv,
        n_points=tuple(2**k for k in lv),
        target=target,
        mistakes_random_least_consistent=tuple(out["rl"]),
        mistakes_random_halving=tuple(out["rh"]),
        mistakes_target_least_consistent=tuple(out["tl"]),
        mistakes_target_halving=tuple(out["th"]),
        band_low=tuple(out["lo"]),
        band_high=tuple(out["hi"]),
        confidence=float(confidence),
    )
