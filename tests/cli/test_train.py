"""``lpengine train``: JSON, saved network, joined trajectory, budgets, errors and Ctrl-C."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.cli import main
from lpengine.export import read_graph
from tests.cli.envelope import unwrap

PROBLEMS = pathlib.Path(__file__).resolve().parents[2] / "problems"

pytest.importorskip("sklearn")  # the bundled datasets


def _linnerud():
    from sklearn.datasets import load_linnerud

    b = load_linnerud()
    X, y = b.data, b.target[:, 0]  # Weight
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


def test_train_json_save_and_graph(tmp_path, capsys) -> None:
    net_path, graph = tmp_path / "net.npz", tmp_path / "traj.json"
    rc = main(
        ["train", str(PROBLEMS / "train_linnerud.toml"), "--json", "--save", str(net_path), "--graph", str(graph)]
    )
    d = unwrap(capsys.readouterr().out, "train")
    assert rc == 0 and d["status"] == "converged" and d["certified"] is True
    assert [s["layer"] for s in d["steps"][:2]] == [0, 1]
    assert all(b <= a for a, b in zip([d["initial_loss"], *d["losses"]], d["losses"], strict=False))
    net = ReLUNetwork.load(net_path)
    X, y = _linnerud()
    assert_allclose(np.abs(net.forward(X)[:, 0] - y).sum(), d["loss"], rtol=1e-12)
    G = read_graph(graph)
    assert G.number_of_nodes() == sum(s["vertices"] for s in d["steps"])


def test_train_text_and_budget(capsys) -> None:
    rc = main(["train", str(PROBLEMS / "train_linnerud.toml"), "--cycles", "1"])
    out = capsys.readouterr().out
    assert rc == 3  # one cycle that lowered the loss: a budget stop, not convergence
    assert "status        max_cycles" in out and "dead units    none" in out
    assert out.count("local_minimum") == 2


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("[training]\nlayers = [0, 7]\n", "training.layers must be 'all' or a list of ints in"),
        ("[training]\ncycles = 0\n", "training.cycles must be an integer >= 1"),
        ("[training]\norder = 'up'\n", "training.order must be one of"),
        ("[training]\nstart = 'zeros'\n", "starts from the network's own weights"),
    ],
)
def test_train_bad_files(tmp_path, capsys, extra, match) -> None:
    text = (PROBLEMS / "train_linnerud.toml").read_text().replace('[training]\nlayers = "all"\ncycles = 20\n', extra)
    f = tmp_path / "p.toml"
    f.write_text(text)
    assert main(["train", str(f)]) == 1
    assert match in capsys.readouterr().err


def test_train_needs_task_train(capsys) -> None:
    assert main(["train", str(PROBLEMS / "lad_10k.toml")]) == 1
    assert "needs problem.task = 'train'" in capsys.readouterr().err


def test_ctrl_c_saves_the_partial_network(tmp_path) -> None:
    from tests.common.interrupt import interrupt_when_running

    net_path = tmp_path / "partial.npz"
    rc, out = interrupt_when_running(
        [
            sys.executable,
            "-m",
            "lpengine",
            "train",
            str(PROBLEMS / "train_diabetes.toml"),
            "--json",
            "--save",
            str(net_path),
            "--progress",
        ],
        b"pivot",
        str(tmp_path),
    )
    assert rc == 3
    d = unwrap(out, "train")
    assert d["status"] == "stopped" and d["message"] == "interrupted (Ctrl-C)"
    assert d["loss"] <= d["initial_loss"]
    assert ReLUNetwork.load(net_path).hidden_widths == (8, 6)
