"""Landscape analysis of Deep ReLU Simplex trajectories.

* :mod:`~lpengine.analysis.decay` — fits of ``L_k ≈ L* + C q^k`` over sliding windows;
* :mod:`~lpengine.analysis.estimators` — estimates of the local-minimum loss before convergence;
* :mod:`~lpengine.analysis.density` — step lengths and visited vertices near the minimum;
* :mod:`~lpengine.analysis.plot` — matplotlib figures (imported lazily, every function takes ``ax=``).

All of them work on plain arrays (losses, thetas); :class:`Trajectory` reads a
simplex result or its trajectory graph.
"""

from __future__ import annotations

from .decay import DecayFit, DecayProfile, GapDecayProfile, decay_profile, fit_decay, gap_decay_profile
from .density import DensitySummary, RadiusCounts, density_summary, distances_to, step_lengths, visited_within
from .estimators import (
    ESTIMATORS,
    EstimatorTrace,
    LimitEstimate,
    estimate_aitken,
    estimate_geometric_fit,
    estimate_geometric_tail,
    estimate_limit,
    estimate_naive,
    estimator_trace,
)
from .trajectory import Trajectory

__all__ = [
    "DecayFit",
    "DecayProfile",
    "GapDecayProfile",
    "fit_decay",
    "decay_profile",
    "gap_decay_profile",
    "LimitEstimate",
    "EstimatorTrace",
    "ESTIMATORS",
    "estimate_geometric_fit",
    "estimate_aitken",
    "estimate_geometric_tail",
    "estimate_naive",
    "estimate_limit",
    "estimator_trace",
    "RadiusCounts",
    "DensitySummary",
    "step_lengths",
    "distances_to",
    "visited_within",
    "density_summary",
    "Trajectory",
]
