"""`bandmate verify`: check the content credentials of a WAV or FLAC file, offline."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check a file's content credentials (exit 0 valid, 1 missing or invalid)",
        description="Check the C2PA content credentials of a WAV or FLAC file: that the "
        "signature holds, that no byte of the file changed since it was signed, and that the "
        "signing certificate comes from this machine's bandmate key (or a root given with "
        "--trust); and that the provenance manifest beside it (FILE.provenance.json), if any, "
        "still names the file's bytes and says what the credentials signed. A MIDI or "
        "MusicXML file cannot carry credentials: its manifest is checked. Prints one line; "
        "exit code 0 when valid, 1 when there are no credentials or they fail (with the "
        "reason), 2 for bad input (a damaged manifest included). Works offline.",
    )
    p.add_argument("file", help="the file to check (WAV or FLAC; MIDI or MusicXML by manifest)")
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
    from bandmate.rights.provenance import verify

    check = verify(args.file, trust=args.trust)
    result = check.credentials
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "file": str(args.file),
                    "ok": check.ok,
                    "reason": check.reason,
                    "state": result.state if result else None,
                    "signer": result.signer if result else None,
                    "credentials": result.manifest if result else None,
                    "provenance": check.manifest,
                },
                indent=2,
            )
        )
    else:
        print(f"{args.file}: {check.reason}")
    return 0 if check.ok else 1
