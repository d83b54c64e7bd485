"""Result records: an :class:`xarray.Dataset` plus provenance, stored as netCDF.

A record is the unit every experiment produces and every "paper vs ours" table reads. It lives
at ``<results_root>/<profile>/<paper>/<experiment>.nc`` and carries, as plain netCDF attributes,
everything needed to say where its numbers came from (DESIGN.md section 5): the configuration
(JSON and hash), seeds, git revision, library versions, device, thread count, wall time and the
sha256 of the data files used.

netCDF attributes written through h5netcdf may only be strings and numbers, so dicts and lists
are JSON-encoded and booleans become ``0``/``1``; :func:`provenance_of` decodes them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from freqbook import provenance

ENGINE = "h5netcdf"

#: attributes holding JSON text, decoded by :func:`provenance_of`
JSON_ATTRS = ("config", "seeds", "data_sha256")


def results_root() -> Path:
    """Folder that holds every result record.

    Returns
    -------
    Path
        ``$FREQBOOK_RESULTS`` when set; otherwise ``<checkout>/build/results`` when running from
        a source checkout, else ``./freqbook-results`` in the working directory.
    """
    env = os.environ.get("FREQBOOK_RESULTS")
    if env:
        return Path(env).expanduser()
    root = provenance.repo_root()
    if root is not None:
        return root / "build" / "results"
    return Path.cwd() / "freqbook-results"


def record_path(paper: str, experiment: str, profile: str, root: Path | None = None) -> Path:
    """Where the record of one experiment at one profile lives.

    Parameters
    ----------
    paper, experiment, profile
        Chapter key (``siren``, ``winner``, ...), experiment name and profile name.
    root
        Results folder; :func:`results_root` when ``None``.

    Returns
    -------
    Path
        ``<root>/<profile>/<paper>/<experiment>.nc``.
    """
    base = Path(root) if root is not None else results_root()
    return base / profile / paper / f"{experiment}.nc"


def _attr_value(value: Any) -> str | int | float:
    """Turn one attribute value into something h5netcdf accepts (str, int or float)."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        return provenance.to_json(value)
    if isinstance(value, np.ndarray):
        return provenance.to_json(value.tolist())
    return str(value)


def _clean_attrs(attrs: Mapping[str, Any]) -> dict[str, str | int | float]:
    return {str(k): _attr_value(v) for k, v in attrs.items()}


def _provenance_attrs(
    *,
    paper: str,
    experiment: str,
    profile: str,
    config: Any,
    seeds: Sequence[int] | int,
    wall_s: float,
    device: Any,
    data_sha256: Mapping[str, str] | None,
) -> dict[str, str | int | float]:
    import torch

    config_json = provenance.to_json(config)
    seed_list = [int(seeds)] if isinstance(seeds, int | np.integer) else [int(s) for s in seeds]
    sha, dirty = provenance.git_state()
    attrs: dict[str, str | int | float] = {
        "paper": str(paper),
        "experiment": str(experiment),
        "profile": str(profile),
        "config": config_json,
        "config_hash": provenance.config_hash(config_json),
        "seeds": json.dumps(seed_list),
        "git_sha": str(sha),
        "git_dirty": int(dirty),
    }
    for lib, ver in provenance.versions().items():
        attrs[f"{lib}_version"] = str(ver)
    attrs.update(
        {
            "device": provenance.device_string(device),
            "torch_threads": int(torch.get_num_threads()),
            "wall_s": float(wall_s),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "data_sha256": json.dumps(dict(data_sha256 or {}), sort_keys=True),
        }
    )
    return attrs


def save_record(
    ds: xr.Dataset,
    *,
    paper: str,
    experiment: str,
    profile: str,
    config: Any,
    seeds: Sequence[int] | int,
    wall_s: float,
    device: Any = "cpu",
    data_sha256: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> Path:
    """Add provenance to ``ds`` and write it atomically as netCDF.

    The dataset is written to a temporary file in the destination folder and moved into place
    with :func:`os.replace`, so a failure while writing leaves no partial file and keeps any
    previous record untouched.

    Parameters
    ----------
    ds
        Results (curves over steps, tables over methods x datasets x seeds, ...). Not modified.
    paper, experiment, profile
        Chapter key, experiment name and profile name; they decide the path.
    config
        The experiment configuration, a dataclass or a JSON-serialisable dict.
    seeds
        Seed or seeds used.
    wall_s
        Wall-clock seconds the experiment took.
    device
        Device the numbers were computed on (``"cpu"``, ``"cuda"``, a ``torch.device``).
    data_sha256
        ``{file name: sha256}`` of the data files used.
    root
        Results folder; :func:`results_root` when ``None``.

    Returns
    -------
    Path
        The path of the written record.
    """
    out = ds.copy(deep=False)
    attrs = _clean_attrs(ds.attrs)
    attrs.update(
        _provenance_attrs(
            paper=paper,
            experiment=experiment,
            profile=profile,
            config=config,
            seeds=seeds,
            wall_s=wall_s,
            device=device,
            data_sha256=data_sha256,
        )
    )
    out.attrs = attrs
    for var in out.variables.values():
        var.attrs = _clean_attrs(var.attrs)

    path = record_path(paper, experiment, profile, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{path.name}.tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        out.to_netcdf(tmp, engine=ENGINE)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_record_file(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a record file fully into memory and close it.

    Parameters
    ----------
    path
        A netCDF file written by :func:`save_record`.

    Returns
    -------
    xarray.Dataset
        The loaded dataset (no open file handle is kept).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no result record at {p}")
    return xr.load_dataset(p, engine=ENGINE)


def load_record(paper: str, experiment: str, profile: str, root: Path | None = None) -> xr.Dataset:
    """Load the record of ``paper/experiment`` at ``profile``.

    Raises
    ------
    FileNotFoundError
        One line naming the missing path and the notebook folder that produces it.
    """
    path = record_path(paper, experiment, profile, root)
    if not path.is_file():
        raise FileNotFoundError(
            f"no result record at {path}: run the '{experiment}' experiment of "
            f"notebooks/{paper}/ with profile='{profile}' first"
        )
    return load_record_file(path)


def provenance_of(ds: xr.Dataset) -> dict[str, Any]:
    """The provenance attributes of a record, with JSON attributes decoded.

    Parameters
    ----------
    ds
        A dataset returned by :func:`load_record` (or one just passed to :func:`save_record`).

    Returns
    -------
    dict
        All dataset attributes; ``config``, ``seeds`` and ``data_sha256`` decoded from JSON and
        ``git_dirty`` as a ``bool``.
    """
    out: dict[str, Any] = dict(ds.attrs)
    for key in JSON_ATTRS:
        if isinstance(out.get(key), str) and out[key]:
            try:
                out[key] = json.loads(out[key])
            except json.JSONDecodeError as err:
                raise ValueError(f"record attribute {key!r} is not valid JSON: {err}") from err
    if "git_dirty" in out:
        out["git_dirty"] = bool(int(out["git_dirty"]))
    return out


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (for a record's ``data_sha256``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def array_sha256(array: Any) -> str:
    """sha256 of an in-memory array's bytes (data that ships inside a package or is generated)."""
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def run_and_record(
    run: Callable[..., xr.Dataset],
    cfg: Any,
    *,
    paper: str,
    experiment: str,
    profile: str,
    progress: bool | None = None,
    data_sha256: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
    threads: bool = False,
    root: Path | None = None,
) -> tuple[xr.Dataset, Path]:
    """Time ``run(cfg, progress=..., device=...)`` and save its record ``<paper>/<experiment>``.

    The one place every experiment goes through to turn a result into a record: it picks the
    device (:func:`freqbook.train.default_device`), optionally sets torch's thread count
    (:func:`freqbook.train.set_threads`), measures the wall time of ``run`` alone, and writes the
    record atomically with :func:`save_record` (seeds taken from ``cfg.seeds`` or ``cfg.seed``).

    Parameters
    ----------
    run
        The experiment's ``run(cfg, *, progress, device)``; a ``run`` that takes no ``device``
        keyword is called without it.
    cfg
        Its config (a frozen dataclass).
    paper, experiment, profile
        Where the record goes: ``<results>/<profile>/<paper>/<experiment>.nc``.
    progress
        Passed on to ``run`` (``None``: the training loops decide).
    data_sha256
        ``{name: sha256}`` of the data used, or a function returning it (called after ``run``,
        so a missing file fails in ``run`` with its own message first).
    threads
        Call :func:`freqbook.train.set_threads` first (``FREQBOOK_THREADS`` or all cores).
    root
        Results folder (default :func:`results_root`).

    Returns
    -------
    (xarray.Dataset, pathlib.Path)
        The result and the path of the record.
    """
    import inspect

    from freqbook.train import default_device, set_threads

    if threads:
        set_threads()
    device = default_device()
    kwargs: dict[str, Any] = {"progress": progress}
    if "device" in inspect.signature(run).parameters:
        kwargs["device"] = device
    tic = time.perf_counter()
    ds = run(cfg, **kwargs)
    wall = time.perf_counter() - tic
    if callable(data_sha256):
        data_sha256 = data_sha256()
    seeds = getattr(cfg, "seeds", None)
    if seeds is None:
        seeds = [getattr(cfg, "seed", 0)]
    path = save_record(ds, paper=paper, experiment=experiment, profile=profile, config=cfg,
                       seeds=list(seeds), wall_s=wall, device=str(device),
                       data_sha256=data_sha256, root=root)
    return ds, path


def record_label(path: str | os.PathLike[str]) -> str:
    """A record's path as pages print it: ``<profile>/<chapter>/<experiment>.nc``.

    Pages never print the build machine's absolute paths; the last three parts name the record
    uniquely inside any results folder.
    """
    return "/".join(Path(path).parts[-3:])
