"""``lpengine count``: JSON summary, domains, exports, budgets, errors and Ctrl-C.

Expected counts come from the brute-force enumerator (every sign vector tested
by an LP), an independent method, or from the library call on the same input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.cli import main
from lpengine.export import read_graph
from lpengine.regions import enumerate_regions
from lpengine.regions.brute import brute_force_regions
from tests.cli.envelope import unwrap
from tests.common.interrupt import interrupt_when_running

REPO = Path(__file__).resolve().parents[2]
DEFAULT_NET = REPO / "problems" / "regions_default.npz"


def _json(capsys) -> dict:
    return unwrap(capsys.readouterr().out, "count")


@pytest.fixture
def small_net(tmp_path) -> tuple[ReLUNetwork, str]:
    net = ReLUNetwork.random(2, [4, 3], seed=2)
    path = tmp_path / "small.npz"
    net.save(path)
    return net, str(path)


def test_bundled_default_problem_json_matches_brute_force(capsys) -> None:
    assert main(["count", "--net", str(DEFAULT_NET), "--json"]) == 0
    obj = _json(capsys)
    brute = brute_force_regions(ReLUNetwork.load(DEFAULT_NET), box=(-1, 1))
    assert obj["regions"] == brute.count
    assert obj["complete"] is True and obj["lp_solves"] >= 0 and obj["seconds"] > 0
    assert obj["domain"] == "box [-1, 1]^2" and obj["processes"] == 1
    assert obj["network"]["hidden_widths"] == [8, 8]


@pytest.mark.parametrize(
    "domain_args, kwargs",
    [
        (["--box", "-2", "2"], {"box": (-2, 2)}),
        (["--whole-space"], {"whole_space": True}),
    ],
)
def test_domains_match_brute_force(small_net, capsys, domain_args, kwargs) -> None:
    net, path = small_net
    assert main(["count", "--net", path, "--json", *domain_args]) == 0
    obj = _json(capsys)
    assert obj["regions"] == brute_force_regions(net, **kwargs).count
    if "whole_space" in kwargs:
        assert obj["bounded_regions"] == enumerate_regions(net, whole_space=True).n_bounded


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_polytope_files(small_net, tmp_path, capsys, suffix) -> None:
    net, path = small_net
    A = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    c = np.array([1.0, 1.0, 1.0])
    poly = tmp_path / f"tri{suffix}"
    if suffix == ".json":
        poly.write_text(json.dumps({"A": A.tolist(), "c": c.tolist()}))
    else:
        np.savez(poly, A=A, c=c)
    assert main(["count", "--net", path, "--polytope", str(poly), "--json"]) == 0
    assert _json(capsys)["regions"] == brute_force_regions(net, polytope=(A, c)).count


def test_graph_and_regions_exports(small_net, tmp_path, capsys) -> None:
    net, path = small_net
    graph, regions = tmp_path / "g.graphml", tmp_path / "r.npz"
    assert main(["count", "--net", path, "--box", "-2", "2", "--graph", str(graph), "--regions", str(regions)]) == 0
    text = capsys.readouterr().out
    res = enumerate_regions(net, box=(-2, 2))
    assert f"regions   {res.count:,d}   [complete]" in text
    G = read_graph(graph)
    assert G.number_of_nodes() == res.count and G.number_of_edges() == len(res.edges)
    with np.load(regions) as f:
        assert f["patterns"].shape == (res.count, net.n_hidden)
        assert f["witnesses"].shape == (res.count, 2) and np.all(f["margins"] > 0)
        # Every exported witness evaluates to its exported pattern.
        pre = np.stack([net.preactivations(x) for x in f["witnesses"]])
        assert np.array_equal(np.where(pre > 0, 1, -1), f["patterns"])


def test_budget_gives_partial_result_and_exit_3(small_net, capsys) -> None:
    _, path = small_net
    assert main(["count", "--net", path, "--box", "-2", "2", "--max-regions", "3", "--json"]) == 3
    obj = _json(capsys)
    assert obj["regions"] == 3 and obj["complete"] is False and "max_regions" in obj["message"]


def test_two_jobs_same_count(capsys) -> None:
    assert main(["count", "--net", str(DEFAULT_NET), "--box", "-3", "3", "--jobs", "2", "--json"]) == 0
    obj = _json(capsys)
    assert obj["regions"] == enumerate_regions(ReLUNetwork.load(DEFAULT_NET), box=(-3, 3)).count


def test_bad_input_gives_clear_errors(small_net, tmp_path, capsys) -> None:
    _, path = small_net
    assert main(["count", "--net", str(tmp_path / "missing.npz")]) == 1
    assert "missing.npz" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"A": [[1, 0]]}')
    assert main(["count", "--net", path, "--polytope", str(bad)]) == 1
    assert "expected" in capsys.readouterr().err
    assert main(["count", "--net", path, "--box", "1", "-1"]) == 1
    assert "box" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_reports_the_partial_result(tmp_path, jobs: str) -> None:
    # A long count interrupted once: exit 1 with the regions found so far, marked incomplete.
    path = tmp_path / "big.npz"
    ReLUNetwork.random(4, [32, 32], seed=0).save(path)
    rc, out = interrupt_when_running(
        [
            sys.executable,
            "-m",
            "lpengine",
            "count",
            "--net",
            str(path),
            "--box",
            "-2",
            "2",
            "--json",
            "--progress",
            "--jobs",
            jobs,
        ],
        b"regions",
        str(tmp_path),
    )
    assert rc == 3
    obj = unwrap(out, "count")
    assert obj["complete"] is False and obj["message"] == "interrupted (Ctrl-C)" and obj["regions"] > 0


@pytest.mark.parametrize("ext", [".json", ".gexf"])
def test_graph_export_loads_in_plain_networkx_with_coordinates(small_net, tmp_path, capsys, ext) -> None:
    import networkx as nx

    net, path = small_net
    out = tmp_path / f"g{ext}"
    assert main(["count", "--net", path, "--graph", str(out)]) == 0
    G = nx.node_link_graph(json.loads(out.read_text())) if ext == ".json" else nx.read_gexf(out)
    res = enumerate_regions(net, box=(-1, 1))
    assert G.number_of_nodes() == res.count and G.number_of_edges() == len(res.edges)
    for name, d in G.nodes(data=True):
        for key in ("witness", "centroid"):  # both points lie in the node's own region
            pre = net.preactivations(np.array([float(d[f"{key}_0"]), float(d[f"{key}_1"])]))
            assert "".join("+" if z > 0 else "-" for z in pre) == str(name).replace("|", "")


def test_no_keep_regions_with_shards(small_net, tmp_path, capsys) -> None:
    net, path = small_net
    brute = brute_force_regions(net, box=(-1, 1))
    shards = tmp_path / "shards"
    assert main(["count", "--net", path, "--json", "--no-keep-regions", "--shards", str(shards)]) == 0
    assert _json(capsys)["regions"] == brute.count
    with np.load(shards / "regions-00000.npz", allow_pickle=False) as z:
        assert {tuple(int(v) for v in row) for row in z["signs"]} == set(brute.patterns)
    assert main(["count", "--net", path, "--shards", str(shards)]) == 2  # --shards alone is a usage error


def test_partitions_goes_with_a_scheduler(small_net, capsys) -> None:
    _, path = small_net
    assert main(["count", "--net", path, "--partitions", "4"]) == 2
    assert "--partitions goes with --scheduler" in capsys.readouterr().err
    assert main(["count", "--net", path, "--scheduler", "tcp://127.0.0.1:1", "--partitions", "0"]) == 2
    assert "--partitions must be a positive integer. Got 0" in capsys.readouterr().err
