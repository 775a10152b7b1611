"""Draw the picture of the README's tour: ``docs/_static/tour.png``.

    python docs/make_tour_figure.py            # rewrites docs/_static/tour.png

Left: the exact activation regions of the bundled default network (``problems/regions_default.npz``, two
inputs, hidden widths 8 and 8) in the box [-1, 1]^2, as ``lpengine count`` finds them.  Right: the loss
along the Deep ReLU Simplex walk of the bundled default problem (``problems/default.toml``), as
``lpengine solve`` runs it, down to its certified local minimum.  Both use only the public API and the
bundled files; the figure is deterministic (seeded problem, no timing in it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_static" / "tour.png"


def main() -> int:
    sys.path.insert(0, str(ROOT))  # draw with this tree's lpengine
    from matplotlib.figure import Figure

    from lpengine import ReLUNetwork
    from lpengine.analysis.plot import plot_losses
    from lpengine.bundled import bundled_problem_path
    from lpengine.regions import enumerate_regions
    from lpengine.regions.plot import plot_regions
    from lpengine.simplex.problem import load_problem, solve_problem

    net = ReLUNetwork.load(bundled_problem_path("regions_default.npz"))
    regions = enumerate_regions(net)
    result = solve_problem(load_problem(bundled_problem_path("default.toml")))

    fig = Figure(figsize=(10.0, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.0, 1.25))
    plot_regions(regions, left, color_by="layer")
    left.set_title(f"{regions.count} exact activation regions of a 2→[8, 8]→1 network")
    plot_losses(result.losses, ax=right, title="Deep ReLU Simplex: L1 loss along the walk, first layer")
    status = "certified local minimum" if result.certified else str(result.status)
    right.annotate(
        f"{status}\nloss {result.fun:.4f}",
        xy=(len(result.losses) - 1, result.fun),
        xytext=(0.55, 0.6),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
