"""Problem files (``problems/*.toml``) for the Deep ReLU Simplex, LAD and argument minimisation.

Layout (every table and key is checked; a malformed file raises
:class:`~lpengine.exceptions.InvalidProblemError` naming the field)::

    [problem]
    name = "first-layer"            # free text
    task = "train"                  # "train" | "lad" | "argmin"
    provenance = "..."              # one line: where the setup comes from

    [network]                       # task "train" / "argmin"
    kind = "random"                 # "random" | "file"
    n_in = 4
    hidden = [5, 4, 2]
    init = "uniform"                # "uniform": U(low, high) for every weight and bias | "he": ReLUNetwork.random
    low = -1.0
    high = 1.0
    seed = 0
    path = "net.npz"                # kind = "file" (relative to the problem file)

    [data]                          # task "train" / "lad"
    kind = "uniform"                # "uniform" | "file" | "dataset" (scikit-learn's bundled data)
    n_samples = 500
    n_features = 4                  # "lad" only (for "train" it is n_in)
    x_low = -3.0
    x_high = 3.0
    y_low = -3.0
    y_high = 3.0
    seed = 1
    path = "data.csv"               # kind = "file": .csv / .npy (last column = y) or .npz (arrays X, y)
    name = "diabetes"               # kind = "dataset": "diabetes" | "linnerud" (lpengine.datasets)
    target = "Weight"               # kind = "dataset": linnerud's target
    standardize = true              # kind = "dataset"

    [training]
    layer = 0                       # "train": index into the network's weights
    quantile = 0.5                  # 0.5: L1; otherwise the pinball loss
    start = "network"               # "network" | "uniform" | "zeros" | "values"
    start_low = -20.0
    start_high = 20.0
    start_seed = 2
    start_values = [ ... ]          # start = "values"
    layers = "all"                  # lpengine train: "all" or a list of layer indices
    cycles = 10                     # lpengine train: most passes over the layers
    order = "forward"               # lpengine train: "forward" | "backward" | "random"

    [solver]
    line_search = true
    max_pivots = 100000
    time_limit = 60.0
    verify = false
    seed = 0
    certify_cells = 32
    certify_max_cells = 256         # degenerate final vertex: HiGHS decides all incident cells up to this many
    engine = "native"               # "native" (rank-one pivot engine) | "highs" (HiGHS simplex on region LPs)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_numpy_file, read_csv_table
from ..bundled import find_problem_file
from ..exceptions import InvalidProblemError
from ..network import ReLUNetwork

if TYPE_CHECKING:
    from .drs import DRSResult
    from .lad import LADResult

__all__ = ["Problem", "load_problem", "solve_problem", "load_data_file"]

_TASKS = ("train", "lad", "argmin")
_ALLOWED = {
    "problem": {"name", "task", "provenance", "description"},
    "network": {"kind", "n_in", "hidden", "init", "low", "high", "seed", "path"},
    "data": {"kind", "n_samples", "n_features", "x_low", "x_high", "y_low", "y_high", "seed", "path"}
    | {"name", "target", "standardize"},  # kind = "dataset"
    "training": {"layer", "quantile", "start", "start_low", "start_high", "start_seed", "start_values"}
    | {"layers", "cycles", "order"},  # lpengine train (read by lpengine.training.problem)
    "solver": {
        "line_search",
        "max_pivots",
        "time_limit",
        "verify",
        "seed",
        "certify_cells",
        "certify_max_cells",
        "engine",
    },
}


@dataclass(frozen=True, eq=False)
class Problem:
    """A fully materialised problem (network, data, start, options) read from a TOML file."""

    name: str
    task: str
    provenance: str
    network: ReLUNetwork | None
    X: NDArray[np.float64] | None
    y: NDArray[np.float64] | None
    layer: int
    quantile: float
    theta0: NDArray[np.float64] | None
    options: dict
    path: str


def _get(tbl: dict, key: str, where: str, typ: Any, default: Any = None, required: bool = False) -> Any:
    if key not in tbl:
        if required:
            raise InvalidProblemError(f"{where}.{key} is missing; expected {_tname(typ)}.")
        return default
    v = tbl[key]
    ok = isinstance(v, typ) and not (typ in (int, (int, float)) and isinstance(v, bool))
    if not ok:
        raise InvalidProblemError(f"{where}.{key} must be {_tname(typ)}; got {v!r}.")
    return v


def _positive(tbl: dict, key: str, default: int) -> int:
    """``solver.<key>``: an integer >= 1."""
    v = _get(tbl, key, "solver", int, default)
    if v < 1:
        raise InvalidProblemError(f"solver.{key} must be an integer >= 1; got {v!r}.")
    return v


#: TOML value types in words, with their article ("must be an integer", not "must be a int").
_TYPE_WORDS = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _tname(typ: Any) -> str:
    if typ == (int, float):
        return "a number"
    if isinstance(typ, tuple):
        return " or ".join(_TYPE_WORDS.get(t, f"a {t.__name__}") for t in typ)
    return _TYPE_WORDS.get(typ, f"a {typ.__name__}")


def load_data_file(path: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read ``X, y`` from .csv / .npy (last column = y; a non-numeric CSV header is skipped) or .npz (``X``, ``y``).

    Errors name the file, and for a CSV the line and column as an editor shows them (1-based).
    """
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".npz", ".npy"):
            check_numpy_file(path, what="data file", error=InvalidProblemError)
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as d:
                if "X" not in d.files or "y" not in d.files:
                    raise InvalidProblemError(f"data file {path!r} must contain arrays 'X' and 'y'; has {d.files}.")
                return np.asarray(d["X"], dtype=float), np.asarray(d["y"], dtype=float).ravel()
        if ext == ".npy":
            M = np.load(path, allow_pickle=False)
        elif ext == ".csv":
            M = read_csv_table(path, what="data file", error=InvalidProblemError)
        else:
            raise InvalidProblemError(f"data file {path!r}: expected a .csv, .npy or .npz file.")
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidProblemError):
            raise
        raise InvalidProblemError(f"cannot read data file {path!r}: {exc}") from exc
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[1] < 2:
        raise InvalidProblemError(
            f"data file {path!r} must be a 2-D table with >= 2 columns (features, then y); got shape {M.shape}."
        )
    return M[:, :-1], M[:, -1]


def _network(tbl: dict, base: str) -> ReLUNetwork:
    kind = _get(tbl, "kind", "network", str, "random")
    if kind == "file":
        p = _get(tbl, "path", "network", str, required=True)
        return ReLUNetwork.load(os.path.join(base, p))
    if kind != "random":
        raise InvalidProblemError(f"network.kind must be 'random' or 'file'; got {kind!r}.")
    n_in = _get(tbl, "n_in", "network", int, required=True)
    hidden = _get(tbl, "hidden", "network", list, required=True)
    if n_in < 1 or not hidden or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden):
        raise InvalidProblemError(
            f"network.n_in must be >= 1 and network.hidden a non-empty list of ints >= 1; got {n_in!r}, {hidden!r}."
        )
    seed = _get(tbl, "seed", "network", int, 0)
    init = _get(tbl, "init", "network", str, "uniform")
    if init == "he":
        return ReLUNetwork.random(n_in, hidden, seed=seed)
    if init != "uniform":
        raise InvalidProblemError(f"network.init must be 'uniform' or 'he'; got {init!r}.")
    lo = float(_get(tbl, "low", "network", (int, float), -1.0))
    hi = float(_get(tbl, "high", "network", (int, float), 1.0))
    if not lo < hi:
        raise InvalidProblemError(f"network.low must be < network.high; got {lo} and {hi}.")
    rng = np.random.default_rng(seed)
    dims = [n_in, *hidden, 1]
    ws = tuple(rng.uniform(lo, hi, (b, a)) for a, b in zip(dims[:-1], dims[1:], strict=True))
    bs = tuple(rng.uniform(lo, hi, b) for b in dims[1:])
    return ReLUNetwork(ws, bs)


def _data(tbl: dict, base: str, n_in: int | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    kind = _get(tbl, "kind", "data", str, "uniform")
    if kind == "file":
        return load_data_file(os.path.join(base, _get(tbl, "path", "data", str, required=True)))
    if kind == "dataset":  # scikit-learn's bundled data (lpengine.datasets)
        from ..datasets import load_dataset

        d = load_dataset(
            _get(tbl, "name", "data", str, required=True),
            target=_get(tbl, "target", "data", str, None),
            standardize=_get(tbl, "standardize", "data", bool, True),
        )
        return np.array(d.X), np.array(d.y)
    if kind != "uniform":
        raise InvalidProblemError(f"data.kind must be 'uniform', 'file' or 'dataset'; got {kind!r}.")
    n = _get(tbl, "n_samples", "data", int, required=True)
    if n < 1:
        raise InvalidProblemError(f"data.n_samples must be >= 1; got {n}.")
    p = n_in if n_in is not None else _get(tbl, "n_features", "data", int, required=True)
    if p < 1:
        raise InvalidProblemError(f"data.n_features must be >= 1; got {p}.")
    rng = np.random.default_rng(_get(tbl, "seed", "data", int, 0))
    xl = float(_get(tbl, "x_low", "data", (int, float), 0.0))
    xh = float(_get(tbl, "x_high", "data", (int, float), 1.0))
    yl = float(_get(tbl, "y_low", "data", (int, float), 0.0))
    yh = float(_get(tbl, "y_high", "data", (int, float), 1.0))
    if not (xl < xh and yl < yh):
        raise InvalidProblemError(
            f"data ranges must satisfy x_low < x_high and y_low < y_high; got ({xl}, {xh}), ({yl}, {yh})."
        )
    X = rng.uniform(xl, xh, (n, p))
    y = rng.uniform(yl, yh, n)
    return X, y


def load_problem(path: str | os.PathLike[str]) -> Problem:
    """Read and materialise a problem file (see the module docstring for the layout).

    A bare name that is not an existing file (``"default"``) names a problem bundled with lpengine
    (:mod:`lpengine.bundled`).
    """
    path = os.fspath(find_problem_file(path, suffixes=(".toml",)))
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except OSError as exc:
        raise InvalidProblemError(f"cannot read problem file {path!r}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidProblemError(f"problem file {path!r} is not valid TOML: {exc}") from exc
    for sect, val in doc.items():
        if sect not in _ALLOWED:
            raise InvalidProblemError(f"unknown table [{sect}] in {path!r}; expected {sorted(_ALLOWED)}.")
        if not isinstance(val, dict):
            raise InvalidProblemError(f"{sect} must be a table; got {val!r}.")
        extra = sorted(set(val) - _ALLOWED[sect])
        if extra:
            raise InvalidProblemError(
                f"unknown key(s) {extra} in [{sect}] of {path!r}; allowed: {sorted(_ALLOWED[sect])}."
            )
    base = os.path.dirname(os.path.abspath(path))
    prob = doc.get("problem", {})
    task = _get(prob, "task", "problem", str, "train")
    if task not in _TASKS:
        raise InvalidProblemError(f"problem.task must be one of {_TASKS}; got {task!r}.")
    name = _get(prob, "name", "problem", str, os.path.splitext(os.path.basename(path))[0])
    prov = _get(prob, "provenance", "problem", str, "")
    net = X = y = None
    if task in ("train", "argmin"):
        if "network" not in doc:
            raise InvalidProblemError(f"task {task!r} needs a [network] table.")
        net = _network(doc["network"], base)
    if task in ("train", "lad"):
        if "data" not in doc:
            raise InvalidProblemError(f"task {task!r} needs a [data] table.")
        X, y = _data(doc["data"], base, net.n_in if net is not None else None)
    tr = doc.get("training", {})
    layer = _get(tr, "layer", "training", int, 0)
    q = float(_get(tr, "quantile", "training", (int, float), 0.5))
    if not 0.0 < q < 1.0:
        raise InvalidProblemError(f"training.quantile must be in (0, 1); got {q}.")
    start = _get(tr, "start", "training", str, "network" if task != "lad" else "zeros")
    # The tables each task needs were required above: a network for "train"/"argmin", data for "train"/"lad".
    if task == "train":
        assert net is not None
        if not 0 <= layer < len(net.weights):
            raise InvalidProblemError(f"training.layer must be in [0, {len(net.weights) - 1}]; got {layer}.")
        D = net.weights[layer].size + net.biases[layer].size
    elif task == "argmin":
        assert net is not None
        D = net.n_in
    else:
        assert X is not None
        D = X.shape[1] + 1
    if start == "network":
        if task == "lad":
            raise InvalidProblemError(
                "training.start = 'network' needs a network; use 'zeros', 'uniform' or 'values' for lad."
            )
        theta0 = (
            np.concatenate([net.weights[layer].ravel(), net.biases[layer]])
            if task == "train" and net is not None
            else np.zeros(D)
        )
    elif start == "zeros":
        theta0 = np.zeros(D)
    elif start == "uniform":
        lo = float(_get(tr, "start_low", "training", (int, float), -1.0))
        hi = float(_get(tr, "start_high", "training", (int, float), 1.0))
        if not lo < hi:
            raise InvalidProblemError(f"training.start_low must be < training.start_high; got {lo}, {hi}.")
        theta0 = np.random.default_rng(_get(tr, "start_seed", "training", int, 0)).uniform(lo, hi, D)
    elif start == "values":
        vals = _get(tr, "start_values", "training", list, required=True)
        if len(vals) != D or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            raise InvalidProblemError(f"training.start_values must be a list of {D} numbers; got {vals!r}.")
        theta0 = np.array(vals, dtype=float)
    else:
        raise InvalidProblemError(f"training.start must be 'network', 'zeros', 'uniform' or 'values'; got {start!r}.")
    so = doc.get("solver", {})
    options = {
        "line_search": _get(so, "line_search", "solver", bool, True),
        "max_pivots": _get(so, "max_pivots", "solver", int, None),
        "time_limit": (
            float(so["time_limit"]) if _get(so, "time_limit", "solver", (int, float), None) is not None else None
        ),
        "verify": _get(so, "verify", "solver", bool, False),
        "seed": _get(so, "seed", "solver", int, 0),
        "certify_cells": _positive(so, "certify_cells", 32),
        "certify_max_cells": _positive(so, "certify_max_cells", 256),
    }
    engine = _get(so, "engine", "solver", str, "native")
    if engine not in ("native", "highs"):
        raise InvalidProblemError(f"solver.engine must be 'native' or 'highs'; got {engine!r}.")
    if engine != "native" and task != "train":
        raise InvalidProblemError(
            f"solver.engine = {engine!r} is available for task = 'train' only; got task {task!r}."
        )
    if task == "train":
        options["engine"] = engine
    return Problem(
        name=name,
        task=task,
        provenance=prov,
        network=net,
        X=X,
        y=y,
        layer=layer,
        quantile=q,
        theta0=theta0,
        options=options,
        path=path,
    )


def solve_problem(problem: Problem, **overrides: Any) -> DRSResult | LADResult:
    """Run the problem's task; keyword ``overrides`` replace solver options (e.g. ``max_pivots``, ``callback``)."""
    from .drs import deep_relu_simplex, minimize_output
    from .lad import lad

    opts = dict(problem.options)
    opts.update({k: v for k, v in overrides.items() if v is not None or k in ("callback",)})
    cb = opts.pop("callback", None)
    if problem.task == "train":
        assert problem.network is not None  # load_problem requires [network] for this task
        return deep_relu_simplex(
            problem.network,
            problem.X,
            problem.y,
            layer=problem.layer,
            quantile=problem.quantile,
            theta0=problem.theta0,
            callback=cb,
            **opts,
        )
    if problem.task == "argmin":
        assert problem.network is not None  # load_problem requires [network] for this task
        return minimize_output(problem.network, problem.theta0, callback=cb, **opts)
    return lad(
        problem.X,
        problem.y,
        problem.quantile,
        beta0=problem.theta0,
        line_search=opts["line_search"],
        max_pivots=opts["max_pivots"],
        time_limit=opts["time_limit"],
        seed=opts["seed"],
    )
