"""The comping and pad players: chord parts played from rhythm patterns.

A pattern has one space-separated token per grid step:

    x    a chord hit                    X    an accented chord hit
    -    hold what sounds one more step  .    a rest
    1-5  only that voice of the voicing (1 = lowest): arpeggios, fingerpicking, montuno
    d u  a strummed hit, down (low to high) or up (high to low), spread over the part's strum_ms
    ?    before a hit (?x ?X ?d ?u ?3): played about half the time, so repeated bars differ;
         a hit left out holds whatever came before it (a note rings on, a rest stays a rest)

    patterns.low = "x . . x . . x . . . x . . . x ."

How the player reads the song:

* Each hit voices the chord sounding at its step with `voicing.voice_lead` (kind: the part's
  `voicing`), so that the comping moves smoothly; repeated hits of one chord repeat its voicing.
* A chord hit (x X d u) off the beat within an 8th before a chord change that falls on a beat is
  a push: it plays the coming chord and holds into the change, taking the place of a hit there.
  Hits on beats, single voices (1-5) and hits in N.C. never push; they play the chord sounding.
* A note lasts until the next hit or rest, less a short gap (`GAP_STEPS` of a step; pads play
  legato, no gap). A note held into a chord change is cut there and, unless the hold ends within
  half a step, the new chord sounds in its place: comping never sustains a wrong chord.
* N.C. is silence. The song's final bar is one hit on beat 1 that rings to the end of the bar.
* Velocity: `base_velocity` with accent 1.15 for X, 0.9 off the beat, else 1.0.

The `pad` generator is this player with legato notes: patterns like "x - - - - - - -" sustain
each chord and re-strike where the pattern hits.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from bandmate.arrange.feel import trim_overlaps
from bandmate.arrange.plan import BarPlan
from bandmate.arrange.players import (
    base_velocity,
    check_steps,
    choose_pattern,
    step_is_beat,
    step_onset,
    step_ticks,
    steps_in_bar,
)
from bandmate.arrange.style import StyleError
from bandmate.arrange.voicing import KINDS, voice_lead
from bandmate.score.model import Note
from bandmate.theory.chords import ChordSymbol

HIT_TOKENS = ("x", "X", "d", "u", "1", "2", "3", "4", "5")
ACCENT = 1.15
OFF_BEAT = 0.9
OPTIONAL_CHANCE = 0.5
GAP_STEPS = 0.125  # the silence between a comping note and the next hit, in steps


@dataclass(frozen=True)
class _Step:
    """One grid step of the song, its token resolved (no "?" left): x X d u 1-5 - ."""

    onset: int
    end: int
    token: str
    bar: BarPlan
    is_beat: bool


@dataclass
class _Sounding:
    """The hit that is sounding: its notes all end together when it is closed."""

    onset: int
    chord: ChordSymbol
    token: str
    velocity: int
    pitches: tuple[int, ...]


def check_pattern(pattern, grid: int) -> str | None:
    """What is wrong with a comp or pad pattern, or None."""
    if not isinstance(pattern, str):
        return 'a comp pattern is a string of space-separated steps, e.g. "x . x . x . x ."'
    tokens = pattern.split()
    problem = check_steps(len(tokens), grid)
    if problem:
        return problem
    for token in tokens:
        if token.removeprefix("?") not in HIT_TOKENS and token not in ("-", "."):
            return f"unknown step {token!r}; use x X - . 1-5 d u, with ? before an optional hit"
    return None


def play(song, part, style, rng) -> list[Note]:
    """The part's notes for the whole song (comp, or pad when `part.generator` is "pad")."""
    if part.voicing not in KINDS:
        raise StyleError(
            f"Part {part.name} asks for voicing {part.voicing!r}; use one of {', '.join(KINDS)}."
        )
    if not song.bars:
        return []
    return _Player(song, part, style, rng).run()


class _Player:
    def __init__(self, song, part, style, rng):
        self.song, self.part, self.style, self.rng = song, part, style, rng
        self.legato = part.generator == "pad"
        self.phrases: dict = {}  # multi-bar variants in play (see players.choose_pattern)
        self.spans = _merged_spans(song)
        self.span_starts = [s[0] for s in self.spans]
        self.bar_starts = [b.start_ticks for b in song.bars]
        self.strum_ticks = part.strum_ms / 1000 * song.tempo_bpm / 60 * song.ticks_per_beat
        self.steps = self._steps()
        first = song.bars[0]
        self.gap_ticks = max(1, round(step_ticks(first, style) * GAP_STEPS))
        self.notes: list[Note] = []
        self.sounding: _Sounding | None = None
        self.voiced: tuple[ChordSymbol | None, tuple[int, ...] | None] = (None, None)
        self.absorb_at: int | None = None  # a hit here is held: a push already played it

    # --- the song as one stream of steps

    def _steps(self) -> list[_Step]:
        steps = []
        for bar in self.song.bars:
            count = steps_in_bar(bar, self.style)
            onsets = [step_onset(bar, self.style, k) for k in range(count)] + [bar.end_ticks]
            tokens = self._bar_tokens(bar, count)
            for k in range(count):  # the last step runs to the bar line
                is_beat = step_is_beat(bar, self.style, k)
                steps.append(_Step(onsets[k], onsets[k + 1], tokens[k], bar, is_beat))
        return steps

    def _bar_tokens(self, bar, count: int) -> list[str]:
        if bar.final:
            return ["X"] + ["-"] * (count - 1)
        written = choose_pattern(bar, self.part, self.rng, self.style.grid, self.phrases).split()
        tokens = []
        for k in range(count):
            token = written[k % len(written)]
            if token.startswith("?"):
                token = token[1:] if self.rng.random() < OPTIONAL_CHANCE else "-"
            tokens.append(token)
        return tokens

    # --- chords in time

    def chord_at(self, ticks: int) -> ChordSymbol:
        i = bisect.bisect_right(self.span_starts, ticks) - 1
        return self.spans[max(i, 0)][2]

    def next_change(self, ticks: int) -> int | None:
        """The first chord change after `ticks`, or None."""
        i = bisect.bisect_right(self.span_starts, ticks)
        return self.span_starts[i] if i < len(self.spans) else None

    def _bar_at(self, ticks: int):
        return self.song.bars[bisect.bisect_right(self.bar_starts, ticks) - 1]

    def _push_target(self, step: _Step) -> int | None:
        """The change a chord hit on `step` anticipates, or None."""
        if step.is_beat or step.token not in "xXdu" or self.chord_at(step.onset).is_no_chord:
            return None  # no pushes out of N.C.: it stays silent to the change
        change = self.next_change(step.onset)
        if change is None or change - step.onset > self.song.ticks_per_beat // 2:
            return None
        bar = self._bar_at(change)
        on_beat = (change - bar.start_ticks) * bar.meter[0] % bar.length_ticks == 0
        if not on_beat or bar.final or self.chord_at(change).is_no_chord:
            return None
        return change

    # --- playing

    def run(self) -> list[Note]:
        for i, step in enumerate(self.steps):
            token = step.token
            if token in "xXdu" and step.onset == self.absorb_at and self.sounding is not None:
                token = "-"  # the push is still sounding: it takes this hit's place
            if token == ".":
                self._close(step.onset)
            elif token in HIT_TOKENS:
                self._close(step.onset)
                target = self._push_target(step)
                self.absorb_at = target
                chord = self.chord_at(step.onset if target is None else target)
                velocity = self._velocity(step, token)
                self._start(step.onset, chord, token, velocity)
            self._follow_changes(i, step)
        self._close(self.song.end_ticks, gap=False)
        return trim_overlaps(self.notes)

    def _velocity(self, step: _Step, token: str) -> int:
        accent = ACCENT if token == "X" else (1.0 if step.is_beat else OFF_BEAT)
        return base_velocity(step.bar, self.part, accent)

    def _follow_changes(self, i: int, step: _Step) -> None:
        """Cut and re-voice a sounding chord at each change inside this step."""
        cursor = step.onset - 1
        while self.sounding is not None:
            change = self.next_change(max(self.sounding.onset, cursor))
            if change is None or change >= step.end:
                return
            cursor = change
            chord = self.chord_at(change)
            held = self.sounding
            if chord == held.chord:  # a push arriving at its chord
                continue
            self._close(change)
            if chord.is_no_chord or self._hold_end(i) - change <= (step.end - step.onset) / 2:
                return
            bar = self._bar_at(change)
            accent = 1.0 if step.is_beat and change == step.onset else OFF_BEAT
            velocity = base_velocity(bar, self.part, accent)
            self._start(change, chord, held.token, velocity)

    def _hold_end(self, i: int) -> int:
        """Where the held region that step `i` belongs to ends (the next hit or rest)."""
        for step in self.steps[i + 1 :]:
            if step.token != "-":
                return step.onset
        return self.song.end_ticks

    def _voicing(self, chord: ChordSymbol) -> tuple[int, ...]:
        last_chord, last = self.voiced
        if chord == last_chord and last:
            return last
        part = self.part
        voicing = voice_lead(last, chord, part.voicing, part.low_pitch, part.high_pitch)
        if voicing:
            self.voiced = (chord, voicing)
        return voicing

    def _start(self, onset: int, chord: ChordSymbol, token: str, velocity: int) -> None:
        if chord.is_no_chord:
            return
        voicing = self._voicing(chord)
        if not voicing:
            return
        if token.isdigit():
            voicing = (voicing[min(int(token), len(voicing)) - 1],)
        self.sounding = _Sounding(onset, chord, token, velocity, voicing)

    def _close(self, end: int, gap: bool = True) -> None:
        s = self.sounding
        if s is None:
            return
        self.sounding = None
        if gap and not self.legato:
            end -= self.gap_ticks
        end = max(end, s.onset + 1)
        pitches = sorted(s.pitches, reverse=s.token == "u")
        spread = min(self.strum_ticks, (end - s.onset) / 2) if s.token in "du" else 0
        for j, pitch in enumerate(pitches):
            onset = s.onset + (round(spread * j / (len(pitches) - 1)) if len(pitches) > 1 else 0)
            if end > onset:
                self.notes.append(Note(onset, end - onset, pitch, s.velocity))


def _merged_spans(song) -> list[tuple[int, int, ChordSymbol]]:
    """The song's chord spans, consecutive spans of one chord joined: a change is a new chord."""
    spans: list[tuple[int, int, ChordSymbol]] = []
    for bar in song.bars:
        for span in bar.chords:
            if spans and spans[-1][2] == span.symbol:
                spans[-1] = (spans[-1][0], span.end_ticks, span.symbol)
            else:
                spans.append((span.start_ticks, span.end_ticks, span.symbol))
    return spans
