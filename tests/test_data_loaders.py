"""Tests of the image and audio loaders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from freqbook.data import DataError, load_camera, load_image, load_wav

MIRROR = os.environ.get("FREQBOOK_DATA") or None
needs_mirror = pytest.mark.skipif(
    MIRROR is None, reason="FREQBOOK_DATA is not set (CI points it at ../shared/data)"
)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FREQBOOK_OFFLINE", "1")


def test_camera_native() -> None:
    from skimage.data import camera

    image = load_camera()
    assert image.shape == (512, 512) and image.dtype == np.float32
    np.testing.assert_allclose(image, camera() / 255.0 * 2 - 1, atol=1e-6)


@pytest.mark.parametrize("size", [32, 64, 100])
def test_camera_resized(size: int) -> None:
    image = load_camera(size)
    assert image.shape == (size, size) and image.dtype == np.float32
    assert image.min() >= -1.0 and image.max() <= 1.0
    assert image.std() > 0.1  # a picture, not a constant


def test_camera_rejects_bad_size() -> None:
    with pytest.raises(ValueError, match="size"):
        load_camera(0)


def test_load_image_from_path(tmp_path: Path) -> None:
    rgb = np.zeros((20, 30, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red
    path = tmp_path / "red.png"
    Image.fromarray(rgb).save(path)
    color = load_image(path, gray=False)
    assert color.shape == (20, 30, 3) and color.dtype == np.float32
    np.testing.assert_array_equal(color[0, 0], [1.0, -1.0, -1.0])
    gray = load_image(str(path))
    assert gray.shape == (20, 30)
    np.testing.assert_allclose(gray, 76 / 255 * 2 - 1, atol=1e-6)  # Pillow luma of red = 76
    assert load_image(path, size=8, gray=False).shape == (8, 8, 3)


def test_load_image_gray_file_keeps_one_channel(tmp_path: Path) -> None:
    path = tmp_path / "ramp.png"
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (4, 1))).save(path)
    assert load_image(path, gray=False).shape == (4, 256, 1)
    ramp = load_image(path)
    assert ramp.min() == -1.0 and ramp.max() == 1.0


def test_load_image_unknown_name() -> None:
    with pytest.raises(DataError, match="castle_512"):
        load_image("inr/winner/images/castle.jpg")


@needs_mirror
def test_load_registered_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_DATA", MIRROR)
    castle = load_image("inr/winner/images/castle_512.jpg", gray=False)
    assert castle.shape == (512, 512, 3) and castle.dtype == np.float32
    assert -1.0 <= castle.min() < castle.max() <= 1.0
    assert load_image("inr/winner/images/castle_512.jpg").shape == (512, 512)
    assert load_image("inr/winner/images/braided_0064_gray.jpg", size=64).shape == (64, 64)
    assert load_image("inr/winner/images/rock_512.jpg", gray=False).shape == (512, 512, 1)


def test_missing_registered_wav_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FREQBOOK_DATA", raising=False)
    with pytest.raises(DataError, match="gt_bach"):
        load_wav("inr/siren/gt_bach.wav")


@needs_mirror
def test_load_wav_bach(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_DATA", MIRROR)
    rate, signal = load_wav("inr/siren/gt_bach.wav")
    assert rate == 44100
    assert signal.shape == (308207,) and signal.dtype == np.float32
    assert np.max(np.abs(signal)) == 1.0


@needs_mirror
def test_load_wav_stereo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREQBOOK_DATA", MIRROR)
    rate, signal = load_wav("inr/winner/audio/relay.wav")
    assert rate == 24000 and signal.shape == (181440,)
    assert np.max(np.abs(signal)) == 1.0


def test_load_wav_stereo_pcm16(tmp_path: Path) -> None:
    t = np.arange(1000)
    left = (8000 * np.sin(2 * np.pi * t / 50)).astype(np.int16)
    right = (2000 * np.cos(2 * np.pi * t / 20)).astype(np.int16)
    path = tmp_path / "stereo.wav"
    wavfile.write(path, 16000, np.stack([left, right], axis=1))
    rate, signal = load_wav(path)
    assert rate == 16000 and signal.shape == (1000,) and signal.dtype == np.float32
    mono = (left.astype(np.float64) + right) / 2
    np.testing.assert_allclose(signal, mono / np.abs(mono).max(), rtol=1e-6, atol=1e-7)
    assert np.max(np.abs(signal)) == 1.0


def test_load_wav_float32_mono(tmp_path: Path) -> None:
    data = np.array([0.0, 0.25, -0.5, 0.125], dtype=np.float32)
    path = tmp_path / "mono.wav"
    wavfile.write(path, 8000, data)
    rate, signal = load_wav(str(path))
    assert rate == 8000
    np.testing.assert_array_equal(signal, data / 0.5)


def test_load_wav_silence_stays_zero(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    wavfile.write(path, 8000, np.zeros(10, dtype=np.int16))
    _, signal = load_wav(path)
    assert signal.dtype == np.float32 and not signal.any()
