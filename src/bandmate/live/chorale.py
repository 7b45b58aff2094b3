"""The chorale voice: the player's melody harmonized in four parts as it is played.

Each melody key the player strikes (`engine.is_melody`) is the soprano; at once, in the same
call, the voice sounds an alto, a tenor and a bass under it on its own channel ("Choir", GM 52
Choir Aahs), and releases them when the key is released (or the pedal lifted) or when the next
melody note takes over. Every melody note re-strikes all three voices, as a choir sings a hymn
syllable by syllable.

**Why rules, not the chorale model.** The choice is made in the event path, between a key going
down and its sound: it must take microseconds, and a model call takes milliseconds at best and
needs the note *after* this one to voice-lead well. Arranger keyboards' "harmony" feature makes
the same trade: a few rules on the chord in force, applied note by note. The rules here are the
textbook ones for four-part writing, as costs to minimise rather than hard constraints, so that
some voicing is always found:

- **The chord.** When the player holds (or the chord memory keeps) a chord, that chord is the
  harmony, whatever the melody note: the player's harmony wins, as on an arranger keyboard, and
  a melody note outside it is heard as a tension over it. Otherwise the voice picks a triad of
  the tracked key (`engine.keys.key`; before there is one, the major key that holds the most of
  the notes heard so far, the first note's key on a tie) that contains the melody note, by the
  cost of the move from the previous chord (`PROGRESSION`: I to IV, V or vi; ii to V; V to I or
  vi; IV to V or I are free, a retrogression such as V to IV costs the most) and the tonic at the
  start. A chromatic melody note takes the major or minor triad holding it with the most
  diatonic tones (A major for a C# in G: the secondary dominant); a chromatic chord leads best
  to the chord a fifth below it.
- **The voicing.** The bass takes the root (the third costs a little, so it is used where the
  root would make parallels or leap far); the alto and tenor take chord tones below the
  soprano, all four distinct (one channel cannot sound one pitch twice), no crossing, at most
  an octave between adjacent upper voices, in the ranges alto G3-D5, tenor C3-G4, bass E2-C4.
  A triad doubles its root rather than its third, and may leave out its fifth at a cost.
- **The motion.** Parallel fifths and octaves with the previous voicing (any pair of the four
  voices moving the same way into the same perfect interval) cost more than any other choice,
  so they are taken only where nothing else fits; otherwise the smallest total motion wins,
  the bass's leaps counting half.

**Cost.** Every candidate voicing of a (soprano, chord) pair that obeys the ranges, spacing and
coverage is enumerated once and cached with its fixed costs (`voicings`); the diatonic triads of
every major and minor key, for every soprano from G3 to C6, are enumerated when the voice is
made (about 0.1 s), so a hymn's event path only scores a few dozen cached candidates against the
previous voicing (about 15 us a note in pure Python on the reference machine). The decision for
the same context (previous voicing, soprano, options) is memoised (about 6 us a note on a
repeated line). A held chord's first use enumerates its voicings in the event path (about
0.7 ms, once per chord and soprano).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from bandmate.live.chords import CLUSTER_S
from bandmate.live.events import NOTE_OFF, NOTE_ON, PEDAL_DOWN_FROM, SUSTAIN, OutputEvent
from bandmate.live.voices import Part
from bandmate.score.model import Role
from bandmate.theory.keys import MODES

PART_NAME = "Choir"
PROGRAM = 52  # GM Choir Aahs
ALTO_RANGE, TENOR_RANGE, BASS_RANGE = (55, 74), (48, 67), (40, 60)  # G3-D5, C3-G4, E2-C4
MAX_SPACING = 12  # semitones between adjacent upper voices
VELOCITY_SCALE = 0.75  # the choir sits under the player's melody
MAX_CANDIDATES = 24  # voicings kept per (soprano, chord), cheapest fixed cost first
PREWARM_SOPRANOS = range(55, 85)  # G3-C6: where a right hand plays a melody

# fixed costs of a voicing
THIRD_IN_BASS, DOUBLED_THIRD, NO_FIFTH, WIDE_BASS, OFF_CENTRE = 2.5, 3.0, 2.0, 0.5, 0.15
# costs of the move from the previous voicing
MOTION, BASS_MOTION, PARALLEL = 1.0, 0.5, 40.0
# costs of the chord, in units of CHORD_WEIGHT semitones of motion
CHROMATIC, DIMINISHED, START_NOT_TONIC, CHORD_WEIGHT = 4.0, 3.0, 2.0, 3.0
MEMO_SIZE = 4096

# PROGRESSION[a][b]: the cost of moving from degree a to degree b (0 = I ... 6 = vii), as the
# textbook's table of root progressions: a fifth down or a step up is free, a retrogression
# (V to IV, V to ii) costs the most, a repeated chord a little.
PROGRESSION = (
    # I  ii iii IV  V  vi vii
    (1, 1, 2, 0, 0, 0, 2),  # I   -> IV, V, vi
    (2, 1, 3, 2, 0, 3, 1),  # ii  -> V (vii)
    (2, 1, 1, 0, 2, 0, 3),  # iii -> vi, IV
    (0, 1, 3, 1, 0, 2, 1),  # IV  -> V, I (ii, vii)
    (0, 3, 2, 3, 1, 0, 2),  # V   -> I, vi
    (2, 0, 2, 0, 1, 1, 3),  # vi  -> ii, IV (V)
    (0, 3, 2, 3, 2, 2, 1),  # vii -> I
)
_MAJOR_SCALE, _MINOR_SCALE = MODES["major"], MODES["minor"]
_SCALE_MASKS = tuple(sum(1 << ((t + s) % 12) for s in _MAJOR_SCALE) for t in range(12))


class Harmony(NamedTuple):
    """A chord to voice: its root pitch class and chord tones (root, third, fifth[, 7th/6th])."""

    root: int
    tones: tuple[int, ...]


def _triad(root: int, third: int, fifth: int) -> Harmony:
    return Harmony(root % 12, (root % 12, (root + third) % 12, (root + fifth) % 12))


def diatonic_triads(tonic: int, minor: bool) -> tuple[Harmony, ...]:
    """The seven triads of a key by degree, I to vii; in minor, V and vii take the raised 7th
    (harmonic minor), as common-practice harmony does, and VII the natural one."""
    scale = _MINOR_SCALE if minor else _MAJOR_SCALE
    out = []
    for degree in range(7):
        pcs = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        if minor and degree == 4:
            pcs[1] += 1  # the leading tone: V is major
        if minor and degree == 6:
            out.append(_triad(tonic + 11, 3, 6))  # vii° on the leading tone
            continue
        out.append(_triad(tonic + pcs[0], pcs[1] - pcs[0], pcs[2] - pcs[0]))
    return tuple(out)


@functools.cache
def chord_options(
    tonic: int, minor: bool, pc: int
) -> tuple[tuple[Harmony, int | None, float], ...]:
    """(harmony, degree or None for chromatic, fixed cost) of every chord that may carry melody
    pitch class `pc` in the key: the diatonic triads holding it, else the chromatic major and
    minor triads holding it with the most diatonic tones."""
    triads = diatonic_triads(tonic, minor)
    options = []
    for degree, harmony in enumerate(triads):
        if pc in harmony.tones:
            dim = (harmony.tones[2] - harmony.root) % 12 == 6
            options.append((harmony, degree, DIMINISHED if dim else 0.0))
    if options:
        return tuple(options)
    scale = {(tonic + s) % 12 for s in (_MINOR_SCALE if minor else _MAJOR_SCALE)}
    if minor:
        scale.add((tonic + 11) % 12)
    for third in (4, 3):
        for offset in (0, third, 7):
            harmony = _triad(pc - offset, third, 7)
            foreign = sum(t not in scale for t in harmony.tones if t != pc)
            minor_cost = 0.5 if third == 3 else 0.0  # a secondary dominant before a minor chord
            options.append((harmony, None, CHROMATIC + 1.5 * foreign + minor_cost))
    best = min(cost for _, _, cost in options)
    return tuple(o for o in options if o[2] == best)


@functools.cache
def degree_of(tonic: int, minor: bool, harmony: Harmony | None) -> int | None:
    """The degree (0 = I ... 6 = vii) of `harmony` among the key's triads, None if chromatic."""
    triads = diatonic_triads(tonic, minor)
    return triads.index(harmony) if harmony in triads else None


@functools.lru_cache(maxsize=16384)
def voicings(soprano: int, tones: tuple[int, ...]) -> tuple[tuple[float, int, int, int], ...]:
    """(fixed cost, alto, tenor, bass) of the voicings of chord `tones` (root first) under
    `soprano`, cheapest first (see the module docs); the ranges widen by an octave downwards and
    the spacing to a twelfth where nothing fits (a melody at the bottom of the keyboard)."""
    for widen, spacing in ((0, MAX_SPACING), (0, 19), (12, 19)):
        found = _enumerate(soprano, tones, widen, spacing)
        if found:
            return found
    return ()


def _enumerate(soprano: int, tones: tuple[int, ...], widen: int, spacing: int):
    root, third = tones[0], tones[1]
    fifth = tones[2] if len(tones) > 2 else None
    required = {root, third, *tones[3:]}  # the fifth may be left out
    tone_set = set(tones)
    bass_cost = {root: 0.0, third: THIRD_IN_BASS}
    (alo, ahi), (tlo, thi), (blo, bhi) = ALTO_RANGE, TENOR_RANGE, BASS_RANGE
    out = []
    for b in range(blo - widen, bhi + 1):
        if b % 12 not in bass_cost or b >= soprano:
            continue
        for t in range(max(tlo - widen, b + 1), min(thi, soprano - 1) + 1):
            if t % 12 not in tone_set:
                continue
            for a in range(max(alo - widen, t + 1, soprano - spacing), min(ahi, soprano - 1) + 1):
                if a % 12 not in tone_set or a - t > spacing:
                    continue
                pcs = [b % 12, t % 12, a % 12, soprano % 12]
                if not required.issubset(pcs):
                    continue
                cost = bass_cost[b % 12]
                if pcs.count(third) > 1:
                    cost += DOUBLED_THIRD
                if fifth is not None and fifth not in pcs:
                    cost += NO_FIFTH
                if t - b > 19:
                    cost += WIDE_BASS
                cost += OFF_CENTRE * (abs(2 * a - alo - ahi) + abs(2 * t - tlo - thi)) / 2
                out.append((cost, a, t, b))
    out.sort()
    return tuple(out[:MAX_CANDIDATES])


def _parallel(p1: int, p2: int, n1: int, n2: int) -> bool:
    """Whether two voices moving from (p1, p2) to (n1, n2) make parallel fifths or octaves."""
    if p1 == n1 or p2 == n2 or (n1 > p1) != (n2 > p2):
        return False
    before, after = (p1 - p2) % 12, (n1 - n2) % 12
    return before == after and after in (0, 7)


def parallels(before: tuple[int, ...], after: tuple[int, ...]) -> int:
    """How many pairs of voices move in parallel fifths or octaves from `before` to `after`
    (two voicings of as many voices, in the same order)."""
    n = len(before)
    return sum(
        _parallel(before[i], before[j], after[i], after[j])
        for i in range(n)
        for j in range(i + 1, n)
    )


class ChoraleVoice:
    """Three voices under the player's melody (see the module docs).

    `harmonized` counts the melody notes voiced; `parallel_moves` the moves that had to make
    parallel fifths or octaves (the measure the tests bound).
    """

    def __init__(self, engine, channel: int):
        self.channel = channel
        self.parts = (Part(PART_NAME, channel, PROGRAM, Role.PAD),)
        self.soprano: int | None = None  # the melody key being harmonized
        self.onset_s = float("-inf")
        self.velocity = 0
        self.sounding: tuple[int, ...] = ()  # the choir's pitches now
        self.previous: tuple[int, int, int, int] | None = None  # (soprano, alto, tenor, bass)
        self.chord: Harmony | None = None  # the chord of the last voicing
        self.held_chord = None  # the player's chord it was voiced on, if any
        self.pedal = False
        self.heard_mask = 0  # pitch classes of the melody so far (the key before one is known)
        self.first_pc: int | None = None
        self.harmonized = 0
        self.parallel_moves = 0
        self._memo: dict = {}
        self._prewarm()

    @staticmethod
    def _prewarm() -> None:
        """Enumerate the voicings of every major and minor key's triads for the usual melody
        range now, so the event path finds them cached (see the module docs)."""
        seen = set()
        for tonic in range(12):
            for minor in (False, True):
                seen.update(h.tones for h in diatonic_triads(tonic, minor))
        for tones in seen:
            for soprano in PREWARM_SOPRANOS:
                voicings(soprano, tones)

    # --- the event path

    def hear(self, event, engine) -> None:
        time_s, kind, pitch, velocity = event
        if kind == NOTE_ON:
            if engine.is_melody(pitch):
                self._melody_on(time_s, pitch, velocity, engine)
            elif (
                self.soprano is not None
                and time_s - self.onset_s <= CLUSTER_S
                and engine.chords.chord != self.held_chord
            ):  # the left hand's chord came just after the melody key: voice it again
                self._voice(time_s, self.soprano, engine)
        elif kind == NOTE_OFF:
            if pitch == self.soprano and not self.pedal:
                self._release(time_s, engine.sink)
        elif kind == SUSTAIN:
            self.pedal = velocity >= PEDAL_DOWN_FROM
            if not self.pedal and self.soprano is not None:
                self._release_if_up(time_s, engine)

    def _melody_on(self, time_s: float, pitch: int, velocity: int, engine) -> None:
        if (
            self.soprano is not None
            and pitch < self.soprano
            and time_s - self.onset_s <= CLUSTER_S
            and self.soprano in engine.chords.held
        ):
            return  # a key struck with a higher one: part of a chord under the melody
        if self.first_pc is None:
            self.first_pc = pitch % 12
        self.heard_mask |= 1 << (pitch % 12)
        self.onset_s = time_s
        self.velocity = max(1, round(velocity * VELOCITY_SCALE))
        self._voice(time_s, pitch, engine)

    def _release_if_up(self, time_s: float, engine) -> None:
        if self.soprano not in engine.chords.held:
            self._release(time_s, engine.sink)

    def _voice(self, time_s: float, soprano: int, engine) -> None:
        """Choose and sound the three voices under `soprano` (the previous ones end now)."""
        held = engine.chords.chord
        if held is not None and held.is_no_chord:
            held = None
        if held is not None:
            harmony = Harmony(held.root, held.chord_tones())
            options = ((harmony, None, 0.0),)
            key_tonic, minor = None, False
        else:
            key_tonic, minor = self._key(engine)
            options = chord_options(key_tonic, minor, soprano % 12)
        prev_degree = None if key_tonic is None else degree_of(key_tonic, minor, self.chord)
        memo_key = (self.previous, soprano, options, prev_degree, self.chord)
        choice = self._memo.get(memo_key)
        if choice is None:
            choice = self._choose(soprano, options, prev_degree)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[memo_key] = choice
        harmony, voicing, parallel = choice
        self.held_chord = held
        sink, part, channel = engine.sink, PART_NAME, self.channel
        for p in self.sounding:
            sink(OutputEvent(time_s, part, channel, p, 0))
        self.sounding = ()
        self.soprano = soprano
        if voicing is None:
            return  # nothing fits under so low a note: the melody sounds alone
        self.chord = harmony
        self.previous = (soprano, *voicing)
        self.sounding = voicing
        self.harmonized += 1
        self.parallel_moves += parallel
        for p in voicing:
            sink(OutputEvent(time_s, part, channel, p, self.velocity))

    def _key(self, engine) -> tuple[int, bool]:
        """(tonic, minor) of the tracked key, or the major key holding most notes heard so far."""
        key = engine.keys.key
        if key is not None:
            return key.tonic, 3 in MODES[key.mode] and 4 not in MODES[key.mode]
        mask, first = self.heard_mask, self.first_pc
        tonic = max(
            range(12),
            key=lambda t: ((mask & _SCALE_MASKS[t]).bit_count(), t == first, t == 0),
        )
        return tonic, False

    def _choose(self, soprano: int, options, prev_degree: int | None):
        """(harmony, (alto, tenor, bass) or None, 1 if it moves in parallels else 0)."""
        previous, prev_chord = self.previous, self.chord
        best, choice = float("inf"), (options[0][0], None, 0)
        for harmony, degree, chord_cost in options:
            cost0 = CHORD_WEIGHT * (
                chord_cost + self._progression(prev_chord, prev_degree, harmony, degree)
            )
            for fixed, a, t, b in voicings(soprano, harmony.tones):
                cost = cost0 + fixed
                if previous is not None:
                    _, pa, pt, pb = previous
                    cost += MOTION * (abs(a - pa) + abs(t - pt)) + BASS_MOTION * abs(b - pb)
                    if cost >= best:
                        continue
                    n = parallels(previous, (soprano, a, t, b))
                    cost += PARALLEL * n
                else:
                    n = 0
                if cost < best:
                    best, choice = cost, (harmony, (a, t, b), min(n, 1))
        return choice

    @staticmethod
    def _progression(prev: Harmony | None, prev_degree, harmony: Harmony, degree) -> float:
        if prev is None:
            return 0.0 if degree == 0 else START_NOT_TONIC
        if prev_degree is not None and degree is not None:
            return float(PROGRESSION[prev_degree][degree])
        return 0.0 if (prev.root - 7) % 12 == harmony.root else 1.0  # a fifth down resolves

    def _release(self, time_s: float, sink) -> None:
        for p in self.sounding:
            sink(OutputEvent(time_s, PART_NAME, self.channel, p, 0))
        self.sounding = ()
        self.soprano = None

    # --- the clock path

    def advance(self, now_s: float, engine) -> None:
        """Nothing is scheduled: the choir sounds and ends with the player's keys."""

    def stop(self, now_s: float, sink) -> None:
        self._release(now_s, sink)
        self.pedal = False


__all__ = ["ChoraleVoice", "Harmony", "chord_options", "diatonic_triads", "parallels", "voicings"]
