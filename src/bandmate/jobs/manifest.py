"""manifest.json: every setting, the seed, the versions and the files of a job's output."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import platform
from importlib import metadata
from pathlib import Path

from bandmate import __version__
from bandmate.io.files import write_text_atomic

_LIBRARIES = ("numpy", "mido", "music21", "soundfile", "pyfluidsynth")


def versions() -> dict[str, str]:
    out = {"bandmate": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def write_manifest(
    path: Path, *, command: str, settings: dict, files: list[Path], extra: dict | None = None
) -> None:
    """Write the manifest of a job whose outputs are `files` (paths relative to its folder)."""
    data = {
        "command": command,
        "settings": settings,
        "versions": versions(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": [str(f) for f in files],
        **(extra or {}),
    }
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def listed_files(manifest: Path) -> list[Path]:
    """The files an earlier run's manifest (`manifest`, in its output folder) lists, inside that
    folder; none when there is no readable manifest. A run with `--force` into the same folder
    reads them before it writes, so that it can clear what it no longer writes
    (`remove_replaced`)."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return []
    folder = manifest.parent.resolve()
    listed = []
    for name in files:
        if not isinstance(name, str):
            continue
        path = manifest.parent / name
        if path.resolve().is_relative_to(folder):
            listed.append(path)
    return listed


def remove_replaced(previous: list[Path], written: list[Path]) -> list[Path]:
    """Delete the files of an earlier run (`previous`, from `listed_files`) that this run did not
    write again, with their provenance sidecars, and return them: a folder holds what its
    manifest lists, and `bandmate mix out/stems` does not mix a stem the last run left behind
    (a rock run's organ under a pop ballad written over it). Only files an earlier manifest
    named are touched, never anything else in the folder."""
    from bandmate.rights.provenance import manifest_path

    kept = {p.resolve() for p in written}
    removed = []
    for path in previous:
        if path.resolve() in kept:
            continue
        for leftover in (path, manifest_path(path)):
            if leftover.is_file():
                leftover.unlink()
                removed.append(leftover)
    return removed


@contextlib.contextmanager
def removed_on_failure(paths: list[Path]):
    """Within it, a job writes `paths`; if it fails (an error, Ctrl-C), those of them that did
    not exist before it, and their provenance sidecars, are deleted, so that a failed job leaves
    no song.mid without its MusicXML, stems or manifest behind. What was there before stays
    (files an earlier run wrote and --force was replacing are not brought back)."""
    from bandmate.rights.provenance import manifest_path

    watched = [p for path in paths for p in (Path(path), manifest_path(path))]
    new = [p for p in dict.fromkeys(watched) if not p.exists()]
    try:
        yield
    except BaseException:
        for path in new:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
