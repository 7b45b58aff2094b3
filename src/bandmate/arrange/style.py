"""Styles are data: one TOML file per style in `bandmate/data/styles/`, read by this module.

Adding a style adds a file, never code. A file of your own works anywhere `--style` does, by
its path (`--style my-styles/bolero.toml`, `resolve_style`); its data entry in every output's
provenance names the file and its SHA-256 (`rights.provenance.style_data`). A style file says:

```toml
name = "funk"                       # the file's stem, what `--style` takes
title = "Funk"
description = "one line for `bandmate styles`"
meter = "4/4"
grid = 16                           # pattern steps per bar (16ths in 4/4; 12 for 6/8 or triplets)
tempo = { min = 80, max = 120, default = 100 }
swing = 0.5                         # share of a beat pair taken by the first note: 0.5 straight,
swing_unit = 8                      #   0.67 triplet swing; applied to 8ths or 16ths
humanize = { timing_ms = 8, velocity = 8 }
intro_bars = 2
ending_bars = 2

[[parts]]
name = "Bass"                       # the track name in song.mid and the stem's file name
role = "bass"                       # melody | bass | chords | drums | pad | other
generator = "bass"                  # drums | bass | comp | pad: which player reads the patterns
program = 36                        # General MIDI program (for drums: the kit)
range = ["E1", "G3"]                # lowest and highest note it may play
volume = 0.9                        # velocity scale: how hard the part plays
level_db = -2                       # mix level: loudness in dB under the loudest part (<= 0)
patterns.low = "R . . . . . R . R - . 5 . . A ."
patterns.high = ["R . R . . . R . R - . 5 . 8 A .", "..."]   # one is chosen per bar
```

Every key is checked when the file is read, and a mistake is one sentence naming the file and
the key: a key the format lacks (a misspelt `volumn`) is refused with the nearest known key
rather than ignored; tempos lie in 20-400 BPM, `swing_unit` is 8 or 16, `humanize` is at most
100 ms and 64 velocity steps, `intro_bars` and `ending_bars` are whole numbers 0-64, `volume`
is above 0 and at most 2 (to silence a part, delete it), `strum_ms` is 0-200.

Patterns have `grid` tokens per bar (space-separated for pitched parts; one character per step
for drums, one line per drum voice). A pattern may span several bars (a two-bar clave has
2 x grid steps): the bar's place in its section picks which of its bars plays, and a variant
chosen at the start of a phrase plays the phrase through (`players.choose_pattern`). Their token
grammar belongs to each generator; see `arrange.drums`, `arrange.bass` and `arrange.comp`.
Pattern sets are "low" and "high" (the form's intensity picks one), plus "fill", "intro" and
"ending" where a part gives them.

Mix levels are authored, as in Band-in-a-Box's per-style mixer: `level_db` is the part's
integrated loudness in dB relative to the loudest part of the style (0 for the loudest, down to
-40), chosen as a producer of the genre would balance it, and the stems are gained to it after
rendering (`jobs.backing.balance_stems`). `volume` scales velocity only, so it shapes how hard a
part plays (and so its timbre), not where it sits in the mix: the rendered loudness of a General
MIDI instrument depends more on the SoundFont than on velocity, and that is no balance anyone
chose. The built-in styles' levels are in `bandmate/data/mixing/levels.toml` (`style_levels`), not
in their files: a style file's bytes are a corpus item whose hash fixes its split and seed, so a
mix level written into it would change what the shipped drum model was trained on. A level in a
style file wins over the table; a part with neither gets its role's `DEFAULT_LEVELS_DB`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bandmate.errors import UserError
from bandmate.score.model import Role
from bandmate.theory.pitch import name_to_midi

STYLE_PACKAGE = "bandmate.data.styles"
# What each General MIDI family (8 programs each) can play, lowest and highest MIDI note, from
# the real instruments' ranges; a style's part range must lie inside its program's family range.
GM_FAMILY_RANGES = (
    (21, 108),  # pianos
    (45, 108),  # chromatic percussion: vibraphone, marimba, glockenspiel
    (36, 96),  # organs
    (40, 88),  # guitars
    (28, 67),  # basses
    (28, 103),  # solo strings, harp, timpani
    (28, 96),  # ensembles and choirs
    (28, 84),  # brass
    (34, 91),  # reeds
    (60, 108),  # pipes and flutes
    (21, 108),  # synth leads
    (21, 108),  # synth pads
    (21, 108),  # synth effects
    (36, 96),  # ethnic: sitar, banjo, koto, fiddle
    (21, 108),  # percussive
    (0, 127),  # sound effects
)
GENERATORS = ("drums", "bass", "comp", "pad")
# A part's mix level when its style gives none: the rhythm section forward, harmony a step
# back, pads underneath, as a producer would start a balance.
DEFAULT_LEVELS_DB = {
    Role.DRUMS: 0.0,
    Role.BASS: -2.0,
    Role.MELODY: 0.0,
    Role.CHORDS: -6.0,
    Role.PAD: -10.0,
    Role.OTHER: -6.0,
}
LEVEL_RANGE_DB = (-40.0, 0.0)
LEVELS_FILE = "levels.toml"  # in bandmate/data/mixing: the built-in styles' mix levels
PATTERN_SETS = ("low", "high", "fill", "intro", "ending")


class StyleError(UserError):
    """A style that does not exist, or a style file that is not valid."""


@dataclass(frozen=True)
class PartStyle:
    """How one part of the band plays in a style.

    patterns: pattern set name -> tuple of variants. A variant is a string for pitched parts and
        a {drum voice: steps} mapping for drums.
    volume: velocity scale (how hard it plays). level_db: its mix level, integrated loudness in
        dB relative to the loudest part of the style (<= 0).
    """

    name: str
    role: Role
    generator: str
    program: int
    low_pitch: int
    high_pitch: int
    volume: float = 1.0
    level_db: float = 0.0
    voicing: str = "close"
    strum_ms: float = 0.0
    patterns: dict = field(default_factory=dict)

    def variants(self, pattern_set: str) -> tuple:
        """The variants of a pattern set, falling back to "low" where a set is not given."""
        return self.patterns.get(pattern_set) or self.patterns["low"]


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    description: str
    meter: tuple[int, int]
    grid: int
    tempo_min: float
    tempo_max: float
    tempo_default: float
    swing: float
    swing_unit: int
    timing_ms: float
    velocity_jitter: float
    intro_bars: int
    ending_bars: int
    parts: tuple[PartStyle, ...]
    source: tuple[str, str] | None = None  # a user's style file: (its path, the SHA-256 it had)

    def part(self, name: str) -> PartStyle:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)


def style_names() -> list[str]:
    """Every style bandmate ships, sorted."""
    return sorted(
        Path(f.name).stem
        for f in resources.files(STYLE_PACKAGE).iterdir()
        if f.name.endswith(".toml")
    )


def style_word(name: str) -> str:
    """A style's name as bandmate's tables spell it: "Bossa Nova", "bossa_nova" and " BOSSA-NOVA"
    all read bossa-nova, for backing, melody and chord styles alike."""
    return name.strip().lower().replace(" ", "-").replace("_", "-")


@functools.cache
def load_style(name: str) -> Style:
    """The style called `name`; an unknown name is a StyleError that lists the valid ones."""
    key = style_word(name)
    names = style_names()
    if key not in names:
        raise StyleError(f"Unknown style {name!r}; choose one of: {', '.join(names)}.")
    source = resources.files(STYLE_PACKAGE) / f"{key}.toml"
    return parse_style(source.read_text(encoding="utf-8"), key, levels=style_levels().get(key))


def resolve_style(text: str) -> Style:
    """What `--style` names: a built-in style, or a style file of the user's when `text` is a
    path to one (it ends in .toml, or holds a folder: `styles/bolero`). A bare word is always a
    built-in name, whatever files the current folder holds. The file's stem is the style's name."""
    path = Path(text).expanduser()
    if not (text.lower().endswith(".toml") or len(path.parts) > 1 or "/" in text):
        # a bare word; "styles/" (a folder, its slash trailing) is a path, not a style's name
        return load_style(text)
    try:
        data = path.read_bytes()
        source = data.decode("utf-8-sig")
    except FileNotFoundError:
        names = ", ".join(style_names())
        raise StyleError(
            f"There is no style file {text}; give a built-in style ({names}) or a style file."
        ) from None
    except IsADirectoryError:
        raise StyleError(
            f"The style {text} is a folder; give the path of a style file in it (a .toml file)."
        ) from None
    except UnicodeDecodeError:
        # a MIDI, an audio file or a zip given as the style: say so, not the codec's complaint
        raise StyleError(
            f"The style file {text} is not text (not UTF-8); give a style file written as TOML, "
            "like those `bandmate styles` lists."
        ) from None
    except OSError as e:
        raise StyleError(f"Cannot read the style file {text} ({e.strerror}).") from None
    style = parse_style(source, path.stem, file=text)
    # the hash of the bytes that were read, for the provenance: not of the file read again later
    return dataclasses.replace(style, source=(str(path), hashlib.sha256(data).hexdigest()))


@functools.cache
def style_levels() -> dict[str, dict[str, float]]:
    """The built-in styles' mix levels (`data/mixing/levels.toml`): style -> part -> dB.

    Kept apart from the style files, whose bytes are corpus items (see that file's header)."""
    text = (resources.files("bandmate.data") / "mixing" / LEVELS_FILE).read_text("utf-8")
    return tomllib.loads(text)


def parse_style(
    text: str, name: str, levels: dict[str, float] | None = None, *, file: str | None = None
) -> Style:
    """Read and check a style file's text; every mistake names the file and the key.

    `levels` (part name -> dB) gives the parts' mix levels where the file gives none. `file` is
    the path the user gave, to name in a mistake (default: `name`.toml)."""
    where = f"style file {file or name + '.toml'}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise StyleError(f"The {where} is not valid TOML ({e}).") from None
    if levels:
        _merge_levels(data, name, levels)
    try:
        return _build_style(data, name)
    except (KeyError, TypeError, ValueError) as e:
        detail = f"missing key {e}" if isinstance(e, KeyError) else str(e)
        raise StyleError(f"The {where} is invalid: {detail}.") from None


MAX_GRID = 96  # pattern steps in a bar: 64th-note triplets of 4/4 are finer than any style
# The keys a style file may hold, so that a misspelt one ("volumn", "swign") is named rather than
# silently ignored and its part played at the default.
STYLE_KEYS = (
    "name", "title", "description", "meter", "grid", "tempo", "swing", "swing_unit", "humanize",
    "intro_bars", "ending_bars", "parts",
)  # fmt: skip
PART_KEYS = (
    "name", "role", "generator", "program", "range", "volume", "level_db", "voicing", "strum_ms",
    "patterns",
)  # fmt: skip
TEMPO_KEYS = ("min", "max", "default")
HUMANIZE_KEYS = ("timing_ms", "velocity")
SWING_UNITS = (8, 16)


def _check_keys(table: dict, known: tuple[str, ...], where: str) -> None:
    """A key `table` does not know is a mistake; name it and the nearest known key."""
    import difflib

    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(known)}"
            raise ValueError(f"{where}unknown key {key!r} ({hint})")


def _table(data: dict, key: str, where: str, example: str) -> dict:
    value = data[key]
    if not isinstance(value, dict):
        raise ValueError(f"{where}{key} must be a table, like {example}, not {value!r}")
    return value


def _number(data: dict, key: str, default, low: float, high: float, where: str = "") -> float:
    """`data[key]` (or `default`), a number from `low` to `high` (not a bool, not NaN)."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{where}{key} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _whole(data: dict, key: str, default: int, low: int, high: int, where: str = "") -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}{key} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _text(data: dict, key: str, where: str = "", default: str | None = None) -> str:
    value = data.get(key, default) if default is not None else data[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key} must be a non-empty string in quotes, not {value!r}")
    return value


def _build_style(data: dict, name: str) -> Style:
    from bandmate.arrange.backing import TEMPO_RANGE_BPM
    from bandmate.theory.chart import meter_problem, parse_meter

    _check_keys(data, STYLE_KEYS, "")
    meter = parse_meter(str(data.get("meter", "4/4")))
    if meter is None:
        raise ValueError(f'meter: write it as two numbers like "3/4", not {data["meter"]!r}')
    problem = meter_problem(meter)
    if problem:
        raise ValueError(f"meter: {problem}")
    num, den = meter
    grid = data.get("grid", num * 4 if den == 4 else num * 2)
    if not isinstance(grid, int) or isinstance(grid, bool) or not 1 <= grid <= MAX_GRID:
        raise ValueError(f"grid must be a whole number of steps from 1 to {MAX_GRID}, not {grid!r}")
    tempo = _table(data, "tempo", "", "{ min = 80, max = 120, default = 100 }")
    _check_keys(tempo, TEMPO_KEYS, "tempo: ")
    low_bpm, high_bpm = TEMPO_RANGE_BPM
    for key in TEMPO_KEYS:
        if key not in tempo:
            raise ValueError(f"tempo needs {key}, like {{ min = 80, max = 120, default = 100 }}")
    tempo_min, tempo_max, tempo_default = (
        _number(tempo, key, None, low_bpm, high_bpm, "tempo.") for key in TEMPO_KEYS
    )
    human = {}
    if "humanize" in data:
        human = _table(data, "humanize", "", "{ timing_ms = 8, velocity = 8 }")
        _check_keys(human, HUMANIZE_KEYS, "humanize: ")
    swing = data.get("swing", 0.5)
    if isinstance(swing, bool) or not isinstance(swing, int | float) or not 0.5 <= swing < 0.8:
        raise ValueError(f"swing must be between 0.5 (straight) and 0.8, got {swing!r}")
    swing_unit = data.get("swing_unit", 8)
    if isinstance(swing_unit, bool) or swing_unit not in SWING_UNITS:
        raise ValueError(
            f"swing_unit must be 8 (swung 8ths) or 16 (swung 16ths), not {swing_unit!r}"
        )
    parts_data = data["parts"]
    if not isinstance(parts_data, list) or not all(isinstance(p, dict) for p in parts_data):
        raise ValueError("parts must be a list of [[parts]] tables, one per part")
    parts = tuple(_build_part(p, grid) for p in parts_data)
    if not parts:
        raise ValueError("a style needs at least one part")
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise ValueError(f"part names must differ, got {names}")
    style = Style(
        name=name,
        title=_text(data, "title", default=name.title()),
        description=_text(data, "description"),
        meter=(num, den),
        grid=grid,
        tempo_min=tempo_min,
        tempo_max=tempo_max,
        tempo_default=tempo_default,
        swing=float(swing),
        swing_unit=swing_unit,
        timing_ms=_number(human, "timing_ms", 6, 0, 100, "humanize."),
        velocity_jitter=_number(human, "velocity", 6, 0, 64, "humanize."),
        intro_bars=_whole(data, "intro_bars", 2, 0, 64),
        ending_bars=_whole(data, "ending_bars", 2, 0, 64),
        parts=parts,
    )
    if not style.tempo_min <= style.tempo_default <= style.tempo_max:
        raise ValueError("tempo.default must lie between tempo.min and tempo.max")
    return style


def _build_part(data: dict, grid: int) -> PartStyle:
    from bandmate.arrange.players import check_pattern
    from bandmate.arrange.voicing import KINDS

    if "name" not in data:
        raise ValueError('every [[parts]] needs a name, like name = "Bass"')
    part_name = _text(data, "name", "part ")
    where = f"part {part_name}: "
    _check_keys(data, PART_KEYS, where)
    for key in ("role", "generator", "patterns"):
        if key not in data:
            raise ValueError(f"{where}missing key {key!r}")
    generator = data["generator"]
    if generator not in GENERATORS:
        raise ValueError(f"generator {generator!r} is not one of {GENERATORS}")
    pitch_range = data.get("range", ["C-1", "G9"])
    if not (
        isinstance(pitch_range, list)
        and len(pitch_range) == 2
        and all(isinstance(n, str) for n in pitch_range)
    ):
        raise ValueError(
            f'{where}range must be two note names, lowest and highest, like ["E1", "G3"], '
            f"not {pitch_range!r}"
        )
    low, high = (name_to_midi(n) for n in pitch_range)
    if low >= high:
        raise ValueError(f"part {part_name}: range must go from low to high")
    program = data.get("program", 0)
    if not isinstance(program, int) or isinstance(program, bool) or not 0 <= program <= 127:
        raise ValueError(f"part {part_name}: program is a General MIDI program 0-127")
    if generator != "drums":
        family_low, family_high = GM_FAMILY_RANGES[program // 8]
        if low < family_low or high > family_high:
            raise ValueError(
                f"part {part_name}: range {data['range']} goes beyond what GM program "
                f"{program} plays (MIDI {family_low}-{family_high})"
            )
    pattern_sets = _table(data, "patterns", where, 'patterns.low = "x . . ."')
    patterns = {}
    for set_name, variants in pattern_sets.items():
        if set_name not in PATTERN_SETS:
            raise ValueError(f"part {part_name}: unknown pattern set {set_name!r}")
        variants = tuple(variants) if isinstance(variants, list) else (variants,)
        if not variants:
            raise ValueError(f"part {part_name}, patterns.{set_name}: no pattern in the list")
        for v in variants:
            problem = check_pattern(generator, v, grid)
            if problem:
                raise ValueError(f"part {part_name}, patterns.{set_name}: {problem}")
        patterns[set_name] = variants
    if "low" not in patterns:
        raise ValueError(f"part {part_name} needs patterns.low")
    voicing = data.get("voicing", "close")
    if voicing not in KINDS:
        raise ValueError(f"part {part_name}: voicing {voicing!r} is not one of {', '.join(KINDS)}")
    role = data["role"]
    if role not in {r.value for r in Role}:
        roles = ", ".join(r.value for r in Role)
        raise ValueError(f"{where}role {role!r} is not one of {roles}")
    role = Role(role)
    if role is not Role.OTHER and (generator == "drums") != (role is Role.DRUMS):
        # the kit goes on the drum channel by its generator and is mixed by its role: a drums
        # generator in role bass was EQ'd as a bass, a comp in role drums mixed as a kit (a
        # percussion part beside the kit may be role "other")
        raise ValueError(
            f"{where}generator {generator!r} and role {role.value!r} disagree; a kit has "
            'generator = "drums" and role = "drums" (or "other" for percussion beside it), '
            "a pitched part neither"
        )
    # a velocity scale: above 0 (a part at 0 still played ghost notes at velocity 1-11;
    # leave the part out instead) and at most 2 (every note at 127 long before)
    volume = _number(data, "volume", 1.0, 0.0, 2.0, where)
    if volume == 0:
        raise ValueError(
            f"{where}volume must be above 0; to silence the part, delete its [[parts]]"
        )
    return PartStyle(
        name=part_name,
        role=role,
        generator=generator,
        program=program,
        low_pitch=low,
        high_pitch=high,
        volume=volume,
        level_db=_level_db(data, role),
        voicing=voicing,
        strum_ms=_number(data, "strum_ms", 0.0, 0.0, 200.0, where),
        patterns=patterns,
    )


def _merge_levels(data: dict, name: str, levels: dict[str, float]) -> None:
    """Give each part of `data` its level from `levels` unless it has its own; a level for a
    part the style lacks, or not a number from -40 to 0, is a StyleError naming levels.toml."""
    parts = {p.get("name"): p for p in data.get("parts", [])}
    low, high = LEVEL_RANGE_DB
    for part, value in levels.items():
        if part not in parts:
            raise StyleError(
                f"The mix levels file {LEVELS_FILE} is invalid: style {name} has no part {part!r}."
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise StyleError(
                f"The mix levels file {LEVELS_FILE} is invalid: [{name}] {part} must be a number "
                f"of dB from {low:g} to {high:g}, got {value!r}."
            )
        parts[part].setdefault("level_db", value)


def _is_level(value) -> bool:
    low, high = LEVEL_RANGE_DB
    return not isinstance(value, bool) and isinstance(value, int | float) and low <= value <= high


def _level_db(data: dict, role: Role) -> float:
    """A part's `level_db`, or its role's default; a number from -40 to 0 dB."""
    if "level_db" not in data:
        return DEFAULT_LEVELS_DB[role]
    value = data["level_db"]
    low, high = LEVEL_RANGE_DB
    if not _is_level(value):
        raise ValueError(
            f"part {data['name']}: level_db must be a number of dB from {low:g} to {high:g} "
            f"(0 for the loudest part), got {value!r}"
        )
    return float(value)
