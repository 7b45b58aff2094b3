"""What every command that generates with a trained model shares: its rights arguments, the
parameters its provenance manifest records, and the line it prints when a piece is flagged.

Not a command itself (it is not in `COMMANDS`).
"""

from __future__ import annotations


def add_rights_arguments(p) -> None:
    """--commercial and --tries, shared by every command that generates with a trained model."""
    from bandmate.jobs.compose import DEFAULT_TRIES

    p.add_argument(
        "--commercial",
        action="store_true",
        help="refuse models trained on data not cleared for commercial use",
    )
    p.add_argument(
        "--tries",
        type=int,
        default=DEFAULT_TRIES,
        help="attempts when the originality check flags a result as copying its training data "
        f"(default {DEFAULT_TRIES}); the last attempt is written with the flag",
    )


def job_options(args) -> dict:
    """The options every generation job takes from the command line as it is: the model, the
    rights arguments, --force and the parameters the manifest records."""
    return {
        "model": args.model,
        "commercial": args.commercial,
        "tries": args.tries,
        "force": args.force,
        "parameters": parameters_of(args),
    }


def parameters_of(args) -> dict:
    """The command's arguments as the provenance manifest records them."""
    return {k: v for k, v in vars(args).items() if k not in ("run", "force") and not callable(v)}


def report_originality(written) -> None:
    """One line on stderr when the written piece still copies its training data."""
    import sys

    if written.warning:
        print(f"warning: {written.warning}", file=sys.stderr)
    if written.flagged:
        match = written.originality.get("longest_match") or {}
        source = match.get("source") or {}
        print(
            f"warning: flagged by the originality check after {written.attempts} attempts: it "
            f"shares {match.get('notes', '?')} notes with {source.get('reference', '?')} "
            f"({source.get('collection', '?')}); the match is in {written.manifest.name}.",
            file=sys.stderr,
        )
