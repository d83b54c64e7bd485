"""The CBD pages' readings are built from the record: numbers and comparisons follow the data."""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.cbd import report

NAMES = ["FingerMovements", "ArticularyWordRecognition"]


def _table1(lp_cbd_awr: list[float], minirocket_awr: float) -> xr.Dataset:
    """A Table 1 record of 2 datasets x 2 methods x 3 seeds with chosen accuracies."""
    lp = np.array([[[55.0, 56.0, 57.0], [60.0, 50.0, 58.0]],       # FM: mtm, cbd (noisy gain)
                   [[90.0, 90.5, 91.0], lp_cbd_awr]])              # AWR: mtm, cbd
    ft = lp - 1.0
    dms = ("dataset", "method", "seed")
    return xr.Dataset(
        {"lp_acc": (dms, lp), "ft_acc": (dms, ft),
         "random_lp_acc": (("dataset", "seed"), np.array([[58.0] * 3, [80.0] * 3])),
         "minirocket_acc": (("dataset", "seed"), np.array([[52.0] * 3, [minirocket_awr] * 3])),
         "chance": (("dataset",), np.array([54.0, 4.0]))},
        coords={"dataset": NAMES, "method": ["mtm", "cbd"], "seed": [0, 1, 2]})


def test_gain_beyond_spread():
    assert report.gain_beyond_spread(np.array([1.0, 1.2, 0.9]))
    assert not report.gain_beyond_spread(np.array([5.0, -6.0, 3.0]))
    assert not report.gain_beyond_spread(np.array([-1.0, -1.1, -0.9]))
    assert not report.gain_beyond_spread(np.array([2.0]))  # one seed: no spread to compare with


def test_table1_reading_follows_the_record():
    clear = report.table1_reading(_table1([93.0, 93.5, 94.0], 99.0))
    assert "vanilla MTM 56.00 ± 1.00 / 90.50 ± 0.50 %" in clear
    assert "larger than its seed spread on 1 of 2 datasets (AWR)" in clear
    assert "above vanilla MTM on FM." in clear  # untrained 58 > MTM 56 on FM only
    assert "self-supervised mean of this build (LP and FT, both methods) on AWR" in clear
    assert "above the paper's CBD linear probe on AWR" in clear  # 99.0 > 98.52 (claims file)
    assert "FM (" in clear and "majority class" in clear  # FT FM within 2 points of chance

    noisy = report.table1_reading(_table1([85.0, 97.0, 90.0], 95.0))
    assert "larger than its seed spread on 0 of 2 datasets." in noisy
    assert "above the paper's CBD linear probe on none of them" in noisy


def test_ablation_reading_follows_the_record():
    variants = ["mtm", "no_ser", "no_cim", "cbd"]
    lp = np.array([[85.0, 91.0], [86.0, 87.0], [88.0, 89.0], [89.0, 90.0]])
    ds = xr.Dataset({"lp_acc": (("variant", "seed"), lp),
                     "k_lp_acc": (("order", "seed"), np.array([[86.0, 87.0], [90.0, 91.0]]))},
                    coords={"variant": variants, "seed": [0, 1], "order": [1, 12]})
    text = report.ablation_reading(ds)
    assert "number 1 of 4 Table 2 rows by mean (89.50 %)" in text
    assert "differ by up to 6.00 points" in text
    assert "K = 12 has the best mean (the paper's best order)" in text
    assert "removing SER costs more than removing CIM (the paper's ordering)" in text
    assert "within the widest seed spread" in text  # 89.5 - 86.5 = 3 <= 6
