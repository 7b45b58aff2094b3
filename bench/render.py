"""Benchmark: bandmate's stem renderer against the `fluidsynth` command-line renderer.

Builds a 3-minute, 6-track song (drums, bass, piano, guitar, strings pad, lead) from a fixed
seed, writes it as MIDI to a temporary folder, then times, best of three:

- bandmate: `render_stems` + `render_mix` at 44100 Hz (six stems and the mix, in memory);
- the CLI: `fluidsynth -ni -F out.wav -r 44100 -g 0.2 SF2 song.mid` (the mix only, to a file).

Both load the SoundFont every time; the runs alternate, so that a busy moment on the machine
slows both alike. It prints the figures and asserts nothing.

    .venv/bin/python bench/render.py [--seed N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from bandmate.io.midi import write_midi
from bandmate.render import find_soundfont, render_mix, render_stems
from bandmate.score import Control, Note, Role, Score, TempoChange, TimeSignature, Track
from bandmate.score.model import PITCH_BEND

TPB = 480
TEMPO_BPM = 120
BARS = 90  # 90 bars of 4/4 at 120 BPM: 3 minutes
# a I-vi-IV-V / ii-V-I-I loop in C: (root pitch class, chord tones above the root)
PROGRESSION = [
    (0, (0, 4, 7, 11)),
    (9, (0, 3, 7, 10)),
    (5, (0, 4, 7, 11)),
    (7, (0, 4, 7, 10)),
    (2, (0, 3, 7, 10)),
    (7, (0, 4, 7, 10)),
    (0, (0, 4, 7, 14)),
    (0, (0, 4, 7, 9)),
]
C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def make_song(seed: int = 1) -> Score:
    """A plausible, fairly dense pop arrangement, the same for the same seed, played as a
    keyboard player's file is: the piano pedalled bar by bar, the lead scooping into some notes
    with the pitch wheel, the strings swelling with expression (CC11)."""
    rng = random.Random(seed)
    beat, eighth, bar = TPB, TPB // 2, 4 * TPB
    drums, bass, piano, guitar, pad, lead = ([] for _ in range(6))
    pedal, bends, swells = [], [], []

    def vel(base: int) -> int:
        return max(1, min(127, base + rng.randint(-8, 8)))

    pitch = 72
    for b in range(BARS):
        t0 = b * bar
        root, tones = PROGRESSION[b % len(PROGRESSION)]
        # drums: 8th-note hi-hat, kick on 1 and 3 (and a pickup), snare on 2 and 4
        for i in range(8):
            drums.append(Note(t0 + i * eighth, eighth, 42, vel(70 if i % 2 else 90)))
        for i in (0, 4) + ((7,) if rng.random() < 0.4 else ()):
            drums.append(Note(t0 + i * eighth, eighth, 36, vel(105)))
        for i in (2, 6):
            drums.append(Note(t0 + i * eighth, eighth, 38, vel(100)))
        if b % 8 == 0:
            drums.append(Note(t0, bar, 49, vel(100)))
        # bass: quarter notes on the root, a fifth on beat 3 now and then
        for i in range(4):
            p = 36 + root + (7 if i == 2 and rng.random() < 0.5 else 0)
            bass.append(Note(t0 + i * beat, beat - 30, p, vel(95)))
        # piano: four-note chords on 1, the and of 2, and 4
        for onset, length in ((0, 3 * eighth), (3 * eighth, 3 * eighth), (6 * eighth, 2 * eighth)):
            for tone in tones:
                piano.append(Note(t0 + onset, length - 20, 60 + root % 12 + tone - 12, vel(75)))
        # guitar: 8th-note arpeggio over the chord
        for i in range(8):
            tone = tones[(i * 3 // 2) % len(tones)]
            guitar.append(Note(t0 + i * eighth, eighth, 52 + root + tone, vel(70)))
        # the pedal lifted and pressed again at each bar line
        pedal += [Control(t0, 64, 0), Control(t0 + 20, 64, 127)]
        # strings pad: whole notes, swelling over the bar
        for tone in tones[:3]:
            pad.append(Note(t0, bar, 60 + root + tone, vel(60)))
        swells += [Control(t0 + k * beat // 4, 11, 80 + 3 * k) for k in range(16)]
        # lead melody: 8ths on a random walk in C major, with rests
        for i in range(8):
            if rng.random() < 0.2:
                continue
            pitch = min(84, max(64, pitch + rng.choice((-2, -1, -1, 1, 1, 2, 0))))
            while pitch % 12 not in C_MAJOR:
                pitch += 1
            lead.append(Note(t0 + i * eighth, eighth - 20, pitch, vel(90)))
            if rng.random() < 0.25:  # a scoop up into the note, a semitone in 60 ticks
                on = t0 + i * eighth
                bends += [Control(on + k * 10, PITCH_BEND, -4096 + 683 * k) for k in range(6)]
                bends.append(Control(on + 60, PITCH_BEND, 0))
    return Score(
        tracks=(
            Track("Drums", 0, True, Role.DRUMS, tuple(drums)),
            Track("Bass", 33, False, Role.BASS, tuple(bass)),
            Track("Piano", 0, False, Role.CHORDS, tuple(piano), tuple(pedal)),
            Track("Guitar", 25, False, Role.CHORDS, tuple(guitar)),
            Track("Strings", 48, False, Role.PAD, tuple(pad), tuple(swells)),
            Track("Lead", 73, False, Role.MELODY, tuple(lead), tuple(bends)),
        ),
        ticks_per_beat=TPB,
        tempos=(TempoChange.from_bpm(0, TEMPO_BPM),),
        time_signatures=(TimeSignature(0, 4, 4),),
        title="bench song",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    score = make_song(args.seed)
    soundfont = find_soundfont()
    fluidsynth = shutil.which("fluidsynth")
    print(f"{score!r}\nSoundFont: {soundfont}\nCPUs: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        midi_path = Path(tmp) / "song.mid"
        wav = Path(tmp) / "cli.wav"
        write_midi(score, midi_path)
        command = [
            fluidsynth,
            "-ni",
            "-F",
            str(wav),
            "-r",
            "44100",
            "-g",
            "0.2",
            str(soundfont),
            str(midi_path),
        ]

        def bandmate():
            stems = render_stems(score, sample_rate=44_100, soundfont=soundfont)
            return stems, render_mix(stems)

        def cli():
            subprocess.run(command, check=True, capture_output=True)

        # interleaved, so that a busy moment on the machine hits both alike
        times: dict[str, list[float]] = {"bandmate": [], "cli": []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            stems, mix = bandmate()
            times["bandmate"].append(time.perf_counter() - start)
            del stems
            if fluidsynth:
                start = time.perf_counter()
                cli()
                times["cli"].append(time.perf_counter() - start)
        cli_audio = sf.info(str(wav)).duration if fluidsynth else 0.0

    music = score.duration_seconds
    print(f"\nbest of {args.repeats}; x real time = {music:.0f} s of music / seconds taken\n")
    print(f"{'renderer':<46} {'seconds':>8} {'x real time':>12} {'audio out':>10}")
    ours = min(times["bandmate"])
    print(
        f"{'bandmate render_stems + render_mix':<46} {ours:8.2f} {music / ours:12.1f} "
        f"{mix.duration_seconds:8.1f} s  (6 float32 stems + mix, in memory)"
    )
    if fluidsynth:
        theirs = min(times["cli"])
        print(
            f"{'fluidsynth -ni -F (CLI)':<46} {theirs:8.2f} {music / theirs:12.1f} "
            f"{cli_audio:8.1f} s  (mix only, 16-bit WAV file)"
        )
        print(f"\nbandmate speed / CLI speed on the same file: {theirs / ours:.2f}")
    else:
        print("\nfluidsynth command not found: no comparison")
    print(f"mix peak {mix.peak():.3f} (1.0 = 0 dBFS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
