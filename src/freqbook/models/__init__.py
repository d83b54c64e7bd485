"""One module per paper model."""
