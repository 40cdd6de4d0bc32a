"""Verification results as values: ETSI-style indications for seals and signatures.

The vocabulary follows ETSI EN 319 102-1 §5.1.3 (validation report): a main
*indication* ``PASSED`` / ``FAILED`` / ``INDETERMINATE`` and, when not passed, a
*sub-indication* naming the reason (``HASH_FAILURE``, ``SIG_CRYPTO_FAILURE``,
``NO_CERTIFICATE_CHAIN_FOUND`` …). Every report also carries the individual
checks that led to it, each ``passed`` / ``failed`` / ``indeterminate`` /
``skipped`` with a human-readable detail, so a counter clerk and an auditor read
the same verdict.

Aggregation rule (one place, used by SES and OFD verification):

* any failed check → ``FAILED``;
* otherwise any indeterminate check → ``INDETERMINATE`` (never ``PASSED``
  while something could not be decided);
* otherwise ``PASSED``. Skipped checks (not applicable or not requested) do not
  change the result.

The sub-indication is that of the most fundamental non-passed check, in the
order of the table below (format, digest, signature, constraints, validity,
then the indeterminate reasons).

Mapping used by :mod:`seal_service.ses` and :mod:`seal_service.ofd` (a claimed
signing time outside a validity period is the signer's own statement, so it is
a failure, not a lack of evidence):

====================================  ==============================================
condition                              indication / sub-indication
====================================  ==============================================
structure cannot be decoded            FAILED / FORMAT_FAILURE
digest of signed data differs          FAILED / HASH_FAILURE
signature does not verify              FAILED / SIG_CRYPTO_FAILURE
signer certificate not in the seal     FAILED / SIG_CONSTRAINTS_FAILURE
seal or certificate expired / not yet  FAILED / EXPIRED, NOT_YET_VALID
no (matching) trust anchor             INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
path fails a CA constraint             INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
no signer certificate available        INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND
signed file missing from the package   INDETERMINATE / SIGNED_DATA_NOT_FOUND
digest algorithm not supported         INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE
no signing time to judge validity at   INDETERMINATE / NO_POE
====================================  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

__all__ = [
    "Indication",
    "SubIndication",
    "CheckStatus",
    "Check",
    "CheckResult",
    "SignatureReport",
    "aggregate",
]


class Indication(StrEnum):
    """Main status (ETSI EN 319 102-1 Table 4)."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(StrEnum):
    """Reason for a non-passed indication (ETSI EN 319 102-1 Table 5, plus NO_SIGNATURE_FOUND)."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    NO_POE = "NO_POE"
    REVOKED = "REVOKED"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    TRY_LATER = "TRY_LATER"
    NO_SIGNATURE_FOUND = "NO_SIGNATURE_FOUND"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step. ``sub_indication`` is set when the check did not pass."""

    name: str
    status: CheckStatus
    detail: str = ""
    sub_indication: SubIndication | None = None

    @classmethod
    def passed(cls, name: str, detail: str = "") -> Check:
        return cls(name, CheckStatus.PASSED, detail)

    @classmethod
    def failed(cls, name: str, sub: SubIndication, detail: str) -> Check:
        return cls(name, CheckStatus.FAILED, detail, sub)

    @classmethod
    def indeterminate(cls, name: str, sub: SubIndication, detail: str) -> Check:
        return cls(name, CheckStatus.INDETERMINATE, detail, sub)

    @classmethod
    def skipped(cls, name: str, detail: str) -> Check:
        return cls(name, CheckStatus.SKIPPED, detail)


#: When several checks fail, the report names the most fundamental reason
#: (a broken format before a digest mismatch before a bad signature …).
_PRIORITY: Final = {
    sub: rank
    for rank, sub in enumerate(
        (
            SubIndication.FORMAT_FAILURE,
            SubIndication.HASH_FAILURE,
            SubIndication.SIG_CRYPTO_FAILURE,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            SubIndication.REVOKED,
            SubIndication.EXPIRED,
            SubIndication.NOT_YET_VALID,
            SubIndication.SIGNED_DATA_NOT_FOUND,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
            SubIndication.NO_POE,
            SubIndication.REVOKED_NO_POE,
            SubIndication.REVOKED_CA_NO_POE,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            SubIndication.OUT_OF_BOUNDS_NOT_REVOKED,
            SubIndication.TRY_LATER,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
            SubIndication.NO_SIGNATURE_FOUND,
        )
    )
}


def _most_fundamental(checks: list[Check]) -> SubIndication | None:
    best = min(
        checks,
        key=lambda c: (
            _PRIORITY.get(c.sub_indication, len(_PRIORITY)) if c.sub_indication else len(_PRIORITY)
        ),
    )
    return best.sub_indication


def aggregate(checks: Iterable[Check]) -> tuple[Indication, SubIndication | None]:
    """Overall indication of a list of checks (see the module docstring)."""
    checks = tuple(checks)
    failed = [c for c in checks if c.status is CheckStatus.FAILED]
    if failed:
        return Indication.FAILED, _most_fundamental(failed)
    undecided = [c for c in checks if c.status is CheckStatus.INDETERMINATE]
    if undecided:
        return Indication.INDETERMINATE, _most_fundamental(undecided)
    return Indication.PASSED, None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of a list of checks (for example a seal on its own)."""

    indication: Indication
    sub_indication: SubIndication | None
    checks: tuple[Check, ...]

    @classmethod
    def of(cls, checks: Iterable[Check]) -> CheckResult:
        checks = tuple(checks)
        indication, sub = aggregate(checks)
        return cls(indication, sub, checks)

    @property
    def passed(self) -> bool:
        return self.indication is Indication.PASSED

    def check(self, name: str) -> Check:
        """The check called ``name`` (KeyError if there is none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def status(self, name: str) -> CheckStatus:
        return self.check(name).status


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The verdict on one electronic signature (SES_Signature, or an OFD ``Type="Sign"``).

    ``signer_subject`` is the RFC 4514 string of the signer certificate's subject
    (``None`` when no signer certificate is known); ``seal_name`` / ``seal_id``
    come from the embedded seal (``None`` for a bare signature);
    ``signing_time`` is the time the signer claims (TBS_Sign.timeInfo, or the
    OFD SignatureDateTime for a bare signature), ``None`` if absent or unreadable;
    ``validation_time`` is the instant validity was judged at (the signing time
    unless the caller chose another).
    """

    indication: Indication
    sub_indication: SubIndication | None
    checks: tuple[Check, ...]
    signer_subject: str | None = None
    seal_name: str | None = None
    seal_id: str | None = None
    signing_time: datetime | None = None
    validation_time: datetime | None = None

    @classmethod
    def of(cls, checks: Iterable[Check], **info: object) -> SignatureReport:
        checks = tuple(checks)
        indication, sub = aggregate(checks)
        return cls(indication, sub, checks, **info)  # type: ignore[arg-type]

    @property
    def passed(self) -> bool:
        return self.indication is Indication.PASSED

    def check(self, name: str) -> Check:
        """The check called ``name`` (KeyError if there is none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def status(self, name: str) -> CheckStatus:
        return self.check(name).status

    def reasons(self) -> tuple[str, ...]:
        """Sub-indications of every check that did not pass (for ``--json`` reasons)."""
        return tuple(
            str(c.sub_indication)
            for c in self.checks
            if c.status in (CheckStatus.FAILED, CheckStatus.INDETERMINATE) and c.sub_indication
        )
