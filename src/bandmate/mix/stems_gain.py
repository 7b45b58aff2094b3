"""Automix's stages that set each stem's gain and place (`mix.automix` documents them all): the
levels from the balance model, a part in several stems read as one (`_balance`) and levels given
by name (`_given_levels`); the masking cuts (`_masking_cuts`), the compressor and the gain that
lands each stem on its level (`_finish`); and the pan (`_pans`, `_pan`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from bandmate.io.audio import Audio
from bandmate.mix.balance import load_balance, stem_features
from bandmate.mix.meter import measure_loudness, metered
from bandmate.mix.roles import RoleSettings
from bandmate.mix.stems_prepare import MASKING_BANDS_HZ, _finite, _gain, _silenced


def _finish(
    x, rate, cuts, settings, target_lufs, pan, quiet=None
) -> tuple[np.ndarray, float | None]:
    """Stages 5 to 8 for one stem: its masking cuts, its compressor, the gain that puts it on
    `target_lufs` and its pan. Returns the stereo signal and its loudness (None when silent),
    measured with the steps in `quiet` (its noise floor alone, `_noise_only`) silent."""
    if settings is None or not np.any(x):
        return _pan(x, pan), None
    x = _compress(_apply_cuts(x, rate, cuts), rate, settings)
    measured = x if quiet is None else _silenced(x, rate, quiet)
    meter = metered(Audio(measured, rate), true_peak=False)
    del measured
    now = _finite(meter.result().integrated_lufs)
    gain = 1.0 if now is None else _gain(target_lufs - now)
    gains = _pan_gains(x.shape[0], pan) * gain
    # the loudness after the gain and the pan, from the same measurement (the meter is linear)
    return _pan(x, gains), _finite(meter.result(power_gains=gains**2).integrated_lufs)


def _balance(roles, signals, prepared, elements, pans, rate: int, frames: int, config):
    """(each stem's level from the balance model, None for a silent one; the level of each of
    `elements` whose stems are balanced as one, by its name). The stems of an element
    (`elements.named_elements`) are read as one stem: each at the working level and moved by the
    differences the model reads between them, panned as it will be (`pans`: the sides of a pair
    hard left and right, where summed in the centre they would read up to 3 dB louder than they
    sound), summed; the model's level for that sum is where the sum is put, and each stem keeps
    its difference within it."""
    model = load_balance()
    levels = model.levels_lu(roles, [p.features for p in prepared])
    labels = [label for label, g in elements.items() if sum(levels[k] is not None for k in g) > 1]
    groups = [[k for k in elements[label] if levels[k] is not None] for label in labels]
    if not groups:
        return levels, {}
    grouped = {k for g in groups for k in g}
    alone = [k for k in range(len(roles)) if k not in grouped]
    rows = [prepared[k].features for k in alone]
    row_roles = [roles[k] for k in alone]
    inside = []  # per group: (stems, their offsets from the loudest, the sum's excess in LU)
    for group in groups:
        top = max(levels[k] for k in group)
        offsets = [levels[k] - top for k in group]
        total = np.zeros((2, max(signals[k].shape[1] for k in group)), dtype=np.float32)
        for k, offset in zip(group, offsets, strict=True):
            gain = _gain(config.working_lufs - prepared[k].before + offset)
            floor = prepared[k].floor
            x = signals[k] if floor is None else _silenced(signals[k], rate, floor.quiet)
            total[:, : x.shape[1]] += _pan(x, pans[k]) * np.float32(gain)
        loudness = measure_loudness(Audio(total, rate), true_peak=False)
        rows.append(stem_features(total, rate, loudness, frames=frames))
        row_roles.append(roles[group[0]])
        summed = _finite(loudness.integrated_lufs)
        inside.append((group, offsets, None if summed is None else summed - config.working_lufs))
    reduced = model.levels_lu(row_roles, rows)
    out: list[float | None] = [None] * len(roles)
    for k, level in zip(alone, reduced, strict=False):
        out[k] = level
    element_levels = {}
    for label, (group, offsets, excess), level in zip(
        labels, inside, reduced[len(alone) :], strict=True
    ):
        if level is None or excess is None:  # stems that cancel out keep their own levels
            for k in group:
                out[k] = levels[k]
            continue
        element_levels[label] = level
        for k, offset in zip(group, offsets, strict=True):
            out[k] = level + offset - excess
    return out, element_levels


def _given_levels(names, levels, elements, element_levels, given: Mapping[str, float], parts):
    """The balance model's `levels` with those `given` by a stem's name or an element's in
    place of its own: an element's stems move together, their sum at its level. A silent stem
    stays None, and the other stems keep the levels the model gave them, whatever is given.

    A given level is dB under the loudest element of the mix, as the report's table shows it
    (an element counts as its stems' sum, where the table reads each stem against the loudest
    single stem: beside a kit in pieces the two differ, a known gap): when every level given
    is under 0, the loudest is one of the others, and the given levels are set under the
    loudest of those the model balances (`parts`, indices: the stems that are parts, not noise
    or an effects return, which are set apart). `--level drums=-6` put the drums 6 dB under
    the model's loudest element, the drums themselves, and the table read -5.6 once the bass,
    0.4 dB under them, was the loudest. A level of 0, or levels given for every part, are on
    the model's scale (its loudest element at 0), as the styles' mix levels are (`bandmate
    backing` gives them all)."""
    if not given:
        return levels
    top = max([v for v in levels if v is not None] + list(element_levels.values()), default=0.0)
    out = [None if v is None else v - top for v in levels]
    by_name = {n: k for k, n in enumerate(names)}
    moved = {by_name[key] for key in given if key in by_name}
    moved |= {k for key in given if key not in by_name for k in elements[key]}
    others = []  # the levels of the elements not given, as loud as their stems' sum
    for label, group in elements.items():
        if moved.isdisjoint(group) and any(k in parts for k in group):
            others += [element_levels[label] - top] if label in element_levels else []
    summed = {k for label in element_levels for k in elements[label]}
    others += [out[k] for k in parts if k not in moved | summed and out[k] is not None]
    under = max(others) if others and max(given.values()) < 0 else 0.0
    for key, level in given.items():
        if key in by_name:
            k = by_name[key]
            out[k] = None if out[k] is None else level + under
            continue
        # an element: its stems keep their places within it, their sum at the level (the
        # loudest at it where they have no sum: all but one silent, or cancelling out)
        live = [k for k in elements[key] if out[k] is not None]
        if not live:
            continue
        now = element_levels[key] - top if key in element_levels else max(out[k] for k in live)
        for k in live:
            out[k] += level + under - now
    return out


def _masking_cuts(signals, bands, roles, levels, table, config) -> list[list[tuple[float, float]]]:
    """Per stem, the (centre Hz, gain dB) cuts where it masks a more important stem.

    The band levels are taken at the balance the mix will have (each stem's working level moved
    to its predicted level, `levels`, None for a silent stem), so that a stem the balance puts
    far below another does not count as masking.
    """
    cuts: list[list[tuple[float, float]]] = [[] for _ in signals]
    live = [k for k in range(len(signals)) if levels[k] is not None]
    if len(live) < 2:
        return cuts
    shares = {k: bands[k].copy() for k in live}
    for k in live:  # the level each band will have after balance
        shares[k][1] += levels[k]
    for b, centre in enumerate(MASKING_BANDS_HZ):
        strong = [k for k in live if shares[k][0, b] >= config.masking_share]
        for i in strong:
            for j in strong:
                if i >= j or abs(shares[i][1, b] - shares[j][1, b]) > config.masking_window_db:
                    continue
                rank_i, rank_j = table[roles[i]].importance, table[roles[j]].importance
                loser = j if (rank_i, i) < (rank_j, j) else i
                if all(c != centre for c, _ in cuts[loser]):
                    cuts[loser].append((centre, config.masking_cut_db))
    return cuts


def _apply_cuts(x: np.ndarray, rate: int, cuts) -> np.ndarray:
    if not cuts:
        return x
    from pedalboard import PeakFilter, Pedalboard

    board = Pedalboard([PeakFilter(cutoff_frequency_hz=hz, gain_db=db, q=1.41) for hz, db in cuts])
    return board(x, rate)


def _compress(x: np.ndarray, rate: int, role: RoleSettings) -> np.ndarray:
    from pedalboard import Compressor

    comp = Compressor(
        threshold_db=role.threshold_db,
        ratio=role.ratio,
        attack_ms=role.attack_ms,
        release_ms=role.release_ms,
    )
    return comp(x, rate)


def _pans(roles, silent, levels, table, groups=(), centred=None, sides=None) -> list[float]:
    """Pan positions: centred roles at 0; spread roles alternate left, right in stem order, so
    that the two sides balance. With an odd number of them, the one the balance model puts
    loudest stays in the centre (a lone keys part panned to one side left the mix lopsided).
    The stems of each of `groups` (one part, `elements.named_elements`) count as one and share
    its place: a guitar's DI and amp stems went to opposite sides, one guitar smeared across.
    A stem flagged in `centred` (an effects return or track, `RETURN_NAME`, `FX_NAME`) stays
    at 0 whatever its role: a stereo reverb return read as a pad was pushed 4 dB to one side.
    A stem whose name gives it a side (`sides`: -1 left, 1 right, 0 none; one side of a pair
    whose other side is missing, "Keys L" alone) goes to that side at its role's spread, and the
    others fill the side that has fewer (alternation put "Keys L" on the right); it is centred
    only where every spread part has a side and they are odd in number."""
    centred = centred or [False] * len(roles)
    sides = sides or [0] * len(roles)
    grouped = {k: group for group in groups for k in group}
    units, seen = [], set()
    for k, r in enumerate(roles):
        if not table[r].pan or silent[k] or centred[k] or k in seen:
            continue
        unit = [
            j
            for j in grouped.get(k, [k])
            if not silent[j] and not centred[j] and table[roles[j]].pan
        ]
        seen.update(unit)
        units.append(unit)

    def side_of(unit) -> int:
        wanted = {sides[k] for k in unit}
        return wanted.pop() if len(wanted) == 1 else 0

    if len(units) % 2:
        free = [u for u in units if not side_of(u)] or units
        units.remove(max(free, key=lambda u: max(levels[k] for k in u)))
    pans, count = [0.0] * len(roles), {-1: 0, 1: 0}
    for unit in units:  # the sides the names give are taken first
        if side_of(unit):
            count[side_of(unit)] += 1
    for unit in units:
        side = side_of(unit)
        if not side:
            side = -1 if count[-1] <= count[1] else 1
            count[side] += 1
        for k in unit:
            pans[k] = side * table[roles[k]].pan
    return pans


def _pan_gains(channels: int, pan: float) -> np.ndarray:
    """The (left, right) gains of a constant-power pan (a mono stem keeps its loudness: -3 dB a
    side at centre).

    A stereo stem gets the same law scaled by sqrt(2), so that at centre it is unchanged and its
    power (for channels that are not correlated) stays the same anywhere.
    """
    angle = (pan + 1) * math.pi / 4
    gains = np.array([math.cos(angle), math.sin(angle)])
    return gains * math.sqrt(2) if channels == 2 else gains


def _pan(x: np.ndarray, pan_or_gains) -> np.ndarray:
    """`x` (mono or stereo) panned to stereo float32, by a pan position or (left, right) gains."""
    gains = pan_or_gains
    if np.isscalar(gains):
        gains = _pan_gains(x.shape[0], float(gains))
    out = np.empty((2, x.shape[1]), dtype=np.float32)
    np.multiply(x, np.c_[gains].astype(np.float32), out=out)  # a mono row broadcasts
    return out
