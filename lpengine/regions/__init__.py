"""Exact enumeration of activation regions (see :mod:`lpengine.regions.enumerate`)."""

from .domain import Domain
from .enumerate import EnumerationProgress, Region, RegionEnumeration, count_regions, enumerate_regions
from .pattern import ActivationPattern, AmbiguousPointError, pattern_at

__all__ = [
    "Domain",
    "ActivationPattern",
    "AmbiguousPointError",
    "pattern_at",
    "Region",
    "RegionEnumeration",
    "EnumerationProgress",
    "enumerate_regions",
    "count_regions",
]
