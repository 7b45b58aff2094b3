"""Batch throughput on Ray: mastering N short mixes with 1 and with 2 workers, and per-item costs.

    .venv/bin/python bench/batch.py [--files 200] [--seconds 10] [--json out.json]

Generates N stereo 24-bit 44.1 kHz mixes (tones over noise, seeded) in a temporary folder,
starts one local Ray of 2 CPUs, warms both workers up (their first item imports bandmate), then
masters all N with `run_batch(workers=1)` and again with `workers=2`, each into a fresh folder,
and prints items/s and the ratio (issue 10's target: 2 workers >= 1.7x one). Then per-item costs,
from the batch reports' own timings (time inside the worker, one thread): master (the N files),
loops (4-bar loops, MIDI plus a WAV per part and full, signed) and render (those loops' MIDI).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bandmate.batch import REPORT_FILE, plan_loops, plan_master, plan_render, run_batch
from bandmate.batch.runner import ONE_THREAD


def write_mixes(folder: Path, count: int, seconds: float, sample_rate: int = 44_100) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(10)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    for i in range(count):
        f0 = 55.0 * 2 ** (i % 24 / 12)
        x = sum(0.2 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
        x = x * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t)) + 0.02 * rng.standard_normal(t.size)
        stereo = np.stack([x, np.roll(x, 50)], 1).astype(np.float32)
        sf.write(folder / f"mix{i:03d}.wav", stereo, sample_rate, "PCM_24")


def item_seconds(out: Path) -> list[float]:
    items = json.loads((out / REPORT_FILE).read_text())["items"].values()
    return [e["seconds"] for e in items if e["status"] == "done"]


def timed_batch(items, out: Path, workers: int) -> float:
    start = time.perf_counter()
    summary = run_batch(items, out, workers=workers)
    took = time.perf_counter() - start
    assert summary.done == len(items) and not summary.failed, summary
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loops", type=int, default=4)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    import ray

    figures: dict = {"files": args.files, "seconds_per_file": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        write_mixes(tmp / "in", args.files, args.seconds)
        print(
            f"wrote {args.files} x {args.seconds:g} s mixes in {time.perf_counter() - start:.1f} s"
        )
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
            runtime_env={"env_vars": ONE_THREAD},
        )
        try:
            warm = plan_master(tmp / "in", tmp / "warm")[:4]
            timed_batch(warm, tmp / "warm", workers=2)  # both workers started and imported
            rates = {}
            for workers in (1, 2):
                out = tmp / f"out{workers}"
                took = timed_batch(plan_master(tmp / "in", out), out, workers)
                rates[workers] = args.files / took
                print(
                    f"master, {workers} worker(s): {args.files} files in {took:.1f} s = "
                    f"{rates[workers]:.2f} items/s"
                )
            ratio = rates[2] / rates[1]
            print(f"2 workers / 1 worker: {ratio:.2f}x (target >= 1.7x)")
            figures |= {"items_per_s": rates, "ratio": ratio}

            costs = {"master": item_seconds(tmp / "out2")}
            # (not rock: its verse groove gives one distinct 4-bar loop)
            loops = plan_loops(["funk", "house"], args.loops // 2 or 1, tmp / "loops")
            timed_batch(loops, tmp / "loops", workers=2)
            costs["loops"] = item_seconds(tmp / "loops")
            midis = tmp / "midi"
            midis.mkdir()
            for n, path in enumerate(sorted((tmp / "loops").rglob("*.mid"))):
                (midis / f"loop{n}.mid").write_bytes(path.read_bytes())
            timed_batch(plan_render(midis, tmp / "render"), tmp / "render", workers=2)
            costs["render"] = item_seconds(tmp / "render")
        finally:
            ray.shutdown()
    what = {
        "master": f"a {args.seconds:g} s stereo mix",
        "loops": "a 4-bar loop: MIDI, WAV per part and full, manifests, signatures",
        "render": "a 4-bar loop's MIDI to a WAV",
    }
    figures["per_item_seconds"] = {}
    for kind, seconds in costs.items():
        median = statistics.median(seconds)
        figures["per_item_seconds"][kind] = {
            "median": median,
            "max": max(seconds),
            "n": len(seconds),
        }
        print(f"per item, {kind} ({what[kind]}): median {median:.3f} s, max {max(seconds):.3f} s, "
              f"n={len(seconds)}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
