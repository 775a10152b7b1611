"""lpengine.export: lossless GraphML / GEXF / node-link JSON round trips."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from lpengine.export import read_graph, write_graph
from lpengine.simplex import deep_relu_simplex


@pytest.mark.parametrize("ext", [".graphml", ".gexf", ".json"])
def test_graph_round_trip_is_lossless(tmp_path, ext):
    rng = np.random.default_rng(1)
    from lpengine import ReLUNetwork

    net = ReLUNetwork.random(2, [3], seed=4)
    res = deep_relu_simplex(net, rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, 30), seed=0)
    G = res.trajectory
    G.graph["note"] = "x"
    G.nodes[0]["weird"] = 1.0 / 3.0
    path = tmp_path / f"t{ext}"
    write_graph(G, path)
    H = read_graph(path)
    assert list(H.nodes) == list(G.nodes) and list(H.edges) == list(G.edges)
    assert dict(H.graph) == dict(G.graph)
    for n in G.nodes:
        assert H.nodes[n] == G.nodes[n]
        assert all(type(H.nodes[n][k]) is type(v) for k, v in G.nodes[n].items())
    for e in G.edges:
        assert H.edges[e] == G.edges[e]
        assert all(type(H.edges[e][k]) is type(v) for k, v in G.edges[e].items())


def test_export_rejects_bad_attributes_and_extensions(tmp_path):
    G = nx.DiGraph()
    G.add_node(0, v=[1, 2])
    with pytest.raises(TypeError, match="attribute"):
        write_graph(G, tmp_path / "g.json")
    with pytest.raises(ValueError, match="format"):
        write_graph(nx.DiGraph(), tmp_path / "g.txt")
