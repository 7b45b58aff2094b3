"""A stem's role (drums, bass, keys, guitar, pad, lead, vocal) and how automix treats each:
the role table (`data/mixing/roles.toml`: the name rules, high-pass, compression, pan), the role
a stem's name says (`role_from_name`), the role its sound suggests (`detect_role_from_content`),
and the names that mark a stem as no part at all or as an effect (`CLICK_NAME`, `MONITOR_NAME`,
`RETURN_NAME`, `FX_NAME`). `mix.automix` documents how the roles are used.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.ndimage

from bandmate.mix.balance import onset_rate_per_s, welch
from bandmate.mix.elements import AUDIO_SUFFIXES
from bandmate.mix.stems_prepare import NOISE_FLOOR_FLATNESS, spectrum_flatness


@dataclass(frozen=True)
class RoleSettings:
    """One row of roles.toml: how a role is named, filtered, compressed and panned."""

    role: str
    highpass_hz: float | None
    pan: float
    importance: int
    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float
    names: tuple[str, ...]


@cache
def load_roles() -> dict[str, RoleSettings]:
    """The role table, in the order its name rules are tried."""
    text = (resources.files("bandmate.data") / "mixing" / "roles.toml").read_text("utf-8")
    table = tomllib.loads(text)["roles"]
    return {
        role: RoleSettings(
            role=role,
            highpass_hz=row.get("highpass_hz"),
            pan=float(row["pan"]),
            importance=int(row["importance"]),
            threshold_db=float(row["threshold_db"]),
            ratio=float(row["ratio"]),
            attack_ms=float(row["attack_ms"]),
            release_ms=float(row["release_ms"]),
            names=tuple(row["names"]),
        )
        for role, row in table.items()
    }


# a stem's partials (`partials_db`) stand out at most this far in a kit, and less than the second
# in a bass (an organ's chords stand further)
DRUM_PARTIALS_DB, BASS_PARTIALS_DB = 8.0, 16.0


def role_from_name(name: str, table: Mapping[str, RoleSettings] | None = None) -> str | None:
    """The role a stem's name says ("03-bass.wav" -> "bass", "Strings" -> "pad"), or None.

    The file's suffix and a leading number are dropped; the roles' patterns (roles.toml) are
    tried in the table's order and the first that matches anywhere in the name wins.
    """
    table = table or load_roles()
    stem = Path(name).stem if Path(name).suffix.lower() in AUDIO_SUFFIXES else name
    stem = re.sub(r"^\d+[-_ .]+(?=\S)", "", stem).lower()  # "03-bass", but "808" is a name
    for role, settings in table.items():
        if any(re.search(p, stem) for p in settings.names):
            return role
    return None


def detect_role_from_content(
    samples: np.ndarray, sample_rate: int, frames: int | None = None
) -> str:
    """A role guessed from the sound, for a stem whose name says nothing.

    `frames`, when longer than `samples`, is the length of the song the stem begins, silent
    after it (as `welch` takes it): the role is the one the stem padded to it would get.

    The rule, on the mono sum, from a Welch spectrum's share of energy below 250 Hz and its
    centroid, how far its partials stand out (`partials_db`) and the onset rate
    (`onset_rate_per_s`):
    - partials under `DRUM_PARTIALS_DB` (8 dB: a kit's spectrum is mostly noise), at least one
      onset a second and a centroid from 600 Hz: drums;
    - 55% or more of the energy below 250 Hz, a centroid under 300 Hz and partials under
      `BASS_PARTIALS_DB` (16 dB): bass. An organ's chords on a 16' stop hold as much low end,
      but their many steady partials stand 19-26 dB out;
    - fewer than 0.5 onsets a second (sustained): pad;
    - a centroid above 1.2 kHz: lead; otherwise keys.
    Guitar and vocal are never guessed: by sound alone they pass for keys or lead.

    The thresholds were read off the 17 styles' stems on three charts (228 stems, bench/mix.py's
    chart among them), where basses now read as bass 40 times in 40 (30 before, the rest keys).
    Held out, the same parts played by other General MIDI instruments (228 stems of 5 styles:
    8 basses, 8 drum kits, pianos and mallets, organs, guitars, pads, brass and reeds):
    - basses read as bass 35 times in 40, 26 before; before, 8 went to keys, to be high-passed
      at 90 Hz. Slap basses, as bright as a kit, still go to keys or drums;
    - kits read as drums 35 times in 40, as before (an orchestral kit, timpani, reads as bass
      or keys);
    - guitars read as drums 3 times in 40 (a muted guitar's chops are noise), 11 before;
    - vibraphone and marimba playing a low piano part read as bass twice.
    On bench/mix.py with the stems named "Audio 1"... (roles from sound alone), the roles
    match the names' for 112 of 152 stems (92 before) and the level error is 1.96 / 9.5 dB
    median / worst (2.37 / 9.3 before; named, 1.43 / 6.0).
    """
    mono = samples.mean(axis=0).astype(np.float64)
    if not np.any(mono):
        return "keys"
    freqs, power = welch(mono, sample_rate, frames=frames)
    total = power.sum()
    if not total > 0:  # a constant: no spectrum (the segments' means are removed), no role
        return "keys"
    low_share = power[freqs < 250].sum() / total
    centroid = float((freqs * power).sum() / total)
    onsets_per_s = onset_rate_per_s(samples, sample_rate, frames)
    partials = partials_db(mono, sample_rate, frames)
    if partials < DRUM_PARTIALS_DB and onsets_per_s >= 1 and centroid >= 600:
        return "drums"
    if low_share >= 0.55 and centroid < 300 and partials < BASS_PARTIALS_DB:
        return "bass"
    if onsets_per_s < 0.5:
        return "pad"
    return "lead" if centroid > 1200 else "keys"


def partials_db(mono: np.ndarray, sample_rate: int, frames: int | None = None) -> float:
    """How far a sound's partials stand out of its spectrum (dB): the 95th percentile, over
    80 Hz-4 kHz, of a fine Welch spectrum's level (bins of about 5 Hz) over its running median
    across 31 bins (about 170 Hz). Steady noise reads under 3 dB, a kit 4-7 dB, pitched
    instruments 10-30 dB, the more the more steady partials they hold. A gain does not move it.
    NaN for a signal too short to hold a bin in that range (every comparison with it fails)."""
    segment = 1 << round(math.log2(sample_rate / 5.4))
    freqs, power = welch(mono, sample_rate, segment=segment, frames=frames)
    level = 10 * np.log10(power + power.max() * 1e-12)
    over = level - scipy.ndimage.median_filter(level, size=31, mode="nearest")
    over = over[(freqs > 80) & (freqs < 4000)]
    return float(np.percentile(over, 95)) if len(over) else math.nan


# a click track, a metronome or a count-in: the players' guide, which no mix carries. The whole
# of the track's name (`elements.track_name`: no take number, side or export suffix, so
# "Click_01.L" is "click"), but for a number: a part whose name holds the word, a "Rim Click" or
# a "Click Perc", is music
CLICK_NAME = re.compile(
    r"(?:count[ _-]?ins?[ _-]?)?(?:click|clik|metronome|metro)(?:[ _-]?(?:track|trk))?"
    r"(?: ?\((?:click|metronome|metro)\))?(?:[ _-]?\d+)?|count[ _-]?ins?(?:[ _-]?\d+)?"
)
# a sum of the session or a feed for the players, not a part: a cue or headphone mix, a monitor
# mix, a talkback microphone, a rough or reference mix, a bounce or print of the whole session
# ("Mix", "Mix Bus", and the master bus as DAWs name it: "Master", "Main", "Stereo Out"), which
# a DAW's export of every track may hold beside them. Mixed in, it doubled every part under it
# (a "Cue Mix" was balanced as a drum part). The whole of the track's name, as for `CLICK_NAME`,
# but for a number or letter: a part's print or bounce ("Bass Print", "Vox Bounce") and a part
# summed on a bus ("Mix Bus Perc", "Drum Bus") are music. A letter after the name needs a
# separator ("Mix B", "Cue_A"): "Cued", "Bounced", "Maina" and "Mixb" are no such name
MONITOR_NAME = re.compile(
    r"(?:(?:cue|head[ _-]?phones?|phones|monitor|foldback|in[ _-]?ear|iem)"
    r"(?:[ _-]?(?:mix|send|feed|bus))?|(?:hp|cans|mon)[ _-]?(?:mix|send|feed|bus)"
    r"|cues|monitors|talk[ _-]?back(?:[ _-]?mic)?|tb[ _-]?mic|rough|ref|reference|mains?"
    r"|(?:(?:rough|ref|reference|stereo|full|main|master|final|mix)[ _-]?)?"
    r"(?:mix(?:[ _-]?down)?|bounce|print|master)"
    r"|(?:stereo|main|master|mix)[ _-]?(?:bus|out|output|sum)"
    r")(?:[ _-]?\d+|[ _-][a-d])?"
)
# the one `MONITOR_NAME` that names a part as often as a mix: "Main", a master bus as some DAWs
# name it, and the lead vocal in a "Vocals" folder. A stem so named is left out only where its
# sound is the sum of the other stems (`session_layout._mixes_by_sound`, which asks any stem
# whose name says no part), else mixed with a note saying how to leave it out. "Master",
# "Print", "Bounce", "Rough", "Reference" and the rest name mixes far more often, and are left
# out by name: a "Reference" (a commercial song) never sums the stems
MONITOR_BARE_NAME = re.compile(r"mains?(?:[ _-]?\d+|[ _-][a-d])?")
# an effects return, read from the track's name: one named for its effect or as a return
# anywhere in it ("Verb Return", "Reverb Bus", "Delay Slap", "Vox Verb", "Rtn 2"), or an aux bus
# ("Aux 1", "Aux B", "Aux Bus"): kept in the centre, stereo as the session made it, and at its
# place against the stems sent to it. "Aux" before anything else names a part ("Aux Perc", an
# auxiliary percussionist's shaker), balanced as one
RETURN_NAME = re.compile(
    r"(?<![a-z])(?:reverb|verb|return|rtn|delay|dly|echo)(?![a-z])"
    r"|^aux(?:[ _-]?(?:\d+|[a-h]|bus|return|rtn|send|fx))?$"
)
# an effects track ("FX", "SFX"): a return or a part of risers and hits; kept in the centre
FX_NAME = re.compile(r"(?<![a-z])s?fx(?![a-z])")


# what makes a vocal a double in roles.toml ("Vox Dbl", "Lead Vocal Doubled")
DOUBLE_WORD = re.compile(r"dbl|double", re.IGNORECASE)


# A stem (or one side of a track) that holds nothing but noise: the hiss of a track armed and
# left unused, or the hum a ground loop put on an input. Read by its sound as a part, it was
# raised to its role's level: hiss at -50 dBFS beside a bass, 26.5 dB under it, went up 13.5-16.5
# dB.
# It is told from a part by three things together, each of which some part has too:
# - steady over the whole stem: its 400 ms levels within `NOISE_STEADY_RANGE_DB` (5th to 95th
#   percentile), at most `NOISE_MAX_ONSETS` onsets (`onset_rate_per_s`: where a region of hiss
#   starts after silence, or a punch-in), and, for hiss, its 25 ms levels (of its first
#   difference, which the hiss's highs carry) within `NOISE_FLUTTER_DB` (standard deviation):
#   a shaker loop or a brushed snare, as flat and as steady at 400 ms, flutter with every
#   stroke (2-14 dB), where white or pink hiss moves 0.2-0.3 dB. A noise under 100 Hz or so (a
#   rumble) reads unsteady at 400 ms and jumps at 10 ms for its own randomness, a few cycles a
#   frame; it is steady through its first difference, which whitens it, where it is read once
#   its samples are a Gaussian noise's (`NOISE_GAUSSIAN_KURTOSIS`), as a struck part's are not
#   (a kick's thumps sink under its hiss floor there);
# - hiss (its spectrum flat within octaves from 31 Hz, `stems_prepare.spectrum_flatness`, as a
#   held pad's, an organ drone's or a sub's partials are not; white, pink or a brown rumble)
#   or hum (`_without_hum`: the peaks over the spectrum's floor on the harmonics of 50 or 60
#   Hz, with their weight on the first few, where a ground loop's hum or buzz has it: a held
#   note's partials can all sit on that comb, F4 349.2 Hz by 7 x 50, E5 659.3 Hz by 11 x 60,
#   F5 and E6 too, and a held choir "ooh", ocarina or recorder on them was taken for hum, but
#   no note's fundamental sits on 50-240 Hz's harmonics, G1 49 Hz, the nearest, 1 Hz off; a
#   pure sine held on 50 or 60 Hz is hum to this test, and only its level tells it), or hum
#   over hiss, flat once the hum's bins are put down to the floor beside them: hiss 3-5 dB
#   under a hum was mixed as a part and raised 29 dB, and a rumble (brown noise over 40 Hz) was
#   taken for a bass;
# - quiet, a floor rather than a sound (checked in `session_layout._faint_sides`, which has the
#   others' loudness): a white-noise or wind bed used as sound design sits among the parts.
NOISE_STEADY_RANGE_DB = 2.0
NOISE_MAX_ONSETS = 2  # a shaker strikes 10 times a second, brushes 4
NOISE_FLUTTER_DB = 1.5
NOISE_GAUSSIAN_KURTOSIS = (2.4, 3.6)  # Gaussian noise 3; a kick pattern 20, a bass line 4.5
NOISE_KURTOSIS_STEP = 7  # (a 5-minute stem's kurtosis in 0.1 s)
NOISE_HISS_FLATNESS = NOISE_FLOOR_FLATNESS  # as flat as the noise floor under a part
NOISE_LOWEST_HZ = 31.25  # the flatness is read in octaves from here (a sub's octave included)
NOISE_RUMBLE_HZ = 250.0  # noise with `NOISE_RUMBLE_SHARE` of its energy under this is rumble
NOISE_RUMBLE_SHARE = 0.5  # (pink 0.4, brown 0.9)
NOISE_HUM_SHARE = 0.8  # of the spectrum's peaks, on the mains harmonics
NOISE_HUM_LOW_SHARE = 0.3  # of them, on the first four: hum 1/h^1.5 0.98, buzz 1/h to 40 0.88
NOISE_HUM_ALONE_SHARE = 0.2  # hum with no more than this share of the energy left without it
NOISE_HUM_LOW_HARMONICS = 4
NOISE_PEAK_OVER_FLOOR = 4.0  # a bin this many times its floor is a peak (hiss's bins: hardly ever)
NOISE_FLOOR_SPAN_HZ = 20.0
NOISE_MIN_SECONDS = 2.0  # shorter, a stem's steadiness says nothing
NOISE_SAMPLE_SECONDS = 8.0  # the spectrum, onsets and 25 ms levels are read from this much
MAINS_HZ = (50.0, 60.0)


def noise_kind(samples: np.ndarray, sample_rate: int) -> str | None:
    """The noise a stem (channels, frames) holds and nothing else: "hiss" (steady broadband
    noise), "rumble" (the same, most of it under 250 Hz), "hum" (steady mains hum), or hum
    over either ("hum and hiss", "hum and rumble"), see `NOISE_STEADY_RANGE_DB`; else None.
    Its level is not read here: a gain does not move the answer. Digital silence (a take
    shorter than the song, a region that starts late) is left out: the stem is read from its
    first sound to its last, and silence between is left out of the steadiness."""
    # float32, and the finer tests on a sample: the stems are read side by side on threads
    mono = samples[0] if len(samples) == 1 else samples.mean(axis=0, dtype=np.float32)
    heard = mono != 0
    mono = mono[int(np.argmax(heard)) : len(mono) - int(np.argmax(heard[::-1]))]
    if len(mono) < NOISE_MIN_SECONDS * sample_rate or not heard.any():
        return None
    middle = len(mono) // 2
    half = round(NOISE_SAMPLE_SECONDS * sample_rate / 2)
    sample = mono[max(0, middle - half) : middle + half]
    if not (
        _steady(mono, sample, sample_rate)
        or (_gaussian(mono) and _steady(np.diff(mono), np.diff(sample), sample_rate))
    ):
        return None
    freqs, power = welch(sample, sample_rate, segment=2 * sample_rate)  # 0.5 Hz bins
    power[0] = 0.0  # (an offset is no noise)
    total = float(power.sum())
    if not total > 0:
        return None
    rest = _without_hum(freqs, power)
    hum = rest is not None
    if hum and float(rest.sum()) <= NOISE_HUM_ALONE_SHARE * total:
        return "hum"
    rest = power if rest is None else rest
    flutter = _frame_levels_db(np.diff(sample), round(0.025 * sample_rate))
    if len(flutter) < 2 or float(np.std(flutter)) > NOISE_FLUTTER_DB:
        return None  # (none: a constant, whose difference is silence)
    if spectrum_flatness(freqs, rest, NOISE_LOWEST_HZ, sample_rate) < NOISE_HISS_FLATNESS:
        return None  # partials: a held note or chord, a sub sine
    read = freqs >= NOISE_LOWEST_HZ  # (under it, nothing a rumble is named for)
    low_share = float(rest[read & (freqs < NOISE_RUMBLE_HZ)].sum()) / float(rest[read].sum())
    kind = "rumble" if low_share >= NOISE_RUMBLE_SHARE else "hiss"
    return f"hum and {kind}" if hum else kind


def _steady(mono: np.ndarray, sample: np.ndarray, sample_rate: int) -> bool:
    """Whether `mono`'s 400 ms levels stay within `NOISE_STEADY_RANGE_DB` (5th to 95th
    percentile) and `sample` (a stretch of it) holds `NOISE_MAX_ONSETS` onsets or fewer."""
    levels = _frame_levels_db(mono, round(0.4 * sample_rate))
    if len(levels) < 3:
        return False
    low, high = np.percentile(levels, [5, 95])
    if high - low > NOISE_STEADY_RANGE_DB:
        return False
    onsets = onset_rate_per_s(sample[None], sample_rate) * len(sample) / sample_rate
    return onsets <= NOISE_MAX_ONSETS + 0.5


def _gaussian(mono: np.ndarray) -> bool:
    """Whether the kurtosis of `mono`'s samples (every `NOISE_KURTOSIS_STEP`th) is a Gaussian
    noise's, within `NOISE_GAUSSIAN_KURTOSIS`: read over the whole stem, as its steadiness is,
    since a part that rests through the middle of a song over its hiss floor is Gaussian there.
    `noise_kind` trims the silence before and after the stem's region; a zero sample within it
    counts (quiet 16-bit noise holds many)."""
    x = mono[::NOISE_KURTOSIS_STEP].astype(np.float64)
    x -= float(np.mean(x))
    power = float(np.mean(x**2))
    if not power > 0:
        return False
    low, high = NOISE_GAUSSIAN_KURTOSIS
    return low <= float(np.mean(x**4)) / power**2 <= high


def _frame_levels_db(mono: np.ndarray, hop: int) -> np.ndarray:
    """The level (dB) of each whole `hop`-frame stretch of `mono` that is not digital silence."""
    ticks = len(mono) // hop
    frames = mono[: ticks * hop].reshape(ticks, hop)
    energy = np.einsum("ij,ij->i", frames, frames) / hop
    return 10 * np.log10(energy[energy > 0])


def _mains_tolerance_hz(freqs: np.ndarray) -> np.ndarray:
    """How far from a harmonic of the mains a bin may lie and count as hum: one bin (0.5 Hz,
    where the window spreads a steady tone) and 0.4% of the frequency for the mains' drift
    (0.2 Hz at 50 Hz; at most 2 Hz), which moves each harmonic by its number."""
    return 0.5 + np.minimum(0.004 * freqs, 2.0)


def _without_hum(freqs: np.ndarray, power: np.ndarray) -> np.ndarray | None:
    """`power` (a Welch spectrum at `freqs`, 0.5 Hz bins) with the bins of a mains hum on it put
    down to the spectrum's floor beside them; None where it holds no hum.

    Hum is read from the peaks over the floor (`NOISE_PEAK_OVER_FLOOR` times the running median
    over `NOISE_FLOOR_SPAN_HZ`), so that hiss under it does not hide it: `NOISE_HUM_SHARE` of
    their energy within `_mains_tolerance_hz` of the harmonics of 50 or 60 Hz and
    `NOISE_HUM_LOW_SHARE` within the first `NOISE_HUM_LOW_HARMONICS`."""
    span = round(NOISE_FLOOR_SPAN_HZ / (freqs[1] - freqs[0])) | 1
    floor = scipy.ndimage.median_filter(power, size=span, mode="nearest")
    peaks = np.maximum(power - NOISE_PEAK_OVER_FLOOR * floor, 0.0)
    peaks[freqs < MAINS_HZ[0] / 2] = 0.0  # (the drift of an offset, a rumble's depths)
    total = float(peaks.sum())
    if not total > 0:
        return None
    for mains in MAINS_HZ:
        number = np.maximum(np.round(freqs / mains), 1.0)
        near = np.abs(freqs - number * mains) <= _mains_tolerance_hz(freqs)
        low = near & (number <= NOISE_HUM_LOW_HARMONICS)
        if float(peaks[near].sum()) < NOISE_HUM_SHARE * total:
            continue
        if float(peaks[low].sum()) < NOISE_HUM_LOW_SHARE * total:
            continue
        return np.where(near, np.minimum(power, floor), power)
    return None
