"""Early stopping of a descent walk when the predicted remaining gain is small.

Rule: after every pivot, estimate the limit ``L*`` from the losses so far with
one of :data:`lpengine.analysis.estimators.ESTIMATORS`; stop when the estimator
applies (status ``"ok"`` or ``"flat"``) and the predicted remaining gain plus
one uncertainty, ``(L_k - L̂*) + u``, is below ``gain_tol``, after at least
``min_vertices`` vertices.  The uncertainty term makes the rule conservative:
an estimate with an infinite uncertainty never stops the run.

Use it as the ``callback`` of :func:`lpengine.simplex.deep_relu_simplex`
(returning True stops the run with status ``"stopped"``); evaluate it as
vertices saved against loss given up (:func:`evaluate_early_stop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from .._validation import check_int, check_scalar
from ..exceptions import InvalidOptionError
from ._json import fields_dict
from .decay import check_losses
from .estimators import ESTIMATORS, LimitEstimate, estimate_limit

__all__ = ["EarlyStopping", "EarlyStopOutcome", "evaluate_early_stop"]


class EarlyStopping:
    """A callback ``state -> bool`` that stops when the predicted remaining gain is small.

    Parameters
    ----------
    gain_tol : float
        Stop when ``remaining_gain + uncertainty < gain_tol`` (loss units).
    method : str
        Estimator name (default ``"geometric_fit"``).
    min_vertices : int
        Never stop before this many vertices.
    every : int
        Re-estimate only every ``every`` vertices (estimators cost O(window)).
    **options
        Passed to the estimator (``window``, ``h``, ...).

    Attributes
    ----------
    losses : list of float
        Losses seen so far (the callback's memory).
    last : LimitEstimate or None
        The most recent estimate.
    """

    def __init__(
        self, *, gain_tol: float, method: str = "geometric_fit", min_vertices: int = 50, every: int = 1, **options: Any
    ) -> None:
        self.gain_tol = check_scalar(gain_tol, "gain_tol", low=0.0, error=InvalidOptionError)
        if method not in ESTIMATORS:
            raise InvalidOptionError(
                f"The 'method' parameter of EarlyStopping must be one of {sorted(ESTIMATORS)}. Got {method!r}."
            )
        self.method = method
        self.min_vertices = check_int(min_vertices, "min_vertices", low=1, error=InvalidOptionError)
        self.every = check_int(every, "every", low=1, error=InvalidOptionError)
        self.options = dict(options)
        self.losses: list[float] = []
        self.last: LimitEstimate | None = None

    def should_stop(self, losses: ArrayLike) -> bool:
        """The rule applied to a whole prefix (used by the callback and the offline evaluation)."""
        y = check_losses(losses)
        n = y.shape[0]
        if n < self.min_vertices or (n - self.min_vertices) % self.every:
            return False
        est = estimate_limit(y, method=self.method, **self.options)
        self.last = est
        if not est.ok:
            return False
        return bool(est.remaining_gain + est.uncertainty < self.gain_tol)

    def __call__(self, state: Any) -> bool:
        self.losses.append(float(state.loss))
        return self.should_stop(self.losses)


@dataclass(frozen=True)
class EarlyStopOutcome:
    """Early stopping replayed on a finished loss sequence.

    Attributes
    ----------
    stop_index : int
        Vertex at which the rule fires (``n_vertices - 1`` if never).
    n_vertices : int
        Length of the full run.
    vertices_saved : int
    loss_given_up : float
        ``L_stop - L_final`` (>= 0 for a non-increasing sequence).
    stopped : bool
        Whether the rule fired before the end.
    """

    stop_index: int
    n_vertices: int
    vertices_saved: int
    loss_given_up: float
    stopped: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)


def evaluate_early_stop(losses: ArrayLike, rule: EarlyStopping) -> EarlyStopOutcome:
    """Replay ``rule`` on a completed run's losses: vertices saved vs loss given up.

    Examples
    --------
    >>> import numpy as np
    >>> y = 1.0 + 0.9 ** np.arange(200)
    >>> out = evaluate_early_stop(y, EarlyStopping(gain_tol=1e-3, min_vertices=10, window=10))
    >>> out.stopped, out.stop_index, out.loss_given_up < 1e-3
    (True, 66, True)
    """
    y = check_losses(losses)
    n = y.shape[0]
    for k in range(n):
        if rule.should_stop(y[: k + 1]):
            return EarlyStopOutcome(k, n, n - 1 - k, float(y[k] - y[-1]), k < n - 1)
    return EarlyStopOutcome(n - 1, n, 0, 0.0, False)
