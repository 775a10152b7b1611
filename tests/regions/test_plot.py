"""Pictures of regions checked by their pixels: one fill colour per region, areas in proportion, background."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import InvalidDomainError, ReLUNetwork, enumerate_regions, plot_regions
from lpengine.regions.plot import region_polygons

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")  # plot_regions makes pyplot figures (so notebooks show them); free them


def render(ax) -> tuple[np.ndarray, float]:
    """RGB pixels inside the axes (frame excluded) and the data-space area they cover."""
    fig = ax.figure
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    bb = ax.get_window_extent()
    H = img.shape[0]
    x0, x1 = int(np.ceil(bb.x0)) + 3, int(np.floor(bb.x1)) - 3
    y0, y1 = int(np.ceil(bb.y0)) + 3, int(np.floor(bb.y1)) - 3
    (u0, v0), (u1, v1) = ax.transData.inverted().transform([(x0, y0), (x1, y1)])
    return img[H - y1 : H - y0, x0:x1], float((u1 - u0) * (v1 - v0))


def colour_counts(pixels: np.ndarray) -> dict[tuple[int, int, int], int]:
    flat = pixels.reshape(-1, 3)
    cols, counts = np.unique(flat, axis=0, return_counts=True)
    return {tuple(int(v) for v in c): int(n) for c, n in zip(cols, counts, strict=True)}


def test_module_does_not_import_matplotlib() -> None:
    code = "import sys, lpengine, lpengine.regions.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_four_rectangles_fill_in_proportion() -> None:
    # Lines x1 = 0.2, x2 = -0.3 in [-1, 1]^2: rectangles of areas 1.04, 1.56, 0.84, 0.56 (sum 4).
    net = ReLUNetwork((np.eye(2),), (np.array([-0.2, 0.3]),), has_output_layer=False)
    res = enumerate_regions(net)
    ax = plot_regions(res, edges=False)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)  # the axes show exactly the domain
    inner, _ = render(ax)
    counts = colour_counts(inner)
    big = sorted((n for n in counts.values() if n > 50), reverse=True)
    assert len(big) == 4  # four fill colours, nothing else (no antialiasing blends, no background)
    assert_allclose(np.array(big) / sum(big), np.array([1.56, 1.04, 0.84, 0.56]) / 4, atol=0.01)


def test_random_net_one_colour_per_region_and_background() -> None:
    net = ReLUNetwork.random(2, [6, 6], seed=0)
    res = enumerate_regions(net, box=(-3, 3))
    polys = region_polygons(res, box=(-3, 3))
    ax = plot_regions(res, box=(-3, 3), edges=False)
    ax.figure.set_dpi(100)
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4, 4)  # the domain covers 36/64 of the view; the rest is background
    inner, view_area = render(ax)
    counts = colour_counts(inner)
    n_px = inner.shape[0] * inner.shape[1]
    white = counts.get((255, 255, 255), 0)
    # The domain's black outline (antialiased: greys) takes a thin band on the boundary between fill and background.
    grey = sum(n for c, n in counts.items() if c[0] == c[1] == c[2] and c != (255, 255, 255))
    expected = 1 - 36 / view_area
    assert white / n_px <= expected + 0.003 and (white + grey) / n_px >= expected - 0.003
    assert grey / n_px < 0.03
    px_per_unit = n_px / view_area
    # The fill colours drawn (one per polygon, read back from the collection), as 8-bit RGB.
    faces = [tuple(int(round(255 * v)) for v in fc[:3]) for fc in ax.collections[0].get_facecolors()]
    assert len(set(faces)) == len(faces) == res.count  # one distinct colour per region
    big = [f for f, p in zip(faces, polys, strict=True) if p.area * px_per_unit > 40]  # regions of > 40 pixels
    assert all(counts.get(f, 0) > 15 for f in big)  # every sizeable region shows in its own colour
    shown = sum(counts.get(f, 0) > 15 for f in faces)
    assert len(big) <= shown <= res.count


@pytest.mark.parametrize("color_by", ["rank", "output", "layer"])
def test_other_colourings_draw(color_by: str) -> None:
    net = ReLUNetwork.random(2, [5, 4], n_out=1, seed=2)
    res = enumerate_regions(net, box=(-2, 2))
    ax = plot_regions(res, box=(-2, 2), color_by=color_by)
    inner, _ = render(ax)
    counts = colour_counts(inner)
    if color_by == "rank":
        ranks = {r.rank for r in res.regions}
        # One tab10 colour per rank value (rank 0 where the output is constant, rank 1 elsewhere).
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"rank {k}" for k in sorted(ranks)]
    elif color_by == "output":
        # A smooth shading: many distinct colours, far more than regions.
        assert len(counts) > 5 * res.count
        assert ax.figure.axes[-1].get_ylabel() == "network output"
    else:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["layer 1", "layer 2"]
    assert ax.get_title().startswith(f"{res.count} regions")


def test_plane_slice_and_ax_reuse() -> None:
    net = ReLUNetwork.random(3, [5], seed=1)
    fig = matplotlib.figure.Figure()
    ax0 = fig.add_subplot()
    ax = plot_regions(net, ax0, plane=([0, 0, 0], [1, 0, 0], [0, 1, 0]), box=(-2, 2))
    assert ax is ax0
    sliced = enumerate_regions(
        ReLUNetwork((net.weights[0][:, :2], net.weights[1]), (net.biases[0], net.biases[1])), box=(-2, 2)
    )
    assert ax.get_title().startswith(f"{sliced.count} regions")
    assert ax.get_xlabel() == "t1"


def test_bad_input() -> None:
    net3 = ReLUNetwork.random(3, [2], seed=0)
    with pytest.raises(InvalidDomainError, match="n_in = 3.*plane="):
        plot_regions(net3)
    with pytest.raises(ValueError, match="'color_by' parameter of plot_regions must be one of"):
        plot_regions(ReLUNetwork.random(2, [2], seed=0), color_by="colour")
    nohead = ReLUNetwork.random(2, [2], n_out=None, seed=0)
    with pytest.raises(ValueError, match="needs a network with an output layer"):
        plot_regions(nohead, color_by="rank")
    with pytest.raises(TypeError, match="RegionEnumeration or a ReLUNetwork"):
        plot_regions([1, 2])


def test_missing_area_is_shown_and_reported() -> None:
    import warnings

    # Stop after the first region: the one of the centre (0, 0), x1 < 0.2 and x2 > -0.3, area 1.2 x 1.3 = 1.56 of 4.
    net = ReLUNetwork((np.eye(2),), (np.array([-0.2, 0.3]),), has_output_layer=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = enumerate_regions(net, max_regions=1)
    ax = plot_regions(res, edges=False)
    assert (
        ax.get_title()
        == "1 regions (incomplete: a lower bound), box [-1, 1]^2\n0.61 of the view lies in no region found"
    )
    assert ax.get_xlim() == pytest.approx((-1.04, 1.04))  # the view is the domain, not the region found
    inner, view_area = render(ax)
    counts = colour_counts(inner)
    n_px = inner.shape[0] * inner.shape[1]
    fill = max((n for c, n in counts.items() if c != (255, 255, 255)), default=0)
    assert_allclose(fill / n_px, 1.56 / view_area, atol=0.01)
