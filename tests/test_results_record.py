"""Result records: netCDF round-trip, provenance attributes, atomic writes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from freqbook import provenance
from freqbook.results import (
    load_record,
    load_record_file,
    provenance_of,
    record_path,
    results_root,
    save_record,
)

METHODS = ["siren", "relu_pe", "tanh"]
REQUIRED_ATTRS = {
    "paper": str,
    "experiment": str,
    "profile": str,
    "config": str,
    "config_hash": str,
    "seeds": str,
    "git_sha": str,
    "git_dirty": int,
    "python_version": str,
    "torch_version": str,
    "numpy_version": str,
    "freqbook_version": str,
    "device": str,
    "torch_threads": int,
    "wall_s": float,
    "created": str,
    "data_sha256": str,
}


@dataclasses.dataclass(frozen=True)
class TinyConfig:
    hidden: int = 16
    lr: float = 1e-4
    methods: tuple[str, ...] = tuple(METHODS)


def make_ds(offset: float = 0.0) -> xr.Dataset:
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {
            "final_psnr": (("method", "seed"), rng.normal(30, 1, (3, 2)) + offset),
            "curve": (("method", "step"), rng.random((3, 5))),
        },
        coords={"method": METHODS, "seed": [0, 1], "step": np.arange(5) * 10},
        attrs={"flag": True, "extra": {"a": 1}, "nothing": None},
    )


def save(ds: xr.Dataset, root: Path, **kw) -> Path:
    args = dict(
        paper="siren",
        experiment="image_fit",
        profile="smoke",
        config=TinyConfig(),
        seeds=[0, 1],
        wall_s=1.25,
        data_sha256={"camera.png": "ab" * 32},
        root=root,
    )
    args.update(kw)
    return save_record(ds, **args)


def test_record_path_layout(tmp_path: Path) -> None:
    assert record_path("siren", "image_fit", "cpu", tmp_path) == tmp_path / "cpu/siren/image_fit.nc"


def test_results_root_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_RESULTS", str(tmp_path / "res"))
    assert results_root() == tmp_path / "res"
    assert record_path("a", "b", "smoke") == tmp_path / "res/smoke/a/b.nc"
    monkeypatch.delenv("FREQBOOK_RESULTS")
    root = provenance.repo_root()
    expected = root / "build" / "results" if root else Path.cwd() / "freqbook-results"
    assert results_root() == expected


def test_round_trip_values_and_string_coords(tmp_path: Path) -> None:
    ds = make_ds()
    path = save(ds, tmp_path)
    assert path == tmp_path / "smoke" / "siren" / "image_fit.nc"
    back = load_record("siren", "image_fit", "smoke", root=tmp_path)
    assert [str(m) for m in back["method"].values] == METHODS
    assert back["method"].dtype.kind in "UO"
    np.testing.assert_array_equal(back["step"].values, ds["step"].values)
    np.testing.assert_allclose(back["final_psnr"].values, ds["final_psnr"].values)
    np.testing.assert_allclose(back["curve"].values, ds["curve"].values)
    assert float(back["final_psnr"].sel({"method": "relu_pe", "seed": 1})) == pytest.approx(
        float(ds["final_psnr"].sel({"method": "relu_pe", "seed": 1}))
    )
    # the input dataset is not modified
    assert ds.attrs["flag"] is True and "git_sha" not in ds.attrs


def test_attrs_present_and_plain_types(tmp_path: Path) -> None:
    save(make_ds(), tmp_path)
    back = load_record_file(tmp_path / "smoke" / "siren" / "image_fit.nc")
    for key, kind in REQUIRED_ATTRS.items():
        assert key in back.attrs, key
        value = back.attrs[key]
        assert not isinstance(value, bool | np.bool_ | dict | list), key
        if kind is str:
            assert isinstance(value, str), key
        elif kind is int:
            assert isinstance(value, int | np.integer), key
        else:
            assert isinstance(value, float | np.floating), key
    assert back.attrs["paper"] == "siren" and back.attrs["profile"] == "smoke"
    assert back.attrs["flag"] == 1  # a user boolean became an int
    assert json.loads(back.attrs["extra"]) == {"a": 1}
    assert back.attrs["config_hash"] == provenance.config_hash(back.attrs["config"])
    assert float(back.attrs["wall_s"]) == pytest.approx(1.25)
    assert back.attrs["device"].startswith("cpu")


def test_provenance_of_decodes_json(tmp_path: Path) -> None:
    save(make_ds(), tmp_path, seeds=7)
    prov = provenance_of(load_record("siren", "image_fit", "smoke", root=tmp_path))
    assert prov["config"] == {"hidden": 16, "lr": 1e-4, "methods": METHODS}
    assert prov["seeds"] == [7]
    assert prov["data_sha256"] == {"camera.png": "ab" * 32}
    assert isinstance(prov["git_dirty"], bool)


def test_missing_record_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_record("siren", "nothing_here", "cpu", root=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "cpu" / "siren" / "nothing_here.nc") in message
    assert "notebooks/siren" in message


def _failing_writer(self: xr.Dataset, path: object = None, *args: object, **kwargs: object) -> None:
    Path(str(path)).write_bytes(b"half a netCDF file")
    raise RuntimeError("disk full (simulated)")


def test_atomic_write_keeps_old_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(make_ds(offset=0.0), tmp_path)
    before = load_record_file(path)["final_psnr"].values.copy()
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _failing_writer)
    with pytest.raises(RuntimeError, match="simulated"):
        save(make_ds(offset=100.0), tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == ["image_fit.nc"]
    np.testing.assert_array_equal(load_record_file(path)["final_psnr"].values, before)


def test_atomic_write_first_time_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xr.Dataset, "to_netcdf", _failing_writer)
    with pytest.raises(RuntimeError):
        save(make_ds(), tmp_path)
    folder = tmp_path / "smoke" / "siren"
    assert list(folder.iterdir()) == []


def test_overwrite_replaces_record(tmp_path: Path) -> None:
    path = save(make_ds(offset=0.0), tmp_path)
    save(make_ds(offset=5.0), tmp_path)
    again = load_record_file(path)
    expected = make_ds(offset=5.0)["final_psnr"].values
    np.testing.assert_allclose(again["final_psnr"].values, expected)
    assert sorted(p.name for p in path.parent.iterdir()) == ["image_fit.nc"]
