"""SQLite, the embedded default, made to compare Cyrillic text without regard to case.

SQLite's built-in LIKE folds only ASCII letters, so «отопление» would not find
«Отопление». Every new SQLite connection gets a LIKE that folds Unicode case,
with the same ``%``/``_``/``ESCAPE`` rules. PostgreSQL is untouched.
"""

from __future__ import annotations

import functools
import re
from typing import Any


@functools.lru_cache(maxsize=512)
def _pattern(like: str, escape: str | None) -> re.Pattern[str]:
    parts = []
    chars = iter(like)
    for char in chars:
        if escape and char == escape:
            parts.append(re.escape(next(chars, "")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def unicode_like(pattern: str | None, value: Any, escape: str | None = None) -> bool | None:
    if pattern is None or value is None:
        return None
    return _pattern(pattern.casefold(), escape).fullmatch(str(value).casefold()) is not None


def install_unicode_like(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: replace LIKE on SQLite connections."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("like", 2, unicode_like, deterministic=True)
    raw.create_function("like", 3, unicode_like, deterministic=True)
