"""C2PA content credentials in generated WAV and FLAC files, signed and checked offline.

**What is signed.** `sign_file` embeds a C2PA manifest (c2pa-python): a `c2pa.actions` assertion
saying the file was created (`c2pa.created`) by bandmate as `trainedAlgorithmicMedia`, the caller's
provenance record as the assertion `org.bandmate.provenance`, and a hash of every byte of the
file outside the manifest, tags included. Changing one sample, or a tag, breaks the hash. Tag
first (`bandmate.rights.tags`), sign last.

**Keys.** C2PA refuses self-signed signing certificates, so `init_keys` makes two: a local root
certificate (a CA that may sign only end-entity certificates) and an ES256 (P-256) signing
certificate issued by it, with the digitalSignature key usage and the emailProtection extended key
usage that C2PA's certificate profile asks for. They live in `$BANDMATE_HOME/keys/` (default
`~/.local/share/bandmate/keys/`): `root.pem`, `signer.pem` and `signer.key` (mode 0600). The root's
private key signs the signing certificate and is then thrown away, so nothing can issue another
certificate under this root. `init_keys(force=True)` makes a new pair and keeps the old root in
`keys-retired/`, so files signed before still verify here.

**Trust.** `verify_file` trusts the local root (and the retired ones, and any root given with
`trust=`): a file is valid when its signature holds, its hash matches and its certificate chains to
one of those roots. A file signed on another machine has an intact signature but an untrusted
certificate, and is reported so; pass that machine's `root.pem` to trust it. No time-stamp
authority, OCSP responder or trust list is contacted: signing and verifying never use the network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bandmate import __version__
from bandmate.errors import InputFileError, UserError
from bandmate.io.files import atomic_path, check_inputs

SOURCE_TYPE_URL = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PROVENANCE_LABEL = "org.bandmate.provenance"
MIME_TYPES = {".wav": "audio/wav", ".flac": "audio/flac"}
ROOT_FILE, CERT_FILE, KEY_FILE = "root.pem", "signer.pem", "signer.key"
ROOT_YEARS, SIGNER_YEARS = 30, 20

# c2pa settings that keep reading and signing offline; the trust anchors are added per call
_OFFLINE_VERIFY = {
    "verify_trust": True,
    "ocsp_fetch": False,
    "remote_manifest_fetch": False,
}
# what a failure code means, for a person; the most telling first
_FAILURES = {
    "assertion.dataHash.mismatch": "the file changed after it was signed (data hash mismatch)",
    "assertion.hashedURI.mismatch": "the manifest was altered after signing (assertion hash "
    "mismatch)",
    "claimSignature.mismatch": "the signature does not match the manifest",
    "signingCredential.untrusted": "the signing certificate does not come from a trusted root "
    "(this machine's bandmate key, or one given with --trust)",
    "signingCredential.expired": "the signing certificate had expired when the file was signed",
    "signingCredential.invalid": "the signing certificate is invalid",
}


@dataclass(frozen=True)
class KeyPaths:
    """Where the signing key and its certificates are."""

    folder: Path
    root: Path  # the local root certificate (PEM), the trust anchor
    cert: Path  # the signing certificate (PEM), issued by the root
    key: Path  # the signing key (PEM, PKCS #8, unencrypted, mode 0600)

    @classmethod
    def in_folder(cls, folder: Path) -> KeyPaths:
        return cls(folder, folder / ROOT_FILE, folder / CERT_FILE, folder / KEY_FILE)

    def exist(self) -> bool:
        return self.root.is_file() and self.cert.is_file() and self.key.is_file()


@dataclass(frozen=True)
class Verification:
    """What `verify_file` found.

    `ok` is True only for intact credentials from a trusted certificate. `reason` is one line for
    a person ("no credentials", what failed, or who signed). `state` is c2pa's validation state
    ("Trusted", "Valid": intact but untrusted, "Invalid"), None without credentials. `manifest` is
    the active manifest as c2pa reports it; `signer` the signing certificate's common name.
    """

    ok: bool
    reason: str
    state: str | None = None
    manifest: dict[str, Any] | None = None
    signer: str | None = None

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The provenance record signed into the credentials (`PROVENANCE_LABEL`), if any."""
        for assertion in (self.manifest or {}).get("assertions") or []:
            if assertion.get("label") == PROVENANCE_LABEL and isinstance(
                assertion.get("data"), dict
            ):
                return assertion["data"]
        return None


# --- keys ----------------------------------------------------------------------------------------
def default_keys_dir() -> Path:
    """`$BANDMATE_HOME/keys`, else under `$XDG_DATA_HOME` or `~/.local/share` (as the ledger)."""
    home = os.environ.get("BANDMATE_HOME")
    if home:
        return Path(home).expanduser() / "keys"
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "bandmate" / "keys"


def retired_roots_dir(folder: Path | None = None) -> Path:
    """Where roots replaced by `init_keys(force=True)` are kept, beside the keys folder."""
    folder = folder or default_keys_dir()
    return folder.with_name(folder.name + "-retired")


def key_paths(folder: Path | None = None) -> KeyPaths:
    return KeyPaths.in_folder(folder or default_keys_dir())


def init_keys(force: bool = False, folder: Path | None = None) -> KeyPaths:
    """Create a local root certificate and a signing key and certificate issued by it.

    Refuses (UserError) when keys exist, unless `force`: then the old root is kept in
    `keys-retired/` so that files signed with the old key still verify on this machine.
    """
    paths = key_paths(folder)
    if paths.exist() and not force:
        raise UserError(
            f"A signing key already exists in {str(paths.folder)!r}; use --force to replace it "
            "(files signed with the old key stay trusted here)."
        )
    paths.folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".keys.", dir=paths.folder.parent))  # mode 0700
    try:
        _write_new_keys(KeyPaths.in_folder(staging))
        if paths.folder.exists():
            _retire(paths)
        # a whole folder moves into place, so a reader never sees a key with another's cert
        os.rename(staging, paths.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths


def ensure_keys(folder: Path | None = None) -> KeyPaths:
    """The signing key, created on first use."""
    paths = key_paths(folder)
    if paths.exist():
        return paths
    try:
        return init_keys(folder=folder)
    except (UserError, OSError):
        # another process made the keys at the same moment: use theirs
        if paths.exist():
            return paths
        raise


def load_keys(folder: Path | None = None) -> KeyPaths:
    """The signing key; UserError saying how to create one when there is none."""
    paths = key_paths(folder)
    if not paths.exist():
        raise UserError(
            f"No signing key in {str(paths.folder)!r}; create one with `bandmate keys init`."
        )
    return paths


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint of a PEM certificate, as colon-separated hex."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _retire(paths: KeyPaths) -> None:
    """Keep the old root (a public certificate) and remove the old key folder."""
    if paths.root.is_file():
        retired = retired_roots_dir(paths.folder)
        retired.mkdir(parents=True, exist_ok=True)
        name = fingerprint(paths.root).replace(":", "")[:16].lower()
        shutil.copyfile(paths.root, retired / f"{name}.pem")
    shutil.rmtree(paths.folder)


def _write_new_keys(paths: KeyPaths) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # allow for a slow clock
    root_key = ec.generate_private_key(ec.SECP256R1())
    signer_key = ec.generate_private_key(ec.SECP256R1())
    user = os.environ.get("USER") or "local"
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bandmate"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"bandmate local root ({user})"),
        ]
    )
    signer_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bandmate"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"bandmate ({user})"),
        ]
    )

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(signer_name)
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = signer_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # the key is private from its first byte: created 0600, never widened
    fd = os.open(paths.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    paths.cert.write_bytes(cert.public_bytes(pem))
    paths.root.write_bytes(root.public_bytes(pem))


# --- signing -------------------------------------------------------------------------------------
def _mime_type(path: str | os.PathLike, verb: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in MIME_TYPES:
        raise InputFileError(
            f"Cannot {verb} {str(path)!r}: content credentials go into .wav and .flac files."
        )
    return MIME_TYPES[suffix]


def _context(anchors: Iterable[Path]):
    import c2pa

    pems = "".join(p.read_text() for p in anchors if p.is_file())
    settings: dict[str, Any] = {"verify": dict(_OFFLINE_VERIFY)}
    if pems:
        settings["trust"] = {"trust_anchors": pems}
    return c2pa.Context.from_dict(settings)


def _manifest(title: str, provenance: dict) -> dict:
    agent = {"name": "bandmate", "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            # the record's own term when it has one (rules alone make
                            # algorithmicMedia), else trainedAlgorithmicMedia
                            "digitalSourceType": provenance.get(
                                "digital_source_type", SOURCE_TYPE_URL
                            ),
                            "softwareAgent": agent,
                        }
                    ]
                },
            },
            # JSON round trip: the record must be plain data, and a bad one fails here, clearly
            {"label": PROVENANCE_LABEL, "data": json.loads(json.dumps(provenance))},
        ],
    }


def sign_file(
    path: str | os.PathLike,
    *,
    title: str,
    provenance: dict,
    keys: KeyPaths | None = None,
) -> None:
    """Embed signed content credentials in the WAV or FLAC file at `path`, in place, atomically.

    `provenance` (plain JSON data: model, seed, settings, ...) becomes the assertion
    `org.bandmate.provenance`. Without `keys`, the default key is used and created on first use;
    pass `load_keys()` to refuse instead. Credentials already in the file are replaced.
    """
    import c2pa

    check_inputs([path])
    mime = _mime_type(path, "sign")
    _check_audio(path)
    keys = keys or ensure_keys()
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, keys.cert.read_bytes(), keys.key.read_bytes(), None
    )
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(_manifest(title, provenance), context=_context([keys.root])) as builder,
            open(path, "rb") as src,
            atomic_path(path) as tmp,
            open(tmp, "w+b") as dst,
        ):
            builder.sign(signer, mime, src, dst)
    except c2pa.C2paError as e:
        raise InputFileError(f"{str(path)!r} could not be signed ({e}).") from None


def _check_audio(path: str | os.PathLike) -> None:
    """InputFileError unless libsndfile can read the file: a broken file is bad input, not a
    broken signature."""
    import soundfile as sf

    try:
        sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        kind = Path(path).suffix[1:].upper()
        raise InputFileError(  # (it said what was wrong, not what to do)
            f"{str(path)!r} is not a readable {kind} file; check that it is the {kind} file "
            "that was written and that it was copied whole."
        ) from None


# --- verifying -----------------------------------------------------------------------------------
def trusted_roots(folder: Path | None = None) -> list[Path]:
    """The local root and the retired ones: the certificates `verify_file` trusts by default."""
    paths = key_paths(folder)
    retired = retired_roots_dir(paths.folder)
    old = sorted(retired.glob("*.pem")) if retired.is_dir() else []
    return [paths.root, *old] if paths.root.is_file() else old


def verify_file(
    path: str | os.PathLike, *, trust: Iterable[str | os.PathLike] = ()
) -> Verification:
    """Check the content credentials of the WAV or FLAC file at `path`, offline.

    Trusted roots are this machine's (see `trusted_roots`) plus the PEM files in `trust`.
    InputFileError for a missing file or one of another type.
    """
    import c2pa

    check_inputs([path, *trust])
    mime = _mime_type(path, "verify")
    _check_audio(path)
    for root in trust:
        _check_certificate(Path(root))
    anchors = [*trusted_roots(), *map(Path, trust)]
    try:
        with (
            open(path, "rb") as f,
            c2pa.Reader(mime, f, context=_context(anchors)) as reader,
        ):
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
            manifest = reader.get_active_manifest()
    except c2pa.C2paError.ManifestNotFound:
        return Verification(False, "no credentials")
    except c2pa.C2paError as e:
        return Verification(False, f"credentials unreadable ({e})")
    failures = (results.get("activeManifest") or {}).get("failure") or []
    signer = ((manifest or {}).get("signature_info") or {}).get("common_name")
    if state == "Trusted" and not failures:
        return Verification(True, _valid_reason(manifest or {}), state, manifest, signer)
    reason = _failure_reason(failures, has_anchors=bool(anchors)) or f"credentials {state}"
    return Verification(False, reason, state, manifest, signer)


def _check_certificate(path: Path) -> None:
    """InputFileError unless `path` holds PEM certificates: c2pa skips whatever else it is
    given as a trust anchor, so a wrong file (a key, a WAV) would only make a file untrusted."""
    from cryptography import x509

    try:
        x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        raise InputFileError(
            f"{str(path)!r} is not a PEM certificate; give a root certificate to trust, such as "
            "another machine's keys/root.pem."
        ) from None


def _valid_reason(manifest: dict) -> str:
    sig = manifest.get("signature_info") or {}
    parts = [f"signed by {sig.get('common_name', 'an unnamed signer')}"]
    if sig.get("time"):
        parts.append(f"on {sig['time']}")
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                if action.get("action") == "c2pa.created":
                    source = str(action.get("digitalSourceType", "")).rsplit("/", 1)[-1]
                    parts.append(f"created as {source}" if source else "created")
    return "valid: " + ", ".join(parts)


def _failure_reason(failures: list[dict], *, has_anchors: bool) -> str:
    codes = [f.get("code", "") for f in failures]
    known = [code for code in _FAILURES if code in codes]
    lines = [_FAILURES[code] for code in known]
    lines += [
        f"{f.get('explanation') or f.get('code')} ({f.get('code')})"
        for f in failures
        if f.get("code") not in known
    ]
    if "signingCredential.untrusted" in codes and not has_anchors:
        lines.append("there is no local key to trust; create one with `bandmate keys init`")
    return "; ".join(dict.fromkeys(lines))
