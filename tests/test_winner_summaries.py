"""The computed readings of the WINNER pages (``freqbook.experiments.winner.summaries``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.winner import summaries

CLIPS = ["tetris", "bach", "relay"]
METHODS = ["siren", "winner", "finer"]


def _audio() -> xr.Dataset:
    """Three clips, three methods, two seeds; SIREN at silence on tetris and relay."""
    dims = ("clip", "method", "seed")
    coords = {"clip": CLIPS, "method": METHODS, "seed": [0, 1]}
    # gain over the all-zero output (final PSNR - zero PSNR)
    gain = np.array([
        [[0.0, 0.4], [40.0, 42.0], [0.1, 0.1]],  # tetris: siren collapsed (mean 0.2)
        [[20.0, 22.0], [25.0, 27.0], [0.5, 3.0]],  # bach: finer mean 1.75 -> not collapsed
        [[0.9, 0.9], [30.0, 31.0], [0.0, 0.0]],  # relay: siren mean 0.9 < 1 -> collapsed
    ])
    zero = np.array([15.0, 23.0, 10.0])
    final = gain + zero[:, None, None]
    peak = final + 1.0
    ds = xr.Dataset(
        {
            "gain_over_zero": (dims, gain),
            "final_psnr": (dims, final),
            "peak_psnr": (dims, peak),
            "rms_ratio": (dims, np.full(gain.shape, 0.5)),
            "zero_psnr": (("clip",), zero),
        },
        coords=coords,
    )
    ds["gain_vs_siren"] = ds["peak_psnr"] - ds["peak_psnr"].sel({"method": "siren"})
    return ds


def test_collapsed_clips_uses_the_seed_mean_and_threshold():
    ds = _audio()
    assert summaries.collapsed_clips(ds, "siren") == ["tetris", "relay"]
    assert summaries.collapsed_clips(ds, "winner") == []
    assert summaries.collapsed_clips(ds, "finer") == ["tetris", "relay"]
    # a stricter threshold moves relay (0.9 dB) out
    assert summaries.collapsed_clips(ds, "siren", collapse_db=0.5) == ["tetris"]
    assert summaries.collapsed_clips(ds, "finer", collapse_db=2.0) == CLIPS


def test_audio_reading_counts_and_range():
    text = summaries.audio_reading(_audio())
    assert "**2 of 3 clips**" in text
    assert "SIREN² fits 3 of 3" in text
    # SIREN² minus SIREN: tetris 40.8, bach 5.0, relay 29.6 (means over seeds)
    assert "from +5.0 dB (bach) to +40.8 dB (tetris)" in text
    assert "FINER on 2 of 3" in text


def test_bottleneck_reading_flags_collapse_per_clip():
    text = summaries.bottleneck_reading(_audio())
    lines = text.splitlines()
    tetris = next(line for line in lines if line.startswith("* **tetris**"))
    bach = next(line for line in lines if line.startswith("* **bach**"))
    assert "SIREN **collapses**" in tetris
    assert "SIREN does not collapse" in bach
    # SIREN² final minus SIREN final on bach: 26 - 21 = +5.0
    assert "+5.0 dB relative to SIREN" in bach


def test_robustness_reading_gap_and_best_cell():
    grid = np.array([[10.0, 10.0], [12.0, 20.0]])
    ds = xr.Dataset(
        {
            "audio_psnr": (("s0_a", "s1_a"), grid),
            "schedule_s0": (("target",), [3000.0]),
            "schedule_s1": (("target",), [1.5]),
            "schedule_psnr": (("target",), [16.0]),
            "best_psnr": (("target",), [20.0]),
            "schedule_gap": (("target",), [4.0]),
            "no_noise_psnr": (("target",), [10.0]),
            "robust_fraction": (("target",), [0.25]),
        },
        coords={"s0_a": [0.0, 3500.0], "s1_a": [0.0, 3.0], "target": ["tetris"]},
    )
    text = summaries.robustness_reading(ds)
    assert "4.0 dB below the best cell" in text
    assert "at $s_0 = 3500$, $s_1 = 3$" in text
    assert "outside 3 dB" in text
    assert "25 % of the cells" in text
    assert "within 5 dB" in summaries.robustness_reading(ds, within_db=5.0)


def _deviations() -> xr.Dataset:
    runs = [
        ("decay_a", "code", "tetris", 0, 50.0, 48.0),
        ("decay_a", "code", "tetris", 1, 52.0, 51.0),
        ("decay_a", "alternative", "tetris", 0, 55.0, 55.0),
        ("decay_a", "alternative", "tetris", 1, 57.0, 50.0),
    ]
    dev, var, tgt, seed, peak, final = (list(x) for x in zip(*runs, strict=True))
    return xr.Dataset(
        {
            "deviation": (("run",), dev),
            "variant": (("run",), var),
            "target": (("run",), tgt),
            "seed": (("run",), seed),
            "s0": (("run",), [3400.0, 3400.0, 3300.0, 3300.0]),
            "peak_psnr": (("run",), peak),
            "final_psnr": (("run",), final),
            "s0_a7": (("clip",), [3400.0, 1400.0]),
            "s0_a5": (("clip",), [3300.0, 1050.0]),
        },
        coords={"run": [f"r{k}" for k in range(4)], "clip": ["tetris", "bach"]},
    )


def test_deviation_means_and_reading():
    ds = _deviations()
    assert summaries.deviation_means(ds, "decay_a") == {"tetris": (51.0, 56.0)}
    assert summaries.deviation_means(ds, "decay_a", "s0") == {"tetris": (3400.0, 3300.0)}
    text = summaries.deviations_reading(ds)
    assert "peak PSNR 51.0 → 56.0 dB (+5.0 dB)" in text
    # final - peak: -2, -1, 0, -7 -> mean -2.5, worst -7 on run r3
    assert "averages -2.5 dB" in text and "reaches -7.0 dB (run `r3`)" in text
    assert "largest change: bach" in text


def test_at_a_glance_skips_missing_records():
    assert summaries.at_a_glance({}) == ""
    text = summaries.at_a_glance({"audio": _audio()})
    assert text.startswith("* **Audio table**")
    assert "SIREN collapses on 2 of 3 clips" in text
    assert "best peak PSNR on 3 of 3" in text
    assert "Bottleneck" not in text
