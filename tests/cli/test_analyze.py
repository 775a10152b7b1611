"""Tests of ``lpengine analyze`` (graph input, problem-file input, bad input)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from lpengine.cli import main
from tests.cli.envelope import unwrap

ROOT = Path(__file__).resolve().parents[2]


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
    rc = main(
        ["analyze", str(path), "--thetas", str(tmp_path / "thetas.npy"), "--json", "--plots", str(tmp_path / "plots")]
    )
    assert rc == 0
    out = unwrap(capsys.readouterr().out)
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
    bad.write_text("[network]\nrandom = { n_in = 1, widths = [2] }\n")  # the retired [train]-era schema
    assert main(["analyze", str(bad)]) == 1
    assert "unknown key(s) ['random'] in [network]" in capsys.readouterr().err
    bad.write_text('[problem]\ntask = "train"\n[network]\nn_in = 1\nhidden = [2]\n')
    assert main(["analyze", str(bad)]) == 1
    assert "task 'train' needs a [data] table" in capsys.readouterr().err


def test_analyze_shipped_problem(tmp_path, capsys) -> None:
    """problems/default.toml (the schema of ``lpengine solve``) runs as shipped, with plots."""
    from lpengine.simplex.problem import load_problem, solve_problem

    path = ROOT / "problems" / "default.toml"
    assert main(["analyze", str(path), "--json", "--plots", str(tmp_path / "plots")]) == 0
    out = unwrap(capsys.readouterr().out)
    ref = solve_problem(load_problem(path))  # the same run, independently: the simplex is deterministic
    assert (out["problem"], out["task"], out["line_search"]) == ("default", "train", True)
    assert out["status"] == "local_minimum" and out["certified"] is True
    # One vertex per pivot and per restart (escape/revival) of the walk, plus the first.
    assert out["n_vertices"] == out["nit"] + 1 + out["escapes"] + out["revivals"] == len(ref.losses)
    assert (out["nit"], out["escapes"], out["revivals"]) == (ref.nit, ref.stats["escapes"], ref.stats["revivals"])
    assert out["final_loss"] == pytest.approx(ref.fun, rel=1e-12)
    assert out["initial_loss"] == pytest.approx(float(ref.losses[0]), rel=1e-12)
    assert sorted(p.split("/")[-1] for p in out["plots"]) == ["log_gap.png", "losses.png", "radius.png", "steps.png"]


def test_analyze_problem_toml_overrides(tmp_path, capsys) -> None:
    """A small problem file in the ``lpengine solve`` schema; --no-line-search walks vertex by vertex."""
    p = tmp_path / "p.toml"
    p.write_text(
        '[problem]\nname = "tiny"\ntask = "train"\n'
        '[network]\nkind = "random"\nn_in = 1\nhidden = [2]\nseed = 0\n'
        '[data]\nkind = "uniform"\nn_samples = 8\nx_low = -3.0\nx_high = 3.0\n'
        "y_low = -3.0\ny_high = 3.0\nseed = 0\n[solver]\nline_search = true\n"
    )
    assert main(["analyze", str(p), "--json", "--no-line-search"]) == 0
    out = unwrap(capsys.readouterr().out)
    assert (out["problem"], out["line_search"], out["status"]) == ("tiny", False, "local_minimum")
    assert out["final_loss"] <= out["initial_loss"]
    assert out["n_vertices"] == out["nit"] + 1 + out["escapes"] + out["revivals"]
    assert main(["analyze", str(p), "--json", "--max-pivots", "1"]) == 0
    out = unwrap(capsys.readouterr().out)
    assert out["nit"] <= 1
