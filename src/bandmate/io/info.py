"""What a music or audio file holds, in a few lines a person can read."""

from __future__ import annotations

import math
import os
from pathlib import Path

from bandmate.score.model import CHANNEL_PRESSURE, PITCH_BEND

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg")
MAX_LISTED = 8  # tempos, meters or keys listed one by one; more are summed up


def describe_file(path: str | os.PathLike) -> list[tuple[str, str]]:
    """(label, value) pairs that describe a score file (MIDI, MusicXML, ABC) or an audio file."""
    if Path(path).suffix.lower() in AUDIO_SUFFIXES:
        return _describe_audio(path)
    from bandmate.io.formats import read_score

    return describe_score(read_score(path))


def describe_score(score) -> list[tuple[str, str]]:
    meters = []
    for m in score.time_signatures:  # a pickup bar repeats the meter where it ends
        if not meters or meters[-1] != str(m):
            meters.append(str(m))
    bpms = [t.tempo_bpm for t in score.tempos]
    tempos = _listed([f"{bpm:.5g}" for bpm in bpms])
    if len(bpms) > MAX_LISTED:
        tempos += f"; {min(bpms):.5g} to {max(bpms):.5g}"
    rows = [
        ("title", score.title or "-"),
        (
            "duration",
            f"{score.duration_seconds:.2f} s, {score.bar_grid.bar_count(score.end_ticks)} bars",
        ),
        ("tempo", f"{tempos} BPM"),
        ("meter", _listed(meters)),
        ("key", _listed([str(k.key) for k in score.keys]) or "-"),
        ("chords", str(len(score.chords))),
        ("sections", ", ".join(s.name for s in score.sections) or "-"),
        ("resolution", f"{score.ticks_per_beat} ticks per beat"),
    ]
    for t in score.tracks:
        sound = "drums" if t.is_drum else f"program {t.program}"
        held = f", {_controls_text(t.controls)}" if t.controls else ""
        count = f"{len(t.notes)} note{'' if len(t.notes) == 1 else 's'}"
        rows.append((f"track {t.name}", f"{t.role.value}, {sound}, {count}{held}"))
    return rows


#: what a track's controller changes are called when `info` lists them
_CONTROL_NAMES = {64: "sustain pedal", 66: "sostenuto pedal", 67: "soft pedal", 7: "volume",
                  11: "expression", 10: "pan", 1: "modulation", PITCH_BEND: "pitch bend",
                  CHANNEL_PRESSURE: "aftertouch"}  # fmt: skip


def _controls_text(controls) -> str:
    """ "12 controller changes (sustain pedal, pitch bend)": how many, and of what, the ones a
    player would look for named first."""
    numbers = {c.number for c in controls}
    named = [name for number, name in _CONTROL_NAMES.items() if number in numbers]
    if numbers - set(_CONTROL_NAMES):
        named.append("other")
    plural = "change" if len(controls) == 1 else "changes"
    return f"{len(controls)} controller {plural} ({', '.join(named)})"


def _listed(values: list[str]) -> str:
    """`values` joined by commas; past MAX_LISTED, the first ones and how many there are (a file
    with a tempo change every beat printed hundreds of them on one line)."""
    if len(values) <= MAX_LISTED:
        return ", ".join(values)
    return ", ".join(values[: MAX_LISTED - 2]) + f", ... ({len(values)} in all)"


def _describe_audio(path) -> list[tuple[str, str]]:
    import soundfile as sf

    from bandmate.io.audio import read_audio

    audio = read_audio(path)
    subtype = sf.info(os.fsencode(path)).subtype_info  # bytes: a name that is not UTF-8 opens too
    peak = audio.peak()
    peak_db = f"{20 * math.log10(peak):.1f} dBFS" if peak > 0 else "silent"
    return [
        ("format", subtype),
        ("channels", str(audio.channels)),
        ("sample rate", f"{audio.sample_rate} Hz"),
        ("duration", f"{audio.duration_seconds:.2f} s"),
        ("sample peak", peak_db),
    ]
