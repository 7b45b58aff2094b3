"""`bandmate jam`: a band that follows the player, live or on a recorded performance.

Where the player comes from, one of: `--in PORT` (a MIDI input port), `--virtual` (virtual MIDI
ports a DAW or keyboard app connects to), `--websocket [HOST:]PORT` (the browser), or
`--simulate PERFORMANCE.mid` (a recording, played into the band with its own timing).
Where the band goes: `--out PORT` (a MIDI output port), `--synth` (FluidSynth, the default for
a live input without `--out`), back over the WebSocket, or (simulated) into the session file.
"""

from __future__ import annotations

from bandmate.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "jam",
        help="play along with a player: a band that follows their chords and tempo",
        description="Live accompaniment as an arranger keyboard plays it: the band (a style from "
        "`bandmate styles`) follows the chords the player holds and the tempo they play at; "
        "--play adds or swaps in a call-and-response voice (the melody model answers each "
        "phrase) or a four-part chorale under the player's melody. Play live from a MIDI port "
        "(--in, or --virtual ports), from the browser (--websocket), or give a recorded "
        "performance with --simulate, which plays it into the band with its own timing (as "
        "fast as possible, or in real time with --realtime). The session file has the "
        "player's notes on a track named Player and each part on its own track. Live sessions "
        "run until Ctrl-C or --seconds.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--simulate", metavar="PERFORMANCE.mid", help="play this recorded performance into the band"
    )
    source.add_argument(
        "--in", dest="in_port", metavar="PORT", help="the MIDI input port to follow"
    )
    source.add_argument(
        "--virtual",
        action="store_true",
        help="create virtual MIDI ports 'bandmate in' and 'bandmate out' (ALSA) to connect to",
    )
    source.add_argument(
        "--websocket",
        metavar="[HOST:]PORT",
        help="follow a browser over a WebSocket on this port (host 127.0.0.1 unless given)",
    )
    source.add_argument(
        "--list-ports", action="store_true", help="list the MIDI input and output ports and stop"
    )
    sink = p.add_mutually_exclusive_group()
    sink.add_argument("--out", dest="out_port", metavar="PORT", help="the MIDI output port")
    sink.add_argument(
        "--synth",
        action="store_true",
        help="play the band on the built-in FluidSynth synth (the default for live input)",
    )
    p.add_argument(
        "--driver",
        help="the synth's audio driver (pulseaudio, alsa, jack, ...; default: FluidSynth's)",
    )
    p.add_argument("--soundfont", help="the synth's SoundFont (default: the system's GM one)")
    p.add_argument("--style", default="pop", help="the band's style (default: pop)")
    p.add_argument(
        "--play",
        default="band",
        metavar="PARTS",
        help="what answers the player, comma-separated: band (the style), answer (call and "
        "response from the melody model), chorale (three voices under the melody); "
        "default: band",
    )
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
        help="the tempo to start from in BPM (default: the performance's, or the style's)",
    )
    p.add_argument(
        "--meter",
        metavar="N/D",
        help="the player's time signature, such as 3/4 or 7/8; the band plays the style's "
        "groove in it (default: the performance's, or the style's)",
    )
    p.add_argument(
        "--click", action="store_true", help="keep a fixed tempo instead of following the player"
    )
    p.add_argument("--realtime", action="store_true", help="play the performance in real time")
    p.add_argument("--seconds", type=float, help="end a live session after this long")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same band")
    p.add_argument(
        "-o",
        "--session",
        dest="out",
        metavar="SESSION.mid",
        help="write the session here (needed with --simulate)",
    )
    p.add_argument(
        "--latency-report",
        metavar="FILE.json",
        help="write decision latency (p50_ms, p99_ms, max_ms) and event counts here",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.list_ports:
        return _list_ports()
    from pathlib import Path

    from bandmate.io.files import check_outputs

    live = bool(args.in_port or args.virtual or args.websocket)
    if not live and not args.simulate:
        raise UserError(
            "Say where the player is: --in PORT, --virtual, --websocket PORT, or a recorded "
            "performance with --simulate PERFORMANCE.mid (--list-ports lists the MIDI ports)."
        )
    if args.simulate and not args.out:
        raise UserError("Give the session file to write with -o SESSION.mid.")
    if args.simulate and (args.out_port or args.synth):
        raise UserError("--out and --synth are for live sessions; --simulate writes -o only.")
    if args.seconds is not None and not args.seconds > 0:  # also refuses nan
        raise UserError(f"--seconds must be more than 0, got {args.seconds:g}.")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, got {args.seed}.")
    outputs = [p for p in (args.out, args.latency_report) if p]
    if len(outputs) == 2 and Path(outputs[0]).resolve() == Path(outputs[1]).resolve():
        # the report would be written over the session
        raise UserError("-o and --latency-report name the same file; give each its own.")
    check_outputs(outputs, [args.simulate] if args.simulate else [], force=args.force)
    engine_args = _engine_args(args)
    args.play = ",".join(engine_args["play"])  # as the report names it: "band,,chorale" -> two
    if args.simulate:
        return _simulate(args, engine_args)
    return _live(args, engine_args)


def _engine_args(args) -> dict:
    from bandmate.arrange.backing import check_tempo
    from bandmate.arrange.style import load_style
    from bandmate.live.voices import PLAY_CHOICES
    from bandmate.theory.chart import read_meter
    from bandmate.theory.pitch import name_to_midi

    try:
        split_note = name_to_midi(args.split_note)
    except ValueError:
        split_note = None
    if split_note is None or not 1 <= split_note <= 127:  # C-1 (0) leaves no left hand
        raise UserError(
            f"--split-note {args.split_note!r} is not a key from C#-1 to G9; write a note such "
            "as G3 or F#3."
        )
    if args.tempo is not None:
        check_tempo(args.tempo)
    play = tuple(dict.fromkeys(p.strip() for p in args.play.split(",") if p.strip()))
    unknown = [p for p in play if p not in PLAY_CHOICES]
    if unknown or not play:
        raise UserError(
            f"--play {args.play!r} names {', '.join(unknown) or 'nothing'}; give one or more of "
            f"{', '.join(PLAY_CHOICES)}, comma-separated."
        )
    return {
        "style": load_style(args.style),
        "meter": read_meter(args.meter, "--meter") if args.meter else None,
        "mode": args.mode,
        "split_note": split_note,
        "follow": not args.click,
        "seed": args.seed,
        "play": play,
    }


def _simulate(args, engine_args: dict) -> int:
    from bandmate.arrange.backing import TEMPO_RANGE_BPM
    from bandmate.live.engine import Engine
    from bandmate.live.session import read_performance, simulate

    performance = read_performance(args.simulate)
    low, high = TEMPO_RANGE_BPM  # a file's tempo beyond them starts the band at the nearest
    tempo = args.tempo or min(max(performance.tempo_bpm, low), high)
    if engine_args["meter"] is None and performance.time_signatures:  # the band plays in it
        first = performance.time_signatures[0]
        engine_args = engine_args | {"meter": (first.numerator, first.denominator)}
    engine = Engine(tempo_bpm=tempo, **engine_args)
    result = simulate(performance.events, engine, realtime=args.realtime)
    _write_session(
        args,
        result,
        performance.events,
        ticks_per_beat=performance.ticks_per_beat,
        tempos=performance.tempos,
        # the band's meter when --meter overrode the performance's
        time_signatures=None if args.meter else performance.time_signatures,
        extra={"file_events_ignored": performance.ignored},
    )
    return 0


def _live(args, engine_args: dict) -> int:
    import sys

    from bandmate.live.engine import Engine
    from bandmate.live.session import play_live
    from bandmate.live.transport import session_clock

    engine = Engine(tempo_bpm=args.tempo, **engine_args)
    # one clock for the input's stamps and the band's times, whatever setting up took
    clock = session_clock()
    transport, where = _transport(args, clock)
    recording = bool(args.out or args.latency_report)

    def started() -> None:
        end = f" for {args.seconds:g} s" if args.seconds else "; Ctrl-C to stop"
        print(f"bandmate jam: listening {where}{end}", file=sys.stderr, flush=True)

    session = play_live(
        engine, transport, clock=clock, seconds=args.seconds, record=recording, on_start=started
    )
    if recording:
        _write_session(args, session.result(), session.inputs)
    else:
        report = engine.report()
        print(
            f"played {report['bars_played']} bars; decision latency p50 {report['p50_ms']:.2f} "
            f"ms, p99 {report['p99_ms']:.2f} ms, max {report['max_ms']:.2f} ms"
        )
        _say_why_the_band_was_silent(args, engine)
    return 0


def _transport(args, clock):
    """(the transport, a phrase saying where the player and the band are)."""
    from bandmate.live.transport import Duplex

    if args.websocket:
        from bandmate.live.websocket import WebSocketTransport, parse_address

        host, port = parse_address(args.websocket)
        inbound = WebSocketTransport(host, port, clock)
        where = f"on {inbound.url}"
        if not args.out_port and not args.synth:
            return inbound, where + " (the band goes back to the browser)"
    else:
        from bandmate.live.ports import MidiPortTransport

        inbound = MidiPortTransport(args.in_port, args.out_port, virtual=args.virtual, clock=clock)
        where = "on virtual port 'bandmate in'" if args.virtual else f"to {args.in_port!r}"
        if args.out_port or (args.virtual and not args.synth):
            return inbound, where
    try:
        if args.out_port:
            from bandmate.live.ports import MidiPortTransport

            return Duplex(inbound, MidiPortTransport(None, args.out_port, clock=clock)), where
        from bandmate.live.synth import SynthTransport

        synth = SynthTransport(args.soundfont, driver=args.driver or "default")
    except BaseException:  # the output could not be opened: close the input again
        inbound.close()
        raise
    return Duplex(inbound, synth), where + ", playing on the built-in synth"


def _write_session(args, result, events, *, extra: dict | None = None, **clock) -> None:
    import json

    from bandmate.io.files import write_text_atomic
    from bandmate.io.midi import write_midi
    from bandmate.live.session import session_score

    report = result.report() | {
        "style": result.engine.style.name,
        "mode": args.mode,
        "play": list(args.play.split(",")),
        **(extra or {}),
    }
    parts = len(result.engine.parts)
    if args.out:
        if not events:
            raise UserError("The player played nothing, so there is no session to write.")
        write_midi(session_score(result, events, **clock), args.out)
    if args.latency_report:
        write_text_atomic(args.latency_report, json.dumps(report, indent=2) + "\n")
    where = f"wrote {args.out}: " if args.out else ""
    print(
        f"{where}{parts} parts over {result.end_s:.1f} s; decision latency p50 "
        f"{report['p50_ms']:.2f} ms, p99 {report['p99_ms']:.2f} ms, max {report['max_ms']:.2f} ms"
    )
    _say_why_the_band_was_silent(args, result.engine)


# how a chord is played in each mode, for the note on a band that never came in
CHORD_HOW = {
    "full": "strike three or more keys of a chord together",
    "split": "hold three or more keys of a chord below --split-note {split}",
    "single": "press a key below --split-note {split}",
}


def _say_why_the_band_was_silent(args, engine) -> None:
    """The band waits for the first chord (synchro start); a session in which none came (a
    melody alone, a left hand of single notes) has silent band tracks, and says why."""
    import sys

    if engine.lanes and engine.chord is None:
        how = CHORD_HOW[args.mode].format(split=args.split_note)
        print(
            f"bandmate jam: the band never came in, as no chord was heard; {how} (--mode "
            f"{args.mode}) to start it.",
            file=sys.stderr,
        )


def _list_ports() -> int:
    from bandmate.live.ports import list_ports

    inputs, outputs = list_ports()
    print("MIDI inputs:" if inputs else "MIDI inputs: none")
    for name in inputs:
        print(f"  {name}")
    print("MIDI outputs:" if outputs else "MIDI outputs: none")
    for name in outputs:
        print(f"  {name}")
    return 0
