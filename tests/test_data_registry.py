"""Tests of the data registry: resolution order, checksums, downloads and error messages."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from freqbook.data import REGISTRY, DataError, fetch, registered
from freqbook.data import registry as reg

# Captured before the autouse fixture below clears it for every test.
MIRROR = os.environ.get("FREQBOOK_DATA") or None
needs_mirror = pytest.mark.skipif(
    MIRROR is None, reason="FREQBOOK_DATA is not set (CI points it at ../shared/data)"
)
TEST_NAME = "test/hello.bin"
PAYLOAD = b"freqbook registry test payload\n" * 100


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FREQBOOK_DATA", raising=False)
    monkeypatch.delenv("FREQBOOK_OFFLINE", raising=False)
    monkeypatch.setenv("FREQBOOK_CACHE", str(tmp_path / "cache"))


def _register(monkeypatch: pytest.MonkeyPatch, url: str, payload: bytes = PAYLOAD,
              sha256: str | None = None) -> reg.Entry:
    entry = reg.Entry(url, sha256 or hashlib.sha256(payload).hexdigest(), "test entry",
                      len(payload))
    monkeypatch.setitem(REGISTRY, TEST_NAME, entry)
    return entry


def _put(root: Path, payload: bytes = PAYLOAD, name: str = TEST_NAME) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def _upstream(tmp_path: Path, payload: bytes = PAYLOAD) -> str:
    source = tmp_path / "upstream" / "hello.bin"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(payload)
    return source.as_uri()


def test_registered_lists_names_with_prefix() -> None:
    assert "inr/siren/gt_bach.wav" in registered("inr/")
    assert "ucr/ECG5000/ECG5000_TRAIN.tsv" in registered("ucr/ECG5000/")
    assert registered("inr/") == sorted(registered("inr/"))
    assert not registered("no-such-prefix/")
    assert all(n.startswith("mads/") for n in registered("mads/"))


def test_entries_are_well_formed() -> None:
    assert len(REGISTRY) == 30
    for name, entry in REGISTRY.items():
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), name
        assert entry.url.startswith("https://"), name
        assert entry.note, name
        assert entry.direct or entry.how_to_get, f"{name}: indirect entry without how_to_get"
        if "raw.githubusercontent.com" in entry.url:  # pinned to a commit, not a branch
            assert re.search(r"/[0-9a-f]{40}/", entry.url), name


def test_finds_file_in_freqbook_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "file:///nonexistent/never-downloaded")
    expected = _put(tmp_path / "mirror")
    _put(tmp_path / "cache")  # present too, but the mirror comes first
    monkeypatch.setenv("FREQBOOK_DATA", str(tmp_path / "mirror"))
    assert fetch(TEST_NAME) == expected


def test_falls_back_to_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "file:///nonexistent/never-downloaded")
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("FREQBOOK_DATA", str(tmp_path / "mirror"))
    cached = _put(tmp_path / "cache")
    assert fetch(TEST_NAME) == cached


def test_cache_beats_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, _upstream(tmp_path))
    cached = _put(tmp_path / "cache")

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetch downloaded although the cache holds the file")

    monkeypatch.setattr(reg, "_download", no_download)
    assert fetch(TEST_NAME) == cached


def test_missing_offline_error_is_one_helpful_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FREQBOOK_OFFLINE", "1")
    monkeypatch.setenv("FREQBOOK_DATA", str(tmp_path / "mirror"))
    name = "inr/siren/gt_bach.wav"
    with pytest.raises(DataError) as info:
        fetch(name)
    message = str(info.value)
    assert "\n" not in message
    assert name in message and REGISTRY[name].url in message and "FREQBOOK_DATA" in message
    assert str(tmp_path / "mirror" / name) in message  # where it looked
    assert str(tmp_path / "cache" / name) in message
    assert not (tmp_path / "cache").exists()  # offline: nothing attempted


def test_indirect_entry_explains_how_to_get(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "ucr/ECG5000/ECG5000_TRAIN.tsv"
    with pytest.raises(DataError) as info:
        fetch(name)  # not offline, yet an archive member is never downloaded
    message = str(info.value)
    assert "\n" not in message and name in message and "FREQBOOK_DATA" in message
    assert REGISTRY[name].how_to_get in message and REGISTRY[name].url in message


def test_corrupt_file_reports_both_checksums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _register(monkeypatch, "file:///nonexistent")
    corrupt = bytearray(PAYLOAD)
    corrupt[10] ^= 0xFF
    _put(tmp_path / "mirror", bytes(corrupt))
    monkeypatch.setenv("FREQBOOK_DATA", str(tmp_path / "mirror"))
    with pytest.raises(DataError) as info:
        fetch(TEST_NAME)
    message = str(info.value)
    assert entry.sha256 in message and hashlib.sha256(corrupt).hexdigest() in message
    assert "\n" not in message and TEST_NAME in message


@needs_mirror
def test_corrupt_copy_of_registered_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "inr/winner/images/castle_512.jpg"
    data = bytearray((Path(MIRROR) / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    _put(tmp_path / "mirror", bytes(data), name)
    monkeypatch.setenv("FREQBOOK_DATA", str(tmp_path / "mirror"))
    with pytest.raises(DataError) as info:
        fetch(name)
    assert REGISTRY[name].sha256 in str(info.value)
    assert hashlib.sha256(data).hexdigest() in str(info.value)


def test_verification_is_memoised_and_sees_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "file:///nonexistent")
    path = _put(tmp_path / "cache")
    calls: list[Path] = []
    real_hash = reg._hash_file
    monkeypatch.setattr(reg, "_hash_file", lambda p: calls.append(p) or real_hash(p))
    for _ in range(3):
        fetch(TEST_NAME)
    assert len(calls) == 1
    path.write_bytes(PAYLOAD.upper())  # same size, new content and mtime
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch(TEST_NAME)


def test_download_into_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, _upstream(tmp_path))
    path = fetch(TEST_NAME)
    assert path == tmp_path / "cache" / TEST_NAME
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in path.parent.iterdir()) == ["hello.bin"]  # no temp left
    assert fetch(TEST_NAME) == path  # second call: served from the cache


def test_download_with_wrong_checksum_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    _register(monkeypatch, _upstream(tmp_path), sha256=wrong)
    with pytest.raises(DataError) as info:
        fetch(TEST_NAME)
    message = str(info.value)
    assert wrong in message and hashlib.sha256(PAYLOAD).hexdigest() in message
    assert "\n" not in message
    folder = tmp_path / "cache" / "test"
    assert not any(folder.iterdir()), list(folder.iterdir())


def test_failed_download_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = (tmp_path / "upstream" / "missing.bin").as_uri()
    _register(monkeypatch, url)
    with pytest.raises(DataError, match="download failed") as info:
        fetch(TEST_NAME)
    assert url in str(info.value) and "\n" not in str(info.value)
    assert not any((tmp_path / "cache" / "test").iterdir())


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(DataError, match=r"inr/siren/gt_bach\.wav"):
        fetch("inr/siren/gt_bahc.wav")
    with pytest.raises(DataError, match=r"did you mean .*ucr/ECG5000/ECG5000_TRAIN\.tsv"):
        fetch("ECG5000_TRAIN.tsv")


def test_locate_accepts_paths(tmp_path: Path) -> None:
    path = _put(tmp_path, name="local.bin")
    assert reg.locate(path) == path
    assert reg.locate(str(path)) == path
    with pytest.raises(FileNotFoundError):
        reg.locate(tmp_path / "absent.bin")


@needs_mirror
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_entry_resolves_in_mirror(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_DATA", MIRROR)
    monkeypatch.setenv("FREQBOOK_OFFLINE", "1")
    path = fetch(name)
    assert path == Path(MIRROR).absolute() / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == REGISTRY[name].sha256


@needs_mirror
def test_mirror_holds_no_unregistered_file() -> None:
    on_disk = {
        p.relative_to(MIRROR).as_posix()
        for p in Path(MIRROR).rglob("*")
        if p.is_file() and p.suffix != ".md"
    }
    assert on_disk - set(REGISTRY) == set()


def test_download_to_real_cache_layout_keeps_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, _upstream(tmp_path))
    neighbour = _put(tmp_path / "cache", b"other", "test/other.bin")
    fetch(TEST_NAME)
    assert neighbour.read_bytes() == b"other"
    shutil.rmtree(tmp_path / "cache")
    monkeypatch.setenv("FREQBOOK_OFFLINE", "1")
    with pytest.raises(DataError, match="FREQBOOK_OFFLINE"):
        fetch(TEST_NAME)
