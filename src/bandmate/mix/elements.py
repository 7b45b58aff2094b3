"""Elements: stems that make one part of the mix between them, to be balanced as that part.

A session's stems are not always one per part. A drum kit often comes as its pieces (kick,
snare, hats, toms, overheads, room), a stereo part as two mono files ("Keys L", "Keys R"), and
a source recorded more than one way as a file per way ("Bass DI", "Bass Amp").
The balance model gives a level to a part as one stem (`balance.BalanceModel`); given every
piece of a kit, it set each one about as loud as a whole kit, so the kit came out off its level
against the band by 2.8 dB at the median over the 17 styles and 9 dB at worst (`bench/mix.py`,
kits in pieces; balanced as one kit, 0.9 and 7.2 dB, the worst being the soft kits that the
model misses as whole stems too). This module finds such groups by their names; automix then
balances each as the one stem its stems make
(`stems_gain._balance`): the stems summed at the differences the model reads between them (the
hats under the kick) are read by the model as one stem of the role, the sum is set to that
level, and a stereo pair is panned hard left and right.

Options considered: a fixed balance inside a kit (kick and snare on top, hats 8 dB under...) would
be one more table of conventions that nothing here measures, so the model's reading of each
piece is kept; the loudness of the pieces as a power sum of each one's loudness overstates a kit
by up to 4 dB (a crash that rings now and then reads loud alone, the gate leaving its silences
out), so the sum is measured.

A level a user gives for such a part ("drums" for the kit, "keys" for the pair; `named_elements`
names them) sets the sum at that level with the stems keeping their places within it: a level
per piece would put each piece, not the kit, where the user asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from bandmate.errors import UserError

V = TypeVar("V")

# a drum stem named for a piece of the kit or a microphone on it
KIT_PIECE = re.compile(
    r"kick|kik|\bbd\b|snare|\bsn\b|hi[ -]?hat|hat|\bhh\b|\btoms?\b|floor|overhead|\boh\b|room|"
    r"\bamb|cymbal|\bride\b|crash|\brim\b|clap",
    re.IGNORECASE,
)
# "Keys L", "gtr_left", "OH (R)": a base name and a side
_SIDE = re.compile(
    r"^(?P<base>.*?)(?:[\s_.-]+[(\[]?|[(\[])(?P<side>l|r|left|right)[)\]]?$", re.IGNORECASE
)


# "Bass DI", "Bass Amp", "Gtr_Close", "Vox (Far)": one source taken more than one way (a direct
# input and a microphone on the amplifier, two microphones), a base name and how it was taken
_TAKEN = re.compile(
    r"^(?P<base>.*?)(?:[\s_.-]+[(\[]?|[(\[])"
    r"(?P<how>di|d\.i\.?|direct|line|amp|amps|cab|mic|close|far|in|out|top|bottom|bot|clean|dirty)"
    r"[)\]]?$",
    re.IGNORECASE,
)


# the stem files automix reads (Logic and Pro Tools export AIFF): "Keys L.aif" is a left side;
# the other names of WAV and AIFF files that libsndfile reads (broadcast WAV, Wave64 and RF64,
# which DAWs write for files over 4 GB, AIFF-C), which a folder's scan passed over; Core Audio
# files; and the lossy files libsndfile decodes (MP3, Ogg Vorbis and Opus), which it decodes
# gapless: a click in an Ogg export, or an MP3 with the LAME header encoders write by default,
# lands within a sample of the WAV's, so lossy stems mix in time with lossless ones (an MP3
# written without it, `ffmpeg -write_xing 0`, lands 1105 samples late, as any player plays it).
# A folder's were left out, while the same files named were mixed.
LOSSY_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus")
AUDIO_SUFFIXES = (
    ".wav", ".flac", ".aif", ".aiff", ".aifc", ".bwf", ".wave", ".w64", ".rf64", ".caf",
    *LOSSY_SUFFIXES,
)  # fmt: skip


def _stem_name(name: str) -> str:
    """The name without its audio suffix and leading track number, as `role_from_name` reads it."""
    stem = Path(name).stem if Path(name).suffix.lower() in AUDIO_SUFFIXES else name
    return re.sub(r"^\d+[-_ ]*", "", stem).strip()


def stem_aliases(name: str) -> set[str]:
    """The names a user may type for the stem `name`, lower-cased: the name itself, the name
    without its audio suffix, and that without its leading track number ("01-drums.wav",
    "01-drums", "drums")."""
    return {name.lower(), _stem_name(name).lower(), Path(name).stem.lower()}


# what a DAW's export adds to a track's name: Logic's "_bip" (bounce in place), Pro Tools' "_01"
_EXPORT_SUFFIX = re.compile(r"(?:_bip)?(?:_\d{2,3})?(?:_bip)?$")


def _export_base(name: str) -> str:
    """`name` (lower case) without the suffix a DAW's export adds ("lead vox_bip" -> "lead vox",
    "bass_01" -> "bass"), so that a user may name the track as the session shows it."""
    return _EXPORT_SUFFIX.sub("", name).strip(" _.-")


def track_name(name: str) -> str:
    """The track's name as the DAW session shows it, lower case: no audio suffix, leading track
    number, side ("Keys L", "Click_01.R") or export suffix ("_bip", "_01"); what a user types
    for the track, and what the rules for click tracks and effects returns read."""
    side = stereo_side(name)
    return _export_base(side[0] if side else bare_name(name))


def bare_name(name: str) -> str:
    """The name as the role rules read it: no audio suffix, no leading track number, lower
    case ("03-Lead Vox.wav" -> "lead vox")."""
    return _stem_name(name).lower()


def match_stems(
    given: Mapping[str, V],
    names: Sequence[str],
    what: str,
    elements: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, V]:
    """`given`'s values keyed by the stem names (`names`) their keys name, as a user types them:
    the stem's name ("01-drums.wav", "take2/bass.wav"), or that name without its audio suffix or
    its leading track number ("01-drums", "drums"), in any case. A key that names no stem may name
    one of `elements` (`named_elements`: "drums" for a kit given as its pieces, "keys" for "Keys
    L" and "Keys R"), and is then keyed by that element's name. `what` names the setting in the
    messages. Where neither is named, a key may name a track as the DAW session shows it,
    without what the export added (`_export_base`: "Lead Vox" for Logic's "Lead Vox_bip.wav",
    "Bass" for Pro Tools' "Bass_01.L.wav" and "Bass_01.R.wav" as one part). Raises `UserError`
    for a key that names no stem, or several, or a stem twice (an element and a stem of it count
    as the stem twice)."""
    elements = elements or {}
    out: dict[str, V] = {}
    for key, value in given.items():
        wanted = key.strip().lower()
        found = [n for n in names if wanted in stem_aliases(n)]
        if not found and wanted in elements:
            found = [wanted]
        if not found:  # the name without what a DAW's export adds to it
            found = [n for n in names if wanted in {_export_base(a) for a in stem_aliases(n)}]
            found = found or [label for label in elements if _export_base(label) == wanted]
        if len(found) != 1:
            listed = ", ".join(names)
            if elements:
                listed += "; or, for the stems that make one part, " + ", ".join(
                    f"{label} ({' + '.join(stems)})" for label, stems in elements.items()
                )
            problem = "names no stem" if not found else f"names {len(found)} stems"
            raise UserError(f"{what} {key!r} {problem}; use one of the stems' names: {listed}.")
        if found[0] in out:
            raise UserError(f"{what} is given twice for {found[0]}; give it once.")
        out[found[0]] = value
    for label, stems in elements.items():
        both = [n for n in stems if label in out and n in out]
        if both:
            raise UserError(
                f"{what} is given for {label} and for {both[0]}, which is part of it; give "
                "one of the two."
            )
    return out


def stereo_side(name: str) -> tuple[str, int] | None:
    """(base name, -1 for left or 1 for right) for a stem named as one side of a pair."""
    match = _SIDE.fullmatch(_stem_name(name))
    if match is None or not match["base"].strip(" _.-"):
        return None
    side = -1 if match["side"].lower().startswith("l") else 1
    return match["base"].strip(" _.-").lower(), side


def stereo_pairs(names: Sequence[str], roles: Sequence[str | None]) -> list[tuple[int, int]]:
    """(left, right) stem indices for each base name and role named once as each side."""
    sides: dict[tuple[str, str], dict[int, list[int]]] = {}
    for k, (name, role) in enumerate(zip(names, roles, strict=True)):
        found = stereo_side(name)
        if found:
            sides.setdefault((found[0], role), {}).setdefault(found[1], []).append(k)
    return [
        (pair[-1][0], pair[1][0])
        for pair in sides.values()
        if len(pair.get(-1, ())) == 1 and len(pair.get(1, ())) == 1
    ]


def taken_ways(name: str) -> tuple[str, str] | None:
    """(base name, how it was taken) for a stem named as one way a source was recorded ("Bass
    DI" -> ("bass", "di"), "Gtr Amp" -> ("gtr", "amp")), else None."""
    match = _TAKEN.fullmatch(_stem_name(name))
    if match is None or not match["base"].strip(" _.-"):
        return None
    return match["base"].strip(" _.-").lower(), match["how"].lower().replace(".", "")


def source_groups(names: Sequence[str], roles: Sequence[str | None]) -> list[list[int]]:
    """Stem indices of each source recorded more than one way: stems of one role whose names
    share a base and differ in how they were taken ("Bass DI" and "Bass Amp"). Balanced apart,
    each was set as loud as the whole part, and being one performance they add in phase: a bass
    as DI and amp came out 5-6 dB over its level."""
    found: dict[tuple[str, str], dict[str, list[int]]] = {}
    for k, (name, role) in enumerate(zip(names, roles, strict=True)):
        taken = taken_ways(name)
        if taken and role is not None:
            found.setdefault((taken[0], role), {}).setdefault(taken[1], []).append(k)
    return [
        sorted(k for ks in ways.values() for k in ks)
        for ways in found.values()
        if len(ways) > 1 and all(len(ks) == 1 for ks in ways.values())
    ]


def named_elements(names: Sequence[str], roles: Sequence[str | None]) -> dict[str, list[int]]:
    """The stems (indices) that form an element, each group of two or more, by the name a user
    gives the element: the pieces of a drum kit (drum stems named for a piece) as "drums", and
    each left/right pair outside it by the name its sides share ("keys" for "Keys L" and "Keys
    R"), and each source recorded more than one way (`source_groups`: "bass" for "Bass DI"
    and "Bass Amp"). A stem is in one group at most (a kit's "OH L" and "OH R" belong to the
    kit). A role may be None where it is not yet known: such a stem is in no kit."""
    kit = [k for k, (n, r) in enumerate(zip(names, roles, strict=True)) if r == "drums"
           and KIT_PIECE.search(_stem_name(n))]  # fmt: skip
    out = {"drums": kit} if len(kit) > 1 else {}
    for left, right in stereo_pairs(names, roles):
        if len(kit) > 1 and {left, right} & set(kit):
            continue
        base = stereo_side(names[left])[0]
        label = base if base not in out else f"{base} ({roles[left]})"
        out[label] = [left, right]
    taken = {k for group in out.values() for k in group}
    for group in source_groups(names, roles):
        if set(group) & taken:
            continue
        base = taken_ways(names[group[0]])[0]
        label = base if base not in out else f"{base} ({roles[group[0]]})"
        out[label] = group
    return out


def element_groups(names: Sequence[str], roles: Sequence[str | None]) -> list[list[int]]:
    """The groups of `named_elements`, without their names."""
    return list(named_elements(names, roles).values())


def pair_pans(pairs: Sequence[tuple[int, int]], pans: Sequence[float]) -> list[float]:
    """`pans` with each left/right pair hard to its sides."""
    out = list(pans)
    for left, right in pairs:
        out[left], out[right] = -1.0, 1.0
    return out
