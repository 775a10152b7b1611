"""The per-sample loss ``rho`` of the layer-wise problem: L1, pinball (quantile) or linear.

``rho(r) = w_plus * max(r, 0) + w_minus * max(-r, 0)`` for ``r = prediction - target``;
:class:`~lpengine.simplex.model.LayerwiseModel` sums ``c_i rho(r_i)`` over the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RhoLoss", "loss_for_quantile"]


@dataclass(frozen=True)
class RhoLoss:
    """``rho(r) = w_plus * max(r, 0) + w_minus * max(-r, 0)`` for ``r = prediction - target``.

    L1 is ``(1, 1)``; the pinball loss of quantile ``tau`` is ``(1 - tau, tau)``;
    the linear loss ``rho(r) = r`` (argument minimisation) is ``(1, -1)``.
    """

    w_plus: float
    w_minus: float

    @property
    def kinked(self) -> bool:
        """Whether the residuals are kinks (the slope jumps by ``w_plus + w_minus`` at 0)."""
        return self.w_plus + self.w_minus != 0.0

    @property
    def jump(self) -> float:
        """Slope jump of ``rho`` at 0."""
        return self.w_plus + self.w_minus

    def value(self, r: NDArray[np.float64], c: NDArray[np.float64]) -> float:
        """``sum_i c_i rho(r_i)`` (compensated by summing positive and negative parts apart)."""
        pos = np.maximum(r, 0.0)
        neg = np.maximum(-r, 0.0)
        return float(self.w_plus * np.dot(c, pos) + self.w_minus * np.dot(c, neg))


def loss_for_quantile(quantile: float) -> RhoLoss:
    """L1 for ``quantile == 0.5`` (``sum |r|``), otherwise the pinball loss of ``quantile``."""
    if quantile == 0.5:
        return RhoLoss(1.0, 1.0)
    return RhoLoss(1.0 - quantile, quantile)
