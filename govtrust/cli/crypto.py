"""``govtrust crypto sign|verify`` — OpenSSL-interchangeable signatures.

Exit status of ``verify``: 0 valid, 1 invalid, 2 unusable input.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from trust import (
    SIGNATURE_ALGORITHMS,
    SigEncoding,
    load_private_key,
    load_public_key,
    signature_algorithm,
)

from ._common import EXIT_INVALID, EXIT_OK, fail, typed_errors

ALG_NAMES = [a.name for a in SIGNATURE_ALGORITHMS if a.name != "ES384"]


@click.group()
def crypto() -> None:
    """Sign and verify files with SM2, ES256, RS256, PS256 or EdDSA."""


@crypto.command("sign")
@click.option("--alg", required=True, type=click.Choice(ALG_NAMES, case_sensitive=False))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key PEM/DER (PKCS#8, SEC1 or PKCS#1), e.g. from openssl genpkey.",
)
@click.option("--in", "in_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--raw", is_flag=True, help="Emit r‖s (JOSE/COSE form) instead of DER.")
@click.option("--password-env", metavar="VAR", help="Read the key password from this variable.")
@typed_errors
def sign(
    alg: str, key_path: Path, in_path: Path, out_path: Path, raw: bool, password_env: str | None
) -> None:
    """Sign FILE; the signature is DER by default (what openssl dgst -sign writes)."""
    password = os.environ.get(password_env, "").encode() if password_env else None
    key = load_private_key(key_path.read_bytes(), password or None)
    signer = key.signer(signature_algorithm(alg))
    data = in_path.read_bytes()
    out_path.write_bytes(signer.sign_raw(data) if raw else signer.sign(data))


@crypto.command("verify")
@click.option("--alg", required=True, type=click.Choice(ALG_NAMES, case_sensitive=False))
@click.option(
    "--pub",
    "pub_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Public key or certificate, PEM or DER.",
)
@click.option("--in", "in_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sig", "sig_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@typed_errors
def verify(alg: str, pub_path: Path, in_path: Path, sig_path: Path) -> None:
    """Verify SIG over FILE; accepts DER (also non-minimal) and raw r‖s."""
    public = load_public_key(pub_path.read_bytes())
    algorithm = signature_algorithm(alg)
    if algorithm.family is not public.family:
        fail(f"{algorithm.name} does not fit a {public.family} key", "unsupported_algorithm")
    ok = public.verify(
        algorithm, in_path.read_bytes(), sig_path.read_bytes(), encoding=SigEncoding.ANY
    )
    click.echo("Verified OK" if ok else "Verification failure")
    raise SystemExit(EXIT_OK if ok else EXIT_INVALID)
