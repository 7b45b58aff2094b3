"""Four-part harmonization of a melody in the style of Bach's chorales, by the chorale model.

The melody becomes the soprano on the model's 16th-note grid (the pitch sounding at each step;
-1 in rests, a gap of less than a beat held by the note before it) and is fixed: the model
writes alto, tenor and bass around it, step by step, in its S, A, T, B token order, so each
lower voice sees the soprano and the voices above it at that step. Four rules are hard
constraints rather than the model's judgement (`VoiceLeadingGuide`):

- each lower voice stays in its SATB range (`compose.evaluate.SATB_RANGES`);
- no voice crosses above the (sounding) voice above it;
- no parallel fifths or octaves (unisons and compound intervals included) between any two
  voices: a pitch that would make one with a voice already written at this step is masked;
- a lower voice rests only where the soprano rests or the other rules leave it no pitch, so
  every melody note is harmonized;
- a melody that ends on a note of its key's tonic triad ends on that triad, over the tonic in
  the bass, where the other rules leave such a chord (`final_chord`).

So a harmonization has no range violations and no parallels, which Bach himself writes at
0.44 per 100 beats on the JSB test split (counted by `compose.evaluate.part_writing`).

The lower voices are also leant into the melody's key, not held to it (`key_lean`: `KEY_LEAN`
nats off each pitch outside its scale). Left to itself the model put 10.0% of their notes
outside the key of plain folk tunes (Bb, Ab and Eb under F D B in C major), where Bach's
chorales, modulations and all, have 6.0%; leant by 0.5 it writes 4.8%, by 1.0 2.1%, by 2.0
1.1%, its voices moving a little more by leap as the lean grows (moves over a fifth: 3.9%, 3.4%,
4.2%, 4.8%), over 17 tunes (major, minor, 6/8, 3/4, pickups, F# major, Eb minor) and 2 seeds.

A melody sung high, most of its notes above the soprano's highest (G5; the model's range goes
to C7), is set for treble voices: it is harmonized as if one octave lower (or two: the fewest
that bring most of its notes to G5 or below) and the alto, tenor and bass are moved up as far,
so they sit close under the melody as written, with a warning that says so. Harmonized where it
lies, C6 D6 E6 D6 C6 in C major got its alto at most D5 and its bass two octaves and more below
(alto G#3/G3, tenor F3/Eb3 before the key lean): no spacing a choir sings. A melody only partly
above G5 stays in the SATB setting, the alto up to its D5 under it. A melody mostly below the
alto's lowest (G3) is refused with the octaves to transpose it up (`_check_room_below`): the
same treatment there would put the bass below E2, under any singer.

The output's Soprano track is the input melody's own notes, unchanged (not the grid's copy), so
triplets and ornaments survive; the other voices are on the grid. A chorale longer than the
model's context (about 255 steps, 16 bars of 4/4) is written in windows, each prompted by the
last 128 steps written (at most half the context).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from bandmate.errors import EmptyScoreError, UserError
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import DEFAULT_TICKS_PER_BEAT, Note, Role, Score, Track
from bandmate.score.parts import choir_tune, staves_of_one_instrument
from bandmate.score.transform import rescale
from bandmate.theory.keys import Key

STEPS_PER_BEAT = 4
CONTEXT_STEPS = 128  # steps of what was written that prompt each later window
TEMPERATURE, TOP_P = 0.8, 0.95
KEY_LEAN = 1.0  # nats off each lower-voice pitch outside the melody's key (`key_lean`)
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
PERFECT = (0, 7)  # interval classes of octaves/unisons and fifths
MAX_TICKS_PER_BEAT = 0x7FFF  # a MIDI file's division has 15 bits


def load_chorale_model(model=None):
    from bandmate.models.registry import TrainedModel, load

    loaded = model if isinstance(model, TrainedModel) else load(model or "chorale")
    if loaded.task.name != "chorale":
        raise UserError(f"{loaded.path} is a {loaded.task.name} model, not a chorale model.")
    return loaded


def melody_line(score: Score) -> tuple[tuple[Note, ...], str | None]:
    """(the melody's notes, a warning or None): the MELODY track (or the only pitched track)
    when it is one voice; with no MELODY track, the part that sings like one (`_likely_melody`),
    with a warning that names it; else the top voice of that track (or of all pitched tracks),
    with a warning that says so.

    A note held less than a 16th past the next one's onset is legato, not a chord (a keyboard
    player's MIDI overlaps so): such a line is one voice, and in a top voice the next note
    takes over from it."""
    check_has_tune(score)
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    legato_ticks = score.ticks_per_beat // 4
    # the first MELODY track (a lead before its harmony of the same name), but a choir written
    # bass first is sung by its soprano, as `melody_track` reads it for training
    melodies = [t for t in pitched if t.role == Role.MELODY]
    melody = choir_tune(melodies) or next(iter(melodies), None)
    if melody is None and len(pitched) == 1:
        melody = pitched[0]
    if melody is not None and not _overlaps(melody.notes, legato_ticks):
        return melody.notes, None
    grid = score.bar_grid
    bar_ticks, bars = grid.bar_start(2) - grid.bar_start(1), grid.bar_count(score.end_ticks)
    if melody is None and (likely := _likely_melody(pitched, legato_ticks, bar_ticks, bars)):
        return likely.notes, (
            f"The input has {len(pitched)} parts and none named as the melody; using "
            f"{likely.name!r}, its highest part in one voice, as the melody."
        )
    source = [melody] if melody is not None else pitched
    notes = sorted((n for t in source for n in t.notes), key=lambda n: (n.onset_ticks, -n.pitch))
    voices = "chords" if len(source) == 1 else f"{len(source)} parts and no melody part"
    return _skyline(
        notes, legato_ticks
    ), f"The input has {voices}; using its top voice as the melody."


def _likely_melody(
    tracks: Sequence[Track], legato_ticks: int, bar_ticks: int, bars: int
) -> Track | None:
    """The part of a file that names none as its melody that is most likely to be it: the highest,
    by its median pitch, of the parts in one voice that are not bass or drum parts, pads (notes
    held 3/4 of a bar or more at the median, or half a bar on a pad's program: held notes are
    not a tune; a tune in quarters played on strings is one) or strays (fewer than 4 onsets, or
    than one every two bars, and than a quarter of the busiest line's: a glockenspiel's two
    notes, an effect; a motif of three notes over a bar of quarters is none). None when no part
    is in one voice, or when a part in chords lies above it with as many onsets, or is another
    staff of its instrument (`score.parts.staves_of_one_instrument`): a piano's left hand
    under its right hand's chords, whose top voice is the tune, however busy the left hand (an
    Alberti bass in eighths under half-note chords was taken for the tune). A tune written on a
    DAW's default piano track ("Track 1") under a string pad had the pad's held notes taken for
    it: the top voice of all parts. The tune over a busier line (an Alberti left hand, a bass in
    eighths on a piano's program, a 16th-note arpeggio) is the higher part: rules that passed
    over parts with a half or a quarter of the busiest one's onsets took the line for it."""

    def median(values) -> int:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    def onsets(track: Track) -> int:
        return len({n.onset_ticks for n in track.notes})

    def held(track: Track) -> bool:
        length = median(n.duration_ticks for n in track.notes)
        return 4 * length >= 3 * bar_ticks or (track.role == Role.PAD and 2 * length >= bar_ticks)

    # a pad above the tune is no chord part whose top voice is the tune, so it is no part here
    parts = [t for t in tracks if t.role not in (Role.BASS, Role.DRUMS) and not held(t)]
    lines = [t for t in parts if not _overlaps(t.notes, legato_ticks)]
    if not lines:
        return None
    busiest = max(onsets(t) for t in lines)
    lines = [t for t in lines if onsets(t) >= max(4, bars / 2) or 4 * onsets(t) >= busiest]
    best = max(lines, key=lambda t: median(n.pitch for n in t.notes))
    pitch = median(n.pitch for n in best.notes)
    above = [
        t
        for t in parts
        if all(t is not line for line in lines)
        and median(n.pitch for n in t.notes) > pitch
        and (onsets(t) >= onsets(best) or staves_of_one_instrument(t, best))
    ]
    return None if above else best


def played_end(score: Score, end_ticks: int) -> int:
    """Where a piece that sounds until `end_ticks` ends as written: the bar line before it when
    its last notes are let go less than a 16th after that line (a keyboard player's release),
    else `end_ticks`. A tune of eight bars so played was read as nine, the ninth holding 1/8 of
    a beat of its last note."""
    grid = score.bar_grid
    line = grid.bar_start(grid.bar_at(end_ticks))
    return line if 0 < end_ticks - line < score.ticks_per_beat // 4 else end_ticks


def as_written(score: Score, notes: Sequence[Note]) -> tuple[Note, ...]:
    """A one-voice melody's notes as they would be written: each note held into the next by
    less than a 16th (legato, `melody_line`) cut where the next begins, and the last ones cut at
    `played_end`. For reading the tune (its chords, its bars); the output keeps the notes as
    played."""
    legato_ticks = score.ticks_per_beat // 4
    end = played_end(score, max(n.end_ticks for n in notes))
    ordered = sorted(notes, key=lambda n: (n.onset_ticks, -n.pitch))
    out = []
    for i, note in enumerate(ordered):
        stop = min(note.end_ticks, end)
        later = ordered[i + 1].onset_ticks if i + 1 < len(ordered) else stop
        if note.onset_ticks < later < stop and stop - later < legato_ticks:
            stop = later
        if stop > note.onset_ticks:
            out.append(Note(note.onset_ticks, stop - note.onset_ticks, note.pitch, note.velocity))
    return tuple(out)


def check_has_tune(score: Score) -> None:
    """Refuse a score with no pitched notes, saying whether it holds drums alone (a drum loop
    given by mistake was said to have no notes at all)."""
    if any(t.notes for t in score.tracks if not t.is_drum):
        return
    if any(t.notes for t in score.tracks):
        raise EmptyScoreError(
            "The input holds only drums, so there is no tune to work from; give a file with a "
            "melody in it."
        )
    raise EmptyScoreError("The melody has no notes; give a file with a tune in it.")


def _overlaps(notes: Sequence[Note], legato_ticks: int = 0) -> bool:
    """Whether two notes sound together: start together, or overlap by `legato_ticks` or more."""
    ordered = sorted(notes, key=lambda n: n.onset_ticks)
    return any(
        b.onset_ticks == a.onset_ticks or b.onset_ticks < a.end_ticks - legato_ticks
        for a, b in itertools.pairwise(ordered)
    )


def _skyline(notes: Sequence[Note], legato_ticks: int = 0) -> tuple[Note, ...]:
    """The highest voice: at each onset the highest note, cut where a higher or later one
    starts; a lower note that starts under a higher one joins the line only when the higher
    one ends within `legato_ticks` (it is then cut there)."""
    firsts: dict[int, Note] = {}
    for note in notes:
        if note.onset_ticks not in firsts or note.pitch > firsts[note.onset_ticks].pitch:
            firsts[note.onset_ticks] = note
    line: list[Note] = []
    for onset in sorted(firsts):
        note = firsts[onset]
        if line and line[-1].end_ticks > onset:
            prev = line[-1]
            if prev.pitch > note.pitch and prev.end_ticks - onset >= legato_ticks:
                continue  # under a higher note that still sounds
            line[-1] = Note(prev.onset_ticks, onset - prev.onset_ticks, prev.pitch, prev.velocity)
        line.append(note)
    return tuple(line)


def soprano_steps(notes: Sequence[Note], ticks_per_beat: int, n_steps: int) -> list[int]:
    """The pitch sounding at each 16th step (-1 in rests): the melody on the chorale grid.

    A gap shorter than a beat between two notes is articulation, not a rest (a melody played
    detached, an 8th and an 8th rest for each quarter): the note before it is held through
    it. The chorales the model learnt from rest only between phrases; given a rest on every
    beat, it wrote short chords that wandered off the key."""
    step_ticks = ticks_per_beat / STEPS_PER_BEAT
    line = [-1] * n_steps
    last_end = None  # the step where the previous note ended
    for note in sorted(notes, key=lambda n: n.onset_ticks):
        start = round(note.onset_ticks / step_ticks)
        end = max(start + 1, round(note.end_ticks / step_ticks))
        if last_end is not None and 0 < start - last_end < STEPS_PER_BEAT:
            for step in range(last_end, min(start, n_steps)):
                line[step] = line[last_end - 1]
        for step in range(start, min(end, n_steps)):
            line[step] = note.pitch
        last_end = max(end, last_end or 0)
    return line


class VoiceLeadingGuide:
    """Masks crossings and parallel fifths and octaves as the lower voices are written, and
    rests under a sounding soprano.

    A lower voice may rest only where the soprano rests, or where no pitch is left to it (its
    range, the voices above and the parallels rule them all out: a soprano below the alto's
    range). The model learnt from chorales, whose voices rest together at phrase ends; left to
    itself after a rest in the melody, or under a melody played detached (a 16th and a rest
    on each beat), it kept the lower voices resting under the notes that followed.
    """

    def __init__(
        self,
        pitches: np.ndarray,
        ranges: dict[int, tuple[int, int]] | None = None,
        final: tuple[int, tuple[int, int, int]] | None = None,
        lean: np.ndarray | None = None,
    ):
        self._pitches = pitches  # (vocab,) MIDI pitch per token, -1 for rest and specials
        self._ranges = ranges or {}  # voice -> (lowest, highest) MIDI pitch
        self._lean = lean  # (vocab,) logits added for the lower voices (`key_lean`), or None
        # (first token position of the final chord, its root, third and fifth as pitch
        # classes): from there on the lower voices keep to that chord, over its root and with
        # its third, while the other rules leave them one
        self._final = final

    def mask(self, position: int, tokens: Sequence[int]) -> np.ndarray | None:
        voice = (position - 1) % 4
        if voice == 0:
            return None
        allowed = self._voice_leading(position, tokens, voice)
        p = self._pitches
        soprano = int(p[tokens[position - voice]])
        if soprano >= 0:
            low, high = self._ranges.get(voice, (0, 127))
            singable = allowed & (p >= low) & (p <= high)
            if singable.any():
                allowed = singable  # no rest under a soprano note
            if self._final is not None and position >= self._final[0]:
                allowed = self._final_chord(allowed, tokens[:position], voice)
        return allowed

    def _final_chord(self, allowed: np.ndarray, tokens: Sequence[int], voice: int) -> np.ndarray:
        """`allowed` kept to the final chord where that leaves a pitch: the root in the bass and
        the third in some voice, each pitch chosen so that the voices below it can still
        complete that chord within the rules (else the chord's tones, else `allowed`)."""
        wanted = self._final_tones(tokens, voice)
        fits = allowed & wanted
        complete = np.zeros_like(fits)
        for token in np.flatnonzero(fits):
            complete[token] = self._completes([*tokens, int(token)], voice + 1)
        for choice in (complete, fits, allowed & self._final_tones(tokens, voice, loose=True)):
            if choice.any():
                return choice
        return allowed

    def _final_tones(self, tokens: Sequence[int], voice: int, loose: bool = False) -> np.ndarray:
        """(vocab,) the pitches of the final chord that `voice` may take: the root in the bass;
        the third in the tenor when the voices above lack it; else any tone of the triad
        (`loose`: any tone of the triad in every voice)."""
        root, third, fifth = self._final[1]
        p = self._pitches
        classes = np.where(p >= 0, p % 12, -1)
        above = tokens[len(tokens) - voice :]
        sung = {int(p[t]) % 12 for t in above if p[t] >= 0}
        if loose:
            tones = {root, third, fifth}
        elif voice == 3:
            tones = {root}
        elif voice == 2 and third not in sung:
            tones = {third}
        else:
            tones = {root, third, fifth}
        return np.isin(classes, list(tones))

    def _completes(self, tokens: list[int], voice: int) -> bool:
        """Whether the voices from `voice` down can finish the final chord at this step."""
        if voice == 4:
            return True
        low, high = self._ranges.get(voice, (0, 127))
        p = self._pitches
        fits = (
            self._voice_leading(len(tokens), tokens, voice)
            & (p >= low)
            & (p <= high)
            & self._final_tones(tokens, voice)
        )
        return any(self._completes([*tokens, int(t)], voice + 1) for t in np.flatnonzero(fits))

    def _voice_leading(self, position: int, tokens: Sequence[int], voice: int) -> np.ndarray:
        p = self._pitches
        step_start = position - voice
        now = [int(p[t]) for t in tokens[step_start:position]]  # the voices above, this step
        before = (
            [int(p[t]) for t in tokens[step_start - 4 : step_start]] if step_start >= 5 else None
        )
        is_pitch = p >= 0
        allowed = np.ones(len(p), dtype=bool)
        above = next((pitch for pitch in reversed(now) if pitch >= 0), -1)
        if above >= 0:
            allowed &= ~is_pitch | (p <= above)  # no crossing above the lowest voice above
        if before is None or before[voice] < 0:
            return allowed
        mine = before[voice]
        moves = is_pitch & (p != mine)
        for upper in range(voice):
            was_upper, now_upper = before[upper], now[upper]
            if was_upper < 0 or now_upper < 0 or was_upper == now_upper:
                continue
            was = abs(was_upper - mine) % 12
            if was not in PERFECT:
                continue
            same_way = np.sign(p - mine) == np.sign(now_upper - was_upper)
            again = (np.abs(now_upper - p) % 12) == was
            allowed &= ~(moves & same_way & again)
        return allowed

    def bias(self, position: int, tokens: Sequence[int]) -> np.ndarray | None:
        return None if (position - 1) % 4 == 0 else self._lean


def key_lean(pitches: np.ndarray, key: Key) -> np.ndarray:
    """(vocab,) logits that lean the lower voices into `key`: -KEY_LEAN for each pitch outside
    its scale (in minor, its natural, harmonic and melodic forms), 0 elsewhere and for rests."""
    outside = (pitches >= 0) & ~np.isin(pitches % 12, sorted(key.usual_pitch_classes()))
    return np.where(outside, -KEY_LEAN, 0.0)


def harmonize_steps(
    soprano: Sequence[int],
    *,
    model=None,
    seed: int = 0,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    key: Key | None = None,
    progress: ProgressCallback = no_progress,
) -> list[tuple[int, int, int, int]]:
    """SATB steps for a soprano line (a MIDI pitch or -1 per 16th step), the soprano kept;
    `progress(steps written, steps)` after each window the model writes. Given the `key` the
    melody ends in, its last note is harmonized by `final_chord` where the rules allow.

    Steps before the soprano's first note are silent in every voice and are not given to the
    model: a chorale never opens on a rest, and a model that starts on one holds the rest in
    every lower voice to the end (a melody with a pickup or a late first note came back with
    no harmony at all). Rests later on are the model's to voice."""
    lead = next((k for k, pitch in enumerate(soprano) if pitch >= 0), len(soprano))
    if lead:
        rests = [(-1, -1, -1, -1)] * lead
        if lead == len(soprano):
            return rests

        def shifted(done: float, total: float, **status) -> None:
            progress(lead + done, lead + total, **status)

        voiced = harmonize_steps(
            soprano[lead:],
            model=model,
            seed=seed,
            temperature=temperature,
            top_p=top_p,
            key=key,
            progress=shifted,
        )
        return rests + voiced
    from bandmate.compose.evaluate import SATB_RANGES
    from bandmate.models.sampling import PitchConstraints, sample_tokens
    from bandmate.tokens.base import BOS

    trained = load_chorale_model(model)
    tok, task = trained.tokenizer, trained.task
    _check_model_range([int(p) for p in soprano if p >= 0], tok)
    ranges = {v: SATB_RANGES[name.lower()] for v, name in enumerate(VOICE_NAMES) if v > 0}
    constraints = PitchConstraints(voice_ranges=ranges)
    pitches = task.pitch_of_tokens()
    final = final_chord(soprano, key) if key is not None else None
    lean = key_lean(pitches, key) if key is not None and KEY_LEAN else None
    window_steps = (trained.model.config.max_len - 2) // 4
    context_steps = min(CONTEXT_STEPS, window_steps // 2)  # each window writes at least half
    written: list[int] = []  # step tokens, 4 per step
    done = 0
    window = 0
    while done < len(soprano):
        context = written[-4 * context_steps :] if done else []
        room = window_steps - len(context) // 4
        count = min(room, len(soprano) - done)
        prompt = [BOS, *context]
        fixed = {len(prompt) + 4 * j: tok.token_for(int(soprano[done + j])) for j in range(count)}
        # the final chord's first step, as a token position in this window's sequence
        last = None if final is None else (len(prompt) + 4 * max(0, final[0] - done), *final[1:])
        guide = VoiceLeadingGuide(pitches, ranges, last, lean)
        tokens = sample_tokens(
            trained.model,
            task,
            length=len(prompt) - 1 + 4 * count,
            prompt=prompt,
            fixed=fixed,
            constraints=constraints,
            temperature=temperature,
            top_p=top_p,
            seed=seed + 1000 * window,
            guide=guide,
        )
        written += tokens[len(prompt) : len(prompt) + 4 * count]
        done += count
        progress(done, len(soprano))
        window += 1
    steps = tok.decode([BOS, *written])
    return [tuple(int(p) for p in step) for step in steps]


def final_chord(soprano: Sequence[int], key: Key) -> tuple[int, tuple[int, int, int]] | None:
    """(the step the melody's last note starts on, the pitch classes of the key's tonic triad:
    root, third, fifth) when that note is one of the triad's, else None (a tune that ends on
    the second or the seventh ends open, on some other chord).

    A chorale ends on its tonic chord over the tonic in the bass. The model is not told where
    the melody ends, so it wrote the last note as a passing chord: 20 of 36 harmonizations of
    a dozen tunes that end on their tonic (D dorian, G major, A minor...) ended on another
    chord, as a C under an A flat major chord."""
    sounding = [k for k, pitch in enumerate(soprano) if pitch >= 0]
    if not sounding:
        return None
    start = sounding[-1]
    while start > 0 and soprano[start - 1] == soprano[sounding[-1]]:
        start -= 1
    fifth = 6 if key.mode == "locrian" else 7
    triad = tuple((key.tonic + step) % 12 for step in (0, 3 if key.is_minor else 4, fifth))
    if soprano[start] % 12 not in triad:
        return None
    return start, triad


def _check_room_below(notes: Sequence[Note]) -> None:
    """Refuse a melody that lies mostly below the alto's lowest note: no alto fits under those
    notes (a voice never crosses above the soprano), so the piece would come out in three parts
    or fewer, silent where the user asked for harmony."""
    from bandmate.compose.evaluate import SATB_RANGES
    from bandmate.theory.pitch import midi_to_name

    lowest_alto = SATB_RANGES["alto"][0]
    below = sum(n.pitch < lowest_alto for n in notes)
    if 2 * below > len(notes):
        # the octaves that lift most of it clear (a bass line in C2 needs two, not one)
        octaves = next(
            k
            for k in itertools.count(1)
            if 2 * sum(n.pitch + 12 * k < lowest_alto for n in notes) <= len(notes)
        )
        up = "an octave" if octaves == 1 else f"{octaves} octaves"
        raise UserError(
            f"The melody lies too low to harmonize: {below} of its {len(notes)} notes are "
            f"below {midi_to_name(lowest_alto)}, the alto's lowest, where no alto fits under "
            f"them; transpose the melody up {up}."
        )


def octaves_above(notes: Sequence[Note]) -> int:
    """How many octaves a melody lies above the soprano's range: 0 unless most of its notes are
    above the soprano's highest (G5), else the fewest octaves that bring most of them down to it
    (which leave most of them above G4, clear of the alto's lowest). Such a melody is harmonized
    that far down and the lower voices are moved up with it (`harmonize`)."""
    from bandmate.compose.evaluate import SATB_RANGES

    highest = SATB_RANGES["soprano"][1]
    octaves = 0
    while 2 * sum(n.pitch - 12 * octaves > highest for n in notes) > len(notes):
        octaves += 1
    return octaves


def _check_model_range(pitches: Sequence[int], tok) -> None:
    """Refuse a melody pitch outside the chorale model's range, by its name."""
    from bandmate.theory.pitch import midi_to_name

    for pitch in pitches:
        if not tok.min_pitch <= pitch <= tok.max_pitch:
            name = midi_to_name(pitch)
            low, high = midi_to_name(tok.min_pitch), midi_to_name(tok.max_pitch)
            raise UserError(
                f"The melody's note {name} is outside the chorale model's range {low}-{high}; "
                "transpose the melody into a singer's range."
            )


def grid_resolution(ticks_per_beat: int) -> int:
    """The least multiple of `ticks_per_beat` that a 16th divides, within MIDI's 15 bits
    (`ticks_per_beat` itself when there is none)."""
    finer = ticks_per_beat * STEPS_PER_BEAT // math.gcd(ticks_per_beat, STEPS_PER_BEAT)
    return finer if finer <= MAX_TICKS_PER_BEAT else ticks_per_beat


def harmonize(
    score: Score,
    *,
    model=None,
    seed: int = 0,
    temperature: float = TEMPERATURE,
    progress: ProgressCallback = no_progress,
) -> tuple[Score, str | None]:
    """(a four-part Score: Soprano = the melody's own notes, Alto, Tenor, Bass; a warning when
    the input had several voices), with the input's tempo, meters, key and chords;
    `progress(16ths written, 16ths)` as the model writes them.

    A score whose ticks per beat do not split into four 16ths (1, 90) comes back at a multiple of
    its resolution that does, every position kept exactly."""
    score = rescale(score, grid_resolution(score.ticks_per_beat))
    notes, warning = melody_line(score)
    _check_room_below(notes)
    trained = load_chorale_model(model)
    _check_model_range([n.pitch for n in notes], trained.tokenizer)
    octaves = octaves_above(notes)
    if octaves:
        up = "an octave" if octaves == 1 else f"{octaves} octaves"
        high = (
            f"The melody lies above the soprano's range; the alto, tenor and bass are written "
            f"{up} higher under it, for treble voices."
        )
        warning = high if warning is None else f"{warning} {high}"
    step_ticks = score.ticks_per_beat / STEPS_PER_BEAT
    end = max(n.end_ticks for n in notes)
    n_steps = max(1, round(end / step_ticks))
    soprano = soprano_steps(notes, score.ticks_per_beat, n_steps)
    soprano = [p - 12 * octaves if p >= 0 else p for p in soprano]
    from bandmate.theory.harmony import passage_keys

    steps = harmonize_steps(
        soprano,
        model=trained,
        seed=seed,
        temperature=temperature,
        key=passage_keys(score)[-1][1],
        progress=progress,
    )
    lift = 12 * octaves
    steps = [(s, *(p + lift if p >= 0 else p for p in lower)) for s, *lower in steps]
    from bandmate.tokens.chorale import ChoraleTokenizer

    # the voices at a resolution the 16th grid divides, then at the score's: exactly, unless
    # the score's is past what MIDI allows when multiplied up (rounded to the tick there)
    grid = ChoraleTokenizer().steps_to_score(steps, ticks_per_beat=DEFAULT_TICKS_PER_BEAT)
    grid = rescale(grid, score.ticks_per_beat)
    soprano_track = Track("Soprano", program=grid.tracks[0].program, role=Role.MELODY, notes=notes)
    tracks = (soprano_track, *grid.tracks[1:])
    out = score.replace(tracks=tracks, title=score.title)
    return out, warning
