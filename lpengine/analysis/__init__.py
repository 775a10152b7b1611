"""Landscape analysis of Deep ReLU Simplex trajectories.

* :mod:`~lpengine.analysis.decay` — fits of ``L_k ≈ L* + C q^k`` over sliding windows;
* :mod:`~lpengine.analysis.estimators` — estimates of the local-minimum loss before convergence;
* :mod:`~lpengine.analysis.density` — step lengths and visited vertices near the minimum;
* :mod:`~lpengine.analysis.early_stop` — a stopping rule for the simplex driven by an estimator;
* :mod:`~lpengine.analysis.census` — exact census of tiny landscapes (all hidden cells, their LPs,
  every local minimum as a connected set, certified), on :class:`LayerwiseL1Problem`, whose loss is
  the Deep ReLU Simplex's one model (:class:`lpengine.simplex.model.LayerwiseModel`);
* :mod:`~lpengine.analysis.certify` — the local-minimum certificate at any point (the simplex's
  cell check); :mod:`~lpengine.analysis.basins` — which census minimum a run ended in;
* :mod:`~lpengine.analysis.vertices` — all vertices of the kink arrangement in a box (exact, small D);
* :mod:`~lpengine.analysis.plot` — matplotlib figures (imported lazily, every function takes ``ax=``).

All of them work on plain arrays (losses, thetas); :class:`Trajectory` reads a
simplex result or its trajectory graph.
"""

from __future__ import annotations

from .basins import BasinAssignment, assign_basins
from .census import landscape_census, solve_cell
from .census_result import CellSolution, LandscapeCensus, LocalMinimum
from .certify import MinimumCertificate, certify_local_minimum
from .decay import DecayFit, DecayProfile, GapDecayProfile, decay_profile, fit_decay, gap_decay_profile
from .density import DensitySummary, RadiusCounts, density_summary, distances_to, step_lengths, visited_within
from .early_stop import EarlyStopOutcome, EarlyStopping, evaluate_early_stop
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
from .lossnet import LayerwiseL1Problem
from .trajectory import Trajectory
from .vertices import VertexCount, count_vertices_in_box

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
    "LayerwiseL1Problem",
    "EarlyStopping",
    "EarlyStopOutcome",
    "evaluate_early_stop",
    "LandscapeCensus",
    "LocalMinimum",
    "CellSolution",
    "MinimumCertificate",
    "BasinAssignment",
    "VertexCount",
    "landscape_census",
    "certify_local_minimum",
    "assign_basins",
    "count_vertices_in_box",
    "solve_cell",
]
