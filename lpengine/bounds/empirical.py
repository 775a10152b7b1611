"""Exact per-layer histograms of a network's regions, against every bound, layer by layer.

For a network with hidden widths ``n_1..n_L`` and each ``l = 1..L``, the
sub-network made of the first ``l`` hidden layers is enumerated exactly
(:func:`lpengine.regions.enumerate_regions`).  Each of its regions ``R``
carries three numbers:

* the *image dimension* ``dim h^l(R) = rank(diag(m_l) A_l)``, the rank of the
  Jacobian of layer ``l``'s post-activation on ``R`` (``A_l``: the rows of
  layer ``l``'s pre-activation gradients on ``R``, ``m_l`` its activity mask);
* the framework's *rank bound* ``min(n0, |s_1|, ..., |s_l|)``;
* the number ``|s_l|`` of active units of layer ``l``.

Since ``dim h^l(R) <= rank bound``, the image-dimension histogram is
dominated by the rank-bound histogram, which the Hinz–van de Geer theorem
says is dominated by the framework's vector ``v^{(l)}``: both inequalities
are checked after every layer, not only for the final count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .hinz_vandegeer2019 import dominates, framework_histograms
from .table import BoundsTable, all_bounds

__all__ = ["LayerHistogram", "EmpiricalHistograms", "HistogramProgress", "layer_histograms", "matrix_ranks"]

logger = logging.getLogger(__name__)

#: The γ whose framework vectors are compared with the exact histograms.
FRAMEWORK_GAMMAS = ("serra2018", "activation_counts")


@dataclass(frozen=True)
class LayerHistogram:
    """Exact histograms of the first-``l``-layer sub-network, with its bounds.

    Attributes
    ----------
    layer : int
        ``l`` (1-based): the sub-network has hidden widths ``widths[:l]``.
    count : int
        Exact number of its full-dimensional activation regions in the domain.
    complete : bool
        Whether the enumeration finished (else ``count`` is a lower bound).
    dimension_histogram : tuple of int
        Entry ``d``: regions whose image under ``h^l`` has dimension ``d``
        (length ``n_l + 1``).
    rank_bound_histogram : tuple of int
        Entry ``d``: regions with ``min(n0, |s_1|, ..., |s_l|) = d``.
    active_histogram : tuple of int
        Entry ``a``: regions in which ``a`` units of layer ``l`` are active.
    bounds : BoundsTable
        :func:`~lpengine.bounds.all_bounds` for the sub-network's architecture.
    framework : dict of str to tuple of int
        The framework's vector ``v^{(l)}`` for each γ in ``FRAMEWORK_GAMMAS``.
    framework_dominates : dict of str to bool
        Whether ``v^{(l)}`` dominates the rank-bound histogram (a theorem: a
        False would be a bug or a numerically wrong count).
    """

    layer: int
    count: int
    complete: bool
    dimension_histogram: tuple[int, ...]
    rank_bound_histogram: tuple[int, ...]
    active_histogram: tuple[int, ...]
    bounds: BoundsTable
    framework: dict[str, tuple[int, ...]] = field(hash=False)
    framework_dominates: dict[str, bool] = field(hash=False)

    def ratios(self) -> dict[str, Fraction]:
        """``bound / count`` for every applicable upper bound (exact fractions)."""
        if self.count == 0:
            return {}
        return {
            e.name: Fraction(e.value, self.count)
            for e in self.bounds.entries
            if e.kind in ("upper", "exact") and e.value is not None
        }

    @property
    def upper_bounds_hold(self) -> bool:
        """Every applicable upper bound is ``>= count``."""
        return all(r >= 1 for r in self.ratios().values())

    def summary(self) -> dict[str, Any]:
        """JSON-ready (ints, lists, floats)."""
        return {
            "layer": self.layer,
            "exact_count": self.count,
            "complete": self.complete,
            "dimension_histogram": list(self.dimension_histogram),
            "rank_bound_histogram": list(self.rank_bound_histogram),
            "active_histogram": list(self.active_histogram),
            "framework": {k: list(v) for k, v in self.framework.items()},
            "framework_dominates": dict(self.framework_dominates),
            "ratios": {k: float(v) for k, v in self.ratios().items()},
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: :meth:`summary` plus ``upper_bounds_hold``."""
        return {**self.summary(), "upper_bounds_hold": self.upper_bounds_hold}


@dataclass(frozen=True)
class HistogramProgress:
    """State passed to :func:`layer_histograms`' ``callback``.

    Attributes
    ----------
    layer : int
        Depth ``l`` of the prefix network being counted (``1..n_layers``).
    n_layers : int
        Number of prefix networks (hidden layers), ``L``.
    regions : int
        Regions found so far by this layer's enumeration (its count once ``layer_done``).
    seconds : float
        Wall time since :func:`layer_histograms` started.
    layer_done : bool
        True once, when layer ``layer``'s enumeration has ended.
    complete : bool
        With ``layer_done``: whether that count is exact (the enumeration ran to its end).
    """

    layer: int
    n_layers: int
    regions: int
    seconds: float
    layer_done: bool = False
    complete: bool = True


@dataclass(frozen=True)
class EmpiricalHistograms:
    """Result of :func:`layer_histograms`: one :class:`LayerHistogram` per prefix ``l = 1..L``."""

    n0: int
    widths: tuple[int, ...]
    domain: str
    layers: tuple[LayerHistogram, ...]

    @property
    def count(self) -> int:
        """Exact region count of the whole network (last layer)."""
        return self.layers[-1].count

    @property
    def all_checks_pass(self) -> bool:
        """Every upper bound and every framework domination holds at every layer."""
        return all(h.upper_bounds_hold and all(h.framework_dominates.values()) for h in self.layers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: architecture, domain, ``exact_count``, ``complete``, ``all_checks_pass``, ``layers``."""
        return {
            "n0": self.n0,
            "widths": list(self.widths),
            "domain": self.domain,
            "exact_count": self.count,
            "complete": all(h.complete for h in self.layers),
            "all_checks_pass": self.all_checks_pass,
            "layers": [h.to_dict() for h in self.layers],
        }


def matrix_ranks(net: ReLUNetwork) -> tuple[int, ...]:
    """``rank W^l`` for each hidden layer (numpy's default SVD tolerance), for Serra's rank variant."""
    return tuple(int(np.linalg.matrix_rank(W)) for W in net.weights[: net.n_hidden_layers])


def _histogram(values: list[int], length: int) -> tuple[int, ...]:
    h = [0] * length
    for v in values:
        h[v] += 1
    return tuple(h)


def layer_histograms(
    net: ReLUNetwork,
    *,
    box: Any = None,
    polytope: Any = None,
    whole_space: bool = False,
    tol: Tolerances | None = None,
    n_jobs: int = 1,
    use_ranks: bool = True,
    callback: Callable[[HistogramProgress], None] | None = None,
) -> EmpiricalHistograms:
    """Enumerate every prefix sub-network of ``net`` and histogram its regions (see module docstring).

    Parameters
    ----------
    net : ReLUNetwork
        Its hidden layers are used; an output layer is ignored (regions are
        activation regions of the hidden units).
    box, polytope, whole_space
        The domain, as for :func:`lpengine.regions.enumerate_regions`
        (default: the box ``[-1, 1]^n_in``).
    tol : Tolerances, optional
    n_jobs : int
        Passed to the enumerator.
    use_ranks : bool, default True
        Add Serra et al.'s rank variant with the actual ``rank W^l``.
    callback : callable, optional
        ``callback(HistogramProgress)``: during each prefix network's enumeration
        (about twice a second) and once when it ends.  Progress only: its return
        value is ignored, every layer is counted (a command line shows a line per
        layer with it).

    Returns
    -------
    EmpiricalHistograms

    Notes
    -----
    Cost: ``L`` enumerations, of the sub-networks with ``1..L`` layers.  The
    image dimension uses ``numpy.linalg.matrix_rank`` with its default
    tolerance, like :attr:`lpengine.LocalAffineMap.rank`.

    Examples
    --------
    >>> net = ReLUNetwork.random(2, [3, 3], n_out=None, seed=2)
    >>> h = layer_histograms(net, box=(-3, 3))
    >>> [layer.count for layer in h.layers], h.layers[-1].dimension_histogram, h.all_checks_pass
    ([7, 17], (4, 10, 3, 0), True)
    """
    from ..regions import enumerate_regions

    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork; got {type(net).__name__}.")
    n0, widths, L = net.n_in, net.hidden_widths, net.n_hidden_layers
    ranks = matrix_ranks(net) if use_ranks else None
    fw = {g: framework_histograms(n0, widths, gamma=g).histograms for g in FRAMEWORK_GAMMAS}
    layers = []
    domain_text = ""
    t0 = time.perf_counter()
    for l in range(1, L + 1):
        sub = ReLUNetwork(net.weights[:l], net.biases[:l], has_output_layer=False)
        tick = None
        if callback is not None:
            cb = callback

            def tick(state: Any, l: int = l, cb: Callable[[HistogramProgress], None] = cb) -> None:
                cb(HistogramProgress(l, L, int(state.regions), time.perf_counter() - t0))

        res = enumerate_regions(
            sub, box=box, polytope=polytope, whole_space=whole_space, tol=tol, n_jobs=n_jobs, callback=tick
        )
        if callback is not None:
            callback(HistogramProgress(l, L, res.count, time.perf_counter() - t0, True, res.complete))
        domain_text = res.domain
        lo, hi = sub.layer_offsets[l - 1], sub.layer_offsets[l]
        dims, rank_bounds, actives = [], [], []
        for r in res.regions:
            act = np.asarray(r.pattern.active, dtype=bool)
            rows = r.affine.A[lo:hi][act[lo:hi]]
            dims.append(int(np.linalg.matrix_rank(rows)) if rows.shape[0] else 0)
            rb = n0
            for k in range(l):
                rb = min(rb, int(act[sub.layer_offsets[k] : sub.layer_offsets[k + 1]].sum()))
            rank_bounds.append(rb)
            actives.append(int(act[lo:hi].sum()))
        n_l = widths[l - 1]
        rb_hist = _histogram(rank_bounds, n_l + 1)
        vecs = {g: fw[g][l - 1] for g in FRAMEWORK_GAMMAS}
        layers.append(
            LayerHistogram(
                layer=l,
                count=res.count,
                complete=res.complete,
                dimension_histogram=_histogram(dims, n_l + 1),
                rank_bound_histogram=rb_hist,
                active_histogram=_histogram(actives, n_l + 1),
                bounds=all_bounds(n0, widths[:l], ranks=None if ranks is None else ranks[:l]),
                framework=vecs,
                framework_dominates={g: dominates(v, rb_hist) for g, v in vecs.items()},
            )
        )
        logger.info("layer %d: %d regions (%s)", l, res.count, res.domain)
    return EmpiricalHistograms(n0=n0, widths=widths, domain=domain_text, layers=tuple(layers))
