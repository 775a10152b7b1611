"""Time every region-count bound for a deep, wide architecture (default: 100 layers of width 100, n0 = 100).

Usage: python benchmarks/bench_bounds.py [--n0 100] [--width 100] [--depth 100] [--repeat 3]

Prints one row per bound: best-of-``repeat`` wall time and the number of
decimal digits of the exact value.  Caches (binomial rows, the activation-count
tail table) are cleared before every run, so each time includes its set-up.
"""

from __future__ import annotations

import argparse
import time

from lpengine.bounds import (
    _arch,
    activation_histograms,
    all_bounds,
    growth_rate,
    lower_bound_arora2018,
    lower_bound_montufar2014,
    lower_bound_pascanu2013,
    lower_bound_serra2018_thm6,
    lower_bound_serra2018_thm7,
    upper_bound_activation_counts,
    upper_bound_hinz_vandegeer,
    upper_bound_montufar2014,
    upper_bound_montufar2017,
    upper_bound_raghu_style,
    upper_bound_serra2018,
    upper_bound_zaslavsky,
)


def _clear_caches() -> None:
    _arch.binomial_row.cache_clear()
    _arch.zaslavsky_row.cache_clear()
    activation_histograms._tail_table.cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n0", type=int, default=100)
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n0, widths = a.n0, [a.width] * a.depth
    ranks = [min(n0, a.width)] + [a.width] * (a.depth - 1)
    cases = [
        ("zaslavsky (layer 1)", lambda: upper_bound_zaslavsky(n0, widths[0])),
        ("montufar2014 upper (2^N)", lambda: upper_bound_montufar2014(n0, widths)),
        ("raghu-style explicit", lambda: upper_bound_raghu_style(n0, widths)),
        ("montufar2017 upper", lambda: upper_bound_montufar2017(n0, widths)),
        ("serra2018 upper (Thm 1, DP)", lambda: upper_bound_serra2018(n0, widths)),
        ("serra2018 rank variant", lambda: upper_bound_serra2018(n0, widths, ranks=ranks)),
        ("activation-count gamma (framework)", lambda: upper_bound_activation_counts(n0, widths)),
        ("framework gamma^(a) (= 2^N)", lambda: upper_bound_hinz_vandegeer(n0, widths, gamma="all_patterns")),
        ("framework gamma^(b) (= Montufar 2017)", lambda: upper_bound_hinz_vandegeer(n0, widths, gamma="montufar2017")),
        ("framework gamma^(c) (= Serra)", lambda: upper_bound_hinz_vandegeer(n0, widths, gamma="serra2018")),
        ("growth rate (gamma^(c))", lambda: growth_rate(n0, a.width).rho),
        ("montufar2014 lower", lambda: _maybe(lower_bound_montufar2014, n0, widths)),
        ("pascanu2013 lower", lambda: _maybe(lower_bound_pascanu2013, n0, widths)),
        ("serra2018 thm6 lower", lambda: _maybe(lower_bound_serra2018_thm6, n0, widths)),
        ("serra2018 thm7 lower", lambda: _maybe(lower_bound_serra2018_thm7, n0, widths)),
        ("arora2018 lower", lambda: _maybe(lower_bound_arora2018, n0, widths)),
        ("all_bounds (the CLI's table)", lambda: all_bounds(n0, widths).best_upper),
    ]
    print(f"n0 = {n0}, widths = [{a.width}] x {a.depth}; best of {a.repeat}, caches cleared before each run")
    print(f"{'bound':<40}{'seconds':>10}{'digits':>10}")
    total = 0.0
    for name, fn in cases:
        best, val = float("inf"), None
        for _ in range(a.repeat):
            _clear_caches()
            t0 = time.perf_counter()
            val = fn()
            best = min(best, time.perf_counter() - t0)
        total += best if not name.startswith("all_bounds") else 0.0
        digits = "-" if val is None else str(len(str(val)))
        print(f"{name:<40}{best:>10.4f}{digits:>10}")
    print(f"{'sum of the individual bounds':<40}{total:>10.4f}")


def _maybe(fn, n0, widths):  # type: ignore[no-untyped-def]
    try:
        return fn(n0, widths)
    except ValueError:
        return None


if __name__ == "__main__":
    main()
