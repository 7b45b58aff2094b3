"""`bandmate corpus`: the training data bandmate knows about, and adding a folder of one's own.

    bandmate corpus add DIR --name NAME --licence TEXT
    bandmate corpus list [--collection C] [--split S] [--limit N]
    bandmate corpus stats

The ledger lives at `$BANDMATE_HOME/ledger.sqlite` (default `~/.local/share/bandmate/`).
"""

from __future__ import annotations

import sys
import textwrap

LIST_LIMIT = 50  # items `corpus list` shows unless told otherwise


def add_parser(sub) -> None:
    p = sub.add_parser(
        "corpus",
        help="the music bandmate learns from: list it, count it, add your own folder",
        description="The ledger of training data: the collections bandmate ships (music21's "
        "corpus, the JSB Chorales, bandmate's styles) and folders you add, with every item's "
        "hash, licence and split.",
    )
    p.set_defaults(run=run)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="record a folder of your own MIDI, MusicXML and ABC files",
        description="Record every MIDI, MusicXML and ABC file under DIR (recursively) as a "
        "collection. Files are only read, never changed; files that cannot be read are listed "
        "and skipped. Adding the same folder again records only new files.",
    )
    add.add_argument("folder", metavar="DIR", help="the folder of music files")
    add.add_argument("--name", required=True, help="the collection's name, e.g. my-tunes")
    add.add_argument(
        "--licence",
        "--license",
        dest="licence",
        required=True,
        metavar="TEXT",
        help="the music's licence, e.g. 'own work', 'public domain', 'CC BY 4.0', "
        "'CC BY-NC 4.0'; only own work, public domain, CC0, CC BY and CC BY-SA are cleared "
        "for commercial use",
    )

    ls = actions.add_parser("list", help="list recorded items, a line each")
    ls.add_argument("--collection", metavar="C", help="only this collection")
    ls.add_argument("--split", choices=("train", "valid", "test"), help="only this split")
    ls.add_argument(
        "--limit",
        type=int,
        default=LIST_LIMIT,
        metavar="N",
        help=f"show at most N items (default {LIST_LIMIT}; 0 shows all)",
    )

    actions.add_parser("stats", help="count the items of every collection, with their licences")


def run(args) -> int:
    from bandmate.corpus.ledger import Ledger
    from bandmate.errors import UserError

    ledger = Ledger()
    if args.action == "add":
        return _add(ledger, args)
    if args.action == "list":
        return _list(ledger, args)
    if args.action == "stats":
        return _stats(ledger)
    raise UserError("Give a corpus action: add, list or stats (see bandmate corpus --help).")


def _add(ledger, args) -> int:
    from bandmate.corpus.ledger import shown_name
    from bandmate.progress import progress_bar

    with progress_bar("Reading music files") as progress:
        report = ledger.add_folder(args.folder, args.name, args.licence, progress=progress)
    ok = len(report.added_ok)
    cleared = "cleared" if report.commercial else "NOT cleared"
    problems = [(e.reference, e.reason) for e in report.unreadable] + list(report.unopened)
    print(
        f"Collection {report.collection!r} ({report.folder}): {ok} new "
        f"{_plural(ok, 'item')}, {len(report.already_recorded)} already recorded; skipped "
        f"{len(report.duplicates)} duplicate and {len(problems)} unreadable "
        f"{_plural(len(problems), 'file')}."
    )
    print(
        f"Licence {report.licence!r}: class {report.licence_class}, {cleared} for commercial use."
    )
    if problems:
        print(
            f"bandmate corpus add: warning: skipped {len(problems)} "
            f"{_plural(len(problems), 'file')} that could not be read:",
            file=sys.stderr,
        )
        for reference, reason in problems:
            named = reason.startswith((repr(reference), shown_name(reference)))
            line = reason if named else f"{shown_name(reference)}: {reason}"
            print(f"  {line}", file=sys.stderr)
    if report.duplicate_reasons:
        count = len(report.duplicate_reasons)
        print(
            f"bandmate corpus add: skipped {count} {_plural(count, 'file')} that "
            f"{'repeats another' if count == 1 else 'repeat others'}:",
            file=sys.stderr,
        )
        for _, reason in report.duplicate_reasons:
            print(f"  {reason}", file=sys.stderr)
    return 0


def _list(ledger, args) -> int:
    from bandmate.errors import UserError

    if args.limit < 0:
        raise UserError(f"--limit must be 0 (all) or a positive number, not {args.limit}.")
    collections = [args.collection] if args.collection else None
    _record_builtins(ledger, collections)
    names = collections or _available(ledger)
    entries = ledger.items(names, split=args.split, include_unreadable=True)
    if not entries:
        print("No items recorded" + (f" in {args.collection!r}" if args.collection else "") + ".")
        return 0
    shown = entries[: args.limit] if args.limit else entries
    rows = [
        (e.item_id, e.split, e.licence_class, _yes(e.commercial), e.status, e.reference)
        for e in shown
    ]
    print(_table(("ID", "SPLIT", "LICENCE", "COMMERCIAL", "STATUS", "REFERENCE"), rows))
    if len(shown) < len(entries):
        print(
            f"({len(shown)} of {len(entries)} items shown; use --limit 0 to list them all)",
            file=sys.stderr,
        )
    return 0


def _stats(ledger) -> int:
    _record_builtins(ledger, None)
    summaries = ledger.summary(_available(ledger))
    headers = ("COLLECTION", "ITEMS", "OK", "UNREADABLE", "TRAIN", "VALID", "TEST", "LICENCE",
               "COMMERCIAL")  # fmt: skip
    rows = [
        (s.name + ("" if s.complete else " (partial)"), s.items, s.ok, s.unreadable,
         s.splits["train"], s.splits["valid"], s.splits["test"], s.licence_class,
         _yes(s.commercial))
        for s in summaries
    ]  # fmt: skip
    totals = [sum(s.items for s in summaries), sum(s.ok for s in summaries)]
    totals += [sum(s.unreadable for s in summaries)]
    totals += [sum(s.splits[k] for s in summaries) for k in ("train", "valid", "test")]
    rows.append(("total", *totals, "", ""))
    print(_table(headers, rows))
    print("\nSources and licences:")
    for s in summaries:
        print(f"  {s.name}: {s.source}")
        print(textwrap.fill(s.licence, 96, initial_indent=" " * 4, subsequent_indent=" " * 4))
    return 0


def _record_builtins(ledger, names) -> None:
    """Record the built-in collections that `names` needs (None: all) and are not yet recorded.

    A collection that cannot be recorded (its data is not installed) is a warning here, so that
    the others can still be listed.
    """
    from bandmate.corpus.sources import CorpusError

    for name in ledger.unrecorded_builtins():
        if names is not None and name not in names:
            continue
        print(f"Recording the built-in collection {name!r} (first use)...", file=sys.stderr)
        try:
            ledger.register_builtin(name)
        except CorpusError as e:
            if names is not None:
                raise
            print(f"bandmate corpus: warning: skipped {name!r}: {e}", file=sys.stderr)


def _available(ledger) -> list[str]:
    """Every collection that is recorded (a built-in one that could not be is left out)."""
    missing = set(ledger.unrecorded_builtins())
    return [n for n in ledger.collection_names() if n not in missing]


def _table(headers, rows) -> str:
    """A plain-text table: columns as wide as their widest cell, numbers aligned right."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        any(isinstance(r[i], int) for r in rows)
        and all(isinstance(r[i], int) or r[i] == "" for r in rows)
        for i in range(len(headers))
    ]
    lines = []
    for row in cells:
        parts = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
