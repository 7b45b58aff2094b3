"""A Score rendered straight to files, the mix and the stems, in bounded memory.

`render_stems` holds every stem at once: 160 MB a track for 15 minutes at 44.1 kHz, so a long
jam with many tracks did not fit a small laptop. `write_rendering` takes the stems block by block
from `stream_stems` instead: each block is added to the mix (a `MixSum`, 16 bytes a frame) and,
when stems are asked for, written to its stem's file, so that memory is the mix and a block per
track being rendered, whatever the number of tracks.

A stem's length is known only when every track has ended (they all take the longest tail), so
each stem file stays open until then, and is padded with silence to that length before it is
moved into place. Every file is written beside its path and moved there once complete, as
`io.audio.write_audio` does; after an error none of them is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from bandmate.errors import OutputError
from bandmate.io.audio import FORMATS, check_writable, write_errors
from bandmate.io.files import atomic_path
from bandmate.progress import ProgressCallback
from bandmate.render.fluidsynth import (
    DEFAULT_GAIN,
    check_memory,
    stem_frames_max,
    stream_stems,
)
from bandmate.render.stems import MixSum
from bandmate.score.model import Score

_WRITE_FRAMES = 1 << 16  # the mix and the silence after a stem are written in blocks of this
_SPARE_FILES = 16  # files the rendering opens besides the stems and the mix (the SoundFont...)


def write_rendering(
    score: Score,
    mix_path: str | os.PathLike,
    stem_paths: Sequence[str | os.PathLike] = (),
    *,
    sample_rate: int = 44_100,
    soundfont: str | os.PathLike | None = None,
    gain: float = DEFAULT_GAIN,
    subtype: str = "PCM_24",
    progress: ProgressCallback | None = None,
) -> int:
    """Render `score` to the mix at `mix_path` and, with `stem_paths` (one per track, in the
    order of `score.tracks`), to one file per stem; returns the length written, in frames.

    The audio is that of `render_stems` and `render_mix`, in memory for the mix alone (see the
    module's docs). The files' format follows their suffix, as in `io.audio.write_audio`.
    Raises what `render_stems` raises, and `OutputError` for a file that cannot be written.
    """
    if stem_paths and len(stem_paths) != len(score.tracks):
        raise ValueError(f"{len(stem_paths)} stem paths for {len(score.tracks)} tracks")
    for path in (mix_path, *stem_paths):
        check_writable(path, subtype)
    _allow_open_files(len(stem_paths))
    check_memory(score, sample_rate, MixSum.bytes_per_frame(2))
    mix = MixSum(2, stem_frames_max(score, sample_rate))
    with contextlib.ExitStack() as files:
        files.enter_context(_removed_on_error(_make_folders((mix_path, *stem_paths))))
        stems = [
            files.enter_context(_open_stereo(path, sample_rate, subtype)) for path in stem_paths
        ]

        def take(track: int, start_frame: int, samples: np.ndarray) -> None:
            mix.add(samples, start_frame)
            if stems:  # a track's blocks come in order, so they go straight to its file
                stems[track].write(samples)

        frames = stream_stems(
            score, take, sample_rate=sample_rate, soundfont=soundfont, gain=gain, progress=progress
        )
        for stem in stems:
            stem.write_silence(frames - stem.frames)
        with _open_stereo(mix_path, sample_rate, subtype) as out:
            for start in range(0, frames, _WRITE_FRAMES):
                out.write(mix.read(start, min(start + _WRITE_FRAMES, frames)))
    return frames


def _make_folders(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Make the folders that `paths` need and do not have; returns those this call made, deepest
    first (a folder someone else makes meanwhile is theirs, and is never removed)."""
    missing = set()
    for path in paths:
        folder = Path(path).absolute().parent
        while not folder.exists() and folder != folder.parent:
            missing.add(folder)
            folder = folder.parent
    made = []
    for folder in sorted(missing, key=lambda f: len(f.parts)):  # shallowest first
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            _remove_if_empty(made[::-1])
            raise OutputError(
                f"Cannot make the folder {str(folder)!r} ({e.strerror or e}); choose another one."
            ) from None
        made.append(folder)
    return made[::-1]


@contextlib.contextmanager
def _removed_on_error(folders: Sequence[Path]) -> Iterator[None]:
    """Remove `folders` again where they hold nothing, should the block fail. Only then: after a
    rendering that succeeded, a folder made for a path that passes through it (`new/../mix.wav`)
    is empty and is the way to the file."""
    try:
        yield
    except BaseException:
        _remove_if_empty(folders)
        raise


def _remove_if_empty(folders: Sequence[Path]) -> None:
    """Remove those of `folders` (deepest first) that hold nothing: after an error (a bad
    SoundFont, a full disk, Ctrl-C) the stems' folder made for the files was left behind, empty.
    After a rendering that succeeded, each holds its file and stays."""
    for folder in folders:
        with contextlib.suppress(OSError):  # not empty, or already gone
            folder.rmdir()


def _allow_open_files(stems: int) -> None:
    """Let this process hold its stems' files open at once, beside the mix and what it has open.

    The usual soft limit is 1,024 open files, and an old GM file that changes program every bar
    on every channel reads as a thousand tracks or more: its stems failed after the rendering with
    "Too many open files; choose another folder". The soft limit is raised as far as the hard one
    allows (what `ulimit -n` does), and stems that would still not fit are refused first (with
    the files open now counted, not guessed: a flat allowance refused renders that fitted).
    """
    try:
        import resource
    except ImportError:  # not POSIX: the C runtime's own limit, which Python does not set
        return
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux
        open_now = 64
    needed = open_now + 1 + stems + _SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or needed <= soft:
        return
    if stems and hard != resource.RLIM_INFINITY and needed > hard:
        raise OutputError(
            f"Writing {stems} stems needs {needed} files open at once, more than this system "
            f"lets a program open ({hard}); render without --stems, or raise the limit first."
        )
    with contextlib.suppress(ValueError, OSError):  # refused: the opening will say so
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


class _StereoFile:
    """A stereo audio file being written block by block."""

    def __init__(self, file: sf.SoundFile, path: str | os.PathLike):
        self._file, self.path = file, path
        self.frames = 0

    def write(self, samples: np.ndarray) -> None:
        """Append float32 `samples` (2, frames)."""
        with write_errors(self.path):
            self._file.write(samples.T)
        self.frames += samples.shape[1]

    def write_silence(self, frames: int) -> None:
        silence = np.zeros((2, min(frames, _WRITE_FRAMES)), dtype=np.float32)
        for start in range(0, frames, _WRITE_FRAMES):
            self.write(silence[:, : min(_WRITE_FRAMES, frames - start)])


@contextlib.contextmanager
def _open_stereo(path: str | os.PathLike, sample_rate: int, subtype: str) -> Iterator[_StereoFile]:
    """`path` to write as a stereo file: written beside it and moved into place only when the
    block succeeds, as `io.audio.write_audio` writes a whole one."""
    with atomic_path(path) as tmp:
        with write_errors(path):
            file = sf.SoundFile(
                os.fsencode(tmp),
                "w",
                samplerate=sample_rate,
                channels=2,
                subtype=subtype,
                format=FORMATS[Path(path).suffix.lower()],
            )
        try:
            yield _StereoFile(file, path)
        except BaseException:
            with contextlib.suppress(Exception):  # the error that stopped the writing is the one
                file.close()
            raise
        with write_errors(path):  # closing writes the header's sizes, and the rest of a FLAC
            file.close()
