"""First-layer L1 training at dataset scale: the Deep ReLU Simplex against its targets and against gradient methods.

Setup: the authors' first-layer example (problems/first_layer_500.toml: random U(-1,1) net 4->[5,4,2]->1,
x ~ U(-3,3)^4, y ~ U(-3,3), layer 1, D = 25, theta0 ~ U(-20,20)^25 with start seed s) with ``n_samples``
raised to N.  Run:

    python benchmarks/bench_drs.py                               # the full tables (long)
    python benchmarks/bench_drs.py --sizes 2000 --seeds 3        # a quick look
    python benchmarks/bench_drs.py --json results.json           # also write every row
    python benchmarks/bench_drs.py --report a.json b.json        # print the tables of saved runs

Table 1, per N and start seed: status, whether the end point is certified and on which scope (all
parameters, or the live units with collapsed units held at zero), collapsed units and their outcome,
revivals, pivots, zero-length pivots, final loss, CPU seconds of the whole call (walk + certificate),
and whether the per-run target (2 / 10 / 60 / 150 s at N = 2k / 10k / 50k / 100k) holds.  CPU time
(``time.process_time``) is reported because the machine is shared: wall time measures the neighbours.

Table 2, per N and seed: full-batch numpy subgradient descent and (PyTorch installed) Adam on the same
L1 loss from the same theta0, each given the DRS's CPU time and 10x that: their best loss, the CPU time
each needs to reach the DRS's final loss ("-" = never within its budget), and the CPU time the DRS
walk needed to reach theirs (from its per-pivot progress callback).  BLAS and torch use one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import pathlib
import time

import numpy as np

from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.problem import load_problem

PROBLEM = pathlib.Path(__file__).resolve().parents[1] / "problems" / "first_layer_500.toml"
TARGET_S = {2000: 2.0, 10000: 10.0, 50000: 60.0, 100000: 150.0}


def make_data(n):
    """Data of the problem file's [data] table with n_samples = n (same generator and seed)."""
    rng = np.random.default_rng(1)
    return rng.uniform(-3, 3, (n, 4)), rng.uniform(-3, 3, n)


def l1_loss(net, X, y, W1, b1):
    h = np.maximum(X @ W1.T + b1, 0.0)
    for W, b in zip(net.weights[1:-1], net.biases[1:-1], strict=True):
        h = np.maximum(h @ W.T + b, 0.0)
    return float(np.abs(h @ net.weights[-1][0] + net.biases[-1][0] - y).sum())


def subgradient(net, X, y, theta0, seconds, eta0=0.05):
    """Full-batch normalised subgradient descent, eta_k = eta0 / sqrt(k + 1); returns the (cpu, best) history."""
    n1, n0 = net.weights[0].shape
    W1 = theta0[: n1 * n0].reshape(n1, n0).copy()
    b1 = theta0[n1 * n0 :].copy()
    best = l1_loss(net, X, y, W1, b1)
    hist = [(0.0, best)]
    k = 0
    c0 = time.process_time()
    while time.process_time() - c0 < seconds:
        z1 = X @ W1.T + b1
        hs, zs = [np.maximum(z1, 0.0)], [z1]
        for W, b in zip(net.weights[1:-1], net.biases[1:-1], strict=True):
            zs.append(hs[-1] @ W.T + b)
            hs.append(np.maximum(zs[-1], 0.0))
        out = hs[-1] @ net.weights[-1][0] + net.biases[-1][0]
        g = np.sign(out - y)[:, None] * net.weights[-1][0][None, :]
        for l in range(len(zs) - 1, 0, -1):
            g = (g * (zs[l] > 0)) @ net.weights[l]
        g = g * (zs[0] > 0)
        gW, gb = g.T @ X, g.sum(axis=0)
        norm = np.sqrt((gW**2).sum() + (gb**2).sum())
        if norm == 0.0:
            break
        eta = eta0 / np.sqrt(k + 1) * np.sqrt(W1.size + b1.size) / norm
        W1 -= eta * gW
        b1 -= eta * gb
        k += 1
        loss = l1_loss(net, X, y, W1, b1)
        if loss < best:
            best = loss
            hist.append((time.process_time() - c0, best))
    return hist


def adam(net, X, y, theta0, seconds, lr=0.05):
    """Adam (torch, float64, one thread) on the same loss; the (cpu, best) history, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    n1, n0 = net.weights[0].shape
    W1 = torch.tensor(theta0[: n1 * n0].reshape(n1, n0), dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor(theta0[n1 * n0 :], dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    rest = [(torch.tensor(W), torch.tensor(b)) for W, b in zip(net.weights[1:], net.biases[1:], strict=True)]
    opt = torch.optim.Adam([W1, b1], lr=lr)
    best = np.inf
    hist = []
    c0 = time.process_time()
    while time.process_time() - c0 < seconds:
        h = torch.relu(Xt @ W1.T + b1)
        for W, b in rest[:-1]:
            h = torch.relu(h @ W.T + b)
        loss = (h @ rest[-1][0][0] + rest[-1][1][0] - yt).abs().sum()
        v = float(loss.detach())
        if v < best:
            best = v
            hist.append((time.process_time() - c0, best))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return hist


def time_to_reach(hist, target):
    """First CPU time in a (cpu, best) history at which the best loss is <= target (None: never)."""
    for t, v in hist:
        if v <= target * (1 + 1e-12):
            return t
    return None


def run_drs(net, X, y, theta0, time_limit):
    prog = []
    c0 = time.process_time()

    def cb(state):
        if state.phase == "walk":  # the loss at each vertex (phase 1 and the certificate's LPs excluded)
            prog.append((time.process_time() - c0, state.loss))

    res = deep_relu_simplex(net, X, y, theta0=theta0, seed=0, time_limit=time_limit, callback=cb)
    cpu = time.process_time() - c0
    # The walk's history starts at the first vertex (phase 1's time is not counted in "DRS t to its L");
    # a run stopped in phase 1 (time limit) has no vertex: its history is the start point only.
    prog.insert(0, (0.0, float(res.losses[0]) if res.losses.size else float(res.start_loss)))
    return res, cpu, prog


def fmt_t(t):
    return f"{t:8.2f}" if t is not None else f"{'-':>8}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000, 100000])
    ap.add_argument("--seeds", type=int, default=10, help="start seeds first..first+seeds-1 per size")
    ap.add_argument("--first-seed", type=int, default=0, help="first start seed")
    ap.add_argument(
        "--max-seeds", type=int, nargs="+", default=None, help="per-size cap on the seeds (same order as --sizes)"
    )
    ap.add_argument("--baseline-sizes", type=int, nargs="*", default=[2000, 10000])
    ap.add_argument("--baseline-seeds", type=int, default=3)
    ap.add_argument("--tenfold-sizes", type=int, nargs="*", default=[2000], help="sizes that also get 10x budgets")
    ap.add_argument(
        "--tenfold-seeds", type=int, default=None, help="seeds with 10x budgets (default: all baseline ones)"
    )
    ap.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="wall seconds per DRS call (default max(4 x target, 30)); raise it on a loaded machine",
    )
    ap.add_argument("--json", type=str, default=None)
    ap.add_argument("--report", type=str, nargs="+", default=None, help="print the tables of saved --json files")
    a = ap.parse_args()
    if a.report:
        rows, brows = [], []
        for f in a.report:
            saved = json.loads(pathlib.Path(f).read_text())
            rows += saved["drs"]
            brows += saved["baselines"]
        print_tables(rows, brows)
        return
    net = load_problem(PROBLEM).network
    rows, brows = [], []
    n_tenfold = a.baseline_seeds if a.tenfold_seeds is None else a.tenfold_seeds
    for si, n in enumerate(a.sizes):
        X, y = make_data(n)
        n_seeds = a.seeds if a.max_seeds is None else min(a.seeds, a.max_seeds[si])
        for s in range(a.first_seed, a.first_seed + n_seeds):
            theta0 = np.random.default_rng(s).uniform(-20, 20, 25)
            target = TARGET_S.get(n, float("inf"))
            limit = max(4 * target, 30.0) if a.time_limit is None else a.time_limit
            res, cpu, prog = run_drs(net, X, y, theta0, time_limit=limit)
            c = res.certificate
            cu = [] if c is None else [(u.unit, u.outcome) for u in c.collapsed_units]
            row = {
                "N": n,
                "seed": s,
                "status": res.status,
                "certified": res.certified,
                "scope": c.scope if c is not None else "-",
                "collapsed": cu,
                "revivals": res.stats["revivals"],
                "collapse_events": res.stats["collapse_events"],
                "pivots": res.nit,
                "zero_steps": res.stats["zero_steps"],
                "start_loss": res.start_loss,
                "loss": res.fun,
                "cpu": cpu,
                "walk_cpu": res.stats["cpu_seconds"],
                "target": target,
            }
            rows.append(row)
            print(
                f"N={n} seed={s}: {res.status} certified={res.certified} ({row['scope']}) collapsed={cu} "
                f"revivals={row['revivals']} pivots={res.nit} zero={row['zero_steps']} loss={res.fun:.3f} "
                f"cpu={cpu:.2f}s",
                flush=True,
            )
            if n in a.baseline_sizes and s < a.baseline_seeds:
                for mult in (1, 10) if n in a.tenfold_sizes and s < n_tenfold else (1,):
                    budget = mult * cpu
                    for name, fn in (("subgradient", subgradient), ("adam", adam)):
                        hist = fn(net, X, y, theta0, budget)
                        if hist is None:
                            continue
                        best = hist[-1][1]
                        brows.append(
                            {
                                "N": n,
                                "seed": s,
                                "method": name,
                                "mult": mult,
                                "budget": budget,
                                "drs_loss": res.fun,
                                "loss": best,
                                "t_reach_drs": time_to_reach(hist, res.fun),
                                "drs_t_reach": time_to_reach(prog, best),
                            }
                        )
                        print(f"   {name} x{mult}: best {best:.3f} (DRS {res.fun:.3f})", flush=True)
            if a.json:
                pathlib.Path(a.json).write_text(json.dumps({"drs": rows, "baselines": brows}, indent=1))
    print_tables(rows, brows)


def print_tables(rows: list[dict], brows: list[dict]) -> None:
    """Table 1 (DRS runs), the per-N summary and Table 2 (baselines)."""
    rows = sorted(rows, key=lambda r: (r["N"], r["seed"]))
    brows = sorted(brows, key=lambda b: (b["N"], b["seed"], b["mult"], b["method"]))
    print("\nTable 1. First-layer DRS, 4->[5,4,2]->1, x, y ~ U(-3,3), theta0 ~ U(-20,20)^25 (D = 25), one core")
    print(
        f"{'N':>7} {'seed':>4} | {'status':>13} {'cert':>5} {'scope':>14} | {'collapsed (unit: outcome)':<34} "
        f"{'reviv':>5} | {'pivots':>6} {'zero':>5} | {'L(theta0)':>10} {'final L':>10} | {'cpu s':>7} {'target':>7}"
    )
    for r in rows:
        cu = "; ".join(f"{u}: {o.replace('no descent found in ', 'none in ')}" for u, o in r["collapsed"]) or "-"
        ok = "ok" if r["cpu"] <= r["target"] else "MISSED"
        print(
            f"{r['N']:>7} {r['seed']:>4} | {r['status']:>13} {str(r['certified']):>5} {r['scope']:>14} | "
            f"{cu:<34} {r['revivals']:>5} | {r['pivots']:>6} {r['zero_steps']:>5} | {r['start_loss']:10.1f} "
            f"{r['loss']:10.3f} | {r['cpu']:7.2f} {ok:>7}"
        )
    print("\nSummary per N")
    print(f"{'N':>7} {'runs':>4} {'certified':>9} {'stalled':>7} {'median cpu':>10} {'max cpu':>8} {'target':>7}")
    for n in sorted({r["N"] for r in rows}):
        rs = [r for r in rows if r["N"] == n]
        cpus = [r["cpu"] for r in rs]
        print(
            f"{n:>7} {len(rs):>4} {sum(r['certified'] for r in rs):>9} "
            f"{sum(r['status'] == 'stalled' for r in rs):>7} {float(np.median(cpus)):10.2f} {max(cpus):8.2f} "
            f"{TARGET_S.get(n, float('nan')):7.0f}"
        )
    if brows:
        print("\nTable 2. Gradient baselines from the same theta0, CPU budget = mult x the DRS call's CPU time")
        print(
            f"{'N':>7} {'seed':>4} {'method':>11} {'mult':>4} {'budget s':>8} | {'DRS L':>10} {'method L':>10} "
            f"{'ratio':>6} | {'t to DRS L':>10} {'DRS t to its L':>14}"
        )
        for b in brows:
            print(
                f"{b['N']:>7} {b['seed']:>4} {b['method']:>11} {b['mult']:>4} {b['budget']:8.2f} | "
                f"{b['drs_loss']:10.3f} {b['loss']:10.3f} {b['loss'] / b['drs_loss']:6.3f} | "
                f"{fmt_t(b['t_reach_drs']):>10} {fmt_t(b['drs_t_reach']):>14}"
            )
        print("t to DRS L: CPU s the method needed to reach the DRS's final loss ('-': not within its budget);")
        print(
            "DRS t to its L: CPU s the DRS walk needed, from its first vertex (phase 1 not counted), to reach the "
            "method's best loss ('-': never, i.e. lower)."
        )


if __name__ == "__main__":
    main()
