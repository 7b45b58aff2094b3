"""Representations: tokenizers that turn music into token sequences and back (layer 3)."""
