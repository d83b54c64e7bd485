"""Experiments of the NM-VQTSG chapter (neural mapping after TimeVQVAE, arXiv 2501.17553).

``data`` (80/20 re-split of UCR TRAIN+TEST), ``config`` (profiles), ``cache`` (checkpoints keyed
by config and code), ``training`` (stages 1-3 and the FCN for IS), ``evaluation`` (ROCKET FID,
IS, cFID), and one module per page: ``tau_search``, ``main`` (before/after the mapper) and
``failure`` (when the mapper hurts).
"""
