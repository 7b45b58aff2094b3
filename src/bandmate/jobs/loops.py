"""The loop job: N distinct loops of a style, each as MIDI and WAV per part and full.

Files are named as producers expect: `funk_100bpm_Em_01.wav` (the full loop),
`funk_100bpm_Em_01_bass.wav` (a part), `funk_100bpm_Em_01.mid`; a key with a mode is written
with a hyphen (`funk_100bpm_D-dorian_01.wav`), so no name has a space. The loops differ in their
notes, each decided by the next seed from `seed` up that gives a loop no earlier one did
(`arrange.loops.loop_seeds`), so a pack can be extended later without changing the loops it
already has, and a pack asked for more loops than the style gives, or longer than an hour in
all (`arrange.loops.check_pack_length`), is refused before any work.
Each loop's parts are balanced to the style's authored mix levels and peak together at -1 dBFS,
with no part alone above it (`jobs.backing.balance_stems`, after the tail is folded), so that
the full loop is their sum; the manifest records each part's level and every loop's gains. A
part that plays nothing in a loop (a style's horns rest in its verse groove: `--energy high`
brings them in) gets no file of its own, rather than a silent one in the pack; the manifest
lists it under `silent_parts`.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from bandmate.io.files import check_outputs
from bandmate.progress import ProgressCallback, no_progress


@dataclass(frozen=True)
class LoopRequest:
    style: str
    tempo_bpm: float | None = None
    key: str | None = None  # None: the key --chords names or are in, else C
    chords: str | None = None
    bars: int = 4
    count: int = 1
    seed: int = 0
    sample_rate: int = 44_100
    energy: str | None = None  # "low" or "high" patterns; None: as the chords' sections say


def name_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "part"


def unique_slugs(names: list[str]) -> list[str]:
    """Each name's `name_slug`, a slug that two or more names share numbered in order ("part-1",
    "part-2", skipping a number another name's slug already is): part names without Latin
    letters ("ベース", "ドラム") all came out "part", and "Gtr 1" and "Gtr-1" as one slug, so a
    loop's part files collided."""
    slugs = [name_slug(n) for n in names]
    taken = {slug for slug in slugs if slugs.count(slug) == 1}
    out = []
    for slug in slugs:
        if slugs.count(slug) > 1:
            number = 1
            while f"{slug}-{number}" in taken:
                number += 1
            slug = f"{slug}-{number}"
            taken.add(slug)
        out.append(slug)
    return out


def loop_name(style: str, tempo_bpm: float, key: str, number: int) -> str:
    """A loop's file name without its suffix: `funk_100bpm_Em_01`, `funk_100bpm_D-dorian_03`.

    `key` is a key's short name (`Key.__str__`: "Em", "Bb", "D dorian"); a mode's space becomes
    a hyphen, as style and stem file names write one, so that no file name has a space."""
    return f"{style}_{tempo_bpm:g}bpm_{'-'.join(key.split())}_{number:02d}"


def loop_midi_bytes(score, end_ticks: int) -> bytes:
    """`score` as a MIDI file exactly `end_ticks` long: notes that ring past the loop's end
    (a humanised last hit, up to a few ticks) are cut at it, and every track ends there, so that
    a DAW takes the clip as the loop's bars. Written as it was, a 1-bar loop ran 1919 or 1921
    ticks, and a DAW rounds 1921 up to two bars, a bar of silence in the loop."""
    import io

    import mido

    from bandmate.io.midi import midi_bytes
    from bandmate.score.model import Note

    def cut(track):
        return track.with_notes(
            Note(
                n.onset_ticks, min(n.duration_ticks, end_ticks - n.onset_ticks), n.pitch, n.velocity
            )
            for n in track.notes
            if n.onset_ticks < end_ticks
        )

    midi = mido.MidiFile(
        file=io.BytesIO(midi_bytes(score.replace(tracks=tuple(map(cut, score.tracks)))))
    )
    for track in midi.tracks:
        track[-1].time += end_ticks - sum(msg.time for msg in track)  # the end_of_track
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def make_loops(
    request: LoopRequest,
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
    first_number: int = 1,
) -> list[Path]:
    """Write `request.count` loops into `out_dir`; returns every file written.

    first_number: the number the first loop is named by (`_01` by default); `bandmate batch
    loops` makes loop 7 of a pack alone, as a pack of one whose seed is loop 7's, and names it
    `_07`, as `bandmate loop --count 7` names its seventh, so that a pack's loops gathered into
    one folder overwrite none of each other.
    """
    from bandmate.arrange.backing import chart_minutes
    from bandmate.arrange.loops import (
        check_pack_length,
        loop_chart,
        loop_key,
        loop_score,
        loop_seeds,
    )
    from bandmate.arrange.style import resolve_style
    from bandmate.errors import UserError
    from bandmate.io.files import write_bytes_atomic
    from bandmate.jobs.backing import balance_stems, make_out_dir
    from bandmate.jobs.manifest import (
        listed_files,
        remove_replaced,
        removed_on_failure,
        write_manifest,
    )
    from bandmate.render import render_mix, render_stems
    from bandmate.render.loop import fold_tail, loop_frames
    from bandmate.rights.provenance import (
        RULES_ONLY,
        Provenance,
        Publisher,
        manifest_path,
        style_data,
    )

    if not 1 <= request.count <= 1000:
        raise UserError(f"Give a loop count between 1 and 1000, not {request.count}.")
    if request.chords is not None and not request.chords.strip():  # else the stock chords
        raise UserError("The chords are empty; write bars like '| C | Am | F | G |', or give none.")
    if first_number < 1:
        raise ValueError(f"loops are numbered from 1, not {first_number}")
    style = resolve_style(request.style)
    tempo = style.tempo_default if request.tempo_bpm is None else request.tempo_bpm
    key = str(loop_key(request.key, request.chords, style.meter))
    out = Path(out_dir)

    loop = {
        "tempo_bpm": tempo,
        "key": key,
        "bars": request.bars,
        "chords": request.chords,
        "energy": request.energy,
    }
    # a pack longer than an hour is refused before anything is arranged; the limit lives in the
    # job, not the CLI, so that every caller of the job (`batch loops`) has it
    chart = loop_chart(style, key=key, bars=request.bars, chords=request.chords)
    check_pack_length(chart, tempo, request.count)
    # a loop's length is its bars at the tempo its name says, as a DAW set to that tempo counts
    # them: the score's tempo is whole microseconds a beat (MIDI's), 441176 at 136 BPM, which
    # cut a 1-bar loop at 77823 samples where 136 BPM has 77823.53
    seconds = 60 * chart_minutes(chart, tempo)
    # the first loop (always the first seed's) is arranged before the outputs are checked: it
    # vets the tempo, bars and chords; then the other loops' seeds are found, which refuses a
    # count the style cannot give, and the loops are arranged as they are rendered, so that a
    # refused pack costs one loop's work, or the search's
    first = loop_score(style, seed=request.seed, **loop)
    names = unique_slugs([t.name for t in first.tracks])
    numbers = range(first_number, first_number + request.count)
    bases = [loop_name(name_slug(style.name), tempo, key, n) for n in numbers]
    midis = [out / f"{base}.mid" for base in bases]
    wavs = [
        [out / f"{base}{suffix}.wav" for suffix in ["", *(f"_{name}" for name in names)]]
        for base in bases
    ]
    manifest = out / "manifest.json"
    generated = midis + [w for ws in wavs for w in ws]
    check_outputs([*generated, *map(manifest_path, generated), manifest], force=force)
    seeds = loop_seeds(style, count=request.count, seed=request.seed, **loop)
    previous = listed_files(manifest)  # an earlier pack's, replaced under --force
    make_out_dir(out)
    settings = asdict(request) | {"tempo_bpm": tempo}
    track_names = [t.name for t in first.tracks]
    levels = [style.part(name).level_db for name in track_names]
    stem_gains_db: dict[str, dict[str, float | None]] = {}
    tacet: dict[str, list[str]] = {}  # loop -> the parts it has no file for: they play nothing
    written: list[Path] = []
    # each file is published (tags, credentials, manifest) in the background as it is written,
    # while the next loop renders; a pack that fails part-way (a full disk, Ctrl-C) removes the
    # loops it had made rather than leave them without a manifest: the seeds are found the same
    # way every time, so the pack made again is the same pack
    with removed_on_failure([*generated, manifest]):
        with Publisher() as publisher:
            for n, (midi_path, (full_path, *part_paths)) in enumerate(
                zip(midis, wavs, strict=True)
            ):
                progress(n, request.count)
                score = first if n == 0 else loop_score(style, seed=seeds[n], **loop)
                provenance = Provenance(
                    command="loop",
                    parameters=settings | {"loop": numbers[n]},
                    seed=seeds[n],
                    data=[style_data(style)],
                    originality=RULES_ONLY,
                )
                loop_end = score.bar_grid.bar_start(request.bars)
                write_bytes_atomic(midi_path, loop_midi_bytes(score, loop_end))
                frames = loop_frames(seconds, request.sample_rate)
                rendered = render_stems(score, sample_rate=request.sample_rate)
                folded = [fold_tail(s, frames) for s in rendered]
                # their sum peaks at -1 dBFS, and no part alone above it
                stems, gains = balance_stems(folded, levels)
                stem_gains_db[full_path.stem] = dict(zip(track_names, gains, strict=True))
                publisher.file(midi_path, provenance)
                publisher.audio(render_mix(stems), full_path, provenance)
                written += [midi_path, full_path]
                for track, stem, path in zip(score.tracks, stems, part_paths, strict=True):
                    if not track.notes:  # a part that rests all through (horns in a verse groove)
                        tacet.setdefault(full_path.stem, []).append(track.name)
                        continue
                    publisher.audio(stem, path, provenance)
                    written.append(path)
        progress(request.count, request.count)
        write_manifest(
            manifest,
            command="loop",
            settings=settings,
            files=[p.relative_to(out) for p in written],
            extra={
                "levels_db": dict(zip(track_names, levels, strict=True)),
                "stem_gains_db": stem_gains_db,
                "silent_parts": tacet,
            },
        )
    remove_replaced(previous, written)
    return [*written, manifest]
