"""Results of :func:`~lpengine.train_network`: the callback state, one layer step, the whole run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from .._display import short_repr
from ..network import ReLUNetwork

__all__ = ["TrainingState", "TrainingStep", "TrainingResult"]


@dataclass(frozen=True)
class TrainingState:
    """What ``callback`` sees: after every pivot of a layer step (``step_done=False``) and after every step.

    Return True from the callback to stop: mid-step the walk ends at its current
    vertex (its loss is already lower), and training ends after that step.
    """

    cycle: int
    step: int
    layer: int
    loss: float
    pivots: int
    elapsed: float
    step_done: bool


@dataclass(frozen=True, eq=False)
class TrainingStep:
    """One layer step of :func:`train_network`.

    Attributes
    ----------
    layer : int
        Index into ``net.weights`` of the trained layer.
    cycle : int
        0-based cycle the step belongs to.
    status : str
        The walk's status (``"local_minimum"``, ``"time_limit"``, ``"max_pivots"``,
        ``"stopped"``, ``"stalled"``), ``"skipped"`` (no walk: the layer's input is
        constant on the data) or ``"error"`` (the walk refused the problem;
        ``message`` says why; the weights are unchanged).
    certified : bool
        The end vertex is a certified local minimum in this layer's parameters.
    vertices : int
        Vertices visited by the walk (0 without a walk).
    pivots : int
    seconds : float
        Wall time of the step.
    loss_before, loss : float
        Forward-pass loss before and after the step (``loss <= loss_before``).
    accepted : bool
        Whether the walk's weights were taken.  They are refused only when the
        forward-pass loss would not be lower than ``loss_before`` *and* the weights
        differ (floating-point rounding of a walk that made no progress), so that
        ``losses`` is exactly non-increasing.
    held_inputs : tuple of int
        Input columns of the layer held fixed as dependent (see module docstring).
    dead_units : tuple of tuple of int
        After the step: per hidden layer, the units inactive on every sample.
    message : str
    trajectory : networkx.DiGraph or None
        The walk's vertex path (:class:`~lpengine.simplex.DRSResult` ``trajectory``).
    weights, bias : ndarray
        ``net.weights[layer]`` and ``net.biases[layer]`` after the step: plugging them
        into the start network step by step rebuilds every intermediate network.
    """

    layer: int
    cycle: int
    status: str
    certified: bool
    vertices: int
    pivots: int
    seconds: float
    loss_before: float
    loss: float
    accepted: bool
    held_inputs: tuple[int, ...]
    dead_units: tuple[tuple[int, ...], ...]
    message: str
    trajectory: nx.DiGraph | None
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]

    def __repr__(self) -> str:
        # One line: the weights and the trajectory stay on the object.
        fields: list[tuple[str, Any]] = [("layer", self.layer), ("cycle", self.cycle), ("status", self.status)]
        fields += [("certified", self.certified), ("loss_before", self.loss_before), ("loss", self.loss)]
        return short_repr("TrainingStep", [*fields, ("vertices", self.vertices), ("accepted", self.accepted)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the trajectory)."""
        return {
            "layer": self.layer,
            "cycle": self.cycle,
            "status": self.status,
            "certified": self.certified,
            "vertices": self.vertices,
            "pivots": self.pivots,
            "seconds": self.seconds,
            "loss_before": self.loss_before,
            "loss": self.loss,
            "accepted": self.accepted,
            "held_inputs": list(self.held_inputs),
            "dead_units": [list(d) for d in self.dead_units],
            "message": self.message,
        }


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """Result of :func:`train_network`.

    Attributes
    ----------
    network : ReLUNetwork
        The trained network.
    losses : ndarray, shape (n_steps,)
        Forward-pass loss after every layer step (non-increasing).
    initial_loss : float
        Forward-pass loss of the input network.
    fun : float
        Final loss (``losses[-1]``, or ``initial_loss`` without steps).
    steps : tuple of TrainingStep
    status : str
        ``"converged"`` (a full cycle lowered the loss by at most ``tol.cycle * max(1, loss)``),
        ``"max_cycles"``, ``"time_limit"`` or ``"stopped"`` (callback).
    message : str
    cycles : int
        Completed cycles.
    seconds : float
    dead_units : tuple of tuple of int
        Per hidden layer of the final network, units inactive on every sample.
    """

    network: ReLUNetwork
    losses: NDArray[np.float64]
    initial_loss: float
    fun: float
    steps: tuple[TrainingStep, ...]
    status: str
    message: str
    cycles: int
    seconds: float
    dead_units: tuple[tuple[int, ...], ...]

    @property
    def success(self) -> bool:
        """Whether training converged."""
        return self.status == "converged"

    @property
    def certified(self) -> bool:
        """Every step ended at a certified layer-wise local minimum."""
        return bool(self.steps) and all(s.certified for s in self.steps)

    def trajectory(self) -> nx.DiGraph:
        """All steps' vertex paths joined into one graph.

        Node ``k`` numbers the vertices of the whole run in order; it carries the
        step's attributes (``loss``, ``region``, ...) plus ``step``, ``layer`` and
        ``cycle`` (int).  Edges inside a step keep their attributes; an edge of
        ``kind="layer"`` (``step=0.0``) joins a step's last vertex to the next step's
        first one (same network, another layer's parameters).  Graph attributes:
        ``n_steps``, ``status``.
        """
        G = nx.DiGraph(n_steps=len(self.steps), status=self.status)
        last = None
        for i, s in enumerate(self.steps):
            if s.trajectory is None or s.trajectory.number_of_nodes() == 0:
                continue
            base = G.number_of_nodes()
            for k, data in s.trajectory.nodes(data=True):
                G.add_node(base + k, **data, step=i, layer=s.layer, cycle=s.cycle)
            for a, b, data in s.trajectory.edges(data=True):
                G.add_edge(base + a, base + b, **data)
            if last is not None:
                G.add_edge(last, base, kind="layer", step=0.0, layer=s.layer)
            last = base + s.trajectory.number_of_nodes() - 1
        return G

    def __repr__(self) -> str:
        # One line: the network, the steps and their trajectories stay on the object.
        fields: list[tuple[str, Any]] = [
            ("status", self.status),
            ("fun", self.fun),
            ("initial_loss", self.initial_loss),
        ]
        fields += [("n_steps", len(self.steps)), ("cycles", self.cycles), ("certified", self.certified)]
        return short_repr("TrainingResult", [*fields, ("seconds", self.seconds)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no arrays of weights; save the network with ``network.save``)."""
        return {
            "status": self.status,
            "message": self.message,
            "initial_loss": self.initial_loss,
            "loss": self.fun,
            "losses": [float(v) for v in self.losses],
            "cycles": self.cycles,
            "seconds": self.seconds,
            "certified": self.certified,
            "dead_units": [list(d) for d in self.dead_units],
            "steps": [s.to_dict() for s in self.steps],
        }
