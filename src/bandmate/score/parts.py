"""Which part of a score carries its melody, when no part is marked as the melody.

Reading the tune (to learn it, to check it for copying, to label its chords) starts from one
track; this module picks it, so that every reader picks the same one.
"""

from __future__ import annotations

import re
import unicodedata

from bandmate.score.model import Role, Score, Track


def melody_track(score: Score) -> Track | None:
    """The track a piece's melody is read from: the first track with notes whose role is MELODY,
    else the first track with notes that is not drums (a file's first track is often an
    instrument set up and never played) -- unless that track is one staff of an instrument
    written on several, when it is the highest of those staves.

    A piano piece exported from a notation program may come as a track per staff, the left
    hand first; taking the first track learnt the bass line and compared it in the originality
    check. Staves are told by what a notation program writes for them
    (`staves_of_one_instrument`); of the staves that follow the first one in order, the one
    with the highest median pitch is the tune's (the right hand's, whose chords the tokenizer
    reads by their top notes). Parts that only look alike are not staves: "Track 1"/"Track 2",
    "Guitar 1"/"Guitar 2" or "Flute"/"Flute 2" on one program are as often a low lead under
    chords, a pad or an octave double as a piano's two hands, so the first is kept, as is the
    first of two parts on different programs (a flute and oboe duet, a bass before a lead).

    The voices of a choir are read from the highest: when the first candidate and those that
    follow it are named as voice parts (`choir_voice`: "Bass", "Tenor", "Alto", "Soprano";
    "Choir B" ... "Choir S"; "S.", "A."; Bass/Tenor/Alt/Sopran, Basso/Tenore/Contralto/Soprano,
    Basse/Ténor/Alto/Soprano) and sung on one program or each on a choir or voice program
    (52-54), the tune is the soprano's -- the highest voice named, the first of "Soprano
    1"/"Soprano 2" -- whatever their order. A file written bass first had its bass line learnt,
    checked for copying and labelled with chords as the tune. The names must all be a voice's:
    a "Bass" (guitar) before a "Lead", a "Vocal" and "Backing Vocals", an "Alto Sax" or a "Tenor
    Sax" are parts of a band, and the first is kept as before; so is a bass on its own program
    (32-39) before an "Alto" on another. Voices of one name ("Soprano"/"Soprano") are left to
    the staff rule.

    A part that holds its notes (at the median, for 3/4 of a bar and a dotted half or more: a
    pad's or organ's chords in whole notes, a drone) is passed over for the next part that does
    not, strikes as many notes or more, is no bass part and sits no more than an octave under it
    (a cello's quarters under a violin's whole notes are its bass): a DAW's export often starts
    with its pad ("Strings", a choir's "aahs", a "Track 1" of held chords), and the pad's chords
    were learnt as the tune over the lead that follows (`compose.harmonize` takes held notes for
    no tune where no part is named as the melody). A tune in half notes over an arpeggio holds
    no note so long and is kept, as is a folk tune in quarters written in 1/4 bars; what is lost
    is a tune held in whole notes over a busier line (a cantus firmus under its counterpoint),
    which is far rarer. A piano whose right hand holds chords over a busy left hand is one part,
    its right hand kept; a held part is kept over a stray of a few notes after it, or a bass."""
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    melodies = [t for t in pitched if t.role == Role.MELODY]
    candidates = melodies or pitched
    if not candidates:
        return None
    if (soprano := choir_tune(candidates)) is not None:
        return soprano
    tune, end = _part(candidates, 0)
    if _held(tune, score):
        while end < len(candidates):
            line, end = _part(candidates, end)
            if (
                line.role != Role.BASS
                and not _held(line, score)
                and _onsets(line) >= _onsets(tune)
                and _median_pitch(line) >= _median_pitch(tune) - 12
            ):
                return line
    return tune


def choir_tune(tracks: list[Track]) -> Track | None:
    """The highest voice of the choir that `tracks` begin with (see `melody_track`), or None
    when they begin with no two voices of one choir."""
    choir = _choir(tracks)
    if len({voice for _, voice in choir}) < 2:
        return None
    return max(choir, key=lambda voice: voice[1])[0]  # max keeps the first of equals


def _part(candidates: list[Track], start: int) -> tuple[Track, int]:
    """(the tune's staff of the part that starts at `candidates[start]`: the highest of it and
    the staves of its instrument that follow it, the index of the next part)."""
    first, end = candidates[start], start + 1
    while end < len(candidates) and staves_of_one_instrument(first, candidates[end]):
        end += 1
    return max(candidates[start:end], key=_median_pitch), end  # max keeps the first of equals


def _held(track: Track, score: Score) -> bool:
    """Whether a part holds its notes as a pad does: at the median, for 3/4 of a bar or more and
    a dotted half or more (a tune in 1/4 or 2/4 bars fills its short bars)."""
    grid, beat = score.bar_grid, score.ticks_per_beat

    def held_for(note) -> float:
        bar = grid.meter_at(note.onset_ticks).bar_ticks(beat)
        return note.duration_ticks / max(3 * bar / 4, 3 * beat)

    lengths = sorted(held_for(n) for n in track.notes)
    return lengths[len(lengths) // 2] >= 1


def _onsets(track: Track) -> int:
    return len({n.onset_ticks for n in track.notes})


# Words a notation program adds to an instrument's name to tell its staves apart ("Piano RH",
# "Piano (L.H.)", "Piano Treble"/"Piano Bass", "Klavier rechts", "Mano
# izquierda", "Piano m.g."), in English, German, French, Spanish and Italian.
_STAFF_WORDS = frozenset({
    "rh", "lh", "right", "left", "hand", "hands", "upper", "lower", "treble",
    "bass", "pedal", "pedals", "staff", "stave", "rechts", "links", "rechte", "linke", "droite",
    "gauche", "main", "derecha", "izquierda", "mano", "destra", "sinistra", "md", "mg", "mi",
    "ms",
})  # fmt: skip


#: the staff words that alone in one of two names still tell a staff: a hand named with its
#: side, an abbreviation for one, or the word staff
_HAND_ABBREVIATIONS = frozenset({"rh", "lh", "md", "mg"})
_HANDS = frozenset({"hand", "hands", "mano", "main"})
_SIDES = frozenset({"right", "left", "rechts", "links", "rechte", "linke", "droite", "gauche",
                    "derecha", "izquierda", "destra", "sinistra"})  # fmt: skip
_STAVES = frozenset({"staff", "stave"})


def _name_words(name: str) -> list[str]:
    """The words of a track's name, lower case, a staff's "RH" or "LH" glued to the name
    ("PianoLH") taken apart and an abbreviation with stops ("L.H.", "m.g.") made one."""
    words = []
    name = re.sub(r"\b([a-z])\.\s?([a-z])\.", r"\1\2", name.lower())  # "R.H.", "m.g." as one
    for word in re.findall(r"[a-z0-9]+", name):
        if len(word) > 2 and word[-2:] in ("rh", "lh"):
            words += [word[:-2], word[-2:]]
        else:
            words.append(word)
    return words


def staff_names(a: str, b: str) -> bool:
    """Whether two part names are those of two staves of one instrument: the same name, or
    names that differ only in staff words, with one in each, or in one words that name a hand
    or a staff (see `staves_of_one_instrument`); two unnamed parts are two parts."""
    words_a, words_b = _name_words(a), _name_words(b)
    if words_a and words_a == words_b:
        return True
    plain_a = [w for w in words_a if w not in _STAFF_WORDS]
    plain_b = [w for w in words_b if w not in _STAFF_WORDS]
    staff_a, staff_b = set(words_a) & _STAFF_WORDS, set(words_b) & _STAFF_WORDS
    if plain_a != plain_b or not (staff_a or staff_b):
        return False
    if staff_a and staff_b:
        return True
    # in one name only, the words must name a hand ("LH", "Left Hand", "m.g.") or a staff:
    # "Piano"/"Piano LH" are staves; "Synth"/"Synth Bass", "Guitar"/"Guitar Left",
    # "Claps"/"Hand Claps" and "Vocal"/"Main Vocal" are two parts
    extra = staff_a | staff_b
    return bool(
        extra & _HAND_ABBREVIATIONS or (extra & _HANDS and extra & _SIDES) or extra & _STAVES
    )


def staves_of_one_instrument(a: Track, b: Track) -> bool:
    """Whether two pitched tracks are staves of one instrument: the same program, notes that
    sound together over at least half the shorter one's span (a second movement on the same
    program is no staff), and the same name ("Piano"/"Piano"; unnamed parts are not), or
    names that differ only in the words that tell staves apart (`_STAFF_WORDS`: "Piano
    RH"/"Piano LH", "Right Hand"/"Left Hand", "Klavier rechts"/"Klavier links"). A number is
    no such word: "Track 1"/"Track 2" and "Guitar 1"/"Guitar 2" name two parts."""
    if a.program != b.program or not staff_names(a.name, b.name):
        return False
    a_start, b_start = a.notes[0].onset_ticks, b.notes[0].onset_ticks
    together = min(a.end_ticks, b.end_ticks) - max(a_start, b_start)
    shorter = min(a.end_ticks - a_start, b.end_ticks - b_start)
    return together > 0 and 2 * together >= shorter


def _median_pitch(track: Track) -> int:
    pitches = sorted(n.pitch for n in track.notes)
    return pitches[len(pitches) // 2]


# The voice parts of a choir, by how high they sing, under the names a notation program or a
# choir's MIDI file gives them in English, German, Italian and French, abbreviated or not (a
# letter alone, "S." or "Choir S", is one too); accents are taken off first ("Ténor").
_VOICE_RANKS = {
    **dict.fromkeys(("soprano", "sopran", "sopr", "sop", "s", "canto", "cantus", "discantus",
                     "superius", "dessus"), 6),
    "mezzo": 5, "mezzosoprano": 5,
    **dict.fromkeys(("alto", "alt", "contralto", "a", "altus", "countertenor", "contratenor"), 4),
    **dict.fromkeys(("tenor", "tenore", "ten", "t", "taille"), 3),
    **dict.fromkeys(("baritone", "bariton", "baritono"), 2),
    **dict.fromkeys(("bass", "basso", "basse", "bassus", "b"), 1),
}  # fmt: skip
#: words a voice part's name may hold besides its voice: the choir's, a solo's, and a number
_CHOIR_WORDS = frozenset({
    "choir", "chorus", "chor", "coro", "choeur", "voice", "voices", "voix", "voce",
    "voci", "stimme", "vocal", "vocals", "satb", "solo", "soli", "tutti", "i", "ii", "iii", "iv",
})  # fmt: skip
_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_VOICE_PROGRAMS = range(52, 55)  # choir aahs, voice oohs, synth voice


def choir_voice(name: str) -> tuple[int, int] | None:
    """(how high the voice sings, minus its number) when a track's name is that of a choir's
    voice part, else None: "Soprano" (6, -1), "Soprano 2" (6, -2), "Choir B" and "Basso" (1,
    -1), "Soprano/Alto" (6, -1), the highest voice named. A name with any other word is no
    voice part: "Bass Guitar", "Alto Sax", "Lead Vocal", "Backing Vocals"."""
    plain = unicodedata.normalize("NFKD", name.lower().replace("œ", "oe"))
    words = re.findall(r"[a-z]+|[0-9]+", plain.encode("ascii", "ignore").decode())
    if any(w not in _VOICE_RANKS and w not in _CHOIR_WORDS and not w.isdigit() for w in words):
        return None
    ranks = [_VOICE_RANKS[w] for w in words if w in _VOICE_RANKS]
    numbers = [
        int(w) if w.isdigit() else _NUMERALS[w] for w in words if w.isdigit() or w in _NUMERALS
    ]
    return (max(ranks), -(numbers[0] if numbers else 1)) if ranks else None


def _choir(candidates: list[Track]) -> list[tuple[Track, tuple[int, int]]]:
    """The first candidate and those that follow it while they are voices of one choir (see
    `melody_track`), each with its `choir_voice`; empty when the first is no voice part."""
    voices = []
    for track in candidates:
        voice = choir_voice(track.name)
        if voice is None:
            break
        voices.append((track, voice))
    programs = {track.program for track, _ in voices}
    if len(programs) > 1 and not programs <= set(_VOICE_PROGRAMS):
        return []
    return voices
