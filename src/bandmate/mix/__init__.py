"""Mixing and mastering: loudness, analysis, automix, master, reports."""
