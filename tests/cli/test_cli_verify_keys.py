"""`bandmate keys` and `bandmate verify` as a user runs them: one line each, exit 0 for valid
credentials, 1 for missing or broken ones, 2 for bad input.

Most cases call `main` in this process; one runs the installed command end to end.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bandmate.cli import main
from bandmate.rights.credentials import sign_file
from tests.builders import assert_user_error, run_cli
from tests.rights.test_credentials import flip_one_sample, noise_file


def bandmate(capsys, *args) -> subprocess.CompletedProcess:
    code = main([*map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A bandmate home of its own (inherited by the installed command's process too)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(folder))
    return folder


@pytest.fixture
def signed(tmp_path, rng):
    path = noise_file(tmp_path / "take.wav", rng)
    sign_file(path, title="Take 1", provenance={"seed": 1})
    return path


def test_keys_init_then_show(capsys, home):
    result = bandmate(capsys, "keys", "show")
    assert_user_error(result, "no signing key", "bandmate keys init")
    result = bandmate(capsys, "keys", "init")
    assert result.returncode == 0, result.stderr
    assert f"created a signing key in {home / 'keys'}" in result.stdout
    assert "root fingerprint     SHA-256 " in result.stdout
    shown = bandmate(capsys, "keys", "show")
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == result.stdout.splitlines()[1:]
    assert_user_error(bandmate(capsys, "keys", "init"), "already exists", "--force")
    again = bandmate(capsys, "keys", "init", "--force")
    assert again.returncode == 0
    assert "retired roots        1" in again.stdout


def test_verify_valid_tampered_and_unsigned(capsys, tmp_path, rng, signed):
    result = bandmate(capsys, "verify", signed)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"{signed}: valid: signed by bandmate")
    data = json.loads(bandmate(capsys, "verify", "--json", signed).stdout)
    assert data["ok"] and data["credentials"]["title"] == "Take 1"

    flip_one_sample(signed)
    result = bandmate(capsys, "verify", signed)
    assert result.returncode == 1
    assert result.stdout.count("\n") == 1
    assert "data hash mismatch" in result.stdout

    plain = noise_file(tmp_path / "plain.wav", rng)
    result = bandmate(capsys, "verify", plain)
    assert (result.returncode, result.stdout) == (1, f"{plain}: no credentials\n")


def test_verify_another_machines_file(capsys, tmp_path, signed, monkeypatch, home):
    their_root = home / "keys" / "root.pem"
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "my-home"))
    result = bandmate(capsys, "verify", signed)
    assert result.returncode == 1
    assert "bandmate keys init" in result.stdout  # no key here at all
    assert bandmate(capsys, "verify", "--trust", their_root, signed).returncode == 0


def test_verify_bad_input_is_one_line(capsys, tmp_path):
    assert_user_error(bandmate(capsys, "verify", tmp_path / "gone.wav"), "does not exist")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    # it said what was wrong and not what to do
    assert_user_error(bandmate(capsys, "verify", text), "not a readable WAV file", "copied whole")


def test_installed_command(signed):
    result = run_cli("verify", signed)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_verify_trust_must_be_a_certificate(capsys, tmp_path, signed, home):
    """A WAV crashed --trust with a UnicodeDecodeError, a key or a text file was quietly skipped
    (so the file read as untrusted): each is now refused as not a certificate."""
    key = home / "keys" / "signer.key"
    notes = tmp_path / "notes.txt"
    notes.write_text("a root? no")
    for wrong in (signed, key, notes):
        result = bandmate(capsys, "verify", "--trust", wrong, signed)
        assert_user_error(result, "is not a PEM certificate", "keys/root.pem")
    assert bandmate(capsys, "verify", "--trust", home / "keys" / "root.pem", signed).returncode == 0
