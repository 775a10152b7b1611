"""The region search of a one-input network (method ``"scan"``): an exact walk along the line, no LP.

For ``n_in = 1`` every activation region is an open interval and the regions
tile the domain (an interval of the line, possibly infinite).
:func:`~lpengine.regions.scan1d.walk_line_regions` walks from the start region
to both ends, crossing each breakpoint exactly in integer arithmetic, so the
count is exact and complete without a single LP (the LP method needs dozens
per region here).  Each region carries its exact midpoint as a checked
witness, its neighbours across its two ends (the edges of the dual graph, a
path) and its boundedness (both ends finite).

What equals the LP method's result: the count, the patterns, the edges and
their flipped units, boundedness and the ``thin`` flags (half-length at most
``tol.margin``).  The witnesses differ (midpoints here, Chebyshev centres
there).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidDomainError
from ..lp.exact import RationalVector
from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .budget import Budget
from .domain import Domain
from .outcome import RegionWork
from .pattern import ActivationPattern
from .result import RegionCollector
from .scan1d import LinePiece, walk_line_regions
from .scan_parallel import ChunkResult, ScanRun, join_chunks, scan_chunks, serial_order
from .search import SearchOut

__all__ = ["search_1d", "domain_interval", "ScanOut"]

logger = logging.getLogger(__name__)


@dataclass
class ScanOut(SearchOut):
    """A scan's result: the search's, plus the number of chunks the line was cut into (1: walked serially)."""

    chunks: int = 1


def domain_interval(domain: Domain) -> tuple[float, float]:
    """The ends ``(lo, hi)`` of a one-dimensional domain (``-inf`` / ``inf`` when open)."""
    if domain.dim != 1:
        raise InvalidDomainError(f"domain_interval needs a 1-D domain; got dimension {domain.dim}.")
    if domain.kind == "whole":
        return -math.inf, math.inf
    if domain.kind == "box":
        assert domain.lo is not None and domain.hi is not None
        return float(domain.lo[0]), float(domain.hi[0])
    assert domain.A is not None and domain.c is not None
    lo: Fraction | None = None  # exact ends from the rows as given: a x <= c
    hi: Fraction | None = None
    for a, c in zip(domain.A[:, 0].tolist(), domain.c.tolist(), strict=True):
        end = Fraction(c) / Fraction(a)
        if a > 0:
            hi = end if hi is None or end < hi else hi
        else:
            lo = end if lo is None or end > lo else lo
    if (lo is not None and float(lo) != lo) or (hi is not None and float(hi) != hi):
        raise InvalidDomainError(
            "the 1-D polytope's ends are not float64 numbers (c / a rounds); give the domain as a box instead."
        )
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def _work(piece: LinePiece, net: ReLUNetwork, tol: Tolerances) -> RegionWork:
    """The result record of one interval: exact midpoint witness, neighbours, boundedness."""
    lo, hi = piece.lo, piece.hi
    if lo is not None and hi is not None:
        mid, half = (lo + hi) / 2, float((hi - lo) / 2)
    elif lo is not None:
        mid, half = lo + 1, 1.0
    elif hi is not None:
        mid, half = hi - 1, 1.0
    else:
        mid, half = Fraction(0), math.inf
    signs = piece.signs
    facet_units: list[tuple[int, ...]] = []
    keys: list[bytes] = []
    for nb in (piece.left, piece.right):
        if nb is not None:
            facet_units.append(tuple(np.flatnonzero(nb != signs).tolist()))
            keys.append(nb.tobytes())
    n_facets = int(lo is not None) + int(hi is not None)
    exact = RationalVector.from_fractions([mid])
    witness = np.array([float(mid)])
    return RegionWork(
        signs,
        witness,
        half,
        facet_units,
        keys,
        n_facets,
        lo is not None and hi is not None,
        net._local_affine_map(signs > 0),
        thin=half <= tol.margin,
        exact_witness=exact,
    )


def search_1d(
    net: ReLUNetwork,
    domain: Domain,
    tol: Tolerances,
    *,
    start: tuple[NDArray[np.float64], ActivationPattern],
    budget: Budget,
    collector: RegionCollector | None = None,
    n_jobs: int = 1,
    client: Any = None,
) -> ScanOut:
    """Count and collect the regions of a one-input network by the exact walk (see the module docstring).

    ``start`` is the search's start point (on no hyperplane, decided exactly);
    the budget is honoured between regions.  With ``n_jobs > 1`` or a Dask
    ``client`` the line is cut into chunks walked in parallel
    (:mod:`~lpengine.regions.scan_parallel`); the result is the serial one, in
    the serial order.  ``max_regions`` keeps the scan serial (it asks for the
    walk's first regions in order); the log says so and ``out.chunks`` is 1.
    """
    lo, hi = domain_interval(domain)
    out = ScanOut(collector if collector is not None else RegionCollector(net.hidden_widths, domain), method="scan")
    x0 = float(start[0][0])
    if (n_jobs > 1 or client is not None) and budget.max_regions is not None:
        logger.info(
            "1-D scan: max_regions = %d takes the walk's first regions in order, so the scan runs serially "
            "(n_jobs / client not used)",
            budget.max_regions,
        )
    elif n_jobs > 1 or client is not None:
        run = scan_chunks(net, lo, hi, tol, budget=budget, n_jobs=n_jobs, client=client)
        pieces = serial_order(join_chunks(run.results), x0) if run.complete else _finished_stretches(run)
        for piece in pieces:
            out.collector.add(_work(piece, net, tol))
            out.stats.exact_witness += 1
        if not run.complete:
            out.complete, out.message = False, run.message
        out.processes, out.chunks = len(run.processes), run.n_chunks
        logger.info(
            "1-D scan: %d regions, %d chunks, %d walked by %d process(es)",
            len(pieces),
            run.n_chunks,
            len(run.results),
            len(run.processes),
        )
        return out
    n = 0
    for piece in walk_line_regions(net, lo, hi, x0):
        reason = budget.stop_reason(n, 1, 0)
        if reason is not None:
            out.complete, out.message = False, reason
            break
        out.collector.add(_work(piece, net, tol))
        out.stats.exact_witness += 1
        n += 1
    return out


def _finished_stretches(run: ScanRun) -> list[LinePiece]:
    """The whole intervals of a stopped parallel scan's finished chunks (a lower bound on the count).

    Consecutive finished chunks are joined; an interval cut by an unfinished
    chunk is left out (its extent, hence its witness and boundedness, is unknown).
    """
    runs: list[list[ChunkResult]] = []  # consecutive finished chunks
    for r in sorted(run.results, key=lambda r: r.index):
        if runs and runs[-1][-1].index == r.index - 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    out: list[LinePiece] = []
    for seq in runs:
        joined = join_chunks(seq)
        lo_cut, hi_cut = seq[0].index != 0, seq[-1].index != run.n_chunks - 1
        out += joined[int(lo_cut) : len(joined) - int(hi_cut)]
    return out
