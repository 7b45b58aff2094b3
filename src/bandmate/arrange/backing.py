"""Backing tracks: a chord chart and a style in, a Score with one track per part out.

    chart ─► plan_song ─► SongPlan ─► each part's player ─► swing ─► groove ─► humanize ─► Score

Everything random is drawn from generators seeded by (seed, part number), so the same seed gives
the same notes and changing one part's style leaves the other parts as they were.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from bandmate.arrange.feel import Groove, apply_groove, apply_swing, humanize, trim_overlaps
from bandmate.arrange.plan import ENERGY_INTENSITY, SongPlan, plan_song
from bandmate.arrange.players import beat_mapped, play
from bandmate.arrange.style import Style, load_style
from bandmate.errors import ChartError, UserError
from bandmate.score.model import (
    ChordEvent,
    KeyChange,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from bandmate.theory.chart import Chart, parse_chart, transpose_chart
from bandmate.theory.keys import Key, parse_key

TEMPO_RANGE_BPM = (20.0, 400.0)
TICKS_PER_BEAT = 480
# The longest song made: an hour. --choruses 1000 by mistake would otherwise plan, write and
# render for hours (and hold gigabytes of audio) before failing.
MAX_SONG_MINUTES = 60


def check_tempo(tempo_bpm: float) -> None:
    low, high = TEMPO_RANGE_BPM
    if not low <= tempo_bpm <= high:
        raise UserError(
            f"Tempo {tempo_bpm:g} BPM is outside {low:g}-{high:g}; give a tempo in that range."
        )


def check_seed(seed: int) -> None:
    """A seed is a whole number from 0 up: the generators are seeded by (seed, part), and NumPy
    takes no negative entropy."""
    if seed < 0:
        raise UserError(f"The seed must be a whole number from 0 up, not {seed}.")


def chart_minutes(chart: Chart, tempo_bpm: float) -> float:
    """How long one pass through `chart` plays at `tempo_bpm` (quarter notes a minute)."""
    quarters = sum(Fraction(4 * bar.meter[0], bar.meter[1]) for bar in chart.bars)
    return float(quarters) / tempo_bpm


def check_length(chart: Chart, tempo_bpm: float, choruses: int) -> None:
    """Refuse `choruses` passes through `chart` that would run past MAX_SONG_MINUTES."""
    minutes = chart_minutes(chart, tempo_bpm) * choruses
    if minutes > MAX_SONG_MINUTES:
        raise UserError(
            f"{choruses} choruses of this chart at {tempo_bpm:g} BPM would run {minutes:.0f} "
            f"minutes, past the {MAX_SONG_MINUTES}-minute limit; give fewer choruses."
        )


def prepare_chart(chart: Chart | str, key: str | None, meter: tuple[int, int] = (4, 4)) -> Chart:
    """Parse the chart if needed and bring it to `key`.

    A chart that names its key is transposed to `key`; a chart that names none is taken to be in
    `key` (its chords stay as written). Chart text without a time signature is read in `meter`.
    """
    if isinstance(chart, str):
        if not chart.strip():
            raise ChartError("the chart is empty; write bars like '| C | Am | F | G |'.")
        chart = parse_chart(chart, meter)
    if key is None:
        return chart
    target = parse_key(key)
    if chart.key is None:
        return transpose_chart(chart, 0, target)
    target = played_key(chart.key, key)
    shift = (target.tonic - chart.key.tonic) % 12
    shift = shift - 12 if shift > 6 else shift  # move by the smaller interval
    return transpose_chart(chart, shift, target)


def played_key(chart_key: Key, asked: str) -> Key:
    """The key a chart written in `chart_key` plays in when the user asks for the key `asked`.

    The chart is moved to the asked tonic and keeps its own mode: a tonic alone ("C" for a chart
    in Am) asks only where to play it (C minor), and so does a plain "minor" or "major" that
    agrees with the chart's third ("Em" for a chart in D dorian: E dorian). A key whose mode
    contradicts the chart's ("Em" for a chart in G major) is refused: moving the chords cannot
    change a major tune to a minor one, and it played in E major under the name Em.
    """
    target = parse_key(asked)
    tonic_only = re.fullmatch(r"\s*[A-Ga-g][#♯b♭]{0,2}\s*", asked) is not None
    generic = target.mode in ("major", "minor") and target.is_minor == chart_key.is_minor
    if not (tonic_only or generic or target.mode == chart_key.mode):
        raise UserError(
            f"The chart is in {chart_key.tonic_name} {chart_key.mode}, and the key "
            f"{asked.strip()} is {target.mode}, which moving its chords cannot make; ask for "
            f"{target.tonic_name} alone to play it in {target.tonic_name} {chart_key.mode}, or "
            "write the chart's own key as you want it."
        )
    return target if target.mode == chart_key.mode else Key(target.tonic, chart_key.mode)


def backing(
    chart: Chart | str,
    *,
    style: str | Style,
    tempo_bpm: float | None = None,
    key: str | None = None,
    choruses: int = 1,
    seed: int = 0,
    intro: bool = True,
    ending: bool = True,
    groove: Groove | None = None,
    loop: bool = False,
    energy: str | None = None,
) -> Score:
    """A backing track for `chart` in `style`: one named track per part of the style.

    Without intro and ending the song is exactly the chart (times `choruses`) from beat 0. A
    `loop` has neither, and its last bar leads back into its first instead of ending. `energy`
    ("low", "mid" or "high") plays every pass at that energy, whatever the chart's sections say.
    """
    style = style if isinstance(style, Style) else load_style(style)
    if energy is not None and energy not in ENERGY_INTENSITY:
        raise UserError(f"Energy is low, mid or high, not {energy!r}.")
    tempo_bpm = style.tempo_default if tempo_bpm is None else float(tempo_bpm)
    check_tempo(tempo_bpm)
    check_seed(seed)
    if choruses < 1:
        raise UserError(f"Choruses must be at least 1, got {choruses}.")
    chart = prepare_chart(chart, key, style.meter)
    check_length(chart, tempo_bpm, choruses)
    song = plan_song(
        chart,
        tempo_bpm=tempo_bpm,
        ticks_per_beat=TICKS_PER_BEAT,
        choruses=choruses,
        intro_bars=min(style.intro_bars, len(chart)) if intro and not loop else 0,
        ending_bars=style.ending_bars if ending and not loop else 0,
        loop=loop,
        energy=energy,
    )
    tracks = tuple(
        Track(
            part.name,
            program=part.program,
            is_drum=part.generator == "drums",
            role=part.role,
            notes=tuple(_perform(song, style, part, index, seed, groove, end_at=not loop)),
        )
        for index, part in enumerate(style.parts)
    )
    return plan_score(song, tracks)


def _perform(
    song: SongPlan,
    style: Style,
    part,
    index: int,
    seed: int,
    groove: Groove | None,
    *,
    end_at: bool = True,
):
    """One part: the player's notes on the grid, then swing, groove and human feel.

    With `end_at`, no note rings past the song's last bar line: a last chord nudged late by the
    human feel held on a few ticks past it, so that song.mid of a 4-bar chart played with
    --no-intro --no-ending ran 7684 ticks, which a DAW takes as five bars. (A loop's notes are
    cut at its end where its MIDI is written, and what rings over is folded onto its start.)"""
    rng = np.random.default_rng([seed, index])
    notes = play(song, part, style, rng)
    bar_starts = [b.start_ticks for b in song.bars]
    straight = {b.start_ticks for b in song.bars if beat_mapped(b, style)}  # on the triplet already
    notes = apply_swing(
        notes, song.ticks_per_beat, style.swing, style.swing_unit, bar_starts, straight
    )
    if groove is not None:
        lengths = [b.length_ticks for b in song.bars]
        notes = apply_groove(notes, groove, song.ticks_per_beat, bar_starts, lengths)
    ticks_per_second = song.ticks_per_beat * song.tempo_bpm / 60
    notes = humanize(
        notes,
        rng,
        ticks_per_second=ticks_per_second,
        timing_ms=style.timing_ms,
        velocity_jitter=style.velocity_jitter,
    )
    notes = trim_overlaps(notes)  # a nudged onset must not land inside the same pitch's last note
    if not end_at:
        return notes
    end = song.end_ticks
    return [
        n if n.end_ticks <= end else Note(n.onset_ticks, end - n.onset_ticks, n.pitch, n.velocity)
        for n in notes
        if n.onset_ticks < end
    ]


def plan_score(song: SongPlan, tracks: tuple[Track, ...] = ()) -> Score:
    """The Score of a song plan with `tracks`: its meters, keys, sections, and a chord at every
    bar's start and at each change (with no tracks: the lead sheet's skeleton)."""
    meters, keys, chords, sections = [], [], [], []
    for bar in song.bars:
        if not meters or (meters[-1].numerator, meters[-1].denominator) != bar.meter:
            meters.append(TimeSignature(bar.start_ticks, *bar.meter))
        if bar.key is not None and (not keys or keys[-1].key != bar.key):
            keys.append(KeyChange(bar.start_ticks, bar.key))
        for span in bar.chords:
            if (
                not chords
                or chords[-1].symbol != span.symbol
                or span.start_ticks == bar.start_ticks
            ):
                chords.append(ChordEvent(span.start_ticks, span.symbol))
        if bar.starts_section and bar.section:
            sections.append(Section(bar.start_ticks, bar.section))
    return Score(
        tracks=tracks,
        ticks_per_beat=song.ticks_per_beat,
        tempos=(TempoChange.from_bpm(0, song.tempo_bpm),),
        time_signatures=tuple(meters),
        keys=tuple(keys),
        chords=tuple(chords),
        sections=tuple(sections),
        title=song.title,
    )
