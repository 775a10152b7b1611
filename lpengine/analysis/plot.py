"""Plots of trajectory analyses (matplotlib, imported lazily).

Every function takes ``ax=``: an existing ``matplotlib.axes.Axes`` to draw
into, or ``None`` for a new pyplot figure, so that a notebook cell ending with
the call shows the picture with no magic (scripts that must not touch pyplot
pass ``ax=new_axes(pyplot=False)``).  Every function returns the ``Axes`` with
a title, labelled axes, a legend naming every curve (fits with their fitted
values), and markers visible on short series; ``ax.figure.savefig(path)``
writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .decay import DecayFit, DecayProfile
from .density import RadiusCounts
from .estimators import EstimatorTrace

__all__ = [
    "new_axes",
    "plot_losses",
    "plot_decay_profile",
    "plot_estimates",
    "plot_estimator_errors",
    "plot_step_lengths",
    "plot_radius_counts",
]


#: Series up to this length get a marker at every point (longer ones are drawn as lines).
MARKER_MAX_POINTS = 150


def new_axes(ax: Any = None, *, pyplot: bool = True) -> Any:
    """Return ``ax``, or the axes of a new figure (a pyplot figure, or a pyplot-free one with ``pyplot=False``)."""
    if ax is not None:
        return ax
    if pyplot:
        import matplotlib.pyplot as plt

        _, new = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
        return new
    from matplotlib.figure import Figure

    return Figure(figsize=(6.0, 4.0), layout="constrained").add_subplot()


def _marker(n: int) -> dict[str, Any]:
    return {"marker": "o", "ms": 3.5} if n <= MARKER_MAX_POINTS else {}


def _fit_label(f: DecayFit) -> str:
    return f"fit k={f.start}..{f.stop - 1}: L* = {f.l_star:.4g}, q = {f.q:.3f}"


def plot_losses(
    losses: ArrayLike,
    *,
    ax: Any = None,
    fits: Sequence[DecayFit] = (),
    reference: float | None = None,
    log_gap: bool = False,
    title: str | None = None,
) -> Any:
    """Loss against vertex index, with fitted decay curves.

    Parameters
    ----------
    losses : array_like, shape (n_vertices,)
    ax : matplotlib Axes, optional
    fits : sequence of DecayFit
        Drawn over their windows (dashed).
    reference : float, optional
        A limit drawn as a horizontal line; with ``log_gap=True`` the plot shows
        ``L_k - reference`` on a log scale (an exponential decay is a straight line).
    log_gap : bool
    title : str, optional
        Default: "Loss along the trajectory" (or "Loss gap to the limit" with ``log_gap``).
    """
    ax = new_axes(ax)
    y = np.asarray(losses, dtype=np.float64)
    k = np.arange(y.shape[0])
    if log_gap:
        if reference is None:
            raise ValueError("plot_losses(log_gap=True) needs a reference limit.")
        gap = y - reference
        keep = gap > 0
        ax.semilogy(k[keep], gap[keep], lw=1.2, label="gap L_k - L*", **_marker(int(keep.sum())))
        ax.set_ylabel(f"loss gap to L* = {reference:.4g}")
    else:
        ax.plot(k, y, lw=1.2, label="loss L_k", **_marker(y.shape[0]))
        ax.set_ylabel("loss")
        if reference is not None:
            ax.axhline(reference, color="k", ls=":", lw=1.0, label=f"reference {reference:.4g}")
    for f in fits:
        kk = np.arange(f.start, f.stop)
        model = f.predict(kk)
        if log_gap:
            gap = model - float(reference)  # type: ignore[arg-type]  # checked not None above when log_gap
            keep = gap > 0
            ax.semilogy(kk[keep], gap[keep], ls="--", lw=1.5, label=_fit_label(f))
        else:
            ax.plot(kk, model, ls="--", lw=1.5, label=_fit_label(f))
    ax.set_xlabel("vertex index k")
    ax.set_title(title if title is not None else "Loss gap to the limit" if log_gap else "Loss along the trajectory")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_decay_profile(profile: DecayProfile, *, ax: Any = None) -> Any:
    """Fitted ratio ``q`` (with ±1 s.e.) of each sliding window against its start."""
    ax = new_axes(ax)
    q = profile.column("q")
    se = profile.column("q_se")
    se = np.where(np.isfinite(se), se, 0.0)
    ok = np.array([f.status == "ok" for f in profile.fits])
    ax.errorbar(profile.starts[ok], q[ok], yerr=se[ok], fmt="o", ms=4.5, lw=1.0, capsize=2, label="fitted q ± 1 s.e.")
    ax.set_xlabel("window start k")
    ax.set_ylabel(f"q per vertex (window {profile.window})")
    ax.set_title("Decay ratio q of L_k = L* + C q^k, per window")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_estimates(traces: Sequence[EstimatorTrace], *, ax: Any = None, truth: float | None = None) -> Any:
    """Estimates of L* against the prefix end ``k`` (with ±1 s.e. bands where finite)."""
    ax = new_axes(ax)
    for tr in traces:
        (line,) = ax.plot(tr.ks, tr.estimates, lw=1.2, label=tr.method, **_marker(len(tr.ks)))
        u = tr.uncertainties
        fin = np.isfinite(u)
        if fin.any():
            ax.fill_between(
                tr.ks[fin], (tr.estimates - u)[fin], (tr.estimates + u)[fin], color=line.get_color(), alpha=0.15, lw=0
            )
    if truth is not None:
        ax.axhline(truth, color="k", ls=":", lw=1.0, label=f"final loss {truth:.4g}")
    ax.set_xlabel("vertices seen k")
    ax.set_ylabel("estimate of L*")
    ax.set_title("Estimates of the limit loss L* from each prefix")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_estimator_errors(
    vertices_to_go: ArrayLike,
    errors: dict[str, ArrayLike],
    *,
    ax: Any = None,
) -> Any:
    """Median absolute error of each estimator against the number of vertices still to go.

    Parameters
    ----------
    vertices_to_go : array_like, shape (n_points,)
        Bins (x axis).
    errors : dict
        Method name -> median error per bin (same length).
    """
    ax = new_axes(ax)
    x = np.asarray(vertices_to_go, dtype=np.float64)
    for name, e in errors.items():
        e = np.asarray(e, dtype=np.float64)
        keep = (e > 0) & np.isfinite(e)
        ax.loglog(x[keep], e[keep], marker="o", ms=4.5, lw=1.2, label=name)
    ax.set_xlabel("vertices still to go")
    ax.set_ylabel("median |estimate - L*|")
    ax.set_title("Estimator error against the vertices still to go")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_step_lengths(steps: ArrayLike, distances: ArrayLike, *, ax: Any = None) -> Any:
    """Step length ``s_k`` against the distance ``d_k`` of its start to the final vertex (log-log)."""
    ax = new_axes(ax)
    s = np.asarray(steps, dtype=np.float64)
    d = np.asarray(distances, dtype=np.float64)[: s.shape[0]]
    keep = (s > 0) & (d > 0)
    ax.loglog(d[keep], s[keep], "o", ms=3.5, alpha=0.6, label=f"{int(keep.sum())} steps")
    ax.set_xlabel("distance to final vertex")
    ax.set_ylabel("step length")
    ax.set_title("Step length against distance to the final vertex")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_radius_counts(
    counts: Sequence[RadiusCounts] | RadiusCounts,
    *,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    per_radius: bool = False,
) -> Any:
    """Visited vertices within ε of the final vertex, ``N(ε)`` (or ``N(ε)/ε``), log-log."""
    ax = new_axes(ax)
    items = [counts] if isinstance(counts, RadiusCounts) else list(counts)
    for i, rc in enumerate(items):
        yv = rc.per_radius if per_radius else rc.counts.astype(np.float64)
        keep = yv > 0
        lab = labels[i] if labels is not None else None
        ax.loglog(rc.radii[keep], yv[keep], lw=1.2, alpha=0.9, label=lab, **_marker(int(keep.sum())))
    ax.set_xlabel("radius ε around final vertex")
    ax.set_ylabel("N(ε)/ε" if per_radius else "visited vertices N(ε)")
    ax.set_title(
        "Visited vertices per radius around the final vertex"
        if per_radius
        else "Visited vertices near the final vertex"
    )
    if labels is not None:
        ax.legend(loc="best", fontsize="small")
    return ax
