"""Measures of an arrangement that a musician would check by ear, computed from a Score.

- bass on the one: in how many bars (with a chord) the bass plays the chord's root, or its slash
  bass, on beat 1;
- chord tones on beats: of the comping and pad notes that start on a beat, how many are chord
  tones or usual tensions of the chord sounding there;
- drum dropouts: bars in which the drums play nothing at all.

Humanized and swung notes are counted as on a beat when they start within a 32nd note of it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from bandmate.score.model import Role, Score


@dataclass(frozen=True)
class ArrangementReport:
    bars: int
    bass_on_one: float  # share of bars with a chord whose beat 1 has the chord's bass
    chord_tones_on_beats: float  # share of on-beat comping notes that fit the chord
    comping_notes_on_beats: int
    drum_dropout_bars: tuple[int, ...]  # bar indices (from 0) where the drums are silent


def analyse_arrangement(score: Score) -> ArrangementReport:
    tpb = score.ticks_per_beat
    tolerance = tpb // 8
    grid = score.bar_grid
    # the bars in which some note starts: a final chord that rings on makes no bar of its own
    end = max((n.onset_ticks for t in score.tracks for n in t.notes), default=-1) + 1
    bar_starts = grid.bar_starts(end)
    chord_onsets = [c.onset_ticks for c in score.chords]

    def chord_at(tick: int):
        i = bisect.bisect_right(chord_onsets, tick) - 1
        return score.chords[i].symbol if i >= 0 else None

    def near(tick: int, target: int) -> bool:
        return abs(tick - target) <= tolerance

    bass = [n for t in score.tracks if t.role == Role.BASS for n in t.notes]
    comping = [n for t in score.tracks if t.role in (Role.CHORDS, Role.PAD) for n in t.notes]
    drums = sorted(n.onset_ticks for t in score.tracks if t.is_drum for n in t.notes)

    hits = total = 0
    for start in bar_starts:
        chord = chord_at(start + tolerance)
        if chord is None or chord.is_no_chord:
            continue
        total += 1
        on_one = [n for n in bass if near(n.onset_ticks, start)]
        hits += any(n.pitch % 12 == chord.bass_pc for n in on_one)

    fitting = on_beats = 0
    for n in comping:
        beat = grid.beat_ticks(n.onset_ticks)
        bar_start = grid.bar_start(grid.bar_at(n.onset_ticks + tolerance))
        offset = (n.onset_ticks - bar_start) % beat
        if min(offset, beat - offset) > tolerance:
            continue
        chord = chord_at(n.onset_ticks + tolerance)
        if chord is None or chord.is_no_chord:
            continue
        on_beats += 1
        allowed = set(chord.pitch_classes()) | set(chord.tensions())
        fitting += n.pitch % 12 in allowed

    dropouts = []
    for i, start in enumerate(bar_starts):
        stop = grid.bar_start(i + 1)
        k = bisect.bisect_left(drums, start - tolerance)
        if not (k < len(drums) and drums[k] < stop - tolerance):
            dropouts.append(i)
    return ArrangementReport(
        bars=len(bar_starts),
        bass_on_one=hits / total if total else 1.0,
        chord_tones_on_beats=fitting / on_beats if on_beats else 1.0,
        comping_notes_on_beats=on_beats,
        drum_dropout_bars=tuple(dropouts) if drums else tuple(range(len(bar_starts))),
    )
