"""First-layer L1 training (4->[5,4,2]->1, N = 500, theta0 ~ U(-20,20)^25): Deep ReLU Simplex vs gradient methods.

Run:  python benchmarks/bench_drs.py [--seeds 2 3 4] [--no-ls-limit 120]

For each start seed: the Deep ReLU Simplex with and without the Barrodale-Roberts
line search (vertices, time to a certified local minimum, vertices per second in
wall and CPU time), then a full-batch numpy subgradient method and, when PyTorch is
installed (optional, benchmark only), Adam, both from the same theta0 and given the
wall time the line-search run needed (and 10x that), reporting their best loss.
BLAS is pinned to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import pathlib
import time

import numpy as np

from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.problem import load_problem

PROBLEM = pathlib.Path(__file__).resolve().parents[1] / "problems" / "first_layer_500.toml"


def l1_first_layer(net, X, y, W1, b1):
    h = np.maximum(X @ W1.T + b1, 0.0)
    for W, b in zip(net.weights[1:-1], net.biases[1:-1], strict=True):
        h = np.maximum(h @ W.T + b, 0.0)
    return float(np.abs(h @ net.weights[-1][0] + net.biases[-1][0] - y).sum())


def subgradient(net, X, y, theta0, seconds, eta0=0.05):
    """Full-batch subgradient descent on the first layer, eta_k = eta0 / sqrt(k + 1); returns best loss and steps."""
    n1, n0 = net.weights[0].shape
    W1 = theta0[: n1 * n0].reshape(n1, n0).copy()
    b1 = theta0[n1 * n0 :].copy()
    best = l1_first_layer(net, X, y, W1, b1)
    k = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
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
        norm = np.sqrt((gW**2).sum() + (gb**2).sum()) + 1e-300
        eta = eta0 / np.sqrt(k + 1)
        W1 -= eta * gW / norm * np.sqrt(W1.size + b1.size)
        b1 -= eta * gb / norm * np.sqrt(W1.size + b1.size)
        k += 1
        best = min(best, l1_first_layer(net, X, y, W1, b1))
    return best, k


def adam(net, X, y, theta0, seconds, lr=0.05):
    try:
        import torch
    except ImportError:
        return None, None
    torch.set_num_threads(1)
    n1, n0 = net.weights[0].shape
    W1 = torch.tensor(theta0[: n1 * n0].reshape(n1, n0), dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor(theta0[n1 * n0 :], dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    rest = [(torch.tensor(W), torch.tensor(b)) for W, b in zip(net.weights[1:], net.biases[1:], strict=True)]
    opt = torch.optim.Adam([W1, b1], lr=lr)
    best, k = np.inf, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        h = torch.relu(Xt @ W1.T + b1)
        for W, b in rest[:-1]:
            h = torch.relu(h @ W.T + b)
        loss = (h @ rest[-1][0][0] + rest[-1][1][0] - yt).abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        best = min(best, float(loss.detach()))
        k += 1
    return best, k


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument("--no-ls-limit", type=float, default=120.0)
    ap.add_argument("--no-baselines", action="store_true", help="skip the gradient baselines")
    a = ap.parse_args()
    prob = load_problem(PROBLEM)
    net, X, y = prob.network, prob.X, prob.y
    rows, grows = [], []
    for s in a.seeds:
        theta0 = np.random.default_rng(s).uniform(-20, 20, 25)
        L0 = l1_first_layer(net, X, y, theta0[:20].reshape(5, 4), theta0[20:])
        for ls in (True, False):
            c0, t0 = time.process_time(), time.perf_counter()
            res = deep_relu_simplex(
                net, X, y, theta0=theta0, seed=0, line_search=ls, time_limit=None if ls else a.no_ls_limit
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            eng = res.stats["seconds"]
            rows.append(
                (
                    s,
                    ls,
                    L0,
                    res.losses[0],
                    res.fun,
                    res.nit,
                    res.stats["kinks_crossed"],
                    res.status,
                    res.certified,
                    wall,
                    cpu,
                    res.nit / eng,
                )
            )
            print(f"seed {s} line_search={ls}: {res.status} {res.nit} pivots {wall:.2f}s", flush=True)
            if ls:
                t_ls, f_ls = wall, res.fun
        for mult in () if a.no_baselines else (1, 10):
            sg, k = subgradient(net, X, y, theta0, mult * t_ls)
            ad, ka = adam(net, X, y, theta0, mult * t_ls)
            grows.append((s, mult * t_ls, f_ls, sg, k, ad, ka))
    print("\nFirst-layer L1 training, 4->[5,4,2]->1, N = 500, x, y ~ U(-3,3), theta0 ~ U(-20,20)^25 (D = 25)")
    print(
        f"{'seed':>4} {'LS':>5} | {'L(theta0)':>10} {'L(v0)':>9} {'final L':>9} | {'pivots':>7} {'crossed':>8} "
        f"{'status':>13} {'cert':>5} | {'wall s':>7} {'cpu s':>7} {'piv/s':>8} {'piv/s':>7} {'passed/s':>9}"
    )
    print(f"{'':>76}{'':>17}{'engine':>8} {'call':>7} {'engine':>9}")
    for s, ls, L0, Lv, Lf, nit, kc, stt, cert, wall, cpu, vps in rows:
        print(
            f"{s:>4} {str(ls):>5} | {L0:10.2f} {Lv:9.2f} {Lf:9.3f} | {nit:>7} {kc:>8} {stt:>13} {str(cert):>5} | "
            f"{wall:7.2f} {cpu:7.2f} {vps:8.0f} {nit / cpu:7.0f} {vps * (nit + kc) / max(nit, 1):9.0f}"
        )
    print(
        "piv/s: pivots (stops at logged vertices) per second of engine time / of the whole call (certificate\n"
        "included); passed/s: pivots + line-search crossings (each a vertex with D tight kinks) per engine second."
    )
    print("\nGradient baselines from the same theta0, given the DRS line-search wall time (and 10x)")
    print(
        f"{'seed':>4} {'budget s':>8} | {'DRS final':>9} | {'subgrad best':>12} {'steps':>7} {'ratio':>6} | "
        f"{'Adam best':>9} {'steps':>6} {'ratio':>6}"
    )
    for s, bud, f, sg, k, ad, ka in grows:
        adam_s = f"{ad:9.3f} {ka:>6} {ad / f:6.3f}" if ad is not None else f"{'n/a (no torch)':>23}"
        print(f"{s:>4} {bud:8.2f} | {f:9.3f} | {sg:12.3f} {k:>7} {sg / f:6.3f} | {adam_s}")


if __name__ == "__main__":
    main()
