"""Tests of ``lpengine analyze`` (graph input, problem-file input, bad input)."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

from lpengine.cli import main


def write_trajectory(tmp_path, n: int = 40):
    G = nx.DiGraph()
    losses = 3.0 + 2.0 * 0.9 ** np.arange(n)
    for k, v in enumerate(losses):
        G.add_node(k, loss=float(v), iteration=k)
        if k:
            G.add_edge(k - 1, k, step=1.0)
    path = tmp_path / "traj.graphml"
    nx.write_graphml(G, path)
    thetas = np.cumsum(0.9 ** np.arange(n))[:, None] * np.ones((1, 3))
    np.save(tmp_path / "thetas.npy", thetas)
    return path, losses


def test_analyze_graphml_json(tmp_path, capsys) -> None:
    path, losses = write_trajectory(tmp_path)
    rc = main(["analyze", str(path), "--thetas", str(tmp_path / "thetas.npy"), "--json",
               "--plots", str(tmp_path / "plots")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_vertices"] == 40 and out["final_loss"] == pytest.approx(losses[-1], rel=1e-15)
    # exact geometric input: the tail fit recovers L* = 3 and q = 0.9
    assert out["tail_fit"]["l_star"] == pytest.approx(3.0, abs=1e-9)
    assert out["tail_fit"]["q"] == pytest.approx(0.9, abs=1e-9)
    aitken = [e for e in out["estimates"] if e["method"] == "aitken"]
    assert all(e["status"] == "too_short" for e in aitken)  # h = 50 needs 101 losses
    assert out["density"]["spearman_step_distance"] == pytest.approx(1.0)
    assert sorted(p.split("/")[-1] for p in out["plots"]) == ["log_gap.png", "losses.png", "radius.png", "steps.png"]


def test_analyze_text_and_errors(tmp_path, capsys) -> None:
    path, _ = write_trajectory(tmp_path)
    assert main(["analyze", str(path)]) == 0
    assert capsys.readouterr().out.startswith("40 vertices, loss 5 -> 3")
    assert main(["analyze", str(tmp_path / "missing.graphml")]) == 1
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "p.toml"
    bad.write_text("[network]\nrandom = { n_in = 1, widths = [2] }\n")
    assert main(["analyze", str(bad)]) == 1
    assert "[data] needs 'file' or 'random'" in capsys.readouterr().err


def test_analyze_problem_toml(tmp_path, capsys) -> None:
    pytest.importorskip("lpengine.simplex")
    p = tmp_path / "p.toml"
    p.write_text('[network]\nrandom = { n_in = 1, widths = [2], seed = 0 }\n'
                 '[data]\nrandom = { n_samples = 8, seed = 0 }\n[train]\nseed = 0\n')
    assert main(["analyze", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] in ("local_minimum", "stalled", "max_pivots")
    assert out["final_loss"] <= out["initial_loss"]
    assert out["n_vertices"] == out["nit"] + 1
