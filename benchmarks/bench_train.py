"""Whole-network L1 training on real data: train_network (exact layer steps) vs Adam and SGD, equal wall time.

Run:  python benchmarks/bench_train.py [--hidden 8 6] [--seconds S] [--seed 0]

Data: scikit-learn's bundled diabetes data (442 x 10, standardised with the training split's statistics),
a seeded 75/25 train / held-out split.  Network: ``ReLUNetwork.random(10, hidden, seed)`` (He-normal); every
method starts from these same weights.

1. ``train_network`` (all layers, forward order) until it converges or ``--seconds`` (default: no limit);
   its wall time ``T`` is the budget of every other method.
2. Adam and SGD (momentum 0.9), full batch, on the mean L1 loss (the same minimiser as the summed loss),
   each for ``T`` seconds of wall time, for two learning rates each; the table shows every run.  PyTorch
   (float64) when installed, else a NumPy implementation of the same updates (the ``impl`` column).

``--scaling``: instead, one cycle of ``train_network`` on synthetic data (x ~ N(0, 1)^10, y a random
He-normal ReLU net of width 16 plus noise) for several sample sizes and widths, each capped at ``--seconds``
(default 120): how far the exact layer steps scale on this machine.

Reported: final training and held-out mean absolute error (MAE, in standard deviations of the target), the
held-out median absolute error, the largest weight magnitude, and the time each method needed to first reach the training loss that Adam (best learning rate) ended with.
One run on a shared machine: read the times as rough, the losses as exact.  BLAS is pinned to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time

import numpy as np

from lpengine import ReLUNetwork, train_network
from lpengine.datasets import load_dataset


def split(seed: int):
    d = load_dataset("diabetes", standardize=False)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(d.n_samples)
    n_tr = int(round(0.75 * d.n_samples))
    tr, te = idx[:n_tr], idx[n_tr:]
    X, y = np.array(d.X), np.array(d.y)
    xm, xs = X[tr].mean(0), X[tr].std(0)
    ym, ys = y[tr].mean(), y[tr].std()
    X, y = (X - xm) / xs, (y - ym) / ys
    return X[tr], y[tr], X[te], y[te]


def abs_err(ws, bs, X, y):
    h = X
    for W, b in zip(ws[:-1], bs[:-1], strict=True):
        h = np.maximum(h @ W.T + b, 0.0)
    return np.abs(h @ ws[-1][0] + bs[-1][0] - y)


def mae(ws, bs, X, y) -> float:
    return float(np.mean(abs_err(ws, bs, X, y)))


def medae(ws, bs, X, y) -> float:
    return float(np.median(abs_err(ws, bs, X, y)))


def gd_numpy(kind, lr, net, X, y, seconds):
    """Full-batch Adam / SGD(momentum 0.9) on the mean L1 loss, subgradient by hand; returns (ws, bs, trace, steps)."""
    ws = [np.array(w) for w in net.weights]
    bs = [np.array(b) for b in net.biases]
    params = ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    trace, k, t0 = [], 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        hs, zs = [X], []
        for W, b in zip(ws[:-1], bs[:-1], strict=True):
            zs.append(hs[-1] @ W.T + b)
            hs.append(np.maximum(zs[-1], 0.0))
        out = hs[-1] @ ws[-1].T + bs[-1]
        r = out[:, 0] - y
        trace.append((time.perf_counter() - t0, float(np.mean(np.abs(r)))))
        g = np.sign(r)[:, None] / len(y)
        gw, gb = [None] * len(ws), [None] * len(bs)
        for l in range(len(ws) - 1, -1, -1):
            gw[l], gb[l] = g.T @ hs[l], g.sum(axis=0)
            if l > 0:
                g = (g @ ws[l]) * (zs[l - 1] > 0)
        grads = gw + gb
        k += 1
        for i, (p, gr) in enumerate(zip(params, grads, strict=True)):
            if kind == "adam":
                m[i] = 0.9 * m[i] + 0.1 * gr
                v[i] = 0.999 * v[i] + 0.001 * gr * gr
                p -= lr * (m[i] / (1 - 0.9**k)) / (np.sqrt(v[i] / (1 - 0.999**k)) + 1e-8)
            else:
                m[i] = 0.9 * m[i] + gr
                p -= lr * m[i]
    return ws, bs, trace, k


def gd_torch(kind, lr, net, X, y, seconds):
    """The same with torch.optim (float64)."""
    import torch

    model = net.to_torch()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    opt = (
        torch.optim.Adam(model.parameters(), lr=lr)
        if kind == "adam"
        else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    )
    trace, k, t0 = [], 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        opt.zero_grad()
        loss = (model(Xt)[:, 0] - yt).abs().mean()
        trace.append((time.perf_counter() - t0, float(loss.detach())))
        loss.backward()
        opt.step()
        k += 1
    back = ReLUNetwork.from_torch(model)
    return list(back.weights), list(back.biases), trace, k


def first_time_below(trace, target):
    for t, v in trace:
        if v <= target:
            return t
    return None


def scaling(limit: float) -> None:
    print("| N | net | D per layer | one cycle (s) | vertices | status | certified steps |")
    print("|---:|---|---|---:|---:|---|---|")
    rng = np.random.default_rng(0)
    teacher = ReLUNetwork.random(10, [16], seed=99)
    for n, hidden in ((500, [8, 6]), (2000, [8, 6]), (500, [32, 16]), (5000, [8, 6]), (2000, [32, 16])):
        X = rng.standard_normal((n, 10))
        y = teacher.forward(X)[:, 0] + 0.1 * rng.standard_normal(n)
        net = ReLUNetwork.random(10, hidden, seed=0)
        dims = [10, *hidden, 1]
        D = [b * (a + 1) for a, b in zip(dims[:-1], dims[1:], strict=True)]
        t0 = time.perf_counter()
        res = train_network(net, X, y, cycles=1, time_limit=limit, seed=0)
        wall = time.perf_counter() - t0
        cert = sum(s.certified for s in res.steps)
        print(
            f"| {n} | 10->{hidden}->1 | {D} | {wall:.1f} | {sum(s.vertices for s in res.steps)} | {res.status} "
            f"| {cert} of {len(res.steps)} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", type=int, nargs="+", default=[8, 6])
    ap.add_argument("--seconds", type=float, default=None, help="time limit of train_network (default: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--scaling", action="store_true", help="time one cycle at several N and widths instead")
    args = ap.parse_args()
    if args.scaling:
        scaling(args.seconds if args.seconds is not None else 120.0)
        return
    try:
        import torch  # noqa: F401

        impl, gd = "torch", gd_torch
    except ImportError:
        impl, gd = "numpy", gd_numpy
    Xtr, ytr, Xte, yte = split(args.seed)
    net = ReLUNetwork.random(Xtr.shape[1], args.hidden, seed=args.seed)
    n = len(ytr)
    lp_trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    lp_trace.append((0.0, mae(net.weights, net.biases, Xtr, ytr)))

    def cb(state):
        if state.step_done:
            lp_trace.append((time.perf_counter() - t0, state.loss / n))

    res = train_network(net, Xtr, ytr, cycles=args.cycles, time_limit=args.seconds, seed=args.seed, callback=cb)
    T = time.perf_counter() - t0
    rows = [
        (
            "train_network",
            "lpengine",
            res.fun / n,
            mae(res.network.weights, res.network.biases, Xte, yte),
            medae(res.network.weights, res.network.biases, Xte, yte),
            max(float(np.abs(w).max()) for w in res.network.weights),
            T,
            f"{len(res.steps)} steps, {sum(s.vertices for s in res.steps)} vertices",
            lp_trace,
        )
    ]
    for kind, lrs in (("adam", (1e-3, 1e-2)), ("sgd", (1e-3, 1e-2))):
        for lr in lrs:
            ws, bs, trace, k = gd(kind, lr, net, Xtr, ytr, T)
            name = f"{'Adam' if kind == 'adam' else 'SGD+mom'} lr={lr:g}"
            big = max(float(np.abs(w).max()) for w in ws)
            rows.append(
                (
                    name,
                    impl,
                    mae(ws, bs, Xtr, ytr),
                    mae(ws, bs, Xte, yte),
                    medae(ws, bs, Xte, yte),
                    big,
                    T,
                    f"{k} steps",
                    trace,
                )
            )
    adam_rows = [r for r in rows if r[0].startswith("Adam")]
    target = min(r[2] for r in adam_rows)
    print(
        f"diabetes: {n} train / {len(yte)} held-out rows, net 10->{args.hidden}->1 (He, seed {args.seed}); "
        f"train_network: {res.status}, {res.cycles} cycles, every step certified: {res.certified}; "
        f"equal wall time {T:.1f} s; target = Adam's best final training MAE {target:.4f}"
    )
    lad_note = ""
    try:
        from lpengine.sklearn import LADRegressor

        lin = LADRegressor().fit(Xtr, ytr)
        lad_note = (
            f"reference: exact linear LAD fit, train MAE {np.mean(np.abs(lin.predict(Xtr) - ytr)):.4f}, held-out "
            f"{np.mean(np.abs(lin.predict(Xte) - yte)):.4f}; constant median, held-out "
            f"{np.mean(np.abs(np.median(ytr) - yte)):.4f}"
        )
    except ImportError:
        pass
    print()
    print(
        "| method | impl | train MAE | held-out MAE | held-out median AE | max abs weight | wall s | work "
        "| time to Adam's train MAE |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    for name, im, tr_l, te_l, te_med, big, wall, work, trace in rows:
        t = first_time_below(trace, target)
        ts = f"{t:.2f} s" if t is not None else "not reached"
        print(f"| {name} | {im} | {tr_l:.4f} | {te_l:.4f} | {te_med:.4f} | {big:.1f} | {wall:.1f} | {work} | {ts} |")
    if lad_note:
        print()
        print(lad_note)


if __name__ == "__main__":
    main()
