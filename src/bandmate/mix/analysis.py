"""What a mix or master measures: loudness, peaks, crest factor, octave balance, stereo image.

`analyze(audio)` and `analyze_file(path)` give an `Analysis`: the `Loudness` of `meter` (BS.1770 /
EBU R 128) plus

- `rms_dbfs` and `crest_factor_db`: the plain (unweighted) RMS over all channels, and the sample
  peak above it (a sine has 3.01 dB);
- `octave_bands_db`: the share of the (unweighted) energy in each octave band from 31.5 Hz to
  16 kHz, in dB, so that the shares add up to 0 dB; a band above the Nyquist frequency is None.
  Measured from a Hann-windowed power spectrum (about 3 Hz resolution, half-overlapping frames,
  single precision: a band more than about 140 dB under the whole reads about -140 to -150 dB,
  the FFT's rounding) of the audio with its clicks bridged (see `_ClickBridge`): a click is
  broadband, and in a quiet, dark mix one 2-sample spike from an edit without a crossfade held
  as much 8-16 kHz energy as the whole programme, and a master matching the balance moved its
  EQ there by up to 6 dB;
- `top_octave_max_share_db`: the 16 kHz octave's share of the energy over its brightest
  `TOP_OCTAVE_WINDOW_SECONDS` (the same spectra, summed over that many seconds): a cymbal-wash
  break in a dark song is as bright there as a bright song is throughout. None where the octave
  is above the Nyquist frequency or the audio silent. Not in the JSON: a master reads it
  (`mix.master_plan`) to know where the meter's 4x interpolation would read peaks low;
- `correlation`: the zero-lag correlation of left and right, sum(L R) / sqrt(sum L^2 sum R^2), as a
  phase meter shows it (1 for mono content, 0 for unrelated channels, -1 for opposite polarity);
- `side_to_mid_db`: stereo width as the side energy over the mid energy ((L - R)/2 over
  (L + R)/2): -inf for identical channels, 0 dB for unrelated ones of equal level;
- `dc_offset`: each channel's mean (full scale 1.0). An offset is inaudible but counts toward
  the peaks, the RMS and the crest factor, so from -40 dBFS up a note names it;
- `clipped_runs`: the places where `CLIP_RUN` or more equal samples in a row sit at full scale
  (`CLIP_LEVEL` to 1.0), in any channel: a mix exported too hot, its waveform's tops cut flat.
  A single sample at full scale is a peak that touches it, not clipping; three in a row are
  what clip meters count. A note names them: no master restores them.

`analyze_file` reads the file in blocks, so a long file costs little memory (the meter keeps a
number per 10 ms, the spectrum one array). Anything that cannot be measured (silence, audio too
short for a window, mono for the stereo figures) is None or -inf, and `notes` says why in words.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.fft

from bandmate.io.audio import Audio, audio_info, read_blocks
from bandmate.mix.meter import SERIES_STEP_SECONDS, Loudness, LoudnessMeter

OCTAVE_CENTERS_HZ = (31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)
BLOCK_SECONDS = 10.0  # how much audio is read and measured at a time
TOP_OCTAVE_WINDOW_SECONDS = 3.0
DC_NOTE_LEVEL = 0.01  # -40 dBFS: an offset this large is named in the notes
# full scale: 16-bit's top code (32767/32768) and up; a float sample beyond it is an over the
# format holds, not a clipped one, so only values within a hair of 1.0 count
CLIP_LEVEL, CLIP_RUN = 32767 / 32768 - 1e-6, 3  # 3 samples in a row, as clip meters count
# a click, for the octave balance: a sample-to-sample step whose energy stands this far above
# the steps of the CLICK_CONTEXT_S on both sides of it (outside CLICK_HALF_WIDTH_S) is bridged
# over CLICK_HALF_WIDTH_S either side. A drum's attack rings on after it: the sharpest onsets of
# bandmate's own stems and mixes (toms) stand 21.5 dB above what follows; a 2-sample spike at
# 0.98 in a dark mix of -24 LUFS or quieter, over 30 dB
CLICK_RATIO_DB, CLICK_CONTEXT_S, CLICK_HALF_WIDTH_S = 30.0, 0.005, 0.0005
CLICK_FLOOR = 1e-10  # a step's energy under this (-100 dBFS) is never a click, even in silence
# under the quietest sound a 24-bit file holds (-144 dBFS): in the loudness series, only what is
# left of the K-weighting's ringing once the music has stopped in digital silence (it decays on
# to -3000 LUFS and below, where ffmpeg's meter reads -inf), so the JSON gives None
SERIES_FLOOR_LUFS = -150.0
# a phase meter's red: from here down a note says the audio cancels in mono (-0.5: the mono sum
# is 6 dB under the channels' own level at equal levels)
OPPOSITE_CORRELATION = -0.5


@dataclass(frozen=True, eq=False)
class Analysis:
    """Every measurement of one piece of audio; see the module's docstring for the definitions."""

    loudness: Loudness
    rms_dbfs: float
    crest_factor_db: float | None
    octave_bands_db: tuple[tuple[float, float | None], ...]  # (nominal centre Hz, share dB)
    correlation: float | None
    side_to_mid_db: float | None
    dc_offset: tuple[float, ...] = ()  # each channel's mean, full scale 1.0
    clipped_runs: int = 0  # places where CLIP_RUN or more samples in a row sit at full scale
    top_octave_max_share_db: float | None = None

    @property
    def notes(self) -> list[str]:
        """Sentences that say why a measurement is missing or reads -inf."""
        lo, notes = self.loudness, []
        if lo.frames == 0:
            return ["The audio holds no samples, so there is nothing to measure."]
        if not math.isfinite(lo.sample_peak_dbfs):
            return [
                "The audio is silent (every sample is zero), so it has no loudness, peaks, "
                "spectrum or stereo image to measure."
            ]
        if lo.integrated_lufs is None:
            notes.append("The audio is shorter than 400 ms, too short to measure its loudness.")
        elif not math.isfinite(lo.integrated_lufs):
            notes.append(
                "Nothing in the audio is louder than -70 LUFS, the level below which BS.1770 "
                "ignores sound, so its loudness reads -inf."
            )
        if lo.max_short_term_lufs is None:
            notes.append(
                "The audio is shorter than 3 s, so it has no short-term loudness or loudness range."
            )
        elif lo.loudness_range_lu is None:
            notes.append("No 3 s stretch is louder than -70 LUFS, so it has no loudness range.")
        if lo.channels == 1:
            notes.append("The audio is mono, so it has no stereo correlation or width.")
        elif self.correlation is None:
            notes.append("One channel is silent, so the channels have no correlation.")
        elif self.side_to_mid_db == -math.inf:
            notes.append("The two channels are identical: there is no side signal (width -inf).")
        elif self.correlation <= OPPOSITE_CORRELATION:
            how = "it cancels out" if self.correlation <= -0.99 else "much of it cancels out"
            notes.append(
                f"The channels are opposite in polarity (correlation {self.correlation:.2f}): "
                f"played in mono, as a phone or a club's PA plays it, {how}; flip the polarity "
                "of one channel, or of the track that is flipped in the mix."
            )
        offset = max((abs(v) for v in self.dc_offset), default=0.0)
        if offset >= DC_NOTE_LEVEL:
            notes.append(
                f"The audio is off centre by {offset:.3g} ({20 * math.log10(offset):.1f} dBFS), "
                "a DC offset: it counts toward the peaks, the RMS and the crest factor; "
                "bandmate master removes it."
            )
        if self.clipped_runs:
            places = "place" if self.clipped_runs == 1 else "places"
            notes.append(
                f"The audio is clipped in {self.clipped_runs} {places} ({CLIP_RUN} or more "
                "samples in a row at full scale); no master restores what was cut, so export the "
                "mix again with its peaks under -1 dBFS."
            )
        return notes

    def to_dict(self) -> dict:
        """Every measurement as JSON-ready data; -inf and unmeasurable values become None."""
        lo = self.loudness
        return {
            "sample_rate_hz": lo.sample_rate,
            "channels": lo.channels,
            "duration_seconds": lo.duration_seconds,
            "integrated_lufs": _finite(lo.integrated_lufs),
            "relative_gate_lufs": _finite(lo.relative_gate_lufs),
            "max_momentary_lufs": _finite(lo.max_momentary_lufs),
            "max_short_term_lufs": _finite(lo.max_short_term_lufs),
            "loudness_range_lu": _finite(lo.loudness_range_lu),
            "loudness_range_low_lufs": _finite(lo.loudness_range_low_lufs),
            "loudness_range_high_lufs": _finite(lo.loudness_range_high_lufs),
            "sample_peak_dbfs": _finite(lo.sample_peak_dbfs),
            "true_peak_dbtp": _finite(lo.true_peak_dbtp),
            "plr_lu": _finite(lo.plr_lu),
            "rms_dbfs": _finite(self.rms_dbfs),
            "crest_factor_db": _finite(self.crest_factor_db),
            "octave_bands": [
                {"center_hz": center, "share_db": _finite(share)}
                for center, share in self.octave_bands_db
            ],
            "stereo_correlation": _finite(self.correlation),
            "side_to_mid_db": _finite(self.side_to_mid_db),
            "dc_offset": [round(v, 6) for v in self.dc_offset],
            "clipped_runs": self.clipped_runs,
            "series_step_seconds": SERIES_STEP_SECONDS,
            "momentary_lufs": _series(lo.momentary_lufs),
            "short_term_lufs": _series(lo.short_term_lufs),
            "notes": self.notes,
        }


def analyze(audio: Audio) -> Analysis:
    """Measure `audio` (mono or stereo). Raises `AudioFormatError` for NaN or infinite samples."""
    step = int(BLOCK_SECONDS * audio.sample_rate)
    blocks = (audio.samples[:, i : i + step] for i in range(0, audio.frames, step))
    return _analyze_blocks(blocks, audio.sample_rate, audio.channels)


def analyze_file(path: str | os.PathLike) -> Analysis:
    """Measure an audio file (WAV, FLAC or another libsndfile format), reading it in blocks.

    Raises `InputFileError` for a missing, unreadable or truncated file and `AudioFormatError`
    for more than two channels, an unsupported sample rate, or NaN or infinite samples.
    """
    info = audio_info(path)
    blocks = read_blocks(path, BLOCK_SECONDS, purpose="measured")
    return _analyze_blocks(blocks, info.samplerate, info.channels)


def analysis_rows(analysis: Analysis) -> list[tuple[str, str]]:
    """(label, value) pairs for a short table a person can read."""
    lo = analysis.loudness

    def level(value, unit: str, missing: str = "n/a") -> str:
        if value is None:
            return missing
        text = f"{value:.1f}"
        return f"{'0.0' if text == '-0.0' else text} {unit}"

    lra = level(lo.loudness_range_lu, "LU")
    if lo.loudness_range_lu is not None:
        lra += f" ({lo.loudness_range_low_lufs:.1f} to {lo.loudness_range_high_lufs:.1f} LUFS)"
    if lo.channels == 1:
        stereo = "mono"
    else:
        corr = "n/a" if analysis.correlation is None else f"{analysis.correlation:.2f}"
        stereo = f"correlation {corr}, side/mid {level(analysis.side_to_mid_db, 'dB')}"
    bands = [c for c, _ in analysis.octave_bands_db]
    shares = [s for _, s in analysis.octave_bands_db]
    rows = [
        (
            "format",
            f"{'mono' if lo.channels == 1 else 'stereo'}, {lo.sample_rate} Hz, "
            f"{_duration(lo.duration_seconds)}",
        ),
        ("integrated", level(lo.integrated_lufs, "LUFS")),
        ("max short-term", level(lo.max_short_term_lufs, "LUFS")),
        ("max momentary", level(lo.max_momentary_lufs, "LUFS")),
        ("loudness range", lra),
        ("true peak", level(lo.true_peak_dbtp, "dBTP")),
        ("sample peak", level(lo.sample_peak_dbfs, "dBFS")),
        ("PLR", level(lo.plr_lu, "LU")),
        (
            "crest factor",
            f"{level(analysis.crest_factor_db, 'dB')} (RMS {level(analysis.rms_dbfs, 'dBFS')})",
        ),
        ("stereo", stereo),
        ("octave bands Hz", "".join(f"{_band_label(c):>7}" for c in bands)),
        ("energy share dB", "".join(f"{'-':>7}" if s is None else f"{s:7.1f}" for s in shares)),
    ]
    rows += [("note", note) for note in analysis.notes]
    return rows


# --- measuring ---------------------------------------------------------------------------------
class _Spectrum:
    """Sums Hann-windowed power spectra of half-overlapping frames, over channels and time."""

    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate = sample_rate
        self.size = 1 << math.ceil(math.log2(sample_rate / 3))  # 16384 at 44.1 and 48 kHz
        self.hop = self.size // 2
        self.window = np.hanning(self.size).astype(np.float32)
        self.power = np.zeros(self.size // 2 + 1)
        self.frames = 0
        self.buffer = np.zeros((channels, 0))
        self.unseen = 0  # frames at the end of `buffer` that no frame has covered yet
        # the last `size` frames seen, kept across calls: a call with fewer left `buffer` short
        self.last = np.zeros((channels, 0))
        self.bridge = _ClickBridge(sample_rate, channels)
        # each frame's energy in the top octave and in all, for `top_octave_max_share_db`
        freqs = np.fft.rfftfreq(self.size, 1.0 / sample_rate)
        low, high = _band_edges(len(OCTAVE_CENTERS_HZ) - 1)
        self.top_bins = slice(*np.searchsorted(freqs, [low, high]))
        self.top_energy: list[np.ndarray] = []
        self.all_energy: list[np.ndarray] = []

    def process(self, x: np.ndarray) -> None:
        self._frames(self.bridge.process(x))

    def _frames(self, x: np.ndarray) -> None:
        if not x.shape[1]:
            return
        self.buffer = np.concatenate([self.buffer, x], axis=1)
        self.unseen += x.shape[1]
        self.last = np.concatenate([self.last, x], axis=1)[:, -self.size :]
        count = (self.buffer.shape[1] - self.size) // self.hop + 1
        if count <= 0:
            return
        view = np.lib.stride_tricks.sliding_window_view(self.buffer, self.size, axis=1)
        frames = view[:, : count * self.hop : self.hop]  # (channels, count, size)
        # in single precision, SciPy's FFT takes a quarter of the time of NumPy's in double; its
        # rounding (about -140 dB of the whole) is far below any octave's share that matters
        windowed = np.multiply(frames, self.window, dtype=np.float32)
        spectra = scipy.fft.rfft(windowed, axis=-1, overwrite_x=True)
        power = np.square(spectra.real)
        power += np.square(spectra.imag)
        self.power += power.sum(axis=(0, 1), dtype=np.float64)
        self.top_energy.append(power[..., self.top_bins].sum(axis=(0, 2), dtype=np.float64))
        self.all_energy.append(power.sum(axis=(0, 2), dtype=np.float64))
        self.frames += count
        self.buffer = self.buffer[:, count * self.hop :]
        # the frames so far covered the buffer up to its first size - hop samples
        self.unseen = max(0, self.buffer.shape[1] - (self.size - self.hop))

    def band_shares_db(self) -> tuple[tuple[float, float | None], ...]:
        self._frames(self.bridge.process(None))  # what the bridge still held
        power = self.power.copy()
        if self.unseen > 0 or self.frames == 0:
            # one more frame, the last `size` frames (zero-padded if the audio is shorter): a
            # frame of zero-padded leftovers would splash an abrupt end over every band
            last = np.zeros((self.last.shape[0], self.size))
            last[:, : self.last.shape[1]] = self.last
            power += np.sum(np.abs(np.fft.rfft(last * self.window, axis=-1)) ** 2, axis=0)
        freqs = np.fft.rfftfreq(self.size, 1.0 / self.sample_rate)
        nyquist = self.sample_rate / 2
        energies = []
        for k in range(len(OCTAVE_CENTERS_HZ)):
            low, high = _band_edges(k)
            in_band = (freqs >= low) & (freqs < high)
            energies.append(float(power[in_band].sum()) if low < nyquist else None)
        total = sum(e for e in energies if e is not None)
        return tuple(
            (center, None if e is None or total <= 0 else _db(e / total))
            for center, e in zip(OCTAVE_CENTERS_HZ, energies, strict=True)
        )

    def top_octave_max_share_db(self) -> float | None:
        """The top octave's largest share over `TOP_OCTAVE_WINDOW_SECONDS` of frames (all of
        them if fewer; call after `band_shares_db`, which takes the last frames)."""
        if self.sample_rate / 2 <= _band_edges(len(OCTAVE_CENTERS_HZ) - 1)[0] or not self.frames:
            return None
        top, every = np.concatenate(self.top_energy), np.concatenate(self.all_energy)
        width = round(TOP_OCTAVE_WINDOW_SECONDS * self.sample_rate / self.hop)
        kernel = np.ones(min(len(top), max(1, width)))
        top, every = np.convolve(top, kernel, "valid"), np.convolve(every, kernel, "valid")
        lit = every > 0
        return _db(float(np.max(top[lit] / every[lit]))) if lit.any() else None


def _band_edges(k: int) -> tuple[float, float]:
    """Octave band `k`'s edges (Hz), around an exact base-2 centre (the names are nominal)."""
    center = 1000.0 * 2.0 ** (k - 5)
    return center / math.sqrt(2), center * math.sqrt(2)


class _ClickBridge:
    """Bridges clicks, for the spectrum alone: a sample-to-sample step (over the channels, the
    largest) whose energy is `CLICK_RATIO_DB` above the mean of the steps both in the
    `CLICK_CONTEXT_S` before it and in the same after it (leaving out about `CLICK_HALF_WIDTH_S`
    either side) is a click, not music: the samples within `CLICK_HALF_WIDTH_S` of it are
    replaced by a straight line between their neighbours. A drum's attack is as steep but rings
    on after it, so it stands less than 22 dB above what follows and is left alone. The steps are
    judged in cells of `CLICK_HALF_WIDTH_S` (each cell's largest against its neighbours' sums),
    which costs a few passes over the audio.

    Streams: `process(x)` returns the samples judged so far (it holds back the last few
    milliseconds until what follows them is known); `process(None)` returns the rest."""

    def __init__(self, sample_rate: int, channels: int):
        self.cell = max(1, round(CLICK_HALF_WIDTH_S * sample_rate))
        self.cells = max(1, round(CLICK_CONTEXT_S * sample_rate / self.cell))  # context, cells
        self.ratio = 10 ** (CLICK_RATIO_DB / 10)
        # context already given out, then the rest; it opens on one sample of silence, never
        # given out, so that the step into the first sample is judged (a file that opened on a
        # click kept it) and a click there is bridged from silence
        self.pending = np.zeros((channels, 1))
        self.out = 1  # pending[:, out:] is not given out yet
        self.judged = 1  # pending[:, judged:] is not judged yet (out <= judged)

    def process(self, x: np.ndarray | None) -> np.ndarray:
        final = x is None
        if not final:
            self.pending = np.concatenate([self.pending, x], axis=1)
        pending, n, cell, k = self.pending, self.pending.shape[1], self.cell, self.cells
        margin = (k + 2) * cell  # the context either side of what is judged
        count = (n - self.judged + (cell - 1 if final else -margin)) // cell
        if count > 0:
            start, stop = self.judged - margin, self.judged + (count * cell) + margin
            lo, hi = max(start, 1), min(stop, n)
            step = np.diff(pending[:, lo - 1 : hi], axis=1)
            energy = np.zeros(stop - start)  # outside the audio: silence
            energy[lo - start : hi - start] = np.max(step * step, axis=0)
            energy = energy.reshape(-1, cell)
            sums = np.concatenate(([0.0], np.cumsum(energy.sum(axis=1))))
            c = np.arange(k + 2, k + 2 + count)  # the cells judged
            before = (sums[c - 1] - sums[c - 1 - k]) / (k * cell)
            after = (sums[c + 2 + k] - sums[c + 2]) / (k * cell)
            largest = energy[k + 2 : k + 2 + count].max(axis=1)
            clicks = (largest > CLICK_FLOOR) & (largest > self.ratio * np.maximum(before, after))
            for j in np.flatnonzero(clicks):
                i = start + c[j] * cell + int(np.argmax(energy[c[j]]))
                a, b = max(i - cell, self.out, 1), min(i + cell + 1, n - 1)
                if b > a:
                    ramp = np.arange(1, b - a + 1) / (b - a + 1)
                    left, right = pending[:, a - 1 : a], pending[:, b : b + 1]
                    pending[:, a:b] = left + (right - left) * ramp
            self.judged += count * cell
        # a bridge made later reaches back at most `cell` samples before what it judges
        ready = n if final else max(self.out, min(self.judged, n) - cell)
        given = pending[:, self.out : ready].copy()
        keep = max(0, min(ready, self.judged) - margin - cell)  # the context the next call reads
        self.pending = pending[:, keep:]
        self.out, self.judged = ready - keep, self.judged - keep
        return given


def _analyze_blocks(blocks: Iterable[np.ndarray], sample_rate: int, channels: int) -> Analysis:
    """The analysis of the blocks; the meter takes each block on a second thread while this one
    takes the spectrum and the sums (NumPy and SciPy release the GIL, so two cores overlap)."""
    meter = LoudnessMeter(sample_rate, channels)
    spectrum = _Spectrum(sample_rate, channels)
    square_sums = np.zeros(channels)
    sums = np.zeros(channels)
    cross = 0.0  # sum of left times right
    clips = _ClipCounter(channels)
    with ThreadPoolExecutor(1) as side:
        metering = None
        for block in blocks:
            x = np.asarray(block, dtype=np.float64)
            if metering is not None:
                metering.result()
            metering = side.submit(meter.process, x)  # refuses NaN and infinity
            spectrum.process(x)
            square_sums += np.einsum("cn,cn->c", x, x)
            sums += x.sum(axis=1)
            clips.process(x)
            if channels == 2:
                # einsum, not np.dot: a dot product this long wakes OpenBLAS's threads, which
                # then spin for a while after it, holding a core that the meter's thread (and
                # the rest of a job) wanted: the analysis of a 3-minute mix took 1.0 s of CPU
                # for 0.5 s of work
                cross += float(np.einsum("n,n->", x[0], x[1]))
        if metering is not None:
            metering.result()
    loudness = meter.result()

    samples = loudness.frames * channels
    rms_dbfs = _db(float(square_sums.sum()) / samples) if samples else -math.inf
    crest = None
    if math.isfinite(rms_dbfs):
        crest = loudness.sample_peak_dbfs - rms_dbfs
    correlation = side_to_mid = None
    if channels == 2:
        left, right = square_sums
        if left > 0 and right > 0:
            correlation = float(np.clip(cross / math.sqrt(left * right), -1.0, 1.0))
        side, mid = left + right - 2 * cross, left + right + 2 * cross  # both times 4
        if mid > 0 or side > 0:
            # float error leaves a hair of side in identical channels (or of mid in opposite
            # ones); 1e-12 of the other (-120 dB) is below anything audible
            side = 0.0 if side <= 1e-12 * mid else side
            mid = 0.0 if mid <= 1e-12 * side else mid
            side_to_mid = _db(side / mid) if mid > 0 else math.inf
    return Analysis(
        loudness=loudness,
        rms_dbfs=rms_dbfs,
        crest_factor_db=crest,
        octave_bands_db=spectrum.band_shares_db(),
        correlation=correlation,
        side_to_mid_db=side_to_mid,
        dc_offset=tuple(float(v) for v in sums / loudness.frames) if loudness.frames else (),
        clipped_runs=clips.result(),
        top_octave_max_share_db=spectrum.top_octave_max_share_db(),
    )


class _ClipCounter:
    """Counts the flat tops: runs of `CLIP_RUN` or more equal samples at full scale in a channel,
    across blocks (a run that reaches the end of a block goes on into the next). Equal, because
    a smooth waveform that peaks at full scale (a slow sine normalised to 0 dBFS) has several
    samples within a hair of it, none equal; a clipped one is cut flat."""

    def __init__(self, channels: int):
        self.runs = 0
        self.last = np.full(channels, -1.0)  # each channel's last magnitude (-1: none yet)
        self.open = np.zeros(channels, dtype=np.int64)  # samples in the run reaching the end

    def process(self, x: np.ndarray) -> None:
        magnitude = np.abs(x)
        if not self.open.any() and (not magnitude.size or magnitude.max() < CLIP_LEVEL):
            self.last = magnitude[:, -1] if magnitude.shape[1] else self.last
            return  # (most blocks: nothing reaches full scale)
        top = (magnitude >= CLIP_LEVEL) & (magnitude <= 1.0 + 1e-6)
        for c, (m, row) in enumerate(zip(magnitude, top, strict=True)):
            before = np.concatenate(([self.last[c]], m[:-1]))
            same = row & (m == before)  # a sample at full scale equal to the one before it
            edges = np.diff(np.concatenate(([0], same.astype(np.int8), [0])))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            lengths = ends - starts + 1  # a run of n equal samples has n - 1 "same" flags
            if len(lengths) and starts[0] == 0 and self.open[c]:
                lengths[0] += self.open[c] - 1  # the run the last block ended in goes on
            elif self.open[c]:
                self.runs += self.open[c] >= CLIP_RUN  # it ended with that block
            self.open[c] = 0
            if len(lengths) and ends[-1] == len(row):
                self.open[c], lengths = lengths[-1], lengths[:-1]
            self.runs += int((lengths >= CLIP_RUN).sum())
            if len(m):
                self.last[c] = m[-1]

    def result(self) -> int:
        return self.runs + int((self.open >= CLIP_RUN).sum())


def _db(ratio: float) -> float:
    """10 log10 of an energy ratio, -inf at 0."""
    return 10.0 * math.log10(ratio) if ratio > 0 else -math.inf


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _series(values: np.ndarray) -> list[float | None]:
    """The values rounded for JSON; -inf, and anything under `SERIES_FLOOR_LUFS`, as None."""
    return [round(float(v), 3) if v >= SERIES_FLOOR_LUFS else None for v in values]


def _duration(seconds: float) -> str:
    """ "3.25 s", or milliseconds under a second: a 5 ms file is not "0.00 s", which reads as
    empty beside the peaks measured in it."""
    return f"{seconds:.2f} s" if seconds >= 1 or seconds == 0 else f"{seconds * 1000:.3g} ms"


def _band_label(center_hz: float) -> str:
    return f"{center_hz / 1000:g}k" if center_hz >= 1000 else f"{center_hz:g}"
