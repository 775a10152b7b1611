"""Pictures of the activation regions of a 2-D network (matplotlib, imported lazily).

:func:`plot_regions` draws the exact region polygons of
:mod:`lpengine.regions.polygons`: every edge is a piece of a hidden unit's
bent hyperplane, every vertex a crossing of two of them; nothing is sampled on
a grid.  For networks with more than two inputs it draws the slice through a
plane, which is the enumeration of the network restricted to that plane.
"""

from __future__ import annotations

import colorsys
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import InvalidDomainError
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .domain import Domain, make_domain
from .enumerate import enumerate_regions
from .polygons import DOMAIN_EDGE, WINDOW_EDGE, Polygon, domain_polygon, plane_network, region_polygon
from .result import RegionEnumeration

__all__ = ["plot_regions", "region_polygons", "write_regions_plot", "COLOR_BY"]

#: The colourings :func:`plot_regions` accepts.
COLOR_BY = ("pattern", "rank", "output", "layer")

_GOLDEN = 0.6180339887498949

#: Relative area the region polygons may leave uncovered (float round-off in the shoelace sums) before the
#: picture's title reports missing regions.
COVERAGE_SLACK = 1e-9


def region_polygons(
    enumeration: RegionEnumeration,
    domain: Domain | None = None,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    window: tuple[ArrayLike, ArrayLike] | None = None,
    tol: Tolerances | None = None,
) -> list[Polygon]:
    """The exact polygon of every region of a 2-D enumeration, in the order of ``enumeration.regions``.

    Parameters
    ----------
    enumeration : RegionEnumeration
        Of a network with two inputs.
    domain, box, polytope, whole_space : optional
        The domain the enumeration was run on.  Not needed: every region
        carries it.  If given (as to
        :func:`~lpengine.regions.enumerate_regions`), it must be the same.
    window : (lo, hi), optional
        View box for an unbounded domain (default: the bounding box of
        every vertex of the arrangement, with a margin).
    tol : Tolerances, optional

    Returns
    -------
    list of Polygon
    """
    t = resolve_tolerances(tol)
    dom = _frame(enumeration, domain, box=box, polytope=polytope, whole_space=whole_space, window=window, tol=t)
    return [
        region_polygon(r.affine, r.pattern.signs, dom, facet_units=r.facet_units, tol=t) for r in enumeration.regions
    ]


def _frame(
    enumeration: RegionEnumeration,
    domain: Domain | None,
    *,
    box: Any,
    polytope: Any,
    whole_space: bool,
    window: tuple[ArrayLike, ArrayLike] | None,
    tol: Tolerances,
) -> Polygon:
    """The polygon every region is cut from: the domain, or an unbounded domain cut by the view window."""
    dom_spec = _domain_of(enumeration, domain, box=box, polytope=polytope, whole_space=whole_space, tol=tol)
    if not dom_spec.bounded and window is None:
        window = _auto_window(enumeration, dom_spec, tol)
    return domain_polygon(dom_spec, window=window, tol=tol)


def _domain_of(
    enumeration: RegionEnumeration,
    domain: Domain | None,
    *,
    box: Any,
    polytope: Any,
    whole_space: bool,
    tol: Tolerances,
) -> Domain:
    """The enumeration's domain (carried by its regions), checked against one given by the caller."""
    if not enumeration.regions:
        raise InvalidDomainError("the enumeration has no regions to draw.")
    first = enumeration.regions[0]
    d = int(first.witness.shape[0])
    if d != 2:
        raise InvalidDomainError(
            f"plot_regions draws networks with 2 inputs; this enumeration is in R^{d}. "
            "Pass the network with plane=(x0, u, v) to draw a 2-D slice."
        )
    given = domain is not None or box is not None or polytope is not None or whole_space
    if not given and first.domain is not None:
        return first.domain
    dom = make_domain(2, domain, box=box, polytope=polytope, whole_space=whole_space, tol=tol)
    if dom.describe() != enumeration.domain:
        raise InvalidDomainError(
            f"the enumeration was run on {enumeration.domain}, but the domain given here is {dom.describe()}; "
            "give the same domain as to enumerate_regions, or none."
        )
    return dom


def _auto_window(
    enumeration: RegionEnumeration, domain: Domain, tol: Tolerances
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A view box around every vertex of the arrangement (unbounded domains).

    The polygons are first cut by a box far beyond every witness; their
    vertices not on that box are the arrangement's own vertices (crossings of
    two lines, or of a line and a domain face), and the view is their bounding
    box with a margin.
    """
    W = np.stack([r.witness for r in enumeration.regions])
    far = 1e3 * max(1.0, float(np.abs(W).max()))
    big = domain_polygon(domain, window=(-far, far), tol=tol)
    pts = []
    for r in enumeration.regions:
        p = region_polygon(r.affine, r.pattern.signs, big, facet_units=r.facet_units, tol=tol)
        inner = (p.edge_units != WINDOW_EDGE) & (np.roll(p.edge_units, 1) != WINDOW_EDGE)
        pts.append(p.vertices[inner])
    P = np.concatenate(pts)
    if P.shape[0] == 0:  # no crossing at all (parallel lines, or one region): frame the witnesses
        P = W
    lo, hi = P.min(axis=0), P.max(axis=0)
    c, half = (lo + hi) / 2, max(1.0, float(np.max(hi - lo))) * 0.65
    return c - half, c + half


def write_regions_plot(
    enumeration: RegionEnumeration,
    path: str | os.PathLike[str],
    *,
    color_by: str = "pattern",
    dpi: int = 150,
) -> Path:
    """Draw :func:`plot_regions` into a new pyplot-free figure and write it to ``path`` (format from the suffix).

    For scripts and the command line: no global pyplot state is touched.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 6.0), layout="constrained")
    plot_regions(enumeration, fig.add_subplot(), color_by=color_by)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out


def _distinct_colors(n: int) -> NDArray[np.float64]:
    """``n`` RGB colours, neighbours in index order far apart in hue (golden-ratio steps)."""
    hues = (np.arange(n) * _GOLDEN) % 1.0
    light = np.where(np.arange(n) % 3 == 0, 0.62, np.where(np.arange(n) % 3 == 1, 0.74, 0.52))
    return np.array([colorsys.hls_to_rgb(hh, ll, 0.65) for hh, ll in zip(hues, light, strict=True)])


def plot_regions(
    obj: RegionEnumeration | ReLUNetwork,
    ax: Any = None,
    *,
    color_by: str = "pattern",
    plane: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None,
    domain: Domain | None = None,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    window: tuple[ArrayLike, ArrayLike] | None = None,
    output: int = 0,
    edges: bool = True,
    tol: Tolerances | None = None,
) -> Any:
    """Draw the exact activation regions of a network with two inputs (or a 2-D slice).

    Parameters
    ----------
    obj : RegionEnumeration or ReLUNetwork
        An enumeration of a 2-D network, or a network: a 2-D one is enumerated
        on the domain given by ``box``/``polytope``; a higher-dimensional one
        needs ``plane``.
    ax : matplotlib Axes, optional
        Draw into it; by default a new pyplot figure (so a notebook cell that
        ends with the call shows it).
    color_by : {"pattern", "rank", "output", "layer"}
        ``"pattern"``: one colour per region; ``"rank"``: rank of the output
        map on the region (discrete, with a legend); ``"output"``: the network
        output (component ``output``), drawn exactly (it is affine on each
        polygon, and Gouraud shading of a fan triangulation is linear
        interpolation of the vertex values); ``"layer"``: fill by the pattern
        of the first hidden layer, boundaries coloured by the layer of the unit
        that forms them.
    plane : (x0, u, v), optional
        For ``n_in > 2`` (network only): the plane ``x0 + t_1 u + t_2 v``;
        ``box``/``polytope`` are then in the coordinates ``t`` (default box
        ``[-1, 1]^2``).  Computed exactly as the enumeration of the restricted
        network (:func:`~lpengine.regions.polygons.plane_network`).
    domain, box, polytope, whole_space : optional
        For a network, the domain to enumerate (as for
        :func:`~lpengine.regions.enumerate_regions`; default the box
        ``[-1, 1]^2``).  An enumeration carries its own domain.
    window : (lo, hi), optional
        View box for an unbounded domain (default: around every witness).
    output : int
        Output component for ``color_by="output"``.
    edges : bool
        Draw the region boundaries.
    tol : Tolerances, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.figure.savefig(path)`` writes the picture.

    Raises
    ------
    InvalidDomainError
        The network or enumeration is not 2-D and no plane is given, or the
        plane is degenerate.
    ValueError
        Unknown ``color_by``, or ``"rank"``/``"output"`` for a network without
        an output layer.

    Examples
    --------
    >>> import lpengine
    >>> net = lpengine.ReLUNetwork.random(2, [6, 6], seed=0)
    >>> ax = lpengine.plot_regions(net, box=(-3, 3), color_by="layer")
    >>> ax.get_title()
    '55 regions, box [-3, 3]^2'
    >>> ax.figure.savefig("regions.png")  # doctest: +SKIP
    """
    if color_by not in COLOR_BY:
        raise ValueError(
            f"The 'color_by' parameter of plot_regions must be one of {COLOR_BY}. Got {color_by!r} instead."
        )
    t = resolve_tolerances(tol)
    if isinstance(obj, ReLUNetwork):
        net = obj
        if plane is not None:
            if len(plane) != 3:
                raise InvalidDomainError(f"plane must be (x0, u, v); got {len(plane)} vectors.")
            net = plane_network(obj, *plane)
        elif obj.n_in != 2:
            raise InvalidDomainError(
                f"the network has n_in = {obj.n_in}; plot_regions draws 2-D inputs. "
                "Give plane=(x0, u, v) to draw the slice through a plane."
            )
        enumeration = enumerate_regions(net, domain, box=box, polytope=polytope, whole_space=whole_space, tol=t)
    elif isinstance(obj, RegionEnumeration):
        if plane is not None:
            raise ValueError("plane= needs the network, not an enumeration: call plot_regions(net, plane=(x0, u, v)).")
        enumeration = obj
    else:
        raise TypeError(f"plot_regions takes a RegionEnumeration or a ReLUNetwork; got {type(obj).__name__}.")
    if isinstance(obj, ReLUNetwork):  # the domain is the one just enumerated, carried by the regions
        frame = _frame(enumeration, None, box=None, polytope=None, whole_space=False, window=window, tol=t)
    else:
        frame = _frame(enumeration, domain, box=box, polytope=polytope, whole_space=whole_space, window=window, tol=t)
    polys = [
        region_polygon(r.affine, r.pattern.signs, frame, facet_units=r.facet_units, tol=t) for r in enumeration.regions
    ]
    regions = enumeration.regions
    if color_by in ("rank", "output") and regions[0].affine.out_A is None:
        raise ValueError(f"color_by={color_by!r} needs a network with an output layer; this one has none.")

    from matplotlib.collections import PolyCollection

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 5.0), layout="constrained")
    keep = [i for i, p in enumerate(polys) if p.n_vertices >= 3]
    verts = [polys[i].vertices for i in keep]
    if color_by == "pattern":
        faces = _distinct_colors(len(regions))[keep]
        ax.add_collection(PolyCollection(verts, facecolors=faces, edgecolors="none", antialiaseds=False))
    elif color_by == "layer":
        w0 = regions[0].pattern.widths[0]
        keys = {r.pattern.signs[:w0].tobytes() for r in regions}
        order = {k: j for j, k in enumerate(sorted(keys))}
        pal = _distinct_colors(len(order))
        pal = 1.0 - 0.45 * (1.0 - pal)  # pastel: the boundaries carry the layer colours
        faces = np.array([pal[order[regions[i].pattern.signs[:w0].tobytes()]] for i in keep])
        ax.add_collection(PolyCollection(verts, facecolors=faces, edgecolors="none", antialiaseds=False))
    elif color_by == "rank":
        import matplotlib

        ranks = [int(regions[i].rank or 0) for i in keep]
        cmap = matplotlib.colormaps["tab10"]
        for rk in sorted(set(ranks)):
            sel = [v for v, r in zip(verts, ranks, strict=True) if r == rk]
            ax.add_collection(
                PolyCollection(
                    sel, facecolors=[cmap(rk % 10)], edgecolors="none", antialiaseds=False, label=f"rank {rk}"
                )
            )
        ax.legend(loc="upper right", fontsize="small", framealpha=0.85)
    else:
        _draw_output(ax, [regions[i] for i in keep], verts, output)
    if edges:
        _draw_edges(ax, polys, by_layer=color_by == "layer", widths=regions[0].pattern.widths)
    # The frame, not the polygons found, sets the view: area no region covers shows as background.
    outline = np.concatenate((frame.vertices, frame.vertices[:1]))
    on_domain = frame.edge_units != WINDOW_EDGE
    for i in np.flatnonzero(on_domain):
        ax.plot(outline[i : i + 2, 0], outline[i : i + 2, 1], color="black", lw=1.0)
    lo, hi = frame.vertices.min(axis=0), frame.vertices.max(axis=0)
    pad = 0.02 * float(np.max(hi - lo))
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    names = ("t1", "t2") if plane is not None else ("x1", "x2")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    status = "" if enumeration.complete else " (incomplete: a lower bound)"
    where = "slice through a plane" if plane is not None else enumeration.domain
    title = f"{enumeration.count} regions{status}, {where}"
    # The regions of a network tile its domain; area in no region found means regions are missing.
    uncovered = 1.0 - sum(p.area for p in polys) / frame.area
    if uncovered > COVERAGE_SLACK:
        title += f"\n{uncovered:.3g} of the view lies in no region found"
    ax.set_title(title, fontsize="medium")
    return ax


def _draw_output(ax: Any, regions: list[Any], verts: list[NDArray[np.float64]], output: int) -> None:
    """Exact piecewise-linear output: fan triangles per polygon, vertex values, Gouraud shading."""
    n_out = regions[0].affine.out_A.shape[0]
    if not 0 <= output < n_out:
        raise ValueError(f"output must be an output index in [0, {n_out}); got {output}.")
    pts: list[NDArray[np.float64]] = []
    vals: list[NDArray[np.float64]] = []
    tris: list[tuple[int, int, int]] = []
    base = 0
    for r, V in zip(regions, verts, strict=True):
        k = V.shape[0]
        pts.append(V)
        vals.append(V @ r.affine.out_A[output] + r.affine.out_c[output])
        tris.extend((base, base + j, base + j + 1) for j in range(1, k - 1))
        base += k
    P = np.concatenate(pts)
    mesh = ax.tripcolor(P[:, 0], P[:, 1], np.array(tris), np.concatenate(vals), shading="gouraud", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label=f"network output {output}" if n_out > 1 else "network output")


def _draw_edges(ax: Any, polys: list[Polygon], *, by_layer: bool, widths: tuple[int, ...]) -> None:
    from matplotlib.collections import LineCollection

    offsets = np.concatenate([[0], np.cumsum(widths)])
    segs: dict[int, list[NDArray[np.float64]]] = {}
    for p in polys:
        V = p.vertices
        for i, u in enumerate(p.edge_units.tolist()):
            if u in (WINDOW_EDGE, DOMAIN_EDGE):
                continue  # the frame is drawn once, by plot_regions
            layer = int(np.searchsorted(offsets, u, side="right") - 1)
            segs.setdefault(layer if by_layer else 0, []).append(np.stack([V[i], V[(i + 1) % V.shape[0]]]))
    if by_layer:
        import matplotlib

        cmap = matplotlib.colormaps["tab10"]
        for layer in sorted(k for k in segs if k >= 0):
            ax.add_collection(
                LineCollection(segs[layer], colors=[cmap(layer % 10)], linewidths=1.4, label=f"layer {layer + 1}")
            )
        ax.legend(loc="upper right", fontsize="small", framealpha=0.85)
    elif 0 in segs:
        ax.add_collection(LineCollection(segs[0], colors="0.15", linewidths=0.6))
