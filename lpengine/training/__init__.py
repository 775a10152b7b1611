"""Whole-network training by the Deep ReLU Simplex, one layer at a time (block-coordinate descent).

>>> from lpengine.training import train_network, TrainingResult
"""

from __future__ import annotations

from .layerwise import TrainingOptions, l1_loss, train_network
from .problem import TrainingProblem, load_training_problem, run_training_problem
from .reduction import dead_units
from .result import TrainingResult, TrainingState, TrainingStep

__all__ = [
    "train_network",
    "l1_loss",
    "dead_units",
    "TrainingResult",
    "TrainingStep",
    "TrainingState",
    "TrainingOptions",
    "TrainingProblem",
    "load_training_problem",
    "run_training_problem",
]
