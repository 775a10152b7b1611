"""Sequential prediction with the least consistent hypothesis: a computable, honest finite analogue.

The Hardin--Taylor "mu-strategy" (well-order every labeling of the reals and
always predict with the least one consistent with the past) errs only on a
countable set of times, but needs the axiom of choice and cannot be computed.
This package implements its finite analogue over a well-ordered finite class
of ReLU classifiers (:class:`GridReLUClass`), the sequential protocol with the
least-consistent and halving predictors (:func:`run_protocol`), exact LP
decisions of consistency for regions of a continuous class
(:func:`check_pattern_consistency`, :func:`decide_consistency`), and four
experiments with exact mistake counts (:mod:`lpengine.sequential.experiments`).
"""

from __future__ import annotations

from .consistency import (
    ConsistencyDecision,
    PatternConsistency,
    check_pattern_consistency,
    decide_consistency,
    verify_farkas,
    weight_space_cells,
)
from .experiments import (
    AdversarialResult,
    RandomLabelsResult,
    RealizableResult,
    RefinementResult,
    binomial_band,
    experiment_adversarial,
    experiment_random_labels,
    experiment_realizable,
    experiment_refinement,
)
from .hypotheses import MAX_CLASS_SIZE, GridReLUClass
from .protocol import ADVERSARIAL, PREDICTORS, ProtocolResult, run_protocol

__all__ = [
    "GridReLUClass",
    "MAX_CLASS_SIZE",
    "run_protocol",
    "ProtocolResult",
    "PREDICTORS",
    "ADVERSARIAL",
    "check_pattern_consistency",
    "decide_consistency",
    "weight_space_cells",
    "verify_farkas",
    "PatternConsistency",
    "ConsistencyDecision",
    "experiment_realizable",
    "experiment_random_labels",
    "experiment_adversarial",
    "experiment_refinement",
    "binomial_band",
    "RealizableResult",
    "RandomLabelsResult",
    "AdversarialResult",
    "RefinementResult",
]
