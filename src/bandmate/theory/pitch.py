"""Pitch classes, note names and MIDI note numbers.

A *pitch class* is an int 0-11 (C = 0, C#/Db = 1, ... B = 11); a *MIDI pitch* is an int 0-127 with
middle C = 60 = "C4" (scientific pitch notation, so MIDI 0 is "C-1"). Spelling (C# versus Db) is
not part of a pitch class: functions that print a name take `prefer_flats`, and `Key.spell` picks
the spelling a musician would write in a given key.

Note names are a letter A-G (either case) followed by up to two accidentals: `#`, `b`, the
Unicode signs `♯ ♭`, or the double signs `𝄪 𝄫`. Mixing sharps and flats ("C#b") is rejected.
"""

from __future__ import annotations

import re

PITCH_CLASS_NAMES_SHARP: tuple[str, ...] = (
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
)  # fmt: skip
PITCH_CLASS_NAMES_FLAT: tuple[str, ...] = (
    "C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B",
)  # fmt: skip

#: The seven letters in scale order and the pitch class of each natural.
LETTERS = "CDEFGAB"
LETTER_PITCH_CLASSES: dict[str, int] = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Each accidental sign and how many semitones it moves the letter.
_ACCIDENTAL_SEMITONES = {"#": 1, "♯": 1, "𝄪": 2, "b": -1, "♭": -1, "𝄫": -2}
_ASCII_ACCIDENTAL = {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}

_NOTE_RE = re.compile(r"([A-Ga-g])([#♯𝄪b♭𝄫]{0,2})")
_MIDI_NAME_RE = re.compile(r"([A-Ga-g][#♯𝄪b♭𝄫]{0,2})(-?\d+)")

MIDI_PITCH_MIN = 0
MIDI_PITCH_MAX = 127


def accidental_semitones(accidentals: str) -> int:
    """Semitone offset of an accidental string ("", "#", "bb", "♭"...); ValueError if mixed."""
    offsets = [_ACCIDENTAL_SEMITONES[sign] for sign in accidentals]
    if any(o > 0 for o in offsets) and any(o < 0 for o in offsets):
        raise ValueError(f"accidentals {accidentals!r} mix sharps and flats")
    return sum(offsets)


def parse_note_name(text: str) -> int:
    """Pitch class 0-11 of a note name: "C" -> 0, "c#" -> 1, "Db" -> 1, "B#" -> 0, "Cb" -> 11.

    Raises ValueError for anything that is not a letter A-G with at most two accidentals.
    """
    match = _NOTE_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a note name; write a letter A-G with # or b, e.g. F#")
    letter, accidentals = match.groups()
    return (LETTER_PITCH_CLASSES[letter.upper()] + accidental_semitones(accidentals)) % 12


def normalise_note_name(text: str) -> str:
    """The same note name with a capital letter and ASCII accidentals: "e♭" -> "Eb"."""
    match = _NOTE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a note name; write a letter A-G with # or b, e.g. F#")
    letter, accidentals = match.groups()
    return letter.upper() + _ASCII_ACCIDENTAL[accidental_semitones(accidentals)]


def spell_pitch_class(pc: int, prefer_flats: bool = False) -> str:
    """Name of a pitch class with at most one accidental: 10 -> "A#", or "Bb" with prefer_flats."""
    names = PITCH_CLASS_NAMES_FLAT if prefer_flats else PITCH_CLASS_NAMES_SHARP
    return names[pc % 12]


def name_for_letter(pc: int, letter: str) -> str:
    """Spell pitch class `pc` on a given letter: (10, "B") -> "Bb", (10, "A") -> "A#".

    Used to spell notes by scale degree (so that each degree gets its own letter). Falls back to
    `spell_pitch_class` when the letter is more than a double accidental away.
    """
    offset = (pc - LETTER_PITCH_CLASSES[letter]) % 12
    offset = offset - 12 if offset > 6 else offset  # -5..6, the nearest way round
    if abs(offset) > 2:
        return spell_pitch_class(pc, prefer_flats=offset < 0)
    return letter + _ASCII_ACCIDENTAL[offset]


def midi_to_name(pitch: int, prefer_flats: bool = False) -> str:
    """Scientific pitch name of a MIDI pitch: 60 -> "C4", 61 -> "C#4" (or "Db4"), 0 -> "C-1"."""
    if not isinstance(pitch, int) or not MIDI_PITCH_MIN <= pitch <= MIDI_PITCH_MAX:
        raise ValueError(f"MIDI pitch {pitch!r} is outside 0..127")
    octave = pitch // 12 - 1
    return f"{spell_pitch_class(pitch % 12, prefer_flats)}{octave}"


def name_to_midi(text: str) -> int:
    """MIDI pitch of a scientific pitch name: "C4" -> 60, "Bb3" -> 58, "C-1" -> 0, "B#3" -> 60.

    The octave number belongs to the letter, so "Cb4" is 59 (the B below middle C), as in print.
    Raises ValueError for garbage or a pitch outside 0..127.
    """
    match = _MIDI_NAME_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a pitch name; write a note and an octave, e.g. C4 or Bb3"
        )
    name, octave_text = match.groups()
    letter, accidentals = name[0].upper(), name[1:]
    pitch = (
        (int(octave_text) + 1) * 12
        + LETTER_PITCH_CLASSES[letter]
        + accidental_semitones(accidentals)
    )
    if not MIDI_PITCH_MIN <= pitch <= MIDI_PITCH_MAX:
        raise ValueError(f"{text!r} is MIDI pitch {pitch}, outside 0..127")
    return pitch
