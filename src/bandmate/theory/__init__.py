"""Music theory: pitches, keys and scales, chord symbols and chord charts.

Layer 1 of bandmate: pure functions and frozen values, no I/O, nothing else from bandmate but
`bandmate.errors`. Arrangers and composers read `Chart` and `ChordSymbol`; they never parse text.
"""

from bandmate.theory.chart import Bar, Chart, ChartChord, format_chart, parse_chart
from bandmate.theory.chords import (
    NO_CHORD,
    QUALITIES,
    QUALITY_ALIASES,
    ChordSymbol,
    Quality,
    format_chord,
    parse_chord,
)
from bandmate.theory.keys import MODES, Key, scale_pitches
from bandmate.theory.pitch import (
    PITCH_CLASS_NAMES_FLAT,
    PITCH_CLASS_NAMES_SHARP,
    midi_to_name,
    name_to_midi,
    parse_note_name,
    spell_pitch_class,
)

__all__ = [
    "MODES",
    "NO_CHORD",
    "PITCH_CLASS_NAMES_FLAT",
    "PITCH_CLASS_NAMES_SHARP",
    "QUALITIES",
    "QUALITY_ALIASES",
    "Bar",
    "Chart",
    "ChartChord",
    "ChordSymbol",
    "Key",
    "Quality",
    "format_chart",
    "format_chord",
    "midi_to_name",
    "name_to_midi",
    "parse_chart",
    "parse_chord",
    "parse_note_name",
    "scale_pitches",
    "spell_pitch_class",
]
