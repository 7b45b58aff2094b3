"""The chord the player means, from the keys they hold, in the three modes of an arranger keyboard.

**Recognition** (`recognize_chord`): `bandmate.theory` names chords but has no chord-from-notes
helper, so this module holds one. Every (root, quality) of `CANDIDATES` is scored against the
set of held pitch classes:

    2 per chord tone present - 2.5 per chord tone missing (a missing perfect 5th is free)
    - 1 per extra note + 0.6 when the lowest key is the root - 0.1 per chord tone

and the best one wins if nothing but the 5th is missing and at most one note is extra (a melody
note played with the chord). The lowest-key bonus decides between chords with the same notes
(C6 or Am7: the bass says). Chords are never read as slash chords: like an arranger keyboard's
"fingered" mode, an inversion plays the chord in root position.

All 4096 pitch-class sets x 12 lowest notes are scored at once with NumPy the first time a
tracker is made (about 0.1 s), so that recognising a chord in the event path is one table
look-up.

**Modes** (`ChordTracker`), each keeping the last chord until a new one is recognised (chord
memory, as on every arranger keyboard):

- `full`: the whole keyboard. A chord is read when three or more keys are struck together
  (within `CLUSTER_S`), from the keys of that cluster that are still held; single melody notes
  never change the chord.
- `split`: only keys below `split_note` (default G3, MIDI 55: the left hand plays up to F#3)
  count; a chord is read on every left-hand key press from the left-hand keys held, once they
  are three or more different pitch classes.
- `single` (Yamaha-style single finger), left hand only; the highest key held is the root:

      the root alone                                   -> major      (C)
      the root + any black key below it                -> minor      (Cm)
      the root + any white key below it                -> seventh    (C7)
      the root + a black key and a white key below it  -> minor 7th  (Cm7)

  (Yamaha asks for the *nearest* black or white key to the left; any key below is accepted
  here, which is easier to hit and never ambiguous.)

**Legato** (split and single): a player moving between chords legato strikes the new keys
before lifting the old ones, 10-100 ms later. Read at the strike, old and new keys together make
another chord (C to Am with C-E-G still down reads C6, Em over Cmaj7 reads Cmaj7, G7 after Dm
reads Dm6; one finger's F after C reads F7), and as chords are read on key presses only, the
band played that chord, on the old root, until the next change. So a left-hand key lifted
within `LEGATO_S` of the latest left-hand strike, having been struck before the keys struck
with it (a run of strikes each within `ROLL_S` of the one before: a chord, rolled or not), has
the chord read again from the keys still down. A key of a rolled chord lifted early (C-E-G-Bb
rolled and let go at once, the C first) keeps the chord, as do later releases (chord memory),
and a key the player holds on through the change (a pedal point, a common tone) still counts
while held.

Chord names are spelled with flats or sharps as the tracked key prefers (Bb in F major, A# in
B major).
"""

from __future__ import annotations

import functools

import numpy as np

from bandmate.theory.chords import QUALITIES, ChordSymbol
from bandmate.theory.pitch import spell_pitch_class

MODES = ("full", "split", "single")
DEFAULT_SPLIT_NOTE = 55  # G3: keys below it are the left hand
CLUSTER_S = 0.05  # keys struck within this time of the first one are struck together (full)
LEGATO_S = 0.25  # an old key lifted this soon after a new strike re-reads the chord (legato)
ROLL_S = 0.12  # left-hand strikes this close one after another are one chord's (a roll)

# The qualities a held chord is matched against: the chord tones (below the octave) of each.
CANDIDATE_QUALITIES = (
    "maj", "m", "7", "maj7", "m7", "6", "m6", "dim", "dim7", "aug", "m7b5", "sus4", "sus2",
    "7sus4", "mMaj7", "7b5", "7#5",
)  # fmt: skip
_BLACK_KEYS = frozenset((1, 3, 6, 8, 10))

PRESENT, MISSING, MISSING_FIFTH, EXTRA, ROOT_IN_BASS, SIZE = 2.0, -2.5, 0.0, -1.0, 0.6, -0.1
MAX_EXTRA = 1


def _mask(pcs) -> int:
    m = 0
    for pc in pcs:
        m |= 1 << (pc % 12)
    return m


@functools.cache
def _table() -> tuple[np.ndarray, tuple[tuple[int, str], ...]]:
    """(4096, 12) index into the candidate list (-1: no chord), by pitch-class mask and bass."""
    candidates = []
    tone_masks, fifth_masks, roots, sizes = [], [], [], []
    for quality in CANDIDATE_QUALITIES:
        tones = [i for i in QUALITIES[quality].intervals if i < 12]
        for root in range(12):
            candidates.append((root, quality))
            tone_masks.append(_mask(root + i for i in tones))
            fifth_masks.append(_mask([root + 7]) if 7 in tones and len(tones) > 3 else 0)
            roots.append(root)
            sizes.append(len(tones))
    tone_masks = np.array(tone_masks)
    fifth_masks = np.array(fifth_masks)
    roots = np.array(roots)
    popcount = np.array([bin(m).count("1") for m in range(4096)])
    held = np.arange(4096)[:, None]
    present = popcount[held & tone_masks]
    missing_fifth = popcount[fifth_masks & ~held & 4095]
    missing = popcount[tone_masks & ~held & 4095] - missing_fifth
    extra = popcount[held & ~tone_masks & 4095]
    score = (
        PRESENT * present
        + MISSING * missing
        + MISSING_FIFTH * missing_fifth
        + EXTRA * extra
        + SIZE * np.array(sizes)
    )
    acceptable = (missing == 0) & (extra <= MAX_EXTRA) & (popcount[held] >= 3)
    acceptable &= (held >> roots) & 1 == 1  # the root itself is held
    score = np.where(acceptable, score, -np.inf)
    table = np.full((4096, 12), -1, dtype=np.int16)
    for bass in range(12):
        with_bass = score + ROOT_IN_BASS * (roots == bass)
        best = np.argmax(with_bass, axis=1)
        found = np.isfinite(with_bass[np.arange(4096), best])
        found &= (np.arange(4096) >> bass) & 1 == 1  # the lowest key is one of the held ones
        table[:, bass] = np.where(found, best, -1)
    return table, tuple(candidates)


@functools.cache
def _symbol(root: int, quality: str, prefer_flats: bool) -> ChordSymbol:
    return ChordSymbol(root, spell_pitch_class(root, prefer_flats), quality)


def recognize_chord(pitches, prefer_flats: bool = False) -> ChordSymbol | None:
    """The chord that MIDI `pitches` (held keys, any order) make, or None (see module docs)."""
    if not pitches:
        return None
    table, candidates = _table()
    index = int(table[_mask(pitches), min(pitches) % 12])
    if index < 0:
        return None
    root, quality = candidates[index]
    return _symbol(root, quality, prefer_flats)


def single_finger_chord(pitches, prefer_flats: bool = False) -> ChordSymbol | None:
    """The chord of a single-finger fingering (see module docs), or None for no keys."""
    if not pitches:
        return None
    root = max(pitches)
    below = [p for p in pitches if p < root]
    black = any(p % 12 in _BLACK_KEYS for p in below)
    white = any(p % 12 not in _BLACK_KEYS for p in below)
    quality = "m7" if black and white else "m" if black else "7" if white else "maj"
    return _symbol(root % 12, quality, prefer_flats)


class ChordTracker:
    """The current chord from note events, in one of `MODES` (see the module docs).

    `note_on` returns the new chord when this key press changed it, else None; `note_off`
    returns the new chord when the release of a key held over from the chord before changed it
    (see **Legato** in the module docs), else None; `chord` is the chord in force (None until
    the first one is recognised); `read` is the chord this key press made, new or not (None
    when it made none); `strike_s` is the time of the latest left-hand key press.
    """

    def __init__(self, mode: str = "split", split_note: int = DEFAULT_SPLIT_NOTE):
        if mode not in MODES:
            raise ValueError(f"chord mode must be one of {MODES}, got {mode!r}")
        if not 0 < split_note < 128:
            raise ValueError(f"split note must be a MIDI note 1-127, got {split_note}")
        self.mode = mode
        self.split_note = split_note
        self.prefer_flats = False
        self.chord: ChordSymbol | None = None
        self.read: ChordSymbol | None = None
        self.held: set[int] = set()  # keys down now (the pedal does not count)
        self._cluster: list[int] = []  # full mode: keys of the latest cluster
        self._cluster_start = -1.0
        self._struck: dict[int, float] = {}  # split, single: left-hand keys down, when struck
        self.strike_s = float("-inf")
        self._group_s = float("-inf")  # the first of the strikes of the latest chord
        _table()  # build the recognition table now, not in the first note's event path

    def note_on(self, time_s: float, pitch: int) -> ChordSymbol | None:
        self.held.add(pitch)
        self.read = None
        if self.mode == "full":
            if time_s - self._cluster_start > CLUSTER_S:
                self._cluster_start = time_s
                self._cluster.clear()
            self._cluster.append(pitch)
            if len(self._cluster) < 3:
                return None
            chord = recognize_chord([p for p in self._cluster if p in self.held], self.prefer_flats)
        elif pitch >= self.split_note:
            return None  # the right hand plays the melody
        else:
            if time_s - self.strike_s > ROLL_S:
                self._group_s = time_s
            self._struck[pitch] = self.strike_s = time_s
            chord = self._read_left_hand()
        self.read = chord
        if chord is None or chord == self.chord:
            return None
        self.chord = chord
        return chord

    def note_off(self, pitch: int, time_s: float | None = None) -> ChordSymbol | None:
        self.held.discard(pitch)
        struck = self._struck.pop(pitch, None)
        if (
            struck is None  # full mode, or a right-hand key
            or time_s is None
            or self.chord is None
            or struck >= self._group_s  # a key of the latest chord
            or time_s - self.strike_s > LEGATO_S  # long after it: chord memory
        ):
            return None
        chord = self._read_left_hand()  # a key of the chord before, lifted late (legato)
        if chord is None or chord == self.chord:
            return None
        self.chord = chord
        return chord

    def _read_left_hand(self) -> ChordSymbol | None:
        keys = self._left_hand()
        if self.mode == "split":
            return recognize_chord(keys, self.prefer_flats)
        return single_finger_chord(keys, self.prefer_flats)

    def _left_hand(self) -> list[int]:
        return [p for p in self.held if p < self.split_note]
