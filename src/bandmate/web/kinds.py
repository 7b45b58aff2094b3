"""Every kind of job the studio runs: its parameters and the library call it makes.

Each kind has a pydantic model of its parameters (unknown keys and out-of-range values are
refused, so a mistake is a 422 before anything is queued), a `check` that asks the library the
cheap questions it can answer at once (is the style known, does the chart parse, are the
uploads there and of the right type), and a `run` that makes the same call the matching
`bandmate` command makes (`backing`, `master`, `mix`, `melody`, `harmonize`, `continue`,
`chords`),
writing into the job's folder under fixed names.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bandmate.errors import OutputError, UserError
from bandmate.web.uploads import (
    AUDIO_TYPES,
    SCORE_TYPES,
    STEM_TYPES,
    TYPES,
    UploadMissing,
    UploadStore,
    slug,
)

ALL_TYPES = tuple(TYPES)

UploadId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="an id from /api/uploads")]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
MelodyStyle = Literal["folk", "irish", "fiddle", "chorale"]
# as `bandmate.mix.balance.ROLES` (a test keeps them equal): importing automix here would load
# SciPy with the studio
Role = Literal["drums", "bass", "keys", "guitar", "pad", "lead", "vocal"]
LevelDb = Annotated[float, Field(ge=-40, le=0, description="dB under the loudest element")]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _chart_text(text: str) -> str:
    """The chart as text ending in a newline: `load_chart` reads a one-line string that names a
    file as that file, which must never happen with text from the web."""
    return text if text.endswith("\n") else text + "\n"


ChartText = Annotated[
    str,
    Field(min_length=1, max_length=20_000, description="chart text, e.g. '| C | Am | F | G7 |'"),
    AfterValidator(_chart_text),
]


class BackingParams(Params):
    """As `bandmate backing` (see its --help); `groove` is an uploaded drum MIDI."""

    kind: Literal["backing"]
    chart: ChartText
    style: str = Field(min_length=1, max_length=64)
    tempo: float | None = Field(None, ge=20, le=400)
    key: str | None = Field(None, max_length=16)
    choruses: int = Field(1, ge=1, le=16)
    seed: Seed = 0
    intro: bool = True
    ending: bool = True
    groove: UploadId | None = None
    sample_rate: Literal[44100, 48000] = 44100
    audio: bool = True
    target_lufs: float = Field(-14.0, ge=-60, le=0)  # as `MasterConfig` takes it
    ceiling_dbtp: float = Field(-1.0, ge=-20, le=0)


class MasterParams(Params):
    """As `bandmate master`: `input` and `reference` are uploaded WAV, FLAC, MP3 or Ogg files
    (a reference track is often at hand only as an MP3)."""

    kind: Literal["master"]
    input: UploadId
    reference: UploadId | None = None
    target_lufs: float = Field(-14.0, ge=-60, le=0)  # as `MasterConfig` takes it
    ceiling_dbtp: float = Field(-1.0, ge=-20, le=0)
    intensity: float = Field(1.0, ge=0, le=1)
    curve: Literal["balanced", "warm", "bright", "bass-heavy"] = "balanced"


class MixParams(Params):
    """As `bandmate mix`: `stems` are uploaded WAV, FLAC, MP3 or Ogg files, named as the roles they
    play; `roles` and `levels` (as its --role and --level) are keyed by those uploads' ids, a level
    in dB under the loudest element (0 for the loudest) in place of the balance model's."""

    kind: Literal["mix"]
    stems: list[UploadId] = Field(min_length=1, max_length=32)
    roles: dict[UploadId, Role] = Field(default_factory=dict)
    levels: dict[UploadId, LevelDb] = Field(default_factory=dict)


class MelodyParams(Params):
    """As `bandmate melody`."""

    kind: Literal["melody"]
    chart: ChartText
    style: MelodyStyle = "folk"
    tempo: float = Field(100.0, ge=20, le=400)
    key: str | None = Field(None, max_length=16)
    bars: int | None = Field(None, ge=1, le=256)
    seed: Seed = 0
    low: int = Field(60, ge=0, le=127, description="lowest MIDI pitch")
    high: int = Field(84, ge=0, le=127, description="highest MIDI pitch")
    density: Literal["low", "mid", "high"] = "mid"
    temperature: Temperature = 0.9
    with_backing: str | None = Field(None, max_length=64)
    commercial: bool = False
    tries: int = Field(5, ge=1, le=20)


class HarmonizeParams(Params):
    """As `bandmate harmonize`: `input` is an uploaded MIDI or MusicXML melody."""

    kind: Literal["harmonize"]
    input: UploadId
    seed: Seed = 0
    temperature: Temperature = 0.8
    commercial: bool = False
    tries: int = Field(5, ge=1, le=20)


class ContinueParams(Params):
    """As `bandmate continue`: `input` is an uploaded MIDI or MusicXML piece."""

    kind: Literal["continue"]
    input: UploadId
    bars: int = Field(ge=1, le=128)
    style: MelodyStyle | None = None
    seed: Seed = 0
    temperature: Temperature = 0.9
    commercial: bool = False
    tries: int = Field(5, ge=1, le=20)


class ChordsParams(Params):
    """As `bandmate chords`: for an uploaded melody (`input`, in its key or `key`), or for a
    `key`, a `style` (default pop) and a number of `bars` (default 8)."""

    kind: Literal["chords"]
    input: UploadId | None = None
    key: str | None = Field(None, max_length=16)
    style: str | None = Field(None, min_length=1, max_length=64)
    bars: int | None = Field(None, ge=1, le=256)
    count: int = Field(5, ge=1, le=10)


JobParams = Annotated[
    BackingParams
    | MasterParams
    | MixParams
    | MelodyParams
    | HarmonizeParams
    | ContinueParams
    | ChordsParams,
    Field(discriminator="kind"),
]
MODELS: dict[str, type[Params]] = {
    "backing": BackingParams,
    "master": MasterParams,
    "mix": MixParams,
    "melody": MelodyParams,
    "harmonize": HarmonizeParams,
    "continue": ContinueParams,
    "chords": ChordsParams,
}


def check(params: Params, uploads: UploadStore) -> None:
    """Refuse (UserError) what the library can tell is wrong at once, before queuing."""
    from bandmate.arrange.style import load_style

    if isinstance(params, BackingParams):
        from bandmate.arrange.backing import check_length, prepare_chart
        from bandmate.io.charts import load_chart

        style = load_style(params.style)
        _check_bar_lines(params.chart)
        chart = prepare_chart(load_chart(params.chart, style.meter), params.key)  # key parses
        # a song over the hour is refused now, not after it has waited in the queue
        check_length(chart, params.tempo or style.tempo_default, params.choruses)
        if params.groove:
            uploads.path(params.groove, ("midi",))
    elif isinstance(params, MasterParams):
        _check_audio(params.input, uploads)
        if params.reference:
            _check_audio(params.reference, uploads)
    elif isinstance(params, MixParams):
        for i, stem in enumerate(params.stems):
            _check_audio(stem, uploads, STEM_TYPES)
            if stem in params.stems[:i]:  # it would be mixed in twice as loud
                name = Path(uploads.meta(stem)["name"]).name or stem
                raise UserError(f"The stem {name!r} is given twice; give each stem once.")
        for what, given in (("role", params.roles), ("level", params.levels)):
            for key in given:
                if key not in params.stems:  # it would be dropped without a word
                    raise UserError(
                        f"A {what} is given for {_upload_name(key, uploads)}, which is not one "
                        "of the stems; give roles and levels only for the stems in the mix."
                    )
    elif isinstance(params, MelodyParams):
        from bandmate.arrange.backing import prepare_chart
        from bandmate.io.charts import load_chart

        if params.low >= params.high:
            raise UserError("The melody's range goes downwards; make 'low' lower than 'high'.")
        if params.high - params.low < 7:  # as the melody model's check, which runs in the queue
            raise UserError(
                f"The melody's range {params.low}-{params.high} is under a fifth; make 'high' at "
                "least 7 above 'low' (60-84, C4-C6, is the default)."
            )
        lowest, highest = _melody_model_pitches()
        if params.low < lowest or params.high > highest:  # the model's check, in the queue
            raise UserError(
                f"The melody's range {params.low}-{params.high} goes outside the notes the melody "
                f"model writes; keep 'low' and 'high' within MIDI {lowest}-{highest} (C2-C7)."
            )
        if params.with_backing:
            load_style(params.with_backing)
        _check_bar_lines(params.chart)
        prepare_chart(load_chart(params.chart), params.key)  # and the key parses
    elif isinstance(params, HarmonizeParams | ContinueParams):
        uploads.path(params.input, SCORE_TYPES)
    elif isinstance(params, ChordsParams):
        from bandmate.compose.chords import request_key, suggest_for_key

        key = request_key(params.input is not None, params.key)
        if params.input is None:  # cheap: the style's table set in the key
            suggest_for_key(key, params.bars, params.style, params.count)
            return
        if params.style is not None or params.bars is not None:  # the CLI ignores them unsaid
            raise UserError(
                "A style and bars are for progressions in a key; for an uploaded melody give "
                "only its key, if the file's is wrong."
            )
        uploads.path(params.input, SCORE_TYPES)


UPLOAD_FIELDS = ("input", "reference", "groove", "stems")  # the parameters that name uploads


def upload_ids(params: dict) -> set[str]:
    """The ids of the uploads a job's stored parameters name."""
    found = set()
    for key in UPLOAD_FIELDS:
        ids = params.get(key) or []
        found.update([ids] if isinstance(ids, str) else ids)
    return found


def _check_audio(upload_id: str, uploads: UploadStore, types=AUDIO_TYPES) -> None:
    """Refuse an audio upload not of `types`, or whose header the job would refuse (more than two
    channels, a sample rate bandmate does not take, a header libsndfile cannot read), named as
    uploaded."""
    from bandmate.io.audio import audio_info

    path = uploads.path(upload_id, types)
    try:
        audio_info(path)
    except UserError as e:
        name = Path(uploads.meta(upload_id)["name"]).name or "the upload"
        raise UserError(str(e).replace(str(path), name)) from None


@functools.cache
def _melody_model_pitches() -> tuple[int, int]:
    """The lowest and highest MIDI pitch the shipped melody model writes, read from its
    config.json (loading the model would load torch into a request)."""
    from importlib import resources

    try:  # where bandmate.models.registry.shipped_model_dir finds it (that module loads torch)
        folder = resources.files("bandmate.data") / "models" / "melody"
        config = json.loads((folder / "config.json").read_text())
        settings = config["tokenizer"]["settings"]
        return int(settings["lowest_pitch"]), int(settings["highest_pitch"])
    except (OSError, ValueError, KeyError, TypeError):  # the job's own check then says why
        return 0, 127


def _upload_name(upload_id: str, uploads: UploadStore) -> str:
    """The name the user gave an upload, quoted, or its id when there is no such upload."""
    with contextlib.suppress(UserError):
        return repr(Path(uploads.meta(upload_id)["name"]).name or upload_id)
    return f"the upload {upload_id!r}"


def _check_bar_lines(chart: str) -> None:
    """Refuse a chart with no bar lines that does not read as a progression in running text
    ("C G Am F" does): most likely a file name, which the studio never opens."""
    from bandmate.errors import ChartError
    from bandmate.theory.chart import parse_chart

    if "|" in chart:
        return
    try:
        parse_chart(chart)
    except ChartError:
        raise UserError(
            "Write the chart with bar lines, such as '| C | Am | F | G7 |'; the studio takes "
            "chart text, not file names."
        ) from None


def run(params: dict, out: Path, progress, uploads: UploadStore) -> None:
    """Run the job described by `params` (as `check`ed and stored), writing into `out`.

    A UserError's message names files by the server's paths; those are replaced by the names
    the user knows (the uploaded file's name, "the job's folder"), so no path leaks out."""
    parsed = MODELS[params["kind"]].model_validate(params)
    try:
        globals()[f"_run_{parsed.kind}"](parsed, out, progress, uploads)
    except UploadMissing:  # the studio keeps a queued job's uploads; this one went by other means
        raise UserError(
            "A file this job was given is no longer on the server; upload it again and start "
            "the job anew."
        ) from None
    except UserError as e:
        message = str(e)
        for upload_id in upload_ids(params):
            with contextlib.suppress(UserError):
                name = Path(uploads.meta(upload_id)["name"]).name or "the upload"
                message = message.replace(str(uploads.path(upload_id, ALL_TYPES)), name)
        message = message.replace(str(out), "the job's folder")
        # an OutputError stays one: the studio tells a refused write by it (`jobs.refused_write`)
        raise (OutputError if isinstance(e, OutputError) else UserError)(message) from None


def _run_backing(p: BackingParams, out: Path, progress, uploads: UploadStore) -> None:
    from bandmate.jobs.backing import BackingRequest, make_backing

    request = BackingRequest(
        chart=p.chart,
        style=p.style,
        tempo_bpm=p.tempo,
        key=p.key,
        choruses=p.choruses,
        seed=p.seed,
        intro=p.intro,
        ending=p.ending,
        groove_file=str(uploads.path(p.groove, ("midi",))) if p.groove else None,
        sample_rate=p.sample_rate,
        audio=p.audio,
        target_lufs=p.target_lufs,
        ceiling_dbtp=p.ceiling_dbtp,
    )
    make_backing(request, out, force=True, progress=progress)


def _run_master(p: MasterParams, out: Path, progress, uploads: UploadStore) -> None:
    from bandmate.mix.master import master_file
    from bandmate.mix.report import write_master_json, write_master_png

    source = uploads.path(p.input, AUDIO_TYPES)
    report = master_file(
        source,
        out / "master.wav",
        target_lufs=p.target_lufs,
        ceiling_dbtp=p.ceiling_dbtp,
        reference_path=uploads.path(p.reference, AUDIO_TYPES) if p.reference else None,
        intensity=p.intensity,
        genre_curve=p.curve,
        force=True,
        progress=progress,
    )
    write_master_json(report, out / "master.json")
    write_master_png(report, out / "master.png")  # loudness and spectrum, before and after


def _run_mix(p: MixParams, out: Path, progress, uploads: UploadStore) -> None:
    """Stems are linked into `.stems/` as NN-<slug of the uploaded name>: the mixer reads roles
    from names, and the slug (letters, digits, dashes) cannot point outside the folder. The
    roles and levels, keyed by upload, are given to the mixer by those exact names."""
    import json

    from bandmate.io.files import write_text_atomic
    from bandmate.mix.automix import AutomixConfig, automix_files, write_automix_png

    work = out / ".stems"
    work.mkdir()
    names = {}  # upload id -> the name of its link, as the mixer names the stem
    for i, stem in enumerate(p.stems, 1):
        source = uploads.path(stem, STEM_TYPES)
        names[stem] = f"{i:02d}-{slug(uploads.meta(stem)['name'], 'stem')}{source.suffix}"
        (work / names[stem]).symlink_to(source)
    config = AutomixConfig(
        roles={names[stem]: role for stem, role in p.roles.items()},
        levels={names[stem]: level for stem, level in p.levels.items()},
    )
    try:
        report = automix_files(
            [work], out / "mix.wav", config=config, force=True, progress=progress
        )
    except UserError as e:  # the mixer names a stem by its link; the user knows the upload's name
        message = str(e)
        for stem, name in names.items():
            given = Path(uploads.meta(stem)["name"]).name or "the stem"
            message = message.replace(str(work / name), given)
        raise UserError(message) from None
    finally:
        for link in work.iterdir():
            link.unlink()
        work.rmdir()
    write_text_atomic(out / "mix.json", json.dumps(report.to_dict(), indent=2) + "\n")
    write_automix_png(report, out / "mix.png")  # each stem's level before and after


def _compose_options(p, command: str) -> dict:
    return {
        "commercial": p.commercial,
        "tries": p.tries,
        "force": True,
        "parameters": {"command": command, **p.model_dump(exclude={"kind"})},
    }


def _run_melody(p: MelodyParams, out: Path, progress, uploads: UploadStore) -> None:
    from bandmate.arrange.backing import prepare_chart
    from bandmate.compose.melody import MelodySettings, fit_chart
    from bandmate.io.charts import load_chart
    from bandmate.jobs.compose import melody_job

    settings = MelodySettings(
        style=p.style,
        seed=p.seed,
        pitch_range=(p.low, p.high),
        density=p.density,
        temperature=p.temperature,
    )
    chart = fit_chart(prepare_chart(load_chart(p.chart), p.key), p.bars)
    melody_job(
        chart,
        out / "song.mid",
        settings=settings,
        tempo_bpm=p.tempo,
        with_backing=p.with_backing,
        progress=progress,
        **_compose_options(p, "melody"),
    )


def _read_score(upload_id: str, uploads: UploadStore):
    from bandmate.io.formats import read_score

    return read_score(uploads.path(upload_id, SCORE_TYPES))


def _run_harmonize(p: HarmonizeParams, out: Path, progress, uploads: UploadStore) -> None:
    from bandmate.jobs.compose import harmonize_job

    source = uploads.path(p.input, SCORE_TYPES)
    harmonize_job(
        _read_score(p.input, uploads),
        out / "song.mid",
        inputs=[source],
        seed=p.seed,
        temperature=p.temperature,
        progress=progress,
        **_compose_options(p, "harmonize"),
    )


def _run_continue(p: ContinueParams, out: Path, progress, uploads: UploadStore) -> None:
    from bandmate.compose.melody import MelodySettings
    from bandmate.jobs.compose import continue_job

    settings = MelodySettings(
        style=p.style, seed=p.seed, pitch_range=None, temperature=p.temperature
    )
    continue_job(
        _read_score(p.input, uploads),
        out / "song.mid",
        p.bars,
        settings=settings,
        inputs=[uploads.path(p.input, SCORE_TYPES)],
        progress=progress,
        **_compose_options(p, "continue"),
    )


def _run_chords(p: ChordsParams, out: Path, progress, uploads: UploadStore) -> None:
    """chords.json is what `bandmate chords --json` prints: the suggestions, best first. For a
    melody whose key signature its notes deny, the CLI's warning is warning.txt beside it."""
    import json

    from bandmate.compose.chords import request_key, suggest_for_key, suggest_for_melody
    from bandmate.io.files import write_text_atomic

    key = request_key(p.input is not None, p.key)
    progress(0, 1)
    if p.input is None:
        suggestions = suggest_for_key(key, p.bars, p.style, p.count)
    else:
        from bandmate.theory.harmony import key_doubt

        score = _read_score(p.input, uploads)
        suggestions = suggest_for_melody(score, p.count, key)
        doubt = None if key is not None else key_doubt(score)
        if doubt is not None:  # it names the CLI's flag; the studio's field is the key
            doubt = doubt.replace("give --key ", "set the key to ")
            write_text_atomic(out / "warning.txt", doubt[0].upper() + doubt[1:] + "\n")
    text = json.dumps([s.__dict__ for s in suggestions], indent=2)
    write_text_atomic(out / "chords.json", text + "\n")
