"""Sweep the ill-conditioned families: how often is the fast path wrong against the exact oracle?

Usage: python benchmarks/sweep_exact_families.py [--trials 50] [--seed 0]

For each family of ``tests/common/ill_conditioned.py`` (run from the repository root), draws
``--trials`` cases with parameters spread over the family's range (log-uniform shifts and widths,
1-3 D, box / polytope / R^d), compares ``enumerate_regions`` with ``brute_force_regions(exact=True)``
and prints one row per family: trials, wrong (complete but different patterns), incomplete, raised,
the median ratio fast/exact count among the wrong ones, and the mean seconds of the exact oracle.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.common.ill_conditioned import DOMAINS, FAMILIES, compare_with_oracle


def draw(family: str, rng: np.random.Generator) -> dict:
    seed = int(rng.integers(2**31 - 1))
    dom = str(rng.choice(DOMAINS))
    d = int(rng.integers(1, 4))
    lu = lambda lo, hi: float(10.0 ** rng.uniform(lo, hi))  # noqa: E731
    if family == "near_duplicate":
        return {"seed": seed, "delta": lu(-12, -5), "d": d, "layer": int(rng.integers(2)), "domain": dom}
    if family in ("slab", "thin_start"):
        return {"seed": seed, "width": lu(-10, -6), "d": int(rng.integers(1, 5)), "domain": dom}
    if family == "scaled":
        return {"seed": seed, "scale": float(rng.choice([1e-12, 1e-9, 1e-6, 1e6, 1e9, 1e12])), "d": d, "domain": dom}
    if family == "near_face":
        return {"seed": seed, "eps": lu(-12, -6), "d": d}
    if family == "deep_near_parallel":
        return {"seed": seed, "delta": lu(-12, -5), "d": d, "domain": dom}
    if family == "near_concurrent":
        return {"seed": seed, "delta": lu(-12, -5), "d": int(rng.integers(2, 4)), "domain": dom}
    if family == "deep_thin":
        return {"seed": seed, "delta": lu(-12, -5), "d": d, "domain": dom}
    if family == "quantized_scaled":
        scale = float(rng.choice([2.0**-40, 1e-10, 1e-6, 1e6, 1e10]))
        return {"seed": seed, "scale": scale, "d": int(rng.integers(1, 3)), "domain": dom}
    if family == "near_polytope_face":
        return {"seed": seed, "eps": lu(-12, -6), "d": int(rng.integers(2, 5))}
    if family == "quantized":
        return {"seed": seed, "levels": int(rng.choice([7, 127])), "d": d, "domain": dom}
    raise ValueError(f"unknown family {family!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"{'family':20s} {'trials':>6s} {'wrong':>6s} {'incompl':>7s} {'raised':>6s} {'med fast/exact':>14s} {'s/trial':>8s}"
    )
    for fam in args.families:
        wrong = incomplete = raised = 0
        ratios = []
        t0 = time.perf_counter()
        for _ in range(args.trials):
            kw = draw(fam, rng)
            net, domain = FAMILIES[fam](**kw)
            m = compare_with_oracle(net, domain)
            if m is None:
                continue
            if m.reason.startswith("raised"):
                raised += 1
            elif m.reason.startswith("incomplete"):
                incomplete += 1
            else:
                wrong += 1
                ratios.append(m.fast_count / m.exact_count)
        sec = (time.perf_counter() - t0) / args.trials
        med = f"{np.median(ratios):.2f}" if ratios else "-"
        print(f"{fam:20s} {args.trials:6d} {wrong:6d} {incomplete:7d} {raised:6d} {med:>14s} {sec:8.2f}", flush=True)


if __name__ == "__main__":
    main()
