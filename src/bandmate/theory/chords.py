"""Chord symbols as written on lead sheets: parse, print, transpose, list their notes.

A `ChordSymbol` is a root, a canonical quality token from `QUALITIES`, and an optional slash bass.
Every chord quality is one row of `QUALITIES` (its intervals and available tensions); the many ways
people write a quality are normalised by `_normalise_quality` plus the `QUALITY_ALIASES` table, so
adding a quality or a spelling adds a row, not a branch.

Decisions worth knowing:

* Roots and slash basses are a capital letter A-G with at most one accidental (`#`, `b`, `♯`,
  `♭`). Lower-case roots ("am7") are rejected, because some charts use lower case to mean minor
  and reading "a" as A major would be silently wrong.
* The accidental after the root is taken greedily: "C#5" is a C# power chord, "Bb5" a Bb one;
  write "C(#5)" or "C+" for C augmented.
* "C6/9" is a 6/9 chord: text after the last "/" is a slash bass only when it is a note name.
* Parentheses pair up and hold alterations or added notes: "C7(b9,#11)", "Cm(maj7)", "C(add9)".
* "N.C." (also "NC", "N.C", any case) is `NO_CHORD`, a ChordSymbol with no pitches.
* "11" is voiced as a dominant 9sus4 (root, 4th/11th, 5th, b7, 9): the major 3rd under the
  natural 11th (a minor ninth apart) is the clash players avoid, so C11 sounds as Bb/C.
* "7alt" is root, 3rd, b7, b9, #9, b13 (no 5th): the altered dominant with both altered ninths
  and the b13; #11 is listed among its tensions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bandmate.errors import ChordSymbolError
from bandmate.theory.keys import Key
from bandmate.theory.pitch import (
    LETTER_PITCH_CLASSES,
    LETTERS,
    PITCH_CLASS_NAMES_FLAT,
    PITCH_CLASS_NAMES_SHARP,
    accidental_semitones,
    name_for_letter,
)


@dataclass(frozen=True)
class Quality:
    """One chord quality.

    intervals: semitones above the root of every note the symbol names, ascending. The notes
        below an octave are the chord tones (root, 3rd or sus, 5th, 6th/7th); 13 and up are the
        extensions (14 = 9th, 17 = 11th, 21 = 13th, 13/15/18/20 = b9/#9/#11/b13).
    tensions: semitones above the root of the tensions idiomatic on this quality, including the
        extensions the symbol itself names: maj7 takes 9, #11, 13; m7 takes 9, 11, 13; a plain
        dominant takes 9 and 13; an altered dominant takes exactly the alterations it asks for,
        plus the natural 9 or 13 when that one is not altered.
    """

    intervals: tuple[int, ...]
    tensions: tuple[int, ...]


_MAJOR_TENSIONS = (14, 18, 21)  # 9, #11, 13 (lydian colour; the natural 11 is avoided)
_MINOR_TENSIONS = (14, 17, 21)  # 9, 11, 13 (dorian)
_DOMINANT_TENSIONS = (14, 21)  # 9, 13 (mixolydian)

#: Canonical quality token -> Quality. The token is what `format_chord` writes after the root
#: ("maj" is written as nothing: "C").
QUALITIES: dict[str, Quality] = {
    # triads and power chord
    "maj": Quality((0, 4, 7), (14, 21)),
    "m": Quality((0, 3, 7), (14, 17)),
    "dim": Quality((0, 3, 6), (14, 17, 20)),
    "aug": Quality((0, 4, 8), (14, 18)),
    "sus2": Quality((0, 2, 7), (21,)),
    "sus4": Quality((0, 5, 7), (14, 21)),
    "5": Quality((0, 7), (14,)),
    # sixths and added notes
    "6": Quality((0, 4, 7, 9), (14, 18)),
    "m6": Quality((0, 3, 7, 9), (14, 17)),
    "6/9": Quality((0, 4, 7, 9, 14), (14, 18)),
    "m6/9": Quality((0, 3, 7, 9, 14), (14, 17)),
    "add9": Quality((0, 4, 7, 14), (14, 21)),
    "madd9": Quality((0, 3, 7, 14), (14, 17)),
    "add11": Quality((0, 4, 7, 17), (14, 17, 21)),
    "madd11": Quality((0, 3, 7, 17), (14, 17)),
    "sus4add9": Quality((0, 5, 7, 14), (14, 21)),  # Csus4(add9): pop and worship charts
    # major sevenths
    "maj7": Quality((0, 4, 7, 11), _MAJOR_TENSIONS),
    "maj9": Quality((0, 4, 7, 11, 14), _MAJOR_TENSIONS),
    "maj13": Quality((0, 4, 7, 11, 14, 21), _MAJOR_TENSIONS),
    "maj7#11": Quality((0, 4, 7, 11, 18), _MAJOR_TENSIONS),
    "maj9#11": Quality((0, 4, 7, 11, 14, 18), _MAJOR_TENSIONS),
    "maj7#5": Quality((0, 4, 8, 11), (14, 18)),
    "maj7b5": Quality((0, 4, 6, 11), _MAJOR_TENSIONS),
    "maj7sus4": Quality((0, 5, 7, 11), (14, 21)),
    "(b5)": Quality((0, 4, 6), (14, 21)),  # in parentheses: "Cb5" is a Cb power chord
    # minor sevenths
    "m7": Quality((0, 3, 7, 10), _MINOR_TENSIONS),
    "m9": Quality((0, 3, 7, 10, 14), _MINOR_TENSIONS),
    "m11": Quality((0, 3, 7, 10, 14, 17), _MINOR_TENSIONS),
    "m13": Quality((0, 3, 7, 10, 14, 21), _MINOR_TENSIONS),
    "mMaj7": Quality((0, 3, 7, 11), _MINOR_TENSIONS),
    "mMaj9": Quality((0, 3, 7, 11, 14), _MINOR_TENSIONS),
    "m7b5": Quality((0, 3, 6, 10), (14, 17, 20)),
    "m9b5": Quality((0, 3, 6, 10, 14), (14, 17, 20)),
    "m11b5": Quality((0, 3, 6, 10, 14, 17), (14, 17, 20)),
    "dim7": Quality((0, 3, 6, 9), (14, 17, 20, 23)),
    "dimMaj7": Quality((0, 3, 6, 11), (14, 17, 20)),
    # dominants
    "7": Quality((0, 4, 7, 10), _DOMINANT_TENSIONS),
    "9": Quality((0, 4, 7, 10, 14), _DOMINANT_TENSIONS),
    "11": Quality((0, 5, 7, 10, 14), _DOMINANT_TENSIONS),
    "13": Quality((0, 4, 7, 10, 14, 21), _DOMINANT_TENSIONS),
    "7sus2": Quality((0, 2, 7, 10), (21,)),
    "7sus4": Quality((0, 5, 7, 10), _DOMINANT_TENSIONS),
    "9sus4": Quality((0, 5, 7, 10, 14), _DOMINANT_TENSIONS),
    "13sus4": Quality((0, 5, 7, 10, 14, 21), _DOMINANT_TENSIONS),
    "7sus4b9": Quality((0, 5, 7, 10, 13), (13, 21)),
    "7b5": Quality((0, 4, 6, 10), (14, 21)),
    "7#5": Quality((0, 4, 8, 10), (14, 18)),
    "9#5": Quality((0, 4, 8, 10, 14), (14, 18)),
    "9b5": Quality((0, 4, 6, 10, 14), (14, 21)),
    "7b9": Quality((0, 4, 7, 10, 13), (13, 21)),
    "7#9": Quality((0, 4, 7, 10, 15), (15, 21)),
    "7#11": Quality((0, 4, 7, 10, 18), (14, 18, 21)),
    "9#11": Quality((0, 4, 7, 10, 14, 18), (14, 18, 21)),
    "13#11": Quality((0, 4, 7, 10, 14, 18, 21), (14, 18, 21)),
    "7b13": Quality((0, 4, 7, 10, 20), (14, 20)),
    "13b9": Quality((0, 4, 7, 10, 13, 21), (13, 21)),
    "13b9#11": Quality((0, 4, 7, 10, 13, 18, 21), (13, 18, 21)),
    "7b9b13": Quality((0, 4, 7, 10, 13, 20), (13, 20)),
    "9b13": Quality((0, 4, 7, 10, 14, 20), (14, 20)),
    "13#9": Quality((0, 4, 7, 10, 15, 21), (15, 21)),
    "7b5b9": Quality((0, 4, 6, 10, 13), (13, 21)),
    "7b5#9": Quality((0, 4, 6, 10, 15), (15, 21)),
    "7#9#11": Quality((0, 4, 7, 10, 15, 18), (15, 18, 21)),
    "7#9b13": Quality((0, 4, 7, 10, 15, 20), (15, 20)),
    "7b9#9": Quality((0, 4, 7, 10, 13, 15), (13, 15, 21)),
    "7b9#11": Quality((0, 4, 7, 10, 13, 18), (13, 18, 21)),
    "7#5b9": Quality((0, 4, 8, 10, 13), (13,)),
    "7#5#9": Quality((0, 4, 8, 10, 15), (15,)),
    "7alt": Quality((0, 4, 10, 13, 15, 20), (13, 15, 18, 20)),
}

#: Spellings that `_normalise_quality` does not already turn into a canonical token.
#: Keys are in normalised form (see `_normalise_quality`), values are canonical tokens.
QUALITY_ALIASES: dict[str, str] = {
    "": "maj",
    "sus": "sus4",
    "7sus": "7sus4",
    "9sus": "9sus4",
    "13sus": "13sus4",
    "#5": "aug",
    "aug7": "7#5",
    "7+": "7#5",
    "aug9": "9#5",
    "augmaj7": "maj7#5",
    "maj6": "6",
    "69": "6/9",
    "6add9": "6/9",
    "maj6/9": "6/9",
    "m69": "m6/9",
    "m6add9": "m6/9",
    "add2": "add9",
    "madd2": "madd9",
    "add4": "add11",
    "mmaj7": "mMaj7",
    "mmaj9": "mMaj9",
    "alt": "7alt",
    "majadd9": "add9",
    "2": "add9",  # pop and worship charts: C2 is C with an added 2nd, its 3rd kept
    "4": "sus4",  # D4 is Dsus4
    "7M": "maj7",  # Brazilian and French charts
    "7susb9": "7sus4b9",
    "7b9sus4": "7sus4b9",  # C7b9sus4, C7(b9)sus: the alteration written before the sus
    "7b9sus": "7sus4b9",
    "susadd9": "sus4add9",
    "79": "9",  # C7(9), C7(13), Cmaj7(9)...: the extension in parentheses after its 7th
    "713": "13",
    "m79": "m9",
    "maj79": "maj9",
    "maj713": "maj13",
    "7sus49": "9sus4",
    "m7b59": "m9b5",  # Cø9, Cø11
    "m7b511": "m11b5",
    "m711": "m11",  # Cm7(11)
    "m7add11": "m11",
    "dimmaj7": "dimMaj7",  # Cdim(maj7), Co(maj7)
    "b5": "(b5)",
}

# Quality "heads": how people write major, minor, diminished... at the start of the quality.
# Tried in order at the start of the text; the replacement is the canonical head.
_MAJOR_HEADS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:Δ|\^)(?![0-9])"), "maj7"),  # a bare triangle means maj7: CΔ = Cmaj7
    (re.compile(r"maj|Maj|MAJ|ma(?!dd)|Ma|MA|M|Δ|\^"), "maj"),
)
_OTHER_HEADS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"min|mi|m|-"), "m"),
    (re.compile(r"dim|°|o"), "dim"),
    (re.compile(r"[øØ]7?"), "m7b5"),
    (re.compile(r"aug|\+"), "aug"),
)
_ALTERATIONS_RE = re.compile(r"(?P<base>.*?)(?P<alterations>(?:[b#](?:5|9|11|13))+)")
_ALTERATION_RE = re.compile(r"([b#])(5|9|11|13)")
# Parentheses in pairs, not nested; commas only inside them: "C7(b9,#11)".
_PARENTHESES_RE = re.compile(r"[^(),]*(?:\([^()]*\)[^(),]*)*")
_ROOT_RE = re.compile(r"([A-G])([#b♯♭]?)")
# Characters that keyboards and word processors type for the usual chord signs: a Mac's Option-J
# triangle (U+2206) and the white triangle, the empty-set sign for half-diminished, the ordinal
# and ring signs for diminished (Brazilian charts), and the en dash and minus sign that
# autocorrect and typeset charts put for the hyphen of "C-7".
_LOOKALIKES = str.maketrans({"∆": "Δ", "△": "Δ", "∅": "ø", "º": "°", "˚": "°", "–": "-", "−": "-"})
_NO_CHORD_SPELLINGS = {"N.C.", "NC", "N.C"}
NO_CHORD_QUALITY = "N.C."


def _normalise_quality(text: str) -> str:
    """Rewrite a written quality towards a canonical token (the result may still be unknown).

    Steps: ASCII accidentals and signs (`_LOOKALIKES`); drop parentheses and commas
    ("7(b9,#11)" -> "7b9#11"); map the head
    (M, ma, Δ, -, min, °, o, ø, +, aug ...) to maj/m/dim/m7b5/aug, and a major head again after a
    minor or augmented one ("m(maj7)", "-Δ7", "+M7"); "+5"/"-9" after the head mean "#5"/"b9";
    then put alterations in order of degree ("7b13#9" -> "7#9b13").
    """
    text = text.replace("♭", "b").replace("♯", "#").translate(_LOOKALIKES)
    text = text.replace("(", "").replace(")", "").replace(",", "")
    head, rest = _match_head(text, _MAJOR_HEADS + _OTHER_HEADS)
    if head in ("m", "aug"):
        major_head, rest = _match_head(rest, _MAJOR_HEADS)
        head += major_head
    rest = re.sub(r"\+(?=\d)", "#", rest)
    rest = re.sub(r"-(?=\d)", "b", rest)
    text = head + rest
    match = _ALTERATIONS_RE.fullmatch(text)
    if match:
        alterations = _ALTERATION_RE.findall(match["alterations"])
        alterations.sort(key=lambda a: (int(a[1]), a[0] == "#"))
        text = match["base"] + "".join(sign + degree for sign, degree in alterations)
    return text


def _match_head(text: str, heads: tuple[tuple[re.Pattern[str], str], ...]) -> tuple[str, str]:
    """(canonical head, rest of text) for the first head pattern matching at the start."""
    for pattern, canonical in heads:
        match = pattern.match(text)
        if match:
            return canonical, text[match.end() :]
    return "", text


def _lookup_quality(written: str) -> str | None:
    """Canonical quality token for a written quality, or None if unknown."""
    normalised = _normalise_quality(written)
    if normalised in QUALITIES:
        return normalised
    return QUALITY_ALIASES.get(normalised)


def _parse_note(text: str) -> tuple[int, str] | None:
    """(pitch class, normalised name) of a root or bass name like "Bb" or "F♯"; None if not one."""
    match = _ROOT_RE.fullmatch(text)
    if match is None:
        return None
    letter, accidental = match.groups()
    accidental = accidental.replace("♭", "b").replace("♯", "#")
    return (
        LETTER_PITCH_CLASSES[letter] + accidental_semitones(accidental)
    ) % 12, letter + accidental


@dataclass(frozen=True)
class ChordSymbol:
    """A chord symbol: `root` pitch class with its written `root_name` ("Bb", "F#"), a canonical
    `quality` token from QUALITIES, and an optional slash `bass` pitch class with `bass_name`.

    Equality includes the spelling: Db7 and C#7 are different symbols with the same notes.
    `str(chord)` is the canonical spelling, which `parse_chord` reads back to an equal chord.
    """

    root: int
    root_name: str
    quality: str
    bass: int | None = None
    bass_name: str | None = None

    def __post_init__(self) -> None:
        if self.quality == NO_CHORD_QUALITY:
            if (self.root, self.root_name, self.bass, self.bass_name) != (0, "", None, None):
                raise ValueError("N.C. has no root or bass; use NO_CHORD")
            return
        if self.quality not in QUALITIES:
            raise ValueError(f"unknown chord quality {self.quality!r}")
        root = _parse_note(self.root_name) if isinstance(self.root_name, str) else None
        if root is None or root != (self.root, self.root_name):
            raise ValueError(f"root_name {self.root_name!r} does not spell root {self.root!r}")
        if (self.bass is None) != (self.bass_name is None):
            raise ValueError("a slash bass needs both bass and bass_name")
        if self.bass is not None:
            bass = _parse_note(self.bass_name) if isinstance(self.bass_name, str) else None
            if bass is None or bass != (self.bass, self.bass_name):
                raise ValueError(f"bass_name {self.bass_name!r} does not spell bass {self.bass!r}")

    def __str__(self) -> str:
        return format_chord(self)

    @property
    def is_no_chord(self) -> bool:
        """True for N.C. (no chord: silence in the harmony instruments)."""
        return self.quality == NO_CHORD_QUALITY

    @property
    def bass_pc(self) -> int:
        """The lowest note's pitch class: the slash bass if any, else the root."""
        return self.root if self.bass is None else self.bass

    def intervals(self) -> tuple[int, ...]:
        """Semitones above the root of the quality's notes (no slash bass); () for N.C."""
        return () if self.is_no_chord else QUALITIES[self.quality].intervals

    def pitch_classes(self) -> tuple[int, ...]:
        """Distinct pitch classes, root first in interval order; a slash bass that is not a chord
        tone comes first (C/E -> (0, 4, 7); C/D -> (2, 0, 4, 7)); () for N.C."""
        pcs = tuple(dict.fromkeys((self.root + i) % 12 for i in self.intervals()))
        if self.bass is not None and self.bass not in pcs:
            pcs = (self.bass, *pcs)
        return pcs

    def chord_tones(self) -> tuple[int, ...]:
        """Pitch classes of the guide tones: root, 3rd (or sus), 5th, 6th/7th, in that order."""
        return tuple((self.root + i) % 12 for i in self.intervals() if i < 12)

    def tensions(self) -> tuple[int, ...]:
        """Pitch classes of the tensions idiomatic on this quality (see `Quality.tensions`)."""
        if self.is_no_chord:
            return ()
        tones = set(self.chord_tones())
        pcs = ((self.root + i) % 12 for i in QUALITIES[self.quality].tensions)
        return tuple(pc for pc in dict.fromkeys(pcs) if pc not in tones)

    def transpose(
        self, semitones: int, prefer_flats: bool | None = None, key: Key | None = None
    ) -> ChordSymbol:
        """The same chord `semitones` higher (or lower), with root and bass respelled.

        With `key` (the key the chord is moved into), root and bass take the letters that key
        gives them (`Key.spell`): B is Cb in Cb major, F is E# in A# minor, the 3rd of C# is E#.
        Where the key would need a double accidental, or names a note outside its scale E#, B#,
        Fb or Cb, and without a key, prefer_flats decides: None keeps the written root's
        accidental (sharp or flat); a natural root takes the most common lead-sheet name (Db, Eb,
        F#, Ab, Bb), and the bass follows the root.
        """
        if self.is_no_chord:
            return self
        if prefer_flats is None and "b" in self.root_name:
            prefer_flats = True
        elif prefer_flats is None and "#" in self.root_name:
            prefer_flats = False
        root = (self.root + semitones) % 12
        root_name = _spell_in_key(root, key) or _respell(root, prefer_flats)
        if prefer_flats is None:
            prefer_flats = "b" in root_name if len(root_name) > 1 else None
        bass = bass_name = None
        if self.bass is not None:
            bass = (self.bass + semitones) % 12
            bass_name = (
                _spell_bass(bass, self, root_name, key)
                or _spell_in_key(bass, key)
                or _respell(bass, prefer_flats)
            )
        return ChordSymbol(root, root_name, self.quality, bass, bass_name)


# The names most lead sheets use for each pitch class when there is no other clue.
_COMMON_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


_WHITE_KEY_NAMES = ("E#", "B#", "Fb", "Cb")  # players read these as the white key


def _spell_bass(bass: int, written: ChordSymbol, root_name: str, key: Key | None) -> str | None:
    """The moved slash bass on the letter as far from the moved root as it was written (E/G# up
    a 7th: D/F#, the chord's 3rd still, not D/Gb); None where that letter needs more than one
    accidental or gives E#, B#, Fb or Cb, unless `key` spells the note so (C#/E# in C#)."""
    steps = LETTERS.index(written.bass_name[0]) - LETTERS.index(written.root_name[0])
    letter = LETTERS[(LETTERS.index(root_name[0]) + steps) % 7]
    name = name_for_letter(bass, letter)
    if len(name) > 2 or (name in _WHITE_KEY_NAMES and (key is None or key.spell(bass) != name)):
        return None
    return name


def _spell_in_key(pc: int, key: Key | None) -> str | None:
    """`pc` as `key` spells it (a scale note takes its degree's letter: Cb in Cb major, E# in
    A# minor); None without a key, where that takes a double accidental, or where it is E#, B#,
    Fb or Cb for a note outside the scale."""
    if key is None:
        return None
    name = key.spell(pc)
    if len(name) > 2 or (name in _WHITE_KEY_NAMES and not key.contains(pc)):
        return None
    return name


def _respell(pc: int, prefer_flats: bool | None) -> str:
    if prefer_flats is None:
        return _COMMON_NAMES[pc]
    return (PITCH_CLASS_NAMES_FLAT if prefer_flats else PITCH_CLASS_NAMES_SHARP)[pc]


NO_CHORD = ChordSymbol(root=0, root_name="", quality=NO_CHORD_QUALITY)


def format_chord(chord: ChordSymbol) -> str:
    """Canonical text of a chord symbol: "Bbmaj7", "Am7/G", "C", "C6/9", "N.C."."""
    if chord.is_no_chord:
        return NO_CHORD_QUALITY
    suffix = "" if chord.quality == "maj" else chord.quality
    bass = "" if chord.bass_name is None else f"/{chord.bass_name}"
    return f"{chord.root_name}{suffix}{bass}"


def parse_chord(text: str) -> ChordSymbol:
    """Read a chord symbol such as "Bbmaj7", "F#m7b5", "C7(b9)", "Am7/G", "C6/9" or "N.C.".

    Surrounding whitespace is ignored. Raises ChordSymbolError, whose message says what is wrong,
    for anything else.
    """
    if not isinstance(text, str):
        raise ChordSymbolError(repr(text), "it is not text")
    symbol = text.strip()
    if not symbol:
        raise ChordSymbolError(text, "it is empty")
    if symbol.upper() in _NO_CHORD_SPELLINGS:
        return NO_CHORD
    if not _PARENTHESES_RE.fullmatch(symbol):
        raise ChordSymbolError(
            symbol, "its parentheses do not pair up (commas go inside them, as in C7(b9,#11))"
        )
    first = symbol[0]
    if first in "abcdefg":
        raise ChordSymbolError(
            symbol, f"write the root with a capital letter, {first.upper()} rather than {first}"
        )
    if first not in "ABCDEFG":
        hint = "; H is the German name for B" if first in "Hh" else ""
        raise ChordSymbolError(symbol, f"it must start with a root note A to G{hint}")
    root_end = 2 if len(symbol) > 1 and symbol[1] in "#b♯♭" else 1
    root_note = _parse_note(symbol[:root_end])
    assert root_note is not None  # a capital letter and at most one accidental, checked above
    root, root_name = root_note
    body = symbol[root_end:]

    bass = bass_name = None
    quality_text = body
    if "/" in body:
        head, tail = body.rsplit("/", 1)
        note = _parse_note(tail)
        if note is not None:
            quality_text = head
            bass, bass_name = note
        elif _lookup_quality(body) is None and tail[:1] in tuple("abcdefg"):
            raise ChordSymbolError(symbol, f"write the bass with a capital letter, not {tail!r}")
        elif _lookup_quality(body) is None:
            raise ChordSymbolError(
                symbol, f"the bass after '/' must be a note name like E or Bb, not {tail!r}"
            )
    quality = _lookup_quality(quality_text)
    if quality is None:
        raise ChordSymbolError(symbol, f"{quality_text!r} is not a chord quality bandmate knows")
    return ChordSymbol(root, root_name, quality, bass, bass_name)
