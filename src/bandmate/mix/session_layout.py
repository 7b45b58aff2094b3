"""How a session's stems stand to one another, read from their names and their signals, for
`mix.automix`: the click tracks and cue or reference mixes a mix leaves out (`_without_guides`),
a role given by a track's name to both of its mono sides (`_pair_roles`) or read from their sound
for both together (`_pair_content_roles`), a level given by a
stem's or a part's name (`_match_levels`, `_members`), the stems that hold one part twice
(`_copies`) or cancel each other out (`_cancelling_pairs`), and an effects return kept at its
place against the stems sent to it (`_returns_as_sent`; said where its name names a part too,
`_ambiguous_return_notes`), and the stems and track sides that hold only noise, kept as far
under the parts as they came (`_faint_sides`, `_faint_levels`). `mix.automix` documents how
each is used.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bandmate.errors import UserError
from bandmate.mix.elements import match_stems, stem_aliases, stereo_pairs, stereo_side, track_name
from bandmate.mix.roles import (
    CLICK_NAME,
    MONITOR_BARE_NAME,
    MONITOR_NAME,
    RETURN_NAME,
    detect_role_from_content,
    role_from_name,
)


def _match_levels(given, names, elements) -> dict[str, float]:
    """The levels `given` keyed by the stem or element (`elements`) each key names."""
    members = {label: [names[k] for k in group] for label, group in elements.items()}
    return match_stems(given, names, "The level", members)


def _members(key: str, names, elements) -> list[str]:
    """The stems a level keyed by `key` (a stem's name or an element's) is given for."""
    return [key] if key in names else [names[k] for k in elements[key]]


# two stems cancel when their sum holds a quarter of their energies' sum or less (6 dB under
# what two unrelated stems give): a correlation of -0.75 at equal levels, and their sum at least
# 3 dB under the louder one alone
CANCEL_SHARE = 0.25

CANCEL_FRAMES = 200_000  # frames per stem the check reads (evenly spaced): a Gram matrix of them

# two stems of one role whose signals correlate this closely are one part twice (a duplicated
# track, a parallel-processed copy): a unison double-tracked by a player stays far under it
COPY_CORRELATION = 0.95


def _copies(signals, roles, elements, frames: int) -> list[list[int]]:
    """Stem indices of each group of stems, not yet in one of `elements`, of one role whose mono
    signals (read every `_cancel_step` frames) correlate by `COPY_CORRELATION` or more: the same
    part in phase. Balanced apart, each was set as loud as the whole part and, adding in phase,
    the part came out 6 dB over (a duplicated "Keys" exported beside its copy)."""
    taken = {k for group in elements.values() for k in group}
    free = [k for k in range(len(signals)) if k not in taken]
    if len(free) < 2:
        return []
    step = _cancel_step(frames)
    rows = np.zeros((len(free), -(-frames // step)))
    for row, k in zip(rows, free, strict=True):
        mono = signals[k][:, ::step].mean(axis=0, dtype=np.float64)
        row[: len(mono)] = mono[: len(row)]
    gram = np.einsum("in,jn->ij", rows, rows)
    energy = np.diag(gram)
    parent = list(range(len(free)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(free)):
        for j in range(i + 1, len(free)):
            if roles[free[i]] != roles[free[j]] or energy[i] <= 0 or energy[j] <= 0:
                continue
            if gram[i, j] >= COPY_CORRELATION * math.sqrt(energy[i] * energy[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i, k in enumerate(free):
        groups.setdefault(root(i), []).append(k)
    return [g for g in groups.values() if len(g) > 1]


def _cancel_step(frames: int) -> int:
    """The stride of the frames `_cancelling_pairs` reads: at most `CANCEL_FRAMES` of them."""
    return max(1, frames // CANCEL_FRAMES)


def _cancelling_pairs(rows: Sequence[np.ndarray]) -> list[tuple[int, int, float]]:
    """(the louder, the quieter, how many dB their sum is under the louder alone) for each pair
    of stems that cancel each other out, from `rows`: each stem's stereo signal as it goes into
    the sum, read every `_cancel_step` frames and flattened (float64).

    The rows' energies and cross terms are an unbiased estimate of the mean products, and one
    small matrix product gives them for every pair.
    """
    if len(rows) < 2:
        return []
    rows = np.stack(rows)
    gram = np.einsum("in,jn->ij", rows, rows)  # not BLAS, whose threads spin on after it
    found = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            ei, ej = gram[i, i], gram[j, j]
            if ei <= 0 or ej <= 0:
                continue
            together = max(ei + ej + 2 * gram[i, j], 0.0)
            if together <= CANCEL_SHARE * (ei + ej):
                loss = 10 * math.log10(max(ei, ej) / max(together, 1e-12 * max(ei, ej)))
                found.append((i, j, loss) if ei >= ej else (j, i, loss))
    return found


def _returns_as_sent(levels, before, returns, names, level_given, with_parts):
    """`levels` with each effects return's (`returns`, by `RETURN_NAME`) set so that it keeps
    its place against the stems it was sent from: moved by the median of the net gain the
    other stems get (level less loudness before). A reverb return balanced as a pad part sat
    louder than the keys and guitar it came from; how wet the session was is the producer's
    choice, which the balance model cannot read. A return given a level keeps it, and so does
    one among `with_parts` (stems of an element that holds other stems than returns)."""
    dry = [
        levels[k] - before[k]
        for k in range(len(levels))
        if not returns[k] and levels[k] is not None and before[k] is not None
    ]
    if not dry:
        return levels
    moved = float(np.median(dry))
    out = list(levels)
    for k, name in enumerate(names):
        if returns[k] and out[k] is not None and name not in level_given and k not in with_parts:
            out[k] = before[k] + moved
    return out


def _pair_roles(roles: dict[str, str], names: Sequence[str]) -> dict[str, str]:
    """`roles` with a role given by the track name of a part exported as two mono sides ("Keys"
    for "Keys_01.L.wav" and "Keys_01.R.wav") given to each side by its stem's name: roles are
    read before the sides are paired, so such a name named no stem."""
    out: dict[str, str] = {}
    for key, role in roles.items():
        wanted = key.strip().lower()
        sides = [n for n in names if stereo_side(n) and track_name(n) == wanted]
        if len(sides) == 2 and not any(wanted in stem_aliases(n) for n in names):
            out.update(dict.fromkeys(sides, role))
        else:
            out[key] = role
    return out


# what a session holds beside its parts, which a mixing engineer mutes: the names (the whole of
# the track's name), what such a stem is, why it is not mixed, and how a user asks for it
_LEFT_OUT = (
    (CLICK_NAME, "a click track", "guides the players", "--role '{}=drums'"),
    (
        MONITOR_NAME,
        "a cue, talkback or reference mix",
        "feeds the players or sums the other tracks (mixed in, it doubles the parts it holds)",
        "--level '{}=-10'",
    ),
)


def _mix_candidates(named, asked) -> list[tuple[str, ...]]:
    """The stems of `named` whose sound `_mixes_by_sound` asks: those whose name says no part
    ("Main", "Audio 12", the song's title; `role_from_name`) and that no role or level was
    given for by name (`asked`), a track's two sides ("Song.L", "Song.R") as one."""
    units: dict[tuple[str, bool], list[str]] = {}
    for name, _ in named:
        if role_from_name(name) is not None or (stem_aliases(name) | {track_name(name)}) & asked:
            continue
        side = stereo_side(name)
        units.setdefault((track_name(name), True) if side else (name, False), []).append(name)
    return [tuple(unit) for unit in units.values()]


def _without_guides(named, given_roles, config, notes):
    """(`named` and its names without the stems that are no part of the song: click tracks
    (`CLICK_NAME`), cue, talkback or reference mixes (`MONITOR_NAME`), and a stem whose sound is
    the sum of the others (`_mixes_by_sound`: a master bus, whatever its name)), a note per kind
    naming what was left out. "Main" (`MONITOR_BARE_NAME`), a master bus's name as often as the
    lead vocal's, is left out only by its sound, and a note says it was mixed otherwise. A stem
    a user gives a role or a level by its own name is kept: asked for, it is mixed as any
    other. Raises `UserError` when every stem is left out."""
    asked = {key.strip().lower() for key in (*given_roles, *config.levels)}
    left_out = []  # per kind: (its stems, what it is, why it is left out, how to mix it)
    bare = []  # stems named "Main"
    for pattern, kind, why, ask in _LEFT_OUT:
        found = [
            name
            for name, _ in named
            if pattern.fullmatch(track_name(name))
            and not ((stem_aliases(name) | {track_name(name)}) & asked)
        ]
        if pattern is MONITOR_NAME:
            bare = [name for name in found if MONITOR_BARE_NAME.fullmatch(track_name(name))]
            found = [name for name in found if name not in bare]
        if found:
            left_out.append((found, kind, why, ask.format(found[0])))
    out = {name for found, *_ in left_out for name in found}
    if out and len(out) == len(named):
        listed = ", ".join(name for name, _ in named)
        kinds = " or ".join(kind for _, kind, _, _ in left_out)
        mixes = any(MONITOR_NAME.fullmatch(track_name(name)) for name in out)
        raise UserError(
            f"Every stem is {kinds} ({listed}), which a mix leaves out; to mix one, give it "
            f"a role or a level ({left_out[0][3]})"
            + ("; to master a finished mix, use bandmate master." if mixes else ".")
        )
    rest = [(name, audio) for name, audio in named if name not in out]
    summed = _mixes_by_sound(rest, _mix_candidates(rest, asked), given_roles)
    tracks: dict[str, list[str]] = {}  # a track's two sides, one note
    for name in summed:
        tracks.setdefault(track_name(name) if stereo_side(name) else name, []).append(name)
    for found in tracks.values():
        its, it = ("its", "it") if len(found) == 1 else ("their", "them")
        asks = " ".join(f"--level '{name}=-10'" for name in found)
        notes.append(
            f"Left out {' and '.join(found)}: {its} sound is the sum of the other stems ({its} "
            f"levels follow theirs within {summed[found[0]]:.1f} dB), as a master bus or a bounce "
            f"of the mix does, and mixed in {it} doubles every part; to mix {it}, give "
            f"{'it a role or a level' if len(found) == 1 else 'each a level'} ({asks})."
        )
    for name in bare:
        if name not in summed:
            notes.append(
                f"{name} is named as a master bus may be, but as often names a part (the lead "
                "vocal), and its sound is not the sum of the other stems; it was mixed as a "
                "part. If it is a mix of the session, leave it out of the stems."
            )
    for found, kind, why, ask in left_out:
        notes.append(
            f"Left out {', '.join(found)}: {kind} {why}, and is not mixed; to mix it, give it a "
            f"role or a level ({ask})."
        )
    out |= set(summed)
    if not out:
        return named, [name for name, _ in named]
    named[:] = [(name, audio) for name, audio in named if name not in out]  # (let go)
    return named, [name for name, _ in named]


# a stem whose sound is the sum of the others' is a mix of the session, whatever its name (a
# master bus bounced as "Main", "Mix" or the song's title, an unnamed "Audio 12"): mixed in, it
# doubles every part. It is compared with the sum of the others as levels (dB) in octave bands
# per 20 ms (`_band_envelopes`), not sample by sample: a print's limiter latency (64 samples) or
# a high-pass left a true sum 55-71% explained sample by sample. What the master's chain does is
# taken out first: its EQ moves each band by a steady amount, and its compressor and limiter
# move every band together, frame by frame; what is left (`_unlike_db`, the RMS in dB) is 0.8-1.4
# dB for a sum through a 4:1 compressor and a limiter 6-24 dB into it, where a plain correlation
# of the envelopes fell to 0.81. A part that only follows others is told from a mix three ways:
# what is left is larger (`BUS_UNLIKE_DB`: 5.3 dB for a room mic beside the close mics, 3.9 for
# a bass DI beside its amp and keys, 6.7 for the overheads), its bands stand to the sum's far
# apart (`BUS_BALANCE_DB`: an overhead holds the kick 15-20 dB under the hats), and the sum
# without one of the stems is closer to it (`BUS_CONTAINS_DB`: a room mic holds no bass, a bass
# amp no keys). Only a stem whose name says no part is asked: "Room", "OH" or "Bass Amp" are
# parts by name.
BUS_UNLIKE_DB = 2.5  # the most a mix's levels differ from the sum's, its chain taken out
BUS_BALANCE_DB = 12.0  # the widest spread of the bands' levels against the sum's
BUS_CONTAINS_DB = 0.1  # the least the sum without one stem must differ the more
BUS_PART_SHARE = 0.02  # two stems at least hold this share of the sum's energy each
# a mix sounds in this share of the frames read where the sum sounds: a 2 s tape stop printed
# from a 30 s song sounds in 7%, a bus printed with a 15 s fade the stems lack in 89%
BUS_SOUNDING_SHARE = 0.6
BUS_LAG_S = 0.05  # the most a mix is read late or early against the stems (a limiter's look-ahead)
BUS_SEGMENTS, BUS_SEGMENT_SECONDS = 6, 2.0  # the stretches read, evenly spaced over the song
BUS_BANDS_HZ = (44.0, 88.0, 177.0, 355.0, 710.0, 1420.0, 2840.0, 5680.0, 11360.0)  # octaves


def _band_envelopes(x: np.ndarray, rate: int) -> np.ndarray:
    """The amplitude (bands, frames) of mono `x` in each octave of `BUS_BANDS_HZ`, per 20 ms
    hop of a 40 ms Hann window."""
    hop = max(1, rate // 50)
    ticks = len(x) // hop - 1
    if ticks < 1:
        return np.zeros((len(BUS_BANDS_HZ) - 1, 0))
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float32), 2 * hop)[::hop]
    size = 1 << (2 * hop - 1).bit_length()  # a power of two: the FFT is the cost
    spectrum = np.fft.rfft(frames[:ticks] * np.hanning(2 * hop).astype(np.float32), n=size)
    power = spectrum.real**2 + spectrum.imag**2
    band = np.searchsorted(BUS_BANDS_HZ, np.fft.rfftfreq(size, 1 / rate), side="right") - 1
    into = (band[:, None] == np.arange(len(BUS_BANDS_HZ) - 1)).astype(np.float32)
    return np.sqrt(power @ into).T.astype(np.float64)


def _unlike_db(candidate: np.ndarray, total: np.ndarray) -> tuple[float, float]:
    """(how far `candidate`'s band levels (`_band_envelopes`) differ from `total`'s once a
    steady gain per band and a gain per frame common to the bands are taken out: the RMS in dB
    of what is left; the spread in dB of the bands' levels against the sum's), over the bands
    within 30 dB of the sum's loudest, the frames within 40 dB of its loudest, and in each band
    the frames within 30 dB of the sum's loudest there (each difference held within ±40 dB,
    so that a silence does not count for more), and of those the frames where `candidate`
    sounds (within 40 dB of its loudest); (inf, inf) where there is nothing to compare, or
    where `candidate` is silent in more than 1 - `BUS_SOUNDING_SHARE` of the sum's frames: a
    frame it is silent in would match any other once the frame's common gain is taken out, so
    that a 2 s tape stop in a 30 s song read as the song's mix."""
    frame_power = (total**2).sum(axis=0)
    frames = frame_power >= 1e-4 * frame_power.max(initial=0.0)
    own_power = (candidate**2).sum(axis=0)
    sounds = own_power >= 1e-4 * own_power.max(initial=0.0)
    if not frames.any() or sounds[frames].mean() < BUS_SOUNDING_SHARE:
        return math.inf, math.inf
    frames &= sounds
    band_power = (total[:, frames] ** 2).sum(axis=1)
    bands = band_power >= 1e-3 * band_power.max(initial=0.0)
    if frames.sum() < 3 or not bands.any():
        return math.inf, math.inf
    c, s = candidate[bands][:, frames], total[bands][:, frames]
    mine = (c**2).sum(axis=1)
    if not np.all(mine > 0):
        return math.inf, math.inf
    levels = 10 * np.log10(mine / band_power[bands])
    s_db = 20 * np.log10(np.maximum(s, 1e-12))
    heard = s_db >= s_db.max(axis=1, keepdims=True) - 30
    left = np.where(heard, np.clip(20 * np.log10(np.maximum(c, 1e-12)) - s_db, -40, 40), np.nan)
    with warnings.catch_warnings():  # (a frame no band hears is all NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(3):  # the two gains, each found with the other taken out
            left -= np.nan_to_num(np.nanmean(left, axis=0, keepdims=True))
            left -= np.nan_to_num(np.nanmean(left, axis=1, keepdims=True))
    return float(np.sqrt(np.nanmean(left**2))), float(levels.max() - levels.min())


def _stretches(audio, rate: int, starts_s, seconds: float) -> np.ndarray:
    """`audio`'s mono signal over each stretch (`starts_s`, `seconds` long) at `rate`, joined;
    silent past its end, resampled where it is at another rate."""
    from scipy.signal import resample_poly

    x = audio.samples
    own = audio.sample_rate
    length = round(seconds * own)
    out = []
    for start in starts_s:
        at = round(float(start) * own)
        piece = np.zeros(length)
        held = x[:, at : at + length].mean(axis=0, dtype=np.float64)
        piece[: len(held)] = np.nan_to_num(held)  # (NaN is refused later, by `_conform`)
        if own != rate:
            g = math.gcd(own, rate)
            piece = resample_poly(piece, rate // g, own // g)
        out.append(piece[: round(seconds * rate)])
    return np.concatenate(out)


def _bus_role(name: str, audio, given_roles) -> str:
    """The role `_mixes_by_sound` counts a stem it must find in a mix as: given, by its name, or
    by its sound, where a bass counts as keys (a piano's low notes, spot-miked, read as bass)."""
    role = given_roles.get(name) or role_from_name(name)
    if role is None:
        role = detect_role_from_content(audio.samples, audio.sample_rate)
        role = "keys" if role == "bass" else role
    return role


def _aligned(this: np.ndarray, total: np.ndarray, rate: int) -> np.ndarray:
    """`this` moved by the lag, within `BUS_LAG_S`, at which it correlates best with `total`
    (read at about 11 kHz, to 0.1 ms; the phase transform's cross-correlation): a master bus
    printed through a look-ahead limiter comes 4-5 ms late, and 5 ms moved its 20 ms band
    levels 2.9 dB from the sum's."""
    from scipy.fft import irfft, next_fast_len, rfft

    step = max(1, rate // 11025)
    n = len(this) // step
    reach = round(BUS_LAG_S * rate / step)
    if n < 2 * reach:
        return this
    a = this[: n * step].reshape(n, step).mean(axis=1)
    b = total[: n * step].reshape(n, step).mean(axis=1)
    size = next_fast_len(n + reach)
    # [lag]: sum a[t + lag] b[t], each frequency weighted alike (PHAT): plain, a bass's tone
    # (55 Hz: 18 ms a cycle) put the peak a cycle off
    cross = rfft(a, size) * np.conj(rfft(b, size))
    corr = irfft(cross / np.maximum(np.abs(cross), 1e-12 * np.abs(cross).max()), size)
    lags = np.r_[corr[: reach + 1], corr[size - reach :]]
    lag = int(np.argmax(lags))
    lag = (lag if lag <= reach else lag - len(lags)) * step
    if lag > 0:  # late: read it earlier
        return np.r_[this[lag:], np.zeros(lag)]
    if lag < 0:
        return np.r_[np.zeros(-lag), this[:lag]]
    return this


def _mixes_by_sound(named, candidates, given_roles=None) -> dict[str, float]:
    """Of the `candidates` (stem names, or the names of a track's two sides as one), those
    whose sound is the sum of the other stems in `named` (see `BUS_UNLIKE_DB`), with how far
    its levels differ from the sum's (`_unlike_db`). The stems it must hold span two roles
    (`given_roles`, else `_bus_role`): in a session of one instrument (a piano's spot mics and
    its room mic, a kit's close mics and a parallel-compressed "Smash" bus) a stem that
    follows the others is far more often a mic or a bus of that instrument, a part, than a
    mix of the session."""
    given_roles = given_roles or {}
    roles: dict[str, str] = {}
    if not candidates or len(named) < 3:  # a mix of one other stem is its copy (`_copies`)
        return {}
    audios = dict(named)
    rate = Counter(a.sample_rate for a in audios.values()).most_common(1)[0][0]
    longest = max(a.samples.shape[1] / a.sample_rate for a in audios.values())
    seconds = min(BUS_SEGMENT_SECONDS, longest)
    if seconds <= 0:
        return {}
    count = max(1, min(BUS_SEGMENTS, int(longest // seconds)))
    starts = np.linspace(0.0, longest - seconds, count)
    mono = {n: _stretches(a, rate, starts, seconds) for n, a in audios.items()}
    energies = {n: float(np.dot(x, x)) for n, x in mono.items()}
    everything = sum(mono.values())
    found, near = {}, []  # near: (unlike, unit) for those that follow the sum but one stem more
    for unit in candidates:
        others = [n for n in audios if n not in unit and energies[n] > 0]
        this = sum(mono[n] for n in unit)
        total = everything - this
        energy = float(np.dot(total, total))
        held = [n for n in others if energies[n] >= BUS_PART_SHARE * energy]
        if len(held) < 2 or not np.any(this):
            continue
        envelope = _band_envelopes(_aligned(this, total, rate), rate)
        unlike, spread = _unlike_db(envelope, _band_envelopes(total, rate))
        if unlike > BUS_UNLIKE_DB or spread > BUS_BALANCE_DB:
            continue
        without = (_unlike_db(envelope, _band_envelopes(total - mono[n], rate))[0] for n in held)
        if not all(w >= unlike + BUS_CONTAINS_DB for w in without):
            near.append((unlike, unit))
            continue
        for n in held:
            if n not in roles:
                roles[n] = _bus_role(n, audios[n], given_roles)
        if len({roles[n] for n in held}) > 1:
            for n in unit:
                found[n] = unlike
    if near and not found:  # two bounces of the mix: each is in the other's sum, asked without it
        best = min(near)[1]
        rest = [(n, a) for n, a in named if n not in best]
        found = _mixes_by_sound(rest, [u for u in candidates if u != best], given_roles)
        if found:
            found |= _mixes_by_sound(
                [(n, a) for n, a in named if n not in found], [best], given_roles
            )
    return found


# a side of a pair this far or more under its other side (integrated loudness) is no part: a
# mono source recorded into a stereo track, its other input's hiss or hum (37 dB under a bass
# for hiss at -60 dBFS), or the other side's bleed. As the track played, it was not heard; read
# as a part, it was raised 24-33 dB and the source beside it hard to one side. Two parts on one
# track's sides, each gain-staged for itself, sit well within it. A quiet part so far under its
# other side (a shaker 31 dB under a drum loop) is taken for noise too, and the note says how to
# mix it as a part: telling it by its sound failed, since bleed is struck and swells with its
# source, and hum comes and goes
FAINT_SIDE_DB = 30.0

# a stem or side whose sound is nothing but noise (`roles.noise_kind`: steady hiss, rumble, hum)
# is no part when it is a floor: at most `NOISE_MAX_LUFS` and `NOISE_UNDER_DB` or more under the
# loudest stem. Hiss at -50 dBFS reads about -47 LUFS, 26.5 dB under a bass on the track's other
# side; a white-noise or wind bed used as sound design sits among the parts, 10-15 dB under the
# loudest at most, and is mixed as one. What the sound test cannot tell from a floor (a quiet
# rain or room-tone bed) goes in as it came, which is where its producer put it, and the note
# says how to mix it as a part
NOISE_MAX_LUFS = -35.0
NOISE_UNDER_DB = 20.0


class _Faint(NamedTuple):
    """A stem or side taken for noise (`_faint_sides`): the stem whose level it is kept under
    (its track's other side) or None (the others' median gain, `_faint_levels`), how many dB
    under that side it came (None without one), and its sound (`roles.noise_kind`: "hiss",
    "rumble", "hum", "hum and hiss"...; None where only its level says so)."""

    other: int | None
    gap_db: float | None
    kind: str | None


def _faint_sides(names, before, asked=frozenset(), kinds=None) -> dict[int, _Faint]:
    """{the index of each stem taken for noise: `_Faint`}: each side of a pair `FAINT_SIDE_DB`
    or more under its other side (`before`, LUFS; None for a silent stem), and each stem or
    side whose sound is noise (`kinds`, per stem, `roles.noise_kind`) at a floor's level
    (`NOISE_MAX_LUFS`, `NOISE_UNDER_DB`). A stem given a role or a level by its own name
    (`asked`, lower case: "Audio 1.R") is a part, as asked; a side given one by the track's
    name ("Audio 1", as the note on a track read as two parts says) is not asked for alone.

    Why a noise stem is mixed as it came rather than left out: what the sound test takes for
    noise may be a quiet bed a producer meant (room tone, rain), and a side's hiss is in the
    track as it was heard; kept at its recorded distance under the parts, a floor stays a floor
    and a bed stays where it was put, and the note says how to have either raised."""
    kinds = kinds or [None] * len(names)
    out = {}

    def own(k: int) -> bool:
        return bool(stem_aliases(names[k]) & asked)

    pairs = stereo_pairs(names, [None] * len(names))
    for left, right in pairs:
        a, b = before[left], before[right]
        if a is None or b is None:
            continue
        if a - b >= FAINT_SIDE_DB and not own(right):
            out[right] = _Faint(left, a - b, kinds[right])
        elif b - a >= FAINT_SIDE_DB and not own(left):
            out[left] = _Faint(right, b - a, kinds[left])
    heard = [b for b in before if b is not None]
    loudest = max(heard, default=None)
    floors = [
        k
        for k, kind in enumerate(kinds)
        if kind
        and k not in out
        and before[k] is not None
        and before[k] <= NOISE_MAX_LUFS
        and loudest - before[k] >= NOISE_UNDER_DB
        and not own(k)
    ]
    partner = {a: b for pair in pairs for a, b in (pair, pair[::-1])}
    for k in floors:
        other = partner.get(k)
        if other is None or before[other] is None or other in floors or other in out:
            out[k] = _Faint(None, None, kinds[k])
        else:
            out[k] = _Faint(other, before[other] - before[k], kinds[k])
    return out


def _faint_levels(levels, faint, level_given, names, before) -> list[float | None]:
    """`levels` with each stem taken for noise (`_faint_sides`) kept as far under its track's
    other side as the track had it, or, without one, moved by the median net gain (level less
    loudness `before`) of the stems that are parts: where it came against them. One given a
    level keeps it."""
    out = list(levels)
    moved = [
        levels[k] - before[k]
        for k in range(len(levels))
        if k not in faint and levels[k] is not None and before[k] is not None
    ]
    median = float(np.median(moved)) if moved else 0.0
    for k, noise in faint.items():
        if names[k] in level_given:
            continue
        if noise.other is None:
            out[k] = before[k] + median
        elif out[noise.other] is not None:
            out[k] = out[noise.other] - noise.gap_db
    return out


def _noise_notes(names, faint, before, roles, role_from) -> list[str]:
    """A note for each stem taken for noise by its sound with no track side to stand under
    (`_faint_sides`: an unused track's hiss, a hum), saying what it was taken for, where it
    went and how to have it mixed as a part: as the role its name gives ("Drums Room"), if
    it gives one (`role_from`, per stem: "name"), else as a pad."""
    loudest = max((b for b in before if b is not None), default=0.0)
    named = _roles_to_suggest(roles, role_from)
    return [
        f"{names[k]} holds nothing but steady {noise.kind} ({before[k]:.0f} LUFS, "
        f"{loudest - before[k]:.0f} dB under the loudest stem), a noise floor and no part, so "
        f"it goes into the mix as far under the others as it came rather than raised as a "
        f"part; to mix it as a part, give it a role or a level (--role "
        f"'{Path(names[k]).stem}={named[k]}')."
        for k, noise in faint.items()
        if noise.other is None
    ]


def _roles_to_suggest(roles, role_from) -> list[str]:
    """Per stem, the role a note on noise suggests for mixing it as a part: the role its name
    gives (`role_from`: "name"; "Gtr 2.R" a guitar), else a pad."""
    return [
        role if source == "name" else "pad" for role, source in zip(roles, role_from, strict=True)
    ]


def _lone_sides(names: Sequence[str], silent: Sequence[bool] | None = None) -> list[int]:
    """Per stem, -1 or 1 for a stem named as one side of a pair ("Keys L", "Gtr_01.R") whose
    other side is not among `names`, or is `silent` (an empty file, or only noise far under it,
    `_faint_sides`), else 0: half of a stereo part, its other file lost on the way (an export
    left unfinished, a file not copied), or a mono part recorded into a stereo track."""
    silent = silent or [False] * len(names)
    found = [stereo_side(n) for n in names]
    sounding = {side for side, quiet in zip(found, silent, strict=True) if side and not quiet}
    return [
        side[1] if side and not quiet and (side[0], -side[1]) not in sounding else 0
        for side, quiet in zip(found, silent, strict=True)
    ]


def _lone_side_notes(
    names, roles, role_from, pans, silent, lone: Sequence[int], faint
) -> list[str]:
    """A note for each sounding stem that is one side of a pair without the other (`lone`,
    `_lone_sides`), saying where it was put: hard to its side, the part would sound from that
    side alone, so it is mixed as a mono part (`_pans`: on its side, at its role's spread).
    `faint` (`_faint_sides`, with each side's loudness gap in dB) names the other sides that
    hold only noise far under theirs, and how to mix one as a part (`_roles_to_suggest`, from
    `role_from`, per stem)."""
    suggest = _roles_to_suggest(roles, role_from)
    under = {n.other: (k, n) for k, n in faint.items() if n.other is not None}
    out = []
    found = [stereo_side(n) for n in names]
    for k, side in enumerate(lone):
        if not side or silent[k]:
            continue
        this, other = ("left", "right") if side < 0 else ("right", "left")
        place = "in the centre" if pans[k] == 0 else f"to the {this} ({pans[k]:+.2f})"
        if k in under:
            quiet, noise = under[k]
            out.append(
                f"{names[k]}'s {other} side, {names[quiet]}, is {noise.gap_db:.0f} dB under it "
                f"({noise.kind or 'noise or bleed'}, no part), so {names[k]} was mixed as a mono "
                f"{roles[k]} part {place}, not hard {this}, and {names[quiet]} goes in as far "
                f"under it as it came; to mix it as a part, give it a role (--role "
                f"'{Path(names[quiet]).stem}={suggest[quiet]}')."
            )
            continue
        there = (found[k][0], -side) in found
        out.append(
            f"{names[k]} is the {this} side of a pair whose {other} side "
            + ("is silent" if there else "is not among the stems")
            + f"; it was mixed as a mono {roles[k]} part {place}, not hard {this}, where the "
            f"part would sound from one side alone. If the {other} side was left out, "
            + ("export it again." if there else "add it.")
        )
    return out


def _split_pairs(names, silent, pairs) -> list[tuple[int, int]]:
    """(left, right) stem indices of each track's two sides ("Audio 1_01.L", ".R"), both
    sounding, that are not one of `pairs` (the pairs of one role): read as two parts (a bass
    DI left, a guitar right, `_pair_content_roles`), or given two roles. Each is balanced and
    filtered as its own part (`_split_pans`: placed as its role is, but a spread role kept hard
    to its side)."""
    paired = {k for pair in pairs for k in pair}
    return [
        (left, right)
        for left, right in stereo_pairs(names, [None] * len(names))
        if left not in paired and right not in paired and not (silent[left] or silent[right])
    ]


def _split_pans(split, pans, roles, table) -> list[float]:
    """`pans` with each side of `split` (`_split_pairs`) whose role is spread (`table`'s pan
    above 0: guitar, keys, pad) hard to its side, as the track had it; one of a centred role
    (bass, drums, lead, vocal) stays where its role puts it, the centre. Panned by role alone,
    a drum loop left and keys right lost the track's image; kept hard, a bass DI recorded
    beside a guitar sounded from one side, its low end 19 dB louder there."""
    out = list(pans)
    for left, right in split:
        for k, side in ((left, -1.0), (right, 1.0)):
            if table[roles[k]].pan:
                out[k] = side
    return out


def _split_pair_notes(names, roles, pans, split) -> list[str]:
    """A note for each of `split` (`_split_pairs`), saying where its sides went and how to have
    them mixed as one part."""
    out = []
    for left, right in split:
        track = track_name(names[left])
        stem = Path(names[left]).stem
        at = stem.lower().find(track)
        shown = stem[at : at + len(track)] if at >= 0 else track
        places = [
            f"the {roles[k]} "
            + ("in the centre" if pans[k] == 0 else f"hard {'left' if pans[k] < 0 else 'right'}")
            for k in (left, right)
        ]
        out.append(
            f"{names[left]} and {names[right]} are one track's two sides but sound as two "
            f"parts, each balanced and placed as its own ({places[0]}, {places[1]}); if they "
            f"are one part, give the track one role (--role '{shown}={roles[left]}')."
        )
    return out


def _one_channel_notes(names, live_sides, pans) -> list[str]:
    """A note for each stereo stem whose one channel held it all (`live_sides`: -1 left, 1
    right), saying where it was put as the mono part it is."""
    out = []
    for name, side, pan in zip(names, live_sides, pans, strict=True):
        if not side:
            continue
        this, other = ("left", "right") if side < 0 else ("right", "left")
        place = "in the centre" if pan == 0 else f"{'left' if pan < 0 else 'right'} ({pan:+.2f})"
        out.append(
            f"{name} is stereo with nothing in its {other} channel (a mono part exported as "
            f"stereo); it was mixed as mono, {place} as its role is panned, not hard {this}, "
            "where it would have sounded from one side alone."
        )
    return out


# words that name a kind of reverb or delay, not a part: "Room Verb", "Sub Delay" and "Beat
# Delay" are returns, not the drums' room mics, the sub bass or a beat printed with its effect
EFFECT_KIND = re.compile(
    r"(?<![a-z])(?:rooms?|halls?|plates?|chambers?|springs?|warm|slap|beat|sub|long|short|tape"
    r"|ambien(?:ce|t)|big|small|dark|bright|verb|ping[ _-]?pong|quarter|eighth|8th|16th|1/[48])"
    r"(?![a-z])"
)


def _ambiguous_return_notes(names, returns, silent, level_given, kept) -> list[str]:
    """A note for each stem read as an effects return (`returns`, `RETURN_NAME`) whose name
    names a part too ("Gtr Delay", "Echo Vox"): the guitar's delay return, or the guitar with its
    delay printed. Its sound does not tell them apart: a return's spectrogram follows the stem
    sent to it (0.8 correlation, at the delay's lag), but a double-tracked part follows its
    twin closer still (0.96), so the name's reading stands and the user is told how to undo it.
    Stems given a level, silent, or kept as part of a part (`kept`) need no note."""
    out = []
    for k, name in enumerate(names):
        if not returns[k] or silent[k] or name in level_given or k in kept:
            continue
        word = RETURN_NAME.search(track_name(name))[0]
        role = role_from_name(EFFECT_KIND.sub(" ", RETURN_NAME.sub(" ", track_name(name))))
        if role is None:
            continue
        out.append(
            f"{name} was read as an effects return (its name says {word!r}): it keeps its level "
            f"against the stems sent to it, in the centre, rather than being balanced as a "
            f"{role} part; if it is the {role} with its effect printed, give it a level "
            f"(--level '{name}=-6')."
        )
    return out


# two sides of one part (a stereo piano) rise and fall together, each attack on both; two
# parts played together do not: the 10 ms level envelopes (dB) of a stereo piano's sides
# correlate at 0.9, a bass and a guitar in time at 0.0. Only the frames where either side
# sounds (within `ENVELOPE_RANGE_DB` of its loudest) count: the silence two parts share (an
# intro, a break) made a bass and a guitar that came in and stopped together read as one part
ONE_PART_ENVELOPE_CORRELATION = 0.6
ENVELOPE_RANGE_DB = 40.0


def _level_envelope(x: np.ndarray, rate: int) -> np.ndarray:
    """The level (dB) of `x`'s channels' mean, per 10 ms frame."""
    hop = max(1, rate // 100)
    mono = x.mean(axis=0, dtype=np.float32)
    ticks = len(mono) // hop
    frames = mono[: ticks * hop].reshape(ticks, hop)
    energy = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / hop
    return 10 * np.log10(energy + max(float(energy.max(initial=0.0)), 1e-20) * 1e-7)


def _sound_as_one_part(a: np.ndarray, b: np.ndarray, rate: int) -> bool:
    """Whether two stems' level envelopes correlate as one part's two sides do
    (`ONE_PART_ENVELOPE_CORRELATION`)."""
    ea, eb = _level_envelope(a, rate), _level_envelope(b, rate)
    n = min(len(ea), len(eb))
    ea, eb = ea[:n], eb[:n]
    if not n:
        return False
    sounding = (ea >= ea.max() - ENVELOPE_RANGE_DB) | (eb >= eb.max() - ENVELOPE_RANGE_DB)
    ea, eb = ea[sounding] - ea[sounding].mean(), eb[sounding] - eb[sounding].mean()
    n = len(ea)
    power = float(np.sqrt((ea @ ea) * (eb @ eb)))
    return n > 1 and power > 0 and float(ea @ eb) / power >= ONE_PART_ENVELOPE_CORRELATION


def _pair_content_roles(
    names, signals, roles, role_from, rate: int, frames: int, notes: list[str]
) -> list[str]:
    """`roles` with both sides of each pair ("Audio 1_01.L", "Audio 1_01.R": a track with no
    name, exported as two mono sides) whose roles were both read from their sound, and differ,
    given the role their two sides read as together, a note in `notes` for each. A stereo
    piano's left side, its low notes, read as bass, its right as keys: the one part was split
    in two, neither side paired with the other nor hard to its side, each balanced as a whole
    part. Sides that do not sound as one part (`_sound_as_one_part`: two mono sources, a bass
    DI and a guitar, exported as one track's sides) keep their own roles."""
    out = list(roles)
    for left, right in stereo_pairs(names, [None] * len(names)):
        if role_from[left] != "content" or role_from[right] != "content":
            continue
        if roles[left] == roles[right]:
            continue
        a, b = signals[left], signals[right]
        if not _sound_as_one_part(a, b, rate):
            continue
        both = np.zeros((2, max(a.shape[1], b.shape[1])), dtype=np.float32)
        both[0, : a.shape[1]] = a.mean(axis=0)
        both[1, : b.shape[1]] = b.mean(axis=0)
        out[left] = out[right] = role = detect_role_from_content(both, rate, frames)
        notes.append(
            f"{names[left]} and {names[right]} rise and fall together, as the two sides of one "
            f"part; read apart they sounded as {roles[left]} and {roles[right]}, so both were "
            f"mixed as the {role} part they make together, hard to their sides. If they are two "
            f"parts, give each a role (--role '{names[left]}={roles[left]}')."
        )
    return out
