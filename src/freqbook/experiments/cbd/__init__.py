"""Experiments of the CBD chapter (Han et al., AAAI 2025): one module per table or figure.

Shared training and evaluation code lives in :mod:`.training` (pre-training loop, features),
:mod:`.probe` (linear probe, fine-tuning) and :mod:`.minirocket` (the non-deep anchor).
"""
