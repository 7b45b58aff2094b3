"""Fit automix's balance model (data/mixing/balance.toml) on the project's own backing tracks.

Every shipped style is arranged from each training chart below (none of them is bench/mix.py's
12-bar chart, which stays unseen) and rendered to stems as `bandmate backing` writes them, at the
style's authored mix levels (`jobs.backing.balance_stems`); that is the balance to learn. Each
stem gives a row: its role (from its name, as automix finds it), its content features
(`bandmate.mix.balance.stem_features`, none of which moves with its gain; the loudness range,
the onset rate and the spectral centroid taken relative to the song's other stems,
`song_relative_features`, as automix reads them) and its integrated loudness.

The model is linear: level = role_lu[role] + sum of weight_lu * z, z a feature standardised over
the training rows (clipped to ±3 when mixing). Only the differences within a song matter, so it
is first fitted by ridge regression on levels and features centred per song (a song's overall
loudness drops out); the feature weights are shrunk with `--ridge`, the role levels hardly at
all. That solution is then refined (SciPy's Powell search, from it) to minimise the squared error
that matters, each stem's level relative to the loudest stem of its song, plus the same ridge
penalty: automix puts the stem it predicts loudest at the working level and sets the others
under it, so getting which stem leads right matters more than the average level, and centred
least squares does not see that. Held out, the refinement took the median error from 2.4 to
1.5 dB on the styles' authored levels and left the worst as it was.

The song context (`SONG_RELATIVE`): a stem's loudness range, onset rate and spectral centroid,
each less the mean over its song's stems, so that a part that swells far beyond the rest of its
song (a ballad's brushes rising into the out chorus) is set back, and so is a part brighter than
the rest of its song (the same brushes, all hiss beside piano, bass and strings). Held out
(below), the range and onset rate take the worst error from 9.2 to 8.5 dB and leave the median
where it was (1.49 -> 1.46 dB); the centroid then takes the worst to 7.5 dB (the jazz ballad's
drums leave the worst six: 6.6 -> 2.7 dB in the refit below), the median to 1.45 and the
in-sample worst from 7.1 to 6.0 dB, with the 95th percentile at 6.0 throughout; on
bench/mix.py the median goes 1.45 -> 1.35 dB and the worst stays 6.0 (bossa nova's and the
waltz's drums). It lowers the worst without thinning the tail: held out, 17% of stems are over
4 dB with it and 16% without. `--ridge 10` was the best of 1, 3 and 10 held out for every
model (in the refit below at ridge 3 and 30, the centroid's worst is 8.0 and 7.7 against 8.6
and 8.4 without it). Refit on the arrangements as they are now (a re-struck note no longer cuts
the one before it, so pads hold): held out 1.42 / 6.0 / 7.6 dB without the centroid and 1.36 /
6.0 / 7.2 with it; bench/mix.py 1.42 / 6.0.

Tried and not kept, each worse held out in the median or no better at worst (ridge 3): weights
for the drums alone on the drum stem's onset rate, loudness range, share of energy around 250 Hz
(the snare's body), spectral centroid or envelope flux; the song's context for the drums alone
(the other stems' mean onset rate, peak-to-loudness ratio, loudness range or brightness, the most
sustained stem's ratio, whether a sustained stem exists, the drums' onset rate and ratio against
the others'), alone and in pairs and threes; the same for drums and bass together, or for drums,
keys, guitar and pad each; a tempo from the stems' onset envelopes (it read a 70 bpm ballad as
140). Bossa nova's and the waltz's drums (a steady cross-stick, 6 dB under the guitar or
accordion) look to every one of them like any other kit.

Tried later and not kept (held out median / 95th percentile / worst, dB; from a refit by
L-BFGS with the same loss, which gives the model without the centroid 1.44 / 6.0 / 8.5 and the
shipped one 1.44 / 6.0 / 7.6):
- without the centroid, every role its own weights on the features (role x feature
  interactions, ridge 10 or 30), on the drums alone up to all roles: 1.85-2.0 / 5.2-6.1 /
  9.3-10.4;
- drums-only weights on the share around 250 or 500 Hz, the frames' brightness or its spread
  (fitted on every style they put bench/mix.py's chart under 6 dB as predicted, before mixing):
  1.84-2.02 / 5.0-6.0 / 6.9-7.8;
- without the centroid, a loss that weights large errors more (|error|^p, p = 3, 4, 6):
  2.15 / 5.6 / 7.6, 2.28 / 5.0 / 7.3, 2.43 / 4.8 / 6.7;
- boosted decision stumps (10-60, on the features and the roles) fitted to the linear model's
  per-song residuals: 1.93-1.99 / 6.0 / 7.9-8.1;
- the stem's loudness range less the largest of the other stems' (4 of the 5 quiet-drum styles
  above every other style): 1.47 / 5.6 / 6.6, but on bench/mix.py's 12-bar chart (as predicted,
  before mixing) the gospel organ goes from 4.3 to 8.6 dB: the other stems' largest range moves
  with the song's form;
- greedy forward selection over 73 candidates, 34 more features each as it is and relative to
  the song and the five shipped stem features relative to the song (octave-band shares from
  31.5 Hz to 16 kHz, spectral flatness, spread and roll-off, brightness and level of onset
  frames against the rest, spread of onset levels, how brightness follows level, share of
  active frames, stereo side share and correlation, the maximum momentary loudness less the
  integrated, crest factor, onset rates at 6 and 12 dB jumps): the centroid came first
  (8.5 -> 7.6; roll-off and onset brightness next, 7.8 and 8.1), then the momentary maximum
  (7.6 -> 7.4, within what choosing among 73 candidates gives by chance);
- every feature above (15 each as it is and relative to the song) given its own weight for the
  drums and for the keys, 60 weights more (ridge 3-100, |error|^2 or ^4; fitted by L-BFGS on
  the same rows, as predicted before mixing): on bench/mix.py's chart the worst falls to
  4.0-4.7 dB and the median to 0.6-1.1, but held out the median rises to 1.9-2.0 and the worst
  stays 7.0-16.6 dB. It learns the 17 styles rather than the balance; with every feature
  weighted per role (180 weights) the bench reads 0.56 / 4.0 and held out 2.0 / 7.0 / 14.4.
  A tool that mixes a user's stems is judged held out, so it is not shipped;
- velocity brightness: the FluidR3 kit rendered at velocity scales 1.0, 0.78 and 0.6 (pop's and
  bossa nova's drums) is the same sound softer: share above 4 kHz within 0.2 dB, centroid within
  0.06 octave, peak-to-loudness ratio +0.3 LU. A drum part's softness leaves no trace but its
  level, which the offsets hide.

Tried after that and not kept (held out median / 95th percentile / worst, dB, against the shipped
model's 1.43 / 6.0 / 7.2 in the same refit; then its error on bench/mix.py's chart as predicted
before mixing, shipped 1.45 / 6.0). Onsets here are peaks of a spectral flux (the rise of the
log energy in nine bands, 10 ms frames) over 20 dB, none of them moving with a gain; each feature
weighted alike for every role, as it is and relative to the song:
- pulse clarity, the highest normalised autocorrelation of the stem's flux at lags of 0.25-2 s:
  1.45 / 6.0 / 6.7 and 1.47 / 6.0 / 6.6; 1.25 / 6.0;
- onset synchrony, the share of the stem's onsets that another stem plays within 30 ms, and its
  converse, the share of the other stems' onsets it plays too: 1.43-1.45 / 6.0 / 7.5-8.0;
- how the stem's momentary loudness follows the other stems' (correlation): 1.49 / 5.9 / 7.0;
- its spectrum's likeness to the other stems' (cosine of octave-band shares): 1.57 / 6.0 / 7.5;
- the share of its flux below 180 Hz: 1.47 / 6.0 / 6.6;
- doubling, two pitched stems playing one rhythm (the lesser of the shares of each one's onsets
  that the other plays, its best pair; reggae's skank guitar and piano, salsa's two pianos and
  swing's bass and Freddie Green guitar read 1.0): relative to the song 1.44 / 6.0 / 7.1 with 14%
  of stems over 4 dB (16% shipped), 1.17 / 6.0 before mixing; but with the onsets within 20 or
  50 ms, or over 12 or 30 dB, the held-out median goes anywhere from 1.41 to 1.58, and as it is
  1.53 / 6.0 / 7.3. Three styles carry it;
- a note rate, the flux onsets per second (which count the notes of a pedalled arpeggio that
  `onset_rate_per_s` misses) relative to the song: it tells the quiet-kit styles' leading piano,
  guitar or accordion from the other styles' keys and guitars best of all (area under the ROC
  curve 0.84, `onsets_per_s` 0.70), but held out 1.55-1.84 / 6.0 / 6.6-9.7 over thresholds of
  10-45 dB, ridge 30 or its logarithm, and for the pitched stems only 1.61 / 6.0 / 8.3 (its
  logarithm 1.42 / 6.0 / 8.4); with doubling 1.65-1.69 / 5.5-5.6 / 6.0-6.6 (13-17% over 4 dB).
  It lifts the leads and unsettles the rest; bossa nova's and the waltz's drums stay 6 dB out
  before mixing in every variant;
- for the drums alone: a backbeat (the kick band's flux against the snare band's one beat later,
  the beat from the song's summed flux, which read pop at 75 bpm), the snare band's periodicity
  at half a bar against the beat, the kick's onsets per cymbal onset, how often the bass's onsets
  land on a kick. Across the 17 styles' mean drum stems none of these or the features above
  tells the five quiet kits from the twelve driving ones better than the loudness range, already
  in (area under the ROC curve 0.52-0.78 against 0.85); the high band's swell over its median
  (crashes) puts the quiet kits amid the driving ones, which split into two groups.

Looked at and not fitted: the kit notes the styles play. Four of the five quiet kits (bossa nova,
pop ballad, six-eight ballad, waltz) play a cross-stick backbeat (GM 37) and no snare, but so do
two driving ones (reggae's one-drop, samba's); the jazz ballad's brush kit renders its snare as
the standard kit does. Rendered alone the cross-stick has almost no energy under 400 Hz, where
the snare has its body, which is the share around 250 Hz tried above: a cross-stick detector
would tell at best 4 of 5 quiet kits from 10 of 12 driving ones, no better than the loudness
range already in.

Held out: leave-one-style-out, every chart of one style predicted by a model fitted on the other
16 styles, each stem's error taken as bench/mix.py takes it (its level relative to the loudest
stem of its song, less the same in the rendering). It prints the figures in-sample and held out,
and the worst stems held out, for four models: role levels alone, with the stem's own content,
with the song's context (loudness range and onset rate), and with the brightness against the
song too (the shipped one); with `--write` it writes balance.toml.

    nice .venv/bin/python bench/fit_mix.py [--ridge 10] [--write]
"""

from __future__ import annotations

import argparse
import math
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from bandmate.mix.balance import ROLES, song_relative_features, stem_features
from bandmate.mix.meter import measure_loudness
from bandmate.mix.roles import detect_role_from_content, role_from_name

sys.path.insert(0, str(Path(__file__).parent))
from mix import CHART as BENCH_CHART
from mix import all_styles, backing_stems

# (chart, seed): varied keys, harmonic rhythm and lengths; seeds other than the bench's
TRAINING = (
    ("| C | Am | F | G | C | F | G | C |", 11),
    ("| G | D | Em | C | G | D | C | G |", 12),
    ("| Dm7 | G7 | Cmaj7 | A7 | Dm7 | G7 | Cmaj7 | Cmaj7 |", 13),
    ("| Am | F | C | G | Am | F | G | Am |", 14),
    ("| F | Bb | F | C | Bb | F | C | F |", 15),
    ("| E | A | E | B7 | A | E | B7 | E |", 16),
)
STEM_FEATURES = ("plr_lu", "band_63_db", "band_500_db", "band_1000_db", "high_db")
# read against the song's mean (balance.toml says so)
SONG_RELATIVE = ("lra_lu", "onsets_per_s", "centroid_log2_hz")
FEATURES = STEM_FEATURES + SONG_RELATIVE
MODELS = {  # label: the features it reads; the last is the one written
    "role levels alone": (),
    "role levels + the stem's content": STEM_FEATURES,
    "role levels + content + song context": STEM_FEATURES + SONG_RELATIVE[:2],
    "... + brightness against the song": FEATURES,
}
CLIP = 3.0
FITTED_ROLES = ROLES[:-1]  # no backing track has a vocal
OUTPUT = Path(str(resources.files("bandmate.data") / "mixing" / "balance.toml"))


def collect() -> list[dict]:
    """One row per stem that is not silent: song, style, name, role, loudness, features."""
    assert all(chart != BENCH_CHART for chart, _ in TRAINING), "the bench's chart must stay unseen"
    rows = []
    for number, (chart, seed) in enumerate(TRAINING):
        for style in all_styles():
            names, stems = backing_stems(chart, style, seed)
            # as automix measures them: no true peak (the PLR reads the sample peak)
            loudness = [measure_loudness(a, true_peak=False) for a in stems]
            song = song_relative_features(
                [
                    stem_features(a.samples, a.sample_rate, m)
                    for a, m in zip(stems, loudness, strict=True)
                ],
                SONG_RELATIVE,
            )
            for name, audio, measured, features in zip(names, stems, loudness, song, strict=True):
                if not features:
                    continue
                role = role_from_name(name) or detect_role_from_content(
                    audio.samples, audio.sample_rate
                )
                rows.append(
                    {
                        "song": f"{style}/{number}",
                        "style": style,
                        "name": name,
                        "role": role,
                        "lufs": measured.integrated_lufs,
                        # a feature a stem lacks (under 3 s: no loudness range) counts as average
                        **{f: features.get(f, math.nan) for f in FEATURES},
                    }
                )
    return rows


def design(rows, mean, scale, features=FEATURES) -> np.ndarray:
    """(rows, roles + features): role indicators, then the named features standardised and
    clipped (a missing value, NaN, at 0: the average)."""
    roles = np.array([[r["role"] == role for role in FITTED_ROLES] for r in rows], dtype=float)
    if not features:
        return roles
    k = [FEATURES.index(f) for f in features]
    values = np.array([[r[f] for f in features] for r in rows], dtype=float)
    z = np.nan_to_num(np.clip((values - mean[k]) / scale[k], -CLIP, CLIP))
    return np.hstack([roles, z])


def centre(x: np.ndarray, songs: np.ndarray) -> np.ndarray:
    out = x.astype(float).copy()
    for song in np.unique(songs):
        out[songs == song] -= x[songs == song].mean(axis=0)
    return out


def fit(x: np.ndarray, y: np.ndarray, songs: np.ndarray, ridge: float) -> np.ndarray:
    """Weights: ridge on per-song-centred rows (role columns get a token penalty, 1e-3), then
    refined on the squared error relative to each song's loudest stem (`errors`)."""
    from scipy.optimize import minimize

    xc, yc = centre(x, songs), centre(y, songs)
    penalty = np.r_[
        np.full(len(FITTED_ROLES), 1e-3), np.full(x.shape[1] - len(FITTED_ROLES), ridge)
    ]
    start = np.linalg.solve(xc.T @ xc + np.diag(penalty), xc.T @ yc)

    def loss(weights: np.ndarray) -> float:
        return float(np.sum(errors(x, y, songs, weights) ** 2) + penalty @ weights**2)

    return minimize(loss, start, method="Powell").x


def errors(x, y, songs, weights) -> np.ndarray:
    """bench/mix.py's error: level relative to the loudest stem of its song, against the truth."""
    predicted = x @ weights
    out = []
    for song in dict.fromkeys(songs):
        m = songs == song
        out.extend(np.abs((predicted[m] - predicted[m].max()) - (y[m] - y[m].max())))
    return np.array(out)


def summary(e: np.ndarray) -> str:
    return (
        f"median {np.median(e):.2f}, 95th percentile {np.percentile(e, 95):.1f}, "
        f"worst {e.max():.1f} dB"
    )


def worst_stems(rows, e: np.ndarray, count: int = 6) -> str:
    """The stems (style/name) with the largest errors, each at its worst over the charts."""
    worst: dict[str, float] = {}
    for r, value in zip(rows, e, strict=True):
        key = f"{r['style']}/{r['name']}"
        worst[key] = max(worst.get(key, 0.0), float(value))
    top = sorted(worst.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{key} {value:.1f}" for key, value in top)


def write(weights, mean, scale, rows, ridge, held_out: str) -> None:
    role_lu = dict(zip(FITTED_ROLES, weights[: len(FITTED_ROLES)], strict=True))
    top = max(role_lu.values())
    counts = {role: sum(r["role"] == role for r in rows) for role in FITTED_ROLES}
    lines = [
        "# automix's balance model, written by bench/fit_mix.py (do not edit by hand; refit).",
        "#",
        "# A stem's level relative to the other stems of its mix:",
        "#   level = role_lu[role] + sum of weight_lu * clip((value - mean) / scale, -clip, clip)",
        "# over the content features below (bandmate.mix.balance.stem_features; none moves with",
        "# the stem's gain); a `song_relative` feature is the stem's value less the mean over the",
        "# stems of its song. role_lu is a role's level for a stem of average content, relative to",
        "# the loudest role; weight_lu is LU per `scale` of the feature. The comments give the",
        "# level of each role's typical stem (at that role's mean features), on the same scale.",
        "#",
        f"# Fitted on {len(rows)} stems: every shipped style arranged from {len(TRAINING)} "
        "charts (not bench/mix.py's),",
        "# rendered with the system GM SoundFont at the styles' authored mix levels, by ridge",
        f"# regression on levels centred per song (ridge {ridge:g} on the standardised feature",
        "# weights), refined on the error relative to each song's loudest stem.",
        f"# Leave-one-style-out, level error relative to the loudest stem: {held_out}.",
        "# vocal: not fitted (no backing track has one); set at the loudest role, as is usual in",
        "# songs with a singer.",
        "",
        f"clip = {CLIP}",
        "",
        "[role_lu]",
    ]
    # what the role's typical stem gets: its level at the role's own mean features
    x = design(rows, mean, scale)
    typical = {}
    for k, role in enumerate(FITTED_ROLES):
        m = x[:, k] == 1
        typical[role] = float(x[m].mean(axis=0) @ weights) - top
    lines += [
        f"{role} = {value - top:.2f}  # n = {counts[role]}; its typical stem: {typical[role]:+.1f}"
        for role, value in role_lu.items()
    ]
    lines.append("vocal = 0.0  # not fitted: see above")
    for k, name in enumerate(FEATURES):
        w = weights[len(FITTED_ROLES) + k]
        lines += [
            "",
            f"[features.{name}]",
            f"mean = {round(mean[k], 3) + 0.0:.3f}",  # + 0.0: no "-0.000"
            f"scale = {scale[k]:.3f}",
            f"weight_lu = {w:.3f}",
        ]
        if name in SONG_RELATIVE:
            lines.append("song_relative = true")
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ridge", type=float, default=10.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = collect()
    y = np.array([r["lufs"] for r in rows])
    songs = np.array([r["song"] for r in rows])
    styles = np.array([r["style"] for r in rows])
    values = np.array([[r[f] for f in FEATURES] for r in rows])
    mean, scale = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    print(f"{len(rows)} stems, {len(np.unique(songs))} songs, {len(np.unique(styles))} styles")
    results = {}
    for label, features in MODELS.items():
        x = design(rows, mean, scale, features)
        weights = fit(x, y, songs, args.ridge)
        in_sample = errors(x, y, songs, weights)
        held = np.zeros(len(rows))
        for style in np.unique(styles):
            m = styles != style
            weights_m = fit(x[m], y[m], songs[m], args.ridge)
            held[~m] = errors(x[~m], y[~m], songs[~m], weights_m)  # row order: songs are contiguous
        results[label] = (weights, held)
        print(f"{label}:\n  in-sample:            {summary(in_sample)}")
        print(f"  leave-one-style-out:  {summary(held)}")
        print(f"  its worst stems held out: {worst_stems(rows, held)}")
    weights, held = results[list(MODELS)[-1]]
    for k, name in enumerate(FEATURES):
        print(f"  {name:<14} {weights[len(FITTED_ROLES) + k]:+.2f} LU per {scale[k]:.2f}")
    if args.write:
        write(weights, mean, scale, rows, args.ridge, summary(held))
    assert all(math.isfinite(w) for w in weights)


if __name__ == "__main__":
    main()
