"""Graph export: GraphML, GEXF and node-link JSON with a lossless round trip.

The format follows the file extension: ``.graphml``, ``.gexf`` or ``.json``.
Attributes (graph, node and edge) must be ``str``, ``int``, ``float`` or
``bool`` (lpengine's graphs follow this rule; numpy scalars are converted to
Python scalars on writing).  Node keys must be ``int`` or ``str``.  Reading
restores the key type and every attribute type exactly, so that
``read_graph(write_graph(G, p))`` equals ``G`` (floats are written with
``repr``, which round-trips exactly).

Each format needs a small fix-up, done here and not by callers:

* GraphML stores a typed key per attribute and reads it back typed, but node
  ids are strings; the original key type is recorded in the graph attribute
  ``_node_key_type``.
* GEXF adds ``label`` (and for some versions ``id``) attributes, writes
  booleans as ``"true"``/``"false"``, and stores graph attributes in its own
  ``mode``/``edge_default`` fields and drops the rest; the original attribute
  types and the graph attributes are stored on a marker node
  ``__lpengine_meta__`` that :func:`read_graph` removes.
* node-link JSON keeps ints, floats, bools and strings natively.
"""

from __future__ import annotations

import json
import os
from typing import Any

import networkx as nx
import numpy as np

__all__ = ["write_graph", "read_graph", "FORMATS"]

#: Supported file extensions.
FORMATS = (".graphml", ".gexf", ".json")

_ALLOWED = (str, int, float, bool)
_META_NODE = "__lpengine_meta__"


def _format(path: str | os.PathLike[str]) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise ValueError(
            f"cannot tell the graph format of {os.fspath(path)!r}: expected one of {FORMATS}, got {ext!r}."
        )
    return ext


def _clean(value: Any, where: str) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if not isinstance(value, _ALLOWED):
        raise TypeError(f"{where} has type {type(value).__name__}; graph attributes must be str, int, float or bool.")
    return value


def _normalised(G: nx.Graph) -> nx.Graph:
    """A copy with Python scalar attributes only (raises on anything else)."""
    H = G.__class__()
    H.graph.update({k: _clean(v, f"graph attribute {k!r}") for k, v in G.graph.items()})
    key_types = {type(n) for n in G.nodes}
    if not key_types <= {int, str} and not all(isinstance(n, (int, np.integer, str)) for n in G.nodes):
        raise TypeError("node keys must be int or str.")
    for n, d in G.nodes(data=True):
        nn = int(n) if isinstance(n, np.integer) else n
        H.add_node(nn, **{k: _clean(v, f"node {n!r} attribute {k!r}") for k, v in d.items()})
    for u, v, d in G.edges(data=True):
        uu = int(u) if isinstance(u, np.integer) else u
        vv = int(v) if isinstance(v, np.integer) else v
        H.add_edge(uu, vv, **{k: _clean(x, f"edge {(u, v)!r} attribute {k!r}") for k, x in d.items()})
    return H


def _types(items: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in items.items()}


def _cast(value: Any, tname: str) -> Any:
    if tname == "bool":
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)
    if tname == "int":
        return int(value)
    if tname == "float":
        return float(value)
    return str(value)


def write_graph(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Write ``G`` as GraphML, GEXF or node-link JSON (by the extension of ``path``).

    Raises
    ------
    ValueError
        Unknown extension.
    TypeError
        An attribute that is not str/int/float/bool, or a node key that is not int/str.
    """
    fmt = _format(path)
    H = _normalised(G)
    key_type = "int" if all(isinstance(n, int) for n in H.nodes) else "str"
    if any(isinstance(n, int) for n in H.nodes) and key_type == "str":
        raise TypeError("node keys must be all int or all str to round-trip.")
    if fmt == ".json":
        data = nx.node_link_data(H, edges="edges")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, sort_keys=True, allow_nan=True)
        return
    # Record attribute types so the reader restores them exactly.
    node_t: dict[str, str] = {}
    for _, d in H.nodes(data=True):
        node_t.update(_types(d))
    edge_t: dict[str, str] = {}
    for _, _, d in H.edges(data=True):
        edge_t.update(_types(d))
    meta = {
        "_lpengine_node_key": key_type,
        "_lpengine_node_types": json.dumps(node_t, sort_keys=True),
        "_lpengine_edge_types": json.dumps(edge_t, sort_keys=True),
        "_lpengine_graph": json.dumps({k: [type(v).__name__, v] for k, v in H.graph.items()}, sort_keys=True),
    }
    K = H.__class__()
    K.graph.update(meta)
    for n, d in H.nodes(data=True):
        K.add_node(str(n), **d)
    for u, v, d in H.edges(data=True):
        K.add_edge(str(u), str(v), **d)
    if fmt == ".graphml":
        nx.write_graphml(K, path)
    else:
        # GEXF drops graph attributes: carry them on a marker node removed again by read_graph.
        K.add_node(_META_NODE, **meta)
        nx.write_gexf(K, path)


def read_graph(path: str | os.PathLike[str]) -> nx.Graph:
    """Read a graph written by :func:`write_graph` (format by extension)."""
    fmt = _format(path)
    if fmt == ".json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return nx.node_link_graph(data, edges="edges")
    if fmt == ".graphml":
        K = nx.read_graphml(path)
    else:
        K = nx.read_gexf(path)
        if _META_NODE in K:
            K.graph.update({k: v for k, v in K.nodes[_META_NODE].items() if k.startswith("_lpengine")})
            K.remove_node(_META_NODE)
    meta = K.graph
    try:
        key_type = meta["_lpengine_node_key"]
        node_t = json.loads(meta["_lpengine_node_types"])
        edge_t = json.loads(meta["_lpengine_edge_types"])
        gattrs = json.loads(meta["_lpengine_graph"])
    except KeyError:
        return K  # not written by lpengine: return as read
    G = nx.DiGraph() if K.is_directed() else nx.Graph()
    G.graph.update({k: _cast(v, t) for k, (t, v) in gattrs.items()})
    conv = int if key_type == "int" else str
    for n, d in K.nodes(data=True):
        G.add_node(conv(n), **{k: _cast(v, node_t[k]) for k, v in d.items() if k in node_t})
    for u, v, d in K.edges(data=True):
        G.add_edge(conv(u), conv(v), **{k: _cast(x, edge_t[k]) for k, x in d.items() if k in edge_t})
    return G
