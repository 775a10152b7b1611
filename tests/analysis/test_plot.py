"""Tests of lpengine.analysis.plot: lazy import, ax= reuse, artists drawn, titles, labels and markers."""

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


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


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


def test_titles_labels_and_markers() -> None:
    plt = pytest.importorskip("matplotlib.pyplot")
    # L_k = 3 + 2 * 0.9^k exactly: the fit recovers L* = 3 and q = 0.9, and its legend entry says so.
    y = 3.0 + 2.0 * 0.9 ** np.arange(40)
    fit = fit_decay(y, start=10)
    ax = P.plot_losses(y, fits=[fit], reference=3.0)
    assert ax.get_title() == "Loss along the trajectory"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["loss L_k", "reference 3", "fit k=10..39: L* = 3, q = 0.900"]
    assert ax.lines[0].get_marker() == "o"  # 40 points: every vertex marked
    assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]  # a pyplot figure: notebooks display it
    long = P.plot_losses(3.0 + 0.999 ** np.arange(1000), ax=P.new_axes(pyplot=False))
    assert long.lines[0].get_marker() in ("None", "", None)  # long series: a line, no marker clutter
    assert long.figure not in [plt.figure(n) for n in plt.get_fignums()]
    gap = P.plot_losses(y, reference=3.0, log_gap=True)
    assert gap.get_title() == "Loss gap to the limit" and gap.get_ylabel() == "loss gap to L* = 3"
    for ax in (
        P.plot_decay_profile(decay_profile(y, window=10)),
        P.plot_estimates([estimator_trace(y, method="aitken", ks=np.arange(5, 40))], truth=3.0),
        P.plot_estimator_errors([1, 10], {"aitken": [0.1, 0.5]}),
        P.plot_step_lengths(np.ones(9), np.arange(10.0, 0.0, -1.0)),
        P.plot_radius_counts(visited_within(np.cumsum(np.ones((10, 2)), axis=0), n_radii=5)),
    ):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
