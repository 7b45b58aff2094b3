"""Mastering: a mix to a master on a loudness target under a true-peak ceiling (layer 3).

`master(audio, ...)` returns the master and a `MasterReport`; `master_file(in_path, out_path, ...)`
does the same for files, reading the input in blocks. One `MasterConfig` sets every stage, and the
stages run in this fixed order (Matchering's shape, with a loudness target and true-peak control
that Matchering lacks):

1. **analysis**: `mix.analysis` measures the input: BS.1770 loudness and true peak, octave bands.
2. **DC removal**: a 2nd-order Butterworth high-pass at `dc_highpass_hz` (5 Hz; SciPy), whatever
   the intensity. A DC offset is inaudible but counts in full toward the peaks: a mix sitting
   0.3 off centre left the limiter no room, and the target was reported out of reach. At 20 Hz
   the filter takes 0.02 dB away, and BS.1770's own high-pass weighs everything below 40 Hz
   down further, so the loudness of music does not move. Its state starts at the first block's
   mean, as if the offset had always been there, so a file that starts off centre gives no
   step. The report gives the offset removed (the input's mean per channel).
3. **tonal balance** (`mix.tone`): peaking and shelving filters (pedalboard) move each octave
   band's share of the energy toward the reference's, when one is given, or toward a target
   curve (`data/mastering/curves.toml`); a band moves at most `max_eq_db` (6 dB), times
   `intensity`, and a band that holds almost nothing (below `eq_floor_share_db`) is never
   boosted. The shares leave clicks out (`mix.analysis` bridges them): a 2-sample spike in a
   quiet, dark mix held as much 8-16 kHz energy as the whole programme and moved the EQ there by
   up to 6 dB. A lossy reference (MP3, Ogg) cut under 18 kHz is matched only below where its
   encoder cut it (`encoder_cutoff_hz`), and the report says which bands were left out.
4. **compression**: a gentle, stereo-linked RMS compressor (2:1 at intensity 1, 6 dB soft knee,
   threshold 3 dB above the programme's loudness); intensity 0 leaves it out. Its detector hears
   the programme through a high-pass (`compressor_sidechain_hz`, 150 Hz, 4th order), as a bus
   compressor's sidechain filter does, and the threshold follows the share of the energy the
   filter lets through: a kick or an 808, which can hold most of a mix's energy, had turned the
   whole programme down on every hit (steady chords over an 808 swung by 2.3 dB; now 1.1 dB).
   **the low band** (`low_band_hz`, 150 Hz; `mix.dynamics.LowBandLimiter`): where the low
   band's peaks would make the limiter duck everything, a gain on the low band alone takes
   them down first, at any intensity (see "The low band" in `mix.master_plan`).
5. **gain** toward the target, and 6. **true-peak limiting** to `ceiling_dbtp`: the gain is solved
   so that the limited signal lands on the target (see `mix.master_limit`).
7. **trim**: the master is measured and a final gain of a few hundredths of a dB puts it on the
   target (within `loudness_tolerance_lu`), never above the ceiling.

This module runs the chain and handles the files; the settings are `mix.master_config`, pass A
(stages 2 to 4 and the choice of the chain) is `mix.master_plan`, and the gain, the limiter and
the landing (stages 5 to 7) are `mix.master_limit`.

Memory and speed. `master_file` reads the input in 10 s blocks twice (analysis, pass A), keeps
pass A's shaped signal in an anonymous temporary file (float32: 1.4 GB of disk for an hour of
48 kHz stereo) so that rendering need not run the EQ again, and reads the output once more to
measure it. In memory it keeps two numbers per hop, about 20 bytes per 0.4 ms (170 MB for an hour
at 48 kHz), and while solving the lasting part of each peak and a gain per hop: a 60-minute
48 kHz stereo file is mastered in well under 1.5 GB, where holding it as float32 would take
1.4 GB for the input alone. The input and the reference are analysed side by side, and pass A
measures each block on a second thread while the next is shaped (NumPy, SciPy, pedalboard and
libsndfile release the GIL), so two cores overlap. `master` works on audio in memory and holds
the input, the shaped signal and the output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bandmate.errors import UserError
from bandmate.io.audio import (
    Audio,
    audio_info,
    check_usable,
    check_writable,
    read_blocks,
    write_errors,
)
from bandmate.io.files import atomic_path, check_inputs, check_outputs
from bandmate.mix.analysis import (
    OCTAVE_CENTERS_HZ,
    OPPOSITE_CORRELATION,
    Analysis,
    analyze,
    analyze_file,
)
from bandmate.mix.master_config import MasterConfig, _Plan
from bandmate.mix.master_limit import _fine_peak_meter, _land, _read_finely, _render
from bandmate.mix.master_plan import _affordable, _low_band_again, _Pipeline, _plan
from bandmate.mix.tone import ToneMatch, comparable_shares_db, curve_shares_db, encoder_cutoff_hz
from bandmate.progress import ProgressCallback, no_progress

__all__ = ["MasterConfig", "MasterReport", "master", "master_file"]

BLOCK_SECONDS = 10.0
REFERENCE_FLOOR_DBFS = -70.0  # a reference with less than this besides its DC offset is refused
# what a file's sample format is kept as: the nearest format bandmate writes
KEEP_SUBTYPE = {"PCM_S8": "PCM_16", "PCM_U8": "PCM_16", "PCM_16": "PCM_16", "PCM_24": "PCM_24",
                "PCM_32": "FLOAT", "FLOAT": "FLOAT", "DOUBLE": "FLOAT"}  # fmt: skip


# --- the pipeline ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MasterReport:
    """What the master did, stage by stage, and every measurement before and after.

    `tone.target_db` is the octave balance aimed at (`target_source` says whose: the reference or
    a curve). Gain reductions are given every 100 ms (the most in each), in dB. `notes` are
    sentences for the user, among them whether the loudness target was reached.
    """

    config: MasterConfig
    before: Analysis
    after: Analysis
    target_source: str
    tone: ToneMatch
    compressor_threshold_db: float | None
    compressor_ratio: float
    compressor_reduction_db: np.ndarray
    gain_db: float
    limiter_threshold_dbtp: float
    limiter_reduction_db: np.ndarray
    limiter_loss_lu: float
    trim_db: float
    reached: bool
    notes: tuple[str, ...]
    reference: Analysis | None = None
    output_subtype: str | None = None
    dc_offset: tuple[float, ...] = ()  # the input's mean per channel (full scale 1), removed
    shaping_left_out: bool = False  # EQ and compression were left out (see `_affordable`)
    # the low band stage's gain reduction (dB, every 100 ms) and the energy it took (dB)
    low_band_reduction_db: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low_band_loss_db: float = 0.0

    @property
    def loudness_error_lu(self) -> float:
        after = self.after.loudness.integrated_lufs
        return math.inf if after is None else after - self.config.target_lufs

    def to_dict(self) -> dict:
        """Every setting and measurement, JSON-ready (-inf and unmeasurable values are None)."""

        def series(values: np.ndarray) -> list[float]:
            return [round(float(v), 2) + 0.0 for v in values]  # + 0.0: no -0.0 in the JSON

        bands = [
            {
                "center_hz": center,
                "target_share_db": _rounded(self.tone.target_db[k]),
                "wanted_change_db": round(self.tone.wanted_db[k], 2),
                "filter_gain_db": round(self.tone.filter_gains_db[k], 2),
                "achieved_change_db": round(self.tone.achieved_db[k], 2),
            }
            for k, center in enumerate(OCTAVE_CENTERS_HZ)
        ]
        return {
            "settings": dataclasses.asdict(self.config),
            "reached_target": self.reached,
            "loudness_error_lu": _rounded(self.loudness_error_lu, 3),
            "notes": list(self.notes),
            "output_subtype": self.output_subtype,
            "eq_and_compression_left_out": self.shaping_left_out,
            "stages": {
                "dc_removal": {
                    "highpass_hz": self.config.dc_highpass_hz,
                    "offset_removed": [round(v, 6) for v in self.dc_offset],
                },
                "tonal_balance": {"target": self.target_source, "bands": bands},
                "compression": {
                    "threshold_dbfs_rms": _rounded(self.compressor_threshold_db),
                    "ratio": self.compressor_ratio,
                    "max_reduction_db": _max(self.compressor_reduction_db),
                    "reduction_db_every_100ms": series(self.compressor_reduction_db),
                },
                "low_band": {
                    "crossover_hz": self.config.low_band_hz or None,
                    "energy_taken_db": round(self.low_band_loss_db, 3),
                    "max_reduction_db": _max(self.low_band_reduction_db),
                    "reduction_db_every_100ms": series(self.low_band_reduction_db),
                },
                "gain": {"gain_db": round(self.gain_db, 3)},
                "limiter": {
                    "threshold_dbtp": round(self.limiter_threshold_dbtp, 3),
                    "loudness_taken_lu": round(self.limiter_loss_lu, 3),
                    "max_reduction_db": _max(self.limiter_reduction_db),
                    "reduction_db_every_100ms": series(self.limiter_reduction_db),
                },
                "trim": {"gain_db": round(self.trim_db, 3)},
            },
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "reference": self.reference.to_dict() if self.reference else None,
        }


def master(
    audio: Audio,
    *,
    target_lufs: float | None = None,
    ceiling_dbtp: float | None = None,
    reference: Audio | None = None,
    intensity: float | None = None,
    genre_curve: str | None = None,
    config: MasterConfig | None = None,
) -> tuple[Audio, MasterReport]:
    """Master `audio` (mono or stereo, any supported rate): returns (master, report).

    The keyword settings that are given override those of `config` (by default
    `MasterConfig()`: -14 LUFS, -1 dBTP, intensity 1, the balanced curve). Raises `UserError`
    for silent or too short audio and `AudioFormatError` for NaN, infinite or blown-up samples
    (over +60 dBFS) in `audio` or `reference`; `audio` is not changed.
    """
    config = _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve)
    if reference is None:
        curve_shares_db(config.curve)  # an unknown curve is refused before any work
    check_usable(audio, "The audio", "mastered")
    if reference is not None:
        check_usable(reference, "The reference", "matched")
    rate, channels, frames = audio.sample_rate, audio.channels, audio.frames
    step = int(BLOCK_SECONDS * rate)

    def blocks_of(samples: np.ndarray) -> Iterator[np.ndarray]:
        return (samples[:, i : i + step] for i in range(0, frames, step))

    before, ref = _side_by_side(
        lambda: analyze(audio), (lambda: analyze(reference)) if reference is not None else None
    )
    _check_masterable(before, "The audio")
    if ref is not None:
        _check_masterable(ref, "The reference", reference=True)

    def shape(settings: MasterConfig, gain_db: float | None = None) -> tuple[_Plan, np.ndarray]:
        shaped = np.empty_like(audio.samples)  # pass A's output, kept for every attempt
        kept = 0

        def keep(y: np.ndarray) -> None:
            nonlocal kept
            shaped[:, kept : kept + y.shape[1]] = y
            kept += y.shape[1]

        blocks = lambda: blocks_of(audio.samples)  # noqa: E731
        plan = _plan(blocks, rate, channels, before, ref, settings, keep, "The audio", gain_db)
        return plan, shaped

    plan, shaped = _affordable(shape, rate, channels, frames, config)
    plan, shaped = _low_band_again(shape, plan, shaped, rate, channels, frames, config)
    out = np.empty_like(audio.samples)

    def render(trim_db: float) -> Analysis:
        offset, peak_meter = 0, _fine_peak_meter(plan, rate, channels, config)
        for z in _render(blocks_of(shaped), plan, trim_db=trim_db, peak_meter=peak_meter):
            out[:, offset : offset + z.shape[1]] = z
            offset += z.shape[1]
        return _read_finely(analyze(Audio(out, rate)), peak_meter)

    after, trim, threshold = _land(plan, render, rate, channels, frames, config)
    report = _report(config, before, after, ref, plan, threshold, trim, None)
    return Audio(out, rate), report


def master_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    target_lufs: float | None = None,
    ceiling_dbtp: float | None = None,
    reference_path: str | os.PathLike | None = None,
    intensity: float | None = None,
    genre_curve: str | None = None,
    subtype: str | None = None,
    force: bool = False,
    config: MasterConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> MasterReport:
    """Master the file `in_path` into `out_path` (WAV or FLAC, chosen by its suffix).

    The output keeps the input's sample rate, channels and sample format (16-bit, 24-bit or
    float; `subtype` "PCM_16", "PCM_24" or "FLOAT" overrides it); 16-bit output is dithered
    (TPDF, one LSB each way). The input is only read, the output is written atomically, and an
    existing output is refused unless `force`. The file is read in blocks: see the module doc.
    `progress(done, total)` is called after every block of the pass that plans the master and of
    the pass that renders it (`total`: both passes' frames; a second render, which is rare, goes
    over the last half again), so a long master can be followed and stopped between blocks.
    """
    config = _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve)
    inputs = [in_path] + ([reference_path] if reference_path is not None else [])
    check_inputs(inputs)
    info = audio_info(in_path)
    if subtype is None:
        subtype = KEEP_SUBTYPE.get(info.subtype, "PCM_24")
        if Path(out_path).suffix.lower() == ".flac" and subtype == "FLOAT":
            subtype = "PCM_24"  # FLAC holds no floats: the nearest it has
    check_writable(out_path, subtype)
    check_outputs([out_path], inputs, force=force)
    if reference_path is None:
        curve_shares_db(config.curve)  # an unknown curve is refused before any work
    if reference_path is not None:
        audio_info(reference_path)
    before, ref = _side_by_side(
        lambda: analyze_file(in_path),
        (lambda: analyze_file(reference_path)) if reference_path is not None else None,
    )
    _check_masterable(before, repr(str(in_path)))
    cutoff = None
    if ref is not None:
        _check_masterable(ref, f"The reference {str(reference_path)!r}", reference=True)
        cutoff = encoder_cutoff_hz(reference_path)
    rate, channels, frames = info.samplerate, info.channels, before.loudness.frames
    progress(0, 2 * frames)

    def reported(blocks: Iterator[np.ndarray], start: int) -> Iterator[np.ndarray]:
        done = start
        for y in blocks:
            yield y
            done += y.shape[1]
            progress(min(done, 2 * frames), 2 * frames)

    passes = 0

    def held(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for y in blocks:  # a pass A run again: the progress holds where the first one left it
            yield y
            progress(frames, 2 * frames)

    with contextlib.ExitStack() as spills:  # pass A's output, on disk: memory stays bounded

        def blocks():
            nonlocal passes
            passes += 1
            read = read_blocks(in_path, BLOCK_SECONDS, purpose="mastered")
            return reported(read, 0) if passes == 1 else held(read)

        def shape(settings: MasterConfig, gain_db=None) -> tuple[_Plan, _SpillFile]:
            spill = spills.enter_context(_SpillFile(channels))
            name = repr(str(in_path))
            plan = _plan(
                blocks, rate, channels, before, ref, settings, spill.append, name, gain_db, cutoff
            )
            return plan, spill

        plan, shaped = _affordable(shape, rate, channels, frames, config)
        plan, shaped = _low_band_again(shape, plan, shaped, rate, channels, frames, config)

        # every attempt is rendered to one temporary file, moved into place once the last has
        # been measured: an attempt over the ceiling never stands at `out_path`, and a run that
        # fails or is stopped between attempts leaves an existing output as it was
        with write_errors(out_path), atomic_path(out_path) as tmp:

            def render(trim_db: float) -> Analysis:
                peak_meter = _fine_peak_meter(plan, rate, channels, config)
                rendered = _render(
                    reported(shaped.blocks(), frames), plan, trim_db=trim_db, peak_meter=peak_meter
                )
                _write_blocks(rendered, tmp, rate, channels, subtype)
                return _read_finely(analyze_file(tmp), peak_meter)

            after, trim, threshold = _land(plan, render, rate, channels, frames, config)
    report = _report(config, before, after, ref, plan, threshold, trim, subtype)
    if cutoff is not None:
        left = [
            f"{c:g}"
            for c, cut, whole in zip(OCTAVE_CENTERS_HZ, plan.tone.target_db,
                                     comparable_shares_db(before, ref)[1], strict=True)
            if cut is None and whole is not None
        ]  # fmt: skip
        if left:
            note = (
                f"The reference is lossy, cut by its encoder above {cutoff / 1000:.1f} kHz: the "
                f"{', '.join(left)} Hz {'band is' if len(left) == 1 else 'bands are'} left out "
                "of the match."
            )
            report = dataclasses.replace(report, notes=(*report.notes, note))
    return report


# --- the passes --------------------------------------------------------------------------------
def _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve) -> MasterConfig:
    """`config` (or the defaults) with the settings given as keywords in place of its own."""
    given = {"target_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp, "intensity": intensity}
    changes = {name: float(value) for name, value in given.items() if value is not None}
    if genre_curve is not None:
        changes["curve"] = genre_curve
    return dataclasses.replace(config or MasterConfig(), **changes)


def _check_masterable(analysis: Analysis, name: str, *, reference: bool = False) -> None:
    """Refuse audio with nothing to master, or a reference with no balance to match."""
    lo = analysis.loudness
    # a reference's fault is not the mix's: say so, and what to give instead
    then = "; give a finished master to match" if reference else ""
    if lo.frames == 0:  # "silent" would send the user looking for a muted track
        raise UserError(f"{name} holds no audio{then or '; there is nothing to master'}.")
    if not math.isfinite(lo.sample_peak_dbfs):
        raise UserError(f"{name} is silent{then or '; there is nothing to master'}.")
    what = "measure" if reference else "master"
    if lo.integrated_lufs is None:
        raise UserError(f"{name} is shorter than 0.4 s, too short to {what}{then}.")
    if not math.isfinite(lo.integrated_lufs):
        raise UserError(
            f"{name} is too quiet to {what}: nothing in it is louder than -70 LUFS{then}."
        )
    if reference and _ac_rms_dbfs(analysis) < REFERENCE_FLOOR_DBFS:
        # a constant offset reads about -30 LUFS from the meter's start-up, and its octave
        # balance is the window's leakage around 0 Hz: the EQ then cut every band above 100 Hz
        # by 6 dB to match it, without a word (the mix's own offset is caught in `_plan`)
        raise UserError(
            f"{name} holds nothing but a DC offset (below {REFERENCE_FLOOR_DBFS:g} dBFS once "
            f"the offset is taken away){then}."
        )


def _ac_rms_dbfs(analysis: Analysis) -> float:
    """The RMS level of the audio less each channel's mean (dBFS, -inf when nothing is left)."""
    mean_square = 10.0 ** (analysis.rms_dbfs / 10.0) - float(np.mean(np.square(analysis.dc_offset)))
    return 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def _report(config, before, after, ref, plan, threshold, trim, subtype) -> MasterReport:
    notes = []
    error = (after.loudness.integrated_lufs or -math.inf) - config.target_lufs
    reached = abs(error) <= 0.2
    if not plan.reachable:
        notes.append(
            f"The target {config.target_lufs:g} LUFS could not be reached under the "
            f"{config.ceiling_dbtp:g} dBTP ceiling without the limiter taking more than "
            f"{config.max_limiting_lu:g} LU; the master is at "
            f"{after.loudness.integrated_lufs:.1f} LUFS."
        )
        reached = False
    elif not reached:
        notes.append(
            f"The master is {error:+.2f} LU from the target {config.target_lufs:g} LUFS: the "
            f"{config.ceiling_dbtp:g} dBTP ceiling allowed no closer."
        )
    if plan.note:
        notes.append(plan.note)
    offset = max((abs(v) for v in plan.dc_offset), default=0.0)
    if offset > 0 and 20 * math.log10(offset) >= config.dc_note_dbfs:  # after whether it landed
        notes.append(
            f"The mix had a DC offset of {offset:.3g} ({20 * math.log10(offset):.1f} dBFS); "
            "it was removed."
        )
    if before.clipped_runs:
        notes.append(
            f"The mix is clipped in {before.clipped_runs} "
            f"{'place' if before.clipped_runs == 1 else 'places'} (samples in a row at full "
            "scale); the master keeps the distortion, so export the mix again with headroom."
        )
    if before.correlation is not None and before.correlation <= OPPOSITE_CORRELATION:
        # the analysis says so; a master that vanishes on a phone is worth saying here too
        how = "it cancels out" if before.correlation <= -0.99 else "much of it cancels out"
        notes.append(
            f"The mix's channels are opposite in polarity (correlation {before.correlation:.2f}): "
            f"played in mono, as a phone or a club's PA plays it, {how}, and the master keeps "
            "that; flip the polarity of one channel, or of the track that is flipped in the mix."
        )
    notes.extend(_one_octave_reference_notes(ref))
    per_100ms = int(0.1 * before.loudness.sample_rate) // plan.hop
    return MasterReport(
        config=config,
        before=before,
        after=after,
        target_source="the reference" if ref is not None else f"the {config.curve!r} curve",
        tone=plan.tone,
        compressor_threshold_db=plan.compressor_threshold_db,
        compressor_ratio=plan.compressor_ratio,
        compressor_reduction_db=_max_every(plan.compressor_reduction_db, per_100ms),
        gain_db=plan.gain_db,
        limiter_threshold_dbtp=threshold,
        limiter_reduction_db=_max_every(plan.limiter_reduction_db, per_100ms),
        limiter_loss_lu=plan.limiter_loss_lu,
        trim_db=trim,
        reached=reached,
        notes=tuple(notes),
        reference=ref,
        output_subtype=subtype,
        dc_offset=plan.dc_offset,
        shaping_left_out=plan.note is not None,
        low_band_reduction_db=_max_every(plan.low_band_reduction_db, per_100ms),
        low_band_loss_db=plan.low_band_loss_db,
    )


# --- files -------------------------------------------------------------------------------------
def _one_octave_reference_notes(ref: Analysis | None) -> list[str]:
    """A note for a reference that holds nearly all its energy in one octave band: a test tone
    or a sine, which the EQ cannot match a song to. Matched, it pushed nine bands of a mix 6 dB
    down and one up, all but the band distance unchanged, and nothing said why."""
    if ref is None:
        return []
    bands = [(c, s) for c, s in ref.octave_bands_db if s is not None]
    center, share = max(bands, key=lambda band: band[1], default=(0.0, -math.inf))
    if share < ONE_OCTAVE_SHARE_DB:
        return []
    return [
        f"The reference holds {10 ** (share / 10):.0%} of its energy in the octave around "
        f"{center:g} Hz, as a test tone does: no mix can be matched to it, and the EQ went as "
        "far as its limits allow; give a finished song as the reference."
    ]


# a reference with this share of its energy in one octave band (80%) is no song (a song's
# largest band, its bass's or its kick's, held a fifth to a half in 14 backing tracks' mixes)
ONE_OCTAVE_SHARE_DB = -1.0


def _write_blocks(blocks, path, sample_rate: int, channels: int, subtype: str) -> None:
    """Write blocks of float audio as `subtype` into `path` (the caller's temporary file: see
    `master_file`), replacing what is there; 16-bit gets TPDF dither of one LSB each way."""
    import soundfile as sf

    rng = np.random.default_rng(0)  # the same input gives the same file
    # the temporary file's name ends in the output's suffix (atomic_path keeps it)
    fmt = {".wav": "WAV", ".flac": "FLAC"}[Path(path).suffix.lower()]
    with sf.SoundFile(
        os.fsencode(path),
        "w",
        samplerate=sample_rate,
        channels=channels,
        subtype=subtype,
        format=fmt,
    ) as f:

        def write(z: np.ndarray) -> None:
            if subtype == "PCM_16":
                dither = rng.random(z.shape) - rng.random(z.shape)
                q = np.clip(np.round(z * 32768.0 + dither), -32768, 32767).astype(np.int16)
                f.write(q.T)
            else:
                f.write(np.ascontiguousarray(z.T, dtype=np.float32))

        with _Pipeline() as later:  # write block k while block k + 1 is rendered
            for z in blocks:
                later(write, z)


# --- small helpers -----------------------------------------------------------------------------
class _SpillFile:
    """Blocks of float32 audio kept in an anonymous temporary file between passes."""

    def __init__(self, channels: int):
        import tempfile

        self.channels = channels
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        self._sizes: list[int] = []

    def append(self, y: np.ndarray) -> None:
        try:
            self._file.write(np.ascontiguousarray(y, dtype=np.float32).tobytes())
        except OSError as e:  # a full disk: a sentence, not a traceback
            import tempfile

            raise UserError(
                f"Could not keep the audio between passes in the temporary folder "
                f"{tempfile.gettempdir()!r} ({e.strerror or e}); free some space there or set "
                "TMPDIR to another folder."
            ) from None
        self._sizes.append(y.shape[1])

    def blocks(self) -> Iterator[np.ndarray]:
        self._file.flush()
        self._file.seek(0)
        for frames in self._sizes:
            data = self._file.read(4 * self.channels * frames)
            yield np.frombuffer(data, dtype=np.float32).reshape(self.channels, frames)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()
        return False


def _side_by_side(first: Callable, second: Callable | None):
    """(first(), second()), the two run at once on two threads (second() is None if no second)."""
    if second is None:
        return first(), None
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(second)
        result = first()
        return result, other.result()


def _max_every(values: np.ndarray, size: int) -> np.ndarray:
    if not len(values):
        return np.zeros(0, dtype=np.float32)
    size = max(1, size)
    padded = np.pad(values, (0, -len(values) % size))
    return padded.reshape(-1, size).max(axis=1).astype(np.float32)


def _max(values: np.ndarray) -> float:
    return round(float(values.max()), 2) if len(values) else 0.0


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)
