"""asn1crypto's OID registrations, made before anything uses its OID maps.

``asn1crypto.tsp`` and ``asn1crypto.pdf`` add names (``tst_info``,
``signing_certificate_v2``, ``adobe_revocation_info_archival`` …) to the OID maps
of ``asn1crypto.cms`` and ``asn1crypto.x509`` when they are imported, but the
reverse maps (name → OID) are built once, on first use, and never updated. A
process that used ``cms.ContentType`` before importing ``asn1crypto.tsp`` could
then never build a time-stamp token (``"tst_info"`` unknown). Importing both here,
first thing in :mod:`trust`, makes the maps complete before any use.
"""

from asn1crypto import pdf as _pdf  # noqa: F401
from asn1crypto import tsp as _tsp  # noqa: F401
