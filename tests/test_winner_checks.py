"""The ``best_everywhere`` check added for the WINNER claims."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from freqbook.results.checks import CHECKS


def _da(values):
    return xr.DataArray(np.array(values, dtype=float), dims=("clip", "method"),
                        coords={"clip": ["a", "b"], "method": ["siren", "winner"]})


def test_best_everywhere_passes_and_fails():
    check = CHECKS["best_everywhere"]
    ok = check(_da([[10, 20], [30, 40]]), dim="method", target="winner", over="clip")
    assert ok.passed and ok.ours == 2.0
    bad = check(_da([[10, 20], [50, 40]]), dim="method", target="winner", over="clip")
    assert bad.passed is False and bad.detail["losses"] == {"b": "siren"}
    nan = check(_da([[10, np.nan], [30, 40]]), dim="method", target="winner", over="clip")
    assert nan.passed is False
    low = check(_da([[10, 20], [50, 40]]), dim="method", target="winner", over="clip",
                higher_better=False)
    assert low.passed is False and low.detail["losses"] == {"a": "siren"}
    with pytest.raises(ValueError, match="depend on"):
        check(_da([[1, 2], [3, 4]]).isel(clip=0), dim="method", target="winner", over="clip")
