"""``lpengine train PROBLEM.toml``: train every layer of a network, one exact Deep ReLU Simplex step at a time.

The problem file has the schema of ``lpengine solve`` (task ``"train"``) plus ``[training] layers``,
``cycles`` and ``order`` (:mod:`lpengine.training.problem`).  Ctrl-C ends the running layer step at its
current vertex, and the partial network (never worse than the start) is reported and, with ``--save``,
written.  Exit 0 when training converged with every step certified, 3 when it stopped on a budget or
Ctrl-C or a step is not certified.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from .common import EXIT_INCOMPLETE, EXIT_OK, CtrlC, Outcome, Progress, add_command, add_progress_flag

__all__ = ["register", "run_train"]

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    p = add_command(
        subparsers,
        "train",
        help="train all layers of a network on a problem file (block-coordinate Deep ReLU Simplex)",
        description="Train the layers of a problem file's network in cycles, each step an exact Deep ReLU "
        "Simplex walk on one layer.  Exit 0 when training converged with every step certified, 3 when it "
        "stopped early (budget, Ctrl-C) or a step is not certified.",
    )
    p.add_argument("problem", metavar="PROBLEM.toml", help="problem file (see lpengine.training.problem)")
    p.add_argument("--cycles", type=int, metavar="K", help="most passes over the layers (overrides the file)")
    p.add_argument("--time-limit", type=float, metavar="S", help="seconds for the whole run (overrides the file)")
    p.add_argument("--graph", metavar="OUT", help="write the joined vertex trajectory (.graphml, .gexf or .json)")
    p.add_argument("--save", metavar="NET.npz", help="write the trained network (also after Ctrl-C)")
    add_progress_flag(p)
    p.set_defaults(func=run_train)


def _line(state: Any) -> str:
    where = "pivot" if not state.step_done else "done "
    return (
        f"cycle {state.cycle:>3d}  step {state.step:>4d}  layer {state.layer:>2d}  {where} {state.pivots:>7d}  "
        f"loss {state.loss:.10g}  {state.elapsed:7.1f} s"
    )


def run_train(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine train``."""
    from ..export import write_graph
    from ..training import load_training_problem, run_training_problem

    tp = load_training_problem(args.problem)
    progress = Progress(args.progress)
    with CtrlC() as ctrl_c:
        res = run_training_problem(
            tp,
            cycles=args.cycles,
            time_limit=args.time_limit,
            callback=lambda state: progress.update(_line(state)) or ctrl_c.pressed,
        )
    interrupted = ctrl_c.pressed and res.status == "stopped"
    progress.close(f"done  {res.status}: loss {res.initial_loss:.10g} -> {res.fun:.10g}, {len(res.steps)} steps")
    result: dict[str, Any] = {"problem": tp.problem.name, **res.to_dict()}
    if interrupted:
        result["message"] = CtrlC.message
    if args.save:
        res.network.save(args.save)
        result["saved"] = args.save
    if args.graph:
        write_graph(res.trajectory(), args.graph)
        result["graph"] = args.graph
    code = EXIT_OK if res.status == "converged" and res.certified else EXIT_INCOMPLETE
    return Outcome(result, code, lambda: _text(result, res, interrupted))


def _text(out: dict[str, Any], res: Any, interrupted: bool) -> str:
    lines = [
        f"problem       {out['problem']}",
        f"status        {res.status}{' (' + CtrlC.message + ')' if interrupted else ''}: {res.message}",
        f"loss          {res.initial_loss:.12g} -> {res.fun:.12g}",
        f"steps         {len(res.steps)} in {res.cycles} full cycle(s), {res.seconds:.2f} s",
        "  step layer cycle  status          cert  vertices   seconds  loss",
    ]
    for i, s in enumerate(res.steps):
        lines.append(
            f"  {i:>4d} {s.layer:>5d} {s.cycle:>5d}  {s.status:<15s} {'yes' if s.certified else 'no':<5s}"
            f"{s.vertices:>9d} {s.seconds:>9.2f}  {s.loss:.10g}"
            + (f"  (held inputs {list(s.held_inputs)})" if s.held_inputs else "")
        )
    dead = [f"layer {l}: {list(d)}" for l, d in enumerate(res.dead_units) if d]
    lines.append(f"dead units    {'; '.join(dead) if dead else 'none'}")
    for key, what in (("saved", "network"), ("graph", "trajectory")):
        if key in out:
            lines.append(f"{what:<13s} {out[key]}")
    return "\n".join(lines) + "\n"
