"""The song plan: a chart laid out in time, bar by bar, with what each bar asks of the band.

`plan_song` turns a Chart (pure text structure) and a Style into a SongPlan: every bar of the
intro, of each chorus (a pass through the chart) and of the ending, with its tick position, its
chords as absolute tick spans, its section, an intensity that follows the form (a chorus is
louder and busier than a verse) and flags for fills and crashes. The part generators (drums,
bass, comping) read only the plan; none of them looks at the chart text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from bandmate.theory.chart import Bar, Chart, ChartChord
from bandmate.theory.chords import ChordSymbol, parse_chord
from bandmate.theory.keys import Key

# Section names that say how hard the band plays (case-insensitive). A key that is a whole word
# of the name wins over one that is only inside a word, so "Outro" is an outro, not the "out" of
# an out-chorus; among those of one kind the first row wins ("Pre-Chorus" is high); short keys
# (A, B, C) count only as whole words; anything else is "mid".
SECTION_ENERGY = (
    ("high", ("chorus", "refrain", "hook", "shout", "solo", "out", "drop", "climax")),
    ("low", ("intro", "verse", "head", "breakdown", "outro", "a")),
    ("mid", ("bridge", "pre", "b", "c", "interlude")),
)
# intensity 0..1 by energy level; generators pick their "low" or "high" pattern by it
ENERGY_INTENSITY = {"low": 0.55, "mid": 0.7, "high": 0.88}
HIGH_PATTERN_FROM = 0.75  # intensity at which the "high" patterns take over


@dataclass(frozen=True)
class ChordSpan:
    """A chord sounding from `start_ticks` to `end_ticks` (absolute song ticks)."""

    start_ticks: int
    end_ticks: int
    symbol: ChordSymbol


@dataclass(frozen=True)
class BarPlan:
    """One bar of the song as the band sees it.

    index: bar number in the song, from 0.
    start_ticks, length_ticks: where the bar lies.
    meter: (beats, beat unit), e.g. (4, 4), (6, 8).
    chords: the chord spans inside the bar (at least one; N.C. is a span too).
    next_chord: the first chord of the next bar (the bar after the last is the first chord of the
        song), for approach notes and anticipations.
    section: the section name ("Intro", "Verse", "A", "Ending", or "" where the chart gives none).
    part: "intro", "body" or "ending".
    chorus: which pass through the chart (0 for the intro, 1.. for the body, -1 for the ending).
    intensity: 0..1, how hard the band plays here.
    starts_section / ends_section: the bar opens a section (crash on beat 1) or is the last bar
        before another section (a fill).
    bar_in_section: bars since the section began (0 in its first bar): multi-bar patterns (a
        two-bar clave) count their bars from there.
    final: the song's very last bar (the band hits and holds).
    key: the key in force, if known.
    """

    index: int
    start_ticks: int
    length_ticks: int
    meter: tuple[int, int]
    chords: tuple[ChordSpan, ...]
    next_chord: ChordSymbol
    section: str
    part: str
    chorus: int
    intensity: float
    starts_section: bool
    ends_section: bool
    bar_in_section: int
    final: bool
    key: Key | None

    @property
    def end_ticks(self) -> int:
        return self.start_ticks + self.length_ticks

    @property
    def level(self) -> str:
        """Which pattern set the generators use: "low" or "high"."""
        return "high" if self.intensity >= HIGH_PATTERN_FROM else "low"

    def chord_at(self, ticks: int) -> ChordSymbol:
        """The chord sounding at absolute `ticks` inside this bar."""
        for span in reversed(self.chords):
            if span.start_ticks <= ticks:
                return span.symbol
        return self.chords[0].symbol


@dataclass(frozen=True)
class SongPlan:
    bars: tuple[BarPlan, ...]
    ticks_per_beat: int
    tempo_bpm: float
    key: Key | None
    title: str | None

    @property
    def end_ticks(self) -> int:
        return self.bars[-1].end_ticks if self.bars else 0


def section_energy(name: str) -> str:
    """ "low", "mid" or "high" for a section name (see SECTION_ENERGY)."""
    lowered = name.strip().lower()
    words = lowered.replace("-", " ").split()
    words += [w.rstrip("0123456789'") for w in words]  # "A2", "Verse2", "A'"
    for level, keys in SECTION_ENERGY:
        if any(key in words for key in keys):
            return level
    for level, keys in SECTION_ENERGY:
        if any(len(key) > 2 and key in lowered for key in keys):
            return level
    return "mid"


def bar_ticks(meter: tuple[int, int], ticks_per_beat: int) -> int:
    return meter[0] * ticks_per_beat * 4 // meter[1]


def _spans(bar: Bar, start_ticks: int, length_ticks: int) -> tuple[ChordSpan, ...]:
    beat_ticks = Fraction(length_ticks, bar.beat_count)
    return tuple(
        ChordSpan(start_ticks + round(a * beat_ticks), start_ticks + round(b * beat_ticks), chord)
        for a, b, chord in bar.spans()
    )


def _tonic_chord(chart: Chart) -> ChordSymbol:
    """The chord the ending lands on: the key's tonic triad, else the chart's last chord."""
    key = chart.bars[-1].key or chart.key
    if key is not None:
        return parse_chord(key.spell(key.tonic) + ("m" if key.is_minor else ""))
    for bar in reversed(chart.bars):
        for chord in reversed(bar.chords):
            if not chord.symbol.is_no_chord:
                return chord.symbol
    return chart.bars[-1].chords[-1].symbol


def plan_song(
    chart: Chart,
    *,
    tempo_bpm: float,
    ticks_per_beat: int = 480,
    choruses: int = 1,
    intro_bars: int = 0,
    ending_bars: int = 0,
    loop: bool = False,
    energy: str | None = None,
) -> SongPlan:
    """Lay out intro, `choruses` passes through the chart and an ending, bar by bar.

    The intro plays the chart's last `intro_bars` bars (a turnaround that leads into bar 1, as
    Band-in-a-Box does); the ending holds the tonic (from the key, else the chart's last chord)
    for `ending_bars` bars, the last of which is a hit that rings.

    A `loop` has no last bar: the band plays on through it and leads back into bar 1.

    `energy` ("low", "mid" or "high") sets how hard the band plays every pass through the chart,
    whatever its sections say (a loop pack's verse or chorus groove).
    """
    if energy is not None and energy not in ENERGY_INTENSITY:
        raise ValueError(f"energy is one of {', '.join(ENERGY_INTENSITY)}, not {energy!r}")
    if choruses < 1:
        raise ValueError("at least one chorus")
    if chart.key is None and not any(bar.key for bar in chart.bars):
        # a chart that names no key is in the one its chords name: the ending lands on its
        # tonic (Dm7 G7 Cmaj7 A7 ends on C, not on the A7), and the score says the key
        from bandmate.theory.chart import transpose_chart
        from bandmate.theory.harmony import chart_key

        chart = transpose_chart(chart, 0, chart_key(chart))  # (no move: the key is told)
    # (chart bar, part, chorus, section override)
    layout: list[tuple[Bar, str, int, str | None]] = []
    intro_source = chart.bars[-intro_bars:] if intro_bars else ()
    for bar in intro_source:
        layout.append((bar, "intro", 0, "Intro"))
    for chorus in range(1, choruses + 1):
        for bar in chart.bars:
            layout.append((bar, "body", chorus, None))
    if ending_bars:
        tonic = _tonic_chord(chart)
        last = chart.bars[-1]
        ending_bar = Bar((ChartChord(0, tonic),), last.meter, last.section, last.key)
        for _ in range(ending_bars):
            layout.append((ending_bar, "ending", -1, "Ending"))

    has_sections = any(bar.section for bar in chart.bars)
    plans: list[BarPlan] = []
    tick = 0
    previous_section = None
    bar_in_section = 0
    for i, (bar, part, chorus, override) in enumerate(layout):
        length = bar_ticks(bar.meter, ticks_per_beat)
        section = override or bar.section or ""
        # a new section starts where the chart says so, at each chorus and at intro/ending
        starts = (
            i == 0
            or section != previous_section
            or (part == "body" and bar.starts_section)
            or (part == "body" and bar is chart.bars[0])
        )
        bar_in_section = 0 if starts else bar_in_section + 1
        if part == "body" and energy is not None:
            level = energy
        elif part == "body" and has_sections:
            level = section_energy(section)
        elif part == "body":
            # no sections in the chart: the first pass is the quiet one, later passes build
            level = "low" if chorus == 1 else "high"
        else:
            level = "low" if part == "intro" else "high"
        plans.append(
            BarPlan(
                index=i,
                start_ticks=tick,
                length_ticks=length,
                meter=bar.meter,
                chords=_spans(bar, tick, length),
                next_chord=bar.chords[0].symbol,  # replaced below
                section=section,
                part=part,
                chorus=chorus,
                intensity=ENERGY_INTENSITY[level],
                starts_section=starts,
                ends_section=False,
                bar_in_section=bar_in_section,
                final=i == len(layout) - 1 and not loop,
                key=bar.key or chart.key,
            )
        )
        previous_section = section
        tick += length

    # link each bar to the next one: approach chords, fills before a new section
    linked = []
    for i, plan in enumerate(plans):
        nxt = plans[i + 1] if i + 1 < len(plans) else None
        linked.append(
            replace(
                plan,
                next_chord=(nxt or plans[0]).chords[0].symbol,
                ends_section=nxt is not None and nxt.starts_section and not loop,
            )
        )
    return SongPlan(
        bars=tuple(linked),
        ticks_per_beat=ticks_per_beat,
        tempo_bpm=tempo_bpm,
        key=chart.key,
        title=chart.title,
    )
