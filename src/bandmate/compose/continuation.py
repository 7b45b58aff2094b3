"""Continuing a piece, and regenerating bars inside one, with the melody model.

**Continue** (`continue_piece`): the piece's melody (its MELODY track, else its top voice) and
chords (its own, else labelled by `theory.harmony`) become the prompt, in the style the model
finds most likely for it (each STYLE prefix is scored on the tune; the best wins). The model
writes the `bars` bars after the input's last bar as written (`written_end`), chords included:
it learnt to write a chord at every bar. Everything the input holds is kept unchanged, a rest
that closes its last bar included; a last note held over that bar's line rings on into the
first new bar, under the chord the model writes on its downbeat, and the new melody starts
when it ends. The new notes join the melody's track.
Other parts continue the way an arranger keyboard plays a style: each repeats its last bar
(the last it starts notes in, not a closing tie), moved to each new chord (by the root, with
chord tones snapped to the new chord's nearest tones); drums repeat their last bar as it is.

**Infill** (`infill_bars`): bars A..B of the melody are written again under the piece's own
chords (a `LeadSheetGuide` with the chords fixed, and no lean to a closing cadence in the
gap's last bar unless it is the piece's last), prompted by the bars before them; every
other bar and every other part is kept. A left-to-right model does not see the bars after the
gap, so the gap's last note is cut where bar B ends.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from bandmate.compose.harmonize import as_written, melody_line, played_end
from bandmate.compose.leadsheet import PlannedBar, plan_bars
from bandmate.compose.melody import (
    DENSITY,
    MelodySettings,
    _bar_starts,
    _header,
    _latest_bars,
    _with_meter,
    _write_bars,
    load_melody_model,
    settle_style,
)
from bandmate.errors import UserError
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import (
    PITCH_BEND,
    SOSTENUTO_PEDAL,
    SUSTAIN_PEDAL,
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Role,
    Score,
    TimeSignature,
    Track,
)
from bandmate.score.transform import controls_at_rest, controls_window, rescale
from bandmate.theory.chords import ChordSymbol
from bandmate.theory.keys import Key

__all__ = ["DENSITY", "continue_piece", "infill_bars"]

#: what a repeated accompaniment bar plays again of its bar's controllers: the sustain,
#: sostenuto and soft pedals and expression
_REPEATED = (SUSTAIN_PEDAL, SOSTENUTO_PEDAL, 67, 11)


def lead_sheet(
    score: Score, notes: Sequence[Note], until_ticks: int = 0, key_at_ticks: int = 0
) -> Score:
    """The melody notes with the piece's meters, key and chords (labelled when it has none),
    the chords restated on every bar up to `until_ticks` (in the score's ticks; 0: the
    melody's end): the bars where the other parts play on after the tune.

    The melody model takes one key, in the header; the sheet states the key in force at
    `key_at_ticks` (where the new bars go), so that a tune that modulates is continued in the
    key it ends in, not the one it began in."""
    track = Track("Melody", role=Role.MELODY, notes=tuple(notes))
    melody = score.replace(tracks=(track,))
    chords = score.chords or _labelled(score, notes)
    key = _key_at(melody, key_at_ticks)
    keys = () if key is None else (KeyChange(0, key),)
    sheet = rescale(melody.replace(chords=chords, keys=keys), 480)
    until = round(until_ticks * 480 / score.ticks_per_beat)
    return sheet.replace(chords=_on_every_bar(sheet, until))


def _key_at(score: Score, ticks: int) -> Key | None:
    """The key in force at `ticks` (the first one before any is stated), as the labeller reads
    keys (a church mode as it is, so G mixolydian chords are labelled with F, not D7; the
    melody model's header reads it as major or minor by its third); the key the notes suggest
    when none is stated."""
    from bandmate.theory.harmony import key_of

    if not score.keys:
        return key_of(score) if any(t.notes for t in score.tracks) else None
    stated = [k for k in score.keys if k.onset_ticks <= ticks] or [score.keys[0]]
    return key_of(score.replace(keys=(KeyChange(0, stated[-1].key),)))


def _on_every_bar(sheet: Score, until_ticks: int = 0) -> tuple[ChordEvent, ...]:
    """The chords, restated at the start of every bar they sound through up to `until_ticks`
    (0: the sheet's end), as the melody model learnt them (and as `chart_skeleton` writes a
    chart)."""
    if not sheet.chords:
        return ()
    grid = sheet.bar_grid
    chords = {c.onset_ticks: c for c in sheet.chords}
    # up to `until_ticks` when given: a last note held over the piece's end opens no bar
    for start in grid.bar_starts(until_ticks or sheet.end_ticks):
        if start not in chords and (sounding := _chord_at(sheet.chords, start)) is not None:
            chords[start] = ChordEvent(start, sounding)
    return tuple(chords[t] for t in sorted(chords))


def _settled(settings: MelodySettings | None, style: str, notes: Sequence[Note]) -> MelodySettings:
    """The settings with the style chosen and, when none is given, the tune's own range
    widened by a minor third each way (at least an octave)."""
    from dataclasses import replace

    settings = replace(settings or MelodySettings(), style=style)
    if settings.pitch_range is None:
        low, high = min(n.pitch for n in notes) - 3, max(n.pitch for n in notes) + 3
        if high - low < 12:
            low, high = low - (12 - (high - low)) // 2, low + 12
        settings = replace(settings, pitch_range=(max(36, low), min(96, high)))
    return settings


def _octave_shift(notes: Sequence[Note], tok) -> int:
    """The octaves (in semitones) that bring a tune into the model's pitch range, 0 when it is
    in it. A tune above or below it (a piccolo part, a bass line) is written an octave or more
    away, in the range, and the new notes are moved back: the model's pitch tokens stop at its
    range, and left there the tune had no room to go on (no note added, or no token to choose)."""
    low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
    if low < tok.lowest_pitch:
        return 12 * -(-(tok.lowest_pitch - low) // 12)
    if high > tok.highest_pitch:
        return -12 * -(-(high - tok.highest_pitch) // 12)
    return 0


def _moved(notes: Sequence[Note], semitones: int) -> tuple[Note, ...]:
    if not semitones:
        return tuple(notes)
    return tuple(
        Note(n.onset_ticks, n.duration_ticks, n.pitch + semitones, n.velocity) for n in notes
    )


def likeliest_style(trained, sheet: Score) -> str | None:
    """The STYLE, of those the model learnt (`compose.melody.learnt_styles`), under which it
    finds the tune most probable; None for a model that learnt none (one trained on a user's
    own tunes), which is prompted without a STYLE token."""
    from bandmate.compose.melody import learnt_styles
    from bandmate.models.scoring import sequence_log_probs

    tok = trained.tokenizer
    styles = learnt_styles(trained)
    styles = tok.styles if styles is None else styles
    if not styles:
        return None
    sequences = [np.asarray(tok.encode(sheet, style=s), dtype=np.int64) for s in styles]
    log_probs = sequence_log_probs(trained.model, trained.task, sequences)
    totals = [float(lp[1:].sum()) for lp in log_probs]  # the style token itself is not counted
    return styles[int(np.argmax(totals))]


def _meter_at_end(score: Score) -> tuple[int, int]:
    last = score.time_signatures[-1]
    return last.numerator, last.denominator


def check_length(score: Score, bars: int) -> None:
    """Refuse `bars` new bars that would run past the backing's MAX_SONG_MINUTES at the piece's
    last meter and tempo: `--bars 100000` ran for hours with no word."""
    from bandmate.arrange.backing import MAX_SONG_MINUTES

    meter = score.time_signatures[-1]
    quarters = 4 * meter.numerator / meter.denominator
    minutes = bars * quarters / score.tempos[-1].tempo_bpm
    if minutes > MAX_SONG_MINUTES:
        raise UserError(
            f"{bars} more bars of this piece would run {minutes:.0f} minutes, past the "
            f"{MAX_SONG_MINUTES}-minute limit; give fewer --bars."
        )


def continue_piece(
    score: Score,
    bars: int,
    *,
    settings: MelodySettings | None = None,
    model=None,
    progress: ProgressCallback = no_progress,
) -> tuple[Score, str | None]:
    """(the piece followed by `bars` new bars, a warning when its melody was a top voice);
    `progress(bars written, bars)` as the model writes them.

    settings.style None (the default here): the style the model finds likeliest for the tune.
    """
    if bars < 1:
        raise UserError(f"--bars must be at least 1, got {bars}.")
    check_length(score, bars)
    trained = load_melody_model(model)
    tok = trained.tokenizer
    notes, warning = melody_line(score)
    shift = _octave_shift(notes, tok)
    # the new bars follow the input's last bar as written, its closing rest kept (the model
    # used to finish that bar, writing into the rest); a last note held over that bar's end
    # rings on into the first new bar, and the new melody begins once it is let go
    end = written_end(score)
    last_bar = score.bar_grid.bar_at(end - 1)
    written_notes = _moved(as_written(score, notes), shift)
    sheet = lead_sheet(score, written_notes, until_ticks=end, key_at_ticks=end - 1)
    style = settings.style if settings and settings.style else likeliest_style(trained, sheet)
    settings = settle_style(_settled(settings, style, written_notes), trained)
    tokens = tok.encode(sheet, style=style)[:-1]
    grid = sheet.bar_grid
    # the prompt ends where the input does: the bar a last note rings into (held an eighth
    # past the line, as played) is cut off, its DUR telling the model that the note rings on;
    # left in, the model's first bar came a bar late and the new first bar stayed nearly empty.
    # Bars of the input after the tune's last note or chord (the band playing on, a closing
    # rest bar) may have no token of their own: each is opened
    tokens = _tokens_before_bar(tok, tokens, last_bar + 1)
    bar_token = tok.token_id("BAR")
    tokens += [bar_token] * (last_bar + 1 - _bars_in(tok, tokens))
    tokens = _in_last_key(tok, tokens, score, end)
    meter = _meter_at_end(sheet)
    length = TimeSignature(0, *meter).bar_ticks(tok.steps_per_beat)  # in steps
    planned = [PlannedBar([bar_token], meter, length) for _ in range(bars)]
    held_480 = max(n.end_ticks for n in written_notes) * 480 // score.ticks_per_beat
    held_480 -= grid.bar_start(last_bar + 1)
    step_480 = 480 // tok.steps_per_beat
    prompt = _fit_prompt(tok, tokens, trained.model.config.max_len // 2)
    written = _write_bars(
        trained,
        prompt,
        planned,
        settings,
        fixed_chords=False,
        held_steps=max(0, -(-held_480 // step_480)),
        progress=progress,
    )
    new_notes, new_chords = _new_events(tok, prompt, written)
    new_notes = _moved(new_notes, -shift)
    offset = grid.bar_start(last_bar) - _decoded_bar_start(tok, prompt, _bars_in(tok, prompt) - 1)
    out = _extend(score, notes, new_notes, new_chords, offset, end)
    out = _continue_other_parts(out, score, end, bars)
    return out, warning


def _in_last_key(tok, tokens: list[int], score: Score, end: int) -> list[int]:
    """The prompt from the bar where the key the piece ends in is stated: the header names that
    key alone, and with the bars before the change in the prompt too (C major, then A), the
    model went on writing notes of the first key (G and F naturals in A major: 9.6% of the new
    notes over 12 seeds, where the A major bars alone gave 0%)."""
    # a key signature restated (MIDI files repeat it, as read_midi keeps it) is no change: the
    # prompt of an 8-bar tune in C with C stated again at bar 7 was cut to its last 2 bars
    keys = sorted(score.keys, key=lambda k: k.onset_ticks)
    changes = [
        k
        for before, k in itertools.pairwise(keys)
        if 0 < k.onset_ticks < end and k.key != before.key
    ]
    if not changes:
        return tokens
    bar = score.bar_grid.bar_at(changes[-1].onset_ticks)
    first = _first_bar_index(tok, tokens)
    starts = _bar_starts(tok, tokens[first:])
    if not 0 < bar < len(starts):
        return tokens
    return _header(tok, tokens) + _with_meter(tok, tokens[first:], starts[bar])


def written_end(score: Score) -> int:
    """Where the piece ends as written, in ticks: the end of the last bar in which a note or a
    chord symbol starts (a note played up to a 32nd before a bar line counts in the bar it
    anticipates, as a humanized downbeat), or of a later bar that a note is held through at
    least half of: a tie written into a last bar that rests after it (`F8-|F4 z4|`), a
    closing chord let ring. A last note held into less than half of the next bar rings over
    the piece's end, as a note held a little long: the piece does not gain a bar for it
    (`continue --bars 2` made three bars of such a tune). A note let go less than a 16th
    after the line (`played_end`) is a release, not a hold. A closing bar that only rests
    counts when the file wrote it (the Score's `written_end_ticks`, from the measures of
    MusicXML or ABC, or a MIDI file's end of track): `| C D E F | z4 |` is two bars."""
    grid = score.bar_grid
    early = score.ticks_per_beat // 8
    onsets = [n.onset_ticks for t in score.tracks for n in t.notes]
    onsets += [c.onset_ticks for c in score.chords]
    last = max(grid.bar_at(t + early) for t in onsets)
    sounding = played_end(score, max(n.end_ticks for t in score.tracks for n in t.notes))
    while 2 * (sounding - (line := grid.bar_start(last + 1))) >= grid.bar_start(last + 2) - line:
        last += 1
    if score.written_end_ticks:
        last = max(last, grid.bar_at(score.written_end_ticks - 1))
    return grid.bar_start(last + 1)


def _fit_prompt(tok, tokens: list[int], budget: int) -> list[int]:
    if len(tokens) <= budget:
        return list(tokens)
    header = _header(tok, tokens)
    first = next(i for i, t in enumerate(tokens) if tok.meaning(t)[0] in ("meter", "bar"))
    return header + _latest_bars(tok, tokens[first:], budget - len(header))


def _bars_in(tok, tokens: Sequence[int]) -> int:
    return sum(1 for t in tokens if tok.meaning(t)[0] == "bar")


def _decoded_bar_start(tok, prompt: Sequence[int], bar: int) -> int:
    """Ticks (at 480 per beat) where bar `bar` (from 0) of the decoded prompt starts."""
    return tok.decode(list(prompt)).bar_grid.bar_start(max(bar, 0))


def _new_events(tok, prompt: Sequence[int], written: Sequence[int]):
    """(notes, chords) that `written` adds after `prompt`, in the decoded prompt's time."""
    before = tok.decode(list(prompt))
    after = tok.decode(list(written))
    old_notes = len(before.tracks[0].notes) if before.tracks else 0
    old_chords = len(before.chords)
    notes = after.tracks[0].notes[old_notes:] if after.tracks else ()
    return notes, after.chords[old_chords:]


def _extend(score, melody_notes, new_notes, new_chords, offset_480: int, cut_ticks: int) -> Score:
    """The score with the new melody notes (moved by `offset_480`, in 480ths) and chords."""
    scale = score.ticks_per_beat / 480

    def at(ticks: int) -> int:
        return round((ticks + offset_480) * scale)

    # nothing new before the input's end: its closing rest is kept as written (a last note let
    # go just after the line, `played_end`, overlaps the first new one, legato)
    added = [
        Note(at(n.onset_ticks), max(1, round(n.duration_ticks * scale)), n.pitch, n.velocity)
        for n in new_notes
        if at(n.onset_ticks) >= cut_ticks
    ]
    chords = list(score.chords or _labelled(score, melody_notes))
    new = [
        ChordEvent(at(c.onset_ticks), c.symbol)
        for c in new_chords
        if at(c.onset_ticks) >= cut_ticks or not chords
    ]
    # the model's chord on the first new downbeat, under a last note held over the line, takes
    # the place of the one labelled for that note's tail: both were kept, two chords at a tick
    ticks = {c.onset_ticks for c in new}
    chords = [c for c in chords if c.onset_ticks < cut_ticks or c.onset_ticks not in ticks]
    chords = sorted([*chords, *new], key=lambda c: c.onset_ticks)
    source = _melody_source(score, melody_notes)
    tracks = []
    for track in score.tracks:
        if track is source:
            track = replace(
                track,
                notes=(*track.notes, *added),
                controls=_restarted_controls(track, cut_ticks),
            )
        tracks.append(track)
    return score.replace(tracks=tuple(tracks), chords=tuple(chords))


def _expression_recurs(track: Track, start: int, length: int, slack: int) -> bool:
    """Whether expression (CC11) plays one shape bar after bar up to the bar from `start`: the
    bar begins and ends within 10 of where each of the two bars before it began and ended (a
    swell in every bar, played by hand a little off in time and level). Only such a shape is
    played again in new bars; a fade-out, a fade-in or a riser into the next section is not (it
    pulsed, or swelled, in every new bar), and they take the part's level instead."""

    def level(tick: int) -> int | None:
        values = [c.value for c in track.controls if c.number == 11 and c.onset_ticks <= tick]
        return values[-1] if values else None

    def bar(at: int) -> tuple[int | None, int | None]:
        # where a bar begins: the change within `slack` after its line (a hand's reset comes a
        # tick or three late), else the level in force
        return level(at + slack), level(at + length - 1)

    shapes = [bar(start - k * length) for k in range(3)]
    if start < 2 * length or any(None in shape for shape in shapes):
        return False
    (began, ended), *before = shapes
    return all(abs(b - began) <= 10 and abs(e - ended) <= 10 for b, e in before)


def _restarted_controls(track: Track, start: int, *more: Control) -> tuple[Control, ...]:
    """`track`'s controller changes before `start`, then each one it uses taken back to where
    the part began (`score.transform.controls_at_rest`) for the new bars from `start`, then
    `more`: a lead's last bend, a pedal held at the input's end or a fade-out carried on into
    every new note (a semitone flat, held, or all but silent)."""
    kept = [c for c in track.controls if c.onset_ticks < start]
    return (*kept, *controls_at_rest(track, start), *more)


def _labelled(score: Score, notes) -> tuple[ChordEvent, ...]:
    """Chords labelled for the melody `notes`, each passage in the key the score states for it
    (`theory.harmony.label_chords`)."""
    from bandmate.theory.harmony import label_chords

    melody = score.replace(tracks=(Track("M", role=Role.MELODY, notes=tuple(notes)),))
    return tuple(label_chords(melody))


def _melody_source(score: Score, notes) -> Track:
    """The track the melody came from: the one that holds most of its notes. Taken from its
    first note, a piano whose left hand plays a bar before the tune wrote the new bars into the
    left hand (`continue`) or doubled it (`infill`), the top voice starting there."""
    line = {(n.onset_ticks, n.pitch) for n in notes}  # the top voice's notes may be cut
    pitched = [t for t in score.tracks if not t.is_drum]
    return max(pitched, key=lambda t: sum((n.onset_ticks, n.pitch) in line for n in t.notes))


def _continue_other_parts(out: Score, original: Score, start: int, bars: int) -> Score:
    """Other parts repeat their last bar over the new bars, moved to each new chord.

    A bar's notes are those from a 32nd before its bar line to a 32nd before the next: a
    humanized part plays its downbeats a few ticks early, and taken from the bar line on, its
    last bar lost them (a closing chord played early left the part nothing to repeat). A part's
    last bar is the last in which it starts notes (`_pattern_bar`): a closing bar that only
    holds a tie gave the band nothing to repeat, and it fell silent in every new bar."""
    grid = original.bar_grid
    last_bar = grid.bar_at(start - 1)
    bar_ticks = grid.bar_start(last_bar + 1) - grid.bar_start(last_bar)
    end = start + bars * bar_ticks
    early = original.ticks_per_beat // 8
    source = _melody_source(original, melody_line(original)[0])
    struck = {grid.bar_at(n.onset_ticks + early) for t in original.tracks for n in t.notes}
    tracks = []
    for track, new in zip(original.tracks, out.tracks, strict=True):
        bar = _pattern_bar(track, grid, last_bar, struck, early)
        if track is source or bar is None:
            tracks.append(new)
            continue
        pattern_start = grid.bar_start(bar)
        pattern_end = grid.bar_start(bar + 1)
        pattern = [
            n
            for n in track.notes
            if pattern_start - early <= n.onset_ticks < pattern_end - early
            and n.onset_ticks - pattern_start < bar_ticks - early  # a longer bar's tail
        ]
        added = []
        # the bar's pedalling and expression are repeated with its notes, which they hold and
        # shape (a pad's swell in every bar); its volume is the part's level, a fade-out's not,
        # and so is an expression that is no shape recurring bar after bar
        recurs = _expression_recurs(track, pattern_start, bar_ticks, early)
        pedalling = [
            c
            for c in controls_window(track, pattern_start, pattern_end)
            if c.number in _REPEATED and (c.number != 11 or recurs)
        ]
        pedals = []
        old_chord = _chord_at(out.chords, pattern_start)
        for k in range(bars):
            bar_start = start + k * bar_ticks
            pedals += [replace(c, onset_ticks=c.onset_ticks + bar_start) for c in pedalling]
            new_chord = _chord_at(out.chords, bar_start)
            for note in pattern:
                pitch = note.pitch if track.is_drum else _move(note.pitch, old_chord, new_chord)
                onset = note.onset_ticks - pattern_start + bar_start
                # a note let ring over its bar line stops at its repeat, and at the piece's
                # end: a closing chord held on made one bar more than asked for
                length = min(note.duration_ticks, bar_ticks, end - onset)
                added.append(Note(onset, max(1, length), pitch, note.velocity))
        controls = _restarted_controls(new, start, *pedals)
        tracks.append(replace(new, notes=(*new.notes, *added), controls=controls))
    return out.replace(tracks=tuple(tracks))


def _pattern_bar(track: Track, grid, last_bar: int, struck: set[int], early: int) -> int | None:
    """The bar whose notes `track` repeats over the new bars: its last bar that starts notes,
    looking back past bars where no part starts a note (a closing tie) or where the track
    holds a note over from the bar before; None for a part that stopped playing before the
    end (it stays silent)."""
    starts = {grid.bar_at(n.onset_ticks + early) for n in track.notes}
    for bar in range(last_bar, -1, -1):
        if bar in starts:
            return bar
        line = grid.bar_start(bar)
        held = any(n.onset_ticks < line < n.end_ticks - early for n in track.notes)
        if bar in struck and not held:
            return None
    return None


def _chord_at(chords: Sequence[ChordEvent], ticks: int) -> ChordSymbol | None:
    sounding = [c for c in chords if c.onset_ticks <= ticks and not c.symbol.is_no_chord]
    return sounding[-1].symbol if sounding else None


def _move(pitch: int, old: ChordSymbol | None, new: ChordSymbol | None) -> int:
    """A pattern note moved from chord `old` to chord `new`: by the root (the smaller way),
    then, if it was a chord tone, onto the new chord's nearest tone."""
    if old is None or new is None:
        return pitch
    shift = (new.root - old.root) % 12
    shift = shift - 12 if shift > 6 else shift
    moved = pitch + shift
    if pitch % 12 in old.chord_tones():
        tones = new.chord_tones()
        moved = min(
            (moved + d for d in range(-2, 3) if (moved + d) % 12 in tones),
            key=lambda p: abs(p - moved),
            default=moved,
        )
    return max(0, min(127, moved))


def infill_bars(
    score: Score,
    first_bar: int,
    last_bar: int,
    *,
    settings: MelodySettings | None = None,
    model=None,
    progress: ProgressCallback = no_progress,
) -> Score:
    """The piece with the melody of bars `first_bar`..`last_bar` (from 1, inclusive) written
    again under its own chords; everything else kept; `progress(bars written, bars)`."""
    trained = load_melody_model(model)
    tok = trained.tokenizer
    notes, _ = melody_line(score)
    grid = score.bar_grid
    total = grid.bar_count(max(n.end_ticks for t in score.tracks for n in t.notes))
    if not 1 <= first_bar <= last_bar <= total:
        raise UserError(
            f"--bars {first_bar}-{last_bar} is outside the piece's bars 1-{total}; "
            "give a range such as 5-8 inside it."
        )
    gap_start, gap_end = grid.bar_start(first_bar - 1), grid.bar_start(last_bar)
    shift = _octave_shift(notes, tok)
    sheet = lead_sheet(score, _moved(notes, shift), key_at_ticks=gap_start)
    style = settings.style if settings and settings.style else likeliest_style(trained, sheet)
    settings = settle_style(_settled(settings, style, _moved(notes, shift)), trained)
    tokens = tok.encode(sheet, style=style)[:-1]
    sgrid = sheet.bar_grid
    s_start, s_end = sgrid.bar_start(first_bar - 1), sgrid.bar_start(last_bar)
    # the skeleton of the gap: its bars and chords without notes
    skeleton = sheet.replace(
        tracks=(),
        chords=tuple(c for c in sheet.chords if c.onset_ticks < s_end),
    )
    skeleton_tokens = tok.encode(skeleton, style=style)[:-1]
    bars_all = plan_bars(tok, skeleton_tokens[_first_bar_index(tok, skeleton_tokens) :])
    planned = bars_all[first_bar - 1 : last_bar]
    before = _tokens_before_bar(tok, tokens, first_bar - 1)
    prompt = _fit_prompt(tok, before, trained.model.config.max_len // 2)
    written = _write_bars(
        trained,
        prompt,
        planned,
        settings,
        fixed_chords=True,
        ends_piece=last_bar == total,
        progress=progress,
    )
    new_notes = _moved(_new_events(tok, prompt, written)[0], -shift)
    # where the gap's first bar starts in the written tokens: they hold its opening, with the
    # cut that ends a short bar (a pickup) before it, which the prompt does not
    offset = s_start - _decoded_bar_start(tok, written, _bars_in(tok, prompt))
    scale = score.ticks_per_beat / 480
    filled = [
        Note(
            round((n.onset_ticks + offset) * scale),
            round(n.duration_ticks * scale),
            n.pitch,
            n.velocity,
        )
        for n in new_notes
    ]
    filled = [
        Note(
            n.onset_ticks,
            max(1, min(n.duration_ticks, gap_end - n.onset_ticks)),
            n.pitch,
            n.velocity,
        )
        for n in filled
        if gap_start <= n.onset_ticks < gap_end
    ]
    source = _melody_source(score, notes)
    # only the melody's own notes are rewritten: when it is the top voice of a part (a piano's
    # right hand over its chords), the notes under it stay
    line = {(n.onset_ticks, n.pitch) for n in notes}
    kept = [
        n
        for n in source.notes
        if (n.onset_ticks, n.pitch) not in line or not gap_start <= n.onset_ticks < gap_end
    ]
    kept = [
        Note(n.onset_ticks, min(n.duration_ticks, gap_start - n.onset_ticks), n.pitch, n.velocity)
        if n.onset_ticks < gap_start < n.end_ticks and (n.onset_ticks, n.pitch) in line
        else n
        for n in kept
    ]
    filled_source = replace(
        source,
        notes=(*kept, *filled),
        controls=_unbent(source.controls, gap_start, gap_end),
    )
    tracks = tuple(filled_source if t is source else t for t in score.tracks)
    return score.replace(tracks=tracks)


def _unbent(controls: Sequence[Control], start: int, end: int) -> tuple[Control, ...]:
    """`controls` with the pitch bends between `start` and `end` taken out, the bend centred at
    `start` and, at `end`, put back where the user's bends had it: their bends over the bars
    rewritten bent the new notes (a written B sounded C#), and so did a bend left up before
    them."""
    bends = [c for c in controls if c.number == PITCH_BEND]

    def in_force(tick: int) -> int:
        before = [c.value for c in bends if c.onset_ticks < tick]
        return before[-1] if before else 0

    if in_force(start) == 0 and not any(start <= c.onset_ticks < end for c in bends):
        return tuple(controls)
    return (
        *(c for c in controls if c.onset_ticks < start),
        Control(start, PITCH_BEND, 0),
        Control(end, PITCH_BEND, in_force(end)),
        *(
            c
            for c in controls
            if c.onset_ticks >= end or (c.onset_ticks >= start and c.number != PITCH_BEND)
        ),
    )


def _first_bar_index(tok, tokens: Sequence[int]) -> int:
    return next(i for i, t in enumerate(tokens) if tok.meaning(t)[0] in ("meter", "bar"))


def _tokens_before_bar(tok, tokens: Sequence[int], bar: int) -> list[int]:
    """The tokens before bar `bar` (from 0) opens. After a short bar (a pickup) the opening
    begins with the cut, `POS_k METER BAR` (as `plan_bars` reads it): the cut is left out, or
    the prompt would decode with the short bar at its full length and the new notes would land
    a bar late, or before the piece begins."""
    starts = _bar_starts(tok, tokens)
    if bar >= len(starts):
        return list(tokens)
    start = starts[bar]
    if start > 0 and [tok.meaning(t)[0] for t in tokens[start - 1 : start + 1]] == ["pos", "meter"]:
        start -= 1
    return list(tokens[:start])
