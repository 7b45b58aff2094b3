"""`bandmate mix`: stems to a balanced stereo mix with headroom for mastering."""

from __future__ import annotations

import argparse
import shlex


def add_parser(sub) -> None:
    p = sub.add_parser(
        "mix",
        help="mix stems: balance by role, high-pass, masking cuts, compression, pan, headroom",
        description="Mix a folder of stems (as `bandmate backing` writes) or stem files into one "
        "stereo mix: each stem's role from its name or sound, gain to the role's target "
        "loudness relative to the loudest element, high-pass, gentle cuts where two stems mask "
        "each other, light compression, pan by role, gentle bus compression, and headroom for "
        "mastering (about -20 LUFS, true peak at most -3 dBTP).",
    )
    p.add_argument(
        "stems", nargs="+", help="a folder of stems, or stem files (WAV, FLAC, AIFF, MP3 or Ogg)"
    )
    p.add_argument("-o", "--output", required=True, help="the mix to write (.wav or .flac)")
    p.add_argument("--report", metavar="PNG", help="write a chart of the levels before and after")
    p.add_argument("--json", metavar="JSON", help="write what was done to each stem as JSON")
    p.add_argument(
        "--role",
        action="append",
        default=[],
        type=_assignment("--role", "a role", "vocal"),
        metavar="STEM=ROLE",
        help="give a stem's role when its name or sound misleads (drums, bass, keys, guitar, "
        "pad, lead or vocal; a vocal is never guessed from the sound); STEM is its file name, "
        "with or without the suffix and track number; repeat for more stems",
    )
    p.add_argument(
        "--level",
        action="append",
        default=[],
        type=_assignment("--level", "a level in dB", "-6", float),
        metavar="STEM=DB",
        help="set a stem's level in dB under the loudest element (0 for the loudest, -6 for 6 dB "
        "under it) instead of the balance model's; the other stems keep the model's balance, "
        "the loudest of them at 0 unless a stem is given 0; STEM may name a part made of several "
        "stems: drums for a kit given as its pieces, keys for 'Keys L' and 'Keys R'; repeat for "
        "more stems",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(run=run)


def _assignment(option: str, what: str, sample: str, convert=str):
    """An argparse type for STEM=VALUE: (stem, converted value). A value without a stem, or one
    `convert` refuses, is said with the form it takes (`what`, and an example of `option` with
    the `sample` value): argparse's own "invalid STEM=VALUE value: 'drums'" did not say what
    was missing."""

    def parse(text: str):
        stem, equals, value = text.rpartition("=")
        if not equals:  # "--level bass": a stem and no value
            raise argparse.ArgumentTypeError(
                f"{text!r} gives no {what.removeprefix('a ')}; write it as {option} "
                f"{shlex.quote(f'{text}={sample}')}"
            )
        if not stem.strip():
            raise argparse.ArgumentTypeError(
                f"{text!r} names no stem; give the stem, '=' and {what}, as in "
                f"{option} {shlex.quote(f'Take 3={sample}')}"
            )
        try:
            return stem, convert(value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{value.strip()!r} for {stem!r} is not {what}; give it as in "
                f"{option} {shlex.quote(f'{stem}={sample}')}"
            ) from None

    return parse


def run(args) -> int:
    from bandmate.io.audio import display_name
    from bandmate.io.files import write_text_atomic
    from bandmate.mix.automix import AutomixConfig, automix_files, stem_rows, write_automix_png
    from bandmate.mix.report import check_report_outputs
    from bandmate.progress import progress_bar

    config = AutomixConfig(roles=_once(args.role, "role"), levels=_once(args.level, "level"))
    extras = check_report_outputs(args.output, args.report, args.json)
    with progress_bar("Mixing") as progress:
        report = automix_files(
            args.stems,
            args.output,
            config=config,
            force=args.force,
            extra_outputs=extras,
            progress=progress,
        )
    if args.report:
        write_automix_png(report, args.report)
    if args.json:
        import json

        write_text_atomic(args.json, json.dumps(report.to_dict(), indent=2) + "\n")
    rows = stem_rows(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip())
    for note in report.notes:
        print(note)
    if report.mix_lufs is None:  # (every stem silent; the notes say so)
        print("mix: silent")
    else:
        print(f"mix: {report.mix_lufs} LUFS, true peak {report.mix_true_peak_dbtp} dBTP")
    written = [args.output, args.report, args.json]  # (the charts and JSON too: said nowhere)
    print("wrote " + ", ".join(display_name(path) for path in written if path))
    return 0


def _once(pairs, what: str) -> dict:
    """`--role`/`--level` pairs as a mapping; a stem named twice is a mistake."""
    from bandmate.errors import UserError

    out = {}
    for stem, value in pairs:
        if stem in out:
            raise UserError(f"--{what} is given twice for {stem!r}; give it once.")
        out[stem] = value
    return out
