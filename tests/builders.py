"""Builders that make expected scores readable, and helpers for CLI tests."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bandmate.score import Note, Role, Score, TempoChange, TimeSignature, Track

TPB = 480


def notes(*spec: tuple[float, float, int], velocity: int = 90, tpb: int = TPB) -> tuple[Note, ...]:
    """Notes from (onset_beats, duration_beats, pitch) triples: notes((0, 1, 60), (1, 1, 62))."""
    return tuple(Note(round(o * tpb), round(d * tpb), p, velocity) for o, d, p in spec)


def make_score(*tracks: Track, tempo_bpm: float = 120, meter=(4, 4), **kwargs) -> Score:
    return Score(
        tracks=tracks,
        tempos=(TempoChange.from_bpm(0, tempo_bpm),),
        time_signatures=(TimeSignature(0, *meter),),
        **kwargs,
    )


def piano(*spec, name: str = "Piano") -> Track:
    return Track(name, program=0, role=Role.CHORDS, notes=notes(*spec))


def bass(*spec, name: str = "Bass") -> Track:
    return Track(name, program=33, role=Role.BASS, notes=notes(*spec))


def drums(*spec, name: str = "Drums") -> Track:
    return Track(name, program=0, is_drum=True, role=Role.DRUMS, notes=notes(*spec))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `bandmate ARGS` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "bandmate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def run_cli_as_a_user(*args: str) -> subprocess.CompletedProcess:
    """`run_cli`, but as root would run it only without the power to read, write and enter any
    folder whatever its mode (CI runs as root): a folder of mode 0 is then closed to it, as it
    is to any other user."""
    import os

    command = [sys.executable, "-m", "bandmate.cli", *map(str, args)]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def assert_user_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2, exactly one line on stderr that mentions `words`, and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def mix_peak_rss_bytes(folder, out) -> int:
    """The peak resident memory of `bandmate mix folder -o out`, run on its own."""
    script = (
        "import resource, sys; from bandmate.cli import main; code = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "mix", str(folder), "-o", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1]) * 1024  # Linux gives kB


def folder_by_split(folder, counts: dict[str, int]) -> None:
    """Different 16-note tunes written as MIDI files into a new `folder`, as many in each split
    of the corpus ledger (by their hashes) as `counts` says."""
    import random

    from bandmate.corpus.ledger import split_for
    from bandmate.io.midi import write_midi

    folder.mkdir()
    wanted = dict(counts)
    seed = 0
    while any(wanted.values()):
        rng = random.Random(seed)
        pitches = [rng.randrange(55, 80) for _ in range(16)]
        track = Track(
            "Tune", 73, role=Role.MELODY, notes=notes(*[(b, 1, p) for b, p in enumerate(pitches)])
        )
        path = folder / f"tune{seed:03}.mid"
        write_midi(make_score(track), path)
        split = split_for(sha256(path))
        if wanted.get(split, 0) > 0:
            wanted[split] -= 1
        else:
            path.unlink()
        seed += 1
