"""Experiments of the SIREN chapter (Sitzmann et al., NeurIPS 2020)."""
