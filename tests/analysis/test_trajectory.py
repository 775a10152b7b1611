"""Tests of lpengine.analysis.trajectory (graph -> arrays)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from lpengine.analysis import Trajectory
from lpengine.exceptions import InvalidProblemError


def test_from_graph_orders_by_iteration() -> None:
    G = nx.DiGraph()
    for node, it, loss in [(2, 2, 1.0), (0, 0, 3.0), (1, 1, 2.0)]:
        G.add_node(node, iteration=it, loss=loss)
    G.add_edges_from([(0, 1), (1, 2)])
    tr = Trajectory.from_graph(G, thetas=[[0.0], [1.0], [2.0]], certified=True)
    assert tr.losses.tolist() == [3.0, 2.0, 1.0]
    assert (tr.n_vertices, tr.final_loss, tr.certified) == (3, 1.0, True)
    assert not tr.losses.flags.writeable


def test_from_graph_string_keys_from_graphml() -> None:
    G = nx.DiGraph()
    G.add_node("1", loss=2.0)
    G.add_node("0", loss=5.0)
    assert Trajectory.from_graph(G).losses.tolist() == [5.0, 2.0]


def test_from_result_duck_typed() -> None:
    class Res:
        losses = np.array([2.0, 1.0])
        thetas = np.zeros((2, 3))
        certified = False

    tr = Trajectory.from_result(Res())
    assert tr.thetas.shape == (2, 3) and tr.certified is False


def test_bad_graphs() -> None:
    with pytest.raises(InvalidProblemError, match="no nodes"):
        Trajectory.from_graph(nx.DiGraph())
    G = nx.DiGraph()
    G.add_node(0, iteration=0)
    with pytest.raises(InvalidProblemError, match="node 0 has no 'loss'"):
        Trajectory.from_graph(G)
    with pytest.raises(InvalidProblemError, match="thetas has 1 rows; expected one per loss"):
        Trajectory(np.array([1.0, 0.5]), np.zeros((1, 2)))
