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


def _trajectory():
    from lpengine import ReLUNetwork

    rng = np.random.default_rng(1)
    net = ReLUNetwork.random(2, [3], seed=4)
    return deep_relu_simplex(net, rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, 30), seed=0).trajectory


def test_gexf_holds_exactly_the_trajectory_nodes_for_plain_networkx(tmp_path):
    G = _trajectory()
    G.graph["note"] = "metadata"
    path = tmp_path / "t.gexf"
    write_graph(G, path)
    H = nx.read_gexf(path)  # plain networkx, no lpengine reader
    assert set(H.nodes) == {str(n) for n in G.nodes} and H.number_of_edges() == G.number_of_edges()
    assert "__lpengine_meta__" not in path.read_text()
    # The metadata sits in the standard <meta><description> element.
    assert "<description>" in path.read_text() and "metadata" in path.read_text()
    assert read_graph(path).graph["note"] == "metadata"


def test_node_link_json_loads_in_plain_networkx_and_has_d3_keys(tmp_path):
    import json
    import warnings

    G = _trajectory()
    path = tmp_path / "t.json"
    write_graph(G, path)
    data = json.loads(path.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning about the edges key either
        H = nx.node_link_graph(data)
    assert list(H.nodes) == list(G.nodes) and sorted(H.edges) == sorted(G.edges)
    assert all(H.nodes[n] == G.nodes[n] for n in G.nodes)
    # D3: nodes with "id", links with "source"/"target" naming node ids.
    ids = {n["id"] for n in data["nodes"]}
    assert data["links"] and all(e["source"] in ids and e["target"] in ids for e in data["links"])
    assert data["links"] == data["edges"]


def test_json_writes_nonfinite_floats_as_null(tmp_path):
    import json

    G = nx.Graph()
    G.add_node(0, a=float("inf"), b=1.5)
    write_graph(G, tmp_path / "g.json")
    text = (tmp_path / "g.json").read_text()
    assert "Infinity" not in text and json.loads(text)["nodes"][0]["a"] is None


@pytest.mark.parametrize(
    "kw",
    [{"box": (-2.0, 2.0)}, {"whole_space": True}, {"polytope": ([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], [1, 1, 1])}],
)
def test_region_graph_carries_witnesses_and_centroids_with_the_right_patterns(tmp_path, kw):
    from lpengine import ReLUNetwork
    from lpengine.export import region_graph
    from lpengine.regions import enumerate_regions

    net = ReLUNetwork.random(2, [4, 3], seed=2)
    res = enumerate_regions(net, **kw)
    G = region_graph(res)
    assert G.number_of_nodes() == res.count and G.number_of_edges() == len(res.edges)
    n_centroids = 0
    for name, d in G.nodes(data=True):
        # Each coordinate pair, evaluated by the network itself, gives back the node's own pattern.
        w = np.array([d["witness_0"], d["witness_1"]])
        pre = net.preactivations(w)
        assert "".join("+" if z > 0 else "-" for z in pre) == name.replace("|", "")
        if "centroid_0" in d:
            n_centroids += 1
            pre = net.preactivations(np.array([d["centroid_0"], d["centroid_1"]]))
            assert "".join("+" if z > 0 else "-" for z in pre) == name.replace("|", "")
        assert all(type(v) in (str, int, float, bool) for v in d.values())
    bounded = sum(1 for r in res.regions if r.bounded is not False)
    assert n_centroids == bounded and (n_centroids == res.count) == ("whole_space" not in kw)
    for ext in (".gexf", ".json", ".graphml"):
        write_graph(G, tmp_path / f"r{ext}")
        H = read_graph(tmp_path / f"r{ext}")
        assert all(H.nodes[n] == G.nodes[n] for n in G.nodes)
