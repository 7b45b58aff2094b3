"""Generation jobs for melodies and harmonies: the model, the originality policy, the file, its
provenance.

Each job (`melody_job`, `harmonize_job`, `continue_job`, `infill_job`) does what its command
promises, in one order:
1. load the model, and refuse it under `commercial=True` when its card says its training data are
   not all cleared for commercial use (`rights.provenance.require_commercial`);
2. generate, and check the part the model wrote (not the user's own input, nor a band played by
   rules) against the training data (`rights.originality`). A flagged piece is generated again
   with the next seed of the attempt sequence, up to `tries` attempts; if every attempt is
   flagged, the least similar one is written with the flag and its match in the manifest, and
   the job says so;
3. write the file and publish it (`rights.provenance.publish`): tags, credentials for audio, and
   `<file>.provenance.json`.

Attempt k (from 0) samples with seed `seed + ATTEMPT_SEED_STEP * k`, so the first attempt is the
seed the user gave and a retry never lands on the seed of a neighbouring run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bandmate.io.files import check_outputs
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import Score

ATTEMPT_SEED_STEP = 7919
DEFAULT_TRIES = 5


@dataclass(frozen=True)
class Written:
    """What a job wrote: the score, the file, its manifest, the originality result, attempts."""

    score: Score
    path: Path
    manifest: Path
    provenance: object  # rights.provenance.Provenance, to publish files made from this one
    originality: dict
    attempts: int
    warning: str | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.originality.get("flagged"))


def attempt_seed(seed: int, attempt: int) -> int:
    return seed + ATTEMPT_SEED_STEP * attempt


def check_output_paths(out: str | os.PathLike, inputs=(), *, force: bool) -> Path:
    """Refuse to overwrite `out` or its manifest (without force) before any work."""
    from bandmate.io.formats import check_writable_suffix
    from bandmate.rights.provenance import manifest_path

    check_writable_suffix(out)
    check_outputs([out, manifest_path(out)], list(inputs), force=force)
    return Path(out)


def load_model(task: str, model, *, commercial: bool):
    """The model for `task` (shipped, or the folder `model`), with its manifest entry."""
    from bandmate.compose.harmonize import load_chorale_model
    from bandmate.compose.melody import load_melody_model
    from bandmate.rights.provenance import model_use, require_commercial

    trained = (load_chorale_model if task == "chorale" else load_melody_model)(model)
    use = model_use(trained)
    if commercial:
        require_commercial([use])
    return trained, use


def generate_original(
    make: Callable[[int], Score], part: Callable[[Score], Score], tries: int, index=None
) -> tuple[Score, dict, int, int]:
    """(score, originality result as a dict, the attempt it came from (from 0), attempts made)
    under the policy of `rights.originality.first_original`: the first attempt whose `part` is
    not flagged, else the least similar one, checked against `index` (one or several; None: the
    shipped index). An attempt whose part has no line of two or more notes cannot copy anything
    and is taken as it is, unchecked (`TOO_SHORT`): the check refuses such a part."""
    from bandmate.errors import EmptyScoreError, UserError
    from bandmate.rights.originality import first_original

    if tries < 1:
        raise UserError(f"--tries must be at least 1, got {tries}.")
    attempt_of: dict[int, int] = {}
    unchecked: list[Score] = []  # the attempt made last, until the check has read it

    def generate(attempt: int) -> Score:
        unchecked.clear()
        score = make(attempt)
        attempt_of[id(score)] = attempt
        unchecked.append(score)
        return score

    try:
        score, result, made = first_original(generate, tries, part=part, index=index)
    except EmptyScoreError:
        if not unchecked:
            raise  # the input's own mistake, from `make`
        score = unchecked[0]
        return score, TOO_SHORT, attempt_of[id(score)], attempt_of[id(score)] + 1
    return score, result.to_dict(), attempt_of[id(score)], made


# What the manifest says of a part the originality check cannot read (it wants a line of two or
# more notes): a one-note melody's voices, a bar infilled with one whole note. Nothing that short
# can copy a tune, so the piece is written, not refused.
TOO_SHORT = {
    "checked": False,
    "flagged": False,
    "reason": "the part the model wrote has no line of two or more notes: too short to copy "
    "anything from its training data",
}


def _melody_track(piece: Score) -> str:
    """The name of the track that continue and infill write the melody into (not always the
    first: a file may hold its bass first), the one whose new bars are checked."""
    from bandmate.compose.continuation import _melody_source
    from bandmate.compose.harmonize import melody_line

    return _melody_source(piece, melody_line(piece)[0]).name


def _tracks(score: Score, names) -> Score:
    return score.replace(tracks=tuple(t for t in score.tracks if t.name in names))


def _from_tick(score: Score, start_ticks: int, names) -> Score:
    from bandmate.score.transform import slice_ticks

    end = max((n.end_ticks for t in score.tracks for n in t.notes), default=start_ticks + 1)
    return slice_ticks(_tracks(score, names), start_ticks, max(end, start_ticks + 1))


# --- the jobs ----------------------------------------------------------------------------------
def _generate(
    task: str,
    command: str,
    out: str | os.PathLike,
    *,
    seed: int,
    make: Callable[[object, int, ProgressCallback], tuple[Score, str | None]],
    part: Callable[[Score], Score],
    finish: Callable[[Score], Score] | None = None,
    inputs=(),
    model=None,
    commercial: bool = False,
    tries: int = DEFAULT_TRIES,
    force: bool = False,
    parameters: dict | None = None,
    data: list[dict] | None = None,
    progress: ProgressCallback = no_progress,
) -> Written:
    """What every job does (see the module docstring): `make(trained, seed, progress)` gives
    (score, warning), reporting to `progress` as the model writes (an attempt after a flagged
    one says so); `part(score)` is what is checked; `finish(score)` adds what rules play (a
    band), and `data` says what those rules came from (the band's style)."""
    from bandmate.io.formats import write_score
    from bandmate.rights.provenance import Provenance, publish

    out = check_output_paths(out, inputs, force=force)
    trained, use = load_model(task, model, commercial=commercial)
    warnings: dict[int, str | None] = {}

    def attempt_score(attempt: int) -> Score:
        def told(done: float, total: float, **_) -> None:
            again = f"attempt {attempt + 1} of {tries}" if attempt else ""
            progress(done, total, status=again)

        score, warnings[attempt] = make(trained, attempt_seed(seed, attempt), told)
        return score

    # checked against everything the model learnt from: a user's own collections too
    from bandmate.rights.originality import indexes_for

    index = indexes_for(use["collections"])
    score, originality, attempt, made = generate_original(attempt_score, part, tries, index)
    if finish is not None:
        score = finish(score)
    write_score(score, out)
    provenance = Provenance(
        command=command,
        parameters=(parameters or {}) | {"seed_used": attempt_seed(seed, attempt)},
        seed=seed,
        models=[use],
        data=data or [],
        originality=originality,
        attempts=made,
    )
    manifest = publish(out, provenance)
    return Written(score, out, manifest, provenance, originality, made, warnings[attempt])


def melody_job(chart, out, *, settings, tempo_bpm: float, with_backing: str | None = None,
               **options) -> Written:  # fmt: skip
    """A melody over `chart` (a prepared Chart), optionally with a band, written to `out`.

    `options`: inputs, model, commercial, tries, force, parameters (see `_generate`)."""
    from bandmate.arrange.backing import MAX_SONG_MINUTES, chart_minutes, check_tempo
    from bandmate.compose.melody import melody_over_chart
    from bandmate.errors import UserError

    check_tempo(tempo_bpm)  # a bad tempo fails before the model is loaded
    minutes = chart_minutes(chart, tempo_bpm)
    if minutes > MAX_SONG_MINUTES:  # `--bars 100000` wrote for hours with no word
        raise UserError(
            f"{len(chart.bars)} bars at {tempo_bpm:g} BPM would run {minutes:.0f} minutes, past "
            f"the {MAX_SONG_MINUTES}-minute limit; give fewer --bars."
        )
    band_style = None
    if with_backing:
        from bandmate.arrange.style import resolve_style

        band_style = resolve_style(with_backing)  # an unknown style fails before the model runs

    def make(trained, seed: int, progress):
        chosen = replace(settings, seed=seed)
        melody = melody_over_chart(
            chart, tempo_bpm=tempo_bpm, settings=chosen, model=trained, progress=progress
        )
        return melody, None

    def with_band(score: Score) -> Score:
        from bandmate.arrange.backing import backing

        band = backing(
            chart, style=band_style, tempo_bpm=tempo_bpm, seed=settings.seed,
            intro=False, ending=False,
        )  # fmt: skip
        return score.replace(tracks=(*score.tracks, *band.tracks))

    from bandmate.rights.provenance import style_data

    return _generate(
        "melody", "melody", out, seed=settings.seed, make=make, part=lambda s: s,
        finish=with_band if with_backing else None,
        data=[style_data(band_style)] if band_style else None, **options,
    )  # fmt: skip


def harmonize_job(melody: Score, out, *, seed: int = 0, temperature: float = 0.8,
                  **options) -> Written:  # fmt: skip
    """Alto, tenor and bass under `melody`; only the written voices are checked."""
    from bandmate.compose.harmonize import VOICE_NAMES, harmonize

    def make(trained, seed_used: int, progress):
        return harmonize(
            melody, model=trained, seed=seed_used, temperature=temperature, progress=progress
        )

    return _generate(
        "chorale", "harmonize", out, seed=seed, make=make,
        part=lambda s: _tracks(s, VOICE_NAMES[1:]), **options,
    )  # fmt: skip


def continue_job(piece: Score, out, bars: int, *, settings, **options) -> Written:
    """`piece` and `bars` more bars; only the melody after the input's end is checked."""
    from bandmate.compose.continuation import continue_piece

    end = max((n.end_ticks for t in piece.tracks for n in t.notes), default=0)

    def make(trained, seed: int, progress):
        chosen = replace(settings, seed=seed)
        return continue_piece(piece, bars, settings=chosen, model=trained, progress=progress)

    melody = {_melody_track(piece)}
    return _generate(
        "melody", "continue", out, seed=settings.seed, make=make,
        part=lambda s: _from_tick(s, end, melody), **options,
    )  # fmt: skip


def infill_job(piece: Score, out, first_bar: int, last_bar: int, *, settings,
               **options) -> Written:  # fmt: skip
    """`piece` with bars `first_bar`..`last_bar` of its melody written again; those bars are
    checked."""
    from bandmate.compose.continuation import infill_bars

    def make(trained, seed: int, progress):
        chosen = replace(settings, seed=seed)
        filled = infill_bars(
            piece, first_bar, last_bar, settings=chosen, model=trained, progress=progress
        )
        return filled, None

    melody = {_melody_track(piece)}

    def part(score: Score) -> Score:
        return _tracks(score, melody).slice_bars(first_bar - 1, last_bar)

    return _generate("melody", "infill", out, seed=settings.seed, make=make, part=part, **options)
