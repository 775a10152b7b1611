"""``lpengine count --plot`` and ``lpengine solve --plot``: the pictures are written and show what they claim."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.cli import main
from tests.cli.envelope import envelope, unwrap

matplotlib = pytest.importorskip("matplotlib")

REPO = pathlib.Path(__file__).resolve().parents[2]


def read_png(path: pathlib.Path) -> np.ndarray:
    import matplotlib.image

    return (matplotlib.image.imread(path)[:, :, :3] * 255).round().astype(np.uint8)


def test_count_plot_draws_one_colour_per_region(tmp_path, capsys) -> None:
    # Lines x1 = 0.2 and x2 = -0.3 cut the default box into four rectangles: four fill colours in the picture.
    net = ReLUNetwork((np.eye(2), np.ones((1, 2))), (np.array([-0.2, 0.3]), np.zeros(1)))
    net.save(tmp_path / "net.npz")
    png = tmp_path / "regions.png"
    assert main(["count", "--net", str(tmp_path / "net.npz"), "--plot", str(png), "--json"]) == 0
    res = unwrap(capsys.readouterr().out, "count")
    assert res["regions"] == 4 and res["plot"] == str(png)
    img = read_png(png)
    cols, n = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
    fills = [tuple(c) for c, k in zip(cols, n, strict=True) if k > 0.02 * img.shape[0] * img.shape[1]]
    assert (255, 255, 255) in fills and len(fills) == 5  # white background and the four rectangles


def test_count_plot_refuses_a_3d_network_before_counting(tmp_path, capsys) -> None:
    ReLUNetwork.random(3, [2], seed=0).save(tmp_path / "net3.npz")
    rc = main(["count", "--net", str(tmp_path / "net3.npz"), "--plot", str(tmp_path / "x.png"), "--json"])
    obj = envelope(capsys.readouterr().out, "count")
    assert rc == 2 and obj["status"] == "usage" and "2 inputs" in obj["error"]["message"]
    assert not (tmp_path / "x.png").exists()


def test_solve_plot_draws_the_loss(tmp_path, capsys) -> None:
    png = tmp_path / "loss.png"
    rc = main(["solve", str(REPO / "problems" / "default.toml"), "--max-pivots", "5", "--plot", str(png), "--json"])
    res = unwrap(capsys.readouterr().out, "solve")
    assert rc == 3 and res["plot"] == str(png)
    img = read_png(png)
    # A drawn line (the default colour cycle's first colour, C0 = #1f77b4) crosses the picture.
    c0 = np.array([0x1F, 0x77, 0xB4])
    assert (np.abs(img.astype(int) - c0).sum(axis=2) < 30).sum() > 200
