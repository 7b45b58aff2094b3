"""Mastering reports: a before/after picture, every measurement as JSON, and a short table.

- `write_master_png(report, path)`: four panels, (1) short-term loudness over time before and
  after, with the target; (2) the octave balance before and after against the target curve or
  the reference; (3) the compressor's and the limiter's gain reduction over time; (4) the peaks
  (sample and true) before and after against the ceiling, with the integrated loudness.
- `write_master_json(report, path)`: `MasterReport.to_dict()`, the settings, each stage and the
  full analysis before and after (and of the reference).
- `master_rows(report)` and `stage_lines(report)`: a short table for the command line;
- `band_distance_db(a, b)`: the RMS distance in dB between two octave balances;
- `check_figure_path(path)` and `save_figure(figure, path)`: a picture is written in the format
  its suffix names (PNG, PDF, SVG or JPEG; PNG without a suffix), for `mix` as for `master`;
  `check_report_outputs` checks a command's audio, picture and JSON outputs before any work.

matplotlib is imported inside the functions, with the Agg canvas, so importing this module costs
nothing and needs no display.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np

from bandmate.errors import OutputError
from bandmate.io.audio import write_errors
from bandmate.io.files import atomic_path, write_text_atomic
from bandmate.mix.analysis import OCTAVE_CENTERS_HZ
from bandmate.mix.master import MasterReport
from bandmate.mix.meter import ABSOLUTE_GATE_LUFS, SERIES_STEP_SECONDS, SHORT_TERM_SECONDS

DPI = 100
BEFORE, AFTER, TARGET = "#9e9e9e", "#1f77b4", "#d62728"
# what a picture's suffix asks for: matplotlib's format names (no suffix: PNG, as `--report PNG`)
FIGURE_FORMATS = {"": "png", ".png": "png", ".pdf": "pdf", ".svg": "svg", ".jpg": "jpeg",
                  ".jpeg": "jpeg"}  # fmt: skip


def check_figure_path(path: str | os.PathLike) -> str:
    """The format a picture at `path` is written in, from its suffix; `OutputError` for a suffix
    that names no picture format (`--report levels.txt`).

    A `--report chart.pdf` was written as PNG bytes under the PDF's name, which no PDF viewer
    opens. Commands call this before any work, as they check their other outputs.
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FIGURE_FORMATS:
        raise OutputError(
            f"Cannot draw a picture as {suffix!r} ({str(path)!r}); give a .png, .pdf, .svg or "
            ".jpg path."
        )
    return FIGURE_FORMATS[suffix]


def check_report_outputs(audio, picture=None, json_path=None) -> list:
    """Refuse, before any work, the outputs of `mix` or `master` that could not be written (see
    `io.audio.check_output_paths`) and a picture named as another kind of file; returns the
    report outputs given (the picture and the JSON)."""
    from bandmate.io.audio import check_output_paths

    extras = [p for p in (picture, json_path) if p]
    check_output_paths([audio, *extras])
    if picture:
        check_figure_path(picture)
    return extras


def save_figure(figure, path: str | os.PathLike, dpi: int = DPI) -> None:
    """Write a matplotlib Figure atomically in the format `path`'s suffix names."""
    fmt = check_figure_path(path)
    with write_errors(path), atomic_path(path) as tmp, warnings.catch_warnings():
        # a stem named in emoji or Chinese is drawn in boxes where the font has no glyph, as
        # any chart would; matplotlib's four warnings a name on stderr read as a failure
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        figure.savefig(tmp, format=fmt, dpi=dpi)


def master_rows(report: MasterReport) -> list[tuple[str, str, str, str]]:
    """(measure, before, after, target) for a table a person can read."""
    b, a, cfg = report.before.loudness, report.after.loudness, report.config

    def lv(value, unit: str) -> str:
        if value is None or not math.isfinite(value):
            return "n/a"
        text = f"{value:.1f}"
        return f"{'0.0' if text == '-0.0' else text} {unit}"

    rows = [
        ("integrated", lv(b.integrated_lufs, "LUFS"), lv(a.integrated_lufs, "LUFS"),
         lv(cfg.target_lufs, "LUFS")),
        ("true peak", lv(b.true_peak_dbtp, "dBTP"), lv(a.true_peak_dbtp, "dBTP"),
         f"<= {lv(cfg.ceiling_dbtp, 'dBTP')}"),
        ("sample peak", lv(b.sample_peak_dbfs, "dBFS"), lv(a.sample_peak_dbfs, "dBFS"), ""),
        ("max short-term", lv(b.max_short_term_lufs, "LUFS"), lv(a.max_short_term_lufs, "LUFS"),
         ""),
        ("loudness range", lv(b.loudness_range_lu, "LU"), lv(a.loudness_range_lu, "LU"), ""),
        ("PLR", lv(b.plr_lu, "LU"), lv(a.plr_lu, "LU"), ""),
        ("crest factor", lv(report.before.crest_factor_db, "dB"),
         lv(report.after.crest_factor_db, "dB"), ""),
        ("band distance", lv(_band_distance(report, report.before), "dB"),
         lv(_band_distance(report, report.after), "dB"), report.target_source),
    ]  # fmt: skip
    return rows


def stage_lines(report: MasterReport) -> list[str]:
    """One line per stage: what each did."""
    tone = report.tone
    moves = ", ".join(
        f"{_band_label(c)} {g:+.1f}"
        for c, g in zip(OCTAVE_CENTERS_HZ, tone.achieved_db, strict=True)
        if abs(g) >= 0.5
    )
    comp = (
        f"ratio {report.compressor_ratio:.2f}:1, at most "
        f"{_max(report.compressor_reduction_db):.1f} dB"
        if report.compressor_threshold_db is not None
        else "left out (see below)"
        if report.shaping_left_out
        else "off (intensity 0)"
    )
    return [
        f"EQ toward {report.target_source}: "
        + (
            "left out (see below)"
            if report.shaping_left_out
            else moves or "no band moved 0.5 dB or more"
        ),
        f"compression: {comp}",
        *(
            [
                f"low band (under {report.config.low_band_hz:g} Hz): "
                f"{_max(report.low_band_reduction_db):.1f} dB at most, "
                f"{_figure(report.low_band_loss_db, '.2f')} dB of the energy taken"
            ]
            if report.config.low_band_hz and _max(report.low_band_reduction_db) >= 0.05
            else []
        ),
        f"gain: {_figure(report.gain_db, '+.2f')} dB",
        f"limiter: {_max(report.limiter_reduction_db):.1f} dB at most, "
        f"{_figure(report.limiter_loss_lu, '.2f')} LU of loudness",
        f"trim: {_figure(report.trim_db, '+.3f')} dB",
    ]


def write_master_json(report: MasterReport, path: str | os.PathLike) -> None:
    """Write every setting and measurement of `report` as JSON, atomically."""
    write_text_atomic(path, json.dumps(report.to_dict(), indent=2) + "\n")


def write_master_png(report: MasterReport, path: str | os.PathLike) -> None:
    """Draw the before/after picture (see the module doc) and write it atomically, as PNG or as
    the format `path`'s suffix names (`check_figure_path`)."""
    check_figure_path(path)  # before drawing
    save_figure(master_figure(report), path)


def master_figure(report: MasterReport):
    """The matplotlib Figure that `write_master_png` saves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 2)
    _loudness_panel(axes[0, 0], report)
    _band_panel(axes[0, 1], report)
    _reduction_panel(axes[1, 0], report)
    _peak_panel(axes[1, 1], report)
    # the two panels over time span the whole file, so that they line up: a song after a long
    # silence had its loudness drawn over its own few seconds, beside the reductions' whole file
    for ax in (axes[0, 0], axes[1, 0]):
        ax.set_xlim(0.0, max(report.before.loudness.duration_seconds, SERIES_STEP_SECONDS))
    figure.suptitle(
        f"Master: {_level(report.before.loudness.integrated_lufs)} -> "
        f"{_level(report.after.loudness.integrated_lufs)} LUFS "
        f"(target {report.config.target_lufs:g}), true peak "
        f"{_level(report.after.loudness.true_peak_dbtp)} dBTP "
        f"(ceiling {report.config.ceiling_dbtp:g})"
    )
    return figure


def _loudness_panel(ax, report: MasterReport) -> None:
    """Short-term loudness as a meter shows it: each 3 s window's value at the window's end, so
    that a song that starts after a minute of silence rises at 60 s, not at 57 s, in line with
    the gain-reduction panel below. A window under the -70 LUFS gate is left blank, as silence
    is: the filters' tails, decaying into digital silence after the music, read down to -3000
    LUFS, and the scale went with them, leaving the music a flat line at the top."""
    for analysis, colour, label in ((report.before, BEFORE, "before"),
                                    (report.after, AFTER, "after")):  # fmt: skip
        series = np.asarray(analysis.loudness.short_term_lufs, dtype=float)
        times = SHORT_TERM_SECONDS + np.arange(len(series)) * SERIES_STEP_SECONDS
        heard = np.isfinite(series) & (series >= ABSOLUTE_GATE_LUFS)
        ax.plot(times, np.where(heard, series, np.nan), color=colour, label=label)
    ax.axhline(report.config.target_lufs, color=TARGET, linestyle="--", label="target")
    if report.before.loudness.max_short_term_lufs is None:  # an empty panel would puzzle
        ax.text(0.5, 0.25, "shorter than 3 s: no short-term loudness", transform=ax.transAxes,
                ha="center", va="center", color=BEFORE)  # fmt: skip
    ax.set(title="Short-term loudness (3 s)", xlabel="time (s)", ylabel="LUFS")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)


def _band_panel(ax, report: MasterReport) -> None:
    x = np.arange(len(OCTAVE_CENTERS_HZ))

    def shares(values) -> np.ndarray:
        return np.array([np.nan if v is None or not math.isfinite(v) else v for v in values])

    ax.plot(x, shares(s for _, s in report.before.octave_bands_db), "o-", color=BEFORE,
            label="before")  # fmt: skip
    ax.plot(x, shares(s for _, s in report.after.octave_bands_db), "o-", color=AFTER,
            label="after")  # fmt: skip
    ax.plot(x, shares(report.tone.target_db), "--", color=TARGET, label=report.target_source)
    ax.set_xticks(x, [_band_label(c) for c in OCTAVE_CENTERS_HZ])
    ax.set(title="Octave balance (share of the energy)", xlabel="octave band (Hz)",
           ylabel="dB")  # fmt: skip
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)


def _reduction_panel(ax, report: MasterReport) -> None:
    for values, colour, label in (
        (report.compressor_reduction_db, "#2ca02c", "compressor"),
        (report.low_band_reduction_db, "#9467bd", "low band"),
        (report.limiter_reduction_db, "#ff7f0e", "limiter"),
    ):
        if len(values):
            ax.plot(np.arange(len(values)) * 0.1, -np.asarray(values), color=colour, label=label)
    ax.set(title="Gain reduction (most in each 100 ms)", xlabel="time (s)", ylabel="dB")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)


def _peak_panel(ax, report: MasterReport) -> None:
    b, a = report.before.loudness, report.after.loudness
    labels = ["sample peak", "true peak", "integrated"]
    before = [b.sample_peak_dbfs, b.true_peak_dbtp, b.integrated_lufs]
    after = [a.sample_peak_dbfs, a.true_peak_dbtp, a.integrated_lufs]
    x = np.arange(len(labels))
    floor = min(v for v in before + after if v is not None and math.isfinite(v)) - 6
    for offset, values, colour, name in ((-0.2, before, BEFORE, "before"),
                                         (0.2, after, AFTER, "after")):  # fmt: skip
        heights = [(v if v is not None and math.isfinite(v) else floor) - floor for v in values]
        bars = ax.bar(x + offset, heights, 0.4, bottom=floor, color=colour, label=name)
        ax.bar_label(bars, labels=[_level(v) for v in values], fontsize=8)
    ax.axhline(report.config.ceiling_dbtp, color=TARGET, linestyle="--", label="ceiling")
    ax.axhline(report.config.target_lufs, color=TARGET, linestyle=":", label="target loudness")
    ax.set_xticks(x, labels)
    ax.set(title="Peaks and loudness", ylabel="dBFS / dBTP / LUFS")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3, axis="y")


def band_distance_db(shares_db, target_db) -> float | None:
    """RMS difference in dB between two octave balances (bands missing in either are skipped).

    Each balance is taken as shares of the bands both hold (each summed to 0 dB over them):
    a band only one holds, as a 192 kHz file holds 16 kHz and a 22.05 kHz one does not, had put
    3 dB between two white noises."""
    pairs = np.array(
        [
            (s, t)
            for s, t in zip(shares_db, target_db, strict=True)
            if s is not None and t is not None and math.isfinite(s) and math.isfinite(t)
        ]
    )
    if not len(pairs):
        return None
    pairs -= 10.0 * np.log10(np.sum(10.0 ** (pairs / 10.0), axis=0))
    return float(np.sqrt(np.mean((pairs[:, 0] - pairs[:, 1]) ** 2)))


def _band_distance(report: MasterReport, analysis) -> float | None:
    return band_distance_db([s for _, s in analysis.octave_bands_db], report.tone.target_db)


def _max(values) -> float:
    return float(np.max(values)) if len(values) else 0.0


def _figure(value: float, spec: str) -> str:
    """`value` formatted by `spec`, a value that rounds to zero as zero: a trim of -0.00001 dB
    read "trim: -0.000 dB", and a limiter that took nothing "-0.00 LU of loudness"."""
    text = format(value, spec)
    return format(0.0, spec) if float(text) == 0 else text


def _level(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.1f}"


def _band_label(center_hz: float) -> str:
    return f"{center_hz / 1000:g}k" if center_hz >= 1000 else f"{center_hz:g}"
