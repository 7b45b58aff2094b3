"""A piano roll of a Score as a PNG: what a musician checks first when a file comes back.

The picture, top to bottom: the title (with tempo, meter and key); a row of section names; a row of
chord symbols at their onsets; the roll itself, one colour per track, pitch upwards with the C's
named, bars numbered along the bottom (a pickup bar is bar 0, as in print), bar lines solid and
beats faint; then, when the score has drums, a lane of its own with a row per drum sound (Kick,
Snare, Closed hi-hat...), because drum notes drawn at their MIDI pitches would sit among the
pitched notes and mean nothing there. A legend names the tracks.

Notes are drawn opaque in their track's colour (`track_colour`), so the colour of a note's middle
is exactly its track's. Velocity is not shown. Long songs stay readable up to a cap on the width
(`MAX_WIDTH_PX`); beyond it the bars get narrow and labels thin out (every 2nd, 4th... bar number,
chord symbols that would overlap are left out) rather than the file growing without bound.

matplotlib is imported inside the functions, with the Agg canvas, so importing this module is
cheap and no display is needed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from bandmate.errors import EmptyScoreError
from bandmate.io.files import atomic_path
from bandmate.score.model import Score, Track
from bandmate.theory.chords import format_chord
from bandmate.theory.pitch import midi_to_name

DPI = 100
MIN_WIDTH_PX = 480
MAX_WIDTH_PX = 4000
AUTO_PX_PER_BAR = 110

#: Colours of the tracks in order (matplotlib's "tab10", easy to tell apart).
TRACK_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

# General MIDI percussion names, short enough for a lane label.
GM_DRUM_NAMES = {
    35: "Kick 2", 36: "Kick", 37: "Side stick", 38: "Snare", 39: "Clap", 40: "Snare 2",
    41: "Low floor tom", 42: "Closed hi-hat", 43: "High floor tom", 44: "Pedal hi-hat",
    45: "Low tom", 46: "Open hi-hat", 47: "Low-mid tom", 48: "High-mid tom", 49: "Crash",
    50: "High tom", 51: "Ride", 52: "China", 53: "Ride bell", 54: "Tambourine", 55: "Splash",
    56: "Cowbell", 57: "Crash 2", 58: "Vibraslap", 59: "Ride 2", 60: "High bongo",
    61: "Low bongo", 62: "Mute high conga", 63: "Open high conga", 64: "Low conga",
    69: "Cabasa", 70: "Maracas", 75: "Claves", 76: "High wood block", 77: "Low wood block",
}  # fmt: skip

# Sizes in pixels (at DPI 100 a point is 1.39 px).
_TITLE_PX = 44
_SECTION_ROW_PX = 20
_CHORD_ROW_PX = 20
_BOTTOM_PX = 44  # bar numbers and the "bar" label
_LEGEND_ROW_PX = 22
_RIGHT_PX = 16
_SEMITONE_PX = 9
_DRUM_ROW_PX = 13
_LIGHT_ROW = "#f2f2f2"  # rows of the black keys
_GRID_BEAT = "#e6e6e6"
_GRID_BAR = "#a8a8a8"
_SECTION_LINE = "#505050"


def track_colour(index: int) -> str:
    """The colour of the `index`-th track (from 0), as "#rrggbb"."""
    return TRACK_COLOURS[index % len(TRACK_COLOURS)]


def draw_pianoroll(
    score: Score,
    path: str | os.PathLike,
    *,
    width_px: int | None = None,
    title: str | None = None,
) -> None:
    """Draw `score` as a piano roll and write it atomically as a PNG at `path`.

    width_px: the image width; by default about 110 px per bar, between 480 and 4000 px.
    title: shown at the top; by default the score's own title. Raises EmptyScoreError for a score
    without notes.
    """
    with _fonts():
        figure = pianoroll_figure(score, width_px=width_px, title=title)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)


#: Fonts tried, in order, for letters DejaVu Sans lacks (a title or track name in Japanese,
#: Chinese, Korean), when the system has them.
FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Sans",
)


@contextlib.contextmanager
def _fonts():
    """Text falls back to the installed FALLBACK_FONTS, and a letter no font has is drawn as a
    box without a warning: a title in Japanese printed a matplotlib warning per letter on
    stderr, a screenful for a command that worked."""
    import warnings

    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = ["DejaVu Sans", *(f for f in FALLBACK_FONTS if f in installed)]
    with matplotlib.rc_context({"font.family": families}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        yield


def pianoroll_figure(score: Score, *, width_px: int | None = None, title: str | None = None):
    """The matplotlib Figure that `draw_pianoroll` saves (for tests and notebooks)."""
    if score.is_empty:
        raise EmptyScoreError("The score has no notes, so there is no piano roll to draw.")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    layout = _Layout.of(score, width_px)
    figure = Figure(figsize=(layout.width_px / DPI, layout.height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.patch.set_facecolor("white")

    pitched = [(i, t) for i, t in enumerate(score.tracks) if t.notes and not t.is_drum]
    drums = [(i, t) for i, t in enumerate(score.tracks) if t.notes and t.is_drum]
    x_end = layout.end_beats
    gap_beats = 2 / layout.px_per_beat  # two pixels between notes that touch
    axes = []
    if pitched:
        roll = figure.add_axes(layout.rect(layout.roll_top_px, layout.roll_px))
        _draw_pitched(roll, score, pitched, gap_beats)
        axes.append(roll)
    if drums:
        lane = figure.add_axes(layout.rect(layout.drum_top_px, layout.drum_px))
        _draw_drums(lane, score, drums, gap_beats)
        axes.append(lane)
    for ax in axes:
        ax.set_xlim(0, x_end)
        _draw_bar_grid(ax, score, layout)
        ax.tick_params(axis="x", labelbottom=False, length=0)
    _label_bars(axes[-1], score, layout)
    if layout.top_rows_px:
        top = figure.add_axes(layout.rect(_TITLE_PX, layout.top_rows_px))
        _draw_chords_and_sections(top, score, layout)
    _draw_title(figure, score, title, layout)
    _draw_legend(figure, score, layout)
    return figure


# --- layout --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """Where everything goes, in pixels from the top left, and the x scale."""

    width_px: int
    height_px: int
    left_px: int
    roll_top_px: int
    roll_px: int
    drum_top_px: int
    drum_px: int
    top_rows_px: int  # the rows of section names and chord symbols (0 when there are none)
    end_beats: float
    px_per_beat: float

    @classmethod
    def of(cls, score: Score, width_px: int | None) -> _Layout:
        tpb = score.ticks_per_beat
        grid = score.bar_grid
        events = (*score.chords, *score.sections)
        last = max([score.end_ticks, *(e.onset_ticks + 1 for e in events)])
        bars = grid.bar_count(last)
        end_beats = grid.bar_start(bars) / tpb
        if width_px is None:
            width_px = bars * AUTO_PX_PER_BAR + 140
        width_px = int(min(MAX_WIDTH_PX, max(MIN_WIDTH_PX, width_px)))

        has_pitched = any(t.notes and not t.is_drum for t in score.tracks)
        drum_pitches = {n.pitch for t in score.tracks if t.is_drum for n in t.notes}
        low, high = _pitch_range(score) if has_pitched else (0, 0)
        roll_px = 0 if not has_pitched else min(640, max(220, (high - low + 1) * _SEMITONE_PX))
        drum_rows = len(drum_pitches)
        drum_px = 0 if not drum_rows else max(40, drum_rows * _DRUM_ROW_PX)
        gap = 8 if roll_px and drum_px else 0
        left = 104 if drum_rows else 52
        top_rows = (_SECTION_ROW_PX if score.sections else 0) + (
            _CHORD_ROW_PX if score.chords else 0
        )
        roll_top = _TITLE_PX + top_rows + 4
        drum_top = roll_top + roll_px + gap
        tracks_drawn = sum(1 for t in score.tracks if t.notes)
        legend_rows = -(-tracks_drawn // _legend_columns(width_px))
        height = drum_top + drum_px + _BOTTOM_PX + legend_rows * _LEGEND_ROW_PX + 6
        plot_px = width_px - left - _RIGHT_PX
        return cls(
            width_px=width_px,
            height_px=height,
            left_px=left,
            roll_top_px=roll_top,
            roll_px=roll_px,
            drum_top_px=drum_top,
            drum_px=drum_px,
            top_rows_px=top_rows,
            end_beats=end_beats,
            px_per_beat=plot_px / end_beats,
        )

    def rect(self, top_px: float, height_px: float) -> list[float]:
        """[left, bottom, width, height] in figure fractions of a band `top_px` from the top."""
        w, h = self.width_px, self.height_px
        return [
            self.left_px / w,
            1 - (top_px + height_px) / h,
            (w - self.left_px - _RIGHT_PX) / w,
            height_px / h,
        ]


def _legend_columns(width_px: int) -> int:
    return max(1, min(8, width_px // 150))


# --- notes -------------------------------------------------------------------------------------
def _rectangles(notes, tpb: int, row_of, gap_beats: float, min_width_beats: float = 0.0):
    """Polygons (beats, rows) for notes: one rectangle each, 0.8 of a row high, ending
    `gap_beats` early (but never below half its length) so that repeated notes stay apart."""
    out = []
    for n in notes:
        x0 = n.onset_ticks / tpb
        length = n.duration_ticks / tpb
        x1 = x0 + max(length - min(gap_beats, length / 2), min_width_beats)
        y = row_of(n.pitch)
        out.append([(x0, y - 0.4), (x1, y - 0.4), (x1, y + 0.4), (x0, y + 0.4)])
    return out


def _draw_pitched(ax, score: Score, tracks: list[tuple[int, Track]], gap_beats: float) -> None:
    from matplotlib.collections import PolyCollection

    low, high = _pitch_range(score)
    ax.set_ylim(low - 0.5, high + 0.5)
    for pitch in range(low, high + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):
            ax.axhspan(pitch - 0.5, pitch + 0.5, color=_LIGHT_ROW, lw=0, zorder=0)
        if pitch % 12 == 0:
            ax.axhline(pitch - 0.5, color="#d0d0d0", lw=0.6, zorder=0.5)
    cs = [p for p in range(low, high + 1) if p % 12 == 0]
    ax.set_yticks(cs)
    ax.set_yticklabels([midi_to_name(p) for p in cs], fontsize=8)
    ax.tick_params(axis="y", length=0)
    for index, track in tracks:
        polys = _rectangles(track.notes, score.ticks_per_beat, lambda p: p, gap_beats)
        colour = track_colour(index)
        ax.add_collection(
            PolyCollection(
                polys, facecolors=colour, edgecolors=_darker(colour), linewidths=0.4, zorder=3
            )
        )
    _plain_frame(ax)


def _pitch_range(score: Score) -> tuple[int, int]:
    """Lowest and highest row of the roll: the pitched notes and two semitones more each way,
    at least an octave and a bit, centred on the music."""
    pitches = [n.pitch for t in score.tracks if not t.is_drum for n in t.notes]
    low, high = min(pitches) - 2, max(pitches) + 2
    if high - low < 14:
        middle = (low + high) // 2
        low, high = middle - 7, middle + 7
    return low, high


def _draw_drums(ax, score: Score, tracks: list[tuple[int, Track]], gap_beats: float) -> None:
    from matplotlib.collections import PolyCollection

    sounds = sorted({n.pitch for _, t in tracks for n in t.notes})
    row = {p: i for i, p in enumerate(sounds)}
    ax.set_ylim(-0.5, len(sounds) - 0.5)
    for i in range(len(sounds)):
        if i % 2:
            ax.axhspan(i - 0.5, i + 0.5, color=_LIGHT_ROW, lw=0, zorder=0)
    ax.set_yticks(range(len(sounds)))
    ax.set_yticklabels([GM_DRUM_NAMES.get(p, f"Drum {p}") for p in sounds], fontsize=7)
    ax.tick_params(axis="y", length=0)
    for index, track in tracks:
        # drum hits are short: at least a 32nd note wide, so that each one shows
        polys = _rectangles(track.notes, score.ticks_per_beat, row.__getitem__, gap_beats, 0.125)
        colour = track_colour(index)
        ax.add_collection(
            PolyCollection(
                polys, facecolors=colour, edgecolors=_darker(colour), linewidths=0.4, zorder=3
            )
        )
    _plain_frame(ax)


def _plain_frame(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#909090")


def _darker(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return tuple(c * 0.6 for c in to_rgb(colour))


# --- bars, chords, sections, title, legend -------------------------------------------------------
def _bar_starts_beats(score: Score, layout: _Layout) -> list[float]:
    tpb = score.ticks_per_beat
    return [t / tpb for t in score.bar_grid.bar_starts(round(layout.end_beats * tpb))]


def _first_bar_number(score: Score) -> int:
    """0 when the piece opens with a pickup (a short first bar), else 1, as printed music does."""
    grid = score.bar_grid
    return 0 if grid.bar_start(1) < score.time_signatures[0].bar_ticks(score.ticks_per_beat) else 1


def _draw_bar_grid(ax, score: Score, layout: _Layout) -> None:
    tpb = score.ticks_per_beat
    grid = score.bar_grid
    starts = _bar_starts_beats(score, layout)
    px_per_bar = layout.px_per_beat * (starts[1] - starts[0] if len(starts) > 1 else 4)
    if layout.px_per_beat >= 6:  # beats only where they do not turn the picture grey
        end_ticks = round(layout.end_beats * tpb)
        for start in starts:
            step = grid.beat_ticks(round(start * tpb))
            tick = round(start * tpb) + step
            bar_end = min(end_ticks, grid.bar_start(grid.bar_at(round(start * tpb)) + 1))
            while tick < bar_end:
                ax.axvline(tick / tpb, color=_GRID_BEAT, lw=0.6, zorder=1)
                tick += step
    bar_step = 1 if px_per_bar >= 4 else 4
    for i, start in enumerate(starts):
        if i % bar_step == 0:
            ax.axvline(start, color=_GRID_BAR, lw=0.8, zorder=2)
    for s in score.sections:
        ax.axvline(s.onset_ticks / tpb, color=_SECTION_LINE, lw=1.4, zorder=2.5)


def _label_bars(ax, score: Score, layout: _Layout) -> None:
    starts = _bar_starts_beats(score, layout)
    first = _first_bar_number(score)
    mean_bar_px = layout.px_per_beat * layout.end_beats / max(1, len(starts))
    step = 1
    while mean_bar_px * step < 26:
        step *= 2
    ticks, labels = [], []
    for i, start in enumerate(starts):
        number = i + first
        if (number - 1) % step == 0:
            ticks.append(start)
            labels.append(str(number))
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels, fontsize=8)
    ax.tick_params(axis="x", labelbottom=True, length=3, color="#909090")
    ax.set_xlabel("bar", fontsize=8, color="#505050", labelpad=2)


def _draw_chords_and_sections(top, score: Score, layout: _Layout) -> None:
    """Section names (upper row) and chord symbols (lower row) in the band above the roll."""
    tpb = score.ticks_per_beat
    top.set_xlim(0, layout.end_beats)
    rows = bool(score.sections) + bool(score.chords)
    top.set_ylim(0, rows)
    top.axis("off")
    section_y = rows - 0.5
    last_right_px = -1e9
    for c in score.chords:
        x = c.onset_ticks / tpb
        text = format_chord(c.symbol)
        x_px = x * layout.px_per_beat
        if x_px < last_right_px + 4:
            continue  # it would overlap the previous symbol
        top.text(x, 0.5, text, fontsize=9, ha="left", va="center", color="#202020", clip_on=False)
        top.plot([x, x], [0.05, 0.25], color="#707070", lw=0.8)
        last_right_px = x_px + 6.5 * len(text)
    for s in score.sections:
        x = s.onset_ticks / tpb
        top.text(
            x,
            section_y,
            f" {s.name}",
            fontsize=9,
            fontweight="bold",
            ha="left",
            va="center",
            color="white",
            clip_on=False,
            bbox={"boxstyle": "square,pad=0.2", "fc": _SECTION_LINE, "ec": "none"},
        )


def _draw_title(figure, score: Score, title: str | None, layout: _Layout) -> None:
    title = title if title is not None else score.title
    facts = [f"\u2669 = {score.tempo_bpm:.4g}", str(score.time_signatures[0])]
    if score.key is not None:
        facts.append(str(score.key))
    facts.append(f"{score.bar_grid.bar_count(score.end_ticks)} bars")
    y = 1 - 22 / layout.height_px
    x = layout.left_px / layout.width_px
    if title:
        figure.text(x, y, title, fontsize=13, fontweight="bold", va="center", ha="left")
    figure.text(
        1 - _RIGHT_PX / layout.width_px,
        y,
        "   ".join(facts),
        fontsize=9,
        color="#505050",
        va="center",
        ha="right",
    )


def _draw_legend(figure, score: Score, layout: _Layout) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=track_colour(i), edgecolor=_darker(track_colour(i)), label=t.name)
        for i, t in enumerate(score.tracks)
        if t.notes
    ]
    figure.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(layout.left_px / layout.width_px, 2 / layout.height_px),
        ncol=_legend_columns(layout.width_px),
        fontsize=8,
        frameon=False,
        handlelength=1.4,
        columnspacing=1.6,
        borderaxespad=0,
    )
