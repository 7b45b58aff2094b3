"""Automix: stems to a balanced stereo mix with headroom for mastering.

`automix(stems)` runs these named stages in this order (`STAGES`), from one `AutomixConfig`, the
role table in `bandmate/data/mixing/roles.toml` and the balance model in `balance.toml` beside it:

1. **conform**: every stem to one sample rate (the most common one; on a tie the highest),
   resampled with `scipy.signal.resample_poly`, and to one length (the longest; shorter stems
   silent after their end, as every stage reads them, though each is held at its own length and
   added into the mix at its place, `_conform`). NaN or infinite samples are refused
   (`AudioFormatError`); more than two channels are refused by `Audio` itself, and stems all
   shorter than BS.1770's 0.4 s block (`UserError`): none of them has a loudness to balance. A
   stem whose DC offset dwarfs the rest of its signal has the offset removed (`_dominant_dc`);
   others are left exactly as they come.
2. **roles**: each stem's role (drums, bass, keys, guitar, pad, lead, vocal) from its name by the
   table's regular expressions, else from its content (`detect_role_from_content`). A role given
   by the user is read in any case ("Bass"). A vocal's double ("Vox Dbl") is not a second lead
   vocal: it is read as a backing vocal (pad), tucked about 10 dB under the lead, where as a
   vocal it sat at the lead's level and put the vocal 6 dB up; but a session whose only vocal
   is named as a double has it as its lead. A click track, metronome or
   count-in (`CLICK_NAME`: "Click.wav", "Click_01.L.wav", "Metronome") is left out of the mix
   and the notes say so: it guides the players, and a mixing engineer mutes it (read by its
   sound it was balanced as a drum part, as loud as the kit). Given a role or a level by its
   own name, it is mixed as any stem; a session of nothing but click tracks is refused.
3. **level**: each stem to the working level (-23 LUFS), so that the compressors' thresholds
   mean the same for every stem whatever gain it came in at. A silent stem (no block above
   BS.1770's -70 LUFS gate) is kept silent and named in the report. A stem that holds a steady
   floor of noise far under its part (a vocal take's hiss between its phrases, `_noise_only`)
   is measured, here and in the balance, with that floor's stretches silent; it is mixed as
   it came, and named in the report.
4. **highpass**: a 12 dB/octave high-pass at the role's cutoff (none for bass).
5. **masking**: in each octave band from 125 Hz to 4 kHz where two stems both put a large share
   of their energy and sit within `masking_window_db` of each other at their balanced levels, a
   gentle peak cut (`masking_cut_db`, one octave wide) on the less important role. The band
   levels come from the one Welch spectrum each stem gets (`stem_spectrum`), moved by the
   working gain and the high-pass's response.
6. **compress**: the role's light compressor (pedalboard `Compressor`).
7. **balance**: gain so that each stem's integrated loudness, measured after stages 4-6, lands on
   its level from the balance model, relative to the stem the model puts loudest (which sits at
   the working level). The model (`mix.balance`: `BalanceModel`, `load_balance`) gives a level
   per role plus a linear correction from content features that do not move with the stem's gain
   (`stem_features`: peak-to-loudness ratio, the share of energy around 63 Hz, 500 Hz, 1 kHz and
   above 4 kHz; and, judged against the rest of the song, the loudness range, the onset rate
   and the spectral centroid, each less its mean over the song's stems), each standardised and
   clipped to ±3 so that stems unlike the training set, or unlike the rest of their song, are
   not pushed far. It is fitted by `bench/fit_mix.py` on every shipped style's backing track
   rendered from six charts that are not `bench/mix.py`'s (456 stems), with the stems as
   `bandmate backing` writes them: at the styles' authored mix levels (each part's `level_db`),
   a balance a producer chose rather than the SoundFont's accident. Ridge regression on levels
   centred per song gives the start; it is refined on the error that matters, each stem's level
   relative to the loudest.
   Held out a style at a time, that error is a median 1.36 dB, 6.0 dB at the 95th percentile
   and 7.2 dB at worst (7.6 without the centroid, 9.2 without the song context, and 9.2 for
   role levels alone); on `bench/mix.py`'s unseen chart, a median 1.42 dB and 6.0 dB at worst
   (refit after the arrangements' sustained notes stopped being cut off by re-struck ones).
   The authored balances are mostly a level per role. The song context moves back a part whose
   loudness ranges far beyond the rest of its song's (a ballad's brushes that swell into an out
   chorus), and further back a part brighter than the rest of its song (the ballad's brushes
   again, all hiss beside the piano, bass and strings). What the model still misses is the
   genre: ballads, bossa nova and the waltz put their drums 6-9 dB under the piano, guitar or
   accordion, where every other style has them on top, and a steady cross-stick pattern looks
   like any other drum part. The vocal is not fitted (no
   backing track has one) and sits with the loudest role. A level given for a stem by name
   (`AutomixConfig.levels`, `bandmate mix --level`) takes the place of the model's, on the
   model's scale with the loudest it predicts at 0: gain at the input is undone, so this is how
   a user sets a part back, and how `bandmate backing` keeps its style's authored balance.
   Stems that make one part between them, a kit given as its pieces (kick, snare,
   overheads...), a part as two mono sides ("Keys L", "Keys R") or one recorded two ways
   ("Bass DI", "Bass Amp": they add in phase, each set as the whole bass came out 6 dB over),
   and stems of one role that hold the same part in phase (`_copies`: a duplicated track, a
   parallel-processed copy; their mono signals correlate by 0.95 or more, which a part a
   player double-tracked does not), are balanced
   as the one stem they make (`_balance`, `mix.elements`), and a level given for that part
   ("drums", "keys") moves its stems together, their sum at the level.
8. **pan**: constant-power pan by role (bass, drums, lead and vocal centred; keys, guitar and pad
   alternating left and right, the loudest of an odd number of them centred, so the sides
   balance; a left/right pair hard to its sides); mono stems become stereo. An effects return
   or effects track (`RETURN_NAME`, `FX_NAME`: "Verb Return", "Vox Verb", "Delay", "Aux 1",
   "FX"; not a part named "Aux" and an instrument, "Aux Perc") stays in the centre,
   its stereo as the session made it, whatever role it is read as (a reverb read as a pad was
   pushed 4 dB to one side). A return's level (`RETURN_NAME`; not "FX", which is as often a
   part of risers and hits) is not the balance model's: it keeps its place against the stems it
   was sent from, moved by the median gain the other stems get, so the session's wetness
   survives (`_returns_as_sent`; read as a pad, a reverb return sat over the keys and guitar it
   came from), and so does a return exported as two mono sides. A level given for it by name
   takes the place of that.
9. **sum**, 10. **bus**: a gentle bus compressor (ratio 1.5), 11. **headroom**: one gain so that
   the mix's integrated loudness is `target_lufs` (-20) unless its true peak would then pass
   `ceiling_dbtp` (-3 dBTP), in which case the true peak sits on the ceiling. That leaves a
   mastering stage room to EQ, compress and limit.

The report gives, per stem, its role and how it was found, its loudness before and in the mix
(after everything but the bus compressor), the net gain, the pan, the filters, and what was
resampled, padded or silent. Its notes name two stems that cancel each other out in the sum (a
polarity-inverted copy, a snare's bottom mic not flipped; `_cancelling_pairs`): balance cannot
mend that, and the stems' levels in the table would not say it.

Stages 3-4 and 5-8 run for the stems side by side on as many threads as there are CPUs
(`_each`): the work is in C (SciPy, NumPy, pedalboard) outside Python's global lock.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.signal

from bandmate.errors import AudioFormatError, UserError
from bandmate.io.audio import Audio, all_finite
from bandmate.mix.balance import (
    ROLES,
    load_balance,
    onset_rate_per_s,
    stem_features,
    stem_spectrum,
    welch,
)
from bandmate.mix.dynamics import DC_HIGHPASS_HZ, DcBlocker
from bandmate.mix.elements import (
    AUDIO_SUFFIXES,
    match_stems,
    named_elements,
    pair_pans,
    stem_aliases,
    stereo_pairs,
    stereo_side,
    track_name,
)
from bandmate.mix.meter import (
    ABSOLUTE_GATE_LUFS,
    MOMENTARY_SECONDS,
    SERIES_STEP_SECONDS,
    SHORT_TERM_SECONDS,
    integrated_lufs,
    measure_loudness,
    metered,
    tick_frames,
    true_peak_dbtp,
)
from bandmate.mix.roles import (
    CLICK_NAME,
    DOUBLE_WORD,
    FX_NAME,
    RETURN_NAME,
    RoleSettings,
    detect_role_from_content,
    load_roles,
    role_from_name,
)
from bandmate.progress import ProgressCallback, no_progress
from bandmate.threads import thread_map

STAGES = (
    "conform",
    "roles",
    "level",
    "highpass",
    "masking",
    "compress",
    "balance",
    "pan",
    "sum",
    "bus",
    "headroom",
)
MASKING_BANDS_HZ = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)


LEVEL_RANGE_LU = 40.0  # a level given for a stem lies within this far under the loudest


@dataclass(frozen=True)
class AutomixConfig:
    """Every setting of automix. `roles` forces a role per stem name (as the stem is named);
    `levels` sets a stem's level in LU under the loudest element (0 for the loudest, as the
    styles' mix levels are written) in place of the balance model's, whose own levels are put on
    the same scale (its loudest stem at 0)."""

    working_lufs: float = -23.0
    target_lufs: float = -20.0
    ceiling_dbtp: float = -3.0
    masking_cut_db: float = -2.5
    masking_share: float = 0.25  # a band holding this share of a stem's energy is "strong"
    masking_window_db: float = 6.0  # two strong stems this close in the band mask each other
    bus_threshold_db: float = -18.0
    bus_ratio: float = 1.5
    roles: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if self.ceiling_dbtp > 0:
            raise UserError(f"The ceiling must be at most 0 dBTP, got {self.ceiling_dbtp}.")
        for name, level in self.levels.items():
            if not -LEVEL_RANGE_LU <= level <= 0:  # (NaN fails too)
                raise UserError(
                    f"The level for stem {name!r} is {level:g}; give it in dB under the loudest "
                    f"element, from 0 (the loudest) down to -{LEVEL_RANGE_LU:g}."
                )
        # a role as a user types it: "Bass" or " bass " for bass
        roles = {name: str(role).strip().lower() for name, role in self.roles.items()}
        object.__setattr__(self, "roles", roles)
        for name, role in self.roles.items():
            if role not in ROLES:
                raise UserError(
                    f"Role {role!r} for stem {name!r} is unknown; use one of {', '.join(ROLES)}."
                )


@dataclass(frozen=True)
class StemReport:
    """What automix did to one stem. Loudness in LUFS (None for a silent stem), gain in dB."""

    name: str
    role: str
    role_from: str  # "name", "content" or "given"
    level_from: str  # "model" or "given": where its level under the loudest element came from
    loudness_before_lufs: float | None
    loudness_after_lufs: float | None  # in the mix, before the bus compressor
    gain_db: float | None  # after minus before: every stage's net effect on its level
    pan: float  # -1 left ... +1 right
    highpass_hz: float | None
    cuts: tuple[tuple[float, float], ...]  # (centre Hz, gain dB) of the masking cuts
    resampled_from_hz: int | None
    padded_seconds: float
    silent: bool


@dataclass(frozen=True)
class AutomixReport:
    stems: tuple[StemReport, ...]
    sample_rate: int
    stages: tuple[str, ...]
    mix_lufs: float | None
    mix_true_peak_dbtp: float | None  # None for a silent mix
    bus_gain_reduction_db: float  # how far the bus compressor lowered the mix's loudness
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


# --- the pipeline -------------------------------------------------------------------------------
def automix(
    stems: Mapping[str, Audio] | Sequence[tuple[str, Audio]],
    *,
    config: AutomixConfig = AutomixConfig(),
    progress: ProgressCallback = no_progress,
) -> tuple[Audio, AutomixReport]:
    """Mix named stems into one stereo `Audio` (see the module's docs for the stages).

    `stems` maps a name (a file name such as "03-bass.wav" or a track name) to its audio, mono or
    stereo. The inputs are not changed. Raises `UserError` for no stems or stems all under 0.4 s,
    `AudioFormatError` for NaN or infinite samples. `progress(done, total)` is called as each
    stem is prepared and as each is finished (total: twice the stems).
    """
    named = list(stems.items()) if isinstance(stems, Mapping) else list(stems)
    return _automix(named, config, progress)


def _automix(named: list[tuple[str, Audio]], config: AutomixConfig, progress: ProgressCallback):
    """`automix`, consuming `named`: its entries are let go once the stems are read, and each
    stem as read once it is prepared (but for the stems of an element, whose sum `_balance`
    reads), so a caller that hands over its only copy (`automix_files`) holds a session about
    once, plus the mix, rather than twice."""
    if not named:
        raise UserError("There are no stems to mix; give at least one audio file.")
    names = [name for name, _ in named]
    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:  # the report's rows, a role or a level given by name could not tell them apart
        raise UserError(
            f"Two stems are named {twice[0]!r}; give each stem its own name (its path, say)."
        )
    given_roles = match_stems(_pair_roles(config.roles, names), names, "The role")
    notes: list[str] = []
    named, names = _without_clicks(named, given_roles, config, notes)
    signals, frames, rate, resampled, padded, offsets = _conform(
        [a for _, a in named], notes, names
    )
    named.clear()  # `signals` holds the stems now
    longest = frames / rate
    if longest < MOMENTARY_SECONDS:  # every stem would read as silent and the mix be silence
        raise UserError(
            f"The stems are {longest:.2f} s long at most, too short to balance by loudness "
            f"(BS.1770 measures {MOMENTARY_SECONDS:g} s at a time); give longer stems."
        )
    table = load_roles()
    roles, role_from = [], []
    for name, x in zip(names, signals, strict=True):
        given = given_roles.get(name)
        from_name = None if given else role_from_name(name, table)
        role = given or from_name or detect_role_from_content(x, rate, frames)
        roles.append(role)
        role_from.append("given" if given else "name" if from_name else "content")
    if "vocal" not in roles:  # a vocal's double sits under the lead; with no lead, it leads
        for k, name in enumerate(names):
            undoubled = DOUBLE_WORD.sub("", name)
            if role_from[k] == "name" and role_from_name(undoubled, table) == "vocal":
                roles[k] = "vocal"

    # a kit given as its pieces, or a part as two mono sides, is balanced as the one stem they
    # make (`_balance` sums them as they came), and a level may be given for it by its name
    elements = named_elements(names, roles)
    copies = {}  # label: the stems of a part held twice
    for group in _copies(signals, roles, elements, frames):
        listed = " and ".join(names[k] for k in group)
        label = " + ".join(names[k] for k in group)
        elements[label] = copies[label] = group
        notes.append(
            f"{listed} hold the same part in phase (a copy, or one sound taken twice); they "
            "were balanced as one part, where each set as the whole part put it 6 dB over."
        )
    in_elements = {k for group in elements.values() for k in group}

    # each stem's measures and features, the working gain and the high-pass; then the levels
    # from the balance model, which reads some features against the whole song
    def prepare(k: int) -> _Prepared:
        x = signals[k]
        if k not in in_elements:
            signals[k] = None  # the prepared stem replaces it
        return _prepare(x, rate, frames, table[roles[k]], config.working_lufs)

    steps = 2 * len(signals)
    progress(0, steps)
    prepared = _each(prepare, range(len(signals)), progress=lambda done, _: progress(done, steps))
    before = [p.before for p in prepared]
    silent = [b is None for b in before]
    for name, p in zip(names, prepared, strict=True):
        if p.floor is not None and p.before is not None:
            notes.append(
                f"{name} holds a steady noise floor (hiss, about {p.floor.lufs:.0f} LUFS) for "
                f"{p.floor.seconds:.0f} s between its parts; it was balanced by its part above "
                "that floor, and goes into the mix with the noise as it came."
            )
    given_levels = _match_levels(config.levels, names, elements)
    for label, group in copies.items():  # a level for one of a part's copies is the part's
        named = [names[k] for k in group if names[k] in given_levels]
        if len(named) == 1:
            given_levels[label] = given_levels.pop(named[0])
    sides = pair_pans(stereo_pairs(names, roles), [0.0] * len(names))  # a pair hard to its sides
    levels, element_levels = _balance(
        roles, signals, prepared, elements, sides, rate, frames, config
    )
    levels = _given_levels(names, levels, elements, element_levels, given_levels)
    level_given = {n for key in given_levels for n in _members(key, names, elements)}
    returns = [bool(RETURN_NAME.search(track_name(n))) for n in names]
    centred = [
        r or bool(FX_NAME.search(track_name(n))) for r, n in zip(returns, names, strict=True)
    ]
    # a return given as two sides is moved as a return; one that is part of a part is the part's
    with_parts = {k for g in elements.values() if not all(returns[j] for j in g) for k in g}
    levels = _returns_as_sent(levels, before, returns, names, level_given, with_parts)
    highpass = [p.highpass_hz for p in prepared]
    quiet = [None if p.floor is None else p.floor.quiet for p in prepared]
    signals = [p.signal for p in prepared]  # a silent stem's is as it came
    for k, (name, s, x, offset) in enumerate(zip(names, silent, signals, offsets, strict=True)):
        if offset is not None and s:  # nothing but the offset: what the filter leaves is its step
            signals[k] = np.zeros_like(x)
            notes.append(
                f"{name} holds nothing but a DC offset of {offset:.3g}; with that removed it is "
                "silent, and it stays silent in the mix."
            )
            continue
        if offset is not None:
            notes.append(
                f"{name} had a DC offset of {offset:.3g}, far more than the rest of its signal; "
                "it was removed."
            )
        if s and np.any(x):  # something, but nothing the meter's -70 LUFS gate lets through
            notes.append(
                f"{name} is too quiet to measure (under -70 LUFS), so it goes into the mix "
                "unbalanced, where it will not be heard; if it should be, export it again "
                "louder (a fader or clip gain left down) or check that it holds the part."
            )
        elif s:
            notes.append(f"{name} is silent; it stays silent in the mix.")
    cuts = _masking_cuts(signals, [p.bands for p in prepared], roles, levels, table, config)
    del prepared  # `signals` holds the stems now, and lets each go once it is in the sum
    # cuts, compression, balance (the loudest predicted stem sits at the working level), pan
    top = max((v for v in levels if v is not None), default=0.0)
    pairs = stereo_pairs(names, roles)  # (hard to their sides: not one place between them)
    parts = [g for g in elements.values() if tuple(g) not in pairs]
    pans = pair_pans(pairs, _pans(roles, silent, levels, table, parts, centred))
    total = _OrderedSum((2, frames))  # each stem added in at its place: they all start at 0
    step = _cancel_step(frames)
    rows: list[np.ndarray | None] = [None] * len(signals)  # for `_cancelling_pairs`
    sounding = [False] * len(signals)

    def finish(k: int) -> float | None:
        x, signals[k] = signals[k], None
        y, after = _finish(
            x,
            rate,
            cuts[k],
            None if silent[k] else table[roles[k]],
            None if silent[k] else config.working_lufs + levels[k] - top,
            pans[k],
            quiet[k],
        )
        del x
        row = np.zeros((2, -(-frames // step)))  # as long as the song's: silent after the stem
        kept = y[:, ::step]
        row[:, : kept.shape[1]] = kept
        rows[k] = row.ravel()
        sounding[k] = bool(np.any(y))
        total.add(k, y)
        return after

    afters = _each(finish, range(len(signals)), progress=lambda done, n: progress(n + done, steps))
    for louder, quieter, loss_db in _cancelling_pairs(rows):
        louder, quieter = names[louder], names[quieter]
        together = "silent" if loss_db >= 60 else f"{loss_db:.0f} dB quieter than {louder} alone"
        notes.append(
            f"{louder} and {quieter} cancel each other out in the mix: together they are "
            f"{together}, as a polarity-inverted copy would be; flip the polarity of one, or "
            "leave one out."
        )
    mix = total.total
    bus_in = _lufs(mix, rate)
    mix = _bus_compress(mix, rate, bus_in, config)
    bus_meter, peak = _measure_bus(mix, rate) if bus_in is not None else (None, -math.inf)
    bus_out = None if bus_meter is None else _finite(bus_meter.result().integrated_lufs)
    bus_reduction = 0.0 if bus_in is None or bus_out is None else bus_in - bus_out
    scale_db = (
        0.0 if bus_out is None else min(config.target_lufs - bus_out, config.ceiling_dbtp - peak)
    )
    mix = mix * _gain(scale_db)
    # loudness and true peak move exactly with the gain: the finished mix is not measured again
    mix_lufs = None
    if bus_meter is not None:
        mix_lufs = _finite(bus_meter.result([_gain(2 * scale_db)] * 2).integrated_lufs)
    if bus_out is None:
        notes.append(
            "Every stem is silent, so the mix is silent."
            if all(silent) and not any(sounding)
            else "Every stem is too quiet to measure (under -70 LUFS), so the mix is their sum "
            "as they came, unbalanced."
            if all(silent)
            else "The stems cancel each other out: nothing in their sum is louder than -70 LUFS, "
            "so the mix is silent."
        )

    reports = []
    for k, name in enumerate(names):
        after = None if afters[k] is None else afters[k] + scale_db
        reports.append(
            StemReport(
                name=name,
                role=roles[k],
                role_from=role_from[k],
                level_from="given" if name in level_given else "model",
                loudness_before_lufs=_round(before[k]),
                loudness_after_lufs=_round(after),
                gain_db=_round(None if after is None or before[k] is None else after - before[k]),
                pan=round(pans[k], 3),
                highpass_hz=highpass[k],
                cuts=tuple(cuts[k]),
                resampled_from_hz=resampled[k],
                padded_seconds=round(padded[k] / rate, 3),
                silent=silent[k],
            )
        )
    out = Audio(mix.astype(np.float32), rate)
    report = AutomixReport(
        stems=tuple(reports),
        sample_rate=rate,
        stages=STAGES,
        mix_lufs=_round(mix_lufs),
        # the true peak moves with the gain exactly: the interpolation is linear
        mix_true_peak_dbtp=round(peak + scale_db, 2) if math.isfinite(peak) else None,
        bus_gain_reduction_db=round(bus_reduction, 2),
        notes=tuple(notes),
    )
    return out, report


# --- stages -------------------------------------------------------------------------------------
class _OrderedSum:
    """A float32 sum of arrays that threads hand in as they finish, added in the order of their
    indices (the same rounding every run), holding only those that come early. An array shorter
    than the sum is added to its start (a short stem, silent after its end).

    The mix is summed so, stem by stem, rather than from every finished stem at once: a session of
    many long stems would otherwise hold each stem three times over (as read, prepared, finished).
    """

    def __init__(self, shape: tuple[int, int]):
        self.total = np.zeros(shape, dtype=np.float32)
        self._next = 0
        self._early: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def add(self, index: int, x: np.ndarray) -> None:
        with self._lock:
            self._early[index] = x
            while self._next in self._early:
                x = self._early.pop(self._next)
                self.total[:, : x.shape[1]] += x
                self._next += 1


def _each(fn, *columns, progress=None) -> list:
    """`fn` over the stems (one argument from each column), side by side on threads: the
    meter's and SciPy's filters and pedalboard's processors run without Python's global lock.
    `progress(done, total)` is called as each stem is done (`threads.thread_map`)."""
    return thread_map(lambda item: fn(*item), list(zip(*columns, strict=True)), progress=progress)


@dataclass(frozen=True)
class _NoiseFloor:
    """A stem's noise floor (`_noise_only`): the 100 ms steps of the meter's series that hold
    nothing else, its level (LUFS) and how long the stem holds it alone (s)."""

    quiet: np.ndarray
    lufs: float
    seconds: float


@dataclass(frozen=True)
class _Prepared:
    """A stem after the level and high-pass stages, with what later stages need of it."""

    signal: np.ndarray
    before: float | None  # its integrated loudness as it came; None when silent
    features: dict[str, float]  # its `stem_features`; empty when silent
    highpass_hz: float | None
    bands: np.ndarray | None  # `_band_shares` at the working level; None when silent
    floor: _NoiseFloor | None = None  # its noise floor between its parts, if it has one


def _prepare(x, rate, frames, settings, working_lufs) -> _Prepared:
    """Stages 3 and 4 for one stem: measure it and its balance features, bring it to the working
    level and high-pass it. `frames` is the song's length (`_conform`).

    A stem that holds a noise floor between its parts (`_noise_only`) is measured with those
    stretches silent, as if it had been edited: its loudness and features are those of its part.
    The masking stage's band levels come from the stem's one spectrum, moved by the working gain
    and the high-pass filter's response, rather than from a second spectrum of the filtered stem.
    """
    loudness = measure_loudness(Audio(x, rate), true_peak=False)
    floor = _noise_only(x, rate, loudness.momentary_lufs)
    measured = x
    if floor is not None:
        measured = _silenced(x, rate, floor.quiet)
        loudness = measure_loudness(Audio(measured, rate), true_peak=False)
    before = _finite(loudness.integrated_lufs)
    if before is None:
        return _Prepared(x, None, {}, None, None)
    freqs, power = stem_spectrum(measured, rate, frames)
    features = stem_features(measured, rate, loudness, (freqs, power), frames)
    del measured
    gain = _gain(working_lufs - before)
    power = power * gain**2
    if settings.highpass_hz:
        sos = _highpass_sos(rate, settings.highpass_hz)
        power = power * np.abs(scipy.signal.sosfreqz(sos, worN=freqs, fs=rate)[1]) ** 2
        sos[0, :3] *= gain  # the gain rides on the filter: one pass over the stem
        x = scipy.signal.sosfilt(sos, x, axis=1).astype(np.float32)
    else:
        x = x * np.float32(gain)
    bands = _band_shares(freqs, power)
    return _Prepared(x, before, features, settings.highpass_hz, bands, floor)


# A noise floor: a stem's quietest 100 ms steps, if they hold one steady level of noise (a
# preamp's hiss, a room) far under its loud part. BS.1770's -70 LUFS gate passes a vocal take's
# hiss at -50 dBFS between its phrases, and where the part plays seldom its relative gate (10 LU
# under the mean) does too; the hiss then reads as a long quiet stretch of the part, which widens
# its loudness range, brightens its spectrum and lowers its loudness. A vocal singing 10% of a
# 47 s pop backing track at -20 dBFS RMS was put 3.2 dB under where the same take with digital
# silence between its phrases went (white hiss at -50 dBFS; 3 to 5 dB off either way at -45 to
# -50 dBFS, 0.3 at -60). Measured with its noise-only stretches silent it lands within 0.2 dB of
# the clean take at -60 to -45 dBFS. Music's soft passages are told from noise by their spectrum
# (partials, not a flat floor) and mostly by their unsteadiness at 100 ms steps.
NOISE_FLOOR_PERCENTILE = 5.0  # the floor is read at this percentile of the momentary levels
NOISE_FLOOR_GAP_DB = 15.0  # the part's loudest block at least this far over the floor
NOISE_FLOOR_WIDTH_DB = 3.0  # momentary levels this close over the floor are the floor
NOISE_FLOOR_STEADY_DB = 0.5  # the floor's level changes by at most this much from step to step
NOISE_FLOOR_SHARE = 0.05  # and makes up at least this share of the stem's steps
NOISE_FLOOR_FLATNESS = 0.5  # its spectrum at least this flat within octaves (`_octave_flatness`)
NOISE_FLOOR_SAMPLE_SECONDS = 20.0  # the floor's spectrum is read from this much of it at most
NOISE_FLOOR_ONSETS_PER_S = 0.5  # and it holds fewer onsets than this (hiss none, hi-hats many)


def _noise_only(x: np.ndarray, rate: int, momentary_lufs: np.ndarray) -> _NoiseFloor | None:
    """The noise floor of a stem (channels, frames) between its parts, from the stem and its
    momentary loudness series (`Loudness.momentary_lufs`); None for a stem with no steady floor
    of noise under its part.

    The floor must be noise: its spectrum flat within each octave (`_octave_flatness`), where a
    soft passage of a part (a strummed guitar under its loud chorus, as steady at 100 ms steps)
    is made of partials, and without onsets, where a part's steady soft stretch that is noise
    too (hi-hats alone in an intro, a shaker) is struck. A step is noise only when every 400 ms
    block over it reads within `NOISE_FLOOR_WIDTH_DB` of the floor (or silence): the part's
    attacks and tails beside the floor are kept.

    Blocks under BS.1770's absolute gate count as silence: after a stem's last sound its
    K-weighting rings on down to -3000 LUFS, finite, and a floor read among those missed the
    hiss of every take followed by digital silence (a stem shorter than the song, a take trimmed
    at its end), which was balanced 4.4 dB off, and read dither as hiss.
    """
    levels = np.asarray(momentary_lufs, dtype=np.float64)
    levels = np.where(levels > ABSOLUTE_GATE_LUFS, levels, -np.inf)
    heard = levels[np.isfinite(levels)]
    if len(heard) < 2 / NOISE_FLOOR_SHARE:
        return None
    floor = float(np.percentile(heard, NOISE_FLOOR_PERCENTILE))
    if float(heard.max()) - floor < NOISE_FLOOR_GAP_DB:
        return None
    at_floor = ~(levels > floor + NOISE_FLOOR_WIDTH_DB)  # silent blocks (-inf) count as floor
    both = at_floor[1:] & at_floor[:-1] & np.isfinite(levels[1:]) & np.isfinite(levels[:-1])
    if np.count_nonzero(both) < NOISE_FLOOR_SHARE * len(levels):
        return None
    if float(np.median(np.abs(levels[1:][both] - levels[:-1][both]))) > NOISE_FLOOR_STEADY_DB:
        return None
    # the floor's spectrum, from up to NOISE_FLOOR_SAMPLE_SECONDS of the blocks that read it
    step = _series_step_frames(rate)
    starts = np.flatnonzero(at_floor & np.isfinite(levels))
    starts = starts[: round(NOISE_FLOOR_SAMPLE_SECONDS / SERIES_STEP_SECONDS)]
    floor_audio = np.concatenate([x[:, i * step : (i + 1) * step] for i in starts], axis=1)
    if _octave_flatness(floor_audio, rate) < NOISE_FLOOR_FLATNESS:
        return None
    if onset_rate_per_s(floor_audio, rate) >= NOISE_FLOOR_ONSETS_PER_S:
        return None
    blocks = round(MOMENTARY_SECONDS / SERIES_STEP_SECONDS)  # the blocks over each step
    steps = len(levels) + blocks - 1
    heard_over = np.zeros(steps, dtype=bool)
    for shift in range(blocks):
        heard_over[shift : shift + len(levels)] |= ~at_floor
    seconds = np.count_nonzero(at_floor & np.isfinite(levels)) * SERIES_STEP_SECONDS
    return _NoiseFloor(~heard_over, floor, float(seconds))


def _octave_flatness(x: np.ndarray, rate: int) -> float:
    """The spectral flatness (geometric over arithmetic mean of the Welch spectrum's bins) of
    `x`'s mono sum in each octave from 250 Hz to 8 kHz (those under 0.45 times the rate),
    averaged weighted by the octaves' energy: near 1 for hiss (white, pink or brown: any slope
    is nearly flat within an octave), near 0 where partials hold the energy. 0 for a signal too
    short or silent."""
    freqs, power = welch(x.mean(axis=0, dtype=np.float64), rate)
    flatness, energy = [], []
    for low in (250.0, 500.0, 1000.0, 2000.0, 4000.0):
        band = power[(freqs >= low) & (freqs < min(2 * low, 0.45 * rate))]
        if len(band) < 4 or not np.all(band > 0):
            continue
        flatness.append(float(np.exp(np.mean(np.log(band))) / np.mean(band)))
        energy.append(float(np.sum(band)))
    return float(np.average(flatness, weights=energy)) if flatness else 0.0


def _silenced(x: np.ndarray, rate: int, quiet: np.ndarray) -> np.ndarray:
    """A copy of `x` with the 100 ms steps of the meter's series marked in `quiet` silent."""
    step = _series_step_frames(rate)
    out = x.copy()
    mask = np.repeat(quiet, step)[: x.shape[1]]
    out[:, : len(mask)][:, mask] = 0.0
    return out


def _series_step_frames(rate: int) -> int:
    """The frames of one step of the meter's momentary series (100 ms in whole ticks)."""
    tick = tick_frames(rate)
    return round(SERIES_STEP_SECONDS * rate / tick) * tick


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


def _match_levels(given, names, elements) -> dict[str, float]:
    """The levels `given` keyed by the stem or element (`elements`) each key names."""
    members = {label: [names[k] for k in group] for label, group in elements.items()}
    return match_stems(given, names, "The level", members)


def _members(key: str, names, elements) -> list[str]:
    """The stems a level keyed by `key` (a stem's name or an element's) is given for."""
    return [key] if key in names else [names[k] for k in elements[key]]


def _given_levels(names, levels, elements, element_levels, given: Mapping[str, float]):
    """The balance model's `levels` on the scale of the given levels, the loudest element it
    predicts at 0 (a part balanced as one, `element_levels`, is as loud as its stems' sum), with
    those `given` by a stem's name or an element's in place of its own: an element's stems move
    together, their sum at its level. A silent stem stays None, and the other stems keep the
    levels the model gave them, whatever is given."""
    if not given:
        return levels
    top = max([v for v in levels if v is not None] + list(element_levels.values()), default=0.0)
    out = [None if v is None else v - top for v in levels]
    by_name = {n: k for k, n in enumerate(names)}
    for key, level in given.items():
        if key in by_name:
            k = by_name[key]
            out[k] = None if out[k] is None else level
            continue
        # an element: its stems keep their places within it, their sum at the level (the
        # loudest at it where they have no sum: all but one silent, or cancelling out)
        live = [k for k in elements[key] if out[k] is not None]
        if not live:
            continue
        now = element_levels[key] - top if key in element_levels else max(out[k] for k in live)
        for k in live:
            out[k] += level - now
    return out


def _conform(audios: list[Audio], notes: list[str], names: list[str]):
    """(signals, the song's length in frames, rate, resampled-from per stem, padded frames per
    stem, the DC offset removed from each stem or None), as float32.

    The song is as long as the longest stem, and a shorter one is silent after its end, but its
    signal is not padded to that length: it is carried with `TAIL_SECONDS` of that silence at
    most, and every later stage reads it so (its features and spectrum as of the padded stem,
    `frames`; the mix adds it in at its place). Memory then goes with the stems' lengths, not
    their number times the longest's: nine 10-second stems beside one of 10 minutes were ten
    10-minute stems. A signal may be its input's own array: no later stage changes an array in
    place."""
    for name, a in zip(names, audios, strict=True):
        if not all_finite(a.samples):
            raise AudioFormatError(
                f"Stem {name!r} holds NaN or infinite samples; it cannot be mixed."
            )
    counts = Counter(a.sample_rate for a in audios)
    rate = max(counts, key=lambda r: (counts[r], r))
    signals, resampled, offsets = [], [], []
    for name, a in zip(names, audios, strict=True):
        x = a.samples.astype(np.float32, copy=False)
        offset = _dominant_dc(x)
        offsets.append(offset)  # (said once it is known whether anything is left)
        if offset is not None:
            x = DcBlocker(a.sample_rate, DC_HIGHPASS_HZ).process(x)  # as the master removes it
        if a.sample_rate != rate:
            g = math.gcd(rate, a.sample_rate)
            x = scipy.signal.resample_poly(x, rate // g, a.sample_rate // g, axis=1)
            x = x.astype(np.float32)
            notes.append(f"{name} was resampled from {a.sample_rate} Hz to {rate} Hz.")
        signals.append(x)
        resampled.append(a.sample_rate if a.sample_rate != rate else None)
    frames = max(x.shape[1] for x in signals)
    padded = [frames - x.shape[1] for x in signals]
    for name, n in zip(names, padded, strict=True):
        # stems a DAW exports, or that resampling rounds, differ by a few samples: not worth a
        # note ("padded with 0.00 s"); the report's padded_seconds still says
        if n / rate >= 0.005:
            notes.append(f"{name} was padded with {n / rate:.2f} s of silence to the longest stem.")
    tail = math.ceil(TAIL_SECONDS * rate)
    signals = [
        np.pad(x, ((0, 0), (0, min(n, tail)))) if n else x
        for x, n in zip(signals, padded, strict=True)
    ]
    return signals, frames, rate, resampled, padded, offsets


# the silence a short stem is carried with after its end: the meter's 3 s short-term windows
# that start in the stem reach that far into it, and its filters ring on into it (the high-pass
# and the masking cuts for a few ms; the meter's K-weighting falls 100 dB in 0.1 s); past it
# the padded stem held nothing any stage could read
TAIL_SECONDS = SHORT_TERM_SECONDS + 1.0


# an offset this many times the rest of the signal is removed: the General MIDI SoundFont's warm
# pads sit 1.2-1.4 times theirs off centre, and the balance model was fitted on them so (taking
# theirs out moved bench/mix.py's median from 1.42 to 1.54 dB)
DC_DOMINANCE = 3.0


def _dominant_dc(x: np.ndarray) -> float | None:
    """The largest channel's DC offset of a stem whose offset dwarfs the rest of its signal (the
    mean over `DC_DOMINANCE` times the RMS about the mean), else None.

    Such a stem is mostly offset: an interface's DC under a take that is all but silent, or a
    track exported off centre. The K-weighting's start-up reads the step at its first sample as
    sound (-57 LUFS for a 0.02 offset over noise at -80 dBFS), so it was turned up 13 dB, and its
    offset, counting in full toward the mix's true peak, held the whole mix 14 LU under its
    target. Ordinary stems are left exactly as they are (a SoundFont's pads sit up to 10% of
    their peak off centre, and the balance model was fitted on them so).
    """
    if not x.shape[1]:
        return None
    # one pass for the sum and one for the energy (x.std's two float64 passes cost 0.04 s a
    # 3-minute stem, 4% of the backing job's time budget over its stems)
    frames = x.shape[1]
    mean = x.sum(axis=1, dtype=np.float64) / frames
    energy = np.einsum("ij,ij->i", x, x).astype(np.float64) / frames
    rest = np.sqrt(np.maximum(energy - mean**2, 0.0))
    if not np.any(np.abs(mean) > DC_DOMINANCE * rest):
        return None
    return float(np.max(np.abs(mean)))


def _highpass_sos(rate: int, cutoff_hz: float) -> np.ndarray:
    return scipy.signal.butter(2, cutoff_hz, "highpass", fs=rate, output="sos")


def _band_shares(freqs: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Each masking band's share of a spectrum's energy, and the band's level (dB), as
    (2, bands)."""
    total = power.sum() + 1e-30
    bands = np.array(
        [
            power[(freqs >= c / math.sqrt(2)) & (freqs < c * math.sqrt(2))].sum()
            for c in MASKING_BANDS_HZ
        ]
    )
    return np.stack([bands / total, 10 * np.log10(bands + 1e-30)])


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


def _pans(roles, silent, levels, table, groups=(), centred=None) -> list[float]:
    """Pan positions: centred roles at 0; spread roles alternate left, right in stem order, so
    that the two sides balance. With an odd number of them, the one the balance model puts
    loudest stays in the centre (a lone keys part panned to one side left the mix lopsided).
    The stems of each of `groups` (one part, `elements.named_elements`) count as one and share
    its place: a guitar's DI and amp stems went to opposite sides, one guitar smeared across.
    A stem flagged in `centred` (an effects return or track, `RETURN_NAME`, `FX_NAME`) stays
    at 0 whatever its role: a stereo reverb return read as a pad was pushed 4 dB to one side."""
    centred = centred or [False] * len(roles)
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
    if len(units) % 2:
        units.remove(max(units, key=lambda u: max(levels[k] for k in u)))
    pans, side = [0.0] * len(roles), -1.0
    for unit in units:
        for k in unit:
            pans[k] = side * table[roles[k]].pan
        side = -side
    return pans


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


def _without_clicks(named, given_roles, config, notes):
    """(`named` and its names without the click tracks, `CLICK_NAME`), a note naming what was
    left out. A stem a user gives a role or a level by its own name is kept: asked for, it is
    mixed as any other. Raises `UserError` when every stem is a click track."""
    asked = {key.strip().lower() for key in (*given_roles, *config.levels)}
    clicks = [
        name
        for name, _ in named
        if CLICK_NAME.fullmatch(track_name(name))
        and not ((stem_aliases(name) | {track_name(name)}) & asked)
    ]
    if not clicks:
        return named, [name for name, _ in named]
    listed = ", ".join(clicks)
    if len(clicks) == len(named):
        raise UserError(
            f"Every stem is a click track ({listed}), which a mix leaves out; to mix one, give "
            f"it a role (--role '{clicks[0]}=drums')."
        )
    notes.append(
        f"Left out {listed}: a click track guides the players and is not mixed; to mix it, "
        f"give it a role (--role '{clicks[0]}=drums')."
    )
    named[:] = [(name, audio) for name, audio in named if name not in clicks]  # (let go)
    return named, [name for name, _ in named]


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


def _measure_bus(mix: np.ndarray, rate: int):
    """(a meter fed the mix, its true peak in dBTP), the two measured side by side."""
    audio = Audio(mix, rate)
    meter, peak = thread_map(
        lambda measure: measure(audio), [lambda a: metered(a, true_peak=False), true_peak_dbtp]
    )
    return meter, peak


def _bus_compress(mix: np.ndarray, rate: int, now: float | None, config) -> np.ndarray:
    """A gentle bus compressor, its threshold relative to the mix at the target loudness.

    `now` is the mix's integrated loudness (None for silence)."""
    from pedalboard import Compressor

    if now is None:
        return mix
    # the compressor sees the mix at the target loudness, so its threshold means the same always
    g = _gain(config.target_lufs - now)
    comp = Compressor(
        threshold_db=config.bus_threshold_db, ratio=config.bus_ratio, attack_ms=30, release_ms=200
    )
    return comp(mix * g, rate) / g


# --- helpers ------------------------------------------------------------------------------------
def _lufs(x: np.ndarray | None, rate: int) -> float | None:
    if x is None or not np.any(x):
        return None
    return _finite(integrated_lufs(Audio(x, rate)))


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _gain(db: float) -> float:
    return 10 ** (db / 20)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- files ----------------------------------------------------------------------------------------
OTHER_AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wma", ".caf")


def stem_paths(inputs: Sequence[str | Path], skipped: list[str] | None = None) -> list[Path]:
    """The stem files named by `inputs`: files as given, folders as their WAV, FLAC and AIFF
    files (an AIFF stem was left out of the mix without a word).

    A folder is read as `bandmate backing` writes one: its `stems/` subfolder when that holds
    stems, else the folder itself; files sorted by name. Hidden files are passed over: macOS
    leaves a "._name.wav" of metadata beside every file it copies to a USB stick or a network
    drive, and a half-written output of bandmate's is a hidden file too. The names of the audio
    files a folder holds in other formats (MP3, AAC, ...), and of its subfolders that hold stems
    (a "Drums" folder of kick and snare), are added to `skipped`, so that the report can say
    they were left out. Raises `InputFileError` when nothing is found, or when one file is given
    twice (it would be mixed twice as loud).
    """
    import os

    from bandmate.errors import InputFileError
    from bandmate.io.files import check_inputs

    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            folder = _stem_folder(item)
            files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
            found = [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
            others = [p.name for p in files if p.suffix.lower() in OTHER_AUDIO_SUFFIXES]
            if not found:
                raise InputFileError(_no_stems_message(item, files))
            others += [
                f"{p.name}/"
                for p in files
                if p.is_dir() and p != item / "stems" and _holds_stems(p)
            ]
            if skipped is not None:
                skipped.extend(others)
            paths.extend(found)
        else:
            check_inputs([item])
            paths.append(item)
    if not paths:
        raise InputFileError("No stems were given; give a folder of stems or stem files.")
    for k, path in enumerate(paths):
        for earlier in paths[:k]:
            if earlier.resolve() == path.resolve() or os.path.samefile(earlier, path):
                also = "" if str(earlier) == str(path) else f" (as {str(earlier)!r} too)"
                raise InputFileError(
                    f"Stem {str(path)!r} is given twice{also}; give each stem once."
                )
    return paths


def _no_stems_message(folder: Path, files: Sequence[Path]) -> str:
    """What to do about a folder with no stems of its own: give its subfolders that hold stems
    (a session exported as "Drums/" and "Band/" was refused as a folder of none, and told to
    convert MP3s it did not have), else convert its stems to WAV."""
    import shlex

    inner = [p for p in files if p.is_dir() and _holds_stems(p)]
    if inner:
        listed = ", ".join(f"{p.name}/" for p in inner)
        command = " ".join(shlex.quote(str(p)) for p in inner)
        return (
            f"Folder {str(folder)!r} holds no stems itself, but its subfolders {listed} do; "
            f"give them instead (bandmate mix {command} -o mix.wav)."
        )
    return (
        f"Folder {str(folder)!r} holds no .wav, .flac or .aiff stems; give a folder of stems "
        "(MP3 or AAC stems converted to WAV)."
    )


def _stem_folder(folder: Path) -> Path:
    """The folder whose files are a folder's stems: its `stems/` subfolder when that holds any
    (an empty one, made ahead of an export, left the stems beside it refused as none)."""
    stems = folder / "stems"
    return stems if stems.is_dir() and _holds_stems(stems) else folder


def _check_mix_outside_stems(inputs: Sequence[str | Path], output: str | Path) -> None:
    """Refuse a mix written among the stems of a folder it mixes: the next mix of that folder
    would take it for a stem and mix the song in twice (or refuse it as its own input)."""
    from bandmate.errors import OutputError

    out = Path(output)
    if out.suffix.lower() not in AUDIO_SUFFIXES:
        return
    for item in map(Path, inputs):
        if item.is_dir() and out.parent.resolve() == _stem_folder(item).resolve():
            raise OutputError(
                f"Output {str(out)!r} is in the stems folder {str(_stem_folder(item))!r}, where "
                "the next mix of that folder would take it for a stem; write it outside the "
                "folder."
            )


def stem_names(paths: Sequence[Path]) -> list[str]:
    """The names the report gives the stems at `paths`: each file's name, or, for files of one
    name from different folders ("take1/bass.wav", "take2/bass.wav"), the path as given, so that
    the table's rows and the JSON's entries say which stem is which."""
    from bandmate.io.audio import display_name

    counts = Counter(p.name for p in paths)
    return [display_name(p.name if counts[p.name] == 1 else p) for p in paths]


def _holds_stems(folder: Path) -> bool:
    try:
        return any(p.suffix.lower() in AUDIO_SUFFIXES for p in folder.iterdir())
    except OSError:  # a folder we may not list holds nothing we can mix
        return False


def automix_files(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    config: AutomixConfig = AutomixConfig(),
    force: bool = False,
    extra_outputs: Sequence[str | Path] = (),
    progress: ProgressCallback = no_progress,
) -> AutomixReport:
    """Read the stems named by `inputs`, automix them and write the mix (24-bit) to `output`.

    `config`'s roles and levels may name a stem as a user types it (`elements.match_stems`:
    "drums" for "01-drums.wav"), and a level the stems that make one part ("drums" for a kit in
    pieces); a name that fits no stem, or several, is a `UserError` before any audio is read
    (the parts known then are those the stems' names make; `automix` checks again once the
    roles it reads from the audio are known)."""
    from bandmate.io.audio import check_writable, display_name, read_audio, write_audio
    from bandmate.io.files import check_outputs

    skipped: list[str] = []
    paths = stem_paths(inputs, skipped)
    names = stem_names(paths)
    given_roles = match_stems(_pair_roles(config.roles, names), names, "The role")
    table = load_roles()
    named_roles = [given_roles.get(n) or role_from_name(n, table) for n in names]
    _match_levels(config.levels, names, named_elements(names, named_roles))
    check_writable(output)
    _check_mix_outside_stems(inputs, output)
    check_outputs([output, *extra_outputs], paths, force=force)
    stems = [(name, read_audio(p)) for name, p in zip(names, paths, strict=True)]
    mix, report = _automix(stems, config, progress)  # it lets each stem go when done with it
    write_audio(mix, output)
    if skipped:
        names = ", ".join(display_name(name) for name in skipped)
        report = replace(
            report,
            notes=(
                *report.notes,
                f"Left out {names}: bandmate mixes the WAV, FLAC and AIFF stems of the folder "
                "it is given; give subfolders too, and convert other formats to WAV.",
            ),
        )
    return report


def write_automix_png(report: AutomixReport, path: str | Path) -> None:
    """A bar chart of each stem's loudness before and in the mix, written atomically as PNG or
    as the format `path`'s suffix names (`mix.report.check_figure_path`)."""
    from bandmate.mix.report import check_figure_path, save_figure

    check_figure_path(path)  # before drawing
    save_figure(automix_figure(report), path, dpi=100)


def automix_figure(report: AutomixReport):
    """The chart `write_automix_png` writes (a matplotlib `Figure`): per stem, a bar for its
    integrated loudness before and one in the mix, rising from a floor under the quietest, so
    that a louder stem has the taller bar (bars hung from 0 dB on an upturned axis read the
    other way: the quietest stem had the tallest). A silent stem has no bar and says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6, 1.2 * len(report.stems) + 2), 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    x = np.arange(len(report.stems))
    before = [s.loudness_before_lufs for s in report.stems]
    after = [s.loudness_after_lufs for s in report.stems]
    heard = [v for v in before + after if v is not None]
    floor = max(-70.0, 10 * math.floor((min(heard, default=-60.0) - 3) / 10))
    top = max(heard, default=floor + 10) + 3
    for shift, values, label, colour in (
        (-0.2, before, "before", "#999999"),
        (0.2, after, "in the mix", "#1f77b4"),
    ):
        ax.bar(
            x + shift,
            [0.0 if v is None else v - floor for v in values],
            0.4,
            bottom=floor,
            label=label,
            color=colour,
        )
        for k, v in enumerate(values):
            if v is None:
                ax.text(x[k] + shift, floor, "silent", ha="center", va="bottom", rotation=90)
    ax.set_xticks(x, [f"{s.name}\n{s.role}" for s in report.stems], fontsize=8)
    ax.set_ylabel("integrated loudness (LUFS)")
    ax.set_ylim(floor, max(top, floor + 10))
    ax.legend()
    if report.mix_lufs is None:
        ax.set_title("Automix: the mix is silent")
    else:
        ax.set_title(
            f"Automix: mix {report.mix_lufs} LUFS, true peak {report.mix_true_peak_dbtp} dBTP"
        )
    return figure


def stem_rows(report: AutomixReport) -> list[tuple[str, ...]]:
    """The CLI's table: a header and one row per stem, its level the dB under the loudest stem
    in the mix (as `--level` takes it)."""

    def level(value: float | None) -> str:
        return "silent" if value is None else f"{_tenths(value):.1f}"

    heard = [s.loudness_after_lufs for s in report.stems if s.loudness_after_lufs is not None]
    top = max(heard, default=None)
    rows = [("stem", "role", "gain dB", "pan", "before LUFS", "after LUFS", "level dB")]
    for s in report.stems:
        role = s.role if s.role_from == "name" else f"{s.role} ({s.role_from})"
        gain = "-" if s.gain_db is None else f"{_tenths(s.gain_db):+.1f}"
        under = (
            "-" if s.loudness_after_lufs is None else f"{_tenths(s.loudness_after_lufs - top):.1f}"
        )
        rows.append(
            (
                s.name,
                role,
                gain,
                f"{s.pan:+.2f}",
                level(s.loudness_before_lufs),
                level(s.loudness_after_lufs),
                under if s.level_from == "model" else f"{under} (given)",
            )
        )
    return rows


def _tenths(value: float) -> float:
    """`value` to 0.1, a negative that rounds to zero made 0.0: the table printed "-0.0" for a
    stem a hundredth under the loudest, which reads as a stem apart from the one at 0.0."""
    return round(value, 1) or 0.0
