"""WINNER: the deviation register, the official behaviours it cites, the claim fields of issue 9,
the redesigned tables and the maths of the computed readings (issue 10)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from freqbook.experiments.winner import deviations, summaries, tables, why_noise
from freqbook.experiments.winner.common import (
    AUDIO_NET,
    IMAGE_NET,
    NetSpec,
    audio_noise,
    build_method,
    load_clip,
)
from freqbook.nn import nyquist_frequencies
from freqbook.results import save_record
from freqbook.results.claims import load_claims
from freqbook.results.deviations import effect_value, load_deviations

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "winner"


def _cells(stem: str) -> list[dict]:
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return [{**c, "source": "".join(c["source"])} for c in nb["cells"]]


# ------------------------------------------------------------------------------------ register
def test_register_loads_and_names_existing_pages():
    devs = load_deviations("winner")
    stems = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert len(devs) >= 20
    for d in devs:
        assert d.notebooks, d.id
        assert set(d.notebooks) <= stems, (d.id, d.notebooks)
    for stem in stems:  # every page shows at least one entry
        assert any(stem in d.notebooks for d in devs), stem


def test_issue_9_entries_are_registered():
    ids = {d.id for d in load_deviations("winner")}
    assert {"broadening-audio-width", "broadening-image-width", "relu-pe-init",
            "relu-pe-octaves", "decay-a", "best-epoch"} <= ids


@pytest.mark.parametrize("stem", sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")))
def test_pages_render_deviations_from_the_register(stem):
    cells = _cells(stem)
    for c in cells:  # no hand-written deviation table left
        if c["cell_type"] == "markdown" and re.search(r"^#+ .*[Dd]eviations", c["source"], re.M):
            assert "|---" not in c["source"], stem
    assert any(c["cell_type"] == "code" and f'deviation_table("winner", profile, "{stem}")'
               in c["source"] for c in cells), stem


def test_register_effects_name_record_variables():
    for d in load_deviations("winner"):
        eff = d.effect
        if eff.kind != "measured":
            continue
        if eff.record == "deviations":
            assert eff.variable == "effect"
            assert eff.sel["deviation_name"] in deviations.DEVIATIONS, d.id
        else:
            assert eff.record == "why_noise", d.id


# ------------------------------------------------------------------------ layer-2 broadening
def test_broadening_formula_at_both_widths():
    s1 = audio_noise(load_clip("tetris")[1])[2]
    b = why_noise.layer2_broadening(s1, {"cpu": 96, "code": 222})
    assert b["cpu"] == pytest.approx(math.sqrt(1 + 96 * s1**2 / 2))
    assert round(b["cpu"]) == 12 and round(b["code"]) == 18  # issue 9's numbers


def test_broadening_record_and_register_text_agree(tmp_path):
    cfg = why_noise.config_for("cpu")
    assert (cfg.audio_width, cfg.image_width) == (96, 96)
    ds = why_noise.broadening(cfg)
    code = ds["broadening"].sel(width_of="code")
    assert float(ds["broadening_width"].sel(target="tetris", width_of="code")) == \
        AUDIO_NET.hidden_features
    assert float(ds["broadening_width"].sel(target="camera", width_of="code")) == \
        IMAGE_NET.hidden_features
    assert float(ds["broadening"].sel(target="camera", width_of="profile")) == \
        pytest.approx(1.32, abs=0.005)
    assert float(code.sel(target="camera")) == pytest.approx(1.73, abs=0.005)
    assert (ds["broadening_ratio"] < 1).all()
    # the code-width numbers typed in the register are the formula's
    devs = {d.id: d for d in load_deviations("winner")}
    for did, target in (("broadening-audio-width", "tetris"), ("broadening-image-width", "camera")):
        text = devs[did].effect.text
        assert f"{float(code.sel(target=target)):.2f}" in text, (did, text)
        s1 = float(ds["broadening_s1"].sel(target=target))
        assert f"s1 = {s1:.4g}" in text, (did, text)
    # and the register reads the profile's number from the record
    save_record(ds, paper="winner", experiment="why_noise", profile="cpu", config=cfg,
                seeds=[0], wall_s=0.0, root=tmp_path)
    got = effect_value(devs["broadening-audio-width"], "cpu", root=tmp_path)
    assert got == pytest.approx(float(ds["broadening"].sel(target="tetris", width_of="profile")))


def test_paper_profile_has_no_broadening_loss():
    ds = why_noise.broadening(why_noise.config_for("paper"))
    np.testing.assert_allclose(ds["broadening_ratio"].values, 1.0)


# ----------------------------------------------------------- official behaviours (ReLU + P.E.)
def test_relu_pe_octaves_code_side_512_vs_image_size():
    """Official PosEncoding: floor(log2(side / 4)) with side = 512 from the call
    (modules/networks.py:485-487; learn_*.py pass sidelength=512)."""
    assert nyquist_frequencies(512) == 7
    assert nyquist_frequencies(400) == 6  # braided at native size: ours differs from the code


def test_relu_pe_init_is_kaiming_not_torch_default():
    """The code's ReLULayer keeps nn.Linear's default U(+-1/sqrt(fan_in)) (networks.py:453);
    ours is Kaiming normal, sqrt(6) times wider - the register's relu-pe-init entry."""
    torch.manual_seed(0)
    model = build_method("relu_pe", 1, 1, NetSpec(512, 1, 30.0), samples=512)
    hidden = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][1]
    fan_in = hidden.weight.shape[1]
    assert float(hidden.weight.detach().std()) == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    assert float(hidden.weight.detach().std()) / (1 / math.sqrt(3 * fan_in)) == pytest.approx(
        math.sqrt(6), rel=0.05)


# --------------------------------------------------------------------------------- claims
def test_readme_values_are_indicative_with_a_caution():
    claims = {c.id: c for c in load_claims("winner")}
    for cid in ("L-T1-avg-siren2", "L-T1-avg-siren", "L-T2-noise-siren2", "L-T2-noise-siren",
                "L-T2-camera-siren2", "L-T2-camera-siren", "Q-readme-all-clips"):
        c = claims[cid]
        assert c.provenance == "third-party-summary" and c.caution, cid
        assert not c.has_paper_value, cid  # never judged
    for cid in ("Q-readme-all-clips", "Q-sota-audio", "Q-low-freq-limitation"):
        assert claims[cid].check.like_for_like == ("paper",), cid
    for cid in ("W-T1-bach-finer", "L-T1-avg-siren", "L-T2-noise-siren", "L-T2-camera-siren"):
        assert claims[cid].role == "baseline", cid


# ------------------------------------------------------------------------ tables and maths
def _audio_like() -> xr.Dataset:
    rng = np.random.default_rng(0)
    vals = rng.normal(40, 1, (2, 5, 3))
    vals[0, 3, 1:] = np.nan  # WIRE on one seed
    return xr.Dataset({"peak_psnr": (("clip", "method", "seed"), vals)},
                      coords={"clip": ["tetris", "bach"],
                              "method": ["siren", "winner", "finer", "wire", "gauss"],
                              "seed": [0, 1, 2]})


def test_method_table_fits_a_page_column():
    sty = tables.method_table(_audio_like(), "peak_psnr", "clip", "Peak PSNR")
    df = sty.data
    assert list(df.columns) == ["SIREN", "SIREN²", "FINER", "WIRE", "Gauss"]
    assert df.loc["tetris", "WIRE"].endswith("*") and " ± " in df.loc["bach", "SIREN"]
    assert "one seed" in sty.caption
    assert not any("not available" in str(v) for v in df.to_numpy().ravel())


def test_paper_note_shows_values_beside_ours_with_caution():
    text = tables.paper_values_note(_audio_like(), "clip", {("bach", "finer"): 64.5,
                                                             ("relay", "winner"): 70.0},
                                    "peak_psnr", "somewhere", "careful")
    assert "bach, FINER: paper ≈ 64.5 dB (ours" in text and "relay" not in text
    assert "Caution: careful" in text


_MD = MarkdownIt("commonmark").use(dollarmath_plugin)


def _unrendered_dollars(text: str) -> list[str]:
    bad = []
    for tok in _MD.parse(text):
        for child in tok.children or []:
            if child.type == "text" and "$" in child.content:
                bad.append(child.content)
    return bad


def test_readings_maths_parse_as_myst_dollarmath():
    """Every $...$ of a computed reading becomes a maths node under MyST's dollarmath (issue 10:
    raw `$\\omega_0 = 3000$` on the pages)."""
    ds = why_noise.run(why_noise.config_for("smoke"))
    for text in (summaries.why_noise_reading(ds), summaries.broadening_reading(ds),
                 summaries.at_a_glance({"why_noise": ds})):
        assert text and not _unrendered_dollars(text), text
    names = " ".join(summaries._DEV_NAMES.values())
    assert not _unrendered_dollars(names)


@pytest.mark.parametrize(("ours", "side"), [(57.0, "above"), (30.0, "below")])
def test_absolute_levels_are_computed_against_the_indicative_value(ours, side):
    img = xr.Dataset({"peak_psnr": (("image", "method", "seed"), np.full((1, 2, 2), ours))},
                     coords={"image": ["noise1"], "method": ["siren", "winner"], "seed": [0, 1]})
    text = summaries.absolute_levels({"image": img}, "cpu")
    assert f"reaches {ours:.1f} dB on the noise1 crop, {side} the ≈36.1 dB" in text
    assert "not comparable" in text
    assert "not comparable" not in summaries.absolute_levels({"image": img}, "paper")
    assert summaries.absolute_levels({}, "cpu") == ""
