"""Loops for sample packs: a few bars of a style that repeat without a seam.

A loop is a backing track with neither intro nor ending whose last bar leads back into its first
(the bass approaches bar 1, nothing stops). Its chords are the user's, repeated to fill the loop,
or a stock progression in the key: I-vi-IV-V in major, i-VI-III-VII in minor.

A pack's loops differ in their notes (`loop_seeds`), not only in their human feel: a style whose
groove has one pattern per part (rock's verse) arranges the same bars from every seed, and
twenty loops that differ only in timing jitter would be one loop twenty times. Seeds are tried
from the first up, each kept when its loop, arranged without the human feel, is one no earlier
seed gave; a pack asked for more loops than the style, bars, chords and energy give is refused,
saying how many there are. The search is sequential, so a pack made again with a larger count
keeps the loops it had.

A pack is refused before any work when its loops together would play longer than the longest
backing track, `arrange.backing.MAX_SONG_MINUTES` (an hour: `check_pack_length`).
"""

from __future__ import annotations

import dataclasses

from bandmate.arrange.backing import (
    MAX_SONG_MINUTES,
    backing,
    chart_minutes,
    check_tempo,
    played_key,
)
from bandmate.arrange.style import Style
from bandmate.errors import UserError
from bandmate.io.charts import load_chart
from bandmate.score.model import Score
from bandmate.theory.chart import Chart, parse_chart
from bandmate.theory.keys import Key, parse_key

LOOP_BARS = (1, 2, 4, 8, 16)
# seeds tried in a row without a new loop before a pack is taken to have them all; arranging a
# loop takes 5-20 ms. Over every style at 1, 2, 4 and 8 bars, low and high, the first 150 seeds
# each, the longest run of seeds that brought nothing new before one did was 54 (country's low
# groove at one bar)
LOOP_PATIENCE = 100
# (semitones above the tonic, minor?) for each stock progression
STOCK_PROGRESSIONS = {
    "major": ((0, False), (9, True), (5, False), (7, False)),
    "minor": ((0, True), (8, False), (3, False), (10, False)),
}


def loop_key(key: str | None, chords: str | None, meter: tuple[int, int]) -> Key:
    """The key a loop is played in and named by: `key` when the user gives one (with the mode of
    the key `chords` name, when they name one: `backing.played_key`); else the key
    `chords` (chart text or a file) names, or failing that the key they are in
    (`theory.harmony.chart_key`: Am F C G is in A minor, as a producer would name it);
    else C, the stock progression's default. A loop of the user's chords is never moved to C
    unasked."""
    from bandmate.theory.harmony import chart_key

    if key is not None and not chords:
        return parse_key(key)
    if not chords:
        return Key(0)
    chart = load_chart(chords, meter)
    if key is not None:  # chords that name their key keep its mode ("C" for Am chords: Cm)
        return played_key(chart.key, key) if chart.key else parse_key(key)
    return chart.key or chart_key(chart) or Key(0)


def stock_chart(key: Key, bars: int, meter: tuple[int, int]) -> Chart:
    """The stock progression of `key`'s mode, one chord a bar, repeated to `bars` bars."""
    steps = STOCK_PROGRESSIONS["minor" if key.is_minor else "major"]
    names = [key.spell((key.tonic + up) % 12) + ("m" if minor else "") for up, minor in steps]
    text = " | ".join(names[i % len(names)] for i in range(bars))
    return parse_chart(f"(key: {key}) | {text} |", meter)


def fit_chart(chart: Chart, bars: int) -> Chart:
    """`chart` repeated to exactly `bars` bars; a chart longer than the loop is refused."""
    if len(chart) > bars:
        raise UserError(
            f"The chords run {len(chart)} bars but the loop has {bars}; give fewer "
            "chords or more --bars."
        )
    return Chart(tuple(chart.bars[i % len(chart)] for i in range(bars)), chart.key, chart.title)


def loop_chart(style: Style, *, key: str, bars: int, chords: str | None = None) -> Chart:
    """The chart a loop of `bars` bars plays: `chords` (chart text or a file holding it, as
    `bandmate backing` reads its chart) repeated to fill the loop, else `key`'s stock
    progression. User chords are as written here; `loop_score` moves them to `key`."""
    if bars not in LOOP_BARS:
        raise UserError(f"A loop has {', '.join(map(str, LOOP_BARS))} bars, not {bars}.")
    if chords:
        return fit_chart(load_chart(chords, style.meter), bars)
    return stock_chart(parse_key(key), bars, style.meter)


def check_pack_length(chart: Chart, tempo_bpm: float, count: int) -> None:
    """Refuse `count` loops of `chart` at `tempo_bpm` that together would play longer than
    MAX_SONG_MINUTES, saying how many loops of that length fit.

    The cap is the backing track's hour, and for the same reasons: a pack writes per minute of
    audio about what a backing track does (a 24-bit WAV a part, and the full loop), so an hour of
    loops costs the disk and render time of the longest backing (about 6 GB for a five-part
    style), and a slip of the keys (`--count 1000 --bars 16 --tempo 20`: 53 hours of audio,
    some 300 GB) would otherwise render for an hour or more (loops render at 7-40x real time
    on a 2-core machine, the denser the slower) or until the disk filled. A pack of 100 4-bar
    loops at 100 BPM (16 minutes) is well inside it; a larger catalogue is what `bandmate batch
    loops` is for (a pack of one per item)."""
    check_tempo(tempo_bpm)  # before dividing by it
    each = chart_minutes(chart, tempo_bpm)
    minutes = each * count
    if minutes > MAX_SONG_MINUTES:
        fit = int(MAX_SONG_MINUTES // each)  # the most the test above passes
        fit += (fit + 1) * each <= MAX_SONG_MINUTES
        raise UserError(
            f"{count} loops of {len(chart)} bar{'s' * (len(chart) != 1)} at {tempo_bpm:g} BPM "
            f"would play {minutes:.0f} "
            f"minutes, past a pack's {MAX_SONG_MINUTES}-minute limit; ask for at most {fit} "
            "loops of that length, or for fewer bars or a faster tempo."
        )


def loop_score(
    style: Style,
    *,
    tempo_bpm: float,
    key: str,
    bars: int,
    seed: int,
    chords: str | None = None,
    energy: str | None = None,
) -> Score:
    """One loop: `bars` bars of `style` at `tempo_bpm` in `key`, decided by `seed`.

    `chords` is chart text or a file that holds it, read as `bandmate backing` reads its chart.
    `energy` is the groove: "low" the style's verse patterns, "high" its chorus patterns (where a
    style's horns or shaker come in), whatever sections the chords name; None lets the chords'
    sections say (a chorus is high), and chords without sections play low.
    """
    chart = loop_chart(style, key=key, bars=bars, chords=chords)
    # user chords are moved to `key`; the stock progression is already in it
    moved_to = str(parse_key(key)) if chords else None
    return backing(
        chart,
        style=style,
        tempo_bpm=tempo_bpm,
        key=moved_to,
        seed=seed,
        loop=True,
        energy=energy,
    )


def loop_seeds(style: Style, *, count: int, seed: int, **loop) -> list[int]:
    """The seeds of a pack of `count` loops: from `seed` up, each whose loop differs in its notes
    (arranged without the human feel: the same pattern nudged otherwise is the same loop) from
    every earlier one's. `loop` is `loop_score`'s other arguments. Refuses a count the style does
    not give within LOOP_PATIENCE seeds in a row, naming how many it gives."""
    plain = dataclasses.replace(style, timing_ms=0.0, velocity_jitter=0.0)
    seen: set[tuple] = set()
    seeds: list[int] = []
    candidate, dry = seed, 0
    while len(seeds) < count and dry < LOOP_PATIENCE:
        score = loop_score(plain, seed=candidate, **loop)
        notes = tuple(track.notes for track in score.tracks)
        if notes in seen:
            dry += 1
        else:
            seen.add(notes)
            seeds.append(candidate)
            dry = 0
        candidate += 1
    if len(seeds) < count:
        found = len(seeds)
        chords = "these chords" if loop.get("chords") else "its stock progression"
        loops, them, ask = ("loop", "it", "one") if found == 1 else ("loops", "them", f"{found}")
        raise UserError(
            f"{style.name} gives only {found} different {loop['bars']}-bar {loops} of {chords} at "
            f"this energy (more would repeat {them} with new timing); ask for {ask}, or change the "
            "energy, the bars or the chords."
        )
    return seeds
