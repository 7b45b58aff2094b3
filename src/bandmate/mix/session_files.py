"""The stem files of a session, for `bandmate mix` (`mix.automix.automix_files`): which files
of the folders given are stems (`stem_paths`), the names the report gives them (`stem_names`),
and a mix refused where it would be taken for a stem (`_check_mix_outside_stems`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bandmate.mix.elements import AUDIO_SUFFIXES, LOSSY_SUFFIXES

# audio that libsndfile does not read: a folder's are named as left out
OTHER_AUDIO_SUFFIXES = (".m4a", ".aac", ".mp4", ".wma", ".wv", ".ape", ".alac")
# the stem files whose suffix does not say how they are encoded
MAYBE_SUFFIXES = (*LOSSY_SUFFIXES, ".caf")


def stem_paths(
    inputs: Sequence[str | Path],
    skipped: list[str] | None = None,
    copies: list[tuple[Path, Path]] | None = None,
) -> list[Path]:
    """The stem files named by `inputs`: files as given, folders as their audio files that
    libsndfile reads, by any of their names (`elements.AUDIO_SUFFIXES`: WAV, FLAC, AIFF, CAF,
    MP3 and Ogg; an AIFF stem, and later a ".bwf" or ".w64" one, was left out of the mix
    without a word).

    A folder is read as `bandmate backing` writes one: its `stems/` subfolder when that holds
    stems, else the folder itself; files sorted by name. Hidden files are passed over: macOS
    leaves a "._name.wav" of metadata beside every file it copies to a USB stick or a network
    drive, and a half-written output of bandmate's is a hidden file too. The names of the audio
    files a folder holds in other formats (AAC, WMA, ...), of its links to files that are gone,
    and of its subfolders that hold stems (a "Drums" folder of kick and snare), are added to
    `skipped`, so that the report can say they were left out. An MP3 or Ogg file beside a
    lossless file of its name is that stem bounced twice (a DAW's bounce dialog writes both):
    it is left out, and (it, the lossless file) added to `copies`. Raises `InputFileError` when
    nothing is found, or when one file is given twice (it would be mixed twice as loud).
    """
    import os

    from bandmate.errors import InputFileError
    from bandmate.io.files import check_inputs

    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            folder = _stem_folder(item)
            files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
            audio = [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
            found = [p for p in audio if p.is_file()]
            others = [p.name for p in files if p.suffix.lower() in OTHER_AUDIO_SUFFIXES]
            # a Core Audio or Ogg file, or an MP3, may hold an encoding libsndfile does not
            # decode (Apple Loops are AAC in CAF): named, it is refused; in a folder, left out
            undecoded = [p for p in found if p.suffix.lower() in MAYBE_SUFFIXES and not _decodes(p)]
            found = [p for p in found if p not in undecoded]
            others += [f"{p.name} (an encoding bandmate does not read)" for p in undecoded]
            # a lossy copy of a lossless stem: mixed, the part went in twice
            lossy = [p for p in found if p.suffix.lower() in LOSSY_SUFFIXES]
            lossless = {p.stem.lower(): p for p in found if p not in lossy}
            twice = [(p, lossless[p.stem.lower()]) for p in lossy if p.stem.lower() in lossless]
            found = [p for p in found if p not in dict(twice)]
            if copies is not None:
                copies.extend(twice)
            # a link to a file that is gone (a session's audio moved) is no stem to mix, and
            # a folder named like one ("old.wav") is a folder
            others += [f"{p.name} (a link to a missing file)" for p in audio if not p.exists()]
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
        f"Folder {str(folder)!r} holds no WAV, FLAC, AIFF, MP3 or Ogg stems; give a folder of "
        "stems (AAC or WMA stems converted to WAV)."
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


def _decodes(path: Path) -> bool:
    """Whether libsndfile reads the encoding of the file at `path`."""
    import os

    import soundfile as sf

    try:
        sf.info(os.fsencode(path))
    except (sf.LibsndfileError, RuntimeError):
        return False
    return True


def _holds_stems(folder: Path) -> bool:
    try:
        return any(p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() for p in folder.iterdir())
    except OSError:  # a folder we may not list holds nothing we can mix
        return False
