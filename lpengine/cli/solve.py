"""``lpengine solve PROBLEM.toml``: the Deep ReLU Simplex (or a LAD fit, or argument minimisation) on a problem file.

Two losses are printed and they differ on purpose: the *start loss* is the loss at the start point
``theta0`` of the file (perturbed off a kink if it lay on one), which in general is not a vertex;
phase 1 then moves, without increasing the loss, to the first vertex, which is vertex 0 of the
trajectory (and of the ``--graph`` export) with the *first-vertex loss*.  Phase 2 pivots from there.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    CtrlC,
    Outcome,
    Progress,
    UsageError,
    add_command,
    add_progress_flag,
)

__all__ = ["register", "run_solve", "certificate_sentence", "drs_progress_line", "drs_callback"]

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``solve`` subcommand."""
    p = add_command(
        subparsers,
        "solve",
        help="run a problem file (Deep ReLU Simplex / LAD / argument minimisation)",
        description="Solve a problems/*.toml file with the Deep ReLU Simplex and certify the end point. "
        "Exit 0 when the end point is certified, 3 when the walk stopped early or is not certified.",
    )
    p.add_argument("problem", metavar="PROBLEM.toml", help="problem file (see lpengine.simplex.problem)")
    p.add_argument("--graph", metavar="OUT", help="write the vertex trajectory (.graphml, .gexf or .json)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the loss at each vertex of the trajectory")
    p.add_argument("--max-pivots", type=int, metavar="K", help="pivot budget (overrides the file)")
    p.add_argument("--time-limit", type=float, metavar="S", help="time budget in seconds (overrides the file)")
    p.add_argument("--no-line-search", action="store_true", help="single-crossing pivots (plain simplex steps)")
    p.add_argument("--verify", action="store_true", help="check every vertex against its HiGHS region LP (slow)")
    add_progress_flag(p)
    # Former spelling of --no-progress, kept working but no longer advertised.
    p.add_argument("--quiet", dest="progress", action="store_false", help=argparse.SUPPRESS)
    p.add_argument(
        "--engine",
        choices=("native", "highs"),
        default=None,
        help="pivot engine for task = 'train' (overrides the file; default native)",
    )
    p.set_defaults(func=run_solve)


def drs_progress_line(state: Any) -> str:
    """One progress line from a ``DRSState`` (shared with ``lpengine analyze``): phase 1, the walk, the certificate."""
    phase = getattr(state, "phase", "walk")
    if phase == "phase1":
        return f"phase 1  basis kinks {state.basis_kinks:>5d}  loss {state.loss:.10g}  {state.elapsed:.1f} s"
    if phase == "certify":
        return (
            f"certifying the end vertex  loss {state.loss:.10g}  cell LPs {state.lp_solves:>6d}  "
            f"(after {state.iteration} pivots)  {state.elapsed:.1f} s"
        )
    rate = getattr(state, "pivots_per_second", 0.0) or (state.iteration / state.elapsed if state.elapsed > 0 else 0.0)
    return (
        f"pivot {state.iteration:>8d}  loss {state.loss:.10g}  region changes {state.region_changes:>7d}  "
        f"kinks crossed {state.kinks_crossed:>9d}  {rate:,.0f} pivots/s"
    )


def drs_callback(progress: Progress, ctrl_c: CtrlC) -> Callable[[Any], bool]:
    """The callback of a walk run from the command line: progress on every state, and a Ctrl-C (or SIGTERM)
    request turned into the library's interrupt (``KeyboardInterrupt`` at a safe point), so the walk ends
    at its last vertex with status ``"interrupted"`` (shared with ``lpengine analyze``)."""

    def callback(state: Any) -> bool:
        progress.update(drs_progress_line(state))
        if ctrl_c.pressed:
            raise KeyboardInterrupt
        return False

    return callback


def certificate_sentence(c: Any) -> str:
    """The certificate in words: the proof first, then what confirms it (or why there is no proof)."""
    if c is None:
        return "not certified: the run did not end at a vertex"
    from ..simplex.lad_certificate import LADCertificate

    if isinstance(c, LADCertificate):
        return str(c)  # a LAD fit: its own wording (a global minimum; no hidden cells)
    # DRS certificates give the cell count as log2 (it can have 1000s of digits); n_cells only when small.
    n = c.n_cells
    total = f"{n:,d}" if n is not None else f"2^{c.log2_cells:g}"
    cells = f"{c.n_cells_checked:,d} of {total} incident hidden cell(s)"
    if c.sampled:
        cells += f" (a seeded sample, seed {c.sample_seed})"
    gap = f"largest loss - LP optimum {c.max_lp_gap:.3g}"
    if not c.certified:
        return f"not certified: {c.reason}"
    if getattr(c, "zero_loss", False):
        return f"CERTIFIED global minimum. Proof: {c.reason}. Cross-check: HiGHS re-solved {cells} ({gap})."
    scope = ""
    if getattr(c, "collapsed_units", ()):
        outcomes = "; ".join(f"unit {u.unit}: {u.outcome}" for u in c.collapsed_units)
        scope = f" on the live units (collapsed units held at exact zero; {outcomes})"
    if not c.degenerate:
        return (
            f"CERTIFIED local minimum{scope}. Proof: the complete ray test, none of the {c.n_rays} edge rays "
            f"descends (smallest normalised slope {c.min_slope:.3g}). Confirmation: HiGHS re-solved the cell "
            f"LPs of {cells} and found no lower loss ({gap})."
        )
    return (
        f"CERTIFIED local minimum{scope} at a degenerate vertex. Proof: HiGHS solved the LPs of all {cells} and "
        f"found no lower loss ({gap}); the ray test over all {c.n_rays} edge rays agrees."
    )


def run_solve(args: argparse.Namespace) -> Outcome:
    """Entry point of ``lpengine solve``."""
    from ..export import write_graph
    from ..simplex.lad import LADResult
    from ..simplex.problem import load_problem, solve_problem

    prob = load_problem(args.problem)
    over: dict[str, Any] = {"max_pivots": args.max_pivots, "time_limit": args.time_limit}
    if args.no_line_search:
        over["line_search"] = False
    if args.verify:
        over["verify"] = True
    if args.engine is not None:
        if prob.task != "train":
            raise UsageError(f"--engine applies to task = 'train' only; {args.problem} has task {prob.task!r}.")
        over["engine"] = args.engine
    walk = prob.task != "lad"
    progress = Progress(args.progress if walk else False)
    # Ctrl-C (or SIGTERM) stops a walk at the current vertex, status "interrupted", and the partial
    # trajectory is reported.  A LAD fit has no callback to poll the request, so there Ctrl-C keeps its
    # usual meaning.
    ctrl_c = CtrlC()
    if walk:
        over["callback"] = drs_callback(progress, ctrl_c)
    t0 = time.perf_counter()
    with ctrl_c if walk else contextlib.nullcontext():
        res = solve_problem(prob, **over)
    wall = time.perf_counter() - t0
    interrupted = ctrl_c.pressed and res.status == "interrupted"
    result: dict[str, Any] = {"problem": prob.name, "task": prob.task, **res.to_dict(), "wall_seconds": wall}
    if interrupted:
        result["message"] = f"{ctrl_c.reason}: {res.message}"
    final = f"{res.status}: loss {res.fun:.12g} after {res.nit} pivots, {wall:.2f} s"
    progress.close(f"done  {final}")
    logger.info("%s (%s) %s; %s", prob.name, prob.task, final, certificate_sentence(res.certificate))
    if isinstance(res, LADResult):
        if args.graph:
            logger.warning("--graph ignored for a LAD problem (no trajectory graph)")
    elif args.graph:
        write_graph(res.trajectory, args.graph)
        result["graph"] = args.graph
    if args.plot:
        from ..analysis.plot import new_axes, plot_losses

        ax = plot_losses(
            res.losses, ax=new_axes(pyplot=False), title=f"{prob.name}: loss at each vertex ({res.status})"
        )
        ax.figure.savefig(args.plot, dpi=150)
        result["plot"] = args.plot
    code = EXIT_OK if res.certified or res.status == "unbounded" else EXIT_INCOMPLETE
    return Outcome(result, code, lambda: _text(args, result, res, interrupted, wall))


def _text(args: argparse.Namespace, out: dict[str, Any], res: Any, interrupted: bool, wall: float) -> str:
    lines = [f"problem       {out['problem']} ({out['task']})"]
    if "start_loss" in out:
        lines.append(f"start loss    {out['start_loss']:.12g}  (at the start point theta0; not a vertex in general)")
        if out["first_vertex_loss"] is not None:
            lines.append(
                f"first vertex  {out['first_vertex_loss']:.12g}  (vertex 0 of the trajectory, reached by phase 1)"
            )
    lines.append(f"final loss    {out['fun']:.12g}")
    lines.append(f"status        {out['status']}")
    lines.append(f"message       {out['message']}")
    lines.append(f"vertices      {out['n_vertices']}  (pivots {out['nit']}, kinks crossed {out['kinks_crossed']})")
    if "region_changes" in out:
        lines.append(f"region changes {out['region_changes']}")
    lines.append(f"certificate   {certificate_sentence(res.certificate)}")
    lines.append(f"time          {wall:.3f} s")
    if "graph" in out:
        lines.append(f"trajectory    {out['graph']}")
    if "plot" in out:
        lines.append(f"loss plot     {out['plot']}")
    return "\n".join(lines) + "\n"
