"""The SIREN deviation register: the audited departures are registered, every page renders its
deviations from the register (no hand-written table), and measured effects name real records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from freqbook.results.deviations import deviation_table, load_deviations

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "siren"
PAGES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def test_register_holds_the_audited_departures():
    devs = {d.id: d for d in load_deviations("siren")}
    for did in ("poisson-sobel-scale", "poisson-laplace-unaffected", "poisson-image-identity",
                "hypernet-set-encoder", "hypernet-mlp-depth", "hypernet-context-range"):
        assert did in devs, did
    sobel = devs["poisson-sobel-scale"]
    assert sobel.effect.kind == "measured"
    assert (sobel.effect.record, sobel.effect.variable) == ("poisson", "sobel_effect_db")
    assert "601" in sobel.code and "(1, H, W)" in sobel.code
    assert "sine" in devs["hypernet-set-encoder"].code


@pytest.mark.parametrize("stem", PAGES)
def test_every_page_renders_its_deviations_from_the_register(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"]]
    code = [s for s, c in zip(cells, nb["cells"], strict=True) if c["cell_type"] == "code"]
    md = [s for s, c in zip(cells, nb["cells"], strict=True) if c["cell_type"] == "markdown"]
    assert any(f'deviation_table("siren", profile, "{stem}")' in s for s in code), stem
    assert not any(re.search(r"^\|\s*what\s*\|", s, re.M) for s in md), "hand-written table"
    assert len(deviation_table("siren", "smoke", stem)) > 0


def test_measured_effects_name_variables_the_experiments_write():
    writes = {"poisson": ("sobel_effect_db", "siren_grad_psnr")}
    for dev in load_deviations("siren"):
        if dev.effect.kind == "measured":
            assert dev.effect.variable in writes.get(dev.effect.record, ()), dev.id
