"""PyTorch bridge: nested Sequential and no-op modules, clear errors, fit_layerwise trains a model in place."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lpengine import InvalidNetworkError, ReLUNetwork  # noqa: E402
from lpengine.torch import fit_layerwise  # noqa: E402


def _data(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.abs(X[:, 0]) - X[:, 1] + 0.1 * rng.standard_normal(n)


def test_nested_sequential_with_noops_converts_exactly() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Identity()),
        nn.Sequential(nn.Sequential(nn.Linear(4, 2)), nn.ReLU(inplace=True), nn.Dropout(0.5)),
        nn.Linear(2, 1),
    ).double()
    net = ReLUNetwork.from_torch(model)
    assert net.hidden_widths == (4, 2) and net.has_output_layer
    X = np.random.default_rng(1).normal(size=(20, 3))
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    assert_allclose(net.forward(X), out, rtol=0, atol=1e-12)
    assert ReLUNetwork.from_torch(net.to_torch()) == net


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (lambda: nn.Sequential(nn.Flatten(0), nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), r"module 0 is nn.Flatten"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Sigmoid())), r"module 1\.1 is Sigmoid"),
        (lambda: nn.Linear(2, 3), "expected an nn.Sequential; got Linear"),
        (lambda: nn.Sequential(nn.ReLU(), nn.Linear(2, 1)), "module 0 is a ReLU not directly after"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)), "Linear layer 0 is not followed by a ReLU"),
    ],
)
def test_unsupported_modules_are_named(model, match) -> None:
    with pytest.raises(InvalidNetworkError, match=match):
        ReLUNetwork.from_torch(model())


def test_fit_layerwise_trains_the_model_in_place() -> None:
    X, y = _data(3)
    model = ReLUNetwork.random(2, [4, 3], seed=3).to_torch()
    params = [id(p) for p in model.parameters()]
    with torch.no_grad():
        before = float((model(torch.from_numpy(X))[:, 0] - torch.from_numpy(y)).abs().sum())
    hist = fit_layerwise(model, torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1), cycles=6, seed=0)
    assert [id(p) for p in model.parameters()] == params
    with torch.no_grad():
        after = float((model(torch.from_numpy(X))[:, 0] - torch.from_numpy(y)).abs().sum())
    assert_allclose(before, hist.initial_loss, rtol=1e-12)
    assert_allclose(after, hist.fun, rtol=1e-12)  # torch's own forward pass agrees with the history
    assert after < 0.5 * before
    assert np.all(np.diff(hist.losses) <= 0.0)
    assert all(s.certified for s in hist.steps)
    assert ReLUNetwork.from_torch(model) == hist.network


def test_fit_layerwise_float32_model_gets_rounded_weights() -> None:
    X, y = _data(4, n=30)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    torch.manual_seed(1)
    hist = fit_layerwise(model, X.astype(np.float32), y, cycles=2, seed=0)
    assert model[0].weight.dtype == torch.float32
    assert_allclose(model[0].weight.detach().numpy(), hist.network.weights[0].astype(np.float32), rtol=0, atol=0)


def test_fit_layerwise_rejects_a_bias_free_trained_layer() -> None:
    X, y = _data(5, n=10)
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(InvalidNetworkError, match="Linear layer 0 of the model has no bias"):
        fit_layerwise(model, X, y, cycles=1)
    hist = fit_layerwise(model, X, y, cycles=1, layers=[1], seed=0)
    assert model[0].bias is None and len(hist.steps) == 1


def test_fit_layerwise_hands_its_options_to_train_network_unchanged() -> None:
    from lpengine import train_network

    X, y = _data(6, n=30)
    net = ReLUNetwork.random(2, [3], seed=6)
    # Defaults (all but the seed, which is None: unseeded): the same run as train_network's, step for step.
    hist = fit_layerwise(net.to_torch(), X, y, seed=0)
    ref = train_network(net, X, y, seed=0)
    assert hist.losses.tolist() == ref.losses.tolist() and hist.cycles == ref.cycles
    hist = fit_layerwise(net.to_torch(), X, y, cycles=2, order="backward", layers=[1], seed=3, max_pivots=2)
    ref = train_network(net, X, y, cycles=2, order="backward", layers=[1], seed=3, max_pivots=2)
    assert hist.losses.tolist() == ref.losses.tolist() and [s.layer for s in hist.steps] == [1, 1]
    with pytest.raises(TypeError, match="cycle"):
        fit_layerwise(net.to_torch(), X, y, cycle=2)  # a misspelt option is refused, never dropped
