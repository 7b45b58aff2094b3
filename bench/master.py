"""Benchmark: `bandmate master` against Matchering and ffmpeg's two-pass loudnorm, on its own mixes.

1. Makes the test mixes: backing tracks of thirteen styles rendered by bandmate, scaled to
   integrated loudness from -35 to -8 LUFS; three of them hard-clipped at full scale after
   scaling (and the loud drum-led ones clip a little more when written to 16 or 24 bits: the
   mono bossa, the 48 kHz hip-hop, samba and the 3-minute country peak over full scale), one
   mono, one at 48 kHz, one 24-bit, one float, one 3 minutes long (the others one chorus, about
   a minute). The reference is one more mix (pop ballad) mastered by bandmate.
2. Masters every mix to -14 LUFS under -1 dBTP three ways:
   - bandmate: `master_file(mix, out, reference_path=reference)`, in this process;
   - Matchering 2 (`pip install matchering`, the `bench` extra) with the same reference; it has
     no loudness target: it matches the reference's RMS and limits sample peaks to about -0.002
     dBFS, so its loudness error is measured against -14 like the others';
   - ffmpeg loudnorm, two passes: the first measures (`print_format=json`), the second applies
     `loudnorm=I=-14:TP=-1:LRA=11:measured_*=...:linear=true` at the input's sample rate.
3. Measures every result with an independent meter, ffmpeg's `ebur128=peak=true` (integrated
   loudness and true peak to three decimals, from its metadata), and the octave balance of each
   result with `bandmate.mix.analysis` against the reference's: the RMS of the band differences.

Columns: `err` = integrated loudness less -14 LU; `tp+` = true peak less the -1 dBTP ceiling (a
positive value is an overshoot); `dist` = octave-band distance to the reference in dB; `x rt` =
times real time (wall clock, best of `--repeats` runs, 2 by default; bandmate's includes
reading, writing, its own before/after analysis and that of the reference; ffmpeg's includes
both passes and starting ffmpeg). Targets for bandmate: |err| <= 0.2, tp+ <= 0.1, >= 40x real
time. bandmate uses two cores where it can, so its speed halves when something else keeps a core
busy: the load average is printed at the start and the end.

A click: the pop mix (peaking 17 dB under full scale) with a 2-sample spike at 0.98 put in at
its middle, as an edit without a crossfade leaves one, is mastered the same way, and the level of
the master around it is compared with the master of the mix without it, in 10 ms windows: how
far it is down 10 and 20 ms after the click, and at most from 30 to 330 ms after (the limiter
used to take some 20 dB off the programme there, 16 dB still 20 ms later).

Bright: a synthetic mix with heavy 17-20 kHz content, at 44.1 and 48 kHz, mastered to -8 LUFS;
ffmpeg's true peak of the master (it read 0.35 dB over the ceiling at 44.1 kHz before the
master read such peaks with a finer interpolator).

`--long-minutes N` also masters an N-minute 48 kHz stereo file (a mix repeated) in a child process
and prints its peak resident memory (target for 60 minutes: <= 1.5 GB).

    .venv/bin/python bench/master.py [--long-minutes 60] [--keep DIR] [--no-matchering]
                                     [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.io.audio import Audio, write_audio
from bandmate.mix.analysis import analyze_file
from bandmate.mix.master import master_file
from bandmate.mix.meter import measure_loudness
from bandmate.mix.report import band_distance_db
from bandmate.mix.signals import bright_mix
from bandmate.render import render

TARGET_LUFS, CEILING_DBTP = -14.0, -1.0
CHART = """
(key: G)
[Verse]  | G | Em7 | Cmaj7 | D7 | G/B | C | Am7 D7 | G |
         | G | Em7 | Am7 | D7sus4 D7 | Bm7 | E7 | Am7 D7 | G |
[Chorus] | C | D | Bm7 | Em | Am7 | D7 | Gmaj7 | G7 |
         | C | Cm6 | Bm7 | E7b9 | Am7 | D7 | G Em7 | Am7 D7 |
"""
# name, style, integrated loudness of the mix (before clipping), options
MIXES = [
    ("pop", "pop", -35.0, {}),
    ("rock-clipped", "rock", -8.0, {"clip": True}),
    ("funk", "funk", -20.0, {}),
    ("jazz-swing", "jazz-swing", -28.0, {}),
    ("bossa-mono", "bossa-nova", -18.0, {"mono": True}),
    ("hip-hop-48k", "hip-hop", -12.0, {"rate": 48_000}),
    ("house-clipped", "house", -9.0, {"clip": True}),
    ("reggae-24bit", "reggae", -23.0, {"subtype": "PCM_24"}),
    ("country-3min", "country", -16.0, {"seconds": 180}),
    ("samba", "samba", -14.0, {}),
    ("blues-float", "blues-shuffle", -30.0, {"subtype": "FLOAT"}),
    ("gospel-clipped", "gospel", -10.0, {"clip": True}),
    ("waltz", "waltz", -25.0, {}),
]


def render_mix(style_name: str, *, rate=44_100, seconds=None, seed=1) -> Audio:
    style = load_style(style_name)
    tempo = style.tempo_default
    choruses = 1
    if seconds:
        bar_seconds = style.meter[0] * 4 / style.meter[1] * 60 / tempo
        choruses = max(1, round(seconds / (32 * bar_seconds)))
    score = backing(CHART, style=style, tempo_bpm=tempo, choruses=choruses, seed=seed)
    return render(score, sample_rate=rate)[1]


def make_mixes(folder: Path) -> list[tuple[str, Path]]:
    made = []
    for name, style, lufs, options in MIXES:
        mix = render_mix(style, rate=options.get("rate", 44_100), seconds=options.get("seconds"))
        samples = mix.samples
        if options.get("mono"):
            samples = samples.mean(axis=0, keepdims=True)
        level = measure_loudness(Audio(samples, mix.sample_rate)).integrated_lufs
        samples = samples * 10 ** ((lufs - level) / 20)
        if options.get("clip"):
            samples = np.clip(samples, -1.0, 1.0)
        path = folder / f"{name}.wav"
        write_audio(Audio(samples, mix.sample_rate), path, options.get("subtype", "PCM_16"))
        made.append((name, path))
    return made


# --- the three masters -------------------------------------------------------------------------
def run_bandmate(source: Path, out: Path, reference: Path) -> float:
    start = time.perf_counter()
    master_file(source, out, reference_path=reference, force=True)
    return time.perf_counter() - start


def run_matchering(source: Path, out: Path, reference: Path) -> float:
    import matchering

    start = time.perf_counter()
    matchering.process(target=str(source), reference=str(reference),
                       results=[matchering.pcm24(str(out))])  # fmt: skip
    return time.perf_counter() - start


def run_loudnorm(source: Path, out: Path) -> float:
    rate = sf.info(str(source)).samplerate
    settings = f"I={TARGET_LUFS:g}:TP={CEILING_DBTP:g}:LRA=11"
    start = time.perf_counter()
    first = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(source),
         "-af", f"loudnorm={settings}:print_format=json", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    measured = json.loads(first.stderr[first.stderr.rindex("{") :])
    second = (
        f"loudnorm={settings}:measured_I={measured['input_i']}:"
        f"measured_TP={measured['input_tp']}:measured_LRA={measured['input_lra']}:"
        f"measured_thresh={measured['input_thresh']}:offset={measured['target_offset']}:"
        "linear=true"
    )
    subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-y", "-i", str(source), "-af", second,
         "-ar", str(rate), "-c:a", "pcm_s24le", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - start


# --- the independent meter ---------------------------------------------------------------------
def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP), both to three decimals, by ffmpeg's ebur128 filter."""
    meta = path.with_suffix(".meta.txt")
    subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-filter_complex",
         f"ebur128=peak=true:metadata=1,ametadata=mode=print:file={meta}", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = meta.read_text()
    meta.unlink()
    integrated = float(re.findall(r"lavfi\.r128\.I=(-?[\d.]+|-inf)", text)[-1])
    peak = max(float(v) for v in re.findall(r"lavfi\.r128\.true_peak=([\d.]+)", text))
    return integrated, 20 * math.log10(peak) if peak > 0 else -math.inf


def bands(path: Path) -> list[float | None]:
    return [s for _, s in analyze_file(path).octave_bands_db]


# --- a click ------------------------------------------------------------------------------------
def click_dropout(folder: Path, name: str, reference: Path) -> None:
    """How far the master of mix `name` is turned down around a click put into it."""
    source = folder / f"{name}.wav"
    info = sf.info(str(source))
    samples, rate = sf.read(str(source), dtype="float32", always_2d=True)
    at = len(samples) // 2
    samples[at : at + 2] = 0.98
    clicked = folder / f"{name}-click.wav"
    sf.write(str(clicked), samples, rate, subtype=info.subtype)
    masters = []
    for path in (source, clicked):
        out = folder / f"{path.stem}.click-test.wav"
        master_file(path, out, reference_path=reference, force=True)
        masters.append(sf.read(str(out), dtype="float64", always_2d=True)[0])
    plain, with_click = masters

    def change_db(start_ms: float) -> float:
        start = at + round(start_ms / 1000 * rate)
        window = slice(start, start + round(0.01 * rate))
        return 10 * math.log10(np.mean(with_click[window] ** 2) / np.mean(plain[window] ** 2))

    worst = min(change_db(ms) for ms in range(30, 330, 10))
    peak = ffmpeg_ebur128(folder / f"{clicked.stem}.click-test.wav")[1]
    print(
        f"click in {name}: the master is {change_db(10):+.1f} dB 10 ms after it, "
        f"{change_db(20):+.1f} dB 20 ms after, at worst {worst:+.1f} dB from 30 to 330 ms "
        f"(against the master without the click); TP {peak:.2f} dBTP"
    )


def bright_master(folder: Path) -> None:
    """A mix with heavy 17-20 kHz content (hi-hat-like bursts every 16th, two steady tones) at
    44.1 and 48 kHz, mastered to -8 LUFS under -1 dBTP: the meter's 4x interpolator reads such
    content low, and ffmpeg read -0.65 and -1.11 dBTP on these before the fine reading
    (`mix.master_limit._fine_peak_meter`)."""
    rng = np.random.default_rng(7)
    for rate in (44_100, 48_000):
        source, out = folder / f"bright-{rate}.wav", folder / f"bright-{rate}.master.wav"
        write_audio(bright_mix(rng, rate, seconds=12.0), source, "FLOAT")
        start = time.perf_counter()
        report = master_file(source, out, target_lufs=-8.0, force=True)
        speed = 12 / (time.perf_counter() - start)
        level, peak = ffmpeg_ebur128(out)
        print(
            f"bright at {rate / 1000:g} kHz, -8 LUFS: ffmpeg reads {level:.2f} LUFS, TP "
            f"{peak:.2f} dBTP (tp+ {peak - CEILING_DBTP:+.2f}); bandmate reports "
            f"{report.after.loudness.true_peak_dbtp:.2f} dBTP; {speed:.0f}x"
        )


# --- long file: memory -------------------------------------------------------------------------
# the peak resident memory of this process image: VmHWM, not getrusage's ru_maxrss, which keeps
# the peak of the image before exec, a forked copy of this (large) benchmark process
LONG_CHILD = """
import sys, time
from bandmate.memory import tune_allocator
from bandmate.mix.master import master_file
tune_allocator()  # as `bandmate master` runs it
start = time.perf_counter()
master_file(sys.argv[1], sys.argv[2], force=True)
seconds = time.perf_counter() - start
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM"))
print(seconds, peak_kb)
"""


def long_file(folder: Path, minutes: float) -> None:
    mix = render_mix("pop", rate=48_000, seconds=60)
    one = mix.samples * 10 ** ((-20 - measure_loudness(mix).integrated_lufs) / 20)
    path, frames = folder / "long.wav", round(minutes * 60 * 48_000)
    with sf.SoundFile(str(path), "w", samplerate=48_000, channels=2, subtype="PCM_16") as f:
        written = 0
        while written < frames:
            block = one[:, : frames - written]
            f.write(block.T)
            written += block.shape[1]
    out = subprocess.run(
        [sys.executable, "-c", LONG_CHILD, str(path), str(folder / "long-master.wav")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, rss_kb = out.stdout.split()
    level, peak = ffmpeg_ebur128(folder / "long-master.wav")
    print(
        f"\n{minutes:g}-minute 48 kHz stereo file: {float(seconds):.0f} s "
        f"({minutes * 60 / float(seconds):.0f}x real time), peak memory "
        f"{int(rss_kb) / 1024:.0f} MB; ffmpeg reads I {level:.2f} LUFS, TP {peak:.2f} dBTP"
    )


# --- main --------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=0.0)
    parser.add_argument("--keep", type=Path, help="keep the mixes and masters in this folder")
    parser.add_argument("--no-matchering", action="store_true")
    parser.add_argument("--repeats", type=int, default=2, help="time each master best of N")
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is not installed; this bench measures with it.")
    tools = ["bandmate", "loudnorm"] + ([] if args.no_matchering else ["matchering"])

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        mixes = make_mixes(folder)
        reference = folder / "reference.wav"
        write_audio(render_mix("pop-ballad", seed=2), folder / "reference-mix.wav", "PCM_24")
        master_file(folder / "reference-mix.wav", reference, force=True)
        print(f"made {len(mixes)} mixes and the reference in {time.perf_counter() - start:.0f} s")
        reference_bands = bands(reference)
        ref_level, ref_peak = ffmpeg_ebur128(reference)
        print(f"reference: pop ballad mastered by bandmate, {ref_level:.2f} LUFS, "
              f"{ref_peak:.2f} dBTP (ffmpeg)\n")  # fmt: skip

        header = f"{'mix':<15} {'format':<19} {'in LUFS':>7} {'in dBTP':>7}"
        for tool in tools:
            header += f" | {tool:<10} {'err':>6} {'tp+':>6} {'dist':>5} {'x rt':>5}"
        print("load average (1, 5, 15 min) at the start: "
              + ", ".join(f"{v:.2f}" for v in os.getloadavg()))  # fmt: skip
        print(header)
        print("-" * len(header))
        results: dict[str, list[tuple[float, float, float, float]]] = {t: [] for t in tools}
        for name, path in mixes:
            info = sf.info(str(path))
            duration = info.frames / info.samplerate
            level, peak = ffmpeg_ebur128(path)
            depth = {"PCM_16": "16-bit", "PCM_24": "24-bit", "FLOAT": "float"}[info.subtype]
            fmt = f"{info.channels}ch {info.samplerate / 1000:g}k {depth}"
            row = f"{name:<15} {fmt:<19} {level:7.1f} {peak:7.1f}"
            for tool in tools:
                out = folder / f"{name}.{tool}.wav"
                runs = []
                for _ in range(args.repeats):
                    if tool == "bandmate":
                        runs.append(run_bandmate(path, out, reference))
                    elif tool == "matchering":
                        runs.append(run_matchering(path, out, reference))
                    else:
                        runs.append(run_loudnorm(path, out))
                seconds = min(runs)
                out_level, out_peak = ffmpeg_ebur128(out)
                distance = band_distance_db(bands(out), reference_bands)
                err, over = out_level - TARGET_LUFS, out_peak - CEILING_DBTP
                results[tool].append((err, over, distance, duration / seconds))
                speed = duration / seconds
                row += f" | {'':<10} {err:+6.2f} {over:+6.2f} {distance:5.1f} {speed:5.0f}"
            print(row, flush=True)

        print("-" * len(header))
        for tool in tools:
            values = np.array(results[tool])
            print(
                f"{tool:<10}: |err| max {np.max(np.abs(values[:, 0])):.2f} LU, "
                f"median {np.median(np.abs(values[:, 0])):.2f}; "
                f"tp+ max {values[:, 1].max():+.2f} dB; "
                f"distance median {np.median(values[:, 2]):.1f} dB; "
                f"speed min {values[:, 3].min():.0f}x, median {np.median(values[:, 3]):.0f}x"
            )
        ok = results["bandmate"]
        passed = all(abs(e) <= 0.2 and o <= 0.1 and x >= 40 for e, o, _, x in ok)
        print(f"\nbandmate targets (|err| <= 0.2 LU, tp+ <= 0.1 dB, >= 40x): "
              f"{'all met' if passed else 'NOT all met'}")  # fmt: skip
        click_dropout(folder, "pop", reference)
        bright_master(folder)
        print("load average (1, 5, 15 min) at the end: "
              + ", ".join(f"{v:.2f}" for v in os.getloadavg()))  # fmt: skip
        if args.long_minutes:
            long_file(folder, args.long_minutes)


if __name__ == "__main__":
    main()
