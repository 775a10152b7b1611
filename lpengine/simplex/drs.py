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
  ``certify_max_cells`` (256); beyond, local minimality is decided from the
  directional derivative (:mod:`lpengine.simplex.degenerate`: one LP per
  choice of its concave terms instead of one per cell, at most
  ``certify_max_cells`` LPs), and the vertex is reported undecided
  (``certified=False``) only when that needs more.  A lower LP optimum in an incident cell
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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidOptionError, InvalidProblemError
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .certificate import DRSCertificate
from .certify import certify_vertex
from .drs_result import DRSResult, make_result
from .encoding import build_argmin_model, build_layer_model
from .engine import run_engine as run_native_engine
from .engine_log import EdgeRecord, EngineLog, EngineOptions
from .highs_engine import run_highs_engine
from .model import LayerwiseModel
from .progress import CertifyBudget, DRSCallback, DRSState, Halt
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["DRSResult", "DRSState", "DRSCertificate", "deep_relu_simplex", "minimize_output"]

#: Default cap on the incident hidden cells that HiGHS checks exhaustively at a degenerate vertex.
DEGENERATE_CELL_CAP = 256


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
            return certify_vertex(model, log, tz, t, certify_cells, seed, backend, certify_max_cells, poll=poll)
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
        (``certified`` True or False); beyond, by the directional-derivative
        test of :mod:`lpengine.simplex.degenerate` when it needs at most this
        many LPs, and reported undecided (``certified=False``, reason
        ``"undecided: ..."``) otherwise.
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
