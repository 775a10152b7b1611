"""Tests of lpengine.analysis.report: the text summary is rounded, the repr short, the plots written."""

from __future__ import annotations

import re

import numpy as np

from lpengine.analysis import Trajectory
from lpengine.analysis.report import analyze_trajectory, save_plots


def geometric_trajectory(n: int = 60) -> Trajectory:
    # L_k = 1 + 0.5 * 0.95^k plus a tiny deterministic wiggle: the fits have finite, long-decimal standard errors.
    k = np.arange(n)
    y = 1.0 + 0.5 * 0.95**k + 1e-6 * np.cos(k) * 0.9**k
    thetas = np.cumsum(np.stack([0.95**k, 0.5 * 0.95**k], axis=1), axis=0)
    return Trajectory(y, thetas=thetas, certified=True)


def test_text_summary_rounds_numbers() -> None:
    a = analyze_trajectory(geometric_trajectory())
    text = a.to_text()
    assert text.splitlines()[0].startswith("60 vertices, loss 1.5 -> ")
    # No float is printed with more than 6 significant digits (the raw repr would show ~17).
    for number in re.findall(r"\d+\.\d+(?:e[-+]\d+)?", text):
        mantissa = number.split("e")[0].replace(".", "").lstrip("0")
        assert len(mantissa) <= 6, number
    assert "tail fit (vertices" in text and "±" in text


def test_repr_is_one_short_line_and_html_is_a_small_card() -> None:
    a = analyze_trajectory(geometric_trajectory())
    r = repr(a)
    assert r.startswith("TrajectoryAnalysis(n_vertices=60, initial_loss=1.5, ") and "\n" not in r and len(r) < 200
    h = a._repr_html_()
    assert "<b>Trajectory analysis</b>" in h and h.count("<tr>") <= 8 + 2 + 6  # facts + header + at most 8 rows
    assert "... and 8 more" in h  # 16 estimates (4 checkpoints x 4 methods), 8 shown


def test_save_plots_writes_images_without_pyplot(tmp_path) -> None:
    import sys

    paths = save_plots(geometric_trajectory(), analyze_trajectory(geometric_trajectory()), tmp_path)
    assert [p.name for p in paths] == ["losses.png", "log_gap.png", "steps.png", "radius.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []  # nothing left open
