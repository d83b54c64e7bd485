"""Experiments of the WINNER (SIREN²) chapter, one module per figure or table.

``bottleneck`` (SIREN collapse vs WINNER), ``why_noise`` (pre-activation statistics),
``audio_table``, ``image_table``, ``robustness`` (heat-map over (s0, s1)) and ``deviations``
(code-vs-paper ablations); shared pieces in ``common`` and ``audio_runs``.
"""
