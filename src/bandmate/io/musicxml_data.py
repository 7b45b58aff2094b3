"""The MusicXML inside a file, in the form music21 reads: uncompressed and partwise.

music21 reads a compressed file only when its name ends in `.mxl`, and refuses a timewise score
(`<score-timewise>`: measures that hold parts, the other layout the MusicXML standard defines).
A compressed file saved as `.musicxml` or `.xml` and a timewise score are common enough (some
exporters write them), so `partwise_musicxml` unpacks the one and turns the other into the
partwise layout, as the standard's own XSLT does: each part's measures, in order.
"""

from __future__ import annotations

import io as _io
import posixpath
import zipfile
from xml.etree import ElementTree as ET

from bandmate.errors import InputFileError

ZIP_MAGIC = b"PK\x03\x04"
# the prefix of the names of the miscellaneous fields that bandmate's tags write
# (`rights.tags`): "bandmate:title", "bandmate:comment"...
BANDMATE_FIELD = "bandmate:"


def is_compressed(data: bytes) -> bool:
    return data[:4] == ZIP_MAGIC


def unpacked(data: bytes, name: str) -> bytes:
    """The score document of a compressed MusicXML file (the root file its container names,
    else its one MusicXML file outside META-INF)."""
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as archive:
            names = archive.namelist()
            root = None
            if "META-INF/container.xml" in names:
                container = ET.fromstring(archive.read("META-INF/container.xml"))
                found = container.find(".//{*}rootfile")
                root = found.get("full-path") if found is not None else None
            if root not in names:
                candidates = [
                    n
                    for n in names
                    if not n.startswith("META-INF/")
                    and posixpath.splitext(n)[1].lower() in (".xml", ".musicxml")
                ]
                root = candidates[0] if candidates else None
            if root is None:
                raise InputFileError(
                    f"{name!r} is a zip file with no MusicXML score in it; give a .musicxml "
                    "or .mxl file."
                )
            return archive.read(root)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, EOFError) as e:
        raise InputFileError(f"{name!r} is a damaged compressed MusicXML file ({e}).") from None


def is_timewise(xml: bytes) -> bool:
    return b"<score-timewise" in xml[:4096]


def partwise(xml: bytes, name: str) -> bytes:
    """A `<score-timewise>` document as the same score in `<score-partwise>` form."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise InputFileError(f"{name!r} is not a readable MusicXML file ({e}).") from None
    out = ET.Element("score-partwise", root.attrib)
    parts: dict[str, ET.Element] = {}
    for child in root:
        if child.tag != "measure":
            out.append(child)  # work, identification, defaults, credits, part-list
            continue
        for part in child.findall("part"):
            part_id = part.get("id", "")
            if part_id not in parts:
                parts[part_id] = ET.SubElement(out, "part", {"id": part_id})
            measure = ET.SubElement(parts[part_id], "measure", child.attrib)
            measure.extend(list(part))
    return ET.tostring(out, encoding="utf-8", xml_declaration=True)


def bandmate_title(root: ET.Element) -> str | None:
    """The title that bandmate's tags wrote into a score document (its "bandmate:title"
    miscellaneous field), or None: the label of a file bandmate made ("bandmate melody"),
    which `rights.tags` also puts in the work title of a score that has none of its own."""
    field = root.find(
        f"identification/miscellaneous/miscellaneous-field[@name='{BANDMATE_FIELD}title']"
    )
    return ((field.text or "").strip() or None) if field is not None else None
