"""The piano roll: a PNG a musician can read, with every track, chord and section on it."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from bandmate.errors import EmptyScoreError
from bandmate.plot.pianoroll import (
    MAX_WIDTH_PX,
    draw_pianoroll,
    pianoroll_figure,
    track_colour,
)
from bandmate.score import ChordEvent, Score, Section, TimeSignature
from bandmate.theory.chords import parse_chord
from tests.builders import bass, drums, make_score, piano


def read_png(path) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(path)[..., :3]  # (height, width, rgb) floats 0-1


def pixels_of(image: np.ndarray, colour: str) -> np.ndarray:
    """Mask of the pixels that are exactly `colour` (to within PNG rounding)."""
    return np.all(np.abs(image - np.array(to_rgb(colour))) < 1.5 / 255, axis=-1)


def bar_labels(figure) -> list[str]:
    [axes] = [ax for ax in figure.axes if ax.get_xlabel() == "bar"]
    return [t.get_text() for t in axes.get_xticklabels()]


def figure_texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text)]


@pytest.fixture
def song() -> Score:
    return make_score(
        piano((0, 4, 60), (0, 4, 64), (4, 4, 65), (4, 4, 69), (8, 8, 67)),
        bass((0, 2, 36), (2, 2, 43), (4, 4, 41), (8, 8, 43)),
        drums(*[(b / 2, 0.25, 42) for b in range(32)], (0, 0.5, 36), (2, 0.5, 38)),
        chords=(
            ChordEvent(0, parse_chord("C")),
            ChordEvent(1920, parse_chord("Fmaj7")),
            ChordEvent(3840, parse_chord("G7sus4")),
        ),
        sections=(Section(0, "Intro"), Section(3840, "Chorus")),
        title="Little song",
    )


def test_one_long_note_is_drawn_in_its_track_colour(tmp_path):
    path = tmp_path / "roll.png"
    draw_pianoroll(make_score(piano((0, 4, 60))), path)
    image = read_png(path)
    height, width = image.shape[:2]
    assert 400 <= width <= 1000 and 200 <= height <= 800
    mask = pixels_of(image, track_colour(0))
    assert mask.sum() > 1000  # a whole bar's worth of note, not a stray legend swatch
    # the note lies across the plot, left to right, on one row
    columns = np.flatnonzero(mask.any(axis=0))
    assert columns.max() - columns.min() > width / 2
    assert len(np.unique(image.reshape(-1, 3).round(2), axis=0)) > 5  # not blank


def test_every_track_has_its_colour(song, tmp_path):
    path = tmp_path / "roll.png"
    draw_pianoroll(song, path)
    image = read_png(path)
    for index in range(len(song.tracks)):
        assert pixels_of(image, track_colour(index)).sum() > 200, song.tracks[index].name


def test_chords_sections_title_and_legend_are_written(song):
    texts = figure_texts(pianoroll_figure(song))
    for expected in ("C", "Fmaj7", "G7sus4", "Little song", "Piano", "Bass", "Drums"):
        assert expected in texts
    assert any(t.strip() == "Intro" for t in texts)
    assert any(t.strip() == "Chorus" for t in texts)


def test_drums_get_a_lane_with_their_names(song):
    figure = pianoroll_figure(song)
    labels = [t.get_text() for ax in figure.axes for t in ax.get_yticklabels()]
    assert {"Kick", "Snare", "Closed hi-hat"} <= set(labels)
    assert "C4" in labels  # the pitched roll names its C's


def test_pickup_is_bar_zero(song):
    pickup = song.replace(time_signatures=(TimeSignature(0, 4, 4), TimeSignature(480, 4, 4)))
    assert bar_labels(pianoroll_figure(pickup))[:3] == ["0", "1", "2"]


def test_a_long_song_is_capped_in_width(tmp_path):
    long = make_score(piano(*[(b, 1, 60 + b % 24) for b in range(4 * 400)]))
    figure = pianoroll_figure(long)
    assert figure.get_figwidth() * figure.dpi == pytest.approx(MAX_WIDTH_PX)
    assert 10 < len(bar_labels(figure)) < 200  # thinned out, yet still there


def test_title_argument_wins(song):
    assert "My title" in figure_texts(pianoroll_figure(song, title="My title"))


def test_empty_score_is_refused(tmp_path):
    with pytest.raises(EmptyScoreError):
        draw_pianoroll(Score(), tmp_path / "roll.png")
    assert not (tmp_path / "roll.png").exists()


def test_a_title_in_letters_the_font_lacks_draws_without_a_warning_per_letter(tmp_path):
    # a title and a part named in Japanese printed a matplotlib UserWarning per letter on stderr
    import warnings

    score = make_score(piano((0, 1, 60), name="ギター"), title="ピアノ曲")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_pianoroll(score, tmp_path / "roll.png")
    assert (tmp_path / "roll.png").stat().st_size > 0
    assert not [w for w in caught if "missing from font" in str(w.message)]
