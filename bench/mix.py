"""Benchmark: automix's gain recovery on the project's own backing tracks (issue 6).

For every shipped style (or those given), a backing track is arranged from a 12-bar chart that is
none of the charts automix's balance model was fitted on (bench/fit_mix.py asserts so), and
rendered to stems as `bandmate backing` writes them (`backing_stems`): balanced to the style's
authored mix levels (`jobs.backing.balance_stems`), the arrangement's intended balance. Each
trial offsets every stem's gain by a random amount within ±12 dB (seeded) and mixes the offset
stems three ways:

- automix: `bandmate.mix.automix.automix` with its defaults; a stem's level is its loudness in the
  mix as the report gives it (after every stage but the bus compressor);
- plain sum: the offset stems as they are;
- equal loudness: every stem normalised to the same integrated loudness.

A stem's level error is its integrated loudness relative to the loudest stem of its mix, less the
same in the original rendering (dB); silent stems are left out. The table gives the median and
the worst absolute error per style and over everything (targets: median ≤ 1.5 dB, worst ≤ 4 dB),
and automix's time against the audio's duration. It prints the figures and asserts nothing.

    .venv/bin/python bench/mix.py [--styles pop rock] [--trials 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from importlib import resources

import numpy as np

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.io.audio import Audio
from bandmate.jobs.backing import balance_stems
from bandmate.mix.automix import automix
from bandmate.mix.meter import measure_loudness
from bandmate.render import render_stems, stem_filenames

CHART = "| C | C | F | F | Am | Am | Dm | G | C | F | G | C |"


def all_styles() -> list[str]:
    folder = resources.files("bandmate.data") / "styles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def backing_stems(chart: str, style_name: str, seed: int) -> tuple[list[str], list[Audio]]:
    """The stem files `bandmate backing` writes for `chart` (no intro or ending): names, audio."""
    style = load_style(style_name)
    score = backing(chart, style=style, seed=seed, intro=False, ending=False)
    levels = [style.part(t.name).level_db for t in score.tracks]
    stems, _ = balance_stems(render_stems(score), levels)
    return stem_filenames([t.name for t in score.tracks]), stems


def relative(levels: np.ndarray) -> np.ndarray:
    return levels - np.nanmax(levels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="*", default=None)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    styles = args.styles or all_styles()
    errors: dict[str, list[float]] = {"automix": [], "plain sum": [], "equal loudness": []}
    mix_seconds = audio_seconds = 0.0
    header = f"{'style':<18} {'stems':>5}  {'automix med/worst':>18}  {'sum med/worst':>14}  "
    print(header + f"{'equal med/worst':>16}  {'mix s':>6}")
    start = time.perf_counter()
    for style in styles:
        names, stems = backing_stems(CHART, style, args.seed)
        original = np.array(
            [measure_loudness(s).integrated_lufs or np.nan for s in stems], dtype=float
        )
        live = np.isfinite(original)
        want = relative(original)
        per_style: dict[str, list[float]] = {k: [] for k in errors}
        style_seconds = 0.0
        for _ in range(args.trials):
            offsets = rng.uniform(-12, 12, len(stems))
            given = [
                (n, Audio(s.samples * 10 ** (o / 20), s.sample_rate))
                for n, s, o in zip(names, stems, offsets, strict=True)
            ]
            t0 = time.perf_counter()
            _, report = automix(given)
            style_seconds += time.perf_counter() - t0
            audio_seconds += stems[0].duration_seconds
            after = np.array([s.loudness_after_lufs or np.nan for s in report.stems], dtype=float)
            got = {
                "automix": relative(after),
                "plain sum": relative(original + offsets),
                "equal loudness": np.zeros(len(stems)),
            }
            for key, levels in got.items():
                per_style[key].extend(np.abs(levels - want)[live])
        mix_seconds += style_seconds
        cells = []
        for key, values in per_style.items():
            errors[key].extend(values)
            cells.append(f"{np.median(values):5.1f} / {np.max(values):4.1f}")
        print(
            f"{style:<18} {int(live.sum()):>5}  {cells[0]:>18}  {cells[1]:>14}  {cells[2]:>16}  "
            f"{style_seconds:6.1f}"
        )
    cells = [f"{np.median(v):5.2f} / {np.max(v):4.1f}" for v in errors.values()]
    n = len(errors["automix"])
    print(f"{'all (' + str(n) + ' stems)':<24} {cells[0]:>18}  {cells[1]:>14}  {cells[2]:>16}")
    print(
        f"targets: median <= 1.5 dB, worst <= 4 dB; automix {mix_seconds:.1f} s for "
        f"{audio_seconds:.0f} s of audio ({audio_seconds / mix_seconds:.0f}x real time); "
        f"total {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
