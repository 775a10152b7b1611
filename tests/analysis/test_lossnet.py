"""Tests of lpengine.analysis.lossnet: the θ-space networks reproduce the loss exactly."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.analysis.lossnet import LayerwiseL1Problem
from lpengine.exceptions import InvalidOptionError, InvalidProblemError


@pytest.mark.parametrize(("widths", "layer"), [([3], 0), ([2, 3], 0), ([2, 3], 1), ([3, 2, 2], 1)])
def test_theta_networks_match_direct_loss(widths: list[int], layer: int) -> None:
    rng = np.random.default_rng(5)
    net = ReLUNetwork.random(2, widths, seed=2)
    X, y = rng.uniform(-2, 2, (7, 2)), rng.uniform(-1, 1, 7)
    prob = LayerwiseL1Problem(net, X, y, layer=layer, w_plus=0.4, w_minus=1.6)
    assert prob.dim == widths[layer] * ((2 if layer == 0 else widths[layer - 1]) + 1)
    for _ in range(5):
        th = rng.normal(0, 2, prob.dim)
        r = prob.network_with(th).forward(X)[:, 0] - y
        direct = float(0.4 * np.maximum(r, 0).sum() + 1.6 * np.maximum(-r, 0).sum())
        assert_allclose(prob.loss(th), direct, rtol=1e-13)
        assert_allclose(prob.residuals(th), r, atol=1e-12)
        assert_allclose(prob.loss_network.forward(th)[0], direct, rtol=1e-12)
        assert_allclose(prob.hidden_network.forward(th), prob.network_with(th).forward(X)[:, 0], atol=1e-12)
    # theta0 is the network's own layer, so network_with(theta0) is the network itself
    assert prob.network_with(prob.theta0) == net


def test_quantile_weights() -> None:
    net = ReLUNetwork.random(1, [2], seed=0)
    p = LayerwiseL1Problem.from_quantile(net, [[0.0], [1.0]], [0.0, 0.0], quantile=0.8)
    assert (p.w_plus, p.w_minus) == pytest.approx((0.2, 0.8))
    half = LayerwiseL1Problem.from_quantile(net, [[0.0], [1.0]], [0.0, 0.0], quantile=0.5)
    assert (half.w_plus, half.w_minus) == (1.0, 1.0)
    with pytest.raises(InvalidOptionError, match="'quantile' parameter"):
        LayerwiseL1Problem.from_quantile(net, [[0.0]], [0.0], quantile=1.5)


def test_bad_problems() -> None:
    net = ReLUNetwork.random(2, [3], seed=0)
    X = np.zeros((4, 2))
    with pytest.raises(InvalidProblemError, match="X has 3 features; expected n_in = 2"):
        LayerwiseL1Problem(net, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(InvalidProblemError, match="y has 3 values; expected one per row of X"):
        LayerwiseL1Problem(net, X, np.zeros(3))
    with pytest.raises(InvalidProblemError, match="'layer' parameter"):
        LayerwiseL1Problem(net, X, np.zeros(4), layer=1)
    two_out = ReLUNetwork.random(2, [3], n_out=2, seed=0)
    with pytest.raises(InvalidProblemError, match="output layer of width 1"):
        LayerwiseL1Problem(two_out, X, np.zeros(4))
    prob = LayerwiseL1Problem(net, X, np.zeros(4))
    with pytest.raises(InvalidProblemError, match=r"theta has shape \(5,\); expected \(9\)"):
        prob.loss(np.zeros(5))
