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
- equal loudness: every stem normalised to the same integrated loudness;
- unnamed: automix again, the stems named "Audio 1.wav"... as a DAW exports unnamed tracks, so
  that each stem's role comes from its sound (`detect_role_from_content`); the count of stems
  whose sound gives the role their name does is printed after the table.

A stem's level error is its integrated loudness relative to the loudest stem of its mix, less the
same in the original rendering (dB); silent stems are left out. The table gives the median and
the worst absolute error per style and over everything (targets: median ≤ 1.5 dB, worst ≤ 4 dB),
and automix's time against the audio's duration.

Kits in pieces: the same tracks with the drum part rendered piece by piece (kick, snare, hats,
cymbals, toms, and the rest as a percussion stem), as sessions often deliver a kit, the pieces
offset like the other stems. What
matters is where the kit as a whole lands: the pieces summed at the gains automix gave them,
against the bass, compared with the kit stem against the bass in the original rendering. Beside
it, the same pieces under names that do not say they are a kit's ("piece-1"...), given the
drums role, so automix balances each as a stem of its own (as it did before `mix.elements`).

It prints the figures and asserts nothing.

    .venv/bin/python bench/mix.py [--styles pop rock] [--trials 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from importlib import resources

import numpy as np

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.io.audio import Audio
from bandmate.jobs.backing import balance_stems
from bandmate.mix.automix import AutomixConfig, automix
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


PIECES = {  # a kit's pieces by General MIDI drum note
    "kick": {35, 36},
    "snare": {37, 38, 39, 40},
    "hats": {42, 44, 46},
    "cymbals": {49, 51, 52, 53, 55, 57, 59},
    "toms": {41, 43, 45, 47, 48, 50},
}


def kit_in_pieces(chart: str, style_name: str, seed: int):
    """(pieces as (name, Audio), the other stems as (name, Audio), the kit's level over the bass
    in the original rendering), with the pieces at the kit stem's gain."""
    style = load_style(style_name)
    score = backing(chart, style=style, seed=seed, intro=False, ending=False)
    levels = [style.part(t.name).level_db for t in score.tracks]
    stems, gains = balance_stems(render_stems(score), levels)
    drums = next(k for k, t in enumerate(score.tracks) if t.is_drum)
    bass = next(k for k, t in enumerate(score.tracks) if t.role.value == "bass")
    kit = score.tracks[drums]
    in_pieces = set().union(*PIECES.values())
    tracks = [
        replace(kit, name=name, notes=tuple(n for n in kit.notes if n.pitch in pitches))
        for name, pitches in PIECES.items()
    ]
    rest = tuple(n for n in kit.notes if n.pitch not in in_pieces)
    tracks.append(replace(kit, name="percussion", notes=rest))  # congas, cowbell, shaker...
    tracks = [t for t in tracks if t.notes]
    gain = 10 ** (gains[drums] / 20)
    rendered = render_stems(score.replace(tracks=tuple(tracks)))
    pieces = [
        (t.name, Audio(a.samples * gain, a.sample_rate))
        for t, a in zip(tracks, rendered, strict=True)
    ]
    others = [
        (f"{t.name.lower()}.wav", s)
        for k, (t, s) in enumerate(zip(score.tracks, stems, strict=True))
        if k != drums
    ]
    truth = measure_loudness(stems[drums]).integrated_lufs
    truth -= measure_loudness(stems[bass]).integrated_lufs
    return pieces, others, [t.name for t in score.tracks if t is not kit].index("Bass"), truth


def kit_over_bass(pieces, others, bass, offsets, names) -> float:
    """Where automix puts the kit as a whole over the bass (LU), the pieces named `names`."""
    all_names = [*names, *(n for n, _ in others)]
    given = [
        (name, Audio(a.samples * 10 ** (o / 20), a.sample_rate))
        for name, (_, a), o in zip(all_names, [*pieces, *others], offsets, strict=True)
    ]
    roles = {name: "drums" for name in names}
    _, report = automix(given, config=AutomixConfig(roles=roles))
    kit = sum(
        a.samples * 10 ** (s.gain_db / 20)
        for (_, a), s in zip(given[: len(pieces)], report.stems, strict=False)
    )
    rate = pieces[0][1].sample_rate
    bass_after = report.stems[len(pieces) + bass].loudness_after_lufs
    return measure_loudness(Audio(kit, rate)).integrated_lufs - bass_after


def loudness_after(report) -> np.ndarray:
    return np.array([s.loudness_after_lufs or np.nan for s in report.stems], dtype=float)


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
    errors: dict[str, list[float]] = {k: [] for k in ("automix", "unnamed", "sum", "equal")}
    mix_seconds = audio_seconds = 0.0
    roles_right = roles_read = 0
    header = f"{'style':<18} {'stems':>5}  {'automix med/worst':>18}  {'unnamed med/worst':>18}  "
    print(header + f"{'sum med/worst':>14}  {'equal med/worst':>16}  {'mix s':>6}")
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
            unnamed = [(f"Audio {k + 1}.wav", a) for k, (_, a) in enumerate(given)]
            _, blind = automix(unnamed)
            for named, guessed in zip(report.stems, blind.stems, strict=True):
                roles_right += named.role == guessed.role
                roles_read += 1
            got = {
                "automix": relative(loudness_after(report)),
                "unnamed": relative(loudness_after(blind)),
                "sum": relative(original + offsets),
                "equal": np.zeros(len(stems)),
            }
            for key, levels in got.items():
                per_style[key].extend(np.abs(levels - want)[live])
        mix_seconds += style_seconds
        cells = []
        for key, values in per_style.items():
            errors[key].extend(values)
            cells.append(f"{np.median(values):5.1f} / {np.max(values):4.1f}")
        print(
            f"{style:<18} {int(live.sum()):>5}  {cells[0]:>18}  {cells[1]:>18}  {cells[2]:>14}  "
            f"{cells[3]:>16}  {style_seconds:6.1f}"
        )
    cells = [f"{np.median(v):5.2f} / {np.max(v):4.1f}" for v in errors.values()]
    n = len(errors["automix"])
    print(
        f"{'all (' + str(n) + ' stems)':<24} {cells[0]:>18}  {cells[1]:>18}  {cells[2]:>14}  "
        f"{cells[3]:>16}"
    )
    print(f"unnamed: roles from sound as from name: {roles_right} of {roles_read}")
    print(
        f"targets: median <= 1.5 dB, worst <= 4 dB (automix); automix {mix_seconds:.1f} s for "
        f"{audio_seconds:.0f} s of audio ({audio_seconds / mix_seconds:.0f}x real time); "
        f"total {time.perf_counter() - start:.1f} s"
    )
    print("\nkits in pieces: the kit over the bass (LU), error against the original rendering")
    print(f"{'style':<18} {'truth':>6}  {'as one kit':>10}  {'each its own':>12}")
    as_kit, alone = [], []
    for style in styles:
        pieces, others, bass, truth = kit_in_pieces(CHART, style, args.seed)
        offsets = rng.uniform(-12, 12, len(pieces) + len(others))
        names = [f"{name}.wav" for name, _ in pieces]
        grouped = kit_over_bass(pieces, others, bass, offsets, names)
        single = kit_over_bass(pieces, others, bass, offsets,
                               [f"piece-{k}.wav" for k in range(len(pieces))])  # fmt: skip
        as_kit.append(abs(grouped - truth))
        alone.append(abs(single - truth))
        print(f"{style:<18} {truth:+6.1f}  {grouped - truth:+10.1f}  {single - truth:+12.1f}")
    print(
        f"{'all':<18} {'':>6}  {np.median(as_kit):5.1f} / {max(as_kit):3.1f}  "
        f"{np.median(alone):6.1f} / {max(alone):3.1f}   (median / worst |error|)"
    )


if __name__ == "__main__":
    main()
