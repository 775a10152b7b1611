"""One-call analysis of a single trajectory: decay, estimates at checkpoints, density, plots.

:func:`analyze_trajectory` bundles the functions of :mod:`lpengine.analysis` for
one walk (used by ``lpengine analyze``); :func:`save_plots` writes its figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._display import fmt_num, html_card, short_repr
from .._validation import check_int
from .decay import DecayFit, GapDecayProfile, fit_decay, gap_decay_profile
from .density import DensitySummary, density_summary
from .estimators import LimitEstimate, estimate_limit
from .trajectory import Trajectory

__all__ = ["TrajectoryAnalysis", "analyze_trajectory", "save_plots", "CHECKPOINT_FRACTIONS"]

#: Prefix lengths (as fractions of the run) at which L* is estimated.
CHECKPOINT_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9)

#: Estimators (label -> options) reported by :func:`analyze_trajectory`.
_METHODS: dict[str, dict[str, Any]] = {
    "geometric_fit": {"method": "geometric_fit", "window": 200},
    "aitken": {"method": "aitken", "h": 50},
    "geometric_tail": {"method": "geometric_tail", "window": 200},
    "naive": {"method": "naive"},
}


@dataclass(frozen=True)
class TrajectoryAnalysis:
    """Analysis of one trajectory.

    Attributes
    ----------
    n_vertices : int
    initial_loss, final_loss : float
    certified : bool or None
    window : int
        Window of the decay fits.
    tail_fit : DecayFit or None
        Geometric fit on the last ``3 * window`` vertices (None for short runs).
    gap_profile : GapDecayProfile or None
        Per-window decay ratios of ``L_k - L_final``.
    estimates : tuple of (fraction, LimitEstimate)
        Estimates of L* from the prefixes at :data:`CHECKPOINT_FRACTIONS`.
    density : DensitySummary or None
        When the vertices are known.
    """

    n_vertices: int
    initial_loss: float
    final_loss: float
    certified: bool | None
    window: int
    tail_fit: DecayFit | None
    gap_profile: GapDecayProfile | None
    estimates: tuple[tuple[float, LimitEstimate], ...]
    density: DensitySummary | None

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (infinite uncertainties become ``None``)."""
        fin = lambda v: None if v is None or not math.isfinite(v) else float(v)  # noqa: E731
        out: dict[str, Any] = {
            "n_vertices": self.n_vertices,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "certified": self.certified,
            "window": self.window,
        }
        if self.tail_fit is not None:
            f = self.tail_fit
            out["tail_fit"] = {
                "l_star": f.l_star,
                "l_star_se": fin(f.l_star_se),
                "q": f.q,
                "status": f.status,
                "start": f.start,
                "stop": f.stop,
            }
        if self.gap_profile is not None and self.gap_profile.q.size:
            out["gap_q"] = {
                "first": float(self.gap_profile.q[0]),
                "last": float(self.gap_profile.q[-1]),
                "median_r2": float(np.median(self.gap_profile.r2)),
            }
        out["estimates"] = [
            {
                "fraction": fr,
                "k": e.k,
                "method": e.method,
                "estimate": e.estimate,
                "uncertainty": fin(e.uncertainty),
                "status": e.status,
                "error_vs_final": abs(e.estimate - self.final_loss),
            }
            for fr, e in self.estimates
        ]
        if self.density is not None:
            d = self.density
            out["density"] = {
                "step_ratio_early_late": fin(d.step_ratio),
                "spearman_step_distance": d.spearman,
                "median_step_far": d.median_step_far,
                "median_step_near": d.median_step_near,
                "zero_steps": d.zero_steps,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the same as :meth:`summary`)."""
        return self.summary()

    def to_text(self) -> str:
        """The human summary printed by ``lpengine analyze``: one fact per line, numbers rounded to read."""
        lines = [
            f"{self.n_vertices:,d} vertices, loss {fmt_num(self.initial_loss, 6)} -> {fmt_num(self.final_loss, 6)}"
            f" (certified: {self.certified})"
        ]
        f = self.tail_fit
        if f is not None:
            lines.append(
                f"tail fit (vertices {f.start}..{f.stop - 1}): L* = {fmt_num(f.l_star, 6)} ± {fmt_num(f.l_star_se, 3)},"
                f" q = {fmt_num(f.q, 4)} ({f.status})"
            )
        for fr, e in self.estimates:
            lines.append(
                f"  at {fr:.0%} ({e.k} vertices) {e.method:>15}: L* ≈ {fmt_num(e.estimate, 6)}"
                f"  |err| {fmt_num(abs(e.estimate - self.final_loss), 3)}  [{e.status}]"
            )
        d = self.density
        if d is not None:
            lines.append(
                f"median step early/late {fmt_num(d.step_ratio, 3)}, Spearman(step, distance) {fmt_num(d.spearman, 3)}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        fields: list[tuple[str, Any]] = [
            ("n_vertices", self.n_vertices),
            ("initial_loss", self.initial_loss),
            ("final_loss", self.final_loss),
            ("certified", self.certified),
        ]
        if self.tail_fit is not None:
            fields += [("tail_l_star", self.tail_fit.l_star), ("tail_q", self.tail_fit.q)]
        return short_repr("TrajectoryAnalysis", fields)

    def _repr_html_(self) -> str:
        facts: list[tuple[str, Any]] = [
            ("vertices", self.n_vertices),
            ("loss", f"{fmt_num(self.initial_loss, 6)} → {fmt_num(self.final_loss, 6)}"),
            ("certified local minimum", str(self.certified)),
        ]
        if self.tail_fit is not None:
            f = self.tail_fit
            facts.append(("tail fit L*", f"{fmt_num(f.l_star, 6)} ± {fmt_num(f.l_star_se, 3)} (q = {fmt_num(f.q)})"))
        rows = [
            (f"{fr:.0%}", e.k, e.method, e.estimate, abs(e.estimate - self.final_loss), e.status)
            for fr, e in self.estimates
        ]
        return html_card(
            "Trajectory analysis",
            facts,
            header=("prefix", "k", "method", "L* estimate", "|error|", "status"),
            rows=rows,
        )


def analyze_trajectory(traj: Trajectory, *, window: int | None = None) -> TrajectoryAnalysis:
    """Decay fits, L* estimates at checkpoints and density of one trajectory.

    Parameters
    ----------
    traj : Trajectory
    window : int, optional
        Decay-fit window (default ``max(10, n // 10)``).

    Returns
    -------
    TrajectoryAnalysis
    """
    y = traj.losses
    n = y.shape[0]
    w = max(10, n // 10) if window is None else check_int(window, "window", low=4)
    tail = fit_decay(y, start=max(0, n - 3 * w)) if n >= 4 else None
    gp = gap_decay_profile(y, reference=float(y[-1]), window=min(w, n), step=min(w, n)) if n >= 3 else None
    ests = []
    for fr in CHECKPOINT_FRACTIONS:
        k = int(fr * (n - 1))
        for opts in _METHODS.values():
            o = dict(opts)
            ests.append((fr, estimate_limit(y[: k + 1], method=o.pop("method"), **o)))
    dens = density_summary(traj.thetas) if traj.thetas is not None and n >= 3 else None
    return TrajectoryAnalysis(n, float(y[0]), float(y[-1]), traj.certified, w, tail, gp, tuple(ests), dens)


def save_plots(traj: Trajectory, analysis: TrajectoryAnalysis, directory: str | Path) -> list[Path]:
    """Write ``losses.png``, ``log_gap.png`` (and ``steps.png``, ``radius.png`` with vertices) into ``directory``.

    The figures are made without pyplot (no global state, nothing left open).
    """
    from . import plot as P
    from .density import distances_to, step_lengths, visited_within

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    y = traj.losses
    fits = [analysis.tail_fit] if analysis.tail_fit is not None and analysis.tail_fit.status == "ok" else []
    paths = []
    ax = P.plot_losses(y, fits=fits, ax=P.new_axes(pyplot=False))
    paths.append(out / "losses.png")
    ax.figure.savefig(paths[-1], dpi=120)
    if y.shape[0] >= 2 and y[0] > y[-1]:
        ax = P.plot_losses(y, fits=fits, reference=float(y[-1]), log_gap=True, ax=P.new_axes(pyplot=False))
        paths.append(out / "log_gap.png")
        ax.figure.savefig(paths[-1], dpi=120)
    if traj.thetas is not None and traj.n_vertices >= 3:
        ax = P.plot_step_lengths(step_lengths(traj.thetas), distances_to(traj.thetas), ax=P.new_axes(pyplot=False))
        paths.append(out / "steps.png")
        ax.figure.savefig(paths[-1], dpi=120)
        d = distances_to(traj.thetas)[:-1]
        if np.any(d > 0):
            ax = P.plot_radius_counts(visited_within(traj.thetas), per_radius=True, ax=P.new_axes(pyplot=False))
            paths.append(out / "radius.png")
            ax.figure.savefig(paths[-1], dpi=120)
    return paths
