"""Live accompaniment: decision latency, output jitter, following accuracy and an input flood.

Targets (issue 8, on the 2-core reference machine):
- decision latency over a 10-minute simulated performance: p99 <= 2 ms, max <= 10 ms;
- output jitter against the timestamps in real time on the in-process transport: p99 <= 1 ms;
- following, on performances made from charts (chords and a melody, +-8% tempo drift, +-20 ms
  noise): a chord change recognized within one beat in >= 95% of changes; the band's harmony
  agrees with the player's chord on >= 90% of beats; tempo within 3% four beats after a change;
- 10,000 input events per second for 10 s without falling behind or growing memory;
- sudden tempo jumps (a section taken 15-30% faster or slower at once): the band's beat back
  on the player's (within a tenth of a beat from then on) within two bars, and no re-lock on
  steady or swung players;
- player types (`players`), some steady (+-4% drift), some whose tempo moves (accelerando,
  ritardando, a final ritardando to 60% over 2 bars, rubato): the band's beat within a tenth
  of a beat of the player's, no re-lock (a bend, `live.tempo`, is not one).
It also plays the band with the chorale and answer voices in real time (latency and jitter with
the melody model answering in its worker process).

    nice .venv/bin/python bench/live.py [--minutes 10] [--realtime-seconds 60] [--style pop]
    nice .venv/bin/python bench/live.py --only jumps      # just the sudden jumps (a few seconds)
    nice .venv/bin/python bench/live.py --only latency    # just 1-2: simulated and real time
    nice .venv/bin/python bench/live.py --only players    # player types at 90-200 BPM
    nice .venv/bin/python bench/live.py --only players --players rubato  # tempo that moves
    nice .venv/bin/python bench/live.py --only players --player-seeds 24 --players swung
"""

from __future__ import annotations

import argparse
import bisect
import random
import statistics
import threading
import time

import numpy as np

from bandmate.arrange.voicing import allowed_pitch_classes
from bandmate.live.engine import Engine, gc_paused
from bandmate.live.events import InputEvent
from bandmate.live.performance import perform_chart
from bandmate.live.session import LiveSession, band_notes, simulate
from bandmate.live.transport import InProcessTransport, session_clock
from bandmate.score.model import Role

# 32 bars, two chords in some bars; triads, sevenths, sixths, sus and half-diminished
CHART = """
| C | Am7 | Dm7 | G7 | Em7 | A7 | Dm7 | G7 |
| F | Fm6 | C | A7 | Dm7 G7 | Em7 A7 | Dm7 G7 | C |
| Gm7 | C7 | Fmaj7 | F | Bm7b5 | E7 | Am | Am7 |
| D7 | D7sus4 | Dm7 | G7 | C Am7 | Dm7 G7 | C | G7sus4 G7 |
"""
TEMPO_BPM = 100.0


def fmt(stats: dict) -> str:
    return (
        f"p50 {stats['p50_ms']:.3f} ms, p99 {stats['p99_ms']:.3f} ms, max {stats['max_ms']:.3f} ms"
    )


def following(perf, result, tempo_log, style) -> dict:
    """Chord recognition within a beat, harmony agreement per beat, tempo after each step."""
    # chord changes: the engine's chord (by pitch classes) becomes the player's within a beat
    log = [(t, frozenset(c.pitch_classes())) for t, c in result.chords if c is not None]
    log_times = [t for t, _ in log]
    hit = 0
    for beat, chord, struck in perf.changes:
        period = 60 / perf.tempo_at_beat(min(int(beat), len(perf.beat_times) - 2))
        want = frozenset(chord.pitch_classes())
        i = bisect.bisect_left(log_times, struck - 0.25 * period)
        ok = i > 0 and log[i - 1][1] == want and log_times[i - 1] <= struck  # already there
        while not ok and i < len(log) and log_times[i] <= struck + period:
            ok = log[i][1] == want
            i += 1
        hit += ok
    # harmony: comping and pad notes sounding in the middle of each beat fit the player's chord
    parts = band_notes(result.outputs)
    harmony_parts = {p.name for p in style.parts if p.role in (Role.CHORDS, Role.PAD)}
    bass_parts = {p.name for p in style.parts if p.role == Role.BASS}
    harmony = [n for name in harmony_parts for n in parts.get(name, ())]
    bass = sorted(n for name in bass_parts for n in parts.get(name, ()))
    harmony.sort()
    onsets = [n[0] for n in harmony]
    agree = counted = 0
    first = perf.changes[0][0]
    beats = len(perf.beat_times) - 3
    for b in range(int(first) + 1, beats):
        chord = perf.chord_at(b + 0.5)
        if chord is None or chord.is_no_chord:
            continue
        mid = perf.time_of(b + 0.5)
        k = bisect.bisect_right(onsets, mid)
        sounding = [n for n in harmony[max(0, k - 40) : k] if n[1] > mid]
        if not sounding:
            continue
        counted += 1
        allowed = allowed_pitch_classes(chord)
        agree += all(n[2] % 12 in allowed for n in sounding)
    # bass: on each bar's first beat, the bass note starting near it is the chord's root
    bass_onsets = [n[0] for n in bass]
    per_bar = perf.meter[0] * 4 // perf.meter[1]
    roots = bars = 0
    for b in range(int(first) + per_bar, beats, per_bar):
        chord = perf.chord_at(b)
        if chord is None or chord.is_no_chord:
            continue
        t = perf.time_of(b)
        k = bisect.bisect_left(bass_onsets, t - 0.08)
        near = [n for n in bass[k : k + 4] if abs(n[0] - t) <= 0.08]
        bars += 1
        roots += any(n[2] % 12 == chord.root for n in near)
    # tempo four beats after each step
    times = [t for t, _ in tempo_log]
    within = 0
    errors = []
    for step in perf.tempo_steps:
        if step + 5 >= len(perf.beat_times) - 1:
            continue
        t = perf.beat_times[step + 4]
        i = bisect.bisect_right(times, t) - 1
        estimate = tempo_log[max(i, 0)][1]
        error = abs(estimate / perf.tempo_at_beat(step + 4) - 1)
        errors.append(error)
        within += error <= 0.03
    all_errors = []
    for b in range(8, beats, 2):
        i = bisect.bisect_right(times, perf.beat_times[b]) - 1
        if i >= 0:
            all_errors.append(abs(tempo_log[i][1] / perf.tempo_at_beat(b) - 1))
    return {
        "chord_changes": len(perf.changes),
        "recognized_within_beat": hit / len(perf.changes),
        "harmony_beats": counted,
        "harmony_agrees": agree / counted if counted else 0.0,
        "bass_root_on_one": roots / bars if bars else 0.0,
        "tempo_steps": len(errors),
        "tempo_within_3pct_after_4_beats": within / len(errors) if errors else 1.0,
        "tempo_error_worst_after_step": max(errors, default=0.0),
        "tempo_error_median_all_beats": statistics.median(all_errors) if all_errors else 0.0,
    }


def simulated(
    minutes: float,
    style: str,
    mode: str,
    seed: int,
    realtime: bool = False,
    play: tuple[str, ...] = ("band",),
    phrase_bars: int = 0,
):
    bar_s = 4 * 60 / TEMPO_BPM
    choruses = max(1, round(minutes * 60 / (32 * bar_s)))
    fingering = "single" if mode == "single" else "full"
    perf = perform_chart(
        CHART,
        tempo_bpm=TEMPO_BPM,
        choruses=choruses,
        fingering=fingering,
        phrase_bars=phrase_bars,
        seed=seed,
    )
    engine = Engine(style, mode=mode, tempo_bpm=TEMPO_BPM, seed=seed, play=play)
    tempo_log: list[tuple[float, float]] = []

    def observe(event: InputEvent, eng: Engine) -> None:
        tempo_log.append((event.time_s, eng.tempo_bpm))

    start = time.perf_counter()
    result = simulate(perf.events, engine, realtime=realtime, observe=observe)
    wall = time.perf_counter() - start
    return perf, result, tempo_log, wall, engine


def report_following(label: str, perf, result, tempo_log, engine) -> None:
    f = following(perf, result, tempo_log, engine.style)
    relocks = engine.beat.relocks
    print(
        f"  {label}: chord changes recognized within a beat {f['recognized_within_beat']:.1%} "
        f"of {f['chord_changes']} (target >= 95%); harmony agrees {f['harmony_agrees']:.1%} of "
        f"{f['harmony_beats']} beats (>= 90%); bass root on beat 1 {f['bass_root_on_one']:.1%}"
    )
    print(
        f"  {label}: tempo within 3% four beats after a step "
        f"{f['tempo_within_3pct_after_4_beats']:.0%} of {f['tempo_steps']} steps "
        f"(worst {f['tempo_error_worst_after_step']:.1%}); median tempo error over all beats "
        f"{f['tempo_error_median_all_beats']:.2%}; re-locks {relocks} (none wanted)"
    )


JUMP_FACTORS = (1.15, 0.85, 1.2, 0.8, 1.25, 0.75, 1.3, 0.7)


def recovery_bars(perf, beat_log, jump: int, until: int) -> float:
    """Bars from the jump at beat `jump` until the band's beat stays within a tenth of a beat
    of the player's up to beat `until` (inf when it never does)."""
    beats = np.arange(len(perf.beat_times))
    last_bad = None
    for time_s, band_beat in beat_log:
        true = float(np.interp(time_s, perf.beat_times, beats))
        if jump <= true < until and abs(band_beat - true) > 0.1:
            last_bad = true
    if last_bad is None:
        return 0.0
    if last_bad > until - 4:
        return float("inf")
    return (last_bad - jump) / perf.meter[0]


def jumps(style: str, seeds: int) -> None:
    """Each factor: the CHART's 32 bars at 100 BPM, the tempo jumping by it at bar 8 (no drift,
    +-20 ms), once a seed; then steady and swung players, for re-locks that should not be."""
    print(
        f"  {'jump':>6}  recovered within 2 bars   bars to recover (median, worst)   tempo "
        "error 2 bars on (median)   decision p50 / p99 ms"
    )
    for factor in JUMP_FACTORS:
        within, bars, errors, lat50, lat99 = 0, [], [], [], []
        for seed in range(1, seeds + 1):
            perf = perform_chart(CHART, tempo_bpm=TEMPO_BPM, drift=0.0,
                                 jumps=[(8, factor)], seed=seed)  # fmt: skip
            engine = Engine(style, tempo_bpm=TEMPO_BPM, seed=seed)
            log: list[tuple[float, float, float]] = []

            def observe(event, eng, log=log):
                log.append((event.time_s, eng.beat.beat_at(event.time_s), eng.tempo_bpm))

            result = simulate(perf.events, engine, observe=observe)
            r = result.report()
            lat50.append(r["p50_ms"])
            lat99.append(r["p99_ms"])
            jump, end = perf.tempo_jumps[0], len(perf.beat_times) - 1
            b = recovery_bars(perf, [(t, x) for t, x, _ in log], jump, end)
            bars.append(b)
            within += b <= 2
            at = perf.beat_times[jump + 8]
            k = bisect.bisect_right([t for t, _, _ in log], at) - 1
            errors.append(abs(log[k][2] / perf.tempo_at_beat(jump + 8) - 1))
        worst = max(bars)
        print(
            f"  {factor - 1:+6.0%}  {within:>3} of {len(bars):<3}                 "
            f"{statistics.median(bars):4.1f}, {worst:4.1f}                          "
            f"{statistics.median(errors):6.1%}                         "
            f"{statistics.median(lat50):.3f} / {max(lat99):.3f}"
        )
    for label, swing in (("steady (straight eighths)", 0.5), ("swung eighths (2:1)", 2 / 3)):
        relocks, offsets = 0, []
        for seed in range(1, seeds + 1):
            perf = perform_chart(CHART, tempo_bpm=TEMPO_BPM, swing=swing, seed=seed)
            engine = Engine(style, tempo_bpm=TEMPO_BPM, seed=seed)
            result = simulate(perf.events, engine)
            relocks += engine.beat.relocks
            kicks = np.array([o.time_s for o, _ in result.outputs
                              if o.part == "Drums" and o.velocity and o.pitch == 36])  # fmt: skip
            offsets += [np.abs(kicks - t).min() * 1000 for t in perf.beat_times[8:-4:4]]
        print(
            f"  {label}, +-8% drift: {relocks} re-locks in {seeds} choruses; band's kick from "
            f"the player's downbeat median {statistics.median(offsets):.1f} ms, p90 "
            f"{np.percentile(offsets, 90):.1f} ms"
        )


# players for the beat tracker (`players`): one bar repeated, (beat in the bar, "chord" or
# "note"); chords are the left hand's, notes the right hand's
_EIGHTHS = [(b / 2, "note") for b in range(8)]
PLAYERS = {
    "straight eighths": [(0, "chord"), (2, "chord"), *_EIGHTHS],
    "swung eighths": [(0, "chord"), (2, "chord")]
    + [(b + x, "note") for b in range(4) for x in (0, 2 / 3)],
    "syncopated": [(0, "chord"), (0.5, "note"), (1.5, "note"), (2.5, "note"), (3.5, "chord")],
    "sparse (half notes)": [(0, "chord"), (2, "chord")],
    "paused (4 bars on, 2 off)": [(0, "chord"), (2, "chord"), *_EIGHTHS],
    "steady triplets": [(0, "chord")] + [(b + k / 3, "note") for b in range(4) for k in range(3)],
    "triplets, chords on 1 and 3": [(0, "chord"), (2, "chord")]
    + [(b + k / 3, "note") for b in range(4) for k in range(3)],
    "dotted eighths": [(0, "chord"), (2, "chord")]
    + [(b + x, "note") for b in range(4) for x in (0, 0.75)],
    "sixteenths": [(0, "chord"), (2, "chord")] + [(b / 4, "note") for b in range(16)],
    # three notes in each half bar: straight eighths at 3/4 of the tempo, but for the chords
    "quarter-note triplets": [(0, "chord"), (2, "chord")] + [(k * 2 / 3, "note") for k in range(6)],
    # 3+3+2 sixteenths in each half bar (a tresillo in a beat and a half)
    "clave 3-3-2 (16ths)": [(0, "chord"), (2, "chord")]
    + [(b + x, "note") for b in (0, 2) for x in (0, 0.75, 1.5)],
}
PLAYER_TEMPOS = (90, 110, 130, 150, 175, 200)
LEFT_HAND = ((36, 40, 43), (45, 48, 52), (41, 45, 48), (43, 47, 50))


# how a player's tempo moves, beat by beat: shape(beats, rng) -> factors of the given tempo
def _ramp(beats: int, start: float, length: float, change: float) -> np.ndarray:
    """Steady, then `change` (a factor - 1) reached evenly over `length` beats from `start`."""
    x = np.clip((np.arange(beats) - start) / length, 0.0, 1.0)
    return 1 + change * x


def accelerando(beats: int, rng) -> np.ndarray:
    """10-15% faster over 8 bars, from bar 3-6 on, then held (a chorus that builds)."""
    return _ramp(beats, 4 * rng.integers(2, 6), 32, rng.uniform(0.10, 0.15))


def slowing(beats: int, rng) -> np.ndarray:
    """10-15% slower over 8 bars, from bar 3-6 on, then held (a verse that settles back)."""
    return _ramp(beats, 4 * rng.integers(2, 6), 32, -rng.uniform(0.10, 0.15))


def ritardando(beats: int, rng) -> np.ndarray:
    """Steady (+-2%), then 15-25% slower by the end over the last 3-5 bars, the slowing
    growing as it goes (a rit. into the final chord)."""
    length = 4 * rng.integers(3, 6)
    x = np.clip((np.arange(beats) - (beats - 2 - length)) / length, 0.0, 1.0)
    sway = 0.02 * np.sin(2 * np.pi * np.arange(beats) / 32 + rng.uniform(0, 2 * np.pi))
    return (1 + sway) * (1 - rng.uniform(0.15, 0.25) * x**2)


def final_ritardando(beats: int, rng) -> np.ndarray:
    """Steady (+-2%), then slowing evenly to 55-65% of the tempo over the last 2 bars (a strong
    rit. into the final chord)."""
    x = np.clip((np.arange(beats) - (beats - 2 - 8)) / 8, 0.0, 1.0)
    sway = 0.02 * np.sin(2 * np.pi * np.arange(beats) / 32 + rng.uniform(0, 2 * np.pi))
    return (1 + sway) * (1 - rng.uniform(0.35, 0.45) * x)


def rubato(beats: int, rng) -> np.ndarray:
    """Wandering +-5% over a few bars: pushing a phrase, holding back the next (three sines of
    1.5-6 bars, their phases seeded, scaled to a peak of 4-6%)."""
    x = np.arange(beats)
    wander = sum(
        rng.uniform(0.5, 1)
        * np.sin(2 * np.pi * x / (4 * rng.uniform(1.5, 6)) + rng.uniform(0, 6.3))
        for _ in range(3)
    )
    return 1 + rng.uniform(0.04, 0.06) * wander / np.abs(wander).max()


# players whose tempo moves besides: (the rhythm of PLAYERS, the tempo's shape)
TEMPO_PLAYERS = {
    "accelerando (eighths)": ("straight eighths", accelerando),
    "accelerando (half notes)": ("sparse (half notes)", accelerando),
    "slowing (eighths)": ("straight eighths", slowing),
    "slowing (syncopated)": ("syncopated", slowing),
    "ritardando (eighths)": ("straight eighths", ritardando),
    "ritardando (half notes)": ("sparse (half notes)", ritardando),
    "final ritardando (eighths)": ("straight eighths", final_ritardando),
    "final ritardando (half notes)": ("sparse (half notes)", final_ritardando),
    "rubato (eighths)": ("straight eighths", rubato),
    "rubato (swung)": ("swung eighths", rubato),
    "rubato (triplets)": ("triplets, chords on 1 and 3", rubato),
    "rubato (half notes)": ("sparse (half notes)", rubato),
}


def play_player(rhythm, tempo_bpm: float, bars: int, seed: int, paused: bool = False, shape=None):
    """`rhythm` repeated for `bars` bars: the tempo drifts by +-4% (a sine over 16 bars) or
    moves as `shape` says, every onset +-20 ms of noise; `paused` rests 2 bars after every 4.
    Returns (events, beat_times)."""
    rng = np.random.default_rng(seed)
    beats = bars * 4 + 2
    if shape is None:  # (the steady players' drift as it was, phase `seed`)
        tempos = tempo_bpm * (1 + 0.04 * np.sin(2 * np.pi * np.arange(beats) / 64 + seed))
    else:
        tempos = tempo_bpm * shape(beats, np.random.default_rng([seed, 1]))
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / tempos)])
    events = []
    for bar in range(bars):
        if paused and bar % 6 >= 4:
            continue
        for at, kind in rhythm:
            x = bar * 4 + at
            i = int(x)
            true = beat_times[i] + (x - i) * (beat_times[i + 1] - beat_times[i])
            time_s = max(0.0, true + rng.uniform(-0.02, 0.02))
            beat_s = beat_times[i + 1] - beat_times[i]
            keys = LEFT_HAND[bar % 4] if kind == "chord" else (int(rng.integers(62, 80)),)
            hold_s = 0.9 * beat_s if kind == "chord" else 0.08
            for key in keys:
                on = time_s + (float(rng.uniform(0, 0.006)) if kind == "chord" else 0.0)
                events += [InputEvent.note_on(on, key, 80), InputEvent.note_off(on + hold_s, key)]
    events.sort(key=lambda e: (e.time_s, e.kind != 0))
    return events, beat_times


def players(style: str, seeds: int, bars: int = 24, only: str = "") -> None:
    """Each player type at each of PLAYER_TEMPOS, once a seed: lost when, over the second half,
    the band's beat is more than a tenth of a beat from the player's at over a quarter of the
    player's onsets (or the band re-locked: none of these players jumps)."""
    print(
        f"  {'player':<28} lost of runs  re-locks  beat error 2nd half (median, p90, beats)"
        f"  lost at (BPM)"
    )
    total_lost = total = 0
    kinds = [(label, rhythm, None) for label, rhythm in PLAYERS.items()]
    kinds += [(label, PLAYERS[r], shape) for label, (r, shape) in TEMPO_PLAYERS.items()]
    for label, rhythm, shape in kinds:
        if only and only.lower() not in label.lower():
            continue
        lost, relocks, errors, where = 0, 0, [], []
        for tempo in PLAYER_TEMPOS:
            for seed in range(1, seeds + 1):
                events, beat_times = play_player(
                    rhythm, tempo, bars, seed, paused=label.startswith("paused"), shape=shape
                )
                engine = Engine(style, tempo_bpm=tempo, seed=seed)
                log: list[tuple[float, float]] = []

                def observe(event, eng, log=log):
                    if event.kind == 1 and eng.started:
                        log.append((event.time_s, eng.beat.beat_at(event.time_s)))

                simulate(events, engine, observe=observe)
                beats = np.arange(len(beat_times))
                errs = [abs(b - float(np.interp(t, beat_times, beats))) for t, b in log
                        if t >= beat_times[bars * 2]]  # fmt: skip
                bad = np.mean(np.array(errs) > 0.1) if errs else 1.0
                is_lost = bad > 0.25 or engine.beat.relocks > 0
                lost += is_lost
                relocks += engine.beat.relocks
                errors += errs
                if is_lost:
                    where.append(tempo)
        runs = len(PLAYER_TEMPOS) * seeds
        total_lost += lost
        total += runs
        at = ",".join(f"{t}x{where.count(t)}" for t in sorted(set(where)))
        print(
            f"  {label:<28} {lost:>3} of {runs:<4}  {relocks:>8}  "
            f"{np.median(errors):.3f}, {np.percentile(errors, 90):.3f}"
            f"{'':<28}{at}"
        )
    print(f"  all players: {total_lost} of {total} runs lost")


def flood(seconds: float, rate: int, style: str) -> None:
    """`rate` events a second of random notes (5% garbage bytes) into a live session."""
    clock = session_clock()
    count = [0]

    def on_output(event, delivered):  # count, keep nothing: memory is the engine's own
        count[0] += 1

    transport = InProcessTransport(clock, on_output=on_output)
    engine = Engine(style, mode="split", tempo_bpm=TEMPO_BPM)
    rng = random.Random(7)
    held: list[int] = []
    depth = 0
    rss = []
    with gc_paused():
        session = LiveSession(engine, transport, clock)
        session.start()
        t0 = clock()
        sent = 0
        while (now := clock() - t0) < seconds:
            due = int(now * rate)
            while sent < due:
                sent += 1
                r = rng.random()
                if r < 0.05:
                    transport.put(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4))))
                elif held and (r < 0.5 or len(held) > 8):
                    transport.put(InputEvent.note_off(clock(), held.pop(rng.randrange(len(held)))))
                else:
                    pitch = rng.randrange(36, 84)
                    held.append(pitch)
                    transport.put(InputEvent.note_on(clock(), pitch, rng.randrange(40, 120)))
            depth = max(depth, transport.pending())
            if int(now) >= len(rss) and now >= 1:
                rss.append(_rss_mb())
            time.sleep(0.001)
        flood_end = clock()
        while transport.pending():
            time.sleep(0.0005)
        drained = clock() - flood_end
        session.stop()
    rss.append(_rss_mb())
    r = engine.report()
    print(
        f"  {sent} events in {seconds:.0f} s ({sent / seconds:.0f}/s, {engine.ignored} ignored): "
        f"decision latency {fmt(r)}; largest batch {session.max_batch}, deepest queue {depth}, "
        f"queue empty {drained * 1000:.1f} ms after the flood"
    )
    print(
        f"  memory (RSS) {rss[0]:.1f} MB after 1 s, {rss[-1]:.1f} MB at the end "
        f"(growth {rss[-1] - rss[0]:+.1f} MB); {count[0]} band events; {r['bar_renders']} renders"
    )


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--realtime-seconds", type=float, default=60.0)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--style", default="pop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jump-seeds", type=int, default=12)
    parser.add_argument("--player-seeds", type=int, default=8)
    parser.add_argument("--players", default="", help="only the player types naming this")
    parser.add_argument(
        "--only", choices=("latency", "jumps", "players"), help="run one case only (latency: 1-2)"
    )
    args = parser.parse_args()

    if args.only == "jumps":
        print("5. sudden tempo jumps")
        jumps(args.style, args.jump_seeds)
        return
    if args.only == "players":
        print("6. player types: runs where the band loses the beat")
        players(args.style, args.player_seeds, only=args.players)
        return

    print(f"1. {args.minutes:g}-minute simulated performance, virtual clock, style {args.style}")
    for mode in ("split", "full", "single"):
        perf, result, tempo_log, wall, engine = simulated(args.minutes, args.style, mode, args.seed)
        r = result.report()
        print(
            f"  {mode}: {r['decisions']} input events, {r['output_events']} band events, "
            f"{r['bars_played']} bars ({r['bar_renders']} renders) in {wall:.2f} s: "
            f"decision latency {fmt(r)} (targets p99 <= 2, max <= 10)"
        )
        report_following(mode, perf, result, tempo_log, engine)

    print(f"2. real time on the in-process transport, {args.realtime_seconds:g} s, split mode")
    perf, result, tempo_log, wall, engine = simulated(
        args.realtime_seconds / 60, args.style, "split", args.seed + 1, realtime=True
    )
    r = result.report()
    print(
        f"  {r['decisions']} input events, {r['output_events']} band events in {wall:.1f} s: "
        f"decision latency {fmt(r)}; output jitter {fmt(r['jitter'])} (target p99 <= 1)"
    )
    report_following("real time", perf, result, tempo_log, engine)
    if args.only == "latency":
        return

    print(f"3. input flood: 10,000 events/s for {args.flood_seconds:g} s")
    flood(args.flood_seconds, 10_000, args.style)

    seconds = min(args.realtime_seconds, 30.0)  # (at least one chorus of the chart is played)
    print(
        "4. the band with the chorale and answer voices, real time, split mode, the melody in "
        "2-bar phrases with 2 bars of rest"
    )
    play = ("band", "chorale", "answer")
    _, result, _, wall, engine = simulated(
        seconds / 60, args.style, "split", args.seed + 2, realtime=True, play=play, phrase_bars=2
    )
    r = result.report()
    choir = next(v for v in engine.voices if type(v).__name__ == "ChoraleVoice")
    answer = next(v for v in engine.voices if type(v).__name__ == "Responder")
    sources = [a.source for a in answer.answers]
    print(
        f"  {r['decisions']} input events, {r['output_events']} events out in {wall:.1f} s: "
        f"decision latency {fmt(r)}; output jitter {fmt(r['jitter'])}; {choir.harmonized} "
        f"melody notes harmonized; {len(sources)} answers ({sources.count('model')} from the "
        f"model), {answer.cuts} cut short by the player"
    )

    print("5. sudden tempo jumps")
    jumps(args.style, args.jump_seeds)

    print("6. player types: runs where the band loses the beat")
    players(args.style, args.player_seeds, only=args.players)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
