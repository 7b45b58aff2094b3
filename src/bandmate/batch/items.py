"""The items of a batch, and the function that does one item of each kind.

An item is named by what it makes (a master's path relative to the output folder, or
`style/NN` for a loop), and that name is its key in the batch report. Its seed comes from the
name (or, for a loop, from its number, as `bandmate loop` numbers them), never from the run, so
an item comes out the same in any batch, on any worker, in any order.

The `*_item` functions run inside a Ray worker; each calls the library function the CLI calls
for one file, with `force=True`: the runner only gives them items that the report does not list
as done, and it has already refused outputs that the batch did not make (see `runner`). Each
returns the files it wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from bandmate.errors import InputFileError, OutputError, UserError

MASTER_SUFFIXES = (".wav", ".flac")
MIDI_SUFFIXES = (".mid", ".midi")
MAX_SEED = 2**32 - 1  # the largest seed NumPy's legacy `np.random.seed` takes


@dataclass(frozen=True)
class BatchItem:
    """One unit of work: `kind` ("master", "render", "loops") applied to `source`.

    source: the input file, or None (loops make something from nothing but settings).
    outputs: what the item writes (files, or for a loop the folder it fills).
    settings: everything that decides the output besides the input's bytes and the seed.
    """

    name: str
    kind: str
    source: Path | None
    outputs: tuple[Path, ...]
    seed: int
    settings: Mapping[str, Any] = field(default_factory=dict)


def name_seed(name: str) -> int:
    """A 31-bit seed from an item's name: the same name, the same seed, in every batch. A file
    name that is not UTF-8 (from an old archive) is taken as the bytes it is on disk."""
    data = name.encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.sha256(data).digest()[:4], "big") >> 1


def file_sha256(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def find_inputs(in_dir: str | os.PathLike, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """The files under `in_dir` (any depth) with one of `suffixes`, sorted; refuses none."""
    folder = Path(in_dir)
    if folder.exists() and not folder.is_dir():
        raise InputFileError(f"{str(folder)!r} is a file, not a folder; give the input folder.")
    if not folder.is_dir():
        raise InputFileError(f"Input folder {str(folder)!r} does not exist; check the path.")
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
    )
    if not found:
        raise InputFileError(
            f"{str(folder)!r} holds no {what} ({', '.join(suffixes)}); give a folder that does."
        )
    return found


def check_out_dir(out_dir: Path) -> None:
    """Refuse an output folder that is a file (before any work; it could never be written)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(
            f"The output folder {str(out_dir)!r} is a file; give a folder (it is made if missing)."
        )
    # a missing folder is made: refuse now one that cannot be, under a file (song.wav/out)
    existing = next((p for p in out_dir.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputError(
            f"The output folder {str(out_dir)!r} cannot be made: {str(existing)!r} is a file; "
            "give a folder."
        )


def _check_folders(in_dir: Path, out_dir: Path) -> None:
    check_out_dir(out_dir)
    if in_dir.resolve() == out_dir.resolve():
        raise UserError("The output folder is the input folder; give the outputs their own.")


def _plan_files(in_dir, out_dir, kind, suffixes, what, out_suffix, settings) -> list[BatchItem]:
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    _check_folders(in_dir, out_dir)
    out_real = out_dir.resolve()
    # OUT_DIR inside IN_DIR: the files under it are the outputs of an earlier run, not inputs.
    # (IN_DIR inside OUT_DIR is another matter: every input lies under OUT_DIR then.)
    skip_under = out_real if in_dir.resolve() in out_real.parents else None
    found = find_inputs(in_dir, suffixes, what)
    inputs = [p for p in found if skip_under is None or skip_under not in p.resolve().parents]
    if not inputs:
        raise InputFileError(
            f"{str(in_dir)!r} holds no {what} outside the output folder {str(out_dir)!r}; give "
            "a folder that does."
        )
    input_paths = {p.resolve() for p in inputs}
    items, sources = [], {}
    for path in inputs:
        rel = path.relative_to(in_dir)
        if out_suffix:
            rel = rel.with_suffix(out_suffix)
        name = rel.as_posix()
        if name in sources:  # song.mid and song.midi would both write song.wav
            raise UserError(
                f"{sources[name]} and {path} would both be written to {out_dir / rel}; rename "
                "one of them."
            )
        if (out_dir / rel).resolve() in input_paths:  # IN_DIR inside OUT_DIR: a/a/x.wav -> a/x.wav
            raise OutputError(
                f"{path} would be written over the input {out_dir / rel}; give the outputs a "
                "folder outside the input folder."
            )
        sources[name] = path
        items.append(BatchItem(name, kind, path, (out_dir / rel,), name_seed(name), settings))
    return items


def plan_master(
    in_dir, out_dir, *, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0
) -> list[BatchItem]:
    """One item per WAV or FLAC file under `in_dir`, mastered to the same relative path."""
    from bandmate.mix.master import MasterConfig

    MasterConfig(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)  # refuse before any work
    settings = {"target_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp}
    return _plan_files(
        in_dir, out_dir, "master", MASTER_SUFFIXES, "WAV or FLAC files", "", settings
    )


def plan_render(in_dir, out_dir, *, sample_rate: int = 44_100) -> list[BatchItem]:
    """One item per MIDI file under `in_dir`, rendered to a WAV at the same relative path."""
    settings = {"sample_rate": sample_rate}
    return _plan_files(in_dir, out_dir, "render", MIDI_SUFFIXES, "MIDI files", ".wav", settings)


def plan_loops(
    styles: list[str],
    count: int,
    out_dir,
    *,
    key: str = "C",
    bars: int = 4,
    seed: int = 0,
    sample_rate: int = 44_100,
) -> list[BatchItem]:
    """`count` loops of each style; loop n of a style goes to `out_dir/style/NN/`.

    Loop n has the seed loop n of `bandmate loop --count` has (`arrange.loops.loop_seeds`: the
    loops differ in their notes), found here, before any work, so that a pack the style cannot
    give is refused at once; a pack can grow later without changing the loops it has. Each loop
    is written by `make_loops` as a pack of one numbered n, so its files are named as `bandmate
    loop` names loop n (`funk_100bpm_C_07.wav`): style, tempo, key and number make every file
    name in the batch its own, and a producer can gather the folders' files into one. They are
    named right when written because the provenance manifests and content credentials name the
    files: they cannot be renamed afterwards.
    """
    from bandmate.arrange.loops import loop_seeds
    from bandmate.arrange.style import load_style
    from bandmate.theory.keys import parse_key

    parse_key(key)  # a key that does not parse is refused before any work
    if not styles:
        raise UserError("Give at least one style, as in --styles funk,rock (see bandmate styles).")
    if not 1 <= count <= 10_000:
        raise UserError(f"Give a loop count between 1 and 10000, not {count}.")
    if not 0 <= seed <= MAX_SEED - count + 1:  # each worker seeds NumPy's legacy generator too
        raise UserError(f"Give a seed from 0 to {MAX_SEED - count + 1}, not {seed}.")
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    items = []
    # by the style's own name (an unknown one is refused before any work): "funk,Funk" or
    # "funk,funk" is one style, whose loops would otherwise be made twice, at once, into one
    # folder
    for style in dict.fromkeys(load_style(s).name for s in styles):
        arranged = load_style(style)
        seeds = loop_seeds(
            arranged, count=count, seed=seed, tempo_bpm=arranged.tempo_default, key=key, bars=bars
        )
        if seeds[-1] > MAX_SEED:
            raise UserError(f"Give a seed from 0 to {MAX_SEED - seeds[-1] + seed}, not {seed}.")
        for n, loop_seed in enumerate(seeds, 1):
            settings = {
                "style": style,
                "key": key,
                "bars": bars,
                "sample_rate": sample_rate,
                "number": n,  # names its files, as `bandmate loop` names loop n
            }
            name = f"{style}/{n:02d}"
            items.append(BatchItem(name, "loops", None, (out_dir / name,), loop_seed, settings))
    return items


# --- one item, in a worker ---------------------------------------------------------------------
def master_item(item: BatchItem) -> list[Path]:
    from bandmate.mix.master import master_file

    (out,) = item.outputs
    out.parent.mkdir(parents=True, exist_ok=True)
    master_file(item.source, out, force=True, **item.settings)
    return [out]


def render_item(item: BatchItem) -> list[Path]:
    from bandmate.jobs.render import render_file

    (out,) = item.outputs
    out.parent.mkdir(parents=True, exist_ok=True)
    render_file(item.source, out, force=True, **item.settings)
    return [out]


def loop_item(item: BatchItem) -> list[Path]:
    """A loop's files, their provenance sidecars and its folder's manifest.

    The sidecars are listed with the files, so that the batch report holds them among the
    item's outputs and a rerun does again a loop one of whose sidecars is gone: a loop file
    that cannot say how it was made is not a finished loop."""
    from bandmate.jobs.loops import LoopRequest, make_loops
    from bandmate.rights.provenance import manifest_path

    (folder,) = item.outputs
    settings = dict(item.settings)
    number = settings.pop("number")
    request = LoopRequest(count=1, seed=item.seed, **settings)
    written = make_loops(request, folder, force=True, first_number=number)
    return [*written, *(manifest_path(p) for p in written if p.name != "manifest.json")]


WORK = {"master": master_item, "render": render_item, "loops": loop_item}


def discard_partial(item: BatchItem) -> None:
    """Remove what an item stopped part-way (Ctrl-C, a killed worker) left of its outputs.

    A loop's folder is its own: its files (named after the style), their provenance sidecars
    and its manifest go, and the folder too once empty. A master or render writes one file
    atomically, so only the hidden temporary file of a write cut short (`io.files.atomic_path`)
    can be left. Other files in the folders are not touched. The item stays pending in the
    report, so a rerun makes it again."""
    from bandmate.jobs.loops import name_slug

    for out in item.outputs:
        if item.kind == "loops":
            prefix = f"{name_slug(item.settings.get('style', ''))}_"
            doomed = [
                p
                for p in (out.iterdir() if out.is_dir() else ())
                if p.name.startswith((prefix, f".{prefix}")) or p.name == "manifest.json"
            ]
        else:
            doomed = list(out.parent.glob(f".{glob_escape(out.stem)}.*.part{out.suffix}"))
        for path in doomed:
            with contextlib.suppress(OSError):
                path.unlink()
        if item.kind == "loops":
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty
