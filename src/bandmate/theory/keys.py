"""Scales, modes and keys.

A `Key` is a tonic pitch class plus a mode name from `MODES`; two keys are equal when those are
(F# major == Gb major). Its spelling (the number of sharps, F# or Gb) is the one it was given
when that is a real key signature: `Key.parse("F#")` is F# major with 6 sharps,
`Key.parse("Gb")` Gb major with 6 flats, `Key.from_sharps(7)` C# major with 7 sharps. Otherwise
(a key built from a pitch class, or a spelling no signature has: "A#" major would need 10 sharps)
it follows the signature with the fewest accidentals, which is what musicians write, so
`Key.parse("A#")` is spelled Bb major; on a tie (six sharps or six flats) flats win: Gb major and
its relative Eb minor. `relative` keeps the signature (F# major's is D# minor); a key made with
`dataclasses.replace` (a new tonic) takes the default again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bandmate.errors import UserError
from bandmate.theory.pitch import LETTERS, name_for_letter, normalise_note_name, parse_note_name

#: Mode name -> semitone offsets of its scale degrees from the tonic (ascending, tonic first).
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}

# Names that mean the same scale; a Key always stores the first form.
_MODE_ALIASES = {"ionian": "major", "aeolian": "minor"}


@dataclass(frozen=True)
class _ModeInfo:
    """How a mode is spelled and signed.

    degrees: the scale-degree number (1-7) of each step in MODES, so each note gets a letter.
    signature_degree: which degree of its relative major the tonic is (dorian 2, minor 6): the key
        signature is the relative major's.
    relative: (semitones from the tonic, mode) of the relative key `Key.relative` returns.
    """

    degrees: tuple[int, ...]
    signature_degree: int
    relative: tuple[int, str]


_SEVEN = (1, 2, 3, 4, 5, 6, 7)
_MODE_INFO: dict[str, _ModeInfo] = {
    "major": _ModeInfo(_SEVEN, 1, (9, "minor")),
    "minor": _ModeInfo(_SEVEN, 6, (3, "major")),
    "dorian": _ModeInfo(_SEVEN, 2, (10, "major")),
    "phrygian": _ModeInfo(_SEVEN, 3, (8, "major")),
    "lydian": _ModeInfo(_SEVEN, 4, (7, "major")),
    "mixolydian": _ModeInfo(_SEVEN, 5, (5, "major")),
    "locrian": _ModeInfo(_SEVEN, 7, (1, "major")),
    "harmonic minor": _ModeInfo(_SEVEN, 6, (3, "major")),
    "melodic minor": _ModeInfo(_SEVEN, 6, (3, "major")),
    "major pentatonic": _ModeInfo((1, 2, 3, 5, 6), 1, (9, "minor pentatonic")),
    "minor pentatonic": _ModeInfo((1, 3, 4, 5, 7), 6, (3, "major pentatonic")),
    "blues": _ModeInfo((1, 3, 4, 5, 5, 7), 6, (3, "major")),
}

# Degree used to spell a pitch class that is not in the scale, by semitones above the tonic:
# b2, b3, #4, b6 and b7 in major; raised 6th and 7th (and the Picardy 3rd) in minor.
_CHROMATIC_DEGREE = (1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7)

# Major-key tonic name by key signature, index sharps + 7 (Cb = 7 flats ... C# = 7 sharps).
_MAJOR_TONIC_BY_SHARPS = (
    "Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#",
)  # fmt: skip
_MAJOR_SCALE = MODES["major"]

_KEY_RE = re.compile(r"\s*([A-Ga-g][#♯b♭]{0,2})\s*(.*?)\s*")
_MAJOR_WORDS = {"", "maj", "major", "ma"}
_MINOR_WORDS = {"min", "minor", "mi", "-"}


@dataclass(frozen=True)
class Key:
    """A key: `tonic` pitch class 0-11 and a `mode` from MODES ("ionian"/"aeolian" become
    "major"/"minor")."""

    tonic: int
    mode: str = "major"
    # the signature it was written with (F# major: 6, Gb major: -6), None for the default; set
    # only by `spelled`, so that `replace` (a new tonic) never keeps a spelling it cannot have
    _written_sharps: int | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tonic, int) or isinstance(self.tonic, bool):
            raise TypeError(f"Key tonic must be a pitch class int, not {self.tonic!r}")
        if not 0 <= self.tonic <= 11:
            raise ValueError(f"Key tonic must be a pitch class 0..11, not {self.tonic}")
        mode = _MODE_ALIASES.get(self.mode, self.mode)
        if mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; known modes: {', '.join(MODES)}")
        object.__setattr__(self, "mode", mode)

    @classmethod
    def parse(cls, text: str) -> Key:
        """Read a key: "Bb", "Gm", "G minor", "F#m", "D dorian", "Ebmaj", "c harmonic minor".

        The tonic letter may be either case; "m", "min", "minor", "-" mean minor, nothing, "M",
        "maj", "major" mean major, and any name in MODES works. Raises ValueError otherwise.
        """
        match = _KEY_RE.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"{text!r} is not a key; write it like C, Bb, F#m, G minor or D dorian"
            )
        tonic_text, mode_text = match.groups()
        if mode_text == "M" or mode_text.lower() in _MAJOR_WORDS:
            mode = "major"
        elif mode_text == "m" or mode_text.lower() in _MINOR_WORDS:
            mode = "minor"
        else:
            mode = " ".join(mode_text.lower().split())
            if mode not in MODES:
                raise ValueError(
                    f"{text!r} is not a key: unknown mode {mode_text!r}; "
                    f"known modes: {', '.join(MODES)}"
                )
        key = cls(parse_note_name(tonic_text), mode)
        written = normalise_note_name(tonic_text)
        for sharps in key._signatures():
            spelled = key.spelled(sharps)
            if spelled.tonic_name == written:
                return spelled
        return key

    @classmethod
    def from_sharps(cls, sharps: int, minor: bool = False) -> Key:
        """The major (or minor) key with a signature of `sharps` (-7..7, negative for flats),
        spelled with that signature (7 sharps: C# major, not Db)."""
        if not isinstance(sharps, int) or not -7 <= sharps <= 7:
            raise ValueError(f"a key signature has -7..7 sharps, not {sharps!r}")
        major_tonic = (7 * sharps) % 12
        key = cls((major_tonic + 9) % 12, "minor") if minor else cls(major_tonic, "major")
        return key.spelled(sharps)

    def spelled(self, sharps: int) -> Key:
        """This key written with a signature of `sharps` (F# major with 6 sharps rather than Gb
        major with 6 flats); ValueError when no such signature writes it."""
        if sharps not in self._signatures():
            raise ValueError(f"{self.name} is not written with a signature of {sharps} sharps")
        key = Key(self.tonic, self.mode)
        object.__setattr__(key, "_written_sharps", sharps)
        return key

    def _signatures(self) -> list[int]:
        """The signatures (one or two, -7..7) that can write this key, fewest accidentals first
        (on a tie, flats first)."""
        major_tonic = (self.tonic - _MAJOR_SCALE[self._info.signature_degree - 1]) % 12
        candidates = [s for s in range(-7, 8) if (7 * s) % 12 == major_tonic]
        return sorted(candidates, key=lambda s: (abs(s), s))

    @property
    def _info(self) -> _ModeInfo:
        return _MODE_INFO[self.mode]

    @property
    def sharps(self) -> int:
        """Key signature in sharps (-7..7, negative for flats); modes use their relative major's.
        The one the key was written with, else the one with the fewest accidentals."""
        if self._written_sharps is not None:
            return self._written_sharps
        return self._signatures()[0]

    @property
    def is_minor(self) -> bool:
        """Whether the key's tonic triad is minor: its scale has a minor 3rd and no major 3rd
        (minor, dorian, phrygian, locrian, harmonic and melodic minor, minor pentatonic). The
        blues scale's minor 3rd is a blue note over a dominant tonic (A7 in A blues), so a blues
        counts as major."""
        steps = MODES[self.mode]
        return 3 in steps and 4 not in steps and self.mode != "blues"

    @property
    def prefers_flats(self) -> bool:
        """True when notes outside the scale read better as flats (a flat key signature)."""
        return self.sharps < 0

    @property
    def tonic_name(self) -> str:
        """The tonic as written in this key's signature: "Bb", "F#", "Eb"."""
        major_name = _MAJOR_TONIC_BY_SHARPS[self.sharps + 7]
        letter_index = (LETTERS.index(major_name[0]) + self._info.signature_degree - 1) % 7
        return name_for_letter(self.tonic, LETTERS[letter_index])

    @property
    def name(self) -> str:
        """Long name: "Bb major", "G minor", "D dorian"."""
        return f"{self.tonic_name} {self.mode}"

    def __str__(self) -> str:
        """Short name that `Key.parse` reads back: "Bb", "Gm", "D dorian"."""
        if self.mode == "major":
            return self.tonic_name
        if self.mode == "minor":
            return f"{self.tonic_name}m"
        return self.name

    def pitch_classes(self) -> tuple[int, ...]:
        """Pitch classes of the scale, tonic first, in scale order."""
        return tuple((self.tonic + step) % 12 for step in MODES[self.mode])

    def usual_pitch_classes(self) -> frozenset[int]:
        """The pitch classes a piece in this key uses as its own: the scale's, and in minor
        those of its harmonic and melodic forms too (the raised sixth and seventh)."""
        extra = {(self.tonic + 9) % 12, (self.tonic + 11) % 12} if self.mode == "minor" else set()
        return frozenset(self.pitch_classes()) | extra

    def contains(self, pc: int) -> bool:
        """Whether pitch class `pc` (any int, taken mod 12) is in the scale."""
        return pc % 12 in self.pitch_classes()

    @property
    def relative(self) -> Key:
        """The relative key (same signature): C major <-> A minor; D dorian -> C major."""
        offset, mode = self._info.relative
        relative = Key((self.tonic + offset) % 12, mode)
        return relative if self._written_sharps is None else relative.spelled(self.sharps)

    def spell(self, pc: int) -> str:
        """Name of pitch class `pc` as written in this key: 10 in F major -> "Bb", 6 in D -> "F#".

        Scale notes take their degree's letter (so G# harmonic minor has F##); other notes are
        spelled as the usual chromatic degrees: b2, b3, #4, b6, b7, and in minor the raised 6th
        and 7th (C# in D minor).
        """
        pc %= 12
        steps = MODES[self.mode]
        offset = (pc - self.tonic) % 12
        if offset in steps:
            degree = self._info.degrees[steps.index(offset)]
        else:
            degree = _CHROMATIC_DEGREE[offset]
        tonic_letter = LETTERS.index(self.tonic_name[0])
        return name_for_letter(pc, LETTERS[(tonic_letter + degree - 1) % 7])


def parse_key(text: str) -> Key:
    """`Key.parse` for a key a user typed: a `UserError` that says how to write one."""
    try:
        return Key.parse(text)
    except ValueError:
        raise UserError(f"Unknown key {text!r}; write a key like C, Bb, F#m or Eb minor.") from None


def scale_pitches(key: Key, low: int, high: int) -> list[int]:
    """MIDI pitches of `key`'s scale from `low` to `high` inclusive, ascending."""
    pcs = set(key.pitch_classes())
    return [pitch for pitch in range(low, high + 1) if pitch % 12 in pcs]
