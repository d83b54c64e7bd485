"""Teaching figures: the legibility checks of the style and save_figure's files and sidecar."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from freqbook import book, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _style():
    with matplotlib.rc_context():
        plotting.use_style()
        yield
    plt.close("all")


def _fits(ax, n=3):
    x = np.linspace(0, 1, 200)
    plotting.plot_target(ax, x, np.sin(6 * x))
    for i in range(n):
        ax.plot(x, np.sin(6 * x) + 0.1 * (i + 1), label=f"fit {i}", color=plotting.PALETTE[i])
    return x


def test_palette_is_never_near_black_and_target_is():
    assert not any(plotting.is_near_black(c) for c in plotting.PALETTE)
    assert not any(plotting.is_near_black(c) for c in plotting.METHOD_COLOURS.values())
    assert plotting.is_near_black(plotting.TARGET_COLOUR)
    assert plotting.is_near_black("#1a1a1a") and not plotting.is_near_black("#7f7f7f")


def test_a_clean_figure_passes():
    fig, ax = plt.subplots(figsize=(5, 3))
    _fits(ax)
    plotting.legend_below(ax)
    assert plotting.check_legibility(fig) == []


def test_each_rule_is_caught():
    fig, ax = plt.subplots(figsize=(5, 3))
    x = _fits(ax)
    ax.plot(x, np.cos(x), color="#111111", label="relu")        # a fit drawn like the target
    ax.set_title("tiny", fontsize=5)                             # text below 8 pt
    ax.legend(loc="center")                                      # legend over the curves
    problems = plotting.check_legibility(fig)
    assert any("near-black" in p and "relu" in p for p in problems)
    assert any("smaller than 8 pt" in p for p in problems)
    assert any("legend covers data" in p for p in problems)
    wide, axes = plt.subplots(1, 5, figsize=(10, 2))
    assert any("5 panels in one row" in p for p in plotting.check_legibility(wide))


def test_panel_grid_wraps_to_three_per_row():
    fig, axes = plotting.panel_grid(5)
    assert len(axes) == 5 and len(fig.axes) == 5
    assert plotting._columns_per_row(fig) == 3
    assert fig.get_size_inches()[0] <= plotting.PAGE_WIDTH_IN + 1e-9


def test_save_figure_writes_stable_files_and_a_sidecar(tmp_path):
    fig, ax = plt.subplots(figsize=(5, 3))
    _fits(ax)
    ax.set_xlabel("t (s)")
    ax.set_ylabel("amplitude")
    plotting.legend_below(ax)
    meta = plotting.save_figure(fig, "siren", "03-audio-fitting", 2, "Fits of the $f$ clip.",
                                record="/abs/build/results/cpu/siren/audio.nc", root=tmp_path,
                                show=False)
    folder = tmp_path / "siren"
    assert sorted(p.name for p in folder.iterdir()) == [
        "03-audio-fitting-fig2.json", "03-audio-fitting-fig2.png", "03-audio-fitting-fig2.svg"]
    assert (folder / "03-audio-fitting-fig2.svg").read_text().lstrip().startswith("<?xml")
    side = json.loads((folder / "03-audio-fitting-fig2.json").read_text())
    assert side == meta
    assert meta["label"] == "fig-siren-03-2"
    assert meta["records"] == ["cpu/siren/audio.nc"]  # a label, never the absolute path
    assert "amplitude against t (s)" in meta["alt"] and "fit 0" in meta["alt"]
    assert meta["legibility"] == []
    # the Figures page lists it with caption, record and both files
    toc = {"parts": [{"caption": "SIREN", "chapters": [{"file": "siren/index", "sections": [
        {"file": "notebooks/siren/03-audio-fitting"}]}]}]}
    sidecars = book.figure_sidecars(tmp_path)
    page = book.figures_markdown(sidecars, toc)
    assert "Fits of the $f$ clip." in page and "`cpu/siren/audio.nc`" in page
    assert 'href="figures/siren/03-audio-fitting-fig2.svg"' in page
    assert book.copy_figures(sidecars, tmp_path / "out", root=tmp_path) == 2


def test_save_figure_refuses_bad_input(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="caption"):
        plotting.save_figure(fig, "siren", "01-x", 1, " ", root=tmp_path, show=False)
    with pytest.raises(ValueError, match=">= 1"):
        plotting.save_figure(fig, "siren", "01-x", 0, "c", root=tmp_path, show=False)
    with pytest.raises(ValueError, match="bad chapter"):
        plotting.save_figure(fig, "../x", "01-x", 1, "c", root=tmp_path, show=False)


def test_place_legend_moves_below_when_best_would_cover_data():
    fig, ax = plt.subplots(figsize=(3, 2))
    x = np.linspace(0, 1, 50)
    for i in range(6):  # curves everywhere: no free corner
        ax.plot(x, (x * (i + 1)) % 1.0 + 0.05 * i, label=f"m{i}")
    leg = plotting.place_legend(ax)
    fig.canvas.draw()
    assert not plotting._legend_overlaps(ax, fig.canvas.get_renderer())
    assert leg.get_window_extent().y1 <= ax.get_window_extent().y0 + 1


def test_image_grid_is_three_panels_wide():
    import xarray as xr

    rng = np.random.default_rng(0)
    img = rng.normal(size=(8, 8))
    methods = ["siren", "relu", "tanh", "relu_pe", "rbf_relu"]
    ds = xr.Dataset(
        {v: (("method", "y", "x"), rng.normal(size=(5, 8, 8))) for v in
         ("fit", "grad_norm", "laplacian")}
        | {t: (("y", "x"), img) for t in ("target", "target_grad_norm", "target_laplacian")},
        coords={"method": methods},
    )
    fig = plotting.image_derivative_grid(ds)
    assert plotting._columns_per_row(fig) == 3
    assert fig.get_size_inches()[0] <= plotting.PAGE_WIDTH_IN + 1e-9
    assert not any("panels in one row" in p for p in plotting.check_legibility(fig))
