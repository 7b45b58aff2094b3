"""`bandmate keys`: the local key that signs the content credentials of generated audio."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "keys",
        help="create or show the local key that signs content credentials",
        description="bandmate signs the C2PA content credentials of every WAV and FLAC file it "
        "makes with a local key: a root certificate made on this machine and a signing "
        "certificate issued by it, kept in $BANDMATE_HOME/keys (default "
        "~/.local/share/bandmate/keys). Generation creates them on first use; nothing is sent "
        "anywhere.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="create the key and its certificates",
        description="Create a local root certificate and an ES256 signing key and certificate "
        "issued by it. With --force an existing key is replaced; its root certificate is kept, "
        "so files signed with it still verify on this machine.",
    )
    init.add_argument("--force", action="store_true", help="replace an existing key")
    init.set_defaults(run=run)
    show = actions.add_parser(
        "show",
        help="print where the key is and its certificates' fingerprints",
        description="Print the key's files, the signer and the SHA-256 fingerprints of the "
        "signing and root certificates (give the root certificate to whoever should trust "
        "your files: `bandmate verify --trust root.pem FILE`).",
    )
    show.set_defaults(run=run)


def run(args) -> int:
    from bandmate.rights.credentials import fingerprint, init_keys, load_keys, trusted_roots

    if args.action == "init":
        paths = init_keys(force=args.force)
        print(f"created a signing key in {paths.folder}")
    else:
        paths = load_keys()
    retired = [p for p in trusted_roots() if p != paths.root]
    rows = [
        ("folder", str(paths.folder)),
        ("root certificate", str(paths.root)),
        ("signing certificate", str(paths.cert)),
        ("signing key", str(paths.key)),
        ("root fingerprint", f"SHA-256 {fingerprint(paths.root)}"),
        ("signer fingerprint", f"SHA-256 {fingerprint(paths.cert)}"),
        ("retired roots", str(len(retired))),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
