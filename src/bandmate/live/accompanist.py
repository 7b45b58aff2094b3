"""The band: a style from the backing-track library played one bar at a time on the live chord.

The accompanist does not know how any style plays. For each bar it builds a one-bar `SongPlan`
(the plan the backing-track arranger makes for a whole song) holding the chords the player has
given for that bar, and hands it to the arranger's own players (`arrange.players.play`: the
drummer, the bass player, the comping and pad players) and its swing (`arrange.feel`). So a live
bar sounds as that bar would in `bandmate backing`, every style file works live with no code,
and a fix to a player is a fix here too.

What differs from a backing track, and why:

- The plan has no form: there are no sections, fills, intro or ending, because a live player's
  form is not known in advance. How hard the band plays ("low" or "high" patterns) follows how
  hard the player plays (their mean velocity over the last bar).
- The bar is in the player's meter (`meter`, by default the style's). A style written in
  another meter plays each bar as the backing-track arranger plays a bar of another meter in a
  song (`arrange.players`): beat for beat between a compound and a simple meter (a 4/4 groove
  in 12/8, its quarters on the dotted quarters), otherwise as many of the style's steps as fit
  (14 of a 4/4 groove's 16ths in a 7/8 bar). So a player in 7/8 hears the band in 7/8, not a
  4/4 band whose downbeats wander through their bars.
- The next chord is not known, so each bar's "next chord" is its own last chord: approach notes
  lead back to the chord that is sounding.
- Each bar is rendered alone, so comping voicings are not voice-led across bar lines (each bar
  starts from the voicing nearest the middle of the part's range, as arranger keyboards do).
- No humanization: the player is the human; the band keeps a tight grid.
- Variety: the generators' random choices are seeded by (seed, part, variation), where the
  variation is the phrase of four bars modulo `variations`; every bar of a phrase plays the same
  choices, so multi-bar patterns (a clave) play through, and phrases alternate.

A bar is rendered when the band reaches it and again whenever the chord changes inside it (the
new chord from the change on); renders are cached by everything they depend on (part,
variation, bar-in-phrase, chords, key, level), so a song's repeated changes cost a dictionary
look-up after the first time. A render costs 0.1-0.3 ms per part on the reference machine.

Notes come back as (onset, end) in beats from the bar's start with pitch and velocity.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from bandmate.arrange.feel import apply_swing
from bandmate.arrange.plan import ENERGY_INTENSITY, BarPlan, ChordSpan, SongPlan, bar_ticks
from bandmate.arrange.players import pattern_bars, play
from bandmate.arrange.style import Style
from bandmate.io.midi import DRUM_CHANNEL
from bandmate.theory.chords import ChordSymbol
from bandmate.theory.keys import Key

TICKS_PER_BEAT = 480
PHRASE_BARS = 4
HIGH_VELOCITY = 96  # a player's mean velocity from which the band plays its "high" patterns

# (onset beats, end beats, pitch, velocity), beats from the bar's start
BarNote = tuple[float, float, int, int]
Spans = tuple[tuple[int, ChordSymbol], ...]  # (tick in the bar, chord), the first at tick 0


def part_channels(style: Style) -> tuple[int, ...]:
    """A MIDI channel per part: drums on 10 (index 9), the others from 1 up, skipping 10."""
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out, k = [], 0
    for part in style.parts:
        if part.generator == "drums":
            out.append(DRUM_CHANNEL)
        else:
            out.append(free[k % len(free)])
            k += 1
    return tuple(out)


class Accompanist:
    """Renders bars of `style` for live chords (see the module docs).

    meter: the bar's time signature (default: the style's).
    variations: how many different phrases the band alternates between.
    cache_size: renders kept (least recently used first out), so memory stays bounded whatever
        the player does.
    """

    def __init__(
        self,
        style: Style,
        *,
        meter: tuple[int, int] | None = None,
        seed: int = 0,
        variations: int = 2,
        cache_size: int = 2048,
    ):
        self.style = style
        self.meter = tuple(meter or style.meter)
        self.parts = style.parts
        self.channels = part_channels(style)
        self.is_pitched = tuple(p.generator != "drums" for p in style.parts)
        self.bar_ticks = bar_ticks(self.meter, TICKS_PER_BEAT)
        self.bar_beats = self.bar_ticks / TICKS_PER_BEAT
        self.seed = seed
        self.variations = max(1, variations)
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()
        self.renders = 0  # how many bars were rendered (cache misses), for the report
        # how many bars a part's longest pattern spans: a bar's place in its phrase matters
        # only to a part that has multi-bar patterns
        self._pattern_bars = tuple(
            max(pattern_bars(v, style.grid) for variants in p.patterns.values() for v in variants)
            for p in style.parts
        )

    def level(self, mean_velocity: float) -> str:
        return "high" if mean_velocity >= HIGH_VELOCITY else "low"

    def render_part(
        self, index: int, bar: int, spans: Spans, key: Key | None, level: str
    ) -> tuple[BarNote, ...]:
        """Part `index`'s notes in bar number `bar` (from 0) over `spans`."""
        phrase_bars = self._pattern_bars[index]
        variation = (bar // PHRASE_BARS) % self.variations
        place = bar % PHRASE_BARS % phrase_bars if phrase_bars > 1 else 0
        if self.is_pitched[index]:
            cache_key = (index, variation, place, spans, key, level)
        else:
            cache_key = (index, variation, place, level)  # the drummer ignores the chords
        notes = self._cache.get(cache_key)
        if notes is not None:
            self._cache.move_to_end(cache_key)
            return notes
        notes = self._render(index, variation, place, spans, key, level)
        self._cache[cache_key] = notes
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return notes

    def _render(self, index, variation, place, spans: Spans, key, level) -> tuple[BarNote, ...]:
        self.renders += 1
        style, part = self.style, self.parts[index]
        length = self.bar_ticks
        chord_spans = tuple(
            ChordSpan(tick, spans[i + 1][0] if i + 1 < len(spans) else length, chord)
            for i, (tick, chord) in enumerate(spans)
        )
        plan = BarPlan(
            index=place,
            start_ticks=0,
            length_ticks=length,
            meter=self.meter,
            chords=chord_spans,
            next_chord=spans[-1][1],
            section="",
            part="body",
            chorus=1,
            intensity=ENERGY_INTENSITY["high" if level == "high" else "low"],
            starts_section=False,
            ends_section=False,
            bar_in_section=place,
            final=False,
            key=key,
        )
        song = SongPlan((plan,), TICKS_PER_BEAT, style.tempo_default, key, None)
        rng = np.random.default_rng([self.seed, index, variation])
        notes = play(song, part, style, rng)
        notes = apply_swing(notes, TICKS_PER_BEAT, style.swing, style.swing_unit)
        out = []
        for n in notes:
            end = min(n.end_ticks, length)  # a bar's notes end by its bar line
            if end > n.onset_ticks:
                out.append(
                    (n.onset_ticks / TICKS_PER_BEAT, end / TICKS_PER_BEAT, n.pitch, n.velocity)
                )
        return tuple(sorted(out))
