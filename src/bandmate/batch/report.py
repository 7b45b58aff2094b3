"""The batch report, `OUT_DIR/batch-report.json`: what each item of a batch came to.

    {"format": "bandmate-batch/1", "kind": "master", "updated": "...",
     "counts": {"done": 198, "failed": 2, "pending": 0},
     "items": {"album/01.wav": {"status": "done", "input_sha256": "...", "settings": {...},
                                "seed": 123, "outputs": ["album/01.wav"], "seconds": 0.41},
               "album/02.wav": {"status": "failed", ..., "error": "AudioFormatError: ..."}}}

An item is "pending" from the moment the batch plans it until it finishes, then "done" or
"failed". The report is the batch's memory: an item whose entry says done, for the same input
bytes and settings, with its outputs still there, is not done again. It is written atomically,
by the driver alone, so a crash leaves the last good version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bandmate.errors import UserError
from bandmate.io.files import write_text_atomic

REPORT_FILE = "batch-report.json"
FORMAT = "bandmate-batch/1"
STATUSES = ("done", "failed", "pending")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class BatchReport:
    path: Path
    kind: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, out_dir: str | Path, kind: str) -> BatchReport:
        """The report in `out_dir`, or an empty one; refuses a report of another kind of batch."""
        path = Path(out_dir) / REPORT_FILE
        if not path.exists():
            return cls(path, kind)
        try:
            # utf-8-sig: a report edited in an editor that saves a byte-order mark (Notepad)
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            items = dict(data["items"])
            found = data["kind"]
            for name, entry in items.items():  # an entry edited by hand or cut short
                if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
                    raise ValueError(f"item {name!r} has no status")
                outputs = entry.get("outputs", [])
                if not isinstance(outputs, list) or not all(isinstance(p, str) for p in outputs):
                    raise ValueError(f"the outputs of item {name!r} are not a list of paths")
        except IsADirectoryError as e:
            raise UserError(
                f"{str(path)!r} is a folder, not a batch report; move it away or choose another "
                "output folder."
            ) from e
        except (ValueError, KeyError, TypeError) as e:
            raise UserError(
                f"{str(path)!r} is not a batch report ({e}); move it away or choose another folder."
            ) from e
        if found != kind:
            raise UserError(
                f"{str(path.parent)!r} holds a {found} batch; give the {kind} batch its own folder."
            )
        return cls(path, kind, items)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for entry in self.items.values():
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        return counts

    def save(self) -> None:
        data = {
            "format": FORMAT,
            "kind": self.kind,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": self.counts(),
            "items": self.items,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        # a file name that is not UTF-8 (Python holds its bytes as lone surrogates) is written as
        # JSON's \\u escape: the report stays UTF-8, and reads back as the same name
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
        write_text_atomic(self.path, text)
