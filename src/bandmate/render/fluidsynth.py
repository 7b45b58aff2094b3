"""Score -> stems with FluidSynth: one synth per track, the synths in parallel threads.

Every track is played by a FluidSynth of its own, so every stem carries its own reverb and chorus
return; the effects are linear and alike in every synth, so the stems add up to what one synth
would play, and `render_mix` (their sum) is the mix by construction. ctypes lets go of the GIL
while FluidSynth renders, so the synths run side by side on a thread pool (a thread per track, up
to the CPU count or 8). Each synth is single-threaded and depends on nothing but its own track, so
the samples are the same whatever the number of threads or cores.

Why not one synth with an output and an effects group per MIDI channel (`synth.audio-groups`,
`synth.effects-groups`, `fluid_synth_process` with 16 outputs)? It works and costs the same CPU
time (each group has a reverb that costs what the CLI's single reverb does; the voices cost the
same either way), but on one core: on a 2-core machine it was 1.4x slower than the `fluidsynth`
command-line renderer on a 3-minute 6-track song, while synths in parallel beat the CLI.
Loading the SoundFont for each synth is cheap: with `synth.dynamic-sample-loading` a synth reads
only the samples of the preset it plays (20-50 ms, against 100-200 ms for the whole GM set).

Events are fed from the Score rather than through a MIDI file: ticks go through the tempo map to
seconds, then to FluidSynth's 64-frame blocks (an event can only take effect on a block boundary),
rounded to the nearest one, so that a note starts within half a block (0.7 ms at 44.1 kHz) of its
time. Between events the synth renders straight into a buffer of the stem's next 65,536 frames
(1.5 s), which is handed on whenever it is full (`stream_stems`): to the stems kept whole by
`render_stems`, or to a mix and files written as the rendering goes (`render.files`), whose memory
then does not grow with the number of tracks.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import io
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from bandmate.errors import AudioFormatError, EmptyScoreError, SoundFontError, UserError
from bandmate.io.audio import Audio, check_sample_rate
from bandmate.machine import available_memory_bytes
from bandmate.progress import ProgressCallback, no_progress
from bandmate.render.soundfont import find_soundfont
from bandmate.render.stems import render_mix
from bandmate.score.model import (
    CHANNEL_PRESSURE,
    PITCH_BEND,
    SOSTENUTO_PEDAL,
    SUSTAIN_PEDAL,
    Score,
    Track,
)

DEFAULT_GAIN = 0.2  # FluidSynth's own default: a dense 6-track mix peaks well below 0 dBFS
BLOCK_FRAMES = 64  # FluidSynth's FLUID_BUFSIZE: events take effect on these boundaries
TAIL_MAX_SECONDS = 4.0  # the longest release/reverb tail rendered after the last note ends
# the longest a pedal holds the last notes past their end: a DAW writes its release at the
# project's end, maybe hours on, and the stems would be made that long
PEDAL_HOLD_MAX_SECONDS = 30.0
TAIL_QUIET_SECONDS = 0.25  # ... it ends once the stems have stayed this long quiet enough
TAIL_QUIET_DBFS = -90.0  # ... that the mix is below this level
MAX_FLUID_SAMPLE_RATE = 96_000  # synth.sample-rate's upper bound in FluidSynth 2.x
_TAIL_CHUNK_SECONDS = 0.05
_CHUNK_FRAMES = 8_192  # the longest single render call, so that progress and stopping are prompt
_BLOCK_FRAMES = 8 * _CHUNK_FRAMES  # a track's samples are handed on in blocks of up to this
_MIN_THREADS = 8  # see _thread_count
_RELEASE_SECONDS = 0.3  # a rough release per note, to guess which tracks take longest

_FLUID_FAILED = -1
_MELODIC, _DRUM = 0, 1  # enum fluid_midi_channel_type
_CHANNEL = 0  # each synth plays one track, on its first MIDI channel

# new_fluid_synth initialises global tables on first use without a lock, and loading a
# SoundFont is mostly disk and parse work: synths are created one at a time
_CREATE_LOCK = threading.Lock()


@functools.cache
def fluidsynth_library() -> ctypes.CDLL:
    """libfluidsynth as loaded by pyfluidsynth, with the prototypes this module calls."""
    # pyfluidsynth finds and loads the C library; with CI set in the environment it prints
    # where it found it on stdout, which would mix into a command's output
    with contextlib.redirect_stdout(io.StringIO()):
        import fluidsynth

    lib = fluidsynth._fl
    vp, cp, i, d = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_double
    prototypes = {
        "new_fluid_settings": (vp, []),
        "delete_fluid_settings": (None, [vp]),
        "fluid_settings_setint": (i, [vp, cp, i]),
        "fluid_settings_setnum": (i, [vp, cp, d]),
        "new_fluid_synth": (vp, [vp]),
        "delete_fluid_synth": (None, [vp]),
        "fluid_synth_sfload": (i, [vp, cp, i]),
        "fluid_synth_set_channel_type": (i, [vp, i, i]),
        "fluid_synth_bank_select": (i, [vp, i, i]),
        "fluid_synth_program_change": (i, [vp, i, i]),
        "fluid_synth_noteon": (i, [vp, i, i, i]),
        "fluid_synth_noteoff": (i, [vp, i, i]),
        "fluid_synth_cc": (i, [vp, i, i, i]),
        "fluid_synth_pitch_bend": (i, [vp, i, i]),
        "fluid_synth_channel_pressure": (i, [vp, i, i]),
        # (synth, frames, nfx, float *fx[], nout, float *out[]); the arrays go as addresses
        "fluid_synth_process": (i, [vp, i, i, vp, i, vp]),
        "fluid_set_log_function": (vp, [i, vp, vp]),
    }
    for name, (restype, argtypes) in prototypes.items():
        func = getattr(lib, name)
        func.restype, func.argtypes = restype, argtypes
    # FluidSynth logs to stderr (missing presets, SoundFont trouble); bandmate reports its own
    # errors in one sentence, so everything below a panic is silenced.
    for level in range(1, 5):  # FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG
        lib.fluid_set_log_function(level, None, None)
    _silence_glib()
    return lib


# GLib's log function type: (domain, level, message, user_data) -> void
_GLogFunc = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


@_GLogFunc
def _ignore_glib_message(domain, level, message, user_data) -> None:
    pass


def _silence_glib() -> None:
    """Keep GLib's messages off stderr, as FluidSynth's own are.

    Where FluidSynth is built with libinstpatch (Debian, Ubuntu), a file its own loader refuses is
    handed to libinstpatch, which logs a `** CRITICAL **` line through GLib for anything that is
    not a DLS file either: a wrong or truncated --soundfont gave that line above bandmate's one
    sentence. A FluidSynth built without GLib has nothing to silence.
    """
    name = ctypes.util.find_library("glib-2.0")
    if not name:
        return
    try:
        glib = ctypes.CDLL(name)
    except OSError:
        return
    glib.g_log_set_default_handler.restype = ctypes.c_void_p
    glib.g_log_set_default_handler.argtypes = [_GLogFunc, ctypes.c_void_p]
    glib.g_log_set_default_handler(_ignore_glib_message, None)


class _Synth:
    """One single-threaded FluidSynth with the SoundFont loaded: stereo out, reverb and chorus."""

    def __init__(self, soundfont: Path, sample_rate: int, gain: float):
        lib = self.lib = fluidsynth_library()
        self.handle = None
        self._settings = lib.new_fluid_settings()
        try:
            if (
                lib.fluid_settings_setnum(self._settings, b"synth.sample-rate", float(sample_rate))
                == _FLUID_FAILED
            ):
                raise AudioFormatError(rate_message(sample_rate))
            if lib.fluid_settings_setnum(self._settings, b"synth.gain", gain) == _FLUID_FAILED:
                raise ValueError(f"FluidSynth's gain must be 0-10, got {gain}")
            for name, value in (
                (b"synth.cpu-cores", 1),  # one thread: the same input gives the same samples
                (b"synth.threadsafe-api", 0),  # only one thread at a time touches a synth
                (b"synth.reverb.active", 1),  # reverb and chorus are part of the GM sound
                (b"synth.chorus.active", 1),
                # read only the samples of the presets this synth plays: the same sound, but a
                # tenth of the loading time and memory of the whole GM set
                (b"synth.dynamic-sample-loading", 1),
            ):
                if lib.fluid_settings_setint(self._settings, name, value) == _FLUID_FAILED:
                    raise RuntimeError(f"FluidSynth refused the setting {name.decode()}={value}")
            with _CREATE_LOCK:
                self.handle = lib.new_fluid_synth(self._settings)
                if not self.handle:
                    raise RuntimeError("FluidSynth could not create a synthesizer")
                if lib.fluid_synth_sfload(self.handle, os.fsencode(soundfont), 1) == _FLUID_FAILED:
                    raise SoundFontError(not_a_soundfont(soundfont))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> _Synth:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.handle:
            self.lib.delete_fluid_synth(self.handle)
            self.handle = None
        if self._settings:
            self.lib.delete_fluid_settings(self._settings)
            self._settings = None

    def set_instrument(self, channel: int, program: int, is_drum: bool) -> None:
        """GM `program` on `channel`, from the drum bank (128) when `is_drum`, on any channel."""
        lib, handle = self.lib, self.handle
        lib.fluid_synth_set_channel_type(handle, channel, _DRUM if is_drum else _MELODIC)
        lib.fluid_synth_bank_select(handle, channel, 128 if is_drum else 0)
        # a drum channel takes the program from bank 128; FluidSynth falls back to the standard
        # kit (or to bank 0) when the SoundFont lacks the program asked for
        lib.fluid_synth_program_change(handle, channel, program)


# --- public functions --------------------------------------------------------------------------
BlockSink = Callable[[int, int, np.ndarray], None]
"""`sink(track, start_frame, samples)`: `samples` (2, frames) of the stem of `score.tracks[track]`
from `start_frame` on; see `stream_stems`."""


def stream_stems(
    score: Score,
    sink: BlockSink,
    *,
    sample_rate: int = 44_100,
    soundfont: str | os.PathLike | None = None,
    gain: float = DEFAULT_GAIN,
    progress: ProgressCallback | None = None,
) -> int:
    """Render the stems of `score` block by block into `sink`; returns the stems' length in frames.

    The stems are those of `render_stems`, handed on as they are rendered rather than kept, so
    that what is done with them (a mix summed, files written) needs memory for a few blocks of
    each track being rendered, not for whole stems. `sink` is called from the render threads,
    at once for different tracks; each track's blocks come in order and join up, at most
    `stem_frames_max(score, sample_rate)` frames in all, and `samples` is float32 that the
    caller must copy to keep (the buffer is reused). A stem is silence after its last block, and
    a track without notes gets no blocks at all. `progress` and the errors raised are those of
    `render_stems`; an error raised by `sink` stops the rendering and is raised here.
    """
    capacity = stem_frames_max(score, sample_rate)
    soundfont = soundfont_path(soundfont)
    progress = progress or no_progress

    playing = [k for k, t in enumerate(score.tracks) if t.notes]
    # each track is rendered to its own last note (or the pedal's release after it), then its
    # tail: a part that ends early (one program of a GM file that changes program, an intro's
    # pad) does not render the rest of the song as silence through its reverb
    ends = {k: _end_frames(score, score.tracks[k].end_ticks, sample_rate) for k in playing}
    releases = {k: _release_frame(score, score.tracks[k], sample_rate) for k in playing}
    # the longest tracks first, so that when there are more tracks than threads, the threads
    # finish at about the same time
    playing.sort(key=lambda k: -_cost_seconds(score, score.tracks[k]))
    # each stem's tail ends below this, so that the sum of all of them is below TAIL_QUIET_DBFS
    quiet_level = 10 ** (TAIL_QUIET_DBFS / 20) / len(playing)
    rendered = dict.fromkeys(playing, 0)  # frames rendered per track, written by the threads
    stop = threading.Event()
    total_seconds = sum(ends.values()) / sample_rate

    def report() -> None:
        done = sum(min(n, ends[k]) for k, n in rendered.items()) / sample_rate
        progress(done, total_seconds)

    def job(k: int, shared: _Synth | None) -> int:
        def advance(frames: int) -> None:
            if stop.is_set():
                raise _Stopped
            rendered[k] = frames

        advance(0)
        synth = shared or _Synth(soundfont, sample_rate, gain)
        try:
            return _render_track(
                synth,
                score,
                score.tracks[k],
                functools.partial(sink, k),
                ends[k],
                releases[k],
                capacity,
                sample_rate,
                quiet_level,
                advance,
            )
        finally:
            if synth is not shared:
                synth.close()

    # the first synth is made here, so that a bad SoundFont is reported before any thread starts
    with (
        _Synth(soundfont, sample_rate, gain) as first,
        ThreadPoolExecutor(
            max_workers=_thread_count(len(playing)), thread_name_prefix="bandmate-render"
        ) as pool,
    ):
        futures = [pool.submit(job, k, first if i == 0 else None) for i, k in enumerate(playing)]
        try:
            while True:
                done, not_done = wait(futures, timeout=0.1, return_when=FIRST_EXCEPTION)
                for f in done:
                    f.result()  # raises a thread's error here
                if not not_done:
                    break
                report()
        finally:  # after an error or an interrupt, the other threads stop soon
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
    progress(total_seconds, total_seconds)
    return max(f.result() for f in futures)


def render_stems(
    score: Score,
    *,
    sample_rate: int = 44_100,
    soundfont: str | os.PathLike | None = None,
    gain: float = DEFAULT_GAIN,
    progress: ProgressCallback | None = None,
) -> list[Audio]:
    """One stereo stem per track of `score`, in the order of `score.tracks`.

    All stems have the same length: the score's duration through its tempo map (or to a
    pedal's release after its last note) plus one release/reverb tail, rendered until every
    stem has been quiet for 0.25 s, quiet enough that the mix is below -90 dBFS (at most 4 s;
    a stem that fell quiet sooner is padded with zeros). The stems keep the balance the synth
    gives them (no normalisation), and their sum is the mix (`render_mix`). A track without
    notes gives a silent stem. `soundfont` defaults to `find_soundfont()`; `gain` is
    FluidSynth's master gain. `progress(done, total)` is called from the calling thread as
    rendering advances, in seconds of audio summed over the tracks.

    All the stems are held in memory at once; `stream_stems` hands them on block by block.

    Raises `EmptyScoreError` for a score without notes, `SoundFontError` when no SoundFont can
    be found or loaded, `AudioFormatError` for a sample rate that cannot be used.
    """
    capacity = stem_frames_max(score, sample_rate)
    check_memory(score, sample_rate, len(score.tracks) * 2 * np.dtype(np.float32).itemsize)
    # (tracks, 2, frames): each stem is a view of this block; silent tracks stay zero
    stems = np.zeros((len(score.tracks), 2, capacity), dtype=np.float32)

    def keep(k: int, start: int, samples: np.ndarray) -> None:
        stems[k, :, start : start + samples.shape[1]] = samples

    end = stream_stems(
        score, keep, sample_rate=sample_rate, soundfont=soundfont, gain=gain, progress=progress
    )
    return [Audio(stems[k, :, :end], sample_rate) for k in range(len(score.tracks))]


def stem_frames_max(score: Score, sample_rate: int) -> int:
    """The longest the stems of `score` can be, in frames: its duration (to a pedal's release
    after its last note, `Score.held_end_ticks`, at most PEDAL_HOLD_MAX_SECONDS on, as long
    for a pedal never let go) plus TAIL_MAX_SECONDS. The stems end sooner, once they die away.

    Raises as `render_stems` does for a score without notes or a sample rate it cannot use.
    """
    if score.is_empty:
        raise EmptyScoreError(
            "The score has no notes, so there is nothing to render; give a MIDI file with notes."
        )
    check_sample_rate(sample_rate)
    if sample_rate > MAX_FLUID_SAMPLE_RATE:
        raise AudioFormatError(rate_message(sample_rate))
    notes_end = _end_frames(score, score.end_ticks, sample_rate)
    hold_max = notes_end + round(PEDAL_HOLD_MAX_SECONDS * sample_rate)
    never_let_go = any(t.held_until_ticks is None for t in score.tracks if t.notes)
    held = hold_max if never_let_go else _end_frames(score, score.held_end_ticks, sample_rate)
    return min(held, hold_max) + round(TAIL_MAX_SECONDS * sample_rate)


def check_memory(score: Score, sample_rate: int, bytes_per_frame: int) -> None:
    """Refuse, before any work, a rendering whose audio held in memory (`bytes_per_frame` for
    each of `stem_frames_max` frames) would not fit in the memory this process may still take.

    A stray note far past the music (a corrupt delta time in a messy file puts one 77 hours on)
    made a render ask numpy for 184 GB and die with a MemoryError traceback, or, when the
    system let the allocation through, be killed by the OOM killer hours into rendering.
    """
    needed = stem_frames_max(score, sample_rate) * bytes_per_frame
    free = available_memory_bytes()
    if free is not None and needed > free:
        seconds = round(score.duration_seconds)
        length = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        raise UserError(
            f"Rendering this score's {length} (h:mm:ss) of audio needs {needed / 1e9:.1f} GB of "
            f"memory and only {free / 1e9:.1f} GB is free; check it for a note far past the "
            "music, or render a shorter part."
        )


def render(
    score: Score,
    *,
    sample_rate: int = 44_100,
    soundfont: str | os.PathLike | None = None,
    gain: float = DEFAULT_GAIN,
    progress: ProgressCallback | None = None,
) -> tuple[list[Audio], Audio]:
    """`render_stems` and `render_mix` in one call: (stems, mix)."""
    stems = render_stems(
        score, sample_rate=sample_rate, soundfont=soundfont, gain=gain, progress=progress
    )
    return stems, render_mix(stems)


# --- one track ---------------------------------------------------------------------------------
class _Stopped(Exception):
    """Raised in a render thread when another one failed or the caller was interrupted."""


def _render_track(
    synth: _Synth,
    score: Score,
    track: Track,
    sink: Callable[[int, np.ndarray], None],
    end_frame: int,
    release_frame: int | None,
    capacity: int,
    sample_rate: int,
    quiet_level: float,
    advance: Callable[[int], None],
) -> int:
    """Play `track` on `synth` into `sink(start_frame, samples)`: the notes, then the tail.

    The synth renders into a buffer of _BLOCK_FRAMES (2, frames), handed to `sink` each time it
    is full and at the end, then cleared for reuse. Returns the frames rendered: `end_frame` (the
    end of the track's last note) plus the tail, which ends once the stem has stayed below
    `quiet_level` for TAIL_QUIET_SECONDS, or at `capacity` frames. The controller changes
    after the last note shape the tail, and a pedal that holds the last notes is lifted at
    `release_frame`, or, for None (never let go) or a release later than the stems reach,
    TAIL_MAX_SECONDS before `capacity`; a release written far past the music (a DAW's at the
    project's end) rendered minutes of silence before.
    """
    lib, handle = synth.lib, synth.handle
    process = lib.fluid_synth_process
    synth.set_instrument(_CHANNEL, track.program, track.is_drum)
    buffer = np.zeros((2, _BLOCK_FRAMES), dtype=np.float32)
    itemsize = buffer.itemsize
    # the dry pair goes to out[0], out[1]; the reverb pair and the chorus pair to fx[0..3]: all
    # are mixed into the buffer's own two rows (FluidSynth lets the buffers alias)
    out_base = np.array([buffer[0].ctypes.data, buffer[1].ctypes.data], dtype=np.uint64)
    fx_base = np.tile(out_base, 2)
    out_now, fx_now = out_base.copy(), fx_base.copy()
    position = 0  # frames rendered
    held = 0  # the last of them, in the buffer and not yet handed on

    def hand_on() -> None:
        nonlocal held
        sink(position - held, buffer[:, :held])
        buffer[:, :held] = 0  # FluidSynth adds to what its buffers hold
        held = 0

    def render(frames: int) -> np.ndarray:
        """The next `frames` (at most _CHUNK_FRAMES), valid until the next call."""
        nonlocal position, held
        if held + frames > _BLOCK_FRAMES:
            hand_on()
        np.add(out_base, held * itemsize, out=out_now)
        np.add(fx_base, held * itemsize, out=fx_now)
        process(handle, frames, len(fx_now), fx_now.ctypes.data, len(out_now), out_now.ctypes.data)
        position += frames
        held += frames
        advance(position)
        return buffer[:, held - frames : held]

    def render_to(frame: int) -> None:
        while position < frame:
            render(min(frame - position, _CHUNK_FRAMES))

    noteon, noteoff, cc = lib.fluid_synth_noteon, lib.fluid_synth_noteoff, lib.fluid_synth_cc
    bend, pressure = lib.fluid_synth_pitch_bend, lib.fluid_synth_channel_pressure

    def control(number: int, value: int) -> None:
        if number == PITCH_BEND:
            bend(handle, _CHANNEL, value + 8192)  # FluidSynth's bends run 0-16383
        elif number == CHANNEL_PRESSURE:
            pressure(handle, _CHANNEL, value)
        else:
            cc(handle, _CHANNEL, number, value)

    late = []  # the changes after the last note (a fade or all-sound-off over what rings on)
    for block, action, number, value in _events(score, track, sample_rate):
        if action == _CONTROL and block * BLOCK_FRAMES > end_frame:
            late.append((block * BLOCK_FRAMES, number, value))
            continue
        render_to(block * BLOCK_FRAMES)
        if action == _NOTE_ON:
            noteon(handle, _CHANNEL, number, value)
        elif action == _NOTE_OFF:
            noteoff(handle, _CHANNEL, number)
        else:
            control(number, value)
    render_to(end_frame)

    # the tail: what rings on is shaped by the changes after the last note, and let go at the
    # pedal's release, or `capacity - TAIL_MAX_SECONDS` for a pedal held on and on (a drone cut
    # at full level at the end); it ends once the stem has stayed quiet
    let_go = capacity - round(TAIL_MAX_SECONDS * sample_rate)
    release = let_go if release_frame is None else min(release_frame, let_go)
    late.append((release, SUSTAIN_PEDAL, 0))
    late.append((release, SOSTENUTO_PEDAL, 0))
    late.sort(key=lambda e: e[0])  # stable: the changes at one frame keep their order
    quiet_needed = round(TAIL_QUIET_SECONDS * sample_rate)
    chunk = min(round(_TAIL_CHUNK_SECONDS * sample_rate), _CHUNK_FRAMES)
    quiet, k = 0, 0
    while position < capacity and quiet < quiet_needed:
        while k < len(late) and late[k][0] <= position:
            control(*late[k][1:])
            k += 1
        frames = min(chunk, capacity - position)
        if k < len(late):
            frames = min(frames, late[k][0] - position)
        samples = render(frames)
        loud = float(np.max(np.abs(samples))) >= quiet_level
        quiet = 0 if loud else quiet + samples.shape[1]
    if held:
        hand_on()
    return position


_NOTE_OFF, _NOTE_ON, _CONTROL = 0, 1, 2  # what an event of `_events` does


def _events(score: Score, track: Track, sample_rate: int):
    """(block, action, number, value) of every note-on and note-off (number the pitch, value the
    velocity) and every controller change (`score.model.Control`'s number and value) of
    `track`, in play order.

    At one block, note-offs of earlier notes come first (so that a repeated note sounds again),
    then controller changes in their order (a pedal lifted and pressed again where the chord
    changes lets the old chord go and holds the new one; a bend is set before the note it bends),
    then note-ons, then the note-offs of notes that began in that very block (FluidSynth holds
    those for its minimum note length, 10 ms).
    """
    onset, end, pitch, velocity = np.array(
        [(n.onset_ticks, n.end_ticks, n.pitch, n.velocity) for n in track.notes], dtype=np.int64
    ).T
    at, number, value = (
        np.array([(c.onset_ticks, c.number, c.value) for c in track.controls], dtype=np.int64)
        .reshape(-1, 3)
        .T
    )
    seconds = np.asarray(score.tempo_map.seconds_at(np.concatenate([onset, end, at])))
    block = np.rint(seconds * (sample_rate / BLOCK_FRAMES)).astype(np.int64)
    on_block, off_block = block[: len(onset)], block[len(onset) : 2 * len(onset)]
    phase = np.concatenate(
        [
            np.full_like(on_block, 2),
            np.where(off_block > on_block, 0, 3),
            np.ones_like(at),
        ]
    )
    action = np.concatenate(
        [
            np.full_like(on_block, _NOTE_ON),
            np.full_like(off_block, _NOTE_OFF),
            np.full_like(at, _CONTROL),
        ]
    )
    # a stable sort: controller changes at one block keep their order
    order = np.lexsort((phase, block))
    columns = (
        block,
        action,
        np.concatenate([pitch, pitch, number]),
        np.concatenate([velocity, velocity, value]),
    )
    return zip(*(c[order].tolist() for c in columns), strict=True)


def _release_frame(score: Score, track: Track, sample_rate: int) -> int | None:
    """Where the pedal holding `track`'s last notes is let go, in frames: the end of its last
    note when none holds them, None when it is never let go."""
    held = track.held_until_ticks
    return None if held is None else _end_frames(score, held, sample_rate)


def _end_frames(score: Score, ticks: int, sample_rate: int) -> int:
    """`ticks` through the score's tempo map, in frames (rounded up)."""
    # (less a hair, so that float error in the seconds cannot add a frame)
    return math.ceil(float(score.tempo_map.seconds_at(ticks)) * sample_rate - 1e-6)


def _cost_seconds(score: Score, track: Track) -> float:
    """A rough guess at the work a track takes: seconds of sounding voices."""
    ticks = np.array([(n.onset_ticks, n.end_ticks) for n in track.notes], dtype=np.int64)
    seconds = np.asarray(score.tempo_map.seconds_at(ticks))
    return float(np.sum(seconds[:, 1] - seconds[:, 0])) + _RELEASE_SECONDS * len(ticks)


def soundfont_path(soundfont: str | os.PathLike | None) -> Path:
    if soundfont is None:
        return find_soundfont()
    path = Path(soundfont).expanduser()
    if path.is_dir():
        raise SoundFontError(
            f"SoundFont {str(path)!r} is a folder; give the .sf2 or .sf3 file inside it."
        )
    if not path.is_file():
        raise SoundFontError(f"SoundFont {str(path)!r} does not exist; check the path.")
    return path


def _thread_count(tracks: int) -> int:
    """Threads to render `tracks` tracks on: one per track, up to the CPU count or 8.

    More threads than cores is on purpose: the OS then shares the cores out evenly among the
    tracks, which balances tracks of unequal weight better than a guess at their cost can.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(tracks, max(cpus, _MIN_THREADS)))


def not_a_soundfont(path: str | os.PathLike) -> str:
    """The sentence for a file FluidSynth could not load as a SoundFont."""
    return (
        f"{str(path)!r} is not a SoundFont that FluidSynth can load; give a valid .sf2 or .sf3 "
        "file."
    )


def rate_message(sample_rate: int) -> str:
    return (
        f"FluidSynth cannot render at {sample_rate} Hz; use a rate of up to "
        f"{MAX_FLUID_SAMPLE_RATE} Hz such as 44100 or 48000."
    )
