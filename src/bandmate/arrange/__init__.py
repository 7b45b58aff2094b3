"""Backing tracks and loops: a chord chart and a style in, a band out (layer 3)."""
