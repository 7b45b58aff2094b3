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
