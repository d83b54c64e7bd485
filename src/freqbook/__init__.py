"""freqbook: a reproducibility book for sine networks and spectral time-series models.

The package mirrors the book: ``freqbook.nn`` holds building blocks, ``freqbook.models`` one
file per paper model, ``freqbook.experiments`` one module per chapter (each figure or table is a
function ``config -> xarray.Dataset``), ``freqbook.results`` records and claims.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("freqbook")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
