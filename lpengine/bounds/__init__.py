"""Bounds on the number of activation regions of ReLU networks, in exact integer arithmetic.

One module per source paper; every bound is a pure function of the input
dimension ``n0`` and the hidden widths ``(n_1, ..., n_L)`` returning a Python
``int`` (``upper_bound_<source>`` / ``lower_bound_<source>``).
:func:`all_bounds` collects them into one frozen table.  The Hinz–van de Geer
framework (:mod:`~lpengine.bounds.hinz_vandegeer2019`) is a general engine
with a user-supplied γ; :mod:`~lpengine.bounds.activation_histograms` adds a
proven activation-count γ; :mod:`~lpengine.bounds.empirical` compares all of
them with exact counts, layer by layer.
"""

from __future__ import annotations

from ._arch import zaslavsky_sum
from ._histogram import clip, dominates, tail_sums
from .activation_histograms import activation_count_tails, gamma_activation_counts
from .arora2018 import lower_bound_arora2018
from .asymptotics import GrowthRate, growth_rate
from .hinz_vandegeer2019 import (
    FrameworkResult,
    block_matrix,
    check_gamma,
    dimension_matrix,
    framework_histograms,
    gamma_all_patterns,
    gamma_montufar2017,
    gamma_serra2018,
    transition_matrix,
    upper_bound_activation_counts,
    upper_bound_blocks,
    upper_bound_hinz_vandegeer,
)
from .montufar2014 import lower_bound_montufar2014, upper_bound_montufar2014
from .montufar2017 import upper_bound_montufar2017
from .pascanu2013 import lower_bound_pascanu2013
from .raghu2017 import GrowthOrder, growth_order_raghu2017, upper_bound_raghu_style
from .serra2018 import (
    exact_max_serra2018_1d,
    lower_bound_serra2018_thm6,
    lower_bound_serra2018_thm7,
    serra2018_index_set,
    upper_bound_serra2018,
    upper_bound_serra2018_maxout,
)
from .table import BoundEntry, BoundsTable, all_bounds
from .zaslavsky import bounded_regions_zaslavsky, upper_bound_zaslavsky

__all__ = [
    "zaslavsky_sum",
    "upper_bound_zaslavsky",
    "bounded_regions_zaslavsky",
    "upper_bound_montufar2014",
    "lower_bound_montufar2014",
    "lower_bound_pascanu2013",
    "upper_bound_montufar2017",
    "upper_bound_raghu_style",
    "growth_order_raghu2017",
    "GrowthOrder",
    "upper_bound_serra2018",
    "serra2018_index_set",
    "exact_max_serra2018_1d",
    "upper_bound_serra2018_maxout",
    "lower_bound_serra2018_thm6",
    "lower_bound_serra2018_thm7",
    "lower_bound_arora2018",
    "gamma_all_patterns",
    "gamma_montufar2017",
    "gamma_serra2018",
    "gamma_activation_counts",
    "activation_count_tails",
    "check_gamma",
    "tail_sums",
    "dominates",
    "clip",
    "transition_matrix",
    "dimension_matrix",
    "FrameworkResult",
    "framework_histograms",
    "upper_bound_hinz_vandegeer",
    "upper_bound_activation_counts",
    "block_matrix",
    "upper_bound_blocks",
    "GrowthRate",
    "growth_rate",
    "BoundEntry",
    "BoundsTable",
    "all_bounds",
]
