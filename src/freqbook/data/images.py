"""Image loaders: values in [-1, 1], float32, optionally resized to a square."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from freqbook.data.registry import locate

__all__ = ["load_camera", "load_image"]


def _resize(image: np.ndarray, size: int | None) -> np.ndarray:
    """Resize the first two axes to ``size`` x ``size`` (anti-aliased, bilinear)."""
    if size is None:
        return image
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive integer or None, got {size!r}")
    from skimage.transform import resize

    shape = (int(size), int(size)) + image.shape[2:]
    out = resize(image, shape, order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def load_camera(size: int | None = None) -> np.ndarray:
    """Load scikit-image's ``camera`` photograph as a float32 array in [-1, 1].

    Parameters
    ----------
    size : int, optional
        Side length of the returned square image. ``None`` keeps the native 512 x 512.

    Returns
    -------
    numpy.ndarray
        Shape ``(size, size)`` (or ``(512, 512)``), dtype float32, values in [-1, 1]. The
        uint8 pixels are mapped with ``x / 255 * 2 - 1`` *before* resizing; resizing uses
        :func:`skimage.transform.resize` with ``anti_aliasing=True`` (bilinear).

    Notes
    -----
    This is **not** the classic "cameraman" of the SIREN paper (scikit-image 0.16). Since
    scikit-image 0.18 ``skimage.data.camera()`` is a different photograph, released under CC0
    by Lav Varshney, so absolute PSNR values do not compare 1:1 with the paper. It ships in
    the scikit-image wheel and therefore has no registry entry; it is byte-identical to the
    WINNER repository's ``camera.png``.
    """
    from skimage.data import camera

    pixels = camera().astype(np.float32) / 255.0 * 2.0 - 1.0
    return _resize(pixels, size)


def load_image(
    name: str | os.PathLike[str], size: int | None = None, gray: bool = True
) -> np.ndarray:
    """Load a registered (or local) image file as a float32 array in [-1, 1].

    Parameters
    ----------
    name : str or path-like
        Registry name such as ``"inr/winner/images/castle_512.jpg"`` (resolved with
        :func:`freqbook.data.fetch`) or the path of an existing image file.
    size : int, optional
        Side length of the returned square image; ``None`` keeps the native size. A
        non-square image is stretched to the square.
    gray : bool, default True
        ``True`` converts to one luminance channel with Pillow (``"L"``, ITU-R 601-2 luma)
        and returns ``(H, W)``. ``False`` follows the WINNER loader: single-channel images
        stay single-channel, anything else (palette, RGBA, CMYK...) becomes RGB, and the
        result is ``(H, W, C)`` with ``C`` 1 or 3.

    Returns
    -------
    numpy.ndarray
        float32 values ``x / 255 * 2 - 1`` (``x / 65535 * 2 - 1`` for 16-bit images), mapped
        before the optional anti-aliased resize.
    """
    path = locate(name)
    with Image.open(path) as img:
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            pixels = np.asarray(img, dtype=np.float32) / 65535.0
            pixels = pixels if gray else pixels[..., None]
        elif gray:
            pixels = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
        else:
            mode = "L" if img.mode in ("L", "1", "LA") else "RGB"
            pixels = np.asarray(img.convert(mode), dtype=np.float32) / 255.0
            pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    return _resize(pixels * 2.0 - 1.0, size).astype(np.float32)
