"""Automix: stems to a balanced stereo mix with headroom for mastering.

`automix(stems)` runs these named stages in this order (`STAGES`), from one `AutomixConfig`, the
role table in `bandmate/data/mixing/roles.toml` and the balance model in `balance.toml` beside it:

1. **conform**: every stem to one sample rate (the most common one among the stems that hold any
   sound, so an empty export does not vote; on a tie the highest), resampled with
   `scipy.signal.resample_poly`, and to one length (the longest; shorter stems silent after their
   end, as every stage reads them, though each is held at its own length and added into the mix at
   its place, `_conform`). NaN, infinite or blown-up samples (over +60 dBFS) are refused
   (`AudioFormatError`); more than two channels are refused by `Audio` itself, and stems all shorter
   than BS.1770's 0.4 s block (`UserError`): none of them has a loudness to balance. A
   stem whose DC offset dwarfs the rest of its signal has the offset removed (`_dominant_dc`);
   others are left exactly as they come. A stereo stem with one channel silent (30 dB under
   the other: a mono part exported as stereo, `_one_channel`) is mixed as that mono channel,
   panned by its role toward the side that held it (as a lone "Keys L" is): kept stereo, the
   pan by role could not move it off its one speaker, and the pan law set it up to 3 dB off
   its level. A stereo stem whose channels are nearly opposite in polarity
   (`_opposite_channels`: their mono sum 10 dB or more under them, measured on the sum) is
   mixed as it came, and the notes say to flip one channel: summed to mono, the part all but
   vanishes.
2. **roles**: each stem's role (drums, bass, keys, guitar, pad, lead, vocal) from its name by the
   table's regular expressions, else from its content (`detect_role_from_content`); the two
   sides of a track with no name ("Audio 1_01.L", ".R") read apart as two roles (a piano's low
   left side as bass) take the role they read as together (`_pair_content_roles`), and the notes
   say so, when their levels rise and fall together as one part's sides do; two parts exported
   as one track's sides (a bass DI left, a guitar right) keep their own roles. A role given
   by the user is read in any case ("Bass"). A vocal's double ("Vox Dbl") is not a second lead
   vocal: it is read as a backing vocal (pad), tucked about 10 dB under the lead, where as a
   vocal it sat at the lead's level and put the vocal 6 dB up; but a session whose only vocal
   is named as a double has it as its lead. A click track, metronome or
   count-in (`CLICK_NAME`: "Click.wav", "Click_01.L.wav", "Metronome") is left out of the mix
   and the notes say so: it guides the players, and a mixing engineer mutes it (read by its
   sound it was balanced as a drum part, as loud as the kit). Given a role or a level by its
   own name, it is mixed as any stem; a session of nothing but click tracks is refused. So is
   a cue, headphone, monitor or talkback feed, or a rough or reference mix, bounce or print of
   the session (`MONITOR_NAME`: "Cue Mix", "HP Mix 2", "Talkback", "Rough Mix", "Print",
   "Mix"): a sum of the other tracks, mixed in it doubled every part it held (a "Cue Mix" was
   balanced as a drum part). Both rules read the whole track name, so a part's print ("Bass
   Print") or a part on a bus ("Mix Bus Perc") is mixed. A stem whose name says no part ("Main",
   the song's title, "Audio 12") and whose sound is the sum of the other stems
   (`_mixes_by_sound`: its levels in octave bands follow the sum's within 2.5 dB once the
   master's EQ and compression and its lag (a look-ahead limiter's, up to 50 ms) are taken out,
   where it sounds and sounding wherever the sum does, its bands' balance the sum's within 12 dB, no
   stem's removal bringing the sum closer, and the stems it holds of two roles or more) is a
   master bus or a bounce of the mix, and is left out with a note as the others are; a room
   mic or a bass amp, which follow some stems but not all, are mixed, and so is a stem that
   follows the others in a session of one instrument (a piano's room mic beside its spots, a
   kit's parallel-compressed "Smash" bus), where it is far more often a part. Two bounces of
   the mix each hold the other's parts: where none is found, the one closest to the sum is
   set aside and the rest asked again. "Main" alone
   (`MONITOR_BARE_NAME`), a master bus's name but as often the lead vocal's in a "Vocals"
   folder, is otherwise mixed, and the notes say how to leave it out.
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
   (`AutomixConfig.levels`, `bandmate mix --level`) takes the place of the model's, in dB
   under the loudest element of the mix (`stems_gain._given_levels`: under the loudest of the
   stems not given one, or, for a level of 0 or levels for every part, on the model's scale):
   gain at the input is undone, so this is how a user sets a part back, and how `bandmate
   backing` keeps its style's authored balance.
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
   balance; a left/right pair hard to its sides); mono stems become stereo. One side of a pair
   without the other ("Keys L" alone: a file lost on the way) is a mono part on the side its
   name gives, at its role's spread, not hard there (the part would sound from one side alone),
   the others filling the other side; the notes say so and ask for the missing side. A side
   30 dB or more under its other side (`_faint_sides`: a mono source recorded into a stereo
   track, its other input's hiss) counts as silent here: the source is a mono part, and the
   noise goes in as far under it as it came. So does a side whose sound is nothing but noise
   (`roles.noise_kind`: steady over the whole stem, without onsets: flat hiss or rumble, mains
   hum, or hum over hiss) at a floor's level (-35 LUFS or under, 20 dB or more under the
   loudest stem): hiss at -50 dBFS, 26.5 dB under a bass on the track's other side, was
   raised 16.5 dB as a pad. A whole stem of such noise (an armed, unused track's hiss; a
   ground loop's hum) is moved by the median gain of the parts, so that it stays as far under
   them as it came, unfiltered, where balanced as a part it went up 20-30 dB; it is kept
   rather than left out, since what the test takes for noise may be a quiet bed a producer put
   there (room tone, rain). The report names each such stem's role "noise", found by its
   content whatever its name says, the notes say so and how to mix it as a part (the role its
   name gives, else a pad), and a role or a level given for the stem (--role, --level) has it
   mixed as a part. Only noise goes in unfiltered: a stem heard as noise but a part by its
   level keeps its role's high-pass. Held pads and organ drones (partials, not flat), held
   notes whose partials all sit on the mains' harmonics (F4, 7 x 50 Hz; none on the first
   four, where hum has its weight), a sub sine off the mains (49 Hz; one held at 50 or 60 Hz is
   hum to the test, and only its level tells it), shakers, brushes and a kick over its hiss
   (struck: onsets, their 25 ms levels flutter, their samples no Gaussian noise's) and a loud
   noise bed (no floor) are parts; a rumble (brown noise over 30-60 Hz) is noise, but brown
   noise without a high-pass, which wanders like no recording, is not. A noise stem put under
   the meter's -70 LUFS gate is read 40 dB up (`UNDER_THE_GATE_DB`), so that its row gives its
   level. A track's two sides read as two parts
   (`_split_pairs`: roles that differ, a bass DI left and a guitar right) are each balanced
   and filtered as their own part; a centred role stays in the centre and a spread role is
   kept hard to its side, as the track had it (`_split_pans`), and the notes say so. An
   effects return or effects track (`RETURN_NAME`, `FX_NAME`: "Verb Return", "Vox Verb",
   "Delay", "Aux 1", "FX"; not a part named "Aux" and an instrument, "Aux Perc") stays in the
   centre, its stereo as the session made it, whatever role it is read as (a reverb read as a
   pad was pushed 4 dB to one side). A return's level (`RETURN_NAME`; not "FX", which is as often a
   part of risers and hits) is not the balance model's: it keeps its place against the stems it
   was sent from, moved by the median gain the other stems get, so the session's wetness
   survives (`_returns_as_sent`; read as a pad, a reverb return sat over the keys and guitar it
   came from), and so does a return exported as two mono sides. A level given for it by name
   takes the place of that. A return whose name names a part too ("Gtr Delay", "Echo Vox") may
   be the part with its effect printed; its sound does not tell (`_ambiguous_return_notes`), so
   it is read as a return and the notes say how to have it balanced as the part. Words that
   name a kind of reverb or delay (`EFFECT_KIND`: "Room Verb", "Sub Delay", "Beat Delay") name
   no part.
9. **sum**, 10. **bus**: a gentle bus compressor (ratio 1.5), 11. **headroom**: one gain so that
   the mix's integrated loudness is `target_lufs` (-20) unless its true peak would then pass
   `ceiling_dbtp` (-3 dBTP), in which case the true peak sits on the ceiling. That leaves a
   mastering stage room to EQ, compress and limit. Where one stem's peaks alone hold the mix
   more than 6 dB under its target (a track of a lone click or a few sparse hits reads quiet,
   is balanced as loud as its role, and its peaks tower over the rest), the notes name it and
   say to tame them (`_peak_notes`); the audio is left as balanced.

The report gives, per stem, its role ("noise", by content, for a stem taken for noise) and how
it was found, its loudness before and in the mix (after everything but the bus compressor),
the net gain, the pan, the filters, and what was resampled, padded or silent. Its notes name
two stems that cancel each other out in the sum (a polarity-inverted copy, a snare's bottom mic
not flipped; `_cancelling_pairs`): balance cannot mend that, and the stems' levels in the table
would not say it.

The stages live beside this module: 1, 3 and 4 in `mix.stems_prepare`, 5 to 8 in
`mix.stems_gain`, what the stems' names and signals say of the session (click tracks, copies,
returns, stems that cancel) in `mix.session_layout`, and the stem files in `mix.session_files`.

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

from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.mix.balance import ROLES
from bandmate.mix.elements import (
    LOSSY_SUFFIXES,
    match_stems,
    named_elements,
    pair_pans,
    stereo_pairs,
    stereo_side,
    track_name,
)
from bandmate.mix.meter import MOMENTARY_SECONDS, metered, true_peak_dbtp
from bandmate.mix.roles import (
    DOUBLE_WORD,
    FX_NAME,
    RETURN_NAME,
    detect_role_from_content,
    load_roles,
    noise_kind,
    role_from_name,
)
from bandmate.mix.session_files import _check_mix_outside_stems, stem_names, stem_paths
from bandmate.mix.session_layout import (
    _ambiguous_return_notes,
    _cancel_step,
    _cancelling_pairs,
    _copies,
    _faint_levels,
    _faint_sides,
    _lone_side_notes,
    _lone_sides,
    _match_levels,
    _members,
    _noise_notes,
    _one_channel_notes,
    _pair_content_roles,
    _pair_roles,
    _returns_as_sent,
    _split_pair_notes,
    _split_pairs,
    _split_pans,
    _without_guides,
)
from bandmate.mix.stems_gain import _balance, _finish, _given_levels, _masking_cuts, _pans
from bandmate.mix.stems_prepare import _conform, _finite, _gain, _lufs, _prepare, _Prepared, _round
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
    role: str  # one of `balance.ROLES`, or "noise" for a stem taken for noise (`_faint_sides`)
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
    `AudioFormatError` for NaN, infinite or blown-up samples (over +60 dBFS). `progress(done,
    total)` is called as each stem is prepared and as each is finished (total: twice the stems).
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
    named, names = _without_guides(named, given_roles, config, notes)
    signals, frames, rate, resampled, padded, offsets, live_sides = _conform(
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
    roles = _pair_content_roles(names, signals, roles, role_from, rate, frames, notes)
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
    kinds: list[str | None] = [None] * len(signals)  # each stem's `noise_kind`
    noise_inputs: dict[int, np.ndarray] = {}  # the stems `noise_kind` heard as noise, as given

    def prepare(k: int) -> _Prepared:
        x = signals[k]
        if k not in in_elements:
            signals[k] = None  # the prepared stem replaces it
        kinds[k] = noise_kind(x, rate)
        settings = table[roles[k]]
        if kinds[k]:  # noise goes in as it came, unfiltered (a hum's fundamental filtered out
            noise_inputs[k] = x  # by its role, the gain raised the rest), if its level says
            settings = replace(settings, highpass_hz=None)  # it is noise; see below
        return _prepare(x, rate, frames, settings, config.working_lufs)

    steps = 2 * len(signals)
    progress(0, steps)
    prepared = _each(prepare, range(len(signals)), progress=lambda done, _: progress(done, steps))
    before = [p.before for p in prepared]
    silent = [b is None for b in before]
    # a side of a pair far under its other side, or a stem of nothing but a floor of hiss or
    # hum (`_faint_sides`: noise) is no part: not balanced with the parts, nor counted in the
    # song the balance model reads them against, and a side's other side is a mono part, as
    # beside a silent side
    asked = {key.strip().lower() for key in (*config.roles, *config.levels)}  # as the user wrote
    faint = _faint_sides(names, before, asked, kinds)
    for k, x in noise_inputs.items():  # noise by its sound but a part by its level (a loud
        if k not in faint:  # noise bed, a hum at a part's level): its role's high-pass
            prepared[k] = _prepare(x, rate, frames, table[roles[k]], config.working_lufs)
    noise_inputs.clear()
    notes.extend(_noise_notes(names, faint, before, roles, role_from))
    elements = {label: [k for k in g if k not in faint] for label, g in elements.items()}
    unheard = [s or k in faint for k, s in enumerate(silent)]
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
    heard = [replace(p, features={}) if k in faint else p for k, p in enumerate(prepared)]
    levels, element_levels = _balance(roles, signals, heard, elements, sides, rate, frames, config)
    del heard
    returns = [bool(RETURN_NAME.search(track_name(n))) for n in names]
    parts = {k for k in range(len(names)) if k not in faint and not returns[k]}
    levels = _given_levels(names, levels, elements, element_levels, given_levels, parts)
    level_given = {n for key in given_levels for n in _members(key, names, elements)}
    centred = [
        r or bool(FX_NAME.search(track_name(n))) for r, n in zip(returns, names, strict=True)
    ]
    # a return given as two sides is moved as a return; one that is part of a part is the part's
    with_parts = {k for g in elements.values() if not all(returns[j] for j in g) for k in g}
    levels = _returns_as_sent(levels, before, returns, names, level_given, with_parts)
    levels = _faint_levels(levels, faint, level_given, names, before)
    notes.extend(_ambiguous_return_notes(names, returns, silent, level_given, with_parts))
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
        elif s and padded[k] < frames:  # (an empty stem is said by `_conform`)
            notes.append(f"{name} is silent; it stays silent in the mix.")
    cuts = _masking_cuts(signals, [p.bands for p in prepared], roles, levels, table, config)
    del prepared  # `signals` holds the stems now, and lets each go once it is in the sum
    # cuts, compression, balance (the loudest predicted stem sits at the working level), pan
    top = max((v for v in levels if v is not None), default=0.0)
    # (hard to their sides: not one place between them), but for a pair with a side silent
    pairs = [p for p in stereo_pairs(names, roles) if not (unheard[p[0]] or unheard[p[1]])]
    parts = [g for g in elements.values() if tuple(g) not in pairs]
    # a stem named as one side but in no pair (its other side missing or silent, or read as
    # another role) goes to the side its name gives
    lone = _lone_sides(names, unheard)
    paired = {k for pair in pairs for k in pair}
    # as does a stereo stem whose one channel held it all (`_one_channel`), toward that side;
    # but where every such stem held the same side (a session recorded into input 1 of stereo
    # tracks), that side says nothing, and they alternate as their roles do: sent to it, two
    # guitars both went left
    held = [side for side in live_sides if side]
    hints = [0] * len(live_sides) if len(held) > 1 and len(set(held)) == 1 else live_sides
    named_sides = [
        0 if k in paired else (stereo_side(n) or ("", hints[k]))[1] for k, n in enumerate(names)
    ]
    # a track's two sides read as two parts: a spread role keeps its side (`_split_pans`)
    split = _split_pairs(names, unheard, pairs)
    pans = pair_pans(pairs, _pans(roles, unheard, levels, table, parts, centred, named_sides))
    pans = _split_pans(split, pans, roles, table)
    for k in faint:  # the noise stays where the track had it: a side to its side
        pans[k] = float((stereo_side(names[k]) or ("", 0))[1])
    notes.extend(_split_pair_notes(names, roles, pans, split))
    notes.extend(_lone_side_notes(names, roles, role_from, pans, unheard, lone, faint))
    notes.extend(_one_channel_notes(names, live_sides, pans))
    total = _OrderedSum((2, frames))  # each stem added in at its place: they all start at 0
    step = _cancel_step(frames)
    rows: list[np.ndarray | None] = [None] * len(signals)  # for `_cancelling_pairs`
    sounding = [False] * len(signals)
    peaks = [0.0] * len(signals)  # each stem's sample peak in the mix, before the headroom gain

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
        peaks[k] = float(max(y.max(), -y.min())) if y.size else 0.0
        if after is None and k in faint and sounding[k]:  # noise under the meter's gate
            after = _lufs(y * np.float32(UNDER_THE_GATE), rate)  # is in the mix all the same
            after = None if after is None else after - UNDER_THE_GATE_DB
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
    if bus_out is not None:
        notes.extend(
            _peak_notes(names, peaks, afters, config, config.target_lufs - bus_out, scale_db)
        )
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
                role="noise" if k in faint else roles[k],
                role_from="content" if k in faint else role_from[k],  # heard as noise
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


# --- the sum and the bus ----------------------------------------------------------------------
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


def _peak_notes(names, peaks, afters, config, wanted_db: float, scale_db: float) -> list[str]:
    """A note naming the stem whose peaks alone set the mix's level, when the ceiling held the
    mix more than `PEAK_BOUND_DB` under its target (`wanted_db`: the headroom gain the target
    asked for; `scale_db`: the one given). A stem of a click or a few sparse hits reads quiet
    (BS.1770 measures 0.4 s at a time) and is balanced as loud as its role, its peaks far over
    everything else: the mix came out 10 dB under its target, and nothing said why. Only a stem
    whose peaks stand `PEAK_APART_DB` further over its loudness than the other stems' do (their
    median) is named: a kit alone, or every part at a target louder than the ceiling lets a mix
    be without a limiter, is no stem's fault."""
    if wanted_db - scale_db <= PEAK_BOUND_DB:
        return []
    plr = {
        k: 20 * math.log10(peak) - after
        for k, (peak, after) in enumerate(zip(peaks, afters, strict=True))
        if peak and after is not None
    }
    if len(plr) < 2:
        return []
    k = max(plr, key=lambda j: peaks[j])
    others = float(np.median([v for j, v in plr.items() if j != k]))
    if 20 * math.log10(peaks[k]) + scale_db < config.ceiling_dbtp - PEAK_NEAR_DB:
        return []  # many stems' peaks together
    if plr[k] - others < PEAK_APART_DB:
        return []
    return [
        f"The mix sits {wanted_db - scale_db:.1f} dB under its {config.target_lufs:g} LUFS "
        f"target: the peaks of {names[k]}, {plr[k]:.0f} dB over its loudness ({others:.0f} dB "
        f"for the other stems), reach the {config.ceiling_dbtp:g} dBTP ceiling on their own; "
        "tame them (a limiter, or clip gain on the loudest hits) or give it a lower level "
        "(--level), and mix again."
    ]


# the ceiling holding the mix this far under its target is worth a note, when one stem's peaks
# come within `PEAK_NEAR_DB` of the ceiling on their own and stand `PEAK_APART_DB` further over
# its loudness than the other stems' do; not less: funk's snappy kit (23 dB over its loudness,
# its band's about 15) holds its backing track 4.7 dB under, which mastering's limiter takes in
PEAK_BOUND_DB, PEAK_NEAR_DB, PEAK_APART_DB = 6.0, 1.5, 10.0

# a stem taken for noise, kept as far under the parts as it came, may land under the meter's
# -70 LUFS gate: its loudness in the report is read this many dB up, where the gate passes it
UNDER_THE_GATE_DB = 40.0
UNDER_THE_GATE = 10 ** (UNDER_THE_GATE_DB / 20)


def _each(fn, *columns, progress=None) -> list:
    """`fn` over the stems (one argument from each column), side by side on threads: the
    meter's and SciPy's filters and pedalboard's processors run without Python's global lock.
    `progress(done, total)` is called as each stem is done (`threads.thread_map`)."""
    return thread_map(lambda item: fn(*item), list(zip(*columns, strict=True)), progress=progress)


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


# --- files -------------------------------------------------------------------------------------
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
    copies: list[tuple[Path, Path]] = []
    paths = stem_paths(inputs, skipped, copies)
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
    notes = []
    mixed = {s.name for s in report.stems}  # not those left out (a click, a rough mix)
    lossy = [
        n
        for n, p in zip(names, paths, strict=True)
        if p.suffix.lower() in LOSSY_SUFFIXES and n in mixed
    ]
    if lossy:
        one = len(lossy) == 1
        notes.append(
            f"{', '.join(lossy)} {'is' if one else 'are'} lossy (MP3 or Ogg) and went into the "
            f"mix as {'it decodes' if one else 'they decode'}; a WAV or FLAC export would keep "
            "what the encoder left out."
        )
    notes += [
        f"Left out {display_name(copy.name)}, a lossy copy of {display_name(kept.name)} beside "
        "it (the stem bounced twice); to mix it as well, give it by name."
        for copy, kept in copies
    ]
    if skipped:
        notes.append(
            f"Left out {', '.join(display_name(name) for name in skipped)}: bandmate mixes the "
            "WAV, FLAC, AIFF, MP3 and Ogg stems of the folder it is given; give subfolders "
            "too, convert other formats (AAC, WMA) to WAV, and copy in the file a link to a "
            "missing file stood for."
        )
    return replace(report, notes=(*report.notes, *notes))


def write_automix_png(report: AutomixReport, path: str | Path) -> None:
    """A bar chart of each stem's loudness before and in the mix, written atomically as PNG or
    as the format `path`'s suffix names (`mix.report.check_figure_path`)."""
    from bandmate.mix.report import check_figure_path, save_figure

    check_figure_path(path)  # before drawing
    save_figure(automix_figure(report), path, dpi=100)


# past this width (16 stems) the chart keeps it and turns its labels upright: a 40-stem session
# drew a chart 50 inches (5,000 pixels) wide and 4.5 high
CHART_MAX_WIDTH_IN = 20.0


def automix_figure(report: AutomixReport):
    """The chart `write_automix_png` writes (a matplotlib `Figure`): per stem, a bar for its
    integrated loudness before and one in the mix, rising from a floor under the quietest, so
    that a louder stem has the taller bar (bars hung from 0 dB on an upturned axis read the
    other way: the quietest stem had the tallest). A silent stem has no bar and says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width = 1.2 * len(report.stems) + 2
    upright = width > CHART_MAX_WIDTH_IN  # labels turned upright to fit the narrower chart
    figure = Figure(
        figsize=(min(max(6, width), CHART_MAX_WIDTH_IN), 6.5 if upright else 4.5),
        layout="constrained",
    )
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
    if upright:
        ax.set_xticks(x, [f"{s.name} ({s.role})" for s in report.stems], fontsize=8, rotation=90)
    else:
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
