"""Imports every package's models so that ``Base.metadata`` is complete
(for Alembic and for tests). Add a line per package that owns tables."""

from govtrust import hubpki as _hubpki  # noqa: F401
from govtrust import portals as _portals  # noqa: F401
from govtrust import replay_store as _replay_store  # noqa: F401
from govtrust import tlog_models as _tlog_models  # noqa: F401
from govtrust import trustlist_service as _trustlist  # noqa: F401
from govtrust.admin import models as _admin_models  # noqa: F401
from govtrust.db import Base
from govtrust.registry import models as _registry_models  # noqa: F401
from idp import models as _idp_models  # noqa: F401
from keys import models as _keys_models  # noqa: F401
from license_wallet import models as _license_models  # noqa: F401
from seal_service import models as _seal_models  # noqa: F401

__all__ = ["Base"]
