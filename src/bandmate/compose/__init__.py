"""Composition: melodies, continuations, harmonizations, chord suggestions and their evaluation."""
