"""The Score type and the pure functions that change it (layer 2)."""

from bandmate.score.model import (
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Role,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from bandmate.score.transform import (
    change_tempo,
    merge,
    quantize,
    rescale,
    slice_bars,
    slice_ticks,
    transpose,
)

__all__ = [
    "ChordEvent",
    "Control",
    "KeyChange",
    "Note",
    "Role",
    "Score",
    "Section",
    "TempoChange",
    "TimeSignature",
    "Track",
    "change_tempo",
    "merge",
    "quantize",
    "rescale",
    "slice_bars",
    "slice_ticks",
    "transpose",
]
