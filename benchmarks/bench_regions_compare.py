"""Before/after A/B of region enumeration: this tree against an older revision, interleaved, CPU time.

    python benchmarks/bench_regions_compare.py                 # against the default 'before exact' revision
    python benchmarks/bench_regions_compare.py --rev 9284e07   # against any revision
    python benchmarks/bench_regions_compare.py --rounds 7 --quick
    python benchmarks/bench_regions_compare.py --domain box --rounds 11   # the box nets only
    python benchmarks/bench_regions_compare.py --rev main --deep 3000      # a change on the deep R^4 net
    python benchmarks/bench_regions_compare.py --rev main --trained 3000   # ... on the trained deep net
    python benchmarks/bench_regions_compare.py --rev main --net 4:8,8,8:5 --deep 1000   # ... on any random net
    python benchmarks/bench_regions_compare.py --domain box --rounds 21 --same-process   # both in one child
    python benchmarks/bench_regions_compare.py --rev main --domain box --instructions 400  # callgrind, no noise

What it answers (issue 13, "Done when"): does the exact path cost anything on
well-conditioned nets, where floats decide every question?  The default "before"
revision is ``9284e07``, the parent of ``7880dae`` ("regions: exact decisions"),
the first commit in which the enumerator itself takes exact decisions (the
exact brute-force oracle of ``42186e9`` came earlier but is not on the
enumerator's path).  ``9284e07`` already has the split of ``enumerate.py``
(``6d02f93``), so both sides run the same search loop apart from the exact
decisions and what landed after them.

How: the old revision is checked out into a temporary ``git worktree`` (removed
at the end).  Each measurement is one fresh Python process with the tree to test
first on ``PYTHONPATH``; it imports lpengine, warms up on a tiny net, then times
one ``enumerate_regions`` call with ``time.process_time`` (the CPU time of that
process alone) and prints the count.  Old and new alternate within every round
(A B, then B A in the next), several rounds, and the median over rounds is
compared.  This machine is shared with other engineers' jobs: wall time there
measures their load as much as ours, while CPU time of a single-threaded child
does not include time spent waiting for a core, and interleaving puts any
remaining drift (cache, frequency) on both sides alike.  Counts must agree
between old and new, or the benchmark stops.

The nets are random (``ReLUNetwork.random``, fixed seeds), built here once and
passed to both sides as arrays, so both count the very same weights.  Box rows
run the vertex method on both sides.  R^d rows run each side's default: the old
hybrid method (artificial box, then LPs) against today's polar hull, so an R^d
ratio mixes the cost of the exact checks with the gain of the polar hull; the
``--no-polar`` option switches the polar hull off on the new side to isolate the
exact checks.

``--same-process`` copies both trees' ``lpengine`` packages into the temporary
directory under the names ``lpe_old`` and ``lpe_new`` and runs one child per net
that imports both and alternates the two enumerations round after round
(``gc.collect()`` before each).  No process start-up between the sides, so many
more rounds fit in the same time and both sides share one warm interpreter;
use it when the host is busy and the fresh-child ratios spread too far.

``--instructions CAP`` counts instructions instead of seconds (valgrind's callgrind,
Python included): each side's child runs twice under callgrind, capped at ``CAP // 4``
and ``CAP`` regions, and the difference over the ``3 CAP / 4`` regions between is the
cost per region, start-up and warm-up cancelled.  Instruction counts do not depend on
the host's load (they do not see cache misses or frequency either), so a change of a
per cent is visible on a machine too busy for any timing; it runs ~50x slower.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from lpengine import ReLUNetwork

BEFORE_EXACT = "9284e07"
ROOT = Path(__file__).resolve().parents[1]

# (n_in, widths, seed, box half-width or None for R^d): well-conditioned, 10^3 to 10^4 regions
NETS = [
    (2, [32, 32], 3, 3.0),
    (3, [16, 16], 4, 2.0),
    (4, [16, 16], 5, 1.0),
    (2, [64, 64], 6, 2.0),
    (3, [12, 12], 4, None),
    (4, [8, 8], 1, None),
]

# bench_regions.py's deep60k net (84,593 regions in R^4), for capped A/B runs of the R^d path
DEEP = (4, [9, 9, 8, 8], 0, None)

# bench_regions.py's trained 4->[10,10,10,10]->1 net (seed marks it: built by trained_deep_net)
TRAINED_NET = (4, [10, 10, 10, 10], -1, None)

# One child process: import the tree on PYTHONPATH, warm up, time one enumeration in CPU seconds.
CHILD = r"""
import json, sys, time, warnings
import numpy as np
from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
path, half, no_polar = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
cap = int(sys.argv[4]) or None
if no_polar:
    import lpengine.regions.processor as processor
    processor.facets_by_polar = lambda *a, **k: None
data = np.load(path)
n = len([k for k in data.files if k.startswith("W")])
net = ReLUNetwork([data[f"W{i}"] for i in range(n)], [data[f"b{i}"] for i in range(n)])
kw = {"whole_space": True} if half == "rd" else {"box": (-float(half), float(half))}
small = ReLUNetwork.random(net.n_in, [4, 4], seed=0)
enumerate_regions(small, **kw)  # warm-up: lazy imports (Qhull, HiGHS), first solver
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t = time.process_time()
    res = enumerate_regions(net, max_regions=cap, **kw)
    cpu = time.process_time() - t
print(json.dumps({"count": res.count, "cpu": cpu, "lp_solves": res.lp_solves}))
"""


# --same-process: both trees' packages, copied under the names lpe_old / lpe_new, in one child; the two
# enumerations alternate round by round (old first in even rounds), each timed in CPU seconds.
CHILD_AB = r"""
import gc, json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
import numpy as np
import lpe_old, lpe_new
from lpe_old.regions import enumerate_regions as enum_old
from lpe_new.regions import enumerate_regions as enum_new
path, half, rounds, cap = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) or None
data = np.load(path)
n = len([k for k in data.files if k.startswith("W")])
W, b = [data[f"W{i}"] for i in range(n)], [data[f"b{i}"] for i in range(n)]
sides = {"old": (lpe_old, enum_old), "new": (lpe_new, enum_new)}
nets = {k: pkg.ReLUNetwork(W, b) for k, (pkg, _) in sides.items()}
kw = {"whole_space": True} if half == "rd" else {"box": (-float(half), float(half))}
for k, (pkg, enum) in sides.items():
    enum(pkg.ReLUNetwork.random(nets[k].n_in, [4, 4], seed=0), **kw)  # warm-up
out = {"old": [], "new": [], "count": {}, "lp_solves": {}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for r in range(rounds):
        for k in (("old", "new") if r % 2 == 0 else ("new", "old")):
            gc.collect()
            t = time.process_time()
            res = sides[k][1](nets[k], max_regions=cap, **kw)
            out[k].append(time.process_time() - t)
            out["count"][k], out["lp_solves"][k] = res.count, res.lp_solves
            del res
print(json.dumps(out))
"""


def _trained() -> ReLUNetwork:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_regions import TRAINED, trained_deep_net

    return trained_deep_net(**TRAINED)


def _run_same_process(pkgs: Path, npz: str, half: float | None, rounds: int, cap: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(pkgs), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    args = [sys.executable, "-c", CHILD_AB, str(pkgs), npz, "rd" if half is None else repr(half), str(rounds), str(cap)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _instructions(tree: Path, npz: str, half: float | None, cap: int) -> tuple[float, int]:
    """Instructions per region between the caps ``cap // 4`` and ``cap`` (callgrind), and the regions counted."""
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    counts = []
    for c in (cap // 4, cap):
        args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", CHILD]
        args += [npz, "rd" if half is None else repr(half), "0", str(c)]
        out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
        total = [ln for ln in out.stderr.splitlines() if "Collected :" in ln]
        counts.append((int(total[-1].split(":")[-1]), json.loads(out.stdout.strip().splitlines()[-1])["count"]))
    (i0, n0), (i1, n1) = counts
    return (i1 - i0) / max(n1 - n0, 1), n1


def _instruction_table(nets: list, old: Path, tmp: str, rev: str, cap: int) -> None:
    print(
        f"old = {rev}, new = {ROOT.name} working tree; instructions per region (callgrind) over regions {cap // 4}-{cap}"
    )
    hdr = f"{'network':<16}{'domain':>7}{'regions':>9}{'old M':>9}{'new M':>9}{'new/old':>9}"
    print(hdr)
    print("-" * len(hdr))
    for n_in, widths, seed, half in nets:
        net = _trained() if seed == -1 else ReLUNetwork.random(n_in, widths, seed=seed)
        npz = str(Path(tmp) / "net.npz")
        np.savez(
            npz, **{f"W{i}": w for i, w in enumerate(net.weights)}, **{f"b{i}": b for i, b in enumerate(net.biases)}
        )
        io, no = _instructions(old, npz, half, cap)
        inew, nn = _instructions(ROOT, npz, half, cap)
        if no != nn:
            raise SystemExit(f"counts differ on {n_in}->{widths}: old {no}, new {nn}")
        where = "R^d" if half is None else "box"
        print(
            f"{n_in}->{widths!s:<11}{where:>7}{nn:>9,d}{io / 1e6:>9.3f}{inew / 1e6:>9.3f}{inew / io:>8.3f}x", flush=True
        )


def _run(tree: Path, npz: str, half: float | None, no_polar: bool, cap: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    args = [sys.executable, "-c", CHILD, npz, "rd" if half is None else repr(half), "1" if no_polar else "0", str(cap)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rev", default=BEFORE_EXACT, help=f"the 'before' revision (default {BEFORE_EXACT})")
    ap.add_argument("--rounds", type=int, default=5, help="A/B rounds per net (default 5)")
    ap.add_argument("--quick", action="store_true", help="one box and one R^d net")
    ap.add_argument("--domain", choices=["box", "rd", "all"], default="all", help="which nets (default all)")
    ap.add_argument("--deep", type=int, default=0, help="only the deep net 4->[9,9,8,8] in R^4, first DEEP regions")
    ap.add_argument(
        "--trained", type=int, default=0, help="only bench_regions' trained 4->[10,10,10,10] net, first TRAINED regions"
    )
    ap.add_argument("--net", default=None, help="only this random net in R^d, as N_IN:W1,W2,...:SEED (with --deep CAP)")
    ap.add_argument("--no-polar", action="store_true", help="new side without the polar hull (R^d rows)")
    ap.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="CAP",
        help="instructions per region (callgrind) between CAP/4 and CAP regions, instead of CPU seconds",
    )
    ap.add_argument(
        "--same-process",
        action="store_true",
        help="both trees in one child per net (packages copied as lpe_old/lpe_new), alternating every round",
    )
    args = ap.parse_args()
    nets = [NETS[0], NETS[4]] if args.quick else NETS
    if args.net:
        n_in, widths, seed = args.net.split(":")
        nets = [(int(n_in), [int(w) for w in widths.split(",")], int(seed), None)]
    elif args.trained:
        nets = [TRAINED_NET]
        args.deep = args.trained
    elif args.deep:
        nets = [DEEP]
    elif args.domain != "all":
        nets = [n for n in nets if (n[3] is None) == (args.domain == "rd")]
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), rev], capture_output=True, check=True
        )
        try:
            if args.same_process:
                import shutil

                shutil.copytree(old / "lpengine", Path(tmp) / "pkgs" / "lpe_old")
                shutil.copytree(ROOT / "lpengine", Path(tmp) / "pkgs" / "lpe_new")
            if args.instructions:
                _instruction_table(nets, old, tmp, rev, args.instructions)
            else:
                _table(nets, old, tmp, rev, args)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


def _table(nets: list, old: Path, tmp: str, rev: str, args: argparse.Namespace) -> None:
    where = "both in one child per net, alternating" if args.same_process else "in a fresh child each"
    print(
        f"old = {rev} (temporary worktree), new = {ROOT.name} working tree; {args.rounds} interleaved rounds, "
        f"CPU seconds of enumerate_regions, {where} (medians over rounds)"
    )
    hdr = (
        f"{'network':<16}{'domain':>7}{'regions':>9}{'old s':>8}{'new s':>8}{'new/old':>9}"
        f"{'min':>7}{'max':>7}{'old LPs':>9}{'new LPs':>9}"
    )
    print(hdr)
    print("-" * len(hdr))
    per_domain: dict[str, list[float]] = {}
    for n_in, widths, seed, half in nets:
        net = _trained() if seed == -1 else ReLUNetwork.random(n_in, widths, seed=seed)
        npz = str(Path(tmp) / "net.npz")
        arrays = {f"W{i}": w for i, w in enumerate(net.weights)} | {f"b{i}": b for i, b in enumerate(net.biases)}
        np.savez(npz, **arrays)
        t_old: list[float] = []
        t_new: list[float] = []
        res: dict = {}
        if args.same_process:
            both = _run_same_process(Path(tmp) / "pkgs", npz, half, args.rounds, args.deep or 0)
            t_old, t_new = both["old"], both["new"]
            res = {k: {"count": both["count"][k], "lp_solves": both["lp_solves"][k]} for k in ("old", "new")}
        for r in range(0 if args.same_process else args.rounds):
            order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            for side in order:
                tree = old if side == "old" else ROOT
                res[side] = _run(tree, npz, half, args.no_polar and side == "new", args.deep or 0)
                (t_old if side == "old" else t_new).append(res[side]["cpu"])
            if res["old"]["count"] != res["new"]["count"]:
                break
        if res["old"]["count"] != res["new"]["count"]:
            raise SystemExit(f"counts differ on {n_in}->{widths}: old {res['old']['count']}, new {res['new']['count']}")
        ratios = [b / a for a, b in zip(t_old, t_new, strict=True)]
        mo, mn, mr = statistics.median(t_old), statistics.median(t_new), statistics.median(ratios)
        where = "R^d" if half is None else "box"
        per_domain.setdefault(where, []).append(mr)
        name = f"{n_in}->{widths}" + (" trained" if seed == -1 else "")
        print(
            f"{name:<16}{where:>7}{res['new']['count']:>9,d}{mo:>8.2f}{mn:>8.2f}"
            f"{mr:>8.3f}x{min(ratios):>7.3f}{max(ratios):>7.3f}"
            f"{res['old']['lp_solves']:>9,d}{res['new']['lp_solves']:>9,d}",
            flush=True,
        )
    for where, rs in per_domain.items():
        print(f"geometric mean of new/old over the {where} nets: {statistics.geometric_mean(rs):.3f}x")
    print(
        "new/old: median over rounds of the paired ratio (< 1: the new tree is faster); min/max: the per-round "
        "ratios (their spread is the machine's noise)"
    )


if __name__ == "__main__":
    main()
