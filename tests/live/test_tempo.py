"""The band keeps the player's beat: through sudden tempo jumps and rubato, and with swung,
triplet, syncopated and sparse players, whose off-grid notes must neither drag the beat nor
make it jump to a tempo the player is not playing.

Each test plays a performance into the engine on the virtual clock and listens to the band's
kick drum against the player's chords, as a player would.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, InputEvent, simulate
from bandmate.live.performance import perform_chart

CHART = "| C | Am7 | Dm7 | G7 | Em7 | A7 | Dm7 | G7 |"
LEFT_HAND = ((36, 40, 43), (45, 48, 52), (41, 45, 48), (43, 47, 50))  # C Am F G, below G3


def kicks_s(result) -> np.ndarray:
    return np.array(
        [o.time_s for o, _ in result.outputs if o.part == "Drums" and o.velocity and o.pitch == 36]
    )


def kick_offsets_ms(result, downbeats_s) -> np.ndarray:
    """How far the band's nearest kick drum is from each of the player's downbeats, in ms."""
    kicks = kicks_s(result)
    return np.array([np.abs(kicks - at).min() * 1000 for at in downbeats_s])


def play_rhythm(
    onsets, tempo_bpm: float, bars: int, seed: int = 0, tempo_factors=None
) -> list[InputEvent]:
    """A player repeating one bar: `onsets` are (beat in the bar, "chord" or "note"); chords
    are the left hand's (C Am F G, one a bar), notes the right hand's; +-20 ms of noise.
    `tempo_factors` (one a beat) move the tempo, else it is steady."""
    rng = np.random.default_rng(seed)
    beat_times = player_beats(tempo_bpm, bars, tempo_factors)
    events = []
    for bar in range(bars):
        for at, kind in onsets:
            x = bar * 4 + at
            true_s = np.interp(x, np.arange(len(beat_times)), beat_times)
            beat_s = beat_times[int(x) + 1] - beat_times[int(x)]
            time_s = max(0.0, true_s + rng.uniform(-0.02, 0.02))
            keys = LEFT_HAND[bar % 4] if kind == "chord" else (int(rng.integers(62, 80)),)
            hold_s = 0.9 * beat_s if kind == "chord" else 0.1
            for key in keys:
                events += [
                    InputEvent.note_on(time_s, key, 80),
                    InputEvent.note_off(time_s + hold_s, key),
                ]
    return sorted(events, key=lambda e: (e.time_s, e.kind != 0))


def player_beats(tempo_bpm: float, bars: int, tempo_factors=None) -> np.ndarray:
    """When each of the player's beats falls (s), the tempo moved by `tempo_factors`."""
    factors = np.ones(bars * 4 + 1) if tempo_factors is None else tempo_factors[: bars * 4 + 1]
    return np.concatenate([[0.0], np.cumsum(60 / (tempo_bpm * factors))])


def downbeats(tempo_bpm: float, bars: int, from_bar: int) -> np.ndarray:
    """The player's bar lines (without their noise), from `from_bar` to the last but one."""
    return np.arange(from_bar, bars - 1) * 4 * 60 / tempo_bpm


def play_along(rhythm, tempo_bpm: float, bars: int, seed: int, from_bar: int, band_bpm=None):
    """(the engine after a player repeats `rhythm` to the pop band, its kick's offsets from the
    player's bar lines from `from_bar` on, in ms). The band is given `band_bpm` (default: the
    player's tempo)."""
    engine = Engine("pop", tempo_bpm=band_bpm or tempo_bpm)
    result = simulate(play_rhythm(rhythm, tempo_bpm, bars=bars, seed=seed), engine)
    return engine, kick_offsets_ms(result, downbeats(tempo_bpm, bars, from_bar=from_bar))


def assert_kept_on_the_beat(engine, offsets) -> None:
    """The band never re-locked, and its kick stayed on the player's bar lines: within 25 ms at
    the median and 40 ms for nine bars in ten."""
    assert engine.beat.relocks == 0
    assert np.median(offsets) < 25 and np.percentile(offsets, 90) < 40, offsets


SWING = [(0, "chord"), (0, "note"), (2 / 3, "note"), (1, "note"), (5 / 3, "note"),
         (2, "chord"), (2, "note"), (8 / 3, "note"), (3, "note"), (11 / 3, "note")]  # fmt: skip
TRIPLETS_ON_1_AND_3 = [(0, "chord"), (1 / 3, "note"), (2 / 3, "note"),
                       (2, "chord"), (7 / 3, "note"), (8 / 3, "note")]  # fmt: skip
TRIPLETS = [(0, "chord")] + [(b + k / 3, "note") for b in range(4) for k in range(3)]
HALF_NOTES = [(0, "chord"), (2, "chord")]
SYNCOPATED = [(0, "chord"), (0.5, "note"), (1.5, "note"), (2.5, "note"), (3.5, "chord")]
DOTTED = [(0, "chord"), (2, "chord")] + [(b + x, "note") for b in range(4) for x in (0, 0.75)]
QUARTER_TRIPLETS = [(0, "chord"), (2, "chord")] + [(k * 2 / 3, "note") for k in range(6)]
SWUNG_EIGHTHS = [(0, "chord"), (2, "chord")] + [
    (b + x, "note") for b in range(4) for x in (0, 2 / 3)
]
SIXTEENTHS = [(0, "chord"), (2, "chord")] + [(b / 4, "note") for b in range(16)]
# 3+3+2 sixteenths in each half bar (a tresillo in a beat and a half)
CLAVE = [(0, "chord"), (2, "chord")] + [(b + x, "note") for b in (0, 2) for x in (0, 0.75, 1.5)]


@pytest.mark.parametrize("tempo_bpm", [80, 100, 130])
def test_a_swing_player_keeps_the_band_on_the_beat(tempo_bpm):
    """Swung eighths fall at two thirds of the beat; the beat tracker read them as straight
    eighths played late and settled between the two, the band's kick a sixth of a beat from
    the player's chords (100-200 ms) for the whole song. A note nearer a triplet than an
    eighth now says nothing about the beat."""
    engine, offsets = play_along(SWING, tempo_bpm, bars=16, seed=1, from_bar=2)
    assert np.median(offsets) < 25, np.median(offsets)
    assert engine.beat.relocks == 0


@pytest.mark.parametrize(
    ("rhythm", "tempo_bpm"),
    [(SWING, 110), (TRIPLETS_ON_1_AND_3, 90), (TRIPLETS, 100), (HALF_NOTES, 120),
     (SYNCOPATED, 100)],
)  # fmt: skip
def test_players_who_skip_eighths_do_not_make_the_band_jump(rhythm, tempo_bpm):
    """Half the notes of a swing or triplet player, and every note but the chords of one who
    plays half notes, are off the eighth-note grid; they must never be taken for a new tempo."""
    engine, offsets = play_along(rhythm, tempo_bpm, bars=24, seed=2, from_bar=1)
    assert engine.beat.relocks == 0
    assert engine.tempo_bpm == pytest.approx(tempo_bpm, rel=0.02)
    assert np.median(offsets) < 25 and np.percentile(offsets, 90) < 40, offsets


@pytest.mark.parametrize("tempo_bpm", [175, 200])
@pytest.mark.parametrize("seed", [1, 3])
def test_a_steady_triplet_player_keeps_the_band_on_the_beat(tempo_bpm, seed):
    """Triplets throughout (a 12/8 feel in 4/4): with triplet notes ignored, only every third
    note told the tracker where the beat was, and a first-third note played late was taken for
    an off-beat eighth, pulling the grid off; at 175-200 BPM the band's kick ended up 40-230 ms
    from the player's chords. Once most recent onsets fall on thirds of the beat, first thirds
    among them, they are counted on the triplet grid."""
    engine, offsets = play_along(TRIPLETS, tempo_bpm, bars=16, seed=seed, from_bar=2)
    assert engine.beat.relocks == 0
    assert engine.tempo_bpm == pytest.approx(tempo_bpm, rel=0.02)
    assert np.median(offsets) < 25 and np.percentile(offsets, 90) < 40, offsets


@pytest.mark.parametrize("tempo_bpm", [150, 200])
@pytest.mark.parametrize("seed", [1, 2, 5, 6])
def test_a_dotted_rhythm_player_keeps_the_band_on_the_beat(seed, tempo_bpm):
    """Dotted eighths and sixteenths: a sixteenth played a little late (or the grid a little
    early) was counted as the next beat, and the tracker could settle a sixteenth off the
    player's beat for good. At 150 BPM, while most recent onsets fall nearer sixteenths than
    thirds, a single note nearer a sixteenth than its eighth is skipped. At 200 BPM the
    sixteenth (75 ms +-40 ms before the beat) is often nearer the beat than the grid can tell:
    it was counted, and the beat itself, on the same eighth, went unheard; when it came within
    50 ms of the chord it was even given the chord's weight. The chord, else the nearer of
    the two, now takes the place, and a lone key well before a chord is a note of its own."""
    engine, offsets = play_along(DOTTED, tempo_bpm, bars=16, seed=seed, from_bar=2)
    assert_kept_on_the_beat(engine, offsets)


@pytest.mark.parametrize(
    ("rhythm", "tempo_bpm", "band_bpm", "seed"),
    [(QUARTER_TRIPLETS, 100, 104, 3), (QUARTER_TRIPLETS, 160, 166, 3),
     (QUARTER_TRIPLETS, 200, 192, 3), (SWUNG_EIGHTHS, 200, 208, 1), (SWUNG_EIGHTHS, 200, 208, 5)],
)  # fmt: skip
def test_a_player_whose_off_beats_fall_on_thirds_keeps_the_band_on_the_beat(
    rhythm, tempo_bpm, band_bpm, seed
):
    """Quarter-note triplets and swung eighths, played 4% off the tempo the band was given.
    Their off-beat notes lie a sixth of a beat from the half beat, and with the grid a little
    off and +-20 ms of noise some fell nearer it than the third: counted as eighths, they
    pulled the grid further off, the chords on the beat fell outside its tolerance and were
    skipped, and the grid settled on the triplets as straight eighths, at the player's tempo
    or (the triplets) at 3/4 of it after a re-lock. While most off-beats fall on thirds, a
    single note is no longer counted on the half beat."""
    engine, offsets = play_along(
        rhythm, tempo_bpm, bars=16, seed=seed, from_bar=4, band_bpm=band_bpm
    )
    assert_kept_on_the_beat(engine, offsets)


@pytest.mark.parametrize(
    ("rhythm", "tempo_bpm", "band_bpm", "seed"),
    [(HALF_NOTES, 175, 168, 1), (HALF_NOTES, 200, 208, 3), (SYNCOPATED, 150, 144, 4),
     (SYNCOPATED, 175, 182, 4)],
)  # fmt: skip
def test_a_left_hand_on_the_beat_keeps_the_band_on_it(rhythm, tempo_bpm, band_bpm, seed):
    """Chords on the beat two or three times a bar, played 4% off the tempo the band was
    given: the grid ran a little off between them, and once a chord fell a sixth of a beat
    from it, nearer a triplet than the beat, it was skipped as a swung note however wide the
    tolerance had grown; with nothing else to follow, the grid ran on at its own tempo until it
    re-locked or counted the chords on the wrong eighths. A chord nearest a beat now counts as
    far as the tolerance goes, unless the player's off-beats fall on thirds."""
    engine, offsets = play_along(
        rhythm, tempo_bpm, bars=16, seed=seed, from_bar=4, band_bpm=band_bpm
    )
    assert_kept_on_the_beat(engine, offsets)


@pytest.mark.parametrize(
    ("rhythm", "tempo_bpm", "band_bpm", "seed"),
    [(CLAVE, 200, 192, 4), (CLAVE, 200, 208, 5), (SWUNG_EIGHTHS, 175, 168, 2),
     (SWUNG_EIGHTHS, 200, 192, 6)],
)  # fmt: skip
def test_a_fast_player_with_chords_on_the_beat_keeps_the_band_on_it(
    rhythm, tempo_bpm, band_bpm, seed
):
    """A clave or swing line over chords on 1 and 3 at 175-200 BPM, 4% off the tempo the band
    was given. +-20 ms of noise is a fifteenth of a beat there, and the grid ran a sixth of a
    beat ahead within a bar: the late notes on the half beat fell nearer a third and were
    skipped, thirds seemed the feel, and a chord on the beat, nearer a triplet or just past the
    tolerance, was skipped too; a dotted note was then counted on the next beat and the band
    settled a quarter of a beat or more ahead. A chord nearest a beat now counts as far as an
    eighth's tolerance goes, whatever the off-beats."""
    engine, offsets = play_along(
        rhythm, tempo_bpm, bars=16, seed=seed, from_bar=4, band_bpm=band_bpm
    )
    assert_kept_on_the_beat(engine, offsets)


@pytest.mark.parametrize("band_bpm", [192, 208])
def test_a_sixteenth_run_at_200_bpm_is_not_heard_as_chords(band_bpm):
    """Sixteenths at 200 BPM are 75 ms +-40 ms apart, often under the 50 ms in which keys are
    struck together: the second of two was heard as a chord, which the tracker counts on a
    nearby beat, and a sixteenth a fifth of a beat early pulled the band's beat ahead. A key
    more than 30 ms after a lone key is now an onset of its own."""
    engine, offsets = play_along(SIXTEENTHS, 200, bars=16, seed=3, from_bar=4, band_bpm=band_bpm)
    assert_kept_on_the_beat(engine, offsets)


@pytest.mark.parametrize("factor", [1.2, 0.8, 1.25, 0.75, 1.3])
@pytest.mark.parametrize("seed", [1, 3])
def test_the_band_finds_the_beat_again_after_a_sudden_tempo_jump(factor, seed):
    """A player takes the second chorus 20-30% faster or slower at once. The tracker places
    each note on the nearest eighth of the old grid, and at such a jump the notes of the new
    tempo land on the wrong eighths: the band stayed at its old tempo or ran the wrong way,
    its kick drum across the player's chords for the rest of the song. Within two bars the
    band now plays the new tempo with its downbeats on the player's chords."""
    perf = perform_chart(
        CHART, tempo_bpm=100, choruses=3, drift=0.0, noise_ms=20, jumps=[(8, factor)], seed=seed
    )
    engine = Engine("pop", tempo_bpm=100, seed=seed)
    result = simulate(perf.events, engine)
    two_bars_after = perf.tempo_jumps[0] + 8
    offsets = kick_offsets_ms(result, perf.beat_times[two_bars_after:-4:4])
    assert np.median(offsets) < 25 and np.percentile(offsets, 90) < 40, offsets
    assert engine.tempo_bpm == pytest.approx(100 * factor, rel=0.03)


def test_a_steady_player_never_makes_the_band_jump():
    perf = perform_chart(CHART, tempo_bpm=100, choruses=4, seed=5)  # +-8% drift, +-20 ms
    engine = Engine("pop", tempo_bpm=100, seed=5)
    simulate(perf.events, engine)
    assert engine.beat.relocks == 0


def test_a_jump_does_not_play_the_skipped_beats_all_at_once():
    """When the beat moves on at once, the band's notes for the beats it passed are dropped,
    not sounded together."""
    perf = perform_chart(
        CHART, tempo_bpm=100, choruses=3, drift=0.0, noise_ms=20, jumps=[(8, 1.3)], seed=3
    )
    engine = Engine("pop", tempo_bpm=100, seed=3)
    result = simulate(perf.events, engine)
    assert engine.beat.relocks >= 1
    hits = np.sort([o.time_s for o, _ in result.outputs if o.part == "Drums" and o.velocity])
    most_in_30ms = max(np.searchsorted(hits, t + 0.03) - i for i, t in enumerate(hits))
    assert most_in_30ms <= 3  # a kick, a snare and a cymbal together at most


def rubato(period_beats: float, phase: float, beats: int = 200) -> np.ndarray:
    """Tempo factors a beat, wandering +-5% and back every `period_beats`."""
    return 1 + 0.05 * np.sin(2 * np.pi * np.arange(beats) / period_beats + phase)


def follow_rubato(rhythm, tempo_bpm: float, period_beats: float, phase: float, seed: int):
    """(the engine after a player of `rhythm` plays 16 bars with rubato to the pop band, its
    kick's offsets from the player's bar lines from bar 4 on, in ms)."""
    factors = rubato(period_beats, phase)
    engine = Engine("pop", tempo_bpm=tempo_bpm)
    result = simulate(play_rhythm(rhythm, tempo_bpm, 16, seed, factors), engine)
    return engine, kick_offsets_ms(result, player_beats(tempo_bpm, 16, factors)[16:-4:4])


@pytest.mark.parametrize(
    ("tempo_bpm", "period_beats", "phase", "seed"),
    [(90, 20, 1.5, 2), (130, 20, 3, 1), (175, 16, 0, 2)],
)
def test_a_sparse_player_with_rubato_keeps_the_band_with_them(tempo_bpm, period_beats, phase, seed):
    """Half notes, the tempo wandering +-5% over four or five bars. The fit held the tempo of
    the last six chords (twelve beats) alike, a rubato's swing ago: the chords fell a tenth of a
    beat off the grid, and the band re-locked to a tempo 7% off, or a beat off the player's.
    The recent chords now weigh more (half as much four beats back)."""
    engine, offsets = follow_rubato(HALF_NOTES, tempo_bpm, period_beats, phase, seed)
    assert engine.beat.relocks == 0
    assert np.median(offsets) < 25, offsets


@pytest.mark.parametrize(
    ("tempo_bpm", "period_beats", "phase", "seed"),
    [(160, 20, 4.5, 2), (175, 16, 3, 2), (200, 16, 0, 1)],
)
def test_a_swing_player_with_rubato_is_not_heard_at_one_and_a_half_times_the_tempo(
    tempo_bpm, period_beats, phase, seed
):
    """Swung eighths over chords on 1 and 3, the tempo wandering +-5%. Read at 1.5 times the
    tempo the swung eighths are straight and the chords still fall on beats (every third), so
    when rubato took the player near the tracker's limits the band re-locked there, its kick
    across the player's bars. A re-lock now keeps a left hand on 1 and 3 on even beats."""
    engine, offsets = follow_rubato(SWUNG_EIGHTHS, tempo_bpm, period_beats, phase, seed)
    assert engine.beat.relocks == 0
    assert np.median(offsets) < 25, offsets
