"""The result of a Deep ReLU Simplex run: :class:`DRSResult`, its trajectory graph, and its assembly from the log.

The trajectory is a :class:`networkx.DiGraph` whose node and edge attributes are plain ``str``, ``int``,
``float`` and ``bool`` (GraphML and node-link JSON round-trip); the visited vertices are its side table
``DRSResult.thetas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from .._display import fmt_num, html_card, short_repr
from ..network import ReLUNetwork
from .certificate import DRSCertificate
from .engine_log import EngineLog
from .model import LayerwiseModel
from .status import DRSStatus

__all__ = ["DRSResult", "build_trajectory", "make_result", "frozen_array"]


@dataclass(frozen=True, eq=False)
class DRSResult:
    """Result of :func:`deep_relu_simplex` (scipy-style names plus the trajectory).

    Attributes
    ----------
    theta : ndarray, shape (D,)
        Final parameters of the trained layer, ``[W.ravel(), b]`` (for
        :func:`minimize_output`: the final input point).
    fun : float
        Loss of ``theta`` (``sum |r_i|`` for L1, the pinball loss otherwise), evaluated afresh at
        ``theta`` with true ReLUs and a correctly rounded sum of the per-sample terms (not the walk's
        running value under its tracked pattern); ``losses[-1]`` is the same number.
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
        ``status == "local_minimum"`` *and* ``certified``: the walk found no descending edge and the
        certificate proved it.  A walk that stops at a vertex its certificate could not prove (sampled
        cells, a budget, a descent found after the escapes ran out) keeps ``status == "local_minimum"``
        (why the walk ended) but is not a success.
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
        """Whether the run stopped at a local minimum that its certificate proved."""
        return self.status == DRSStatus.LOCAL_MINIMUM and self.certified

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


def frozen_array(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """A read-only float64 copy (result arrays are frozen)."""
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


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
    # The reported loss is the loss of the reported parameters, evaluated afresh with true ReLUs
    # (LayerwiseModel.accurate_loss), not the walk's value under its tracked pattern (equal up to
    # rounding, or up to the kink tolerance where a tracked sign lags); the trajectory's last vertex
    # carries the same number.
    fun = model.accurate_loss(st.theta)
    if log.losses:
        log.losses[-1] = fun
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
        theta=frozen_array(theta_pub),
        fun=fun,
        losses=frozen_array(np.array(log.losses, dtype=np.float64)),
        thetas=frozen_array(model.to_public(thetas)),
        nit=int(log.nit),
        status=DRSStatus(log.status),
        certified=bool(cert.certified) if cert is not None else False,
        certificate=cert,
        message=log.message,
        trajectory=build_trajectory(log, D=model.D, line_search=line_search),
        network=net_out,
        start_loss=float(log.start_loss),
        theta0=frozen_array(model.to_public(log.theta0)),
        perturbation=frozen_array(model.to_public(pert)) if pert is not None else None,
        stats=stats,
        unbounded_ray=frozen_array(model.to_public(log.unbounded_ray)) if log.unbounded_ray is not None else None,
        layer=layer,
    )
