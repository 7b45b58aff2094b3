"""`bandmate analyze`: loudness (EBU R 128), peaks, dynamics, octave balance and stereo image."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="measure an audio file: loudness, true peak, loudness range, spectrum, stereo",
        description="Measure a WAV or FLAC file as a mix engineer would: integrated, maximum "
        "short-term and momentary loudness (ITU-R BS.1770-4, EBU R 128), loudness range (EBU "
        "Tech 3342), sample and true peak, PLR, crest factor, the share of energy in each "
        "octave band from 31.5 Hz to 16 kHz, and stereo correlation and width.",
    )
    p.add_argument("file", help="the audio file to measure (mono or stereo)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print every measurement as JSON (with the momentary and short-term series, one "
        "value per 100 ms; null where a value cannot be measured) instead of a table",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.io.audio import display_name
    from bandmate.mix.analysis import analysis_rows, analyze_file

    analysis = analyze_file(args.file)
    if args.json:
        import json

        print(json.dumps({"file": display_name(args.file), **analysis.to_dict()}, indent=2))
        return 0
    rows = [("file", display_name(args.file)), *analysis_rows(analysis)]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
