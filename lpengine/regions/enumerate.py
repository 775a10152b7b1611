"""Exact enumeration of the activation regions of a ReLU network.

Algorithm (breadth-first search over the dual graph, ``region_counting.md`` §2.3):

1. Start from the region containing an interior point of the domain.
2. For each region ``S``, build its normalised rows (:func:`region_halfspaces`)
   and find its facets exactly:

   * bounded domains with ``n_in >= 2`` (method ``"vertex"``): Qhull computes
     the region's vertices from an interior point; a row is a facet iff the
     vertices on it span a (d-1)-dimensional set.  No LP is needed; the
     interior point for Qhull comes from the neighbour crossing (see below).
   * unbounded domains with ``n_in >= 2`` (method ``"hybrid"``): the vertex
     method on the region cut by a large artificial box ``B``.  Its facets on
     region rows are facets of the region; if none lies on ``B``'s boundary the
     region is inside ``B`` (bounded, no LP); otherwise only the rows not yet
     proved facets go to the LP method below.
   * otherwise (method ``"lp"``; n_in = 1, or as a fallback when Qhull
     refuses): one Chebyshev LP for the centre, ray shooting, and one LP per
     remaining candidate row.

3. The neighbour across a facet flips exactly the units whose hyperplanes form
   that facet (coincident hyperplanes flip together).  Its interior point is
   the facet's centre pushed halfway across the neighbour along the normal.

Definition and certificates (:mod:`lpengine.regions.certify`).  A pattern's
region counts iff its interior is nonempty, with the float64 weights read as
the exact rationals they store.  Every counted region carries a witness
inside it: proved by floats when every row clears its rigorous rounding-error
bound there, otherwise checked in rational arithmetic (``Region.exact_witness``),
or found by the exact LP.  A pattern is dropped only with an exactly checked
emptiness certificate.  Regions whose inscribed radius is below ``tol.margin``
are counted and flagged ``thin``; the search crosses them by trying every
one-flip pattern (each decided exactly).  Facet decisions the floats make
within ``tol.margin`` (or LPs without an answer) also send their one-flip
pattern to the queue, so no region behind a borderline facet is lost.

Degenerate input, and the documented answers:

* coincident hyperplanes (duplicate units, a unit coinciding with a domain
  face) - exactly proportional rows only, by an integer test: one facet;
  crossing it flips all of its units together.  Rows that are merely close
  stay separate (the thin region between them is a region);
* several hyperplanes through one point: handled exactly (facets are decided
  by vertex spans or LPs, never by genericity assumptions);
* dead units (gradient exactly zero under the pattern): no hyperplane; the sign
  follows the exact constant value, 0 counting as inactive.  A tiny but
  nonzero gradient (weights of 1e-27, say) is a live unit with its exact sign.

Parallelism (``n_jobs > 1``, any domain): work sharing, see
:mod:`lpengine.regions.parallel`; on a Dask cluster (``client=``): the
owner-partitioned search of :mod:`lpengine.regions.distributed`.  Both
give the serial count, patterns, flags and graph.

Module map: :mod:`.result` (result types, graph schema), :mod:`.domain`
(domains), :mod:`.polytope` (rows, Chebyshev LP, facets), :mod:`.processor`
(one region), :mod:`.search` (serial search), :mod:`.parallel` (work
sharing), :mod:`.budget` (stopping rules).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from .._validation import check_int, check_scalar
from ..exceptions import CheckpointError, IncompleteCountError, InvalidDomainError, IterationLimitWarning
from ..lp import get_backend
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .budget import Budget
from .checkpoint import Checkpointer, fingerprint, load_checkpoint
from .domain import Domain, make_domain
from .parallel import parallel_search
from .pattern import ActivationPattern
from .result import EnumerationProgress, Region, RegionEnumeration, layer_stats
from .search import SearchOut, search, start_point
from .search1d import ScanOut, search_1d
from .stream import StreamingCollector, prepare_shards

__all__ = ["Region", "RegionEnumeration", "EnumerationProgress", "enumerate_regions", "count_regions"]

logger = logging.getLogger(__name__)


def enumerate_regions(
    net: ReLUNetwork,
    domain: Domain | None = None,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    method: str = "auto",
    tol: Tolerances | None = None,
    max_regions: int | None = None,
    time_limit: float | None = None,
    callback: Callable[[EnumerationProgress], bool | None] | None = None,
    n_jobs: int = 1,
    compute_bounded: bool | None = None,
    seed: int = 0,
    backend: Any = "highs",
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: float = 5.0,
    resume: str | os.PathLike[str] | None = None,
    client: Any = None,
    partitions: int | None = None,
    keep_regions: bool = True,
    shards_dir: str | os.PathLike[str] | None = None,
) -> RegionEnumeration:
    """Enumerate every full-dimensional activation region of ``net`` in a domain.

    Parameters
    ----------
    net : ReLUNetwork
    domain : Domain, optional
        The input domain (:meth:`Domain.box`, :meth:`Domain.polytope`,
        :meth:`Domain.whole_space`).  The keywords below are a shorthand for
        the same; give at most one form.  The default domain is the box
        ``[-1, 1]^n_in``.
    box : (lo, hi), optional
        The box ``[lo, hi]^n_in`` (scalars or per-coordinate vectors).
    polytope : (A, c), optional
        The polytope ``{x : A x <= c}`` (bounded or not) with non-empty interior.
    whole_space : bool
        Enumerate the regions of all of R^n_in.
    method : {"auto", "vertex", "hybrid", "lp", "scan"}
        ``"vertex"``: Qhull vertex-based facets (bounded domains, n_in >= 2);
        ``"hybrid"`` (unbounded domains, n_in >= 2): facets, vertices and
        boundedness from the convex hull of the region's polar (no LP; LPs
        only for regions containing a line);
        ``"lp"``: one LP per candidate facet; ``"scan"`` (n_in = 1): the exact
        walk along the line, no LP (:mod:`lpengine.regions.search1d`);
        ``"auto"`` picks ``"scan"``, ``"vertex"`` or ``"hybrid"`` (``"lp"`` for a
        checkpointed 1-D search).
    tol : Tolerances, optional
    max_regions : int, optional
        Stop after this many regions (``complete=False``).
    time_limit : float, optional
        Stop after this many seconds (``complete=False``).
    callback : callable, optional
        ``callback(EnumerationProgress) -> bool | None`` about twice a second;
        returning True stops the search (``complete=False``).
    n_jobs : int
        Processes sharing the region work (see the module docstring); ``1``
        runs in this process.  The workers start once 16 regions are pending,
        so tiny searches stay serial (``RegionEnumeration.processes`` says how
        many took part); worth it from a few hundred regions on.  The 1-D scan
        (``method="scan"``) cuts the line into chunks walked in parallel
        (:mod:`lpengine.regions.scan_parallel`; the result equals the serial
        scan's) once it has run for 0.2 s, except with ``max_regions``, which
        keeps it serial (``res.decisions["scan_chunks"]`` is 1 then).
    compute_bounded : bool, optional
        Decide boundedness of each region by an LP (default: True for R^d and
        unbounded polytopes).
    seed : int
        Seed for the start-point perturbation (used only if the domain centre
        lies on a hyperplane).
    backend : str or LPBackend
        The LP backend of every LP the enumeration opens (``"highs"``, or
        ``"scipy"`` as an independent cross-check; see
        :func:`lpengine.lp.available_backends`).
    checkpoint : path, optional
        Write the search state to this file every ``checkpoint_every`` seconds
        (atomically) and once at the end; see :mod:`lpengine.regions.checkpoint`.
        A run stopped by a budget, Ctrl-C, SIGTERM or SIGKILL loses at most
        one interval.
    checkpoint_every : float
        Seconds between checkpoint writes (at least; the interval grows so
        that writing takes at most a tenth of the time).
    resume : path, optional
        Go on from this checkpoint, written for the same network, domain,
        tolerances and method (else :class:`~lpengine.exceptions.CheckpointError`).
        The result equals that of an uninterrupted run.  With ``checkpoint``
        unset, the run keeps checkpointing to the same file.
    client : distributed.Client, optional
        Run the search on this Dask cluster, owner-partitioned (see
        :mod:`lpengine.regions.distributed`; the 1-D scan: its chunks as
        tasks); ``n_jobs`` is then not used.
    partitions : int, optional
        With ``client``: the number of partitions of the patterns (each keeps
        its share of the seen set and of the frontier on a worker); default
        the number of worker threads.
    keep_regions : bool
        False: keep only the count and the statistics (``regions`` and
        ``edges`` stay empty; ``n_bounded``, ``thin_patterns``, ``layer_stats``
        equal those of a kept run), see :mod:`lpengine.regions.stream`.  Its
        checkpoints hold the statistics instead of the regions.
    shards_dir : path, optional
        With ``keep_regions=False``: also write the regions to this folder in
        ``.npz`` shards.  A fresh search needs a folder without shards.  With
        ``checkpoint``, each checkpoint names the shards holding the regions
        counted before it; on ``resume`` (same folder) the shards written
        after it are removed and written again, so the shards hold every
        region once, as an uninterrupted run's (see :mod:`lpengine.regions.stream`).

    Returns
    -------
    RegionEnumeration

    Raises
    ------
    InvalidDomainError
        Malformed or empty domain.

    Examples
    --------
    >>> from lpengine import ReLUNetwork
    >>> net = ReLUNetwork([[[1.0, 0.0], [0.0, 1.0]]], [[0.0, 0.0]], has_output_layer=False)
    >>> enumerate_regions(net, box=(-1, 1)).count
    4
    """
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork; got {type(net).__name__}.")
    t = resolve_tolerances(tol)
    if method not in ("auto", "vertex", "hybrid", "lp", "scan"):
        raise ValueError(
            f"The 'method' parameter must be 'auto', 'vertex', 'hybrid', 'lp' or 'scan'. Got {method!r} instead."
        )
    if max_regions is not None:
        max_regions = check_int(max_regions, "max_regions", low=1)
    if time_limit is not None:
        time_limit = check_scalar(time_limit, "time_limit", low=0.0)
    n_jobs = check_int(n_jobs, "n_jobs", low=1)
    get_backend(backend)  # fail early, with the list of available backends
    dom = make_domain(net.n_in, domain, box=box, polytope=polytope, whole_space=whole_space, tol=t, backend=backend)
    if method == "auto":
        if net.n_in < 2:
            # The exact line walk has no frontier to checkpoint: a checkpointed 1-D search uses LPs.
            method = "lp" if checkpoint is not None or resume is not None else "scan"
        else:
            method = "vertex" if dom.bounded else "hybrid"
    elif method == "scan" and net.n_in != 1:
        raise InvalidDomainError(f"method='scan' is for networks with one input; this one has n_in = {net.n_in}.")
    elif method == "scan" and (checkpoint is not None or resume is not None):
        raise ValueError("method='scan' takes no checkpoint or resume (it has no frontier to save); use method='lp'.")
    elif method == "vertex" and not dom.bounded:
        raise InvalidDomainError("method='vertex' needs a bounded domain; use method='hybrid', 'lp' or 'auto'.")
    elif method == "hybrid" and (dom.bounded or net.n_in < 2):
        raise InvalidDomainError("method='hybrid' is for unbounded domains with n_in >= 2; use 'vertex' or 'auto'.")
    if compute_bounded is None:
        compute_bounded = not dom.bounded
    if partitions is not None:
        if client is None:
            raise ValueError("partitions= goes with client= (the Dask search); use n_jobs= for local processes.")
        partitions = check_int(partitions, "partitions", low=1)
    if shards_dir is not None and keep_regions:
        raise ValueError("shards_dir= goes with keep_regions=False (kept regions are in the result).")
    t0 = time.perf_counter()
    budget = Budget(max_regions, None if time_limit is None else t0 + time_limit, callback, t0)
    start = start_point(net, dom, t, seed)
    snap = None
    if resume is not None:
        snap = load_checkpoint(resume, net, dom, t, method, compute_bounded, backend)
        if (snap.stream is None) != keep_regions:
            held = "statistics only (keep_regions=False)" if snap.stream is not None else "the regions"
            raise CheckpointError(
                f"checkpoint {str(resume)!r} holds {held}; resume it with keep_regions={snap.stream is None}."
            )
        checkpoint = resume if checkpoint is None else checkpoint
        if shards_dir is None and snap.stream is not None and snap.stream.shard_files is not None:
            raise CheckpointError(
                f"checkpoint {str(resume)!r} was written with shards_dir ({len(snap.stream.shard_files)} shard "
                "file(s) hold its regions); resume it with shards_dir= the folder holding them."
            )
    if shards_dir is not None:
        # A fresh search needs a folder without shards; a resumed one keeps the checkpoint's shards only.
        prepare_shards(shards_dir, None if snap is None else snap.stream)
    ckpt = None
    if checkpoint is not None:
        ckpt = Checkpointer(checkpoint, fingerprint(net, dom, t, method, compute_bounded), checkpoint_every)
    kw: dict[str, Any] = {
        "method": method,
        "start": start,
        "budget": budget,
        "compute_bounded": compute_bounded,
        "backend": backend,
        "resume": snap,
        "checkpointer": ckpt,
    }
    if not keep_regions:
        kw["collector"] = StreamingCollector(net, dom, shards_dir=shards_dir, limit=max_regions)
        if snap is not None and snap.stream is not None and client is None:
            kw["collector"].restore(snap.stream)  # the Dask search hands the prefixes to its partitions instead
    out: SearchOut
    if method == "scan":
        out = search_1d(
            net, dom, t, start=start, budget=budget, collector=kw.get("collector"), n_jobs=n_jobs, client=client
        )
    elif client is not None:
        from .distributed import distributed_search

        out = distributed_search(net, dom, t, client=client, partitions=partitions, **kw)
    elif n_jobs > 1:
        out = parallel_search(net, dom, t, n_jobs=n_jobs, **kw)
    else:
        out = search(net, dom, t, **kw)
    return _assemble(net, dom, out, method, t0)


def _assemble(net: ReLUNetwork, domain: Domain, out: SearchOut, method: str, t0: float) -> RegionEnumeration:
    widths = net.hidden_widths
    # Every pattern is processed once (serial or shared), so the collected regions are distinct.
    regions, edges = out.collector.regions, out.collector.edges
    found = out.collector.index
    undecided = sorted({str(ActivationPattern(s, widths)) for s in out.undecided if s.tobytes() not in found})
    streamed: dict[str, Any] = {}
    if isinstance(out.collector, StreamingCollector):
        col = out.collector
        col.flush()
        count, thin, stats = col.count, sorted(col.thin), col.layer_stats()
        streamed = {"n_bounded": col.n_bounded, "min_margin": col.min_margin, "shards": col.n_shards}
    else:
        count = len(regions)
        thin = sorted(str(r.pattern) for r in regions if r.thin)
        stats = layer_stats(net, regions)
    decisions = {k: getattr(out.stats, k) for k in ("float_certified", "exact_witness", "exact_lp", "proved_empty")}
    decisions["exact_rows"] = out.stats.exact_rows
    decisions["seconds_exact"] = out.stats.seconds_exact
    decisions["exact_facets"] = out.stats.exact_facets
    decisions["exact_crossings"] = out.stats.exact_crossings
    if isinstance(out, ScanOut):
        decisions["scan_chunks"] = out.chunks
    if not out.complete:
        warnings.warn(
            f"region enumeration incomplete ({out.message}); the count is a lower bound.",
            IterationLimitWarning,
            stacklevel=3,
        )
    return RegionEnumeration(
        count,
        out.complete,
        tuple(regions),
        tuple((i, j, u) for (i, j), u in edges.items()),
        out.counters.solves,
        out.counters.iterations,
        time.perf_counter() - t0,
        method,
        domain.describe(),
        tuple(thin),
        stats,
        out.message,
        out.processes,
        tuple(undecided),
        decisions,
        streamed=streamed,
    )


def count_regions(
    net: ReLUNetwork,
    domain: Domain | None = None,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    tol: Tolerances | None = None,
    n_jobs: int = 1,
    backend: Any = "highs",
) -> int:
    """The exact number of activation regions (see :func:`enumerate_regions` for the definition).

    Raises
    ------
    IncompleteCountError
        If the enumeration could not decide every pattern it met; the partial
        result (with ``count_lower``) is the exception's ``result``.  A lower
        bound is never returned as the count.

    >>> from lpengine import ReLUNetwork
    >>> count_regions(ReLUNetwork.random(2, [4], seed=1), whole_space=True)
    11
    """
    res = enumerate_regions(
        net,
        domain,
        box=box,
        polytope=polytope,
        whole_space=whole_space,
        tol=tol,
        n_jobs=n_jobs,
        compute_bounded=False,
        backend=backend,
    )
    if not res.complete:
        raise IncompleteCountError(
            f"the region count is not exact ({res.message}): at least {res.count_lower} regions, "
            f"{len(res.undecided_patterns)} pattern(s) undecided.",
            res,
        )
    return res.count
