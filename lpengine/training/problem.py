"""Problem files for whole-network training (``lpengine train PROBLEM.toml``).

The schema is that of ``lpengine solve`` (:mod:`lpengine.simplex.problem`, task ``"train"``) plus three
keys of ``[training]``::

    [training]
    layers = "all"          # or a list of layer indices into the network's weights (the last: output layer)
    cycles = 10             # most passes over the layers
    order = "forward"       # "forward" | "backward" | "random"

``[solver]`` keeps its meaning per run: ``time_limit`` bounds the whole training, ``max_pivots`` each
layer step; ``seed``, ``certify_cells`` and ``engine`` go to every step.  Training starts from the
network's own weights, so ``training.start`` must be ``"network"`` (the default) and ``training.layer``
does not apply.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidProblemError
from ..simplex.problem import Problem, load_problem
from .layerwise import train_network
from .result import TrainingResult, TrainingState

__all__ = ["TrainingProblem", "load_training_problem", "run_training_problem"]

_ORDERS = ("forward", "backward", "random")


@dataclass(frozen=True, eq=False)
class TrainingProblem:
    """A ``train`` problem file with its whole-network training options."""

    problem: Problem
    layers: str | tuple[int, ...]
    cycles: int
    order: str


def load_training_problem(path: str | os.PathLike[str]) -> TrainingProblem:
    """Read a problem file for :func:`run_training_problem` (see the module docstring).

    Raises
    ------
    InvalidProblemError
        The file is malformed, its task is not ``"train"``, or a training key has a bad value.
    """
    prob = load_problem(path)
    if prob.task != "train":
        raise InvalidProblemError(
            f"lpengine train needs problem.task = 'train'; {os.fspath(path)!r} has {prob.task!r}."
        )
    with open(path, "rb") as fh:  # load_problem has read and checked it already
        tr = tomllib.load(fh).get("training", {})
    if tr.get("start", "network") != "network":
        raise InvalidProblemError(
            f"training.start = {tr['start']!r}: whole-network training starts from the network's own weights; "
            "remove training.start (or set it to 'network')."
        )
    layers: Any = tr.get("layers", "all")
    n = len(prob.network.weights) if prob.network is not None else 0
    if isinstance(layers, list):
        if not layers or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n for v in layers):
            raise InvalidProblemError(
                f"training.layers must be 'all' or a list of ints in [0, {n - 1}]; got {layers!r}."
            )
        if len(set(layers)) != len(layers):
            raise InvalidProblemError(f"training.layers lists a layer twice: {layers!r}.")
        layers = tuple(layers)
    elif layers != "all":
        raise InvalidProblemError(f"training.layers must be 'all' or a list of ints; got {layers!r}.")
    cycles = tr.get("cycles", 10)
    if not isinstance(cycles, int) or isinstance(cycles, bool) or cycles < 1:
        raise InvalidProblemError(f"training.cycles must be an integer >= 1; got {cycles!r}.")
    order = tr.get("order", "forward")
    if order not in _ORDERS:
        raise InvalidProblemError(f"training.order must be one of {_ORDERS}; got {order!r}.")
    return TrainingProblem(problem=prob, layers=layers, cycles=cycles, order=order)


def run_training_problem(
    tp: TrainingProblem,
    *,
    cycles: int | None = None,
    time_limit: float | None = None,
    callback: Callable[[TrainingState], bool | None] | None = None,
) -> TrainingResult:
    """Run :func:`~lpengine.train_network` on a loaded file; ``cycles`` / ``time_limit`` override it."""
    p, o = tp.problem, tp.problem.options
    assert p.network is not None and p.X is not None and p.y is not None  # task "train" has all three
    return train_network(
        p.network,
        p.X,
        p.y,
        cycles=tp.cycles if cycles is None else cycles,
        order=tp.order,
        layers=tp.layers if isinstance(tp.layers, str) else list(tp.layers),
        quantile=p.quantile,
        time_limit=o["time_limit"] if time_limit is None else time_limit,
        max_pivots=o["max_pivots"],
        callback=callback,
        seed=o["seed"],
        engine=o.get("engine", "native"),
        certify_cells=o["certify_cells"],
    )
