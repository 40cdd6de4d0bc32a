"""``govtrust pki root|issue|verify`` — file-based X.509 certificates (trust.pki).

Keys and certificates are PEM files interchangeable with OpenSSL's. New private
keys are written with mode 0600 and never over an existing file.

Exit status of ``verify``: 0 valid, 1 invalid, 2 unusable input.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from trust import (
    KeyFamily,
    PrivateKey,
    PublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
    signature_algorithm,
)
from trust.errors import CertificateError
from trust.pki import (
    KEY_PURPOSES,
    Certificate,
    issue_ca,
    issue_end_entity,
    issue_root,
    load_certificate,
    load_certificates,
    validate_path,
)

from ._common import EXIT_INVALID, EXIT_OK, echo_json, fail, typed_errors

__all__ = ["group"]

ALG_NAMES = ["SM2", "ES256", "RS256", "PS256", "EdDSA"]
PURPOSES = list(KEY_PURPOSES)
# The algorithm a CA key signs with unless --sign-alg says otherwise.
DEFAULT_ALGORITHM = {
    KeyFamily.SM2: "SM2",
    KeyFamily.P256: "ES256",
    KeyFamily.P384: "ES384",
    KeyFamily.RSA: "RS256",
    KeyFamily.ED25519: "EdDSA",
}
# notBefore is backdated a little so that verifiers with a slow clock accept new certificates.
BACKDATE = timedelta(minutes=5)

_FILE = click.Path(dir_okay=False, path_type=Path)


def _validity(days: int) -> tuple[datetime, datetime]:
    if days < 1:
        fail("--days must be at least 1", "usage")
    now = datetime.now(UTC).replace(microsecond=0)
    return now - BACKDATE, now + timedelta(days=days)


def _refuse_existing(path: Path) -> None:
    if path.exists():
        fail(f"{path}: exists; refusing to overwrite a private key", "io_error")


def _write_private_key(path: Path, key: PrivateKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.pem())


def _password(env_var: str | None) -> bytes | None:
    if not env_var:
        return None
    return os.environ.get(env_var, "").encode() or None


def _summary(cert: Certificate) -> str:
    return f"{cert.subject}  serial={cert.serial:x}  sha256={cert.fingerprint_sha256}"


@click.group("pki")
def group() -> None:
    """Issue and verify X.509 certificates (RFC 5280; SM2 certificates per GM/T 0015)."""


@group.command("root")
@click.option("--alg", required=True, type=click.Choice(ALG_NAMES, case_sensitive=False))
@click.option("--subject", required=True, help='RFC 4514 name, e.g. "CN=…根 CA,O=…,C=CN".')
@click.option("--days", type=int, default=3650, show_default=True)
@click.option(
    "--path-length",
    type=click.IntRange(min=0),
    default=None,
    help="pathLenConstraint (default: none).",
)
@click.option(
    "--rsa-bits", type=click.Choice(["2048", "3072", "4096"]), default="3072", show_default=True
)
@click.option("--key-out", required=True, type=_FILE, help="New private key (PEM, mode 0600).")
@click.option("--cert-out", required=True, type=_FILE)
@typed_errors
def root(
    alg: str,
    subject: str,
    days: int,
    path_length: int | None,
    rsa_bits: str,
    key_out: Path,
    cert_out: Path,
) -> None:
    """Generate a key and a self-signed root CA certificate."""
    algorithm = signature_algorithm(alg)
    _refuse_existing(key_out)
    not_before, not_after = _validity(days)
    key = generate_private_key(algorithm.family, rsa_bits=int(rsa_bits))
    cert = issue_root(
        key.signer(algorithm),
        subject,
        not_before=not_before,
        not_after=not_after,
        path_length=path_length,
    )
    _write_private_key(key_out, key)
    cert_out.write_bytes(cert.pem())
    click.echo(_summary(cert))


@group.command("issue")
@click.option("--ca-key", required=True, type=_FILE, help="The issuing CA's private key.")
@click.option("--ca-cert", required=True, type=_FILE, help="The issuing CA's certificate.")
@click.option("--password-env", metavar="VAR", help="Read the CA key password from this variable.")
@click.option(
    "--sign-alg",
    type=click.Choice([*ALG_NAMES, "ES384"], case_sensitive=False),
    help="Signature algorithm (default: the natural one for the CA key).",
)
@click.option(
    "--pub",
    "pub_path",
    type=_FILE,
    help="Subject public key (PEM/DER SubjectPublicKeyInfo or certificate).",
)
@click.option("--key-out", type=_FILE, help="Generate the subject key here (PEM, mode 0600).")
@click.option(
    "--alg",
    type=click.Choice(ALG_NAMES, case_sensitive=False),
    help="Algorithm of the generated subject key (with --key-out).",
)
@click.option(
    "--rsa-bits", type=click.Choice(["2048", "3072", "4096"]), default="3072", show_default=True
)
@click.option("--subject", required=True, help="RFC 4514 name of the subject.")
@click.option(
    "--purpose",
    required=True,
    type=click.Choice(["ca", *PURPOSES]),
    help="ca for an intermediate CA, else the end-entity key purpose.",
)
@click.option(
    "--path-length",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="pathLenConstraint of a new CA (--purpose ca).",
)
@click.option("--dns", "dns_names", multiple=True, help="subjectAltName DNS name (repeatable).")
@click.option("--uri", "uris", multiple=True, help="subjectAltName URI (repeatable).")
@click.option("--days", type=int, default=365, show_default=True)
@click.option("--cert-out", required=True, type=_FILE)
@typed_errors
def issue(
    ca_key: Path,
    ca_cert: Path,
    password_env: str | None,
    sign_alg: str | None,
    pub_path: Path | None,
    key_out: Path | None,
    alg: str | None,
    rsa_bits: str,
    subject: str,
    purpose: str,
    path_length: int,
    dns_names: tuple[str, ...],
    uris: tuple[str, ...],
    days: int,
    cert_out: Path,
) -> None:
    """Issue an intermediate CA or end-entity certificate signed by a CA."""
    if (pub_path is None) == (key_out is None):
        fail("give exactly one of --pub and --key-out", "usage")
    if key_out is not None and alg is None:
        fail("--key-out needs --alg", "usage")
    if pub_path is not None and alg is not None:
        fail("--alg only applies with --key-out", "usage")
    if purpose == "ca" and (dns_names or uris):
        fail("--dns/--uri are for end-entity certificates", "usage")

    issuer_cert = load_certificate(ca_cert.read_bytes())
    issuer_key = load_private_key(ca_key.read_bytes(), _password(password_env))
    signer = issuer_key.signer(sign_alg or DEFAULT_ALGORITHM[issuer_key.family])

    new_key: PrivateKey | None = None
    subject_key: PublicKey
    if key_out is not None:
        assert alg is not None
        _refuse_existing(key_out)
        new_key = generate_private_key(signature_algorithm(alg).family, rsa_bits=int(rsa_bits))
        subject_key = new_key.public_key()
    else:
        assert pub_path is not None
        subject_key = load_public_key(pub_path.read_bytes())

    not_before, not_after = _validity(days)
    if purpose == "ca":
        cert = issue_ca(
            signer,
            issuer_cert,
            subject_key,
            subject,
            not_before=not_before,
            not_after=not_after,
            path_length=path_length,
        )
    else:
        cert = issue_end_entity(
            signer,
            issuer_cert,
            subject_key,
            subject,
            purpose=purpose,
            not_before=not_before,
            not_after=not_after,
            dns_names=dns_names,
            uris=uris,
        )
    if new_key is not None and key_out is not None:
        _write_private_key(key_out, new_key)
    cert_out.write_bytes(cert.pem())
    click.echo(_summary(cert))


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at: not an ISO 8601 date-time: {value!r}", "usage")
        raise  # unreachable: fail() exits
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@group.command("verify")
@click.option(
    "--roots",
    "roots_paths",
    required=True,
    multiple=True,
    type=_FILE,
    help="Trust anchors (PEM bundle; repeatable).",
)
@click.option(
    "--untrusted",
    "untrusted_paths",
    multiple=True,
    type=_FILE,
    help="Intermediate certificates (PEM bundle; repeatable).",
)
@click.option("--purpose", type=click.Choice(PURPOSES), help="Required key purpose of CERT.")
@click.option(
    "--at",
    "at_text",
    metavar="ISO8601",
    help="Validate at this instant (default: now; UTC if no offset).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: verdict, reasons, path.")
@click.argument("cert_path", metavar="CERT.pem", type=_FILE)
@typed_errors
def verify(
    roots_paths: tuple[Path, ...],
    untrusted_paths: tuple[Path, ...],
    purpose: str | None,
    at_text: str | None,
    as_json: bool,
    cert_path: Path,
) -> None:
    """Validate CERT.pem against the roots; print OK or the error code."""
    at = _parse_at(at_text)
    leaf = load_certificate(cert_path.read_bytes())
    roots = [c for p in roots_paths for c in load_certificates(p.read_bytes())]
    untrusted = [c for p in untrusted_paths for c in load_certificates(p.read_bytes())]
    try:
        path = validate_path(leaf, intermediates=untrusted, roots=roots, at=at, purpose=purpose)
    except CertificateError as exc:
        if as_json:
            echo_json({"verdict": "INVALID", "reasons": [exc.code], "message": exc.message})
        else:
            click.echo(exc.code)
            click.echo(f"govtrust: {exc.code}: {exc.message}", err=True)
        raise SystemExit(EXIT_INVALID) from None
    if as_json:
        echo_json(
            {
                "verdict": "VALID",
                "reasons": [],
                "path": [{"subject": str(c.subject), "sha256": c.fingerprint_sha256} for c in path],
            }
        )
    else:
        click.echo("OK")
        for depth, cert in enumerate(path):
            click.echo(f"  {depth}: {cert.subject}")
    raise SystemExit(EXIT_OK)
