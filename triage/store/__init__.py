"""The queue store: SQLAlchemy tables, Alembic migrations, and the functions that talk SQL.

Nothing outside this package writes SQL. `Database` owns the engine and transactions;
`repository` reads and writes cases, `queue` orders and claims them, `keys` holds API keys.
"""

from triage.store.database import Database
from triage.vocabulary import QUEUED, STATUSES

__all__ = ["QUEUED", "STATUSES", "Database"]
