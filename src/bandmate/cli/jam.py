"""`bandmate jam`: a band that follows the player; for now, a recorded performance simulated."""

from __future__ import annotations

from bandmate.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "jam",
        help="play along with a player: a band that follows their chords and tempo",
        description="Live accompaniment as an arranger keyboard plays it: the band (a style from "
        "`bandmate styles`) follows the chords the player holds and the tempo they play at. "
        "With --simulate, a recorded performance is played into the band with its own timing "
        "(as fast as possible, or in real time with --realtime) and the session is written to "
        "a MIDI file: the player's notes on a track named Player, each part of the band on its "
        "own track. Live MIDI ports are not available yet.",
    )
    p.add_argument(
        "--simulate",
        metavar="PERFORMANCE.mid",
        help="play this recorded performance into the band (needed for now)",
    )
    p.add_argument("--style", default="pop", help="the band's style (default: pop)")
    p.add_argument(
        "--mode",
        choices=("full", "split", "single"),
        default="split",
        help="how chords are read: full (three or more keys struck together anywhere), split "
        "(the keys below the split note, default), single (single finger: a key is major, add a "
        "black key below for minor, a white key below for 7th, both for minor 7th)",
    )
    p.add_argument(
        "--split-note", default="G3", help="the lowest right-hand key (default G3, MIDI 55)"
    )
    p.add_argument(
        "--tempo",
        type=float,
        help="the tempo to start from in BPM (default: the performance file's tempo)",
    )
    p.add_argument(
        "--click", action="store_true", help="keep a fixed tempo instead of following the player"
    )
    p.add_argument("--realtime", action="store_true", help="play the performance in real time")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same band")
    p.add_argument("-o", "--out", required=True, metavar="SESSION.mid", help="the session file")
    p.add_argument(
        "--latency-report",
        metavar="FILE.json",
        help="write decision latency (p50_ms, p99_ms, max_ms) and event counts here",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    import json

    from bandmate.arrange.style import load_style
    from bandmate.io.files import check_outputs, write_text_atomic
    from bandmate.io.midi import write_midi
    from bandmate.live.engine import Engine
    from bandmate.live.session import read_performance, session_score, simulate
    from bandmate.theory.pitch import name_to_midi

    if not args.simulate:
        raise UserError(
            "Live MIDI ports are not available yet; give a recorded performance with "
            "--simulate PERFORMANCE.mid."
        )
    outputs = [args.out] + ([args.latency_report] if args.latency_report else [])
    check_outputs(outputs, [args.simulate], force=args.force)
    try:
        split_note = name_to_midi(args.split_note)
    except ValueError:
        raise UserError(
            f"Unknown split note {args.split_note!r}; write a note such as G3 or F#3."
        ) from None
    if args.tempo is not None and not 20 <= args.tempo <= 400:
        raise UserError(f"Tempo {args.tempo:g} BPM is outside 20-400; give a tempo in that range.")
    style = load_style(args.style)
    performance = read_performance(args.simulate)
    tempo = args.tempo or min(max(performance.tempo_bpm, 20.0), 400.0)
    engine = Engine(
        style,
        mode=args.mode,
        split_note=split_note,
        tempo_bpm=tempo,
        follow=not args.click,
        seed=args.seed,
    )
    result = simulate(performance.events, engine, realtime=args.realtime)
    score = session_score(
        result,
        performance.events,
        ticks_per_beat=performance.ticks_per_beat,
        tempos=performance.tempos,
        time_signatures=performance.time_signatures,
    )
    write_midi(score, args.out)
    report = result.report() | {
        "style": style.name,
        "mode": args.mode,
        "file_events_ignored": performance.ignored,
    }
    if args.latency_report:
        write_text_atomic(args.latency_report, json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {args.out}: {len(score.tracks) - 1} parts over {result.end_s:.1f} s; decision "
        f"latency p50 {report['p50_ms']:.2f} ms, p99 {report['p99_ms']:.2f} ms, "
        f"max {report['max_ms']:.2f} ms"
    )
    return 0
