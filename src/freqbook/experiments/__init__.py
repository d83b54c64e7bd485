"""One subpackage per chapter; each figure/table is a function ``config -> xarray.Dataset``."""
