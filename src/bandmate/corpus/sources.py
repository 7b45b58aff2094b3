"""Where training data comes from: the collections bandmate ships, and users' folders.

A collection is a row of data (`Collection`): its name, where it comes from, its licence text,
licence class and whether it may train a model that is used commercially, plus two functions:
one lists its items (`SourceItem`: a reference and the sha256 of the item's bytes), the other
reads an item into Scores. `BUILTIN_COLLECTIONS` holds the rows for what ships with bandmate and
music21; `user_collection` makes the row for a folder a user added. The ledger (`corpus.ledger`)
records the items; this module only finds and reads them, and never changes a file.

Only the corpus that ships inside music21 is read, by path, so nothing is ever downloaded. music21
itself is imported only to read an item, never to list one, so listing a collection is quick.

**Items and their hashes.** An item is what a model learns from as one piece, and its sha256 is
taken over exactly the bytes that hold it:
- a file of one piece (a MusicXML chorale, a Humdrum motet, a user's MIDI file, a style file):
  the file's bytes;
- a tune in an ABC book (Essen, O'Neill's, Ryan's: a file holds from one to 700 tunes): the
  tune's own text, from its `X:` line to the next, with the `X:` line itself left out, line
  ends as `\n` and trailing spaces stripped. Hashing the song rather than (file, index) makes
  the hash name the music: a tune written out twice is one item (15 of Essen's 8,514 tunes are
  exact repeats; so are 13 of Ryan's 1,059 files and 21 of the 1,318 Palestrina files), and
  renumbering or reordering a book changes no hash, so no tune can move between train and
  test. The reference still says where it was found (`essenFolksong/erk5.abc#3`: the third
  tune of that file). A book's header, the text before its first tune, is not hashed;
  music21's books have none;
- a JSB chorale: the sha256 of its canonical JSON (`[[s,a,t,b],...]`, no spaces).
A user's ABC file is one item (hashed as a file) that reads as all of its tunes.

Reading an item checks its hash again, so a file that changed after it was recorded is refused
rather than silently learnt from under the old record.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from bandmate.corpus import licences
from bandmate.errors import EmptyScoreError, InputFileError, UserError
from bandmate.io.formats import (
    ABC_SUFFIXES,
    MIDI_READ_SUFFIXES,
    MUSICXML_SUFFIXES,
    READ_SUFFIXES,
)
from bandmate.score.model import Score

BACH_LICENCE = "Bach's music is in the public domain; the encodings come with music21 by permission"
JSB_LICENCE = (
    "Public-domain music (J. S. Bach); JSB Chorales dataset by Boulanger-Lewandowski, Bengio "
    "and Vincent (2012), prepared for Coconet by C.-Z. A. Huang"
)
ESSEN_LICENCE = (
    "Essen Folksong Collection: permission for non-commercial distribution and use in music21 "
    "(Ewa Dahlig-Turek); ABC encodings by Seymour Schlien, by his permission"
)
ONEILLS_LICENCE = (
    "O'Neill's Music of Ireland (1903) is in the public domain; ABC transcriptions by Norbert "
    "Paap, shipped with music21"
)
RYANS_LICENCE = (
    "Ryan's Mammoth Collection (1883) is in the public domain; ABC transcriptions shipped with "
    "music21"
)
PALESTRINA_LICENCE = (
    "Palestrina's music is in the public domain; the Humdrum encodings say 'Copyright 2000, "
    "John Miller. Rights to all derivative electronic formats reserved. Refer to licensing "
    "agreement for further details.'"
)
STYLES_LICENCE = "bandmate's own style patterns, GPL-3.0-or-later"

# Not a chorale: the C major prelude of the Well-Tempered Clavier, in music21's bach/ folder.
_BACH_NOT_CHORALES = frozenset({"bwv846"})
# The chart every style plays for the drum model: 16 bars in two sections, so that each style
# plays its quiet and busy patterns, a fill into the second section and its intro and ending.
STYLE_CHART = (
    "[A] | C | Am | F | G7 | C | Am | Dm7 | G7 | [B] | F | G | Em | Am | Dm7 | G7 | C | G7 |"
)
_ABC_TUNE_START = re.compile(rb"^X\s*:")
_JSB_STEP_TICKS = 120  # a 16th note at 480 ticks per beat


class CorpusError(UserError):
    """A collection that does not exist or cannot be used, or a folder that cannot be added."""


@dataclass(frozen=True)
class SourceItem:
    """One item as a collection lists it: where it is and the sha256 of its bytes.

    split: "train", "valid" or "test" when the source fixes it (JSB); None lets the ledger
        derive it from the hash.
    """

    reference: str
    sha256: str
    split: str | None = None


@dataclass(frozen=True)
class Collection:
    """A collection as data: what it is, its licence, and how to list and read its items.

    list_items() yields every SourceItem; read_item(reference, sha256) gives the Scores of one
    item (an ABC book of a user's gives several), raising InputFileError when it cannot, or when
    its bytes no longer have that hash.
    """

    name: str
    source: str
    description: str
    licence: str
    licence_class: str
    commercial: bool
    list_items: Callable[[], Iterator[SourceItem]]
    read_item: Callable[[str, str], list[Score]]
    builtin: bool = True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- music21's bundled corpus ----------------------------------------------------------------
@functools.cache
def music21_corpus_root() -> Path:
    """The folder of the corpus that ships inside music21, found without importing music21."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError("music21 is not installed; install bandmate with its dependencies.")
    return Path(next(iter(spec.submodule_search_locations))) / "corpus"


def _corpus_files(folder: str, suffixes: tuple[str, ...], skip=frozenset()) -> list[Path]:
    root = music21_corpus_root() / folder
    if not root.is_dir():
        raise CorpusError(f"music21's bundled corpus has no {folder}/ folder; reinstall music21.")
    return sorted(
        p
        for p in root.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and p.stem not in skip
    )


def _reference(path: Path) -> str:
    return path.relative_to(music21_corpus_root()).as_posix()


def _list_corpus_files(folder: str, suffixes: tuple[str, ...], skip=frozenset()):
    for path in _corpus_files(folder, suffixes, skip):
        yield SourceItem(_reference(path), sha256_bytes(path.read_bytes()))


def _read_corpus_file(reference: str, sha256: str) -> list[Score]:
    path = music21_corpus_root() / reference
    _checked_bytes(path, sha256, reference)
    score = _parse_with_music21(path, reference)
    return [score if score.title else score.replace(title=reference)]


def _checked_bytes(path: Path, sha256: str, reference: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError:
        raise InputFileError(
            f"Corpus item {reference!r} is missing from {str(path.parent)!r}; it has moved or "
            "been deleted since it was recorded."
        ) from None
    if sha256_bytes(data) != sha256:
        raise InputFileError(
            f"Corpus item {reference!r} has changed since it was recorded (its sha256 differs), "
            "so it is not the item the ledger describes; it is left out."
        )
    return data


def _parse_with_music21(path: Path, name: str, fmt: str | None = None):
    from music21 import converter

    from bandmate.io.music21_io import score_from_music21

    try:
        # forceSource: read the file itself, never a pickle music21 cached of an older version
        stream = converter.parse(path, format=fmt, forceSource=True)
    except Exception as e:  # music21 raises many kinds; all mean the file could not be read
        raise InputFileError(f"{name!r} could not be read ({_first_line(e)}).") from None
    try:
        return score_from_music21(stream)
    except ValueError as e:  # music that does not fit a Score (a note out of MIDI's range...)
        raise InputFileError(f"{name!r} holds music bandmate cannot use ({e}).") from None


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    line = lines[0] if lines else type(error).__name__
    return line if len(line) <= 160 else line[:157] + "..."


# --- ABC books: an item per tune -------------------------------------------------------------
def split_abc_tunes(data: bytes) -> tuple[bytes, list[bytes]]:
    """An ABC file's header (the text before its first tune) and its tunes' texts.

    Each tune runs from its `X:` line up to the next `X:` line; line ends become `\\n`, trailing
    spaces and blank lines at the end are dropped.
    """
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    header: list[bytes] = []
    tunes: list[list[bytes]] = []
    for line in lines:
        line = line.rstrip()
        if _ABC_TUNE_START.match(line):
            tunes.append([line])
        elif tunes:
            tunes[-1].append(line)
        else:
            header.append(line)
    texts = [b"\n".join(t).strip(b"\n") + b"\n" for t in tunes]
    return b"\n".join(header).strip(b"\n"), texts


def abc_tune_sha256(tune: bytes) -> str:
    """The sha256 of a tune's text without its `X:` line (the tune's number in its book)."""
    body = tune.split(b"\n", 1)[1] if b"\n" in tune else b""
    return sha256_bytes(body)


def _list_abc_tunes(folder: str):
    for path in _corpus_files(folder, ABC_SUFFIXES):
        _, tunes = split_abc_tunes(path.read_bytes())
        reference = _reference(path)
        for index, tune in enumerate(tunes, start=1):
            yield SourceItem(f"{reference}#{index}", abc_tune_sha256(tune))


def _read_abc_tune(reference: str, sha256: str) -> list[Score]:
    file_ref, _, index = reference.partition("#")
    path = music21_corpus_root() / file_ref
    try:
        header, tunes = split_abc_tunes(path.read_bytes())
    except OSError:
        raise InputFileError(f"Corpus item {reference!r} is missing; reinstall music21.") from None
    position = int(index) - 1 if index.isdigit() else -1
    candidates = [tunes[position]] if 0 <= position < len(tunes) else []
    candidates += tunes  # the tune may have moved within its book: find it by its hash
    tune = next((t for t in candidates if abc_tune_sha256(t) == sha256), None)
    if tune is None:
        raise InputFileError(
            f"Corpus item {reference!r} is no longer in {file_ref!r}; the file has changed since "
            "it was recorded."
        )
    from music21 import converter

    from bandmate.io.music21_io import score_from_music21

    text = _decode(header + b"\n" + tune if header else tune)
    try:
        score = score_from_music21(converter.parseData(text, format="abc"))
    except Exception as e:  # music21 raises many kinds; all mean the tune could not be read
        raise InputFileError(
            f"Corpus item {reference!r} could not be read ({_first_line(e)})."
        ) from None
    return [score if score.title else score.replace(title=reference)]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older ABC files are in Latin-1; every byte decodes


# --- JSB Chorales ----------------------------------------------------------------------------
def _jsb_module():
    try:
        from bandmate.corpus import jsb
    except ImportError:
        raise CorpusError(
            "The JSB Chorales are not installed with this copy of bandmate (bandmate.corpus.jsb "
            "is missing); reinstall bandmate."
        ) from None
    return jsb


def _list_jsb():
    jsb = _jsb_module()
    for split in jsb.JSB_SPLITS:
        for index, chorale in enumerate(jsb.load_jsb(split)):
            yield SourceItem(f"{split}/{index}", jsb.chorale_hash(chorale), split)


def _read_jsb(reference: str, sha256: str) -> list[Score]:
    split, _, index = reference.partition("/")
    jsb = _jsb_module()
    chorales = jsb.load_jsb(split) if split in jsb.JSB_SPLITS else []
    position = int(index) if index.isdigit() else -1
    if not 0 <= position < len(chorales):
        raise InputFileError(f"JSB chorale {reference!r} does not exist; reinstall bandmate.")
    chorale = chorales[position]
    if jsb.chorale_hash(chorale) != sha256:
        raise InputFileError(f"JSB chorale {reference!r} has changed since it was recorded.")
    from bandmate.tokens.chorale import ChoraleTokenizer

    # held and repeated notes look alike on the JSB grid; the tokenizer reads them as held
    return [ChoraleTokenizer().steps_to_score(chorale, title=f"JSB chorale {reference}")]


# --- bandmate's own styles -------------------------------------------------------------------
def _style_files() -> list[tuple[str, bytes]]:
    from importlib import resources

    from bandmate.arrange.style import STYLE_PACKAGE

    folder = resources.files(STYLE_PACKAGE)
    return sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".toml"))


def _list_styles():
    for name, data in _style_files():
        yield SourceItem(f"bandmate/data/styles/{name}", sha256_bytes(data))


def _read_style(reference: str, sha256: str) -> list[Score]:
    file_name = reference.rsplit("/", 1)[-1]
    found = dict(_style_files()).get(file_name)
    if found is None or sha256_bytes(found) != sha256:
        raise InputFileError(f"Style file {reference!r} has changed or gone since it was recorded.")
    from bandmate.arrange.backing import backing

    style = file_name.removesuffix(".toml")
    seed = int(sha256[:8], 16)  # the item's own seed: the same file always plays the same notes
    score = backing(STYLE_CHART, style=style, seed=seed)
    return [score.replace(title=f"{style} backing ({reference})")]


# --- users' folders --------------------------------------------------------------------------
def find_music_files(folder: str | os.PathLike) -> list[Path]:
    """Every file under `folder` (recursively) whose suffix bandmate reads, sorted.

    Hidden files and folders (a leading dot: `.git`, macOS's `._song.mid` resource forks) are
    skipped; symbolic links to folders are not followed, so a link loop cannot trap the scan.
    """
    root = Path(folder)
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in files:
            if not name.startswith(".") and Path(name).suffix.lower() in READ_SUFFIXES:
                found.append(Path(directory) / name)
    return sorted(found)


def read_music_bytes(data: bytes, path: Path, name: str) -> list[Score]:
    """The Scores in a user's file whose bytes are `data`: one, or one per tune of an ABC book.

    `name` is how messages call the file. Raises InputFileError for a file that is not what its
    suffix says, and EmptyScoreError when it holds no notes.
    """
    from bandmate.io.formats import check_content

    check_content(data[:4096], name)
    suffix = path.suffix.lower()
    if suffix in MIDI_READ_SUFFIXES:
        from bandmate.io.midi import midi_from_bytes

        scores = [midi_from_bytes(data, name)]
    elif suffix in MUSICXML_SUFFIXES:
        scores = [_read_users_file(path, name, "read_musicxml")]
    elif suffix in ABC_SUFFIXES:
        scores = _read_users_file(path, name, "read_abc_book")
    else:
        raise InputFileError(f"{name!r} is not a MIDI, MusicXML or ABC file.")
    scores = [s for s in scores if not s.is_empty]
    if not scores:
        raise EmptyScoreError(f"{name!r} holds no notes.")
    return scores


def music_sha256(scores: list[Score]) -> str:
    """The sha256 of the notes of `scores`, blind to how they are stored and played back.

    Each note is (drum or not, onset and duration in beats as exact fractions, pitch), counted
    from the first onset, over every track together: the same tune saved at another tempo, at
    another resolution (96 or 480 ticks a beat), as a type-0 or type-1 file, with other
    instruments or velocities, or after a bar of silence, has the same hash. Transposed, or with
    one note changed, it does not: that is another piece a model may learn from.
    """
    lines = []
    for index, score in enumerate(scores):
        tpb = score.ticks_per_beat
        all_notes = [(t.is_drum, n) for t in score.tracks for n in t.notes]
        first = min((n.onset_ticks for _, n in all_notes), default=0)
        rows = sorted(
            (drum, Fraction(n.onset_ticks - first, tpb), Fraction(n.duration_ticks, tpb), n.pitch)
            for drum, n in all_notes
        )
        lines.append(f"score {index}")
        lines += [f"{int(d)} {o} {length} {p}" for d, o, length, p in rows]
    return sha256_bytes("\n".join(lines).encode("ascii"))


def _read_users_file(path: Path, name: str, reader: str):
    """`bandmate.io.music21_io.<reader>(path)`, as `bandmate convert` reads the file (a Latin-1
    ABC book, a tune's inline key changes, a timewise or misnamed compressed MusicXML file),
    its messages naming the file as `name`."""
    from bandmate.io import music21_io

    try:
        return getattr(music21_io, reader)(path)
    except InputFileError as e:
        raise InputFileError(str(e).replace(repr(str(path)), repr(name))) from None


def user_collection(name: str, folder: str | os.PathLike, licence: str) -> Collection:
    """The row for a user's folder: items are its music files, under the licence they gave."""
    root = Path(folder)
    cls = licences.licence_class(licence)

    def list_items():
        for path in find_music_files(root):
            yield SourceItem(path.relative_to(root).as_posix(), sha256_bytes(path.read_bytes()))

    def read_item(reference: str, sha256: str) -> list[Score]:
        path = root / reference
        try:
            data = path.read_bytes()
        except OSError:
            raise InputFileError(
                f"{str(path)!r} is gone; it was in collection {name!r} when it was recorded."
            ) from None
        if sha256_bytes(data) != sha256:
            raise InputFileError(
                f"{str(path)!r} has changed since it was recorded; run `bandmate corpus add "
                f"{root} --name {name}` again to record the new version."
            )
        return read_music_bytes(data, path, reference)

    return Collection(
        name=name,
        source=f"folder {root}",
        description=f"the music files under {root}",
        licence=licence,
        licence_class=cls,
        commercial=licences.commercial_allowed(cls),
        list_items=list_items,
        read_item=read_item,
        builtin=False,
    )


# --- the registry ----------------------------------------------------------------------------
BUILTIN_COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        # Bach died in 1750: the music is in the public domain everywhere. The encodings come
        # with music21 "by permission of the encoders", with no restriction on use stated for
        # this folder (music21 names its restricted folders, as it does Essen). A faithful
        # transcription of a public-domain score adds nothing a model learns: it learns the
        # notes and rhythms, which are Bach's. So commercial use is allowed.
        Collection(
            name="bach-chorales",
            source="music21 corpus: bach/ (*.mxl, *.xml)",
            description="Bach's four-part chorales (some with their instrumental parts)",
            licence=BACH_LICENCE,
            licence_class=licences.PUBLIC_DOMAIN,
            commercial=True,
            list_items=functools.partial(
                _list_corpus_files, "bach", (".mxl", ".xml"), _BACH_NOT_CHORALES
            ),
            read_item=_read_corpus_file,
        ),
        Collection(
            name="jsb",
            source="bandmate/data/jsb/Jsb16thSeparated.json (Coconet's copy), split as in the file",
            description="382 Bach chorales on a 16th-note grid, SATB, split train/valid/test",
            licence=JSB_LICENCE,
            licence_class=licences.PUBLIC_DOMAIN,
            commercial=True,
            list_items=_list_jsb,
            read_item=_read_jsb,
        ),
        Collection(
            name="essen",
            source="music21 corpus: essenFolksong/ (an item per tune)",
            description="Essen Folksong Collection: European folk songs in ABC",
            licence=ESSEN_LICENCE,
            licence_class=licences.NON_COMMERCIAL,
            commercial=False,
            list_items=functools.partial(_list_abc_tunes, "essenFolksong"),
            read_item=_read_abc_tune,
        ),
        Collection(
            name="oneills1850",
            source="music21 corpus: oneills1850/ (an item per tune)",
            description="O'Neill's Music of Ireland (1903): 1850 Irish tunes in ABC",
            licence=ONEILLS_LICENCE,
            licence_class=licences.PUBLIC_DOMAIN,
            commercial=True,
            list_items=functools.partial(_list_abc_tunes, "oneills1850"),
            read_item=_read_abc_tune,
        ),
        Collection(
            name="ryans-mammoth",
            source="music21 corpus: ryansMammoth/ (an item per tune)",
            description="Ryan's Mammoth Collection (1883): fiddle tunes in ABC",
            licence=RYANS_LICENCE,
            licence_class=licences.PUBLIC_DOMAIN,
            commercial=True,
            list_items=functools.partial(_list_abc_tunes, "ryansMammoth"),
            read_item=_read_abc_tune,
        ),
        # The music is in the public domain, but every file of this encoding carries a copyright
        # notice that reserves "all derivative electronic formats" and refers to a licensing
        # agreement that is not shipped. Whether a model is such a format is for a lawyer to
        # say, so the collection is not cleared for commercial use: the cautious reading.
        Collection(
            name="palestrina",
            source="music21 corpus: palestrina/ (*.krn)",
            description="Palestrina's masses and motets in Humdrum (John Miller's encodings)",
            licence=PALESTRINA_LICENCE,
            licence_class=licences.UNKNOWN,
            commercial=False,
            list_items=functools.partial(_list_corpus_files, "palestrina", (".krn",)),
            read_item=_read_corpus_file,
        ),
        Collection(
            name="bandmate-styles",
            source="bandmate/data/styles/*.toml, played over a fixed 16-bar chart",
            description="bandmate's backing-track styles, each as a 16-bar backing track",
            licence=STYLES_LICENCE,
            licence_class=licences.OWN_WORK,
            commercial=True,
            list_items=_list_styles,
            read_item=_read_style,
        ),
    )
}
