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
* GEXF has no graph attributes (only ``name`` and ``mode``), adds ``label``
  (and for some versions ``id``) attributes and writes booleans as
  ``"true"``/``"false"``.  The graph attributes and the attribute types are
  written as one JSON object into the file's standard ``<meta><description>``
  element, which Gephi shows as the graph's description and other readers
  ignore: the file holds exactly the graph's nodes and edges, so
  ``networkx.read_gexf`` or Gephi see no extra vertex.
* node-link JSON keeps ints, floats, bools and strings natively.  The edge list
  is written under both ``"edges"`` (the default key of
  ``networkx.node_link_graph`` from networkx 3.6 on) and ``"links"`` (its
  default before, and the key D3's force layout examples read), so plain
  ``networkx.node_link_graph(json.load(f))`` works with any networkx >= 3.2 and
  ``d3.forceLink(data.links)`` works as is.  JSON has no ``inf``/``nan``: such
  attribute values are written as ``null`` (and read back as ``None``).

:func:`region_graph` is the region adjacency graph of an enumeration with the
region's coordinates added as node attributes (witness point, and for two
inputs the centroid of the exact region polygon), so that the graph can be
laid out by geometry in Gephi, D3 or networkx.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import networkx as nx
import numpy as np

__all__ = ["write_graph", "read_graph", "region_graph", "FORMATS"]

#: Supported file extensions.
FORMATS = (".graphml", ".gexf", ".json")

_ALLOWED = (str, int, float, bool)
#: Old files carried the metadata on this extra node; :func:`read_graph` still removes it.
_LEGACY_META_NODE = "__lpengine_meta__"
#: Key of the JSON object in a GEXF file's ``<meta><description>``.
_GEXF_META_KEY = "lpengine"


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
        data["links"] = data["edges"]  # the same list object: one copy in memory, both keys in the file
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_no_nonfinite(data), fh, sort_keys=True, allow_nan=False)
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
    for n, d in H.nodes(data=True):
        K.add_node(str(n), **d)
    for u, v, d in H.edges(data=True):
        K.add_edge(str(u), str(v), **d)
    if fmt == ".graphml":
        K.graph.update(meta)
        nx.write_graphml(K, path)
        return
    # GEXF: the metadata goes into <meta><description> as one JSON object (no extra node).
    text = "\n".join(nx.generate_gexf(K))
    description = f"<description>{escape(json.dumps({_GEXF_META_KEY: meta}, sort_keys=True))}</description>"
    if "</meta>" not in text:  # pragma: no cover - networkx always writes <meta>
        raise RuntimeError("networkx wrote a GEXF file without a <meta> element")
    text = text.replace("</meta>", description + "</meta>", 1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def _no_nonfinite(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (JSON has no inf/nan)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _no_nonfinite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_nonfinite(v) for v in obj]
    return obj


def _gexf_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The lpengine metadata stored in a GEXF file's ``<meta><description>`` (empty if there is none)."""
    root = ET.parse(path).getroot()
    for el in root.iter():
        if el.tag.endswith("}description") or el.tag == "description":
            try:
                obj = json.loads(el.text or "")
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get(_GEXF_META_KEY), dict):
                return dict(obj[_GEXF_META_KEY])
    return {}


def read_graph(path: str | os.PathLike[str]) -> nx.Graph:
    """Read a graph written by :func:`write_graph` (format by extension)."""
    fmt = _format(path)
    if fmt == ".json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return nx.node_link_graph(data, edges="edges" if "edges" in data else "links")
    if fmt == ".graphml":
        K = nx.read_graphml(path)
    else:
        K = nx.read_gexf(path)
        K.graph.update(_gexf_meta(path))
        if _LEGACY_META_NODE in K:  # files written before the metadata moved into <meta>
            K.graph.update({k: v for k, v in K.nodes[_LEGACY_META_NODE].items() if k.startswith("_lpengine")})
            K.remove_node(_LEGACY_META_NODE)
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


def region_graph(enumeration: Any) -> nx.Graph:
    """The region adjacency graph of an enumeration, with coordinates for a geometric layout.

    A copy of ``enumeration.graph`` (schema in :mod:`lpengine.regions.result`) whose nodes also carry

    * ``witness_0, ..., witness_{d-1}`` (float): the region's interior witness point, and ``bounded``
      (bool) when boundedness was computed;
    * for two inputs, ``centroid_0, centroid_1`` (float): the centroid of the region's exact polygon
      (:attr:`lpengine.regions.Region.vertices`), for every bounded region (all of them in a bounded
      domain).  The centroid of a convex polygon lies inside it, so it has the region's pattern.

    Parameters
    ----------
    enumeration : RegionEnumeration

    Returns
    -------
    networkx.Graph
        Attributes are str/int/float/bool only, as :func:`write_graph` requires.
    """
    from .regions.polygons import Polygon

    G = enumeration.graph.copy()
    for r in enumeration.regions:
        node = G.nodes[str(r.pattern)]
        for i, v in enumerate(r.witness):
            node[f"witness_{i}"] = float(v)
        if r.bounded is not None:
            node["bounded"] = bool(r.bounded)
        if r.witness.shape[0] != 2 or r.bounded is False or r.domain is None:
            continue  # an unbounded region has no centroid
        V = np.asarray(r.vertices, dtype=np.float64)
        if V.shape[0] >= 3:
            cx, cy = (float(v) for v in Polygon(V, np.zeros(V.shape[0], dtype=np.intp)).centroid)
            node.update(centroid_0=cx, centroid_1=cy)
    return G
