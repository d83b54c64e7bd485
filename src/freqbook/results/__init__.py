"""Result records (xarray <-> netCDF with provenance) and the paper-claims comparator.

Typical use in a notebook::

    from freqbook.results import save_record, load_record, claims_table

    path = save_record(ds, paper="siren", experiment="image_fit", profile=profile,
                       config=cfg, seeds=cfg.seeds, wall_s=elapsed)
    claims_table("siren", profile)          # HTML table of verdicts in Jupyter
"""

from freqbook.results.checks import CHECKS, CheckResult, register
from freqbook.results.claims import (
    VERDICTS,
    Check,
    Claim,
    claims_dir,
    evaluate,
    load_claims,
    load_claims_file,
    run_check,
    verdict_counts,
)
from freqbook.results.record import (
    load_record,
    load_record_file,
    provenance_of,
    record_label,
    record_path,
    results_root,
    run_and_record,
    save_record,
)
from freqbook.results.tables import ClaimsTable, claims_table

__all__ = [
    "CHECKS",
    "VERDICTS",
    "Check",
    "CheckResult",
    "Claim",
    "ClaimsTable",
    "claims_dir",
    "claims_table",
    "evaluate",
    "load_claims",
    "load_claims_file",
    "load_record",
    "load_record_file",
    "provenance_of",
    "record_label",
    "record_path",
    "register",
    "results_root",
    "run_and_record",
    "run_check",
    "save_record",
    "verdict_counts",
]
