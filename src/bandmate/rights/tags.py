"""Tags inside a generated file, so that any player or DAW shows what it is and who made it.

- MIDI: a copyright meta event (FF 02) and one text event (FF 01) per tag, `key: value`, at tick 0
  of the first track (the conductor track of a bandmate file). The colon keeps `read_midi` from
  taking a tag for a chord symbol, and bandmate's own title stays the track name.
- WAV: the RIFF `LIST/INFO` chunk (INAM title, IART artist, ICMT comment, ICOP copyright, ICRD
  date, ISFT software), written by libsndfile. INFO has no licence field, so the licence becomes a
  line of the comment.
- FLAC: Vorbis comments (TITLE, ARTIST, COMMENT, COPYRIGHT, DATE, LICENSE, ...), by libsndfile.
- MusicXML (`.musicxml`, `.xml`, and the compressed `.mxl`): the score's `<identification>`, where
  the format puts them: `<rights>` for the copyright, `<encoding><software>` for bandmate, and a
  `<miscellaneous-field name="bandmate:KEY">` for every other tag (the `bandmate:` prefix marks
  the fields as ours, so writing again replaces them and nothing else). A score with no title of
  its own (empty `<work-title>` and `<movement-title>`) takes the title tag there too, as MIDI
  files' players show the tags, so that MuseScore and other notation programs show a title.

libsndfile writes only a fixed set of fields, so the digital source type (IPTC's
`trainedAlgorithmicMedia`) is a line of the comment in audio files; the content credentials
(`bandmate.rights.credentials`) carry it in machine-readable form.

Tagging rewrites the file beside itself and moves it into place (`atomic_path`). Audio is copied
in its own sample format (integers stay integers), so every sample is unchanged; anything else the
file held, content credentials included, is dropped. Tag first, sign last.
"""

from __future__ import annotations

import io as _io
import os
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import mido
import soundfile as sf

from bandmate import __version__
from bandmate.errors import InputFileError
from bandmate.io.audio import audio_info
from bandmate.io.files import atomic_path, check_inputs
from bandmate.io.midi import midi_text, midi_text_read
from bandmate.io.musicxml_data import BANDMATE_FIELD as _XML_FIELD
from bandmate.io.musicxml_data import bandmate_title

# how a generated file was made, in IPTC's digital source type vocabulary
TRAINED_ALGORITHMIC_MEDIA = "trainedAlgorithmicMedia"
AUDIO_SUFFIXES = {".wav": "WAV", ".flac": "FLAC"}
MIDI_SUFFIXES = (".mid", ".midi")
MUSICXML_SUFFIXES = (".musicxml", ".xml", ".mxl")
# tags stored as `key: value` text events in MIDI, in this order
_MIDI_TEXT_KEYS = ("title", "artist", "comment", "licence", "date", "software", "source_type")
# read blocks of this many frames when copying audio
_BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class Tags:
    """What a file says about itself; empty fields are not written.

    `date` is ISO 8601 (`2026-11-24`); `source_type` is a term of IPTC's digital source type
    vocabulary (https://cv.iptc.org/newscodes/digitalsourcetype/).
    """

    title: str = ""
    artist: str = ""
    comment: str = ""
    copyright: str = ""
    licence: str = ""
    date: str = ""
    software: str = f"bandmate {__version__}"
    source_type: str = TRAINED_ALGORITHMIC_MEDIA

    def items(self) -> list[tuple[str, str]]:
        """The non-empty tags as (name, value) pairs, in field order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)]


def write_tags(path: str | os.PathLike, tags: Tags) -> None:
    """Write `tags` into the MIDI, WAV or FLAC file at `path`, in place and atomically.

    Tags written before are replaced. Audio samples and MIDI events are unchanged.
    """
    kind = _kind(path)
    if kind == "MIDI":
        _write_midi_tags(Path(path), tags)
    elif kind == "MusicXML":
        _write_musicxml_tags(Path(path), tags)
    else:
        _write_audio_tags(Path(path), tags)


def read_tags(path: str | os.PathLike) -> dict[str, str]:
    """The tags a MIDI, WAV or FLAC file holds, as {name: text}.

    Names are those of `Tags` for MIDI, and libsndfile's (`title`, `comment`, `license`, ...) for
    audio, where libsndfile may add its own version to `software`.
    """
    kind = _kind(path)
    if kind == "MIDI":
        return _read_midi_tags(Path(path))
    if kind == "MusicXML":
        return _read_musicxml_tags(Path(path))
    audio_info(path)
    with sf.SoundFile(str(path)) as f:
        return f.copy_metadata()


def _kind(path: str | os.PathLike) -> str:
    check_inputs([path])
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return "MIDI"
    if suffix in AUDIO_SUFFIXES:
        return AUDIO_SUFFIXES[suffix]
    if suffix in MUSICXML_SUFFIXES:
        return "MusicXML"
    raise InputFileError(
        f"Cannot tag {str(path)!r}: bandmate writes tags into .mid, .wav, .flac and MusicXML files."
    )


# --- audio ---------------------------------------------------------------------------------------
def audio_fields(tags: Tags, fmt: str) -> dict[str, str]:
    """libsndfile's string fields for `tags`; what a format cannot hold goes into the comment."""
    comment = [tags.comment] if tags.comment else []
    if tags.source_type:
        comment.append(f"digital source type: {tags.source_type}")
    out = {
        "title": tags.title,
        "artist": tags.artist,
        "copyright": tags.copyright,
        "date": tags.date,
        "software": tags.software,
    }
    if fmt == "FLAC":
        out["license"] = tags.licence
    elif tags.licence:
        comment.append(f"licence: {tags.licence}")
    out["comment"] = "\n".join(comment)
    return {name: text for name, text in out.items() if text}


def _copy_dtype(subtype: str) -> str:
    """The dtype that copies samples of `subtype` exactly: integers for PCM, floats for float."""
    if subtype == "DOUBLE":
        return "float64"
    if subtype == "FLOAT":
        return "float32"
    return "int32"  # libsndfile scales 8, 16 and 24-bit PCM to int32 and back without loss


def _write_audio_tags(path: Path, tags: Tags) -> None:
    info = audio_info(path)
    dtype = _copy_dtype(info.subtype)
    try:
        with (
            sf.SoundFile(str(path)) as src,
            atomic_path(path) as tmp,
            sf.SoundFile(
                str(tmp),
                "w",
                samplerate=info.samplerate,
                channels=info.channels,
                subtype=info.subtype,
                endian=info.endian,
                format=info.format,
            ) as dst,
        ):
            # libsndfile wants the strings before the first sample
            for name, text in audio_fields(tags, info.format).items():
                setattr(dst, name, text)
            for block in src.blocks(blocksize=_BLOCK_FRAMES, dtype=dtype, always_2d=True):
                dst.write(block)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise InputFileError(f"{str(path)!r} could not be tagged ({e}).") from None


# --- MIDI ----------------------------------------------------------------------------------------
def _load_midi(path: Path) -> mido.MidiFile:
    try:
        return mido.MidiFile(file=_io.BytesIO(path.read_bytes()), clip=True)
    except Exception as e:  # mido raises many kinds on malformed data; all mean a bad file
        raise InputFileError(f"{str(path)!r} is not a readable MIDI file ({e}).") from None


def _at_tick_zero(track: mido.MidiTrack) -> int:
    """How many events at the start of `track` sound at tick 0."""
    for i, msg in enumerate(track):
        if msg.time:
            return i
    return len(track)


def _is_tag(msg: mido.Message) -> bool:
    if msg.type == "copyright":
        return True
    return msg.type == "text" and msg.text.split(":", 1)[0] in _MIDI_TEXT_KEYS


def _write_midi_tags(path: Path, tags: Tags) -> None:
    midi = _load_midi(path)
    if not midi.tracks:
        midi.tracks.append(mido.MidiTrack())
    first = midi.tracks[0]
    n0 = _at_tick_zero(first)
    # old tags sit at tick 0, where removing an event shifts nothing after it
    kept = [msg for msg in first[:n0] if not _is_tag(msg)]
    new = []
    if tags.copyright:
        new.append(mido.MetaMessage("copyright", text=midi_text(tags.copyright), time=0))
    values = dict(tags.items())
    for key in _MIDI_TEXT_KEYS:
        if key in values:
            new.append(mido.MetaMessage("text", text=midi_text(f"{key}: {values[key]}"), time=0))
    # a track name stays first: programs show the first track's name as the title
    names = [m for m in kept if m.type == "track_name"]
    rest = [m for m in kept if m.type != "track_name"]
    first[:] = names + new + rest + list(first[n0:])
    buffer = _io.BytesIO()
    midi.save(file=buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _read_midi_tags(path: Path) -> dict[str, str]:
    midi = _load_midi(path)
    if not midi.tracks:
        return {}
    first = midi.tracks[0]
    out = {}
    for msg in first[: _at_tick_zero(first)]:
        if msg.type == "copyright":
            out["copyright"] = midi_text_read(msg.text)
        elif _is_tag(msg):
            key, value = midi_text_read(msg.text).split(":", 1)
            out[key] = value.strip()
    return out


# --- MusicXML ------------------------------------------------------------------------------------
def _xml_parts(data: bytes) -> tuple[bytes, ET.Element]:
    """(the text before the root element: declaration and DOCTYPE, the parsed root)."""
    start = data.find(b"<score-")
    if start < 0:
        raise ValueError("no score-partwise or score-timewise element")
    return data[:start], ET.fromstring(data)


def _set_title(root: ET.Element, title: str, old: str) -> None:
    """Put `title` in the score's work and movement titles when it has none of its own.

    A title equal to `old` (the title tag written before) is bandmate's, and is replaced.
    """
    work = root.find("work")
    work_title = work.find("work-title") if work is not None else None
    movement_title = root.find("movement-title")
    present = [e for e in (work_title, movement_title) if e is not None]
    if any((e.text or "").strip() not in ("", old) for e in present):
        return  # the score's own title
    if movement_title is None and title:  # it follows work and movement-number
        movement_title = ET.Element("movement-title")
        root.insert(sum(1 for c in root if c.tag in ("work", "movement-number")), movement_title)
    for element in (work_title, movement_title):
        if element is not None:
            element.text = title or None


def _tagged_xml(data: bytes, tags: Tags) -> bytes:
    head, root = _xml_parts(data)
    _set_title(root, tags.title, bandmate_title(root) or "")
    ident = root.find("identification")
    if ident is None:  # it follows work, movement-number and movement-title
        ident = ET.Element("identification")
        before = sum(1 for c in root if c.tag in ("work", "movement-number", "movement-title"))
        root.insert(before, ident)
    for old in ident.findall("rights"):
        ident.remove(old)
    if tags.copyright:  # rights follow the creators
        rights = ET.Element("rights")
        rights.text = tags.copyright
        ident.insert(sum(1 for c in ident if c.tag == "creator"), rights)
    encoding = ident.find("encoding")
    if encoding is None:
        encoding = ET.Element("encoding")
        ident.insert(sum(1 for c in ident if c.tag in ("creator", "rights")), encoding)
    for old in encoding.findall("software"):
        if (old.text or "").startswith("bandmate"):
            encoding.remove(old)
    if tags.software:
        software = ET.Element("software")
        software.text = tags.software
        encoding.insert(0, software)
    misc = ident.find("miscellaneous")
    if misc is None:
        misc = ET.SubElement(ident, "miscellaneous")  # the last child of identification
    for old in misc.findall("miscellaneous-field"):
        if old.get("name", "").startswith(_XML_FIELD):
            misc.remove(old)
    for name, text in tags.items():
        if name not in ("copyright", "software"):
            ET.SubElement(misc, "miscellaneous-field", name=_XML_FIELD + name).text = text
    if not len(misc):
        ident.remove(misc)
    ET.indent(root, space="  ")
    return head + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def _mxl_rootfile(archive: zipfile.ZipFile) -> str:
    container = ET.fromstring(archive.read("META-INF/container.xml"))
    return container.find("./rootfiles/rootfile").get("full-path")


def _write_musicxml_tags(path: Path, tags: Tags) -> None:
    try:
        if path.suffix.lower() != ".mxl":
            data = _tagged_xml(path.read_bytes(), tags)
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
            return
        with zipfile.ZipFile(path) as src:
            rootfile = _mxl_rootfile(src)
            members = [(info, src.read(info)) for info in src.infolist()]
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as dst:
            for info, data in members:  # `mimetype` stays first and stored, as the format asks
                if info.filename == rootfile:
                    data = _tagged_xml(data, tags)
                dst.writestr(info, data)
    except (ET.ParseError, ValueError, KeyError, AttributeError, zipfile.BadZipFile) as e:
        raise InputFileError(f"{str(path)!r} is not a readable MusicXML file ({e}).") from None


def _read_musicxml_tags(path: Path) -> dict[str, str]:
    try:
        if path.suffix.lower() == ".mxl":
            with zipfile.ZipFile(path) as archive:
                data = archive.read(_mxl_rootfile(archive))
        else:
            data = path.read_bytes()
        _, root = _xml_parts(data)
    except (ET.ParseError, ValueError, KeyError, AttributeError, zipfile.BadZipFile) as e:
        raise InputFileError(f"{str(path)!r} is not a readable MusicXML file ({e}).") from None
    out = {}
    ident = root.find("identification")
    if ident is None:
        return out
    if (rights := ident.find("rights")) is not None and rights.text:
        out["copyright"] = rights.text
    for software in ident.findall("encoding/software"):
        if (software.text or "").startswith("bandmate"):
            out["software"] = software.text
    for field in ident.findall("miscellaneous/miscellaneous-field"):
        name = field.get("name", "")
        if name.startswith(_XML_FIELD):
            out[name.removeprefix(_XML_FIELD)] = field.text or ""
    return out
