"""seal_service — electronic seals for GovTrust (see DESIGN.md).

The Flask-free, database-free format layer, usable offline by the verifier:

* :mod:`seal_service.ses` — GM/T 0031-2014 (v1) and GB/T 38540-2020 (v4, "v5")
  electronic seals and signatures: parsing and verification;
* :mod:`seal_service.ofd` — a bounded OFD (GB/T 33190-2016) package reader and
  verification of its signatures (ch. 18);
* :mod:`seal_service.report` — ETSI-style results (PASSED / FAILED / INDETERMINATE);
* :mod:`seal_service.image` — seal images (generated or uploaded), imported on its own.
"""

from .ofd import (
    OfdError,
    OfdPackage,
    OfdReport,
    OfdSignatureReport,
    ReferenceResult,
    StampAnnot,
    verify_ofd,
)
from .report import (
    Check,
    CheckResult,
    CheckStatus,
    Indication,
    SignatureReport,
    SubIndication,
)
from .ses import (
    ExtData,
    Seal,
    SealFormatError,
    SealPicture,
    SESSignature,
    parse_seal,
    parse_signature,
    verify_seal,
    verify_signature,
)

__all__ = [
    "Check",
    "CheckResult",
    "CheckStatus",
    "ExtData",
    "Indication",
    "OfdError",
    "OfdPackage",
    "OfdReport",
    "OfdSignatureReport",
    "ReferenceResult",
    "SESSignature",
    "Seal",
    "SealFormatError",
    "SealPicture",
    "SignatureReport",
    "StampAnnot",
    "SubIndication",
    "parse_seal",
    "parse_signature",
    "verify_ofd",
    "verify_seal",
    "verify_signature",
]
