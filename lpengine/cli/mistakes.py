"""``lpengine mistakes``: exact mistake counts of the least-consistent and halving predictors.

Runs one of the four experiments of :mod:`lpengine.sequential.experiments` on
a :class:`~lpengine.sequential.hypotheses.GridReLUClass` and prints the counts
(or one JSON object with ``--json``)::

    lpengine mistakes realizable --width 2 --scale 4 --steps 200 --targets 16 --seed 0
    lpengine mistakes random --steps 500 --json
    lpengine mistakes adversarial --steps 200
    lpengine mistakes refinement --levels 3 4 5 6 7 8 9 10
"""

from __future__ import annotations

import argparse
from typing import Any

from ..sequential.experiments import (
    DEFAULT_CLASS,
    experiment_adversarial,
    experiment_random_labels,
    experiment_realizable,
    experiment_refinement,
)
from ..sequential.hypotheses import GridReLUClass
from .common import EXIT_OK, Outcome, add_command

__all__ = ["register", "run"]

EXPERIMENTS = ("realizable", "random", "adversarial", "refinement")


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "mistakes",
        help="exact mistake counts of the least-consistent and halving predictors (four experiments)",
        description=(
            "Sequential prediction over a finite, well-ordered class of integer-grid ReLU classifiers: "
            "(realizable) target in the class, (random) fair-coin labels, (adversarial) y_t = -yhat_t, "
            "(refinement) one scenario on nested dyadic time grids."
        ),
    )
    p.add_argument("experiment", choices=EXPERIMENTS, help="which experiment to run")
    p.add_argument("--n-in", type=int, default=DEFAULT_CLASS["n_in"], help="input dimension of the class")
    p.add_argument("--width", type=int, default=DEFAULT_CLASS["width"], help="hidden units m")
    p.add_argument(
        "--scale", type=int, default=DEFAULT_CLASS["scale"], help="grid resolution K: first-layer entries k/K, |k| <= K"
    )
    p.add_argument(
        "--output-weights",
        type=int,
        nargs="+",
        default=None,
        metavar="A",
        help="non-zero integer output weights (default +1, -1, +1, ...)",
    )
    p.add_argument("--steps", type=int, default=None, help="stream length T (default: the experiment's)")
    p.add_argument(
        "--targets", type=int, default=16, help="realizable: number of seeded targets (0 = every hypothesis)"
    )
    p.add_argument(
        "--levels", type=int, nargs="+", default=None, metavar="K", help="refinement: grid levels (2^K points each)"
    )
    p.add_argument("--confidence", type=float, default=0.99, help="coverage of the binomial band")
    p.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine mistakes``."""
    H = GridReLUClass(
        n_in=args.n_in,
        width=args.width,
        scale=args.scale,
        output_weights=None if args.output_weights is None else tuple(args.output_weights),
    )
    steps: dict[str, int] = {} if args.steps is None else {"n_steps": args.steps}
    if args.experiment == "realizable":
        result: Any = experiment_realizable(
            H, n_targets=None if args.targets == 0 else args.targets, seed=args.seed, **steps
        )
    elif args.experiment == "random":
        result = experiment_random_labels(H, confidence=args.confidence, seed=args.seed, **steps)
    elif args.experiment == "adversarial":
        result = experiment_adversarial(H, seed=args.seed, **steps)
    else:
        levels = {} if args.levels is None else {"levels": tuple(args.levels)}
        result = experiment_refinement(H, confidence=args.confidence, seed=args.seed, **levels)
    out = result.to_dict()
    out["hypothesis_class"] = {
        "n_in": H.n_in,
        "width": H.width,
        "scale": H.scale,
        "output_weights": list(H.output_weights or ()),
        "size": H.size,
    }
    return Outcome(out, EXIT_OK, lambda: _summary(out))


def _summary(d: dict[str, Any]) -> str:
    hc = d["hypothesis_class"]
    head = (
        f"class: width {hc['width']}, scale {hc['scale']}, n_in {hc['n_in']}, "
        f"output weights {hc['output_weights']}: |H| = {hc['size']}\n"
    )
    exp = d["experiment"]
    if exp == "realizable":
        body = (
            f"realizable, T = {d['n_steps']}, {len(d['targets'])} targets, "
            f"{d['n_distinct_behaviours']} distinct behaviours on the stream\n"
            f"  least consistent: max {d['max_mistakes_least_consistent']} mistakes "
            f"(bound |H|-1 = {d['bound_least_consistent']})\n"
            f"  halving:          max {d['max_mistakes_halving']} mistakes "
            f"(bound floor(log2|H|) = {d['bound_halving']})\n"
        )
    elif exp == "random":
        body = (
            f"random labels, T = {d['n_steps']}: least consistent {d['mistakes_least_consistent']}, "
            f"halving {d['mistakes_halving']} mistakes; {100 * d['confidence']:g}% binomial band "
            f"[{d['band_low']}, {d['band_high']}] around T/2 = {d['expected_mistakes']:g}\n"
            f"  labels stop being realizable at step {d['first_unrealizable_step']} (grid class), "
            f"{d['first_unrealizable_step_continuous']} (continuous class, {d['continuous_lp_solves']} LPs)\n"
        )
    elif exp == "adversarial":
        body = (
            f"adversarial labels, T = {d['n_steps']}: least consistent {d['mistakes_least_consistent']}, "
            f"halving {d['mistakes_halving']} mistakes\n"
        )
    else:
        lines = [
            f"refinement (target hypothesis {d['target']}):",
            "  N       random:least  random:halving  band            target:least  target:halving",
        ]
        for i, n in enumerate(d["n_points"]):
            lines.append(
                f"  {n:<7d} {d['mistakes_random_least_consistent'][i]:<13d} "
                f"{d['mistakes_random_halving'][i]:<15d} "
                f"[{d['band_low'][i]}, {d['band_high'][i]}]".ljust(56)
                + f"{d['mistakes_target_least_consistent'][i]:<13d} {d['mistakes_target_halving'][i]}"
            )
        body = "\n".join(lines) + "\n"
    return head + body
