"""The Deep ReLU Simplex: exact vertex-walking minimisation of the layer-wise L1 loss.

With the data and all other layers frozen, the L1 (or quantile) training loss
of a ReLU network is a piecewise-affine function of one layer's parameters
``theta`` (``D = n_out * (n_in + 1)`` numbers).  :func:`deep_relu_simplex`
walks from a vertex of this function (a point where ``D`` kinks with
independent normals vanish) to an adjacent one along a descending edge,
crossing kinks (and changing activation region) on the way, until no edge
descends; the final vertex carries a certificate (:class:`DRSCertificate`).

Engines.  Two independent engines end with the same certificate and log into
the same trajectory graph (``engine=`` of :func:`deep_relu_simplex`,
``lpengine solve --engine {native,highs}``, ``solver.engine`` in problem files).
The default is the native one of :mod:`lpengine.simplex.engine`: NumPy, batched over samples, with a
Sherman–Morrison-updated basis inverse (refactorised every 50 pivots and
whenever an update pivot is tiny; the basis kinks are recomputed exactly after
every pivot and snapped back by a Newton step if they drift).  HiGHS is the
referee, not the driver, and the two must agree:

* **always**, at the final vertex: the LP of every incident hidden cell
  (reference notes ``deep_relu_simplex.md`` §3 fact 2: a local minimum iff LP-optimal
  on every cell containing it), on a small box around the vertex.  All cells
  when there are at most ``certify_cells`` (32), else a seeded sample of that
  size, at a non-degenerate vertex, where the complete ``2D``-ray edge test
  is already a proof; at a *degenerate* vertex (more than ``D`` kinks at zero)
  the edge test is not a proof, so HiGHS decides on all incident cells up to
  ``certify_max_cells`` (256) and the vertex is reported undecided
  (``certified=False``) beyond.  A lower LP optimum in an incident cell
  restarts the walk from there (an ``"escape"`` edge);
* **every vertex** with ``verify=True`` (used by the tests): the region LP of
  the tracked hidden cell with the ``D`` basis kinks fixed at zero must
  reproduce the engine's ``theta`` and loss (to ``1e-6`` relative), else
  :class:`~lpengine.exceptions.SolverError`.

``engine="highs"`` (:mod:`lpengine.simplex.highs_engine`) lets HiGHS's simplex
do every pivot: it solves the region LP of the current hidden cell
(warm-started from the previous basis), and from that optimal vertex moves
into an incident cell (across hidden kinks at zero there) whose LP optimum is
lower, until none is; one logged vertex per cell.

Why native by default: speed and traceability.  A pivot of the native engine
costs ``O(D^2 + N * P)`` in a few dozen vectorised operations (hundreds of
vertices per second on the reference first-layer problem, N = 500, D = 25, on
a shared 2-core machine), whereas a HiGHS re-solve costs a Python round trip
and an LP of ``D + 2N`` columns and ``N(1 + sum n_l)`` rows per region, and its
internal simplex pivots are not the vertex-to-vertex path (edges of the loss,
with the Barrodale–Roberts line search crossing kinks along them) that the
trajectory graph records.  The HiGHS engine takes far fewer, much more
expensive steps (one LP of ``D + 2N`` columns per cell tried), so it suits
small problems and serves as the independent cross-check of the native walk.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from .._display import fmt_num, html_card, short_repr
from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidOptionError, InvalidProblemError
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .certificate import CellCheck, DRSCertificate, check_cells
from .collapse import REVIVED, CollapsedUnit, loss_error_bound, search_revival, unit_columns, unit_kinks
from .encoding import build_argmin_model, build_layer_model
from .engine import EdgeRecord, EngineLog, EngineOptions
from .engine import run_engine as run_native_engine
from .exact import exact_ray_slopes, exact_vertex_loss_is_zero
from .highs_engine import run_highs_engine
from .model import LayerwiseModel
from .pivot import price_rays, tight_mask
from .progress import CertifyBudget, DRSCallback, DRSState, Halt
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["DRSResult", "DRSState", "DRSCertificate", "deep_relu_simplex", "minimize_output"]

#: Default cap on the incident hidden cells that HiGHS checks exhaustively at a degenerate vertex.
DEGENERATE_CELL_CAP = 256


@dataclass(frozen=True, eq=False)
class DRSResult:
    """Result of :func:`deep_relu_simplex` (scipy-style names plus the trajectory).

    Attributes
    ----------
    theta : ndarray, shape (D,)
        Final parameters of the trained layer, ``[W.ravel(), b]`` (for
        :func:`minimize_output`: the final input point).
    fun : float
        Final loss (``sum |r_i|`` for L1, the pinball loss otherwise).
    x : ndarray
        Alias of ``theta`` (scipy's name).
    losses : ndarray, shape (n_vertices,)
        Loss at every visited vertex, in order (non-increasing).
    thetas : ndarray, shape (n_vertices, D)
        The visited vertices (public layout), the side table of ``trajectory``.
    nit : int
        Number of pivots (phase 2 steps); ``len(losses) == nit + 1`` unless phase 1 failed.
    status : DRSStatus
        Why the walk ended (a :class:`enum.StrEnum`: compares equal to ``"local_minimum"``,
        ``"max_pivots"``, ``"time_limit"``, ``"stopped"`` (callback), ``"interrupted"`` (Ctrl-C),
        ``"unbounded"`` or ``"stalled"``).
    success : bool
        ``status == "local_minimum"``.
    certified : bool
        Local minimum certified: no descending edge among all 2D rays, confirmed by
        HiGHS on the incident hidden cells (see ``certificate``).
    certificate : DRSCertificate or None
        The evidence (``None`` unless the run ended at a vertex).
    message : str
    trajectory : networkx.DiGraph
        Node ``k`` = ``k``-th vertex with attributes ``loss`` (float), ``iteration``
        (int), ``region`` (str: id of the hidden cell, ``"-"`` without hidden
        units), ``n_tight`` (int: kinks at zero, the kinks of collapsed units
        excluded), ``n_collapsed`` (int: trained-layer units pinned at exact zero; each accounts for
        ``p = n_in + 1`` basis kinks and all ``N`` of its kinks), ``basis`` (str: comma-separated
        kink ids).  Edge ``k -> k+1`` = pivot with ``step`` (float: distance
        travelled), ``t`` (float), ``kinks_crossed`` (int), ``region_changed``
        (bool), ``leaving``/``entering`` (int kink ids), ``slope`` (float:
        normalised slope of the ray taken), ``kind`` (str: ``"pivot"``, or
        ``"escape"`` for a restart from the LP optimum of an incident cell where
        a degenerate vertex passed the edge test but HiGHS found a lower loss).  Graph attributes: ``D``, ``status``,
        ``line_search``.
    network : ReLUNetwork or None
        The network with ``theta`` plugged into the trained layer (``None`` for LAD).
    start_loss : float
        Loss at the (possibly perturbed) start point.
    theta0 : ndarray, shape (D,)
        The start point actually used (after any perturbation).
    perturbation : ndarray or None
        The seeded random vector added to a start point lying on a kink.
    stats : dict
        Counters: phase1_steps, region_changes, kinks_crossed, zero_steps,
        refactorisations, max_inverse_drift, max_basis_drift, snaps, verified,
        max_verify_theta, max_verify_loss, seconds (engine wall time), phase1_seconds, cpu_seconds
        (engine process time), escapes, kink_tolerance.
    unbounded_ray : ndarray or None
        Direction of unbounded descent (status ``"unbounded"``).
    """

    theta: NDArray[np.float64]
    fun: float
    losses: NDArray[np.float64]
    thetas: NDArray[np.float64]
    nit: int
    status: DRSStatus
    certified: bool
    certificate: DRSCertificate | None
    message: str
    trajectory: nx.DiGraph
    network: ReLUNetwork | None
    start_loss: float
    theta0: NDArray[np.float64]
    perturbation: NDArray[np.float64] | None
    stats: dict
    unbounded_ray: NDArray[np.float64] | None
    layer: int = 0

    @property
    def x(self) -> NDArray[np.float64]:
        """Alias of :attr:`theta`."""
        return self.theta

    @property
    def success(self) -> bool:
        """Whether the run stopped at a local minimum."""
        return self.status == DRSStatus.LOCAL_MINIMUM

    @property
    def region_changes(self) -> int:
        """Pivots whose end vertex lies in another hidden cell."""
        return int(self.stats["region_changes"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: status, losses (start point and first vertex told apart), final point,
        counters and the certificate.  The trajectory and the visited vertices are left out (export them)."""
        seconds = float(self.stats.get("seconds", 0.0))
        return {
            "status": str(self.status),
            "success": self.success,
            "certified": self.certified,
            "message": self.message,
            "fun": float(self.fun),
            "start_loss": float(self.start_loss),
            "first_vertex_loss": float(self.losses[0]) if self.losses.size else None,
            "theta": [float(v) for v in self.theta],
            "layer": int(self.layer),
            "nit": int(self.nit),
            "n_vertices": int(self.losses.size),
            "region_changes": self.region_changes,
            "kinks_crossed": int(self.stats.get("kinks_crossed", 0)),
            "escapes": int(self.stats.get("escapes", 0)),
            "revivals": int(self.stats.get("revivals", 0)),
            "collapse_events": int(self.stats.get("collapse_events", 0)),
            "seconds": seconds,
            "vertices_per_second": self.nit / seconds if seconds > 0 else None,
            "certificate": None if self.certificate is None else self.certificate.to_dict(),
        }

    def __repr__(self) -> str:
        fields = [
            ("status", str(self.status)),
            ("fun", self.fun),
            ("nit", self.nit),
            ("n_vertices", int(self.losses.size)),
        ]
        return short_repr("DRSResult", [*fields, ("certified", self.certified), ("layer", self.layer)])

    def _repr_html_(self) -> str:
        """Notebook view: status, certificate, losses, work, and the loss at a few vertices of the walk."""
        n = int(self.losses.size)
        first = f"{fmt_num(float(self.losses[0]), 8)}" if n else "-"
        facts: list[tuple[str, Any]] = [
            ("status", f"{self.status} ({'certified' if self.certified else 'not certified'})"),
            ("loss", f"start {fmt_num(self.start_loss, 8)}, first vertex {first}, final {fmt_num(self.fun, 8)}"),
            ("vertices", f"{n:,d} ({self.nit:,d} pivots, {self.region_changes:,d} region changes)"),
            ("seconds", float(self.stats.get("seconds", 0.0))),
        ]
        picks = sorted({0, n // 4, n // 2, (3 * n) // 4, n - 1}) if n else []
        return html_card(
            f"DRSResult (layer {self.layer})",
            facts,
            header=("vertex", "loss"),
            rows=[(k, float(self.losses[k])) for k in picks],
            note=self.message,
        )


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def _check_options(
    max_pivots: int | None,
    time_limit: float | None,
    pricing: str,
    certify_cells: int,
    certify_max_cells: int = DEGENERATE_CELL_CAP,
) -> None:
    if max_pivots is not None:
        check_int(max_pivots, "max_pivots", low=0, error=InvalidOptionError)
    if time_limit is not None:
        check_scalar(time_limit, "time_limit", low=0.0, low_inclusive=True, error=InvalidOptionError)
    if pricing not in ("steepest", "dantzig"):
        raise InvalidOptionError(f"The 'pricing' parameter must be 'steepest' or 'dantzig'. Got {pricing!r} instead.")
    check_int(certify_cells, "certify_cells", low=1, error=InvalidOptionError)
    check_int(certify_max_cells, "certify_max_cells", low=1, error=InvalidOptionError)


def solve_model(
    model: LayerwiseModel,
    theta0_internal: NDArray[np.float64],
    *,
    seed: int | None,
    max_pivots: int | None,
    time_limit: float | None,
    line_search: bool,
    verify: bool,
    callback: DRSCallback | None,
    tol: Tolerances | None,
    pricing: str = "steepest",
    certify_cells: int = 32,
    backend: str = "highs",
    max_escapes: int = 20,
    certify_max_cells: int | None = None,
    engine: str = "native",
) -> tuple[EngineLog, DRSCertificate | None, dict]:
    """Run the engine and certify the end point (shared by DRS, LAD and argument minimisation)."""
    t = resolve_tolerances(tol)
    if engine not in ("native", "highs"):
        raise InvalidOptionError(f"The 'engine' parameter must be 'native' or 'highs'. Got {engine!r} instead.")
    run_engine = run_highs_engine if engine == "highs" else run_native_engine
    if certify_max_cells is None:
        certify_max_cells = max(DEGENERATE_CELL_CAP, certify_cells)
    _check_options(max_pivots, time_limit, pricing, certify_cells, certify_max_cells)
    if callback is not None and not callable(callback):
        raise InvalidOptionError(f"callback must be callable or None; got {type(callback).__name__}.")
    opts = EngineOptions(
        line_search=bool(line_search),
        max_pivots=max_pivots,
        time_limit=time_limit,
        verify=bool(verify),
        seed=seed,
        pricing=pricing,
        backend=backend,
        callback=callback,
    )
    t_start = time.perf_counter()

    def certify(tz: float) -> tuple[DRSCertificate | None, NDArray[np.float64] | None, str]:
        """Certify the end vertex, within the run's budget (a stop or Ctrl-C leaves it uncertified)."""
        st = log.final
        if st is None or st.B.size != model.D or log.pricing is None:
            return None, None, "escape"
        now = time.perf_counter() - t_start
        state = DRSState(
            iteration=log.nit,
            loss=float(st.loss),
            region_changes=log.region_changes,
            kinks_crossed=log.kinks_crossed,
            step=0.0,
            elapsed=now,
            n_vertices=len(log.losses),
            pivots_per_second=log.nit / max(log.seconds - log.phase1_seconds, 1e-9),
            n_collapsed=len(log.collapsed),
            phase="certify",
            basis_kinks=model.D,
        )
        poll = CertifyBudget(callback=callback, time_limit=time_limit, t_start=t_start, state=state)
        try:
            return _certify(model, log, tz, t, certify_cells, seed, backend, certify_max_cells, poll=poll)
        except (Halt, KeyboardInterrupt) as exc:
            if isinstance(exc, Halt):
                log.status, log.message = exc.status, exc.message
            else:
                log.status = DRSStatus.INTERRUPTED
                log.message = f"interrupted (KeyboardInterrupt) while certifying the end vertex after {log.nit} pivots"
            logger.info("%s", log.message)
            return None, None, "escape"

    log, tz, zscale = run_engine(model, theta0_internal, opts, t)
    cert, best, kind = certify(tz)
    # Restart from a point of strictly lower loss: an incident cell's LP optimum found by HiGHS at a
    # vertex that passed the edge test ("escape"), or a collapsed unit switched back on ("revive").
    # Logged as an edge of that kind, never silently.
    escapes = revivals = 0
    while (
        best is not None
        and log.status == DRSStatus.LOCAL_MINIMUM
        and escapes + revivals < max_escapes
        and (max_pivots is None or log.nit < max_pivots)
        and (time_limit is None or log.seconds < time_limit)
    ):
        escapes += kind == "escape"
        revivals += kind == "revive"
        opts.max_pivots = None if max_pivots is None else max_pivots - log.nit
        opts.time_limit = None if time_limit is None else time_limit - log.seconds
        logger.info("%s from the vertex of loss %.12g", kind, log.final.loss if log.final is not None else math.nan)
        log2, tz, zscale = run_engine(model, best, opts, t)
        _merge(model, log, log2, kind)
        cert, best, kind = certify(tz)
    log.escapes = escapes
    log.revivals = revivals
    stats = {
        k: getattr(log, k)
        for k in (
            "escapes",
            "revivals",
            "collapse_events",
            "phase1_steps",
            "region_changes",
            "kinks_crossed",
            "zero_steps",
            "refactorisations",
            "max_inverse_drift",
            "max_basis_drift",
            "snaps",
            "verified",
            "max_verify_theta",
            "max_verify_loss",
            "seconds",
            "phase1_seconds",
            "cpu_seconds",
            "lp_solves",
            "lp_iterations",
        )
    }
    stats["kink_tolerance"] = tz
    stats["engine"] = engine
    return log, cert, stats


def _merge(model: LayerwiseModel, log: EngineLog, log2: EngineLog, kind: str = "escape") -> None:
    """Append the run ``log2`` (started from an escape or revival point) to ``log``."""
    if log2.losses:
        step = float(np.linalg.norm(log2.thetas[0] - log.thetas[-1]))
        log.edges.append(EdgeRecord(step, 0.0, 0, bool(log2.regions[0] != log.regions[-1]), -1, -1, 0.0, kind))
        log.region_changes += int(log2.regions[0] != log.regions[-1])
    for name in ("thetas", "losses", "regions", "n_tight", "n_collapsed", "bases", "edges"):
        getattr(log, name).extend(getattr(log2, name))
    for name in (
        "nit",
        "phase1_steps",
        "region_changes",
        "kinks_crossed",
        "zero_steps",
        "refactorisations",
        "snaps",
        "verified",
        "lp_solves",
        "lp_iterations",
        "collapse_events",
    ):
        setattr(log, name, getattr(log, name) + getattr(log2, name))
    for name in ("max_inverse_drift", "max_basis_drift", "max_verify_theta", "max_verify_loss"):
        setattr(log, name, max(getattr(log, name), getattr(log2, name)))
    log.seconds += log2.seconds
    log.phase1_seconds += log2.phase1_seconds
    log.cpu_seconds += log2.cpu_seconds
    log.status, log.message, log.final, log.pricing = log2.status, log2.message, log2.final, log2.pricing
    log.collapsed = list(log2.collapsed)
    log.unbounded_ray = log2.unbounded_ray


def _certify(
    model: LayerwiseModel,
    log: EngineLog,
    tz: float,
    t: Tolerances,
    max_cells: int,
    seed: int | None,
    backend: str,
    degenerate_cap: int = 0,
    revival_directions: int = 16,
    poll: Callable[[], None] | None = None,
) -> tuple[DRSCertificate, NDArray[np.float64] | None, str]:
    """Edge test, HiGHS on the incident hidden cells, and the revival search of collapsed units.

    The basis inverse is refactorised from scratch and every ray repriced, so the duals and slopes
    of the certificate come from the final basis, not from the walk's updated inverse.

    Non-degenerate vertex: the complete edge test is the proof, unless the smallest slope lies
    within the rounding margin of zero ("borderline": not certified).  HiGHS cross-checks it on all
    incident cells when there are at most ``max_cells``, else on a seeded sample.  Degenerate vertex
    (more kinks at zero than the basis, collapsed units' kinks excluded): the answer is HiGHS's on
    *all* incident cells when there are at most ``max(degenerate_cap, max_cells)``, undecided beyond.
    With collapsed units the proof covers the slice where they stay at zero (their columns are fixed
    in the cell LPs) and :func:`~lpengine.simplex.collapse.search_revival` looks for a descent that
    switches each back on.

    Returns the certificate, a point of strictly lower loss to restart from (or None), and the kind
    of that restart (``"escape"``: an incident cell LP; ``"revive"``: a collapsed unit switched on).
    """
    st = log.final
    assert st is not None  # called at a vertex
    collapsed = list(log.collapsed)
    frozen = unit_columns(model, collapsed)
    ckinks = unit_kinks(model, collapsed)
    # Fresh factorisation of the final basis; reprice every ray from it.
    st.factor(model)
    cond = float(np.linalg.cond(st.A))
    tight = tight_mask(model, st, tz)
    tight[ckinks] = False
    tight[st.B] = True
    pr = price_rays(model, st, tz, t.pivot, tight=tight.copy(), collapsed=collapsed)
    log.pricing = pr
    live = pr.live if pr.live is not None else np.ones(pr.slopes.size, dtype=bool)
    ns = pr.slopes / pr.norms
    thr = -t.slope * pr.scale
    min_live = float(np.min(ns[live])) if np.any(live) else math.inf
    ray_ok = bool(min_live >= thr)
    # Rounding margin of the normalised slopes: a linear solve with A loses about cond(A) * eps
    # relative accuracy (Higham, ch. 7), on slopes of magnitude up to ``scale``.
    margin = 8.0 * model.D * np.finfo(float).eps * cond * pr.scale
    degenerate = bool(pr.extra_tight.size > 0)
    # At a degenerate vertex the ray test is not the proof (HiGHS on every incident cell is), so a
    # slope within the rounding margin of zero does not matter there.
    borderline = bool(ray_ok and not degenerate and min_live < margin)
    n_exact = 0
    if borderline:
        # Exact rational recheck of the rays whose float slope is within the margin of zero.
        rays_b = np.flatnonzero(live & (ns < margin)).tolist()
        exact = exact_ray_slopes(model, st.theta, st.signs, st.B, rays_b)
        if exact is not None:
            n_exact = len(exact)
            neg = [r for r, v in exact.items() if v < 0]
            borderline = False
            if neg:
                ray_ok = False
                min_live = min(float(exact[r]) / float(pr.norms[r]) for r in neg)
    # The cells meeting at the vertex, as far as the live units are concerned: the collapsed units' kinks
    # (their basis kinks too) are left out, since with their blocks held at zero their signs change
    # neither the cell nor its LP.
    hidden_tight = tight[: model.n_hidden_kinks].copy()
    hidden_tight[ckinks] = False
    tight_hidden = np.flatnonzero(hidden_tight)
    radius = t.cell_radius * max(1.0, float(np.max(np.abs(st.theta))))
    exhaustive = max(max_cells, degenerate_cap) if degenerate else max_cells
    cells = CellCheck(float(tight_hidden.size), 0, 0, False, False, math.nan, None, 0)
    if ray_ok or log.status == DRSStatus.LOCAL_MINIMUM:
        cells = check_cells(
            model,
            st.theta,
            st.signs,
            tight_hidden,
            st.loss,
            max_cells=exhaustive,
            seed=seed,
            radius=radius,
            tol=t,
            backend=backend,
            sample_size=max_cells,
            fixed_cols=frozen,
            poll=poll,
        )
    certified = bool(ray_ok and not borderline and cells.ok and (not degenerate or not cells.sampled))
    # Loss 0 is the global minimum of an L1 / quantile loss: decided exactly at the vertex of the basis,
    # whatever the ray test and the cells say (a cheap float filter first: every residual within the kink
    # tolerance of zero).
    zero_loss = bool(
        model.mode == "layer"
        and st.loss <= float(np.sum(model.c)) * tz + loss_error_bound(model, st.theta)
        and exact_vertex_loss_is_zero(model, st.signs, st.B)
    )
    if zero_loss:
        certified, borderline, restart_ok = True, False, False
    else:
        restart_ok = True
    # Collapsed units: exact slopes of their own rays, then the bounded revival search.
    units: list[CollapsedUnit] = []
    restart, kind = (cells.best_x if ray_ok and restart_ok else None), "escape"
    if collapsed:
        full = tight_mask(model, st, tz)
        pr_all = price_rays(model, st, tz, t.pivot, tight=full, collapsed=collapsed, price_pinned=True)
        ns_all = pr_all.slopes / pr_all.norms
        layer_B, _, unit_B = st.dec
        for u in collapsed:
            rows = np.flatnonzero(np.repeat((layer_B == 0) & (unit_B == u), 2))
            ms = float(np.min(ns_all[rows])) if rows.size else math.nan
            if zero_loss:
                units.append(CollapsedUnit(u, "no descent exists (the loss is 0, the global minimum)", 0, ms))
                continue
            if restart is not None or not (ray_ok and cells.ok):
                units.append(CollapsedUnit(u, "not searched (the live units are not at a local minimum)", 0, ms))
                continue
            found = search_revival(
                model,
                st.theta,
                st.signs,
                st.loss,
                u,
                collapsed,
                np.setdiff1d(tight_hidden, ckinks),
                ray_dirs=pr_all.rays[rows],
                n_directions=revival_directions,
                seed=seed,
                radius=radius,
                tol=t,
                backend=backend,
                poll=poll,
            )
            if found.best_x is not None:
                units.append(CollapsedUnit(u, REVIVED, found.cells, ms))
                restart, kind = found.best_x, "revive"
            else:
                units.append(CollapsedUnit(u, f"no descent found in {found.cells} cells", found.cells, ms))
    scope = "all parameters" if not collapsed else "live units"
    n_rays = int(np.count_nonzero(live))
    if zero_loss:
        scope = "all parameters"
        reason = (
            "global minimum: the loss is exactly 0 at the vertex of the final basis (solved and evaluated in "
            "exact rationals), and an L1 / quantile loss is never negative"
        )
    elif certified:
        how = "all" if not cells.sampled else f"a seeded sample of {cells.checked}"
        reason = (
            f"no descending edge among the {n_rays} rays"
            + (f" of the live units (units {collapsed} collapsed to exact zero)" if collapsed else "")
            + (f" ({n_exact} slope(s) within the rounding margin rechecked in exact rationals)" if n_exact else "")
            + f"; HiGHS confirmed {how} of 2^{tight_hidden.size} incident hidden cell(s)"
        )
    elif not ray_ok:
        reason = f"a descending edge remains (normalised slope {min_live:.3g})"
    elif borderline:
        reason = (
            f"borderline: the smallest ray slope {min_live:.3g} is within the rounding margin {margin:.3g} "
            "of zero and the exact rational recheck does not apply (bent edge or degenerate vertex)"
        )
    elif not cells.ok:
        reason = (
            f"HiGHS found a point of lower loss in an incident cell (LP gap {cells.max_gap:.3g})"
            if cells.best_x is not None
            else f"{cells.failed} cell LP(s) failed to solve"
        )
    else:
        reason = (
            f"undecided: degenerate vertex ({pr.extra_tight.size} extra kinks at zero) with "
            f"2^{tight_hidden.size} incident hidden cells, more than the cap of {exhaustive} that HiGHS "
            f"decides exhaustively; a seeded sample of {cells.checked} passed"
        )
    cert = DRSCertificate(
        ray_test=ray_ok,
        n_rays=n_rays,
        min_slope=min_live,
        degenerate=degenerate,
        n_tight_hidden=int(tight_hidden.size),
        log2_cells=float(tight_hidden.size),
        n_cells_checked=int(cells.checked),
        n_cells_infeasible=int(cells.infeasible),
        sampled=bool(cells.sampled),
        sample_seed=seed if cells.sampled else None,
        lp_confirmed=bool(cells.ok),
        max_lp_gap=float(cells.max_gap),
        box_radius=radius,
        basis=tuple(int(b) for b in st.B),
        duals=_frozen(pr.duals),
        certified=certified,
        reason=reason,
        scope=scope,
        collapsed_units=tuple(units),
        slope_margin=float(margin),
        exact_rays=n_exact,
        zero_loss=zero_loss,
    )
    return cert, restart, kind


def build_trajectory(log: EngineLog, *, D: int, line_search: bool) -> nx.DiGraph:
    """The vertex path as a DiGraph (attributes str/int/float/bool only)."""
    G = nx.DiGraph(D=int(D), status=str(log.status), line_search=bool(line_search))
    rows = zip(log.losses, log.regions, log.n_tight, log.n_collapsed, log.bases, strict=True)
    for k, (loss, reg, nt, nc, B) in enumerate(rows):
        G.add_node(
            k,
            loss=float(loss),
            iteration=int(k),
            region=str(reg),
            n_tight=int(nt),
            n_collapsed=int(nc),
            basis=",".join(str(int(b)) for b in sorted(B)),
        )
    for k, e in enumerate(log.edges):
        G.add_edge(
            k,
            k + 1,
            step=float(e.step),
            t=float(e.t),
            kinks_crossed=int(e.kinks_crossed),
            region_changed=bool(e.region_changed),
            leaving=int(e.leaving),
            entering=int(e.entering),
            slope=float(e.slope),
            kind=str(e.kind),
        )
    return G


def make_result(
    model: LayerwiseModel,
    log: EngineLog,
    cert: DRSCertificate | None,
    stats: dict[str, Any],
    *,
    line_search: bool,
    network: ReLUNetwork | None,
    layer: int,
) -> DRSResult:
    st = log.final
    assert st is not None and log.theta0 is not None  # every engine run sets both
    thetas = np.array(log.thetas).reshape(-1, model.D)
    theta_pub = model.to_public(st.theta)
    net_out = None
    if network is not None and model.mode == "layer":
        W = network.weights[layer]
        Wn = theta_pub[: W.size].reshape(W.shape)
        bn = theta_pub[W.size :]
        ws = list(network.weights)
        bs = list(network.biases)
        ws[layer], bs[layer] = Wn, bn
        net_out = ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=network.has_output_layer)
    elif network is not None:
        net_out = network
    pert = log.perturbation
    return DRSResult(
        theta=_frozen(theta_pub),
        fun=float(st.loss),
        losses=_frozen(np.array(log.losses, dtype=np.float64)),
        thetas=_frozen(model.to_public(thetas)),
        nit=int(log.nit),
        status=DRSStatus(log.status),
        certified=bool(cert.certified) if cert is not None else False,
        certificate=cert,
        message=log.message,
        trajectory=build_trajectory(log, D=model.D, line_search=line_search),
        network=net_out,
        start_loss=float(log.start_loss),
        theta0=_frozen(model.to_public(log.theta0)),
        perturbation=_frozen(model.to_public(pert)) if pert is not None else None,
        stats=stats,
        unbounded_ray=_frozen(model.to_public(log.unbounded_ray)) if log.unbounded_ray is not None else None,
        layer=layer,
    )


def deep_relu_simplex(
    net: ReLUNetwork,
    X: Any,
    y: Any,
    *,
    layer: int = 0,
    quantile: float = 0.5,
    theta0: Any = None,
    seed: int | None = None,
    max_pivots: int | None = None,
    time_limit: float | None = None,
    line_search: bool = True,
    verify: bool = False,
    callback: Callable[[DRSState], bool | None] | None = None,
    tol: Tolerances | None = None,
    pricing: str = "steepest",
    certify_cells: int = 32,
    sample_weight: Any = None,
    backend: str = "highs",
    certify_max_cells: int = DEGENERATE_CELL_CAP,
    engine: str = "native",
) -> DRSResult:
    """Minimise the L1 / quantile loss over one layer's parameters by walking vertices.

    Parameters
    ----------
    net : ReLUNetwork
        Network with a scalar affine output layer; every layer but ``layer`` is frozen.
    X : array_like, shape (n_samples, n_in)
    y : array_like, shape (n_samples,)
    layer : int, default 0
        Index into ``net.weights`` of the trained layer (0: first hidden layer;
        ``len(net.weights) - 1``: the output layer, a LAD problem on the features).
    quantile : float, default 0.5
        0.5 gives the L1 loss ``sum |r_i|``; other values the pinball loss
        ``sum (1 - q) r_+ + q r_-`` with ``r = prediction - target``.
    theta0 : array_like, shape (D,), optional
        Start point in the layout ``[W.ravel(), b]``; default: the network's own layer.
    seed : int, optional
        Seeds the start perturbation (start on a kink), null-space moves (dead
        neurons) and the sampled certificate cells.
    max_pivots, time_limit : optional
        Budgets (status ``"max_pivots"`` / ``"time_limit"``).  ``time_limit`` (wall seconds) covers the
        whole run: phase 1, the walk and the certificate's LPs; a walk stopped in phase 1 has no vertex.
    line_search : bool, default True
        Barrodale–Roberts line search: keep crossing kinks while the slope along
        the edge stays negative.  False: stop at the first kink (plain simplex pivot).
    verify : bool, default False
        Check every visited vertex against HiGHS on its region LP (slow; for tests).
    callback : callable, optional
        ``callback(DRSState) -> bool | None``: in phase 1 (per basis kink), after every pivot, and before
        every LP of the certificate (``DRSState.phase``: ``"phase1"``, ``"walk"``, ``"certify"``); True
        stops (status ``"stopped"``).  ``KeyboardInterrupt`` (Ctrl-C, or raised by the callback) ends the
        run cleanly at the last vertex with status ``"interrupted"`` and nothing certified.  A long run
        also logs a progress line (pivots/s, loss, region changes) every 5 s at INFO.
    tol : Tolerances, optional
    pricing : {"steepest", "dantzig"}
        Ray choice: most negative slope per unit length (default) or per unit ``t``.
    certify_cells : int, default 32
        Incident hidden cells checked with HiGHS at the end: all if ``2**k_h`` is
        at most this, otherwise a seeded random sample of this size.
    certify_max_cells : int, default 256
        At a *degenerate* final vertex (more than ``D`` kinks at zero) the edge
        test cannot decide; the vertex is then decided by HiGHS on all
        ``2**k_h`` incident hidden cells when there are at most this many
        (``certified`` True or False), and reported undecided
        (``certified=False``, reason ``"undecided: ..."``) beyond.
    sample_weight : array_like, optional
        Non-negative sample weights ``c_i``.
    backend : str, default "highs"
        LP backend of the certificate and verify checks (and of ``engine="highs"``).
    engine : {"native", "highs"}, default "native"
        ``"native"``: the rank-one-updated pivot engine (one logged vertex per
        pivot, optional line search).  ``"highs"``: HiGHS's simplex on the LPs
        of successive hidden cells (one logged vertex per cell: its LP optimum;
        ``line_search``, ``pricing`` and ``verify`` do not apply).  Both end with
        the same certificate.

    Returns
    -------
    DRSResult

    Raises
    ------
    InvalidNetworkError, InvalidProblemError, InvalidOptionError
        Malformed network, data (including rank-deficient features of the trained
        layer: no vertex exists) or options.
    SolverError
        Numerical breakdown (singular basis) or a failed ``verify`` check.

    Notes
    -----
    Each pivot costs ``O(D^2 + N P)`` (``P`` the size of the frozen layers above
    the trained one).  The loss never increases; a pivot crosses ``kinks_crossed``
    kinks and may change the hidden cell.  See :mod:`lpengine.simplex.pivot` and
    the reference notes ``deep_relu_simplex.md``.

    References
    ----------
    P. Hinz, S. van de Geer, *Deep ReLU Programming*, arXiv:2011.14895.
    P. Hinz, *The layer-wise L1 loss landscape of neural nets is more complex around
    local minima*, arXiv:2105.02831.

    Examples
    --------
    >>> import numpy as np
    >>> from lpengine import ReLUNetwork
    >>> rng = np.random.default_rng(0)
    >>> net = ReLUNetwork.random(2, [3], seed=1)
    >>> X, y = rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, 30)
    >>> res = deep_relu_simplex(net, X, y, seed=0)
    >>> str(res.status), res.certified, bool(np.all(np.diff(res.losses) <= 1e-9))
    ('local_minimum', True, True)
    """
    model = build_layer_model(net, X, y, layer=layer, quantile=quantile, sample_weight=sample_weight)
    layer = int(layer)
    if theta0 is None:
        W, b = net.weights[layer], net.biases[layer]
        theta0_pub = np.concatenate([np.ravel(W), b])
    else:
        theta0_pub = check_array(theta0, "theta0", shape=(model.D,), error=InvalidProblemError)
    log, cert, stats = solve_model(
        model,
        model.from_public(theta0_pub),
        seed=seed,
        max_pivots=max_pivots,
        time_limit=time_limit,
        line_search=line_search,
        verify=verify,
        callback=callback,
        tol=tol,
        pricing=pricing,
        certify_cells=certify_cells,
        backend=backend,
        certify_max_cells=certify_max_cells,
        engine=engine,
    )
    return make_result(
        model, log, cert, stats, line_search=line_search and engine == "native", network=net, layer=layer
    )


def minimize_output(
    net: ReLUNetwork,
    x0: Any,
    *,
    seed: int | None = None,
    max_pivots: int | None = None,
    time_limit: float | None = None,
    line_search: bool = True,
    verify: bool = False,
    callback: Callable[[DRSState], bool | None] | None = None,
    tol: Tolerances | None = None,
    certify_cells: int = 32,
    backend: str = "highs",
    certify_max_cells: int = DEGENERATE_CELL_CAP,
) -> DRSResult:
    """Minimise a network's scalar output over its input by the same vertex walk (Deep ReLU Programming).

    The output is piecewise affine in ``x``; vertices are points where ``n_in``
    hidden units with independent gradients are at zero.  Random networks are
    usually unbounded below: the result then has status ``"unbounded"`` and the
    descending ray in ``unbounded_ray``.

    Examples
    --------
    >>> from lpengine import ReLUNetwork
    >>> net = ReLUNetwork.random(2, [4, 4], seed=3)
    >>> res = minimize_output(net, [0.5, -0.5], seed=0)
    >>> res.status in ("local_minimum", "unbounded")
    True
    """
    model = build_argmin_model(net)
    x0 = check_array(x0, "x0", shape=(model.D,), error=InvalidProblemError)
    log, cert, stats = solve_model(
        model,
        x0,
        seed=seed,
        max_pivots=max_pivots,
        time_limit=time_limit,
        line_search=line_search,
        verify=verify,
        callback=callback,
        tol=tol,
        certify_cells=certify_cells,
        backend=backend,
        certify_max_cells=certify_max_cells,
    )
    return make_result(model, log, cert, stats, line_search=line_search, network=net, layer=0)
