"""Tests of lpengine.analysis.plot: lazy import, ax= reuse, artists drawn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lpengine.analysis import decay_profile, estimator_trace, fit_decay, visited_within
from lpengine.analysis import plot as P


def test_analysis_does_not_import_matplotlib() -> None:
    code = "import sys, lpengine.analysis, lpengine.analysis.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_all_plots_draw_and_reuse_ax(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    y = 3.0 + 2.0 * 0.9 ** np.arange(40)
    fit = fit_decay(y, start=10)
    ax = P.plot_losses(y, fits=[fit], reference=3.0)
    assert len(ax.lines) == 3  # loss, reference line, fit
    assert P.plot_losses(y, fits=[fit], reference=3.0, log_gap=True, ax=ax) is ax
    ax2 = P.plot_decay_profile(decay_profile(y, window=10))
    assert len(ax2.containers) == 1
    tr = estimator_trace(y, method="aitken", ks=np.arange(5, 40))
    ax3 = P.plot_estimates([tr], truth=3.0)
    assert len(ax3.lines) == 2
    ax4 = P.plot_estimator_errors([1, 10, 100], {"aitken": [0.1, 0.5, 0.0]})
    assert ax4.lines[0].get_xdata().tolist() == [1.0, 10.0]  # the zero error cannot be drawn on log axes
    th = np.cumsum(np.ones((10, 2)), axis=0)
    ax5 = P.plot_step_lengths(np.ones(9), np.arange(10.0, 0.0, -1.0))
    assert len(ax5.lines) == 1
    ax6 = P.plot_radius_counts([visited_within(th, n_radii=5)], labels=["run"], per_radius=True)
    assert len(ax6.lines) == 1
    ax6.figure.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 0
    with pytest.raises(ValueError, match="needs a reference"):
        P.plot_losses(y, log_gap=True)
