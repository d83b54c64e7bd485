"""Seed-aware judging: the statistic on synthetic records (clear effect, effect within noise,
opposite effect, one seed, NaN seeds) and through the comparator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from scipy import stats

from freqbook.results import evaluate, save_record
from freqbook.results.seednoise import combine, effect_interval


def test_paired_interval_matches_scipy_one_sided_t() -> None:
    a = np.array([3.0, 3.4, 2.7, 3.1])
    b = np.array([1.0, 1.5, 0.4, 1.2])
    iv = effect_interval(a, b, margin=1.0)
    d = a - b - 1.0
    t = stats.t.ppf(0.95, d.size - 1)
    assert iv.method == "paired" and iv.n == 4
    assert iv.mean == pytest.approx(d.mean())
    assert iv.lower == pytest.approx(d.mean() - t * d.std(ddof=1) / 2)
    # scipy's one-sided paired test agrees with the bound: p < 0.05 iff lower > 0
    p = stats.ttest_rel(a - 1.0, b, alternative="greater").pvalue
    assert (p < 0.05) == (iv.lower > 0)


@pytest.mark.parametrize(
    ("plus", "minus", "outcome"),
    [
        ([5.0, 5.2, 4.9], [1.0, 1.1, 0.8], "yes"),  # clear effect
        ([1.2, 0.4, 1.9], [1.0, 1.1, 0.8], "unsure"),  # mean above, within noise
        ([0.0, 0.1, -0.2], [1.0, 1.1, 0.8], "no"),  # opposite effect
        ([5.0], [1.0], "unsure"),  # one seed: noise unknown, never "yes"
        ([0.0], [9.0], "unsure"),  # ... and never "no" either
        ([np.nan, np.nan], [1.0, 1.1], "missing"),  # one side not run
    ],
)
def test_outcomes(plus, minus, outcome) -> None:
    assert effect_interval(np.array(plus), np.array(minus)).outcome == outcome


def test_nan_seeds_fall_back_to_welch_and_pooled() -> None:
    # different seeds on each side: Welch
    iv = effect_interval(np.array([5.0, 5.1, np.nan, np.nan]), np.array([np.nan, np.nan, 1.0, 1.2]))
    assert iv.method == "welch"
    res = stats.ttest_ind([5.0, 5.1], [1.0, 1.2], equal_var=False, alternative="greater")
    assert (res.pvalue < 0.05) == (iv.lower > 0)
    # the baseline ran one seed: its noise is taken from the other side
    iv = effect_interval(np.array([5.0, 5.2, 4.9]), np.array([1.0, np.nan, np.nan]))
    assert iv.method == "pooled-one-side" and iv.outcome == "yes"
    iv = effect_interval(np.array([1.3, 0.2, 2.0]), np.array([1.0, np.nan, np.nan]))
    assert iv.outcome == "unsure"


def test_threshold_is_one_sample() -> None:
    iv = effect_interval(np.array([0.9, 0.95, 0.92]), 0.5)
    assert iv.method == "one-sample" and iv.outcome == "yes"
    assert effect_interval(np.array([0.9, 0.95, 0.92]), 0.5, sign=-1.0).outcome == "no"


def test_combine_needs_every_contrast() -> None:
    assert combine(["yes", "yes"]) == "yes"
    assert combine(["yes", "unsure"]) == "unsure"
    assert combine(["unsure", "missing"]) == "missing"
    assert combine(["yes", "no", "missing"]) == "no"


# ------------------------------------------------------------------ through the comparator
def _record(values: dict[str, list[float]]) -> xr.Dataset:
    methods = list(values)
    n = len(next(iter(values.values())))
    arr = np.array([values[m] for m in methods], dtype=float)
    return xr.Dataset({"acc": (("method", "seed"), arr), "majority": ((), 50.0)},
                      coords={"method": methods, "seed": list(range(n))})


def _claims(tmp_path: Path, checks: dict[str, dict]) -> None:
    claims = [{"id": cid, "kind": "qualitative", "statement": cid, "check": {
        "experiment": "e", "variable": "acc", "reduce": {"seed": "nanmean"}, **chk}}
        for cid, chk in checks.items()]
    (tmp_path / "claims").mkdir(exist_ok=True)
    (tmp_path / "claims" / "demo.yaml").write_text(yaml.safe_dump(claims))


BEST = {"test": "best_by_margin", "args": {"dim": "method", "target": "cbd", "margin": 0.0}}


@pytest.mark.parametrize(
    ("values", "verdict", "words"),
    [
        ({"cbd": [60.0, 62.0, 61.0], "mtm": [55.0, 56.0, 55.5]}, "reproduced", "beyond seed"),
        ({"cbd": [58.0, 53.0, 63.0], "mtm": [55.0, 56.0, 55.5]}, "inconclusive", "n = 3"),
        ({"cbd": [50.0, 51.0, 50.5], "mtm": [55.0, 56.0, 55.5]}, "not reproduced", "opposite"),
        ({"cbd": [70.0], "mtm": [55.0]}, "inconclusive", "one seed"),
        ({"cbd": [60.0, 62.0, 61.0], "mtm": [np.nan] * 3}, "not run", "not run"),
    ],
)
def test_comparator_on_synthetic_records(tmp_path, monkeypatch, values, verdict, words) -> None:
    monkeypatch.setenv("FREQBOOK_CLAIMS", str(tmp_path / "claims"))
    _claims(tmp_path, {"best": BEST})
    save_record(_record(values), paper="demo", experiment="e", profile="cpu", config={},
                seeds=[0], wall_s=0.0, root=tmp_path / "res")
    row = evaluate("demo", "cpu", root=tmp_path / "res").iloc[0]
    assert row.verdict == verdict and words in row.note


def test_deterministic_and_like_for_like_and_chance_and_require(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FREQBOOK_CLAIMS", str(tmp_path / "claims"))
    _claims(tmp_path, {
        "det": {**BEST, "deterministic": True},
        "unfair": {**BEST, "like_for_like": ["paper"]},
        "chance": {**BEST, "chance": {"variable": "majority"}},
        "levels": {**BEST, "require": {"method": ["cbd", "mtm", "simmtm"]}},
    })
    # one seed, clearly ahead: only the deterministic claim may pass
    save_record(_record({"cbd": [52.0], "mtm": [40.0]}), paper="demo", experiment="e",
                profile="cpu", config={}, seeds=[0], wall_s=0.0, root=tmp_path / "res")
    got = evaluate("demo", "cpu", root=tmp_path / "res").set_index("id")
    assert got.loc["det", "verdict"] == "reproduced"
    assert got.loc["unfair", "verdict"] == "not comparable" and got.loc["unfair", "delta"] == ""
    assert got.loc["levels", "verdict"] == "not run" and "simmtm" in got.loc["levels", "note"]
    # three seeds, ahead of mtm beyond noise but within noise of the 50 % majority rate
    save_record(_record({"cbd": [49.0, 53.0, 52.0], "mtm": [40.0, 41.0, 40.5]}), paper="demo",
                experiment="e", profile="cpu", config={}, seeds=[0], wall_s=0.0,
                root=tmp_path / "res")
    got = evaluate("demo", "cpu", root=tmp_path / "res").set_index("id")
    assert got.loc["chance", "verdict"] == "inconclusive"
    assert "majority-class rate 50" in got.loc["chance", "note"]
