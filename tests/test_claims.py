"""Claims comparator: verdicts, check functions, validation, rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from freqbook import provenance
from freqbook.results import (
    CHECKS,
    VERDICTS,
    claims_table,
    evaluate,
    load_claims,
    load_claims_file,
    save_record,
    verdict_counts,
)

METHODS = ["siren", "relu_pe", "tanh"]
# per-seed PSNR; seed means: siren 32.2, relu_pe 26.1, tanh 24.2
PSNR = [[32.0, 32.4], [26.0, 26.2], [24.0, 24.4]]
MSE = [0.010, 0.020, 0.030]


def _q(cid: str, value: float | None, prov: str | None, check: dict | None, **kw) -> dict:
    claim = {
        "id": cid,
        "paper": "2006.09661",
        "where": "Table 1",
        "kind": "quantitative",
        "metric": "PSNR_dB",
        "dataset": "cameraman",
        "method": "SIREN",
        "value": value,
        "direction": "higher_better",
        "provenance": prov,
        "confidence": "read" if prov not in (None, "missing", "recalled") else None,
    }
    if check is not None:
        claim["check"] = {**check, "like_for_like": ["smoke", "paper"]}
    claim.update(kw)
    return claim


def _qual(cid: str, check: dict | None, statement: str = "SIREN fits best") -> dict:
    claim = {"id": cid, "where": "Sec. 4", "kind": "qualitative", "statement": statement}
    if check is not None:
        claim["check"] = check
    return claim


def _psnr(test: str = "value", **args) -> dict:
    if test == "value" and not args:
        args = {"sel": {"method": "siren"}}
    return {
        "experiment": "image_fit",
        "variable": "final_psnr",
        "reduce": {"seed": "mean"},
        "test": test,
        "args": args,
    }


def _mse(method: str) -> dict:
    return {
        "experiment": "image_fit",
        "variable": "mse",
        "test": "value",
        "args": {"sel": {"method": method}},
    }


CLAIMS = [
    _q("q-repro", 32.91, "paper", _psnr()),
    _q("q-better", 20.0, "paper", _psnr(sel={"method": "relu_pe"})),
    _q("q-worse", 30.0, "paper-transcription", _psnr(sel={"method": "tanh"})),
    _q("q-recalled", 32.5, "recalled", _psnr()),
    _q("q-missing", None, "missing", _psnr()),
    _q("q-third", 35.0, "third-party-summary", _psnr()),
    _q(
        "q-third-test",
        35.0,
        "third-party-summary",
        _psnr("greater_than", threshold=30.0, sel={"method": "siren"}),
    ),
    _q("q-tol", 34.0, "author-repo", _psnr(), tolerance=2.0),
    _q("mse-better", 0.02, "paper", _mse("siren"), metric="MSE", direction="lower_better"),
    _q("mse-worse", 0.005, "paper", _mse("siren"), metric="MSE", direction="lower_better"),
    _qual("best", _psnr("best_by_margin", dim="method", target="siren", margin=3.0)),
    _qual("best-too-small", _psnr("best_by_margin", dim="method", target="siren", margin=10.0)),
    _qual("order", _psnr("ordering", dim="method", order=["siren", "relu_pe", "tanh"])),
    _qual("order-wrong", _psnr("ordering", dim="method", order=["tanh", "siren", "relu_pe"])),
    _qual("all-above", _psnr("all_greater_than", dim="method", threshold=20.0)),
    _qual("all-above-fail", _psnr("all_greater_than", dim="method", threshold=25.0)),
    _qual("qual-number", _psnr()),
    _qual("no-check", None),
    _qual("gpu-only", {**_psnr(), "profiles": ["paper"]}),
    _qual("no-record", {**_psnr(), "experiment": "audio_fit"}),
    {**_q("q-unlike", 32.91, "paper", None), "check": _psnr()},
    _q("q-baseline", 20.0, "paper", _psnr(sel={"method": "relu_pe"}), role="baseline"),
]

EXPECTED = {
    "q-repro": "reproduced",
    "q-better": "reproduced-better",
    "q-worse": "not reproduced",
    "q-recalled": "reproduced",
    "q-missing": "qualitative-only",
    "q-third": "qualitative-only",
    "q-third-test": "reproduced",
    "q-tol": "reproduced",
    "mse-better": "reproduced-better",
    "mse-worse": "not reproduced",
    "best": "reproduced",
    "best-too-small": "not reproduced",
    "order": "reproduced",
    "order-wrong": "not reproduced",
    "all-above": "reproduced",
    "all-above-fail": "inconclusive",
    "qual-number": "qualitative-only",
    "no-check": "no check",
    "gpu-only": "not run",
    "no-record": "not run",
    "q-unlike": "not comparable",
    "q-baseline": "not reproduced",
}


def image_fit(psnr: list[list[float]] = PSNR) -> xr.Dataset:
    return xr.Dataset(
        {
            "final_psnr": (("method", "seed"), np.asarray(psnr, dtype=float)),
            "mse": (("method",), np.asarray(MSE)),
        },
        coords={"method": METHODS, "seed": [0, 1]},
    )


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A claims dir with ``toy.yaml`` and a results root with ``smoke/toy/image_fit.nc``."""
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "toy.yaml").write_text(yaml.safe_dump(CLAIMS, sort_keys=False))
    monkeypatch.setenv("FREQBOOK_CLAIMS", str(claims))
    root = tmp_path / "results"
    save_record(
        image_fit(), paper="toy", experiment="image_fit", profile="smoke",
        config={"steps": 3}, seeds=[0, 1], wall_s=0.1, root=root,
    )  # fmt: skip
    return root


def test_each_verdict_reachable(book: Path) -> None:
    df = evaluate("toy", "smoke", root=book)
    assert list(df.columns) == ["id", "where", "claim", "paper", "ours", "delta", "verdict", "note"]
    assert dict(zip(df["id"], df["verdict"], strict=True)) == EXPECTED
    counts = verdict_counts(df)
    assert list(counts) == list(VERDICTS)
    assert all(counts[v] > 0 for v in VERDICTS)
    assert sum(counts.values()) == len(CLAIMS)


def test_rows_text_and_delta(book: Path) -> None:
    df = evaluate("toy", "smoke", root=book).set_index("id")
    assert df.loc["q-repro", "delta"] == pytest.approx(32.2 - 32.91)
    assert df.loc["q-repro", "paper"] == "32.91 dB"
    assert "32.20 dB" in df.loc["q-repro", "ours"]
    assert df.loc["q-better", "delta"] == pytest.approx(26.1 - 20.0)
    assert df.loc["q-missing", "paper"] == "paper value not available"
    assert df.loc["q-missing", "delta"] == ""
    assert df.loc["q-third", "paper"] == "≈35 dB (third-party summary)"
    assert df.loc["q-third", "delta"] == ""
    assert "recalled, unconfirmed" in df.loc["q-recalled", "note"]
    assert "(recalled)" in df.loc["q-recalled", "paper"]
    assert df.loc["q-repro", "claim"] == "PSNR_dB SIREN cameraman"
    assert df.loc["best", "claim"] == "SIREN fits best"
    assert "siren" in df.loc["best", "ours"] and "relu_pe" in df.loc["best", "ours"]
    assert "no record smoke/toy/audio_fit.nc" in df.loc["no-record", "note"]
    assert "profile 'smoke'" in df.loc["gpu-only", "note"]


def test_delta_sign_lower_better(book: Path) -> None:
    df = evaluate("toy", "smoke", root=book).set_index("id")
    # ours 0.010 vs paper 0.02: lower error is better, delta is negative
    assert df.loc["mse-better", "delta"] == pytest.approx(-0.01)
    assert df.loc["mse-better", "verdict"] == "reproduced-better"
    # ours 0.010 vs paper 0.005: worse, delta positive
    assert df.loc["mse-worse", "delta"] == pytest.approx(0.005)
    assert df.loc["mse-worse", "verdict"] == "not reproduced"


def test_profile_filter_runs_where_listed(book: Path) -> None:
    save_record(
        image_fit(), paper="toy", experiment="image_fit", profile="paper",
        config={}, seeds=0, wall_s=0.0, root=book,
    )  # fmt: skip
    df = evaluate("toy", "paper", root=book, ids=["gpu-only", "q-repro"])
    assert list(df["id"]) == ["gpu-only", "q-repro"]
    assert list(df["verdict"]) == ["qualitative-only", "reproduced"]
    with pytest.raises(KeyError, match="nope"):
        evaluate("toy", "paper", root=book, ids=["nope"])


def test_nan_is_not_reproduced(tmp_path: Path, book: Path) -> None:
    save_record(
        image_fit([[32.0, float("nan")], [26.0, 26.2], [24.0, 24.4]]), paper="toy",
        experiment="image_fit", profile="smoke", config={}, seeds=[0, 1], wall_s=0.0, root=book,
    )  # fmt: skip
    df = evaluate("toy", "smoke", root=book).set_index("id")
    assert df.loc["q-repro", "verdict"] == "not reproduced"
    assert df.loc["best", "verdict"] == "not reproduced"
    assert "NaN" in df.loc["best", "note"]
    assert df.loc["order", "verdict"] == "not reproduced"


def psnr_da() -> xr.DataArray:
    return image_fit()["final_psnr"].mean("seed")


def test_best_by_margin_check() -> None:
    ok = CHECKS["best_by_margin"](psnr_da(), unit="dB", dim="method", target="siren", margin=3.0)
    assert ok.passed is True
    assert ok.ours == pytest.approx(32.2)
    assert ok.detail["margin"] == pytest.approx(6.1)
    assert ok.detail["runner_up"] == "relu_pe"
    assert ok.ours_text.startswith("siren 32.20 dB, +6.10 dB")
    small = CHECKS["best_by_margin"](psnr_da(), dim="method", target="siren", margin=6.2)
    assert small.passed is False
    loser = CHECKS["best_by_margin"](psnr_da(), dim="method", target="tanh")
    assert loser.passed is False and loser.detail["margin"] < 0
    low = CHECKS["best_by_margin"](psnr_da(), dim="method", target="tanh", higher_better=False)
    assert low.passed is True and low.detail["margin"] == pytest.approx(1.9)
    with pytest.raises(ValueError, match="seed"):
        CHECKS["best_by_margin"](image_fit()["final_psnr"], dim="method", target="siren")


def test_ordering_check() -> None:
    da = psnr_da()
    assert CHECKS["ordering"](da, dim="method", order=["siren", "relu_pe", "tanh"]).passed
    assert not CHECKS["ordering"](da, dim="method", order=["siren", "tanh", "relu_pe"]).passed
    up = CHECKS["ordering"](da, dim="method", order=["tanh", "relu_pe", "siren"], descending=False)
    assert up.passed is True
    gap = CHECKS["ordering"](da, dim="method", order=["siren", "relu_pe", "tanh"], margin=2.0)
    assert gap.passed is False  # relu_pe - tanh = 1.9
    with pytest.raises(ValueError, match="finer"):
        CHECKS["ordering"](da, dim="method", order=["siren", "finer"])


def test_scalar_checks() -> None:
    da = psnr_da().sel({"method": "siren"})
    assert CHECKS["greater_than"](da, threshold=30).passed is True
    assert CHECKS["greater_than"](da, threshold=33).passed is False
    assert CHECKS["less_than"](da, threshold=33).passed is True
    assert CHECKS["value"](psnr_da(), sel={"method": "tanh"}).ours == pytest.approx(24.2)
    with pytest.raises(ValueError, match="single number"):
        CHECKS["value"](psnr_da())
    res = CHECKS["all_greater_than"](psnr_da(), dim="method", threshold=25.0)
    assert res.passed is False and res.ours == pytest.approx(24.2) and "tanh" in res.ours_text


def _write(tmp_path: Path, claims: list[dict]) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(claims, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("claims", "bad_id", "words"),
    [
        ([_qual("ok", None), _qual("t-1", _psnr("best_of_all"))], "t-1", "unknown check test"),
        ([_qual("dup", None), _qual("dup", None)], "dup", "duplicate"),
        ([{**_qual("k-1", None), "kind": "vibes"}], "k-1", "kind"),
        ([_qual("a-1", _psnr("best_by_margin", dim="method"))], "a-1", "target"),
        ([_qual("r-1", {**_psnr(), "reduce": {"seed": "average"}})], "r-1", "reduce"),
        ([{**_qual("f-1", None), "tolerence": 1.0}], "f-1", "tolerence"),
        ([_q("v-1", "thirty", "paper", None)], "v-1", "number"),
        ([_q("p-1", 30.0, "blog", None)], "p-1", "provenance"),
    ],
)
def test_bad_claims_file(tmp_path: Path, claims: list[dict], bad_id: str, words: str) -> None:
    path = _write(tmp_path, claims)
    with pytest.raises(ValueError) as info:
        load_claims_file(path)
    message = str(info.value)
    assert bad_id in message and words in message and str(path) in message
    assert "\n" not in message


def test_check_error_names_claim(book: Path, tmp_path: Path) -> None:
    claims = load_claims_file(_write(tmp_path, [_qual("v-x", {**_psnr(), "variable": "psnr"})]))
    with pytest.raises(ValueError, match="v-x.*'psnr'"):
        evaluate("toy", "smoke", root=book, claims=claims)


def test_tolerance_defaults(book: Path) -> None:
    by_id = {c.id: c for c in load_claims("toy")}
    assert by_id["q-repro"].effective_tolerance == 1.0
    assert by_id["mse-better"].effective_tolerance == pytest.approx(0.001)
    assert by_id["q-tol"].effective_tolerance == 2.0


def test_claims_table_rendering(book: Path) -> None:
    table = claims_table("toy", "smoke", root=book)
    html = table._repr_html_()
    assert html.count("<tr>") == len(CLAIMS) + 1
    assert "#c8e6c9" in html and "#ffcdd2" in html and "#e0e0e0" in html and "#ffe0b2" in html
    assert "#fff9c4" in html and "#e1f5fe" in html  # inconclusive, not comparable
    assert "reproduced-better" in html and "≈35 dB" in html
    md = table.to_markdown().splitlines()
    rows = [line for line in md if line.startswith("| ")]
    assert len(rows) == len(CLAIMS) + 1
    assert md[0] == "| claim | paper | ours | Δ | verdict |"
    assert all(line.count(" | ") == 4 for line in rows)
    notes = [line for line in md if line[:1].isdigit()]
    assert notes and all(f"[{n.split('.')[0]}]" in table.to_markdown() for n in notes)
    assert "20 reproduced" not in table.summary() and "toy @ smoke" in table.summary()


def test_markdown_and_html_escape(book: Path, tmp_path: Path, monkeypatch) -> None:
    weird = _qual("w-1", None, statement="a | b <script>")
    (tmp_path / "claims" / "weird.yaml").write_text(yaml.safe_dump([weird]))
    table = claims_table("weird", "smoke", root=book)
    assert "a \\| b" in table.to_markdown()
    assert "<script>" not in table._repr_html_() and "&lt;script&gt;" in table._repr_html_()


def _repo_claim_files() -> list[Path]:
    root = provenance.repo_root()
    folder = root / "data" / "claims" if root else None
    return sorted(folder.glob("*.yaml")) if folder and folder.is_dir() else []


@pytest.mark.parametrize(
    "path", _repo_claim_files() or [None], ids=lambda p: p.stem if p else "none"
)
def test_repository_claims_files_validate(path: Path | None) -> None:
    if path is None:
        pytest.skip("no data/claims/*.yaml in this checkout yet")
    claims = load_claims_file(path)
    assert len({c.id for c in claims}) == len(claims)


def test_chapter_claims_may_be_split_into_per_experiment_files(tmp_path, monkeypatch):
    from freqbook.results.claims import load_claims

    monkeypatch.setenv("FREQBOOK_CLAIMS", str(tmp_path))
    one = "- id: {id}\n  kind: qualitative\n  statement: s\n"
    (tmp_path / "demo.yaml").write_text(one.format(id="A"))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "02-b.yaml").write_text(one.format(id="C"))
    (tmp_path / "demo" / "01-a.yaml").write_text(one.format(id="B"))
    assert [c.id for c in load_claims("demo")] == ["A", "B", "C"]
    (tmp_path / "demo" / "03-dup.yaml").write_text(one.format(id="A"))
    with pytest.raises(ValueError, match=r"03-dup.yaml: claim A: duplicate id \(also in demo"):
        load_claims("demo")


def test_a_claim_marked_not_comparable_is_shown_but_never_judged(tmp_path, monkeypatch):
    import xarray as xr

    from freqbook.results import evaluate, save_record

    monkeypatch.setenv("FREQBOOK_CLAIMS", str(tmp_path / "claims"))
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "demo.yaml").write_text(
        "- id: X\n  kind: quantitative\n  metric: MSE\n  value: 0.01\n  direction: lower_better\n"
        "  provenance: paper\n  comparable: false\n"
        "  check: {experiment: e, variable: v, test: value}\n"
    )
    save_record(xr.Dataset({"v": 0.5}), paper="demo", experiment="e", profile="smoke",
                config={}, seeds=[0], wall_s=0.0, root=tmp_path / "res")
    row = evaluate("demo", "smoke", root=tmp_path / "res").iloc[0]
    assert row.verdict == "not comparable"
    assert row.delta == "" and "another dataset" in row.note  # never a delta when not judged
