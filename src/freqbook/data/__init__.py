"""External data for the book: a checksummed registry and small loaders.

>>> from freqbook.data import fetch, load_wav   # doctest: +SKIP
>>> rate, signal = load_wav("inr/siren/gt_bach.wav")   # doctest: +SKIP

See :mod:`freqbook.data.registry` for how files are resolved (``FREQBOOK_DATA``, the user
cache, then a verified download).
"""

from freqbook.data.audio import load_wav
from freqbook.data.images import load_camera, load_image
from freqbook.data.registry import REGISTRY, DataError, fetch, registered

__all__ = ["REGISTRY", "DataError", "fetch", "load_camera", "load_image", "load_wav", "registered"]
