"""Uploaded files: streamed to disk under a size limit, accepted only when suffix and content agree.

An upload is kept as `DATA_DIR/uploads/<id>/input.<suffix>` with a `meta.json` beside it; `<id>`
is a fresh uuid4 hex and the suffix is bandmate's own for the detected type, so the name the
client sent is never part of a path. It is kept in `meta.json` only, to show to the user and, as
a short slug of letters and digits, to name a stem for the mixer (which reads roles from names).

The multipart body is parsed as it arrives (python-multipart's streaming parser) with a running
count of bytes, so an oversized upload is refused after `max_bytes`, not after it has been
spooled to disk or memory in full.

When the studio starts, and then periodically while it runs (`bandmate.web.app`), uploads unused
for `max_age_days` are removed, but never one that a queued or running job still needs: a job
waits in the queue across restarts, and its input must wait with it. Submitting a job counts as a
use.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from urllib.parse import unquote_to_bytes

from bandmate.errors import UserError

# type -> (suffixes accepted, the suffix it is stored under)
TYPES = {
    "wav": ((".wav", ".wave"), ".wav"),
    "flac": ((".flac",), ".flac"),
    "midi": ((".mid", ".midi"), ".mid"),
    "musicxml": ((".musicxml", ".xml"), ".musicxml"),
    "mxl": ((".mxl",), ".mxl"),  # compressed MusicXML, as MuseScore and Finale export it
    "abc": ((".abc",), ".abc"),
    "mp3": ((".mp3",), ".mp3"),
    "ogg": ((".ogg", ".oga", ".opus"), ".ogg"),  # Vorbis or Opus
}
AUDIO_TYPES = ("wav", "flac", "mp3", "ogg")  # a mix to master and its reference, as `master` reads
STEM_TYPES = AUDIO_TYPES  # stems, as `bandmate mix` takes a folder's
SCORE_TYPES = ("midi", "musicxml", "mxl", "abc")  # as `bandmate harmonize` and `continue` read
# an ABC tune's header: its reference number or its key (the one field every tune has)
_ABC_FIELD = re.compile(rb"^[XK]:", re.MULTILINE)
SNIFF_BYTES = 4096
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


class UploadMissing(UserError):
    """An upload id with no upload behind it (never made, or removed by its age)."""


class UploadRejected(UserError):
    """An upload refused; `status_code` is the HTTP status to answer with (413, 415 or 400)."""

    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.status_code = status_code


def sniff(head: bytes) -> str | None:
    """The type of a file from its first bytes: wav, flac, mp3, ogg, midi, musicxml, mxl, abc or
    None."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    # an ID3 tag, or straight away an MPEG audio frame: 11 sync bits, layer III
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "mp3"
    if head[:4] == b"MThd":
        return "midi"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<") and (b"<score-partwise" in head or b"<score-timewise" in head):
        return "musicxml"
    if head[:4] == b"PK\x03\x04" and (b"META-INF/container.xml" in head or b"musicxml" in head):
        return "mxl"  # a zip whose first entries are a MusicXML container's
    if b"\x00" not in head and _ABC_FIELD.search(text):
        return "abc"
    return None


def suffix_of(filename: str) -> str:
    """The extension of a file's name, lowercase with its dot ('' for none). Unlike
    `Path.suffix`, a name that is only an extension ('.wav') has one."""
    name = re.split(r"[/\\]", filename)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


def type_of_suffix(filename: str) -> str | None:
    suffix = suffix_of(filename)
    return next((kind for kind, (suffixes, _) in TYPES.items() if suffix in suffixes), None)


# RFC 5987's `filename*=charset'language'percent-encoded`, as urllib3 < 2 sends a name that is
# not ASCII; python-multipart's option parser drops it
_EXTENDED_FILENAME = re.compile(rb"filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;\s]*)", re.I)


def filename_of(disposition: bytes, options: dict[bytes, bytes]) -> str:
    """The file name a multipart part's Content-Disposition gives ('' for none)."""
    found = _EXTENDED_FILENAME.search(disposition)
    if found:
        charset = found[1].decode("ascii") or "utf-8"
        try:
            return unquote_to_bytes(found[2].decode("ascii")).decode(charset, "replace")
        except LookupError:  # a charset Python does not know
            return unquote_to_bytes(found[2].decode("ascii")).decode("utf-8", "replace")
    return options.get(b"filename", b"").decode("utf-8", "replace")


def slug(name: str, default: str = "file") -> str:
    """A short name of lowercase letters, digits and dashes from `name`'s stem (safe in paths)."""
    text = re.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")[:40]
    return text or default


class UploadStore:
    """The uploads under `DATA_DIR/uploads/`."""

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir).resolve() / "uploads"
        self.root.mkdir(parents=True, exist_ok=True)

    def receiver(self, content_type: str, max_bytes: int) -> UploadReceiver:
        return UploadReceiver(self, content_type, max_bytes)

    def meta(self, upload_id: str) -> dict:
        """The record of an upload; UploadMissing (HTTP 422) when there is no such upload."""
        folder = self.root / upload_id
        if not ID_PATTERN.fullmatch(upload_id) or not (folder / "meta.json").is_file():
            raise UploadMissing(
                f"There is no upload {upload_id!r}; upload the file first (POST /api/uploads) "
                "and use the id it returns."
            )
        return json.loads((folder / "meta.json").read_text())

    def path(self, upload_id: str, types: tuple[str, ...]) -> Path:
        """The stored file of an upload of one of `types`, else a UserError saying why."""
        meta = self.meta(upload_id)
        if meta["type"] not in types:  # named as the user named it, not by its id
            given = Path(meta["name"]).name
            what = repr(given) if given else f"The upload {upload_id}"
            wanted = " or ".join([", ".join(types[:-1]), types[-1]] if len(types) > 2 else types)
            article = "an" if meta["type"] in ("mp3", "mxl", "abc", "ogg") else "a"  # as said
            raise UserError(f"{what} is {article} {meta['type']} file; this needs {wanted}.")
        return self.root / upload_id / meta["stored"]

    def touch(self, upload_id: str) -> None:
        """Mark an upload as used now: its age (for `clean_up`) counts from its last use."""
        with contextlib.suppress(OSError):
            os.utime(self.root / upload_id)

    def clean_up(
        self, max_age_days: float, now: float | None = None, keep: Collection[str] = ()
    ) -> int:
        """Remove uploads (and abandoned partial ones) unused for over `max_age_days`, except
        those in `keep`: the ones a queued or running job still needs."""
        now = time.time() if now is None else now
        removed = 0
        for folder in self.root.iterdir():
            if folder.name in keep:
                continue
            if folder.is_dir() and now - folder.stat().st_mtime > max_age_days * 86400:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


class UploadReceiver:
    """Feeds a multipart body, chunk by chunk, into a new upload; `finish()` returns its id."""

    def __init__(self, store: UploadStore, content_type: str, max_bytes: int):
        from python_multipart.multipart import MultipartParser, parse_options_header

        mime, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary")
        if mime != b"multipart/form-data" or not boundary:
            raise UploadRejected(
                "Send the file as multipart/form-data in a field named 'file'.", 400
            )
        self.store = store
        self.max_bytes = max_bytes
        self.id = uuid.uuid4().hex
        self.incoming = store.root / f".incoming-{self.id}"
        # parents: an uploads folder removed under the running studio (a clean-up by hand) is
        # made again, not a 500 for every upload from then on
        self.incoming.mkdir(parents=True)
        self.data_path = self.incoming / "data"
        self._file = None
        self._size = 0
        self._head = b""
        self._filename: str | None = None
        self._found = False
        self._header = [b"", b""]
        self._headers: dict[bytes, bytes] = {}
        self._in_file_part = False
        self._parse_options = parse_options_header
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": lambda d, s, e: self._add_header(0, d[s:e]),
                "on_header_value": lambda d, s, e: self._add_header(1, d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._header = [b"", b""]
        self._in_file_part = False

    def _add_header(self, i: int, data: bytes) -> None:
        self._header[i] += data

    def _header_end(self) -> None:
        self._headers[self._header[0].strip().lower()] = self._header[1].strip()
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, options = self._parse_options(disposition)
        if options.get(b"name") == b"file" and not self._found:
            self._found = self._in_file_part = True
            self._filename = filename_of(disposition, options)
            self._file = open(self.data_path, "wb")  # noqa: SIM115 (closed in _part_end/abort)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file_part:
            return
        chunk = data[start:end]
        self._size += len(chunk)
        if self._size > self.max_bytes:
            raise UploadRejected(
                f"The file is larger than this server's limit of "
                f"{self.max_bytes / 2**20:g} MB; send a smaller file.",
                413,
            )
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
        self._file.write(chunk)

    def _part_end(self) -> None:
        if self._in_file_part:
            self._file.close()
            self._in_file_part = False

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except UploadRejected:
            self.abort()
            raise
        except OSError:  # the disk, not the form: a full disk read as "not valid multipart"
            self.abort()
            raise
        except Exception:
            self.abort()
            raise UploadRejected("The upload is not valid multipart/form-data.", 400) from None

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
        shutil.rmtree(self.incoming, ignore_errors=True)

    def _unaccepted_name(self, accepted: str) -> str:
        given = self._filename or ""
        if not given.strip():
            return (
                "The file came without its name; send it with its name, ending in one of "
                f"{accepted}."
            )
        suffix = suffix_of(given)
        if not suffix:
            name = re.split(r"[/\\]", given)[-1][:80]
            return (
                f"The file {name!r} has no extension; upload a file whose name ends in one "
                f"of {accepted}."
            )
        return f"Files ending in {suffix[:20]!r} are not accepted; upload one of {accepted}."

    def finish(self) -> str:
        """Check what arrived and keep it; returns the upload's id."""
        try:
            self._parser.finalize()
            if not self._found or self._in_file_part:
                raise UploadRejected("Send the file in a multipart form field named 'file'.", 400)
            if self._size == 0:
                raise UploadRejected("The uploaded file is empty.", 400)
            by_suffix = type_of_suffix(self._filename or "")
            by_content = sniff(self._head)
            accepted = ", ".join(s for suffixes, _ in TYPES.values() for s in suffixes)
            if by_suffix is None:
                raise UploadRejected(self._unaccepted_name(accepted), 415)
            if by_content != by_suffix:
                found = f"a {by_content} file" if by_content else "not a file bandmate reads"
                raise UploadRejected(
                    f"The file is named as {by_suffix} but its content is {found}; upload a "
                    f"real {by_suffix} file.",
                    415,
                )
            stored = "input" + TYPES[by_suffix][1]
            self.data_path.rename(self.incoming / stored)
            meta = {
                "id": self.id,
                "type": by_suffix,
                "name": (self._filename or "")[:200],
                "stored": stored,
                "bytes": self._size,
                "created": time.time(),
            }
            (self.incoming / "meta.json").write_text(json.dumps(meta))
            self.incoming.rename(self.store.root / self.id)
            return self.id
        except BaseException:
            self.abort()
            raise
