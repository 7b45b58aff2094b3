"""Melodies over a chord chart, and continuations of a tune, from the melody model.

`melody_over_chart` lays the chart out bar by bar (`arrange.plan`), writes it as a lead-sheet
skeleton (meters, bars and a chord at every bar and change, in the melody tokenizer's tokens)
and lets the model write the notes under a `LeadSheetGuide`, which keeps the chart's bars and
chords exactly and leans toward chord tones on strong beats. `continue_melody` feeds a tune as
the prompt and lets the model write the next bars, chords included.

Defaults, and why (measured by `bench/compose.py`):
- temperature 0.9, top-p 0.95: the model's own distribution, with its unlikely tail cut;
- `chord_tone_bias` 1.0 nat on strong beats: enough to bring the chord-tone ratio on strong
  beats up to the training corpus's own rate (the corpus's chords were labelled to fit its
  melodies, so its rate is high);
- density low / mid / high tilts note lengths by +0.8 / 0 / -0.8 nats per doubling.

The model's context holds about 1,000 tokens (some 40 bars of a busy 4/4 tune); a longer piece
is written in windows: each new window is prompted with the style, the key and as many of the
latest bars as fit in half the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bandmate.compose.leadsheet import CADENCE_BIAS, LeadSheetGuide, PlannedBar, plan_bars
from bandmate.errors import UserError
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import Role, Score, TempoChange, Track
from bandmate.theory.chart import Chart

DENSITY = {"low": 0.8 / np.log(2), "mid": 0.0, "high": -0.8 / np.log(2)}
DEFAULT_RANGE = (60, 84)  # C4-C6: a singer's or a flute's comfortable span
TEMPERATURE, TOP_P, CHORD_TONE_BIAS = 0.9, 0.95, 1.0
MELODY_PROGRAM = 73  # GM flute: a clear line over any backing


@dataclass(frozen=True)
class MelodySettings:
    """How a melody is sampled (see the module docstring for the defaults)."""

    style: str | None = "folk"  # None: the likeliest for a given tune (continue, infill)
    seed: int = 0
    pitch_range: tuple[int, int] | None = DEFAULT_RANGE  # None: the given tune's own
    density: str = "mid"
    temperature: float = TEMPERATURE
    top_p: float = TOP_P
    chord_tone_bias: float = CHORD_TONE_BIAS

    def __post_init__(self):
        if self.style is not None:  # "Irish" is irish, as backing styles read
            from bandmate.arrange.style import style_word

            object.__setattr__(self, "style", style_word(self.style))


def load_melody_model(model=None):
    """The shipped melody model, or `model` (a TrainedModel or a checkpoint path)."""
    from bandmate.models.registry import TrainedModel, load

    loaded = model if isinstance(model, TrainedModel) else load(model or "melody")
    if loaded.task.name != "melody":
        raise UserError(f"{loaded.path} is a {loaded.task.name} model, not a melody model.")
    return loaded


def learnt_styles(trained) -> tuple[str, ...] | None:
    """The melody styles `trained` learnt: those of the collections its card names
    (`models.tasks.MELODY_STYLE_OF_COLLECTION`; a user's own folder teaches none), in the
    tokenizer's order. None for a card that names no training data (an untrained model)."""
    from bandmate.models.tasks import MELODY_STYLE_OF_COLLECTION

    data = trained.card.get("training", {}).get("data", {})
    names = {c.get("name") for c in data.get("collections", [])}
    if not names:
        return None
    taught = {MELODY_STYLE_OF_COLLECTION.get(name) for name in names}
    return tuple(s for s in trained.tokenizer.styles if s in taught)


def settle_style(settings: MelodySettings, trained) -> MelodySettings:
    """`settings` with the style the model is prompted with: the one asked for, which the model
    must have learnt (a STYLE token it never saw in training means nothing to it), or with none
    asked, folk or the first style it learnt; none at all for a model that learnt none, such as
    one trained on a user's own folder, which is then prompted without a STYLE token."""
    styles = learnt_styles(trained)
    if settings.style is None:
        default = "folk" if styles is None or "folk" in styles else (styles or (None,))[0]
        return replace(settings, style=default)
    if styles is not None and settings.style not in styles:
        learnt = f"it learnt {', '.join(styles)}" if styles else "its tunes carry no style"
        raise UserError(
            f"The model in {trained.path} learnt no {settings.style} tunes ({learnt}); "
            "leave the style out, or choose one it learnt."
        )
    return settings


def check_settings(settings: MelodySettings, tokenizer) -> None:
    if settings.style is not None and settings.style not in tokenizer.styles:
        raise UserError(
            f"Unknown melody style {settings.style!r}; choose one of {', '.join(tokenizer.styles)}."
        )
    if settings.density not in DENSITY:
        raise UserError(f"Unknown density {settings.density!r}; choose low, mid or high.")
    low, high = settings.pitch_range
    lowest, highest = tokenizer.lowest_pitch, tokenizer.highest_pitch
    if high - low < 7 or low < lowest or high > highest:
        raise UserError(
            f"The range {low}-{high} is impossible for a melody; give at least a fifth "
            f"within MIDI {lowest}-{highest} (C2-C7), such as C4-C6 (60-84)."
        )


def fit_chart(chart: Chart, bars: int | None) -> Chart:
    """The chart repeated or cut to `bars` bars (None: as it is)."""
    if bars is None:
        return chart
    if bars < 1:
        raise UserError(f"--bars must be at least 1, got {bars}.")
    cycled = [chart.bars[i % len(chart.bars)] for i in range(bars)]
    return Chart(tuple(cycled), chart.key, chart.title)


def chart_skeleton(chart: Chart, tempo_bpm: float, bars: int | None = None) -> Score:
    """The chart as an empty lead sheet: meters, keys, and chords on every bar, `bars` long
    (the chart repeated or cut to fit; None: as written)."""
    from bandmate.arrange.backing import plan_score
    from bandmate.arrange.plan import plan_song

    song = plan_song(fit_chart(chart, bars), tempo_bpm=tempo_bpm)
    return plan_score(song)  # a chart that names no key is in the one its chords name


def melody_over_chart(
    chart: Chart,
    *,
    tempo_bpm: float,
    bars: int | None = None,
    settings: MelodySettings = MelodySettings(),
    model=None,
    progress: ProgressCallback = no_progress,
) -> Score:
    """A melody over `chart` (repeated or cut to `bars`), as a Score with a "Melody" track and
    the chart's chords, meters and key. A tempo outside 20-400 BPM is a UserError, as for a
    backing track. `progress(bars written, bars)` after each window the model writes."""
    from bandmate.arrange.backing import check_tempo

    check_tempo(tempo_bpm)
    skeleton = chart_skeleton(chart, tempo_bpm, bars)
    return melody_over_lead_sheet(
        skeleton, tempo_bpm=tempo_bpm, settings=settings, model=model, progress=progress
    )


def melody_over_lead_sheet(
    skeleton: Score,
    *,
    tempo_bpm: float,
    settings: MelodySettings = MelodySettings(),
    model=None,
    progress: ProgressCallback = no_progress,
) -> Score:
    """A melody over the bars and chords of `skeleton` (a Score whose chords stand at the start
    of every bar and at each change, as `chart_skeleton` writes them; its notes are ignored)."""
    trained = load_melody_model(model)
    tok = trained.tokenizer
    check_settings(settings, tok)
    settings = settle_style(settings, trained)
    skeleton = skeleton.replace(tracks=())
    tokens = tok.encode(skeleton, style=settings.style)[:-1]  # no <eos>
    first_bar = _first_bar_token_index(tok, tokens)
    prompt, planned = tokens[:first_bar], plan_bars(tok, tokens[first_bar:])
    written = _write_bars(trained, prompt, planned, settings, fixed_chords=True, progress=progress)
    melody = _decoded(tok, written)
    return _finish(melody, skeleton, tempo_bpm)


def _first_bar_token_index(tok, tokens: Sequence[int]) -> int:
    for i, token in enumerate(tokens):
        if tok.meaning(token)[0] in ("meter", "bar"):
            return i
    raise UserError("The chart has no bars.")


def _write_bars(
    trained,
    prompt: list[int],
    planned: list[PlannedBar],
    settings: MelodySettings,
    *,
    fixed_chords: bool,
    held_steps: int = 0,
    ends_piece: bool = True,
    progress: ProgressCallback = no_progress,
) -> list[int]:
    """prompt + the planned bars written by the model, in windows when they do not fit;
    `progress(bars written, bars)` after each window.

    held_steps: steps of the first planned bar that the prompt's last note still sounds in
    (`LeadSheetGuide`). ends_piece: whether the last planned bar ends the piece, so the guide
    leans it to a cadence (a note on the downbeat, on the chord's root, ringing through the
    bar); False for bars with more of the piece after them (infilling)."""
    from bandmate.models.sampling import PitchConstraints, sample_tokens

    tok, limit = trained.tokenizer, trained.model.config.max_len
    written = list(prompt)
    header = _header(tok, prompt)
    todo = list(planned)
    window_prompt = list(prompt)
    window = 0
    while todo:
        guide = LeadSheetGuide(
            tok,
            todo,
            len(window_prompt),
            fixed_chords=fixed_chords,
            chord_tone_bias=settings.chord_tone_bias,
            cadence_bias=CADENCE_BIAS if ends_piece else 0.0,
            density=DENSITY[settings.density],
            held_steps=held_steps if window == 0 else 0,
        )
        sample = sample_tokens(
            trained.model,
            trained.task,
            prompt=window_prompt,
            guide=guide,
            constraints=PitchConstraints(pitch_range=settings.pitch_range),
            temperature=settings.temperature,
            top_p=settings.top_p,
            seed=settings.seed + 1000 * window,
        )
        done, cut = guide.completed_bars(sample)
        if done == 0:
            raise UserError(
                "The melody model could not write one bar in its context; give a shorter tune."
            )
        written += sample[len(window_prompt) : cut]
        todo = todo[done:]
        progress(len(planned) - len(todo), len(planned))
        window += 1
        if todo:  # the next window: the header and the latest bars that fit in half the context
            window_prompt = header + _latest_bars(tok, written[len(prompt) :], limit // 2)
    return written


def _header(tok, prompt: Sequence[int]) -> list[int]:
    """<bos> and the STYLE and KEY tokens of a prompt."""
    return [t for t in prompt[:3] if tok.meaning(t)[0] in ("special", "style", "key")]


def _bar_starts(tok, tokens: Sequence[int]) -> list[int]:
    """Indexes where a bar's opening ([METER] BAR) begins."""
    starts = []
    for i, token in enumerate(tokens):
        kind = tok.meaning(token)[0]
        if (
            kind == "bar" and not (i > 0 and tok.meaning(tokens[i - 1])[0] == "meter")
        ) or kind == "meter":
            starts.append(i)
    return starts


def _latest_bars(tok, tokens: Sequence[int], budget: int) -> list[int]:
    """The last whole bars of `tokens` that fit in `budget` tokens, each bar's meter restated."""
    starts = _bar_starts(tok, tokens)
    for start in starts:
        if len(tokens) - start <= budget:
            return _with_meter(tok, tokens, start)
    return _with_meter(tok, tokens, starts[-1]) if starts else []


def _with_meter(tok, tokens: Sequence[int], start: int) -> list[int]:
    """tokens[start:], opened by the meter in force at `start` when it does not restate one."""
    if tok.meaning(tokens[start])[0] == "meter":
        return list(tokens[start:])
    meter = next(
        (t for t in reversed(tokens[:start]) if tok.meaning(t)[0] == "meter"),
        None,
    )
    return ([meter] if meter is not None else []) + list(tokens[start:])


def _decoded(tok, tokens: Sequence[int]) -> Score:
    return tok.decode(list(tokens))


def lead_sheet_end(score: Score) -> int:
    """Where a lead sheet ends: the end of its last bar that holds a chord or a note."""
    grid = score.bar_grid
    last = max([c.onset_ticks for c in score.chords] + [max(score.end_ticks - 1, 0)])
    return grid.bar_start(grid.bar_at(last) + 1)


def _finish(melody: Score, skeleton: Score, tempo_bpm: float) -> Score:
    """The melody with the skeleton's chords, meters, keys and sections, at the tempo."""
    track = melody.tracks[0] if melody.tracks else Track("Melody", role=Role.MELODY)
    end = lead_sheet_end(skeleton)
    kept = sorted((n for n in track.notes if n.onset_ticks < end), key=lambda n: n.onset_ticks)
    # one voice: a note ends where the next begins (a held final note the model wrote past)
    stops = [n.onset_ticks for n in kept[1:]] + [end]
    notes = tuple(
        n.__class__(n.onset_ticks, min(n.duration_ticks, stop - n.onset_ticks), n.pitch, n.velocity)
        for n, stop in zip(kept, stops, strict=True)
        if stop > n.onset_ticks
    )
    track = Track("Melody", program=MELODY_PROGRAM, role=Role.MELODY, notes=notes)
    scale = skeleton.ticks_per_beat / melody.ticks_per_beat
    if scale != 1:
        track = track.with_notes(
            [
                n.__class__(
                    round(n.onset_ticks * scale),
                    round(n.duration_ticks * scale),
                    n.pitch,
                    n.velocity,
                )
                for n in track.notes
            ]
        )
    return skeleton.replace(
        tracks=(track,),
        tempos=(TempoChange.from_bpm(0, tempo_bpm),),
    )
