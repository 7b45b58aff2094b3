"""The bass player: root-based patterns for pop, rock and funk, and walking lines for jazz.

A bass pattern is a string of `grid` space-separated tokens, one per step of the style's grid:

    patterns.low = "R . . . . . R . R - . 5 . . A ."          # 16 steps: 16ths in 4/4
    patterns.high = "W . . W . . W . . W . ."                 # 12 steps: swung 8th triplets

Note tokens (pitches are chosen relative to the chord sounding at that step):

    R    the chord's bass: its root, or the slash bass (C/E -> E)
    3    the chord's 3rd (the 2nd or 4th of a sus chord), above R
    5    the chord's 5th (b5 or #5 where the chord has one), above R
    6    the chord's 6th (13th) where it has one, else the major 6th (b6 over a #5/b13
         chord), above R: the boogie's R 3 5 6 b7 6 5 3
    7    the chord's 7th, or 6th for 6 chords, else the octave, above R
    8    R an octave up (down where the range has no room above)
    5_   the chord's 5th below R
    A    a chromatic approach: a half step below or above the next chord's bass
    S    a scale approach: a half or whole step from the next chord's bass, taken from the key's
         scale (the chord's tones and tensions where the key is unknown)
    W    a walking-bass step (see below)

Other tokens: `-` holds the previous note one more step; `.` is a rest. A `?` before a note token
makes it optional: it plays about half the time and otherwise the previous note holds, so that
repeated bars differ. "The next chord" is the next chord change in the bar, else the next bar's
first chord; where that is N.C., `A` and `S` play the 5th instead.

The harmony overrides the pattern: at the first step of every chord span (beat 1, and every
mid-bar change) the bass plays that chord's bass note, whatever the pattern has there; N.C. spans
are silent. Patterns must begin with R or W.

Walking: the first W of a chord span plays its bass; the last W before a chord change is an
approach to the next chord's bass (chromatic from below or above, the next chord's dominant, or a
scale step, chosen at random); the W's between walk with chord tones and chord-scale tones,
mostly stepwise, toward that approach, never repeating a pitch. A bar whose pattern walks is
played legato: its notes ring over the `.` steps up to the next note ("W . . W . ." and
"W - - W - -" sound the same), as a walking bass does.

Register: the bass starts in the lower third of the part's range and takes each chord's bass in
the octave nearest the previous one (pulled gently toward that home); an approach fixes the octave
of the note it leads to, so that `A` really lands a half step away. No note leaves the range.
Notes end a tenth of a step before the next note or rest and never cross the bar line; in the
song's last bar the bass plays each chord's bass and holds it (the last one to the end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bandmate.arrange.plan import BarPlan, ChordSpan
from bandmate.arrange.players import (
    base_velocity,
    beat_ticks,
    check_steps,
    choose_pattern,
    step_is_beat,
    step_onset,
    step_ticks,
    steps_in_bar,
)
from bandmate.score.model import Note
from bandmate.theory.chords import ChordSymbol
from bandmate.theory.keys import Key

NOTE_TOKENS = ("R", "3", "5", "6", "7", "8", "5_", "A", "S", "W")
HOLD, REST = "-", "."
OPTIONAL = "?"
_ROOT_HERE = "root"  # an event: the chord's bass, forced by a chord change
_SILENT = "silent"  # an event: a step inside an N.C. span

OPTIONAL_CHANCE = 0.5  # how often a `?` note plays
GAP_STEPS = 0.1  # notes end this share of a step before the next one starts
HOME_PULL = 0.3  # how strongly root choices lean toward the home register (per semitone)
ACCENT_DOWNBEAT, ACCENT_BEAT, ACCENT_OFFBEAT = 1.1, 1.0, 0.85

# Walking: weight of a move by its size in semitones (scale steps first, then chord skips).
_MOVE_WEIGHTS = {1: 0.9, 2: 1.2, 3: 1.0, 4: 1.0, 5: 0.6, 6: 0.15, 7: 0.4}
_CHROMATIC_PASSING_WEIGHT = 0.35
# Walking approach kinds and how often each is chosen.
_APPROACHES = (("below", 0.3), ("above", 0.25), ("dominant", 0.2), ("scale", 0.25))


def check_pattern(pattern, grid: int) -> str | None:
    """What is wrong with a bass pattern, in one short phrase, or None if it is fine."""
    if not isinstance(pattern, str):
        return 'a bass pattern is a string of space-separated tokens, e.g. "R . 5 ."'
    tokens = pattern.split()
    problem = check_steps(len(tokens), grid)
    if problem:
        return problem
    for i, token in enumerate(tokens, start=1):
        bare = token.removeprefix(OPTIONAL)
        if bare not in NOTE_TOKENS and not (bare == token and token in (HOLD, REST)):
            known = " ".join(NOTE_TOKENS)
            return f"unknown token {token!r} at step {i} (use {known} - . and ? before a note)"
    if any(tokens[k] not in ("R", "W") for k in range(0, len(tokens), grid)):
        return "must begin with R or W (each bar it spans) so the bass plays the root on beat 1"
    return None


def play(song, part, style, rng) -> list[Note]:
    """The whole bass part: one pattern variant per bar, laid on the song's chords."""
    line = _Line(part.low_pitch, part.high_pitch)
    notes: list[Note] = []
    phrases: dict = {}
    for bar in song.bars:
        if bar.final:
            notes += _play_final_bar(bar, part, style, line)
            continue
        pattern = choose_pattern(bar, part, rng, style.grid, phrases)
        notes += _play_bar(bar, pattern.split(), part, style, line, rng)
    return notes


class _Line:
    """The bass line's register and memory, carried from bar to bar."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self.home = low + (high - low) // 3
        self.prev: int | None = None  # the last note played
        self.before_prev: int | None = None
        self.anchor: int | None = None  # the last chord bass played
        self.planned: dict[int, tuple[int, int]] = {}  # tick -> (pc, pitch) an approach aims at

    def play(self, pitch: int) -> int:
        self.before_prev, self.prev = self.prev, pitch
        return pitch

    def pitches(self, pc: int) -> list[int]:
        return [p for p in range(self.low, self.high + 1) if p % 12 == pc % 12]

    def nearest(self, pc: int, ref: int, avoid: int | None = None) -> int:
        """The pitch of class `pc` near `ref`, leaning toward home; `avoid` only if nothing else."""
        options = self.pitches(pc) or [min(max(ref, self.low), self.high)]  # range < an octave
        options = [p for p in options if p != avoid] or options
        return min(options, key=lambda p: (abs(p - ref) + HOME_PULL * abs(p - self.home), p))

    def beside(self, pc: int, base: int, *, up: bool) -> int:
        """The pitch of class `pc` just above (`up`) or below `base`, else on the other side."""
        above = [p for p in self.pitches(pc) if p > base][:1]
        below = [p for p in self.pitches(pc) if p < base][-1:]
        order = above + below if up else below + above
        return (order or [base])[0]

    def clamp(self, pitch: int) -> int:
        return min(max(pitch, self.low), self.high)

    def chord_bass(self, tick: int, pc: int, avoid: int | None = None) -> int:
        """The bass of a chord starting at `tick`: where an approach planned it, else near the
        last chord's bass."""
        planned = self.planned.pop(tick, None)
        if planned is not None and planned[0] == pc and planned[1] != avoid:
            pitch = planned[1]
        else:
            pitch = self.nearest(pc, self.anchor if self.anchor is not None else self.home, avoid)
        self.anchor = pitch
        return pitch

    def target(self, tick: int, pc: int) -> int:
        """Plan the octave of the chord bass at `tick` (near this chord's bass) and return it."""
        if tick not in self.planned or self.planned[tick][0] != pc:
            ref = self.anchor if self.anchor is not None else self.home
            self.planned[tick] = (pc, self.nearest(pc, ref))
        return self.planned[tick][1]


@dataclass
class _Span:
    """What the bass knows while it plays one chord span of a bar."""

    symbol: ChordSymbol
    root: int  # the pitch of the chord's bass as played
    next_tick: int  # where the next chord starts
    next_symbol: ChordSymbol
    fills: list[int] = field(default_factory=list)  # steps of the W's between root and approach
    approach_step: int | None = None  # the step of the W that approaches the next chord
    approach: int | None = None  # its pitch, once chosen


def _play_bar(bar, tokens, part, style, line: _Line, rng) -> list[Note]:
    count = steps_in_bar(bar, style)
    onsets = [step_onset(bar, style, k) for k in range(count)] + [bar.end_ticks]
    events = [_realize(tokens[k % len(tokens)], rng) for k in range(count)]
    walking = any(token.endswith("W") for token in tokens)
    span_of = [_span_index(bar, onsets[k]) for k in range(count)]
    starts = {}  # step -> span index: the first step of each chord span
    for i, span in enumerate(bar.chords):
        inside = [k for k in range(count) if span.start_ticks <= onsets[k] < span.end_ticks]
        if inside:
            starts[inside[0]] = i
    for k in range(count):
        if bar.chords[span_of[k]].symbol.is_no_chord:
            events[k] = _SILENT
        elif k in starts:
            events[k] = _ROOT_HERE

    played: list[tuple[int, int]] = []  # (step, pitch)
    span: _Span | None = None
    for k, event in enumerate(events):
        if event in (HOLD, REST, _SILENT):
            continue
        if event == _ROOT_HERE:
            span = _open_span(bar, starts[k], k, events, span_of, line, walking)
            pitch = span.root
        else:
            pitch = _pitch(event, k, span, bar, style, line, rng)
        played.append((k, line.play(pitch)))

    gap = max(1, round(GAP_STEPS * step_ticks(bar, style)))
    notes = []
    for k, pitch in played:
        end = k + 1
        while end < count and (events[end] == HOLD or (walking and events[end] == REST)):
            end += 1
        duration = max(1, onsets[end] - gap - onsets[k])
        velocity = base_velocity(bar, part, _accent(bar, style, k))
        notes.append(Note(onsets[k], duration, pitch, velocity))
    return notes


def _accent(bar: BarPlan, style, step: int) -> float:
    if step == 0:
        return ACCENT_DOWNBEAT
    return ACCENT_BEAT if step_is_beat(bar, style, step) else ACCENT_OFFBEAT


def _realize(token: str, rng) -> str:
    """A pattern token as played this time: an optional note that does not play holds."""
    if token.startswith(OPTIONAL):
        return token[1:] if rng.random() < OPTIONAL_CHANCE else HOLD
    return token


def _span_index(bar: BarPlan, tick: int) -> int:
    index = 0
    for i, span in enumerate(bar.chords):
        if span.start_ticks <= tick:
            index = i
    return index


def _next_chord(bar: BarPlan, index: int) -> tuple[int, ChordSymbol]:
    """(start tick, chord) after span `index`: later in the bar, else the next bar's first."""
    if index + 1 < len(bar.chords):
        nxt: ChordSpan = bar.chords[index + 1]
        return nxt.start_ticks, nxt.symbol
    return bar.end_ticks, bar.next_chord


def _open_span(bar, index, step, events, span_of, line: _Line, walking: bool) -> _Span:
    """Play into chord span `index` at `step`: choose its bass pitch and plan its walk."""
    chord = bar.chords[index]
    # a walking line never repeats a pitch: a chord with the same bass takes the other octave
    root = line.chord_bass(chord.start_ticks, chord.symbol.bass_pc, line.prev if walking else None)
    next_tick, next_symbol = _next_chord(bar, index)
    span = _Span(chord.symbol, root, next_tick, next_symbol)
    later = [k for k in range(step + 1, len(events)) if span_of[k] == index]
    notes = [k for k in later if events[k] in NOTE_TOKENS]
    span.fills = [k for k in notes if events[k] == "W"]
    if notes and events[notes[-1]] == "W" and not next_symbol.is_no_chord:
        span.approach_step = span.fills.pop()
    return span


def _pitch(token, step, span: _Span, bar, style, line: _Line, rng) -> int:
    symbol, root = span.symbol, span.root
    if token in ("A", "S") and span.next_symbol.is_no_chord:
        token = "5"
    if token == "R":
        return root
    if token == "8":
        return line.beside(root, root, up=True)
    if token == "5_":
        return line.beside(symbol.root + _fifth(symbol), root, up=False)
    if token in ("3", "5", "6", "7"):
        interval = {"3": _third, "5": _fifth, "6": _sixth, "7": _seventh}[token](symbol)
        return line.beside(symbol.root + interval, root, up=True)
    if token == "A":
        target = line.target(span.next_tick, span.next_symbol.bass_pc)
        return _closest(line, [target - 1, target + 1], line.prev, rng)
    if token == "S":
        target = line.target(span.next_tick, span.next_symbol.bass_pc)
        scale = _scale_pcs(symbol, bar.key, walking=False)
        steps = [target + d for d in (-2, -1, 1, 2) if (target + d) % 12 in scale]
        return _closest(line, steps or [target - 1], line.prev, rng)
    return _walk(step, span, bar, style, line, rng)


def _third(symbol: ChordSymbol) -> int:
    below = [i for i in symbol.intervals() if i < 12]
    return next((i for group in ((3, 4), (2, 5)) for i in below if i in group), _fifth(symbol))


def _fifth(symbol: ChordSymbol) -> int:
    mod = [i % 12 for i in symbol.intervals()]
    return next((i for i in (7, 6, 8) if i in mod), 7)


def _sixth(symbol: ChordSymbol) -> int:
    mod = {i % 12 for i in symbol.intervals()}
    return 9 if 9 in mod or 8 not in mod else 8


def _seventh(symbol: ChordSymbol) -> int:
    below = [i for i in symbol.intervals() if i < 12]
    return next((i for i in below if i in (9, 10, 11)), 12)


def _closest(line: _Line, pitches: list[int], ref: int | None, rng) -> int:
    """The in-range pitch nearest `ref` (a coin decides ties)."""
    options = [p for p in pitches if line.low <= p <= line.high] or [line.clamp(pitches[0])]
    ref = ref if ref is not None else line.home
    best = min(abs(p - ref) for p in options)
    tied = [p for p in options if abs(p - ref) == best]
    return tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]


def _scale_pcs(symbol: ChordSymbol, key: Key | None, *, walking: bool) -> set[int]:
    """Pitch classes a line may use over `symbol`.

    Approaches (`walking` False) take the key's scale where it is known. Walking lines take the
    chord's tones, its tensions that fit the key, and the key's notes that are not a half step
    from a chord tone (F over Cmaj7, C over G7: the notes a player avoids leaning on).
    """
    tones = set(symbol.chord_tones()) | {symbol.bass_pc}
    if not walking:
        return set(key.pitch_classes()) if key is not None else tones | set(symbol.tensions())
    pcs = tones | {pc for pc in symbol.tensions() if key is None or key.contains(pc)}
    if key is not None:
        named = set(symbol.pitch_classes())  # tones and the extensions the symbol asks for
        clashes = {(t + d) % 12 for t in named for d in (-1, 1)} - named
        pcs |= {pc for pc in key.pitch_classes() if pc not in clashes}
    return pcs


def _walk(step: int, span: _Span, bar: BarPlan, style, line: _Line, rng) -> int:
    """A W that is not the first of its chord: the approach, or a step of the walk toward it."""
    prev = line.prev if line.prev is not None else span.root
    has_next = not span.next_symbol.is_no_chord
    target = line.target(span.next_tick, span.next_symbol.bass_pc) if has_next else None
    if span.approach_step is not None and span.approach is None:
        # the approach is chosen first so that the walk can aim at it
        avoid = prev if not span.fills else None
        span.approach = _approach(target, avoid, span, bar.key, line, rng)
    if step == span.approach_step:
        return span.approach
    goal = span.approach if span.approach is not None else target
    later_fills = [k for k in span.fills if k > step]
    moves_left = len(later_fills) + 1
    if goal is None:  # the next chord is N.C.: wander around the root
        goal, moves_left = span.root, 4
    forbid = {span.approach} if not later_fills and span.approach is not None else set()
    two_beats = 2 * beat_ticks(bar)
    strong = (step_onset(bar, style, step) - bar.start_ticks) % two_beats == 0  # beats 1 and 3
    scale = _scale_pcs(span.symbol, bar.key, walking=True)
    chord = set(span.symbol.chord_tones()) | {span.symbol.bass_pc}
    # a chromatic passing tone goes on the way it went: C C# D, not C C# C
    passing = 0
    if prev % 12 not in scale and line.before_prev is not None:
        passing = 1 if prev > line.before_prev else -1
    options, weights = [], []
    for pitch in range(max(line.low, prev - 7), min(line.high, prev + 7) + 1):
        size = abs(pitch - prev)
        if (
            pitch == prev
            or pitch in forbid
            or (passing and pitch - prev not in (passing, 2 * passing))
        ):
            continue
        before, after = abs(goal - prev), abs(goal - pitch)
        if pitch % 12 in scale:
            weight = _MOVE_WEIGHTS[size]
        elif size == 1 and after < before and (moves_left > 1 or after in (1, 2)):
            weight = _CHROMATIC_PASSING_WEIGHT
        else:
            continue
        if strong:
            weight *= 1.6 if pitch % 12 in chord else 0.6
        if after > 2 * moves_left + 3:  # too far to walk to the goal in time
            weight *= 1e-4
        elif after < before and before > moves_left:
            weight *= 1.5
        if moves_left == 1 and after > 5:
            weight *= 0.1
        if pitch == goal:  # arriving early at the approach note
            weight *= 0.3
        if pitch == line.before_prev:  # no back-and-forth trills
            weight *= 0.25
        options.append(pitch)
        weights.append(weight)
    if not options:
        return line.clamp(prev + (1 if prev < line.high else -1))
    total = sum(weights)
    return options[int(rng.choice(len(options), p=[w / total for w in weights]))]


def _approach(target, avoid, span: _Span, key, line: _Line, rng) -> int:
    """The last W before a chord change: a half step below or above the next bass, its
    dominant, or a scale step, chosen at random among those in range."""
    scale = _scale_pcs(span.symbol, key, walking=False) | _scale_pcs(
        span.next_symbol, key, walking=True
    )
    candidates = {
        "below": [target - 1],
        "above": [target + 1],
        "dominant": [target - 5, target + 7],
        "scale": [target + d for d in (-2, 2) if (target + d) % 12 in scale],
    }
    kinds, weights = [], []
    for kind, weight in _APPROACHES:
        # right after the root, not the root again in another octave (D2 D3 G2 over Dm7 G7)
        fits = [
            p
            for p in candidates[kind]
            if line.low <= p <= line.high and (avoid is None or (p - avoid) % 12 != 0)
        ]
        if fits:
            candidates[kind] = fits
            kinds.append(kind)
            weights.append(weight)
    if not kinds:
        return line.clamp(target + 1 if target + 1 != avoid else target - 1)
    total = sum(weights)
    kind = kinds[int(rng.choice(len(kinds), p=[w / total for w in weights]))]
    return _closest(line, candidates[kind], line.prev, rng)


def _play_final_bar(bar: BarPlan, part, style, line: _Line) -> list[Note]:
    """The song's last bar: each chord's bass on its first beat, held (the last to the end)."""
    gap = max(1, round(GAP_STEPS * step_ticks(bar, style)))
    notes = []
    for i, span in enumerate(bar.chords):
        if span.symbol.is_no_chord:
            continue
        pitch = line.play(line.chord_bass(span.start_ticks, span.symbol.bass_pc))
        end = span.end_ticks - (gap if i + 1 < len(bar.chords) else 0)
        velocity = base_velocity(bar, part, ACCENT_DOWNBEAT if i == 0 else ACCENT_BEAT)
        notes.append(Note(span.start_ticks, max(1, end - span.start_ticks), pitch, velocity))
    return notes
