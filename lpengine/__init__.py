"""lpengine: exact linear-programming analysis of ReLU networks.

Regions (exact enumeration of activation regions), bounds on their number,
and the Deep ReLU Simplex for layer-wise L1 loss landscapes, all backed by
HiGHS LPs through :mod:`lpengine.lp`.
"""

from __future__ import annotations

import logging

from . import export
from ._version import __version__
from .exceptions import (
    BackendNotAvailable,
    InaccurateSolutionWarning,
    IncompleteCountError,
    InvalidDomainError,
    InvalidNetworkError,
    InvalidOptionError,
    InvalidProblemError,
    IterationLimitWarning,
    LPEngineError,
    RankDeficiencyWarning,
    SolverError,
)
from .network import LocalAffineMap, ReLUNetwork
from .regions import count_regions, enumerate_regions
from .regions.plot import plot_regions
from .simplex import deep_relu_simplex, lad
from .tolerances import DEFAULT_TOLERANCES, Tolerances
from .training import train_network

__all__ = [
    "__version__",
    "ReLUNetwork",
    "LocalAffineMap",
    "enumerate_regions",
    "count_regions",
    "plot_regions",
    "deep_relu_simplex",
    "lad",
    "train_network",
    "LADRegressor",
    "QuantileRegressor",
    "ReLURegressor",
    "export",
    "Tolerances",
    "DEFAULT_TOLERANCES",
    "LPEngineError",
    "InvalidNetworkError",
    "InvalidDomainError",
    "InvalidProblemError",
    "InvalidOptionError",
    "BackendNotAvailable",
    "SolverError",
    "IncompleteCountError",
    "InaccurateSolutionWarning",
    "IterationLimitWarning",
    "RankDeficiencyWarning",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Exports that need an optional extra, imported on first access (``lpengine.LADRegressor``).
_OPTIONAL = {"LADRegressor": "sklearn", "QuantileRegressor": "sklearn", "ReLURegressor": "sklearn"}


def __getattr__(name: str) -> object:
    if name in _OPTIONAL:
        extra = _OPTIONAL[name]
        try:
            import importlib

            module = importlib.import_module(f"{__name__}.{extra}")
        except ImportError as exc:
            raise ImportError(
                f"lpengine.{name} needs the optional extra {extra!r}: pip install 'lpengine[{extra}]'."
            ) from exc
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
