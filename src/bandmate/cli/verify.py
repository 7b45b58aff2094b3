"""`bandmate verify`: check the content credentials of a WAV or FLAC file, offline."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check a file's content credentials (exit 0 valid, 1 missing or invalid)",
        description="Check the C2PA content credentials of a WAV or FLAC file: that the "
        "signature holds, that no byte of the file changed since it was signed, and that the "
        "signing certificate comes from this machine's bandmate key (or a root given with "
        "--trust). Prints one line; exit code 0 when valid, 1 when there are no credentials or "
        "they fail (with the reason), 2 for bad input. Works offline.",
    )
    p.add_argument("file", help="the WAV or FLAC file to check")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="ROOT_PEM",
        help="also trust this root certificate (another machine's keys/root.pem); repeatable",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the result and the active manifest as JSON instead of one line",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.rights.credentials import verify_file

    result = verify_file(args.file, trust=args.trust)
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "file": str(args.file),
                    "ok": result.ok,
                    "reason": result.reason,
                    "state": result.state,
                    "signer": result.signer,
                    "manifest": result.manifest,
                },
                indent=2,
            )
        )
    else:
        print(f"{args.file}: {result.reason}")
    return 0 if result.ok else 1
