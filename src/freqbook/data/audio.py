"""Audio loader following the official SIREN convention (mono, peak-normalised)."""

from __future__ import annotations

import os

import numpy as np
from scipy.io import wavfile

from freqbook.data.registry import locate

__all__ = ["load_wav"]


def _to_float(data: np.ndarray) -> np.ndarray:
    """Map PCM integers to [-1, 1) in float64; floats are kept as they are."""
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (data.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(data.dtype, np.integer):
        return data.astype(np.float64) / float(2 ** (8 * data.dtype.itemsize - 1))
    return data.astype(np.float64)


def load_wav(name_or_path: str | os.PathLike[str]) -> tuple[int, np.ndarray]:
    """Read a WAV file as a mono float32 signal with peak amplitude 1.

    Parameters
    ----------
    name_or_path : str or path-like
        Registry name such as ``"inr/siren/gt_bach.wav"`` (resolved with
        :func:`freqbook.data.fetch`) or the path of an existing WAV file.

    Returns
    -------
    rate : int
        Sample rate in Hz (native, never resampled).
    signal : numpy.ndarray
        Shape ``(n_samples,)``, float32. Integer PCM is scaled to [-1, 1) (int16 by 32768,
        int32 by 2**31, uint8 centred on 128), float data are used as stored; several
        channels are averaged; finally the signal is divided by its maximum absolute value,
        so ``max(abs(signal)) == 1`` (an all-zero file stays zero).

    Notes
    -----
    Same recipe as SIREN's ``AudioFile`` + ``ImplicitAudioWrapper`` (channel mean, then
    division by the peak) and as WINNER's ``librosa.load(sr=None, mono=True)`` followed by
    division by the whole file's peak. Files are read with :func:`scipy.io.wavfile.read`.
    """
    path = locate(name_or_path)
    rate, data = wavfile.read(path)
    signal = _to_float(np.asarray(data))
    if signal.ndim == 2:
        signal = signal.mean(axis=1)
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    if peak > 0.0:
        signal = signal / peak
    return int(rate), signal.astype(np.float32)
