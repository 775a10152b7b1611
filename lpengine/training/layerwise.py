"""Whole-network L1 training by block-coordinate descent over layers, each block solved by the Deep ReLU Simplex.

With all other layers frozen, the L1 (or pinball) training loss is a
piecewise-affine function of one layer's parameters, and
:func:`~lpengine.deep_relu_simplex` walks it to a certified local minimum.
:func:`train_network` cycles the layers (the output layer included), each step
warm-started from the current weights.  Every step starts where the previous one
ended and the walk never raises the loss, so the loss is non-increasing over the
whole run; each recorded loss is recomputed by an independent forward pass of
the network the step returns (never taken from the engine), and a step whose
forward-pass loss would not be lower keeps the previous weights.  Dependent
input features of a layer are held fixed (:mod:`lpengine.training.reduction`);
units that are dead are reported in every step (``TrainingStep.dead_units``),
never hidden.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

import numpy as np
from numpy.typing import NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidNetworkError, InvalidOptionError, InvalidProblemError, SolverError
from ..network import ReLUNetwork
from ..simplex import DRSResult, DRSState, deep_relu_simplex
from ..tolerances import Tolerances, resolve_tolerances
from .reduction import dead_units, expand_layer, reduce_layer
from .result import TrainingResult, TrainingState, TrainingStep

logger = logging.getLogger(__name__)

__all__ = ["train_network", "l1_loss", "TrainingOptions"]

_ORDERS = ("forward", "backward", "random")


def l1_loss(
    net: ReLUNetwork,
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    quantile: float = 0.5,
    sample_weight: NDArray[np.float64] | None = None,
) -> float:
    """Training loss by a plain forward pass: ``sum c_i rho(f(x_i) - y_i)``.

    ``rho(r) = |r|`` for ``quantile=0.5``, else ``(1 - q) r_+ + q r_-`` (the convention of
    :func:`~lpengine.deep_relu_simplex`, with ``r = prediction - target``).
    """
    r = net.forward(X)[:, 0] - y
    if quantile == 0.5:
        v = np.abs(r)
    else:
        v = (1.0 - quantile) * np.maximum(r, 0.0) + quantile * np.maximum(-r, 0.0)
    return float(np.sum(v if sample_weight is None else sample_weight * v))


def _check_inputs(
    net: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    order: Any,
    layers: Any,
    cycles: Any,
    quantile: Any,
    time_limit: Any,
    max_pivots: Any,
    callback: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None, list[int]]:
    if not isinstance(net, ReLUNetwork):
        raise InvalidNetworkError(f"net must be a lpengine.ReLUNetwork; got {type(net).__name__}.")
    if not net.has_output_layer or net.n_out != 1:
        raise InvalidNetworkError(
            f"train_network needs a scalar affine output layer; got has_output_layer={net.has_output_layer}, "
            f"n_out={net.n_out}."
        )
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    if X.shape[1] != net.n_in:
        raise InvalidProblemError(f"X has {X.shape[1]} features; expected n_in = {net.n_in} of the network.")
    y = check_array(y, "y", error=InvalidProblemError)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (X.shape[0],):
        raise InvalidProblemError(f"y has shape {y.shape}; expected ({X.shape[0]},) to match X.")
    if sample_weight is not None:
        sample_weight = check_array(sample_weight, "sample_weight", shape=(X.shape[0],), error=InvalidProblemError)
        if np.any(sample_weight < 0):
            raise InvalidProblemError("sample_weight has negative entries; expected weights >= 0.")
    if order not in _ORDERS:
        raise InvalidOptionError(f"The 'order' parameter must be one of {_ORDERS}. Got {order!r} instead.")
    n_layers = len(net.weights)
    if isinstance(layers, str):
        if layers != "all":
            raise InvalidOptionError(f"The 'layers' parameter must be 'all' or a list of ints. Got {layers!r} instead.")
        layer_list = list(range(n_layers))
    else:
        layer_list = [check_int(l, "layers[]", low=0, high=n_layers - 1, error=InvalidOptionError) for l in layers]
        if not layer_list or len(set(layer_list)) != len(layer_list):
            raise InvalidOptionError(f"The 'layers' parameter must list distinct layers. Got {list(layers)!r} instead.")
        layer_list.sort()
    check_int(cycles, "cycles", low=1, error=InvalidOptionError)
    check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidProblemError)
    if time_limit is not None:
        check_scalar(time_limit, "time_limit", low=0.0, error=InvalidOptionError)
    if max_pivots is not None:
        check_int(max_pivots, "max_pivots", low=0, error=InvalidOptionError)
    if callback is not None and not callable(callback):
        raise InvalidOptionError(f"callback must be callable or None; got {type(callback).__name__}.")
    return X, y, sample_weight, layer_list


class TrainingOptions(TypedDict, total=False):
    """The keyword options of :func:`train_network` that wrappers pass through unchanged.

    A wrapper (:func:`lpengine.torch.fit_layerwise`) takes ``**options:
    Unpack[TrainingOptions]`` and hands them on, so the defaults and the checks
    stay in :func:`train_network` alone.
    """

    cycles: int
    order: str
    layers: str | Sequence[int]
    quantile: float
    time_limit: float | None
    max_pivots: int | None
    callback: Callable[[TrainingState], bool | None] | None
    seed: int | None
    tol: Tolerances | None


def train_network(
    net: ReLUNetwork,
    X: Any,
    y: Any,
    *,
    cycles: int = 10,
    order: str = "forward",
    layers: str | Sequence[int] = "all",
    quantile: float = 0.5,
    time_limit: float | None = None,
    max_pivots: int | None = None,
    callback: Callable[[TrainingState], bool | None] | None = None,
    seed: int | None = 0,
    tol: Tolerances | None = None,
    sample_weight: Any = None,
    engine: str = "native",
    certify_cells: int = 32,
) -> TrainingResult:
    """Train every layer of a ReLU network for the L1 (or pinball) loss, one exact layer step at a time.

    Parameters
    ----------
    net : ReLUNetwork
        Start network, with a scalar affine output layer.
    X : array_like, shape (n_samples, n_in)
    y : array_like, shape (n_samples,)
    cycles : int, default 10
        Most passes over ``layers``.
    order : {"forward", "backward", "random"}
        Layer order within a cycle (``"random"``: a fresh seeded permutation per cycle).
    layers : "all" or sequence of int
        Trained layers (indices into ``net.weights``; the last is the output layer).
    quantile : float in (0, 1), default 0.5
        0.5: ``sum |f(x_i) - y_i|``; otherwise the pinball loss (see :func:`l1_loss`).
    time_limit : float, optional
        Seconds for the whole run; the running step gets what is left (it then
        ends uncertified, at a vertex with lower loss).
    max_pivots : int, optional
        Pivot budget of each layer step.
    callback : callable, optional
        ``callback(TrainingState) -> bool | None``, after every pivot and every step; True stops.
    seed : int or None, default 0
        Seeds the random layer order and each step's walk (the perturbation of a start on a kink,
        moves at dead neurons, sampled certificate cells).  The default 0 makes runs reproducible:
        the same inputs give the same network.  ``None`` draws fresh entropy from the operating
        system (a different run each time).
    tol : Tolerances, optional
        ``tol.cycle`` decides convergence, ``tol.dependence`` held inputs.
    sample_weight : array_like, shape (n_samples,), optional
    engine : {"native", "highs"}
        Engine of every walk (see :func:`~lpengine.deep_relu_simplex`).
    certify_cells : int, default 32
        Incident hidden cells HiGHS checks at each step's end vertex.

    Returns
    -------
    TrainingResult

    Raises
    ------
    InvalidNetworkError, InvalidProblemError, InvalidOptionError
        Malformed network, data or options.

    Notes
    -----
    Block-coordinate descent: step ``k`` minimises the loss over one layer with
    the others fixed, starting from the current weights, so ``losses`` never
    increases; a step ending at ``local_minimum`` is certified by
    :func:`~lpengine.deep_relu_simplex`.  A cycle in which every layer is at a
    certified local minimum of its own block ends training, but this is a
    block-wise (Nash) stationarity, not a local minimum in all weights jointly.
    Cost per step: a walk over ``D = n_l (n_{l-1} + 1)`` parameters, ``O(D^2 + N P)``
    per pivot.

    Examples
    --------
    >>> import numpy as np
    >>> from lpengine import ReLUNetwork
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.uniform(-1, 1, (40, 2)), rng.uniform(-1, 1, 40)
    >>> res = train_network(ReLUNetwork.random(2, [3, 2], seed=1), X, y, cycles=2, seed=0)
    >>> len(res.steps) <= 6, bool(np.all(np.diff(res.losses) <= 0)), res.fun <= res.initial_loss
    (True, True, True)
    """
    X, y, sw, layer_list = _check_inputs(
        net, X, y, sample_weight, order, layers, cycles, quantile, time_limit, max_pivots, callback
    )
    t = resolve_tolerances(tol)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    loss = l1_loss(net, X, y, quantile, sw)
    initial = loss
    steps: list[TrainingStep] = []
    status, message, done_cycles = "max_cycles", f"stopped after {cycles} cycle(s) (cycles)", 0
    stop = False
    for cycle in range(cycles):
        if order == "forward":
            seq = list(layer_list)
        elif order == "backward":
            seq = layer_list[::-1]
        else:
            seq = [layer_list[i] for i in rng.permutation(len(layer_list))]
        loss_cycle = loss
        for layer in seq:
            left = None if time_limit is None else time_limit - (time.perf_counter() - start)
            if left is not None and left <= 0.0:
                status, message, stop = "time_limit", f"stopped after {time.perf_counter() - start:.3g} s", True
                break
            step_seed = int(rng.integers(2**31)) if seed is not None else None
            step, net, stopped = _layer_step(
                net, X, y, sw, layer, cycle, len(steps), loss, quantile, left, max_pivots, callback, step_seed, t,
                engine, certify_cells, start,
            )  # fmt: skip
            steps.append(step)
            loss = step.loss
            logger.info(
                "cycle %d layer %d: %s, loss %.12g -> %.12g (%d vertices, %.2f s)",
                cycle, layer, step.status, step.loss_before, step.loss, step.vertices, step.seconds,
            )  # fmt: skip
            if callback is not None:
                state = TrainingState(
                    cycle, len(steps) - 1, layer, loss, step.pivots, time.perf_counter() - start, True
                )
                stopped = bool(callback(state)) or stopped
            if stopped:
                status, message, stop = "stopped", f"stopped by the callback after {len(steps)} step(s)", True
                break
            if step.status == "time_limit":
                status, message, stop = "time_limit", f"stopped after {time.perf_counter() - start:.3g} s", True
                break
        if stop:
            break
        done_cycles = cycle + 1
        if loss_cycle - loss <= t.cycle * max(1.0, loss_cycle):
            status = "converged"
            message = (
                f"cycle {cycle} lowered the loss by {loss_cycle - loss:.3g} (at most tol.cycle = {t.cycle:g} relative)"
            )
            break
    return TrainingResult(
        network=net,
        losses=_frozen(np.array([s.loss for s in steps], dtype=np.float64)),
        initial_loss=initial,
        fun=loss,
        steps=tuple(steps),
        status=status,
        message=message,
        cycles=done_cycles,
        seconds=time.perf_counter() - start,
        dead_units=dead_units(net, X),
    )


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a.flags.writeable = False
    return a


def _layer_step(
    net: ReLUNetwork,
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    sw: NDArray[np.float64] | None,
    layer: int,
    cycle: int,
    index: int,
    loss: float,
    quantile: float,
    time_left: float | None,
    max_pivots: int | None,
    callback: Callable[[TrainingState], bool | None] | None,
    seed: int | None,
    t: Tolerances,
    engine: str,
    cells: int,
    start: float,
) -> tuple[TrainingStep, ReLUNetwork, bool]:
    """One walk on ``layer``: reduce, run, map back, check by a forward pass."""
    t0 = time.perf_counter()
    red_net, Xr, theta0, red = reduce_layer(net, X, layer, t)
    held = tuple(int(j) for j in red.held)

    def done(
        status: str,
        certified: bool,
        vertices: int,
        pivots: int,
        new_net: ReLUNetwork,
        new_loss: float,
        accepted: bool,
        msg: str,
        traj: Any,
    ) -> tuple[TrainingStep, ReLUNetwork]:
        step = TrainingStep(
            layer=layer,
            cycle=cycle,
            status=status,
            certified=certified,
            vertices=vertices,
            pivots=pivots,
            seconds=time.perf_counter() - t0,
            loss_before=loss,
            loss=new_loss,
            accepted=accepted,
            held_inputs=held,
            dead_units=dead_units(new_net, X),
            message=msg,
            trajectory=traj,
            weights=new_net.weights[layer],
            bias=new_net.biases[layer],
        )
        return step, new_net

    if red_net is None:
        step, n = done(
            "skipped", False, 0, 0, net, loss, False,
            f"every input of layer {layer} is constant on the data; nothing to train", None,
        )  # fmt: skip
        return step, n, False
    stopped = [False]
    inner = None
    if callback is not None:

        def inner(s: DRSState) -> bool:
            st = TrainingState(cycle, index, layer, s.loss, s.iteration, time.perf_counter() - start, False)
            stopped[0] = bool(callback(st))
            return stopped[0]

    try:
        res: DRSResult = deep_relu_simplex(
            red_net, Xr, y, layer=layer, quantile=quantile, theta0=theta0, seed=seed, max_pivots=max_pivots,
            time_limit=time_left, callback=inner, tol=t, sample_weight=sw, engine=engine, certify_cells=cells,
        )  # fmt: skip
    except (InvalidProblemError, SolverError) as exc:
        logger.warning("layer %d: the walk refused the problem: %s", layer, exc)
        step, n = done("error", False, 0, 0, net, loss, False, f"{type(exc).__name__}: {exc}", None)
        return step, n, stopped[0]
    new_net = expand_layer(net, layer, np.asarray(res.theta), red)
    new_loss = l1_loss(new_net, X, y, quantile, sw)
    accepted = new_loss <= loss
    msg = res.message
    if res.certificate is not None and not res.certified:
        msg = f"{msg}; not certified: {res.certificate.reason}"
    if not accepted:
        msg = (
            f"{msg}; weights kept: the forward-pass loss {new_loss:.17g} is not below "
            f"{loss:.17g} (rounding of a walk without progress)"
        )
        new_net, new_loss = net, loss
    step, n = done(
        res.status, bool(res.certified), len(res.losses), int(res.nit), new_net, new_loss, accepted, msg,
        res.trajectory,
    )  # fmt: skip
    return step, n, stopped[0]
