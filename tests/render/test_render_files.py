"""Rendering straight to files: the same audio as in memory, in the memory of the mix alone."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from bandmate.io.audio import Audio
from bandmate.io.midi import write_midi
from bandmate.jobs.render import render_file
from bandmate.render import (
    TAIL_MAX_SECONDS,
    render,
    render_stems,
    stream_stems,
    write_rendering,
)
from bandmate.render import files as render_files
from bandmate.render.stems import MixSum, render_mix
from bandmate.score import Note, Track
from tests.builders import TPB, bass, drums, make_score, piano

RATE = 44_100


def band_of(tracks: int, beats: int) -> list[Track]:
    """`tracks` tracks of a note a beat (0.5 s at 120 BPM) on GM programs spread over the set."""
    return [
        Track(
            f"Part {k}",
            program=(k * 11) % 128,
            notes=tuple(Note(b * TPB, TPB // 2, 48 + (k * 5 + b) % 24, 80) for b in range(beats)),
        )
        for k in range(tracks)
    ]


def read(path) -> np.ndarray:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T


def test_the_files_hold_what_render_gives(tmp_path):
    # a track without notes, and tracks whose tails end at different times: every stem file is
    # as long as the longest tail, and the files are bit for bit the stems and the mix
    score = make_score(
        piano((0, 4, 60), (0, 4, 64), (4, 4, 65)),
        bass((0, 1, 36), (2, 2, 43)),
        drums(*[(b / 2, 0.25, 42) for b in range(12)]),
        Track("Empty", program=40),
    )
    stems, mix = render(score)
    paths = [tmp_path / "stems" / f"{k}.wav" for k in range(4)]
    frames = write_rendering(score, tmp_path / "mix.wav", paths, subtype="FLOAT")
    assert frames == mix.frames
    assert read(tmp_path / "mix.wav").tobytes() == mix.samples.tobytes()
    for stem, path in zip(stems, paths, strict=True):
        assert read(path).tobytes() == stem.samples.tobytes()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["0.wav", "1.wav", "2.wav", "3.wav",
                                                          "mix.wav", "stems"]  # fmt: skip


def test_a_long_many_track_render_needs_memory_for_the_mix_not_for_every_stem(tmp_path):
    # `bandmate render` of 12 tracks of 20 s with --stems: the stems take 12 x 7.7 MB; the
    # mix's running sum two stems' worth, the blocks being rendered a few MB. Holding every
    # stem, as rendering did, took 12 and more, and an album side's worth did not fit a laptop.
    midi = tmp_path / "jam.mid"
    write_midi(make_score(*band_of(12, beats=40)), midi)
    stem_bytes = 2 * 4 * round((20.0 + TAIL_MAX_SECONDS) * RATE)  # with the longest tail
    tracemalloc.start()
    try:
        result = render_file(midi, tmp_path / "jam.flac", stems_dir=tmp_path / "stems")
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_bytes < 4 * stem_bytes, f"{peak_bytes / stem_bytes:.1f} stems' worth"
    assert len(result.stems) == 12
    assert {sf.info(p).frames for p in result.stems} == {sf.info(result.mix).frames}


def test_an_interrupted_render_leaves_no_files(tmp_path, monkeypatch):
    score = make_score(*band_of(3, beats=8))
    calls = []

    def add_then_stop(self, samples, start_frame=0):
        calls.append(start_frame)
        raise KeyboardInterrupt

    monkeypatch.setattr(render_files.MixSum, "add", add_then_stop)
    with pytest.raises(KeyboardInterrupt):
        write_rendering(score, tmp_path / "mix.wav", [tmp_path / f"{k}.wav" for k in range(3)])
    assert calls
    assert list(tmp_path.iterdir()) == []


def test_a_sink_that_fails_stops_the_rendering():
    score = make_score(*band_of(3, beats=8))

    def sink(track, start_frame, samples):
        raise ValueError("full")

    with pytest.raises(ValueError, match="full"):
        stream_stems(score, sink)


def test_stream_stems_blocks_join_up_into_the_stems():
    score = make_score(*band_of(3, beats=4), Track("Empty", program=1))
    stems = render_stems(score)
    blocks: dict[int, list[tuple[int, np.ndarray]]] = {}
    frames = stream_stems(score, lambda k, at, s: blocks.setdefault(k, []).append((at, s.copy())))
    assert frames == stems[0].frames
    assert sorted(blocks) == [0, 1, 2]  # nothing from the track without notes
    for k, pieces in blocks.items():
        starts = [at for at, _ in pieces]
        assert starts == sorted(starts) and starts[0] == 0
        joined = np.concatenate([s for _, s in pieces], axis=1)
        assert all(at == sum(s.shape[1] for _, s in pieces[:i]) for i, (at, _) in enumerate(pieces))
        assert np.array_equal(joined, stems[k].samples[:, : joined.shape[1]])
        assert not stems[k].samples[:, joined.shape[1] :].any()


def test_the_mix_is_the_same_whatever_order_the_stems_come_in(rng):
    # float32 sums depend on their order; the mix may not, since stems finish in any order
    stems = [rng.normal(0, 0.1, (2, 10_000)).astype(np.float32) * rng.uniform(1e-9, 1)
             for _ in range(6)]  # fmt: skip
    mixes = []
    for order in (range(6), reversed(range(6)), [3, 0, 5, 1, 4, 2]):
        total = MixSum(2, 10_000)
        for k in order:
            total.add(stems[k])
        mixes.append(total.read())
    assert mixes[0].tobytes() == mixes[1].tobytes() == mixes[2].tobytes()
    exact = np.sum([s.astype(np.float64) for s in stems], axis=0)
    # the exact sum rounded once to float32 (each stem rounded to 2**-40 first)
    assert np.all(np.abs(mixes[0] - exact) <= np.abs(exact) * 2**-24 + 6 * 2**-40)
    assert render_mix([Audio(s, RATE) for s in stems]).samples.tobytes() == mixes[0].tobytes()
