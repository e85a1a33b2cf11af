"""Database tables, by feature. Every datetime is timezone-aware and stored in UTC.

Importing this package registers every table on ``Base.metadata`` (migrations and the
start-up check read it from here); the tables live in the feature modules beside it.
"""

from __future__ import annotations

from storage.models import (  # noqa: F401  (each module's tables join Base.metadata)
    answers,
    appointments,
    cases,
    feedback,
    jobs,
    officer,
    people,
    publishing,
    travel,
)
from storage.models.base import Base

__all__ = ["Base"]
