"""What the search hands around: a pending region, and the outcome of processing one.

These small types replace tagged tuples between the per-region geometry
(:mod:`.processor`), the serial search (:mod:`.search`) and the work sharing
(:mod:`.parallel`).  All of them pickle, so worker processes send them back
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..lp import LPStatus
from ..lp.exact import RationalVector
from ..network import LocalAffineMap

__all__ = ["PendingRegion", "RegionWork", "Counted", "NotCounted", "Unresolved", "Outcome", "Processed"]


class PendingRegion(NamedTuple):
    """A pattern waiting in the search queue, with hints for its interior point.

    Immutable.  A named tuple rather than a frozen dataclass because the search
    builds one per facet crossed (several per region), and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) costs about four times as
    much.  Compare patterns by :attr:`key`, not with ``==``.

    Attributes
    ----------
    signs : ndarray of int8, shape (N,)
        The pattern (+1 active, -1 inactive).
    facet_point : ndarray, shape (n_in,), optional
        A point in the relative interior of the facet it was reached through.
    normal : ndarray, shape (n_in,), optional
        Unit normal of that facet, pointing into this region.
    guess : ndarray, shape (n_in,), optional
        A point to start from when there is no facet (the start region) or the
        parent's witness otherwise.
    """

    signs: NDArray[np.int8]
    facet_point: NDArray[np.float64] | None = None
    normal: NDArray[np.float64] | None = None
    guess: NDArray[np.float64] | None = None

    @property
    def key(self) -> bytes:
        """The pattern as bytes (the search's ``seen`` key)."""
        return self.signs.tobytes()


@dataclass(eq=False)
class RegionWork:
    """One region as processed by the search: everything the result needs about it.

    ``thin`` marks a region whose inscribed radius is below ``Tolerances.margin``
    (counted; its existence decided exactly); ``exact_witness`` is the exactly
    checked interior point when floats alone did not certify ``witness``.
    """

    signs: NDArray[np.int8]
    witness: NDArray[np.float64]
    margin: float
    facet_units: list[tuple[int, ...]]
    neighbor_keys: list[bytes]
    n_facets: int
    bounded: bool | None
    affine: LocalAffineMap
    thin: bool = False
    exact_witness: RationalVector | None = None


@dataclass(frozen=True, eq=False)
class Counted:
    """The pattern has a region; it is counted."""

    work: RegionWork


@dataclass(frozen=True, eq=False)
class NotCounted:
    """The pattern has no region: its interior is proved empty (exactly checked certificate)."""

    signs: NDArray[np.int8]


@dataclass(frozen=True, eq=False)
class Unresolved:
    """An LP gave no usable answer for the pattern: it is neither counted nor excluded."""

    signs: NDArray[np.int8]
    status: LPStatus


Outcome = Counted | NotCounted | Unresolved


@dataclass(frozen=True, eq=False)
class Processed:
    """The outcome for one pending region, and the neighbours it leads to."""

    outcome: Outcome
    neighbors: tuple[PendingRegion, ...] = ()
