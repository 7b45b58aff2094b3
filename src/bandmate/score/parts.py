"""Which part of a score carries its melody, when no part is marked as the melody.

Reading the tune (to learn it, to check it for copying, to label its chords) starts from one
track; this module picks it, so that every reader picks the same one.
"""

from __future__ import annotations

import re

from bandmate.score.model import Role, Score, Track


def melody_track(score: Score) -> Track | None:
    """The track a piece's melody is read from: the first track with notes whose role is MELODY,
    else the first track with notes that is not drums (a file's first track is often an
    instrument set up and never played) -- unless that track is one staff of an instrument
    written on several, when it is the highest of those staves.

    A piano piece exported from a notation program comes as a track per staff, the left hand
    often first; taking the first track learnt the bass line and compared it in the
    originality check. Staves of one instrument are told by what a notation program writes for
    them: the same program, names that are the same once the words that tell staves apart are
    dropped ("Piano"/"Piano", "Piano RH"/"Piano LH", "Right Hand"/"Left Hand", "Organ 1"/
    "Organ 2", two unnamed tracks), and notes that sound over the same stretch of the piece (a
    second movement on the same program is no staff). Of the staves that follow the first one
    in order, the one with the highest median pitch is the tune's (the right hand's, whose
    chords the tokenizer reads by their top notes). A DAW's "Track 1"/"Track 2" on one program
    pass as staves too: of two such parts the higher is taken, the likelier tune (a pad held
    above the tune on the same program and name would be taken instead). Two parts on
    different programs, or differently named (a flute and an oboe duet, a lead over a bass),
    are never staves: the first is kept as before, and a file whose first part is a bass on a
    bass program is read as it always was."""
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    melodies = [t for t in pitched if t.role == Role.MELODY]
    candidates = melodies or pitched
    if not candidates:
        return None
    first = candidates[0]
    staves = [first]
    for track in candidates[1:]:
        if not staves_of_one_instrument(first, track):
            break
        staves.append(track)
    return max(staves, key=_median_pitch)  # the first of equals: max keeps the earliest


# Words a notation program adds to an instrument's name to tell its staves apart ("Piano RH",
# "Piano (L.H.)", "Organ Pedal", "Piano Treble"/"Piano Bass", "Harp I"): dropped before names
# are compared, as are numbers.
_STAFF_WORDS = frozenset({
    "rh", "lh", "r", "l", "h", "right", "left", "hand", "hands", "upper", "lower", "top",
    "bottom", "treble", "bass", "pedal", "pedals", "staff", "stave", "a", "b", "i", "ii", "iii",
})  # fmt: skip


def _instrument_name(track: Track) -> tuple[str, ...]:
    words = re.findall(r"[a-z0-9]+", track.name.lower())
    return tuple(w for w in words if w not in _STAFF_WORDS and not w.isdigit())


def staves_of_one_instrument(a: Track, b: Track) -> bool:
    """Whether two pitched tracks are staves of one instrument: the same program, the same name
    but for staff words, and sounding together over at least half the shorter one's span."""
    if a.program != b.program or _instrument_name(a) != _instrument_name(b):
        return False
    a_start, b_start = a.notes[0].onset_ticks, b.notes[0].onset_ticks
    together = min(a.end_ticks, b.end_ticks) - max(a_start, b_start)
    shorter = min(a.end_ticks - a_start, b.end_ticks - b_start)
    return together > 0 and 2 * together >= shorter


def _median_pitch(track: Track) -> int:
    pitches = sorted(n.pitch for n in track.notes)
    return pitches[len(pitches) // 2]
