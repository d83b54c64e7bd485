"""Experiments of the MADS chapter (arXiv 2307.00868): one module per table or figure.

:mod:`.common` holds tasks, method runners and model sizes; :mod:`.baselines` the classical
baselines; :mod:`.pypots_adapter` the optional PyPOTS models; :mod:`.method`, :mod:`.real`,
:mod:`.synthetic` and :mod:`.investigate` the experiments (``cfg -> xarray.Dataset``).
"""
