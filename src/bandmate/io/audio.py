"""Audio: a (channels, samples) float32 array and its sample rate; WAV and FLAC through soundfile.

Reading accepts 8-bit, 16-bit, 24-bit, 32-bit and float files (WAV, FLAC, AIFF and whatever else
libsndfile reads), mono or stereo; writing chooses the sample format by `subtype` ("PCM_16",
"PCM_24", "FLOAT"). Anything else is refused with a sentence that names the file, says what it
holds and what bandmate takes; so is a WAV or AIFF whose header promises more audio than the file
holds (a copy cut short), which libsndfile would read as a shorter file without a word. Files are
opened by the bytes of their names, so a name that is not UTF-8 opens too (`display_name` shows
it). Outputs are checked before any work (`check_writable`, `check_output_paths`), and a write
that fails (a full disk) is one sentence (`write_errors`).
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from bandmate.errors import AudioFormatError, InputFileError, OutputError
from bandmate.io.files import atomic_path, check_inputs, check_outputs

SUPPORTED_SAMPLE_RATES = (22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)
MAX_CHANNELS = 2
SUBTYPES = {"PCM_16": "16-bit", "PCM_24": "24-bit", "FLOAT": "32-bit float"}
FORMATS = {".wav": "WAV", ".flac": "FLAC"}
# The loudest sample a file may hold: +60 dBFS. Float audio goes over full scale and is right to
# (a float bounce of a hot mix peaks at +6 to +24 dBFS; a bus summing such tracks goes a little
# further), so the bound lies far above that, where no mix however hot reaches: a sample past it
# is a plugin or an export that blew up (1e30, +600 dBFS), which dwarfs the music: analyze read
# 563.7 LUFS, master refused the file for silence, mix turned the stem down 600 dB. PCM files
# cannot pass 0 dBFS and never meet it.
MAX_SAMPLE = 1000.0


@dataclass(frozen=True, eq=False)
class Audio:
    """Sound as `samples` of shape (channels, frames), float32, at `sample_rate` Hz.

    Samples in an array of a PCM integer type (8, 16 or 32 bits) are taken at their type's full
    scale, as soundfile reads them: int16 from `scipy.io.wavfile` is divided by 32768, unsigned
    8-bit is centred on 128 first. Taken as they were, an int16 array read 90 dB over full
    scale. Python numbers (a list of ints is int64) are taken as they are.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self):
        s = np.asarray(self.samples)
        if isinstance(self.samples, np.ndarray) and s.dtype.kind in "iu" and s.itemsize <= 4:
            info = np.iinfo(s.dtype)
            middle = (int(info.max) + 1) // 2 if s.dtype.kind == "u" else 0
            s = (s.astype(np.float64) - middle) / (int(info.max) + 1 - middle)
        s = np.asarray(s, dtype=np.float32)
        if s.ndim == 1:
            s = s[np.newaxis, :]
        if s.ndim != 2:
            raise ValueError(f"audio must be (channels, samples), got shape {s.shape}")
        object.__setattr__(self, "samples", s)
        check_sample_rate(self.sample_rate)
        check_channels(s.shape[0])

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def frames(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.sample_rate

    def peak(self) -> float:
        return float(np.max(np.abs(self.samples))) if self.frames else 0.0

    def __repr__(self) -> str:
        return (
            f"Audio({self.channels} ch, {self.sample_rate} Hz, {self.duration_seconds:.2f} s, "
            f"peak {self.peak():.3f})"
        )


def check_usable(audio: Audio, name: str, purpose: str) -> None:
    """Refuse audio handed in as an array (read from a file, `read_blocks` checks it) that holds
    NaN, infinity or a sample over `MAX_SAMPLE`, as a file holding them is refused: "{name} holds
    ...; it cannot be {purpose}"."""
    if not _within_bounds(audio.samples):
        raise _unusable(name, purpose, audio.samples.T, (), 0, audio.sample_rate)


def _within_bounds(samples: np.ndarray) -> bool:
    """Whether `samples` holds no NaN, infinity or sample over `MAX_SAMPLE`: two reductions, no
    array as large as the samples (NaN carries through max and min and fails both comparisons,
    infinity fails the bound)."""
    return not samples.size or bool(samples.max() <= MAX_SAMPLE and samples.min() >= -MAX_SAMPLE)


def check_sample_rate(sample_rate: int, name: str | None = None) -> None:
    """Refuse a rate bandmate does not take; `name` (a file's, quoted) says whose it is."""
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES)
        if name:
            raise AudioFormatError(
                f"{name} is at {sample_rate} Hz, a sample rate bandmate does not take; convert "
                f"it to one of {rates} Hz."
            )
        raise AudioFormatError(
            f"Sample rate {sample_rate} Hz is not supported; use one of {rates} Hz."
        )


def check_channels(channels: int, name: str | None = None) -> None:
    """Refuse more than two channels; `name` (a file's, quoted) says whose they are."""
    if not 1 <= channels <= MAX_CHANNELS:
        what = (
            f"{name} has {channels} channels"
            if name
            else f"Audio with {channels} channels is not supported"
        )
        raise AudioFormatError(
            f"{what}; bandmate takes mono or stereo, so mix it down to two channels first."
        )


def audio_info(path: str | os.PathLike):
    """soundfile's info of an audio file that bandmate can use (mono or stereo, a supported
    rate); InputFileError for a missing or unreadable file, AudioFormatError otherwise."""
    check_inputs([path])
    try:
        info = sf.info(os.fsencode(path))  # bytes: a name that is not UTF-8 opens too
    except (sf.LibsndfileError, RuntimeError) as e:
        raise InputFileError(
            f"{str(path)!r} is not a readable audio file ({_reason(e)}); give a WAV, FLAC, "
            "AIFF, MP3 or Ogg file (convert others, such as M4A, first: ffmpeg -i IN OUT.wav)."
        ) from None
    # the file is named: in a folder of twenty stems, "6 channels" alone does not say which
    check_channels(info.channels, repr(display_name(path)))
    check_sample_rate(info.samplerate, repr(display_name(path)))
    return info


def read_blocks(
    path: str | os.PathLike, block_seconds: float, *, purpose: str = "used"
) -> Iterator[np.ndarray]:
    """The file's samples as float32 blocks (channels, frames) of `block_seconds`, so a long file
    is read in bounded memory. Raises InputFileError for a corrupt or truncated file and
    AudioFormatError for NaN or infinite samples or samples over `MAX_SAMPLE` ("... it cannot be
    {purpose}")."""
    info = audio_info(path)
    name, frames = repr(str(path)), 0
    promised, unsized = _header_seconds(path, info.samplerate)
    if promised is not None and promised > info.duration + 0.5 / info.samplerate:
        raise InputFileError(
            f"{name} is truncated: its header promises {promised:.2f} s of audio but it holds "
            f"{info.duration:.2f} s; export it again."
        )
    if unsized and not info.frames:
        raise InputFileError(
            f"{name} was never finished: its header says it holds no audio, but {unsized:.2f} s "
            "of it follow (a recording or an export that stopped); rewrite its header, as "
            "`ffmpeg -i in.wav -c copy out.wav` does."
        )
    try:
        with sf.SoundFile(os.fsencode(path)) as f:
            step = max(1, int(block_seconds * info.samplerate))
            blocks = f.blocks(blocksize=step, dtype="float32", always_2d=True)
            for block in blocks:
                if not _within_bounds(block):
                    raise _unusable(name, purpose, block, blocks, frames, info.samplerate)
                frames += len(block)
                yield np.ascontiguousarray(block.T)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise InputFileError(f"{name} is corrupt and could not be read ({_reason(e)}).") from None
    if info.frames and frames < info.frames:
        raise InputFileError(f"{name} is truncated: it holds fewer samples than it says.")


def _unusable(
    name: str,
    purpose: str,
    block: np.ndarray,
    rest: Iterable[np.ndarray],
    start_frame: int,
    sample_rate: int,
) -> AudioFormatError:
    """The error for `block` (frames, channels), `start_frame` frames into the file, which holds
    NaN, infinity or a sample over `MAX_SAMPLE`. The samples over it are counted through the
    `rest` of the file too (read on to its end), so that the message says how many there are,
    how loud the loudest is and where the first is."""
    nonfinite = AudioFormatError(f"{name} holds NaN or infinite samples; it cannot be {purpose}.")
    if not np.isfinite(block).all():
        return nonfinite
    over = np.abs(block) > MAX_SAMPLE
    first_seconds = (start_frame + int(np.flatnonzero(over.any(axis=1))[0])) / sample_rate
    count, loudest = int(np.count_nonzero(over)), float(np.abs(block[over]).max())
    for later in rest:
        over = np.abs(later) > MAX_SAMPLE  # infinity is over, NaN is not (and is missed)
        if over.any():
            count += int(np.count_nonzero(over))
            loudest = max(loudest, float(np.abs(later[over]).max()))
    if not math.isfinite(loudest):
        return nonfinite
    level = f"{20 * math.log10(loudest):+.0f} dBFS"
    found = (
        f"a sample at {level} (at {first_seconds:.2f} s)"
        if count == 1
        else f"{count:,} samples up to {level} (the first at {first_seconds:.2f} s)"
    )
    return AudioFormatError(
        f"{name} holds {found}, far over anything real audio reaches (+60 dBFS): a plugin or "
        f"the export blew up, so it cannot be {purpose}; export it again."
    )


def read_audio(path: str | os.PathLike) -> Audio:
    """Read a WAV, FLAC (or other libsndfile format) file as float32 Audio."""
    info = audio_info(path)
    blocks = list(read_blocks(path, max(info.duration, 1.0) + 1.0))
    data = np.concatenate(blocks, axis=1) if blocks else np.zeros((info.channels, 0), np.float32)
    return Audio(data, info.samplerate)


def display_name(path: str | os.PathLike) -> str:
    """`path` as text that a terminal, a JSON file or a picture can show.

    A name whose bytes are not UTF-8 (a file from an old Windows zip: "caf\xe9.wav") reaches
    Python with lone surrogates in it, which a UTF-8 terminal's strict encoder and matplotlib
    refuse with a traceback; here those bytes become U+FFFD.
    """
    return os.fsencode(path).decode("utf-8", "replace")


def check_writable(path: str | os.PathLike, subtype: str = "PCM_24") -> None:
    """Refuse an audio output bandmate cannot write: an unknown suffix or sample format, FLAC float.

    Commands call it before any work; `write_audio` calls it too.
    """
    suffix = Path(path).suffix.lower()
    if not suffix:
        raise AudioFormatError(
            f"Cannot tell what audio to write to {display_name(path)!r}, a name without a "
            "suffix; end it in .wav or .flac."
        )
    if suffix not in FORMATS:
        raise AudioFormatError(f"Cannot write audio as {suffix!r}; use .wav or .flac.")
    if subtype not in SUBTYPES:
        raise AudioFormatError(
            f"Sample format {subtype!r} is unknown; use one of {list(SUBTYPES)}."
        )
    if FORMATS[suffix] == "FLAC" and subtype == "FLOAT":
        raise AudioFormatError("FLAC cannot hold float samples; use .wav or a 16/24-bit format.")
    check_output_paths([path])


def check_output_paths(paths: Iterable[str | os.PathLike]) -> None:
    """Refuse, before any work, outputs that could not be written where they are asked for (the
    audio commands' outputs: the audio, a --json, a --report), as `io.files.check_outputs` does
    with --force (the commands' own check for files that exist comes with their --force)."""
    check_outputs(paths, force=True)


@contextlib.contextmanager
def write_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn a failed write of `path` (a full disk, a quota, a file over the size limit) into an
    `OutputError` sentence; the writers' `atomic_path` has already removed the partial file."""
    try:
        yield
    except (OSError, sf.LibsndfileError) as e:
        reason = getattr(e, "strerror", None) or "the system refused the write; is the disk full?"
        raise OutputError(
            f"Could not write {display_name(path)!r} ({reason}); free some space or choose "
            "another folder."
        ) from None


def write_audio(
    audio: Audio,
    path: str | os.PathLike,
    subtype: str = "PCM_24",
    strings: Mapping[str, str] | None = None,
) -> None:
    """Write `audio` atomically as WAV or FLAC (chosen by the file's suffix).

    `strings` are libsndfile's text fields (`title`, `copyright`, `comment`, ...), written into
    the header with the samples (RIFF INFO in WAV, Vorbis comments in FLAC).
    """
    check_writable(path, subtype)
    with (
        write_errors(path),
        atomic_path(path) as tmp,
        sf.SoundFile(
            os.fsencode(tmp),
            "w",
            samplerate=audio.sample_rate,
            channels=audio.channels,
            subtype=subtype,
            format=FORMATS[Path(path).suffix.lower()],
        ) as f,
    ):
        for name, text in (strings or {}).items():  # libsndfile wants them before the samples
            setattr(f, name, text)
        f.write(audio.samples.T)


def _header_seconds(path: str | os.PathLike, sample_rate: int) -> tuple[float | None, float]:
    """(how long a WAV or AIFF file's header says its audio is, or None where it does not say;
    how long the audio is that follows a WAV data chunk whose size reads 0, else 0).

    libsndfile reads a file whose data chunk is cut short (a copy or an export that stopped) as
    the shorter file it holds, and reports that length, so only the header tells the two apart.
    A data size of 0xFFFFFFFF is a streaming writer's placeholder, which promises nothing; a size
    of 0 is a header never filled in (a recorder that crashed), which libsndfile reads as empty
    whatever follows. RF64 (the WAV that DAWs and recorders write past 4 GB) keeps the true data
    size in its "ds64" chunk, with 0xFFFFFFFF in the data chunk's header.
    """
    nothing: tuple[float | None, float] = (None, 0.0)
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            kinds = {(b"RIFF", b"WAVE"): "<", (b"RIFX", b"WAVE"): ">",
                     (b"RF64", b"WAVE"): "<",
                     (b"FORM", b"AIFF"): ">", (b"FORM", b"AIFC"): ">"}  # fmt: skip
            order = kinds.get((head[:4], head[8:12]))
            if order is None:
                return nothing
            aiff, pos, frame_bytes = head[:4] == b"FORM", 12, None
            data_size_64 = None  # an RF64's true data size, from its ds64 chunk
            while True:
                f.seek(pos)
                chunk = f.read(8)
                if len(chunk) < 8:
                    return nothing
                kind, size = struct.unpack(order + "4sI", chunk)
                if kind == b"ds64" and not aiff:  # RIFF size, data size, frames (64-bit)
                    data_size_64 = struct.unpack("<8xQ", f.read(16))[0]
                elif kind == b"fmt " and not aiff:  # block align: the bytes of one frame
                    frame_bytes = struct.unpack(order + "12xH", f.read(14))[0]
                elif kind == b"COMM" and aiff:  # channels, frames, bits per sample
                    frames = struct.unpack(">hIh", f.read(8))[1]
                    return (frames / sample_rate if frames else None), 0.0
                elif kind == b"data" and not aiff:
                    if size == 0xFFFFFFFF and data_size_64 is not None:
                        size = data_size_64
                    if not frame_bytes or size == 0xFFFFFFFF:
                        return nothing
                    if size == 0:
                        held = os.fstat(f.fileno()).st_size - (pos + 8)
                        return None, max(held, 0) // frame_bytes / sample_rate
                    return size // frame_bytes / sample_rate, 0.0
                pos += 8 + size + (size & 1)
    except (OSError, struct.error):
        return nothing


def _reason(error: Exception) -> str:
    text = str(error).strip().rstrip(".")
    return text.split(":")[-1].strip() or "unknown format"
