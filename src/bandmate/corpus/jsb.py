"""The JSB Chorales: 382 four-part Bach chorales on a 16th-note grid, in the standard split.

The data ship inside bandmate (`bandmate/data/jsb/`, with its ABOUT.md and attribution): the copy
of czhuang/JSB-Chorales-dataset's `Jsb16thSeparated.json` that Coconet published, unchanged. A
chorale is a list of steps, one per 16th note; a step is four MIDI pitches (soprano, alto, tenor,
bass), -1 where that voice is silent. Held and repeated notes are not told apart.

Rules for comparable results (ABOUT.md): train on `train`, choose on `valid`, report `test` once;
transposition may augment training data, never evaluation data.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from pathlib import Path

from bandmate.errors import UserError

JSB_SPLITS = ("train", "valid", "test")
JSB_PACKAGE = "bandmate.data.jsb"
JSB_FILE = "Jsb16thSeparated.json"

Step = tuple[int, int, int, int]
Chorale = list[Step]


def jsb_path() -> Path:
    """Where the packaged JSON file lies (bandmate is installed as files, not as a zip)."""
    return Path(str(resources.files(JSB_PACKAGE) / JSB_FILE))


@functools.cache
def _load_all() -> dict[str, tuple[tuple[Step, ...], ...]]:
    data = json.loads(jsb_path().read_text(encoding="utf-8"))
    return {
        split: tuple(
            tuple(tuple(int(p) for p in step) for step in chorale) for chorale in data[split]
        )
        for split in JSB_SPLITS
    }


def load_jsb(split: str) -> list[Chorale]:
    """The chorales of `split` ("train", "valid" or "test"), each a list of SATB steps.

    Pitches are exactly as in the file (MIDI numbers, -1 = silent). The file is read once per
    process; each call returns new lists, so callers may change what they get.
    """
    if split not in JSB_SPLITS:
        raise UserError(f"Unknown JSB split {split!r}; choose one of {', '.join(JSB_SPLITS)}.")
    return [list(chorale) for chorale in _load_all()[split]]


def chorale_hash(chorale) -> str:
    """The sha256 (hex) of a chorale's canonical JSON: `[[s,a,t,b],...]`, no spaces.

    Steps may be tuples, lists or NumPy rows; the hash depends only on the pitches, so it names a
    chorale the same way in the corpus ledger, in checkpoints and in reports.
    """
    steps = [[int(p) for p in step] for step in chorale]
    text = json.dumps(steps, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
