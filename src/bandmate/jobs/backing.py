"""The backing-track job: chart + style -> song.mid, song.musicxml, stems, mix, master, manifest.

The stems are the parts as rendered, balanced to the style's authored mix levels
(`balance_stems`: each part's `level_db`, its loudness under the loudest part) and then turned up
or down together so that their sum peaks at -1 dBFS (lower, where one stem alone would peak
higher: no stem is written clipped): a balance a producer of the genre would start from, rather
than whatever loudness each General MIDI instrument has in the SoundFont.
`mix.wav` is those stems through `mix.automix` (EQ, compression, pan, headroom for mastering),
told the style's levels rather than guessing a balance by role: the authored balance is known,
and automix's balance model, which cannot hear a genre, would put a bossa nova's or a ballad's
drums 6 dB over where the style sets them (`bench/mix.py`). `master.wav` is the mix through
`mix.master` (tonal balance, a loudness target under a true-peak ceiling). So a backing track
arrives finished, and the manifest records each stem's level and gain and both reports' figures.
song.mid stays as played (no CC7): each synth and DAW hears channel volume through its own
curve, so the gains live in the audio only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.io.files import check_outputs
from bandmate.progress import ProgressCallback, no_progress

HEADROOM_PEAK = 10 ** (-1 / 20)  # the balanced stems and their sum peak at -1 dBFS at most


@dataclass(frozen=True)
class BackingRequest:
    """Every setting of a backing track, as the manifest records it."""

    chart: str
    style: str
    tempo_bpm: float | None = None
    key: str | None = None
    choruses: int = 1
    seed: int = 0
    intro: bool = True
    ending: bool = True
    groove_file: str | None = None
    sample_rate: int = 44_100
    audio: bool = True
    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0


def backing_outputs(out_dir: Path, track_names: list[str] | None, audio: bool) -> dict[str, Path]:
    from bandmate.render.stems import stem_filenames

    paths = {
        "midi": out_dir / "song.mid",
        "musicxml": out_dir / "song.musicxml",
        "manifest": out_dir / "manifest.json",
    }
    if audio:
        paths["mix"] = out_dir / "mix.wav"
        paths["master"] = out_dir / "master.wav"
        for name, file in zip(track_names or [], stem_filenames(track_names or []), strict=True):
            paths[f"stem:{name}"] = out_dir / "stems" / file
    return paths


def make_out_dir(out_dir: Path) -> None:
    """Create the job's output folder (and its parents), or say in one sentence why it cannot be:
    a path that is a file, or one under a file, would otherwise fail inside the first writer."""
    from bandmate.errors import OutputError

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(
            f"Output folder {str(out_dir)!r} is a file; give the path of a folder."
        ) from None
    except OSError as e:
        raise OutputError(
            f"Output folder {str(out_dir)!r} cannot be created ({e.strerror}); give another folder."
        ) from None


def balance_stems(
    stems: Sequence[Audio], levels_db: Sequence[float], *, peak: float = HEADROOM_PEAK
) -> tuple[list[Audio], list[float]]:
    """Gain `stems` to their authored balance, then together so that neither their sum nor any
    one of them peaks above `peak`.

    Each stem's integrated loudness (BS.1770, gated, so a part that rests is measured where it
    plays) is brought to its level in `levels_db` (dB; only the differences matter: a style
    part's `level_db`); then one common gain, up or down, makes the peak of their sum `peak`
    (linear), so that nothing clips and every backing track's stems sit at the same place;
    unless a single stem would then peak higher, where the others push against it (a jazz-swing
    loop's ride cymbal: the sum at -1 dBFS, the drum stem written clipped at full scale), and
    then the common gain is the one that puts that stem's peak at `peak` and the sum a little
    under it. The gain is common, so the balance holds and the mix is still exactly the stems'
    sum. The stems must be of one rate and length, as `render_stems` makes them. A silent stem
    (below the meter's -70 LUFS gate) gets the common gain only, so it stays silent; stems too
    short to measure (under 0.4 s) keep their rendered balance.

    Returns the stems and the gain each one got, in dB. `bandmate backing` and `bandmate loop`
    write their stems through this, and the mixing benchmarks take their "original arrangement"
    from it.
    """
    from bandmate.mix.meter import integrated_lufs
    from bandmate.threads import thread_map

    if len(stems) != len(levels_db):
        raise ValueError(f"{len(stems)} stems but {len(levels_db)} levels")
    if not stems:
        return [], []
    loudness = thread_map(integrated_lufs, stems)
    measured = all(value is not None for value in loudness)  # else too short: as rendered
    wanted = [
        level - value if measured and math.isfinite(value) else None
        for value, level in zip(loudness, levels_db, strict=True)
    ]
    top = max((g for g in wanted if g is not None), default=0.0)
    gains_db = [0.0 if g is None else g - top for g in wanted]
    # the loudest of the sum and of each stem alone, at these gains, is brought to `peak`
    loudest = max(_sum_peak(stems, gains_db), _stem_peak(stems, gains_db))
    common_db = 20 * math.log10(peak / loudest) if loudest > 0 else 0.0
    gains_db = [g + common_db for g in gains_db]
    return _gained(stems, gains_db), [round(g, 2) for g in gains_db]


def _sum_peak(stems: Sequence[Audio], gains_db: Sequence[float]) -> float:
    """The peak of the stems' sum at `gains_db`, without a gained copy of every stem."""
    total = np.zeros(stems[0].samples.shape, dtype=np.float32)
    scratch = np.empty_like(total)
    for stem, g in zip(stems, gains_db, strict=True):
        if stem.samples.shape != total.shape:
            raise ValueError(f"stems differ in shape: {stems[0]!r} and {stem!r}")
        total += np.multiply(stem.samples, np.float32(10 ** (g / 20)), out=scratch)
    return max(float(total.max()), -float(total.min())) if total.size else 0.0


def _stem_peak(stems: Sequence[Audio], gains_db: Sequence[float]) -> float:
    """The highest peak of any one stem at `gains_db`."""
    return max(
        float(np.abs(stem.samples).max(initial=0.0)) * 10 ** (g / 20)
        for stem, g in zip(stems, gains_db, strict=True)
    )


def _gained(stems: Sequence[Audio], gains_db: Sequence[float]) -> list[Audio]:
    return [
        Audio(s.samples * 10 ** (g / 20), s.sample_rate)
        for s, g in zip(stems, gains_db, strict=True)
    ]


def make_backing(
    request: BackingRequest,
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
) -> dict[str, Path]:
    """Arrange, write and (unless request.audio is False) render a backing track into `out_dir`."""
    from bandmate.arrange.backing import backing
    from bandmate.arrange.feel import extract_groove
    from bandmate.arrange.style import resolve_style
    from bandmate.io.charts import load_chart
    from bandmate.io.midi import read_midi, write_midi
    from bandmate.io.music21_write import write_musicxml
    from bandmate.jobs.manifest import (
        listed_files,
        remove_replaced,
        removed_on_failure,
        write_manifest,
    )
    from bandmate.rights.provenance import (
        RULES_ONLY,
        Provenance,
        Publisher,
        manifest_path,
        style_data,
    )

    out = Path(out_dir)
    if request.audio:  # a bad loudness target is refused before any work
        from bandmate.mix.master import MasterConfig

        MasterConfig(target_lufs=request.target_lufs, ceiling_dbtp=request.ceiling_dbtp)
    style = resolve_style(request.style)
    chart = load_chart(request.chart, style.meter)
    groove = None
    if request.groove_file:
        groove_score = read_midi(request.groove_file)
        groove = extract_groove(groove_score, name=str(request.groove_file))
        _check_groove_meter(groove_score, chart, str(request.groove_file))
    score = backing(
        chart,
        style=style,
        tempo_bpm=request.tempo_bpm,
        key=request.key,
        choruses=request.choruses,
        seed=request.seed,
        intro=request.intro,
        ending=request.ending,
        groove=groove,
    )
    paths = backing_outputs(out, [t.name for t in score.tracks], request.audio)
    inputs = [p for p in (request.groove_file,) if p]
    generated = [p for k, p in paths.items() if k != "manifest"]
    check_outputs([*paths.values(), *map(manifest_path, generated)], inputs, force=force)
    previous = listed_files(paths["manifest"])  # an earlier run's, replaced under --force
    make_out_dir(out)
    settings = asdict(request) | {"tempo_bpm": score.tempo_bpm}
    provenance = Provenance(
        command="backing",
        parameters=settings,
        seed=request.seed,
        data=[style_data(style)],
        originality=RULES_ONLY,
    )
    with removed_on_failure(list(paths.values())):
        write_midi(score, paths["midi"])
        # each file is published (tagged, signed, its manifest written) in the background as soon as
        # it is written; music21's MusicXML writer runs beside everything (`_beside`)
        with Publisher(provenance) as publisher, ThreadPoolExecutor(1) as side:
            musicxml = _beside(side, write_musicxml, score, paths["musicxml"])  # before any thread
            publisher.file(paths["midi"])
            audio_report = {}
            if request.audio:
                audio_report = _write_audio(score, style, paths, request, publisher, progress)
            musicxml.result()
            publisher.file(paths["musicxml"])
        write_manifest(
            paths["manifest"],
            command="backing",
            settings=settings,
            files=[p.relative_to(out) for k, p in paths.items() if k != "manifest"],
            extra={
                "duration_seconds": round(score.duration_seconds, 3),
                "tracks": [t.name for t in score.tracks],
                **audio_report,
            },
        )
    remove_replaced(previous, generated)
    return paths


def _write_audio(score, style, paths, request: BackingRequest, publisher, progress) -> dict:
    """Render and balance the stems, automix them and master the mix, each file handed to
    `publisher` to write and sign while the next is made; returns the manifest's figures."""
    from bandmate.mix.automix import AutomixConfig, automix
    from bandmate.mix.master import master
    from bandmate.render import render_stems

    rendered = render_stems(score, sample_rate=request.sample_rate, progress=progress)
    levels = [style.part(t.name).level_db for t in score.tracks]
    stems, gains = balance_stems(rendered, levels)
    named = []
    for track, audio in zip(score.tracks, stems, strict=True):
        publisher.audio(audio, paths[f"stem:{track.name}"])
        named.append((track.name, audio))
    # the mix keeps the style's balance: the stems' levels are known, not guessed
    config = AutomixConfig(
        levels={t.name: level for t, level in zip(score.tracks, levels, strict=True)}
    )
    mixed, mix_report = automix(named, config=config)
    publisher.audio(mixed, paths["mix"])
    mastered, master_report = master(
        mixed, target_lufs=request.target_lufs, ceiling_dbtp=request.ceiling_dbtp
    )
    publisher.audio(mastered, paths["master"])
    after = master_report.after
    return {
        "stems": {
            track.name: {"level_db": level, "gain_db": gain}
            for track, level, gain in zip(score.tracks, levels, gains, strict=True)
        },
        "mix": {
            "loudness_lufs": mix_report.mix_lufs,
            "true_peak_dbtp": mix_report.mix_true_peak_dbtp,
            "stems": {
                s.name: {
                    "role": s.role,
                    "gain_db": s.gain_db,
                    "loudness_lufs": s.loudness_after_lufs,
                }
                for s in mix_report.stems
            },
        },
        "master": {
            "loudness_lufs": _round(after.loudness.integrated_lufs),
            "true_peak_dbtp": _round(after.loudness.true_peak_dbtp),
            "target_lufs": request.target_lufs,
            "ceiling_dbtp": request.ceiling_dbtp,
            # as `bandmate master` says them: a target out of reach under the ceiling, above all
            "reached_target": master_report.reached,
            "notes": list(master_report.notes),
        },
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _beside(side: ThreadPoolExecutor, fn, *args):
    """Start `fn(*args)` beside the job; the returned object's `result()` waits for it.

    `fn` is music21's MusicXML writer: pure Python, so on a thread it holds the GIL that
    FluidSynth's and the mixers' threads need each time they come back from C (between every two
    notes, for the renderer): beside it the render took twice as long. So when this process has
    no other thread yet, it runs in a forked child process, which is safe before any thread
    starts; otherwise on `side`. A `bandmate backing` whose stderr is not a terminal (scripts,
    CI, the benchmark) forks; at a terminal the progress bar's refresh thread is running, and so
    are the web studio's job workers, so those stay on a thread. Measured on the 3-minute bench
    song: the job 8.1 -> 7.75 s (median of 4).
    """
    import multiprocessing
    import threading

    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return side.submit(fn, *args)
    child = multiprocessing.get_context("fork").Process(
        target=_quietly, args=(os.getpid(), fn, *args), daemon=True
    )
    child.start()
    return _Child(child)


def _quietly(parent: int, fn, *args) -> None:
    """`fn(*args)` in the child of the command (process `parent`), which leaves Ctrl-C to the
    command (it is ended with it). On Linux it is also ended when the command dies however it
    dies (SIGKILL, the out-of-memory killer), rather than writing on into a folder the user may
    since have deleted."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command's handler (`cli.Terminated`)
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the command died before that was set
            os._exit(1)
    fn(*args)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal the child gets when its parent dies


@dataclass
class _Child:
    process: object

    def result(self) -> None:
        self.process.join()
        if self.process.exitcode != 0:
            raise RuntimeError(f"the MusicXML writer failed (exit code {self.process.exitcode})")


def _check_groove_meter(groove_score, chart, name: str) -> None:
    """Refuse a groove whose bar fits no bar of the chart: it is laid on bars of its own length
    only (`feel.apply_groove`), so it would change nothing, where it used to wrap its downbeat
    onto another beat (a 3/4 groove accented beat 4 of a 4/4 song)."""
    meter = groove_score.time_signatures[0]
    quarters = Fraction(4 * meter.numerator, meter.denominator)
    if not any(Fraction(4 * b.meter[0], b.meter[1]) == quarters for b in chart.bars):
        meters = sorted({f"{b.meter[0]}/{b.meter[1]}" for b in chart.bars})
        raise UserError(
            f"The groove file {name!r} is in {meter}, but the chart's bars are in "
            f"{', '.join(meters)}; give a groove played in the song's meter."
        )
