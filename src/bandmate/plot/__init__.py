"""Pictures of scores (layer 2): piano rolls as PNG files. matplotlib is imported lazily."""

from bandmate.plot.pianoroll import draw_pianoroll, pianoroll_figure, track_colour

__all__ = ["draw_pianoroll", "pianoroll_figure", "track_colour"]
