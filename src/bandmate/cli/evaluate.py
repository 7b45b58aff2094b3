"""`bandmate evaluate`: the objective quality report of generated music against real music."""

from __future__ import annotations

import sys

# as in bandmate.compose.evaluate, kept here so that `bandmate --help` imports no NumPy
DEFAULT_MAX_ITEMS = 100
HELD_OUT_SPLITS = ("valid", "test")

FEATURE_LABELS = {
    "pitch_class_histogram": "pitch-class histogram",
    "pitch_class_transitions": "pitch-class transitions",
    "pitch_range": "pitch range",
    "interval_histogram": "interval histogram",
    "ioi_histogram": "inter-onset intervals",
    "note_length_histogram": "note-length histogram",
    "note_count": "number of notes",
    "pitch_count": "number of pitches",
}
MELODY_ROWS = (
    ("chord_tone_ratio", "chord-tone ratio"),
    ("strong_beat_chord_tone_ratio", "chord-tone ratio, strong beats"),
    ("scale_consistency", "scale consistency"),
    ("groove_consistency", "groove consistency"),
)
HARMONY_ROWS = (
    ("parallels_per_100_beats", "parallel 5ths+8ves / 100 beats"),
    ("parallel_fifths", "parallel fifths"),
    ("parallel_octaves", "parallel octaves"),
    ("crossings", "voice crossings"),
    ("crossings_per_100_beats", "voice crossings / 100 beats"),
    ("range_violations", "notes out of SATB range"),
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure generated music against real music (MGEval features, chords, part-writing)",
        description="Compare the MIDI, MusicXML and ABC files under GENERATED_DIR with held-out "
        "real music: per MGEval feature (pitch classes, range, intervals, rhythm, note lengths) "
        "the overlap area (1 is best) and KL divergence (0 is best) of the distances; the "
        "melodies' chord-tone ratio, scale and groove consistency; and, for four-part pieces, "
        "parallel fifths and octaves, voice crossings and notes out of SATB range.",
    )
    p.add_argument("generated", metavar="GENERATED_DIR", help="the folder of generated pieces")
    p.add_argument(
        "--against",
        required=True,
        metavar="COLLECTION|DIR",
        help="what to compare with: a corpus collection (see `bandmate corpus stats`), whose "
        "held-out split is read, or a folder of music files",
    )
    p.add_argument(
        "--split",
        choices=HELD_OUT_SPLITS,
        default="test",
        help="the collection's held-out split (default: test)",
    )
    p.add_argument(
        "--max-items",
        type=int,
        default=DEFAULT_MAX_ITEMS,
        metavar="N",
        help=f"compare with at most N reference pieces (default {DEFAULT_MAX_ITEMS})",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    import json

    from bandmate.compose.evaluate import evaluate_folder
    from bandmate.progress import progress_bar

    with progress_bar("Reading the reference") as progress:
        report = evaluate_folder(
            args.generated,
            args.against,
            split=args.split,
            max_items=args.max_items,
            progress=progress,
        )
    skipped = report["generated"]["skipped"]
    if skipped:
        print(
            f"bandmate evaluate: warning: skipped {len(skipped)} generated "
            f"{'file' if len(skipped) == 1 else 'files'} that could not be used:",
            file=sys.stderr,
        )
        for item in skipped:
            print(f"  {item['file']}: {item['reason']}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def format_report(report: dict) -> str:
    """The report as plain-text tables."""
    from bandmate.errors import counted

    gen, ref = report["generated"], report["reference"]
    lines = [
        f"Generated: {counted(gen['pieces'], 'piece')} ({gen['source']}); "
        f"reference: {counted(ref['pieces'], 'piece')} ({ref['source']}).",
        "",
        _table(
            ("FEATURE", "OVERLAP", "KL"),
            [
                (
                    FEATURE_LABELS.get(name, name),
                    _number(c["overlap_area"]),
                    _number(c["kl_divergence"]),
                )
                for name, c in report["features"].items()
            ],
        ),
        "",
    ]
    melody = report["melody"]
    lines.append(_side_by_side("MELODY", MELODY_ROWS, melody["generated"], melody["reference"]))
    harmony = report["harmony"]
    if harmony is not None:
        lines += [
            "",
            _side_by_side("PART-WRITING", HARMONY_ROWS, harmony["generated"], harmony["reference"]),
        ]
    return "\n".join(lines)


def _side_by_side(title: str, rows, generated: dict, reference: dict | None) -> str:
    reference = reference or {}
    return _table(
        (title, "GENERATED", "REFERENCE"),
        [(label, _number(generated.get(key)), _number(reference.get(key))) for key, label in rows],
    )


def _number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]

    def line(row) -> str:
        first = f"{row[0]:<{widths[0]}}"
        rest = [f"{cell:>{w}}" for cell, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    return "\n".join(line(r) for r in (header, *rows))
