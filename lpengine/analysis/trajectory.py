"""A Deep ReLU Simplex trajectory as plain arrays: losses and visited vertices in order.

The simplex (:mod:`lpengine.simplex`) records its walk as a path
``networkx.DiGraph`` whose nodes carry ``loss`` and ``iteration`` attributes,
and keeps the vertex vectors θ in a side table (``DRSResult.thetas``).  The
analysis functions work on arrays; :class:`Trajectory` is the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array
from ..exceptions import InvalidProblemError

__all__ = ["Trajectory"]


def _freeze(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Trajectory:
    """Losses (and optionally vertices) of one descent walk, in visiting order.

    Attributes
    ----------
    losses : ndarray, shape (n_vertices,)
        Loss at each visited vertex.
    thetas : ndarray, shape (n_vertices, D) or None
        The visited vertices, when known.
    certified : bool or None
        Whether the last vertex is a certified local minimum (``None`` if unknown).
    """

    losses: NDArray[np.float64]
    thetas: NDArray[np.float64] | None = None
    certified: bool | None = None

    def __post_init__(self) -> None:
        losses = check_array(self.losses, "losses", ndim=1, error=InvalidProblemError)
        object.__setattr__(self, "losses", _freeze(losses))
        if self.thetas is not None:
            th = check_array(self.thetas, "thetas", ndim=2, error=InvalidProblemError)
            if th.shape[0] != losses.shape[0]:
                raise InvalidProblemError(f"thetas has {th.shape[0]} rows; expected one per loss ({losses.shape[0]}).")
            object.__setattr__(self, "thetas", _freeze(th))

    @property
    def n_vertices(self) -> int:
        """Number of visited vertices."""
        return int(self.losses.shape[0])

    @property
    def final_loss(self) -> float:
        """Loss at the last vertex."""
        return float(self.losses[-1])

    @classmethod
    def from_graph(cls, graph: Any, thetas: ArrayLike | None = None, *, certified: bool | None = None) -> Trajectory:
        """Read a trajectory graph (nodes with ``loss``; ordered by ``iteration``, else by node key).

        Parameters
        ----------
        graph : networkx.DiGraph
            The simplex's trajectory (``DRSResult.trajectory`` or a graph read back
            from GraphML / JSON).
        thetas : array_like, shape (n_vertices, D), optional
            The side table of vertex vectors, in node order.
        certified : bool, optional

        Raises
        ------
        InvalidProblemError
            If the graph is empty or a node lacks a numeric ``loss`` attribute.
        """
        nodes = list(graph.nodes(data=True))
        if not nodes:
            raise InvalidProblemError("the trajectory graph has no nodes; expected one node per visited vertex.")

        def order(item: tuple[Any, dict[str, Any]]) -> tuple[float, str]:
            node, data = item
            it = data.get("iteration")
            if it is None:
                try:
                    it = int(node)
                except (TypeError, ValueError):
                    it = 0
            return (float(it), str(node))

        nodes.sort(key=order)
        losses = []
        for node, data in nodes:
            if "loss" not in data:
                raise InvalidProblemError(f"trajectory node {node!r} has no 'loss' attribute.")
            try:
                losses.append(float(data["loss"]))
            except (TypeError, ValueError) as exc:
                raise InvalidProblemError(f"trajectory node {node!r} has a non-numeric loss {data['loss']!r}.") from exc
        return cls(np.asarray(losses), None if thetas is None else np.asarray(thetas, dtype=np.float64), certified)

    @classmethod
    def from_result(cls, result: Any) -> Trajectory:
        """Take ``losses``, ``thetas`` and ``certified`` from a ``DRSResult``."""
        return cls(np.asarray(result.losses), np.asarray(result.thetas), bool(result.certified))
