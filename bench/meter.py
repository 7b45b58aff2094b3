"""Benchmark: bandmate's loudness meter against ffmpeg's ebur128 filter, and its EBU conformance.

1. Conformance: the EBU Tech 3341 and Tech 3342 cases that can be synthesised (a stereo 1 kHz
   sine at the levels and durations the EBU gives; true-peak sines with 10 ms fades), measured
   by `bandmate.mix.meter`, with the deviation from the expected value and the EBU's tolerance.
2. Against ffmpeg: a handful of generated signals (tones, gated noise, transients, a true-peak
   sine, mono, 44.1 and 96 kHz) and a rendered backing track are written as 24-bit WAV files and
   measured by `bandmate.mix.analysis.analyze_file` and by
   `ffmpeg -nostats -i FILE -filter_complex ebur128=peak=true -f null -`. ffmpeg's summary gives
   one decimal; its last metadata frame gives the integrated loudness to three. ffmpeg's filter
   runs at 48 kHz only (ffmpeg resamples other rates first) and takes the true peak at 192 kHz.
3. Speed and memory: a long stereo file (10 minutes by default), measured block-wise; the peak
   of Python's traced allocations shows the memory bound.

Timings are wall-clock, best of one, and include reading the file; ffmpeg's include its start.
It prints the figures and asserts nothing.

    .venv/bin/python bench/meter.py [--no-render] [--long-minutes 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf

from bandmate.io.audio import Audio, write_audio
from bandmate.mix.analysis import analyze_file
from bandmate.mix.meter import measure_loudness
from bandmate.mix.signals import sine_tp, tone


# --- signals -----------------------------------------------------------------------------------
def pink(rng, frames: int, channels: int = 2) -> np.ndarray:
    """Pink noise (Kellet's economy filter on white noise), RMS 1."""
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    x = scipy.signal.lfilter(b, a, rng.standard_normal((channels, frames)), axis=-1)
    return x / np.sqrt(np.mean(x**2))


def test_signals(rng) -> list[tuple[str, Audio]]:
    r48, r44 = 48_000, 44_100
    bursts = pink(rng, 30 * r48) * 0.05
    bursts *= (np.arange(30 * r48) // (r48 * 2)) % 3 != 2  # 4 s on, 2 s off
    hits = np.zeros((2, 20 * r44))
    for onset in rng.integers(0, 20 * r44 - r44, size=60):  # decaying noise hits: transients
        hits[:, onset : onset + r44 // 4] += (
            rng.standard_normal((2, r44 // 4)) * np.exp(-np.arange(r44 // 4) / 800) * 0.4
        )
    return [
        ("sine 1 kHz -23 dBFS", tone((-23, 20))),
        ("gating -26/-20/-26", tone((-26, 20), (-20, 20.1), (-26, 20))),
        ("pink noise 44.1k", Audio(pink(rng, 30 * r44) * 0.1, r44)),
        ("pink bursts, silence", Audio(bursts, r48)),
        ("noise hits 44.1k", Audio(np.clip(hits, -0.99, 0.99), r44)),
        ("12 kHz 0 dBFS 45 deg", sine_tp(12_000, 45.0, 0.999, r48, seconds=10)),
        ("pink noise mono", Audio(pink(rng, 30 * r48, channels=1) * 0.2, r48)),
        ("pink noise 96k", Audio(pink(rng, 20 * 96_000) * 0.1, 96_000)),
    ]


def rendered_backing(seconds: float = 60.0) -> tuple[str, Audio] | None:
    """A pop backing track rendered through FluidSynth, or None where that is not possible."""
    try:
        from bandmate.arrange.backing import backing
        from bandmate.render import render

        chart = "(key: C) | C | Am7 | Dm7 | G7 | Em7 | A7 | Dm7 G7 | C |"
        score = backing(chart, style="pop", choruses=3, seed=1)
        _, mix = render(score, sample_rate=44_100)
    except Exception as e:  # no SoundFont, no libfluidsynth: the rest of the bench still runs
        print(f"(no rendered backing track: {e})")
        return None
    frames = min(mix.frames, int(seconds * mix.sample_rate))
    return f"pop backing {frames / mix.sample_rate:.0f} s", Audio(mix.samples[:, :frames], 44_100)


# --- ffmpeg ------------------------------------------------------------------------------------
def ffmpeg_ebur128(path: Path) -> dict:
    meta = path.with_suffix(".meta.txt")
    start = time.perf_counter()
    out = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-filter_complex",
         f"ebur128=peak=true:metadata=1,ametadata=mode=print:file={meta}", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    summary = out.stderr[out.stderr.rindex("Summary:") :]

    def field(name: str) -> float:
        value = re.search(rf"{name}:\s+(-?[\d.]+|-inf)", summary).group(1)
        return -math.inf if value == "-inf" else float(value)

    precise = re.findall(r"lavfi\.r128\.I=(-?[\d.]+|-inf)", meta.read_text())
    return {
        "I": field("I"),
        "I3": float(precise[-1]) if precise else math.nan,
        "LRA": field("LRA"),
        "TP": field("Peak"),
        "seconds": seconds,
    }


# --- reports -----------------------------------------------------------------------------------
def conformance() -> None:
    print("EBU conformance (synthesised cases), bandmate.mix.meter")
    print(f"{'case':44s} {'expected':>9s} {'measured':>9s} {'error':>7s} {'tolerance':>10s}")

    def row(name, expected, measured, tolerance):
        print(f"{name:44s} {expected:9.2f} {measured:9.3f} {measured - expected:+7.3f} "
              f"{tolerance:>10s}")  # fmt: skip

    for rate in (44_100, 48_000, 96_000):
        for case, level in ((1, -23.0), (2, -33.0)):
            lo = measure_loudness(tone((level, 20), rate=rate))
            row(f"3341-{case} I, {rate} Hz", level, lo.integrated_lufs, "±0.1")
            row(f"3341-{case} max M / max S, {rate} Hz", level, lo.max_momentary_lufs, "±0.1")
    cases = {
        3: [(-36, 10), (-23, 60), (-36, 10)],
        4: [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)],
        5: [(-26, 20), (-20, 20.1), (-26, 20)],
    }
    for case, segments in cases.items():
        row(f"3341-{case} I (gating)", -23.0, measure_loudness(tone(*segments)).integrated_lufs,
            "±0.1")  # fmt: skip
    s = measure_loudness(tone(*[(-20, 1.34), (-30, 1.66)] * 20)).short_term_lufs
    row("3341-9 S, worst of the series", -23.0, s[np.argmax(np.abs(s + 23))], "±0.1")
    m = measure_loudness(tone(*[(-20, 0.18), (-30, 0.22)] * 25)).momentary_lufs
    row("3341-12 M, worst of the series", -23.0, m[np.argmax(np.abs(m + 23))], "±0.1")
    worst_s = max(
        (measure_loudness(tone((None, 0.137 * i), (-38.0 + i, 3), (None, 1))).max_short_term_lufs
         - (-38 + i) for i in range(20)), key=abs,
    )  # fmt: skip
    row("3341-10/11 max S of 3 s bursts, worst", 0.0, worst_s, "±0.1")
    worst_m = max(
        (measure_loudness(tone((None, 0.0237 * i), (-38.0 + i, 0.4), (None, 0.6)))
         .max_momentary_lufs - (-38 + i) for i in range(20)), key=abs,
    )  # fmt: skip
    row("3341-13/14 max M of 0.4 s bursts, worst", 0.0, worst_m, "±0.1")
    tp_cases = [(15, 4, 0.0, 0.5, -6.0), (16, 4, 45.0, 0.5, -6.0), (17, 6, 60.0, 0.5, -6.0),
                (18, 8, 67.5, 0.5, -6.0), (19, 4, 45.0, 1.41, 3.0)]  # fmt: skip
    for rate in (44_100, 48_000, 96_000):
        for case, divisor, phase, amplitude, expected in tp_cases:
            lo = measure_loudness(sine_tp(rate / divisor, phase, amplitude, rate))
            row(f"3341-{case} true peak, {rate} Hz", expected, lo.true_peak_dbtp, "+0.2/-0.4")
    lra_cases = {
        1: ([(-20, 20), (-30, 20)], 10),
        2: ([(-20, 20), (-15, 20)], 5),
        3: ([(-40, 20), (-20, 20)], 20),
        4: ([(-50, 20), (-35, 20), (-20, 20), (-35, 20), (-50, 20)], 15),
    }
    for case, (segments, expected) in lra_cases.items():
        row(f"3342-{case} LRA", expected, measure_loudness(tone(*segments)).loudness_range_lu,
            "±1")  # fmt: skip


def against_ffmpeg(signals: list[tuple[str, Audio]], folder: Path) -> None:
    print()
    print("bandmate against ffmpeg ebur128 (peak=true); x = times real time")
    print(
        f"{'signal':24s} {'I ours':>8s} {'I ff':>8s} {'dI':>6s} {'TP ours':>8s} {'TP ff':>6s} "
        f"{'dTP':>5s} {'LRA ours':>8s} {'LRA ff':>6s} {'x ours':>7s} {'x ff':>6s}"
    )
    for i, (name, audio) in enumerate(signals):
        path = folder / f"signal{i}.wav"
        write_audio(audio, path, subtype="PCM_24")
        start = time.perf_counter()
        ours = analyze_file(path).loudness
        our_seconds = time.perf_counter() - start
        ff = ffmpeg_ebur128(path)
        lra = ours.loudness_range_lu if ours.loudness_range_lu is not None else math.nan
        speed, ff_speed = (
            audio.duration_seconds / our_seconds,
            audio.duration_seconds / ff["seconds"],
        )
        print(
            f"{name:24s} {ours.integrated_lufs:8.3f} {ff['I3']:8.3f} "
            f"{ours.integrated_lufs - ff['I3']:+6.3f} {ours.true_peak_dbtp:8.2f} {ff['TP']:6.1f} "
            f"{ours.true_peak_dbtp - ff['TP']:+5.2f} {lra:8.2f} {ff['LRA']:6.1f} "
            f"{speed:7.0f} {ff_speed:6.0f}"
        )


def long_file(folder: Path, minutes: float, rng) -> None:
    rate, path = 44_100, folder / "long.wav"
    with sf.SoundFile(path, "w", rate, 2, subtype="PCM_24") as f:
        for _ in range(round(minutes * 6)):  # 10 s at a time
            f.write((pink(rng, 10 * rate) * 0.1).T)
    seconds = minutes * 60
    tracemalloc.start()
    start = time.perf_counter()
    analysis = analyze_file(path)
    took = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    whole = seconds * rate * 2 * 4 / 2**20
    print()
    print(
        f"long file: {minutes:g} min stereo 44.1 kHz, I {analysis.loudness.integrated_lufs:.2f} "
        f"LUFS in {took:.1f} s ({seconds / took:.0f}x real time); traced peak memory "
        f"{peak / 2**20:.0f} MiB (the samples alone, as float32, are {whole:.0f} MiB)"
    )
    start = time.perf_counter()
    ff = ffmpeg_ebur128(path)
    print(
        f"ffmpeg on the same file: I {ff['I3']:.2f} LUFS in {ff['seconds']:.1f} s "
        f"({seconds / ff['seconds']:.0f}x real time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-render", action="store_true", help="skip the rendered backing track")
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is not installed; this bench compares against it.")
    rng = np.random.default_rng(args.seed)

    conformance()
    signals = test_signals(rng)
    if not args.no_render and (song := rendered_backing()):
        signals.append(song)
    with tempfile.TemporaryDirectory() as tmp:
        against_ffmpeg(signals, Path(tmp))
        if args.long_minutes > 0:
            long_file(Path(tmp), args.long_minutes, rng)


if __name__ == "__main__":
    main()
