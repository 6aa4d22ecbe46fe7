"""How close a draft answer is to the department's earlier sent answers ("boilerplate").

A head approving a draft sees the closest earlier answers of the department and, at or
above ``settings.BOILERPLATE_SIMILARITY_THRESHOLD``, confirms the approval with a comment
(``docs/domain.md``, "Boilerplate answers").

The measure is word 3-shingles with Jaccard similarity, computed in Python: text is
lower-cased, everything but letters (Cyrillic incl. Kazakh letters, Latin) is dropped, so
digits, dates, numbers and punctuation do not count. It is the same on SQLite and
PostgreSQL (no ``pg_trgm``: the candidate set is bounded instead). Candidates are the
department's last ``CANDIDATES`` sent answers to other requests, read in one query with
the latest rating the deputy gave each.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery

from .models import Evaluation, Response, ResponseStatus

#: The department's most recent sent answers compared with a draft.
CANDIDATES = 500
#: Shingle length in words.
SHINGLE = 3
#: Closest earlier answers shown to the head.
SHOWN = 3

_WORD = re.compile(r"[^\W\d_]+")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text``: letters only (no digits, no punctuation)."""
    return _WORD.findall(text.lower())


def shingles(text: str, size: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """The set of ``size``-word shingles; a text shorter than that is one shingle."""
    tokens = words(text)
    if not tokens:
        return frozenset()
    if len(tokens) < size:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(a: str, b: str) -> float:
    """0.0 (nothing in common) … 1.0 (the same words in the same order)."""
    return jaccard(shingles(a), shingles(b))


def threshold() -> float:
    return float(settings.BOILERPLATE_SIMILARITY_THRESHOLD)


@dataclass(frozen=True)
class Earlier:
    """One earlier sent answer of the department, as compared."""

    response_id: int
    request_id: int
    request_number: str | None
    sent_at: datetime.datetime | None
    rating: int | None
    text: str


@dataclass(frozen=True)
class Match:
    earlier: Earlier
    score: float

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class Closeness:
    """A draft's closest earlier answers, closest first; ``score`` is the best one's."""

    matches: tuple[Match, ...]
    threshold: float

    @property
    def score(self) -> float:
        return self.matches[0].score if self.matches else 0.0

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def needs_comment(self) -> bool:
        return bool(self.matches) and self.score >= self.threshold


def earlier_answers(
    department_id: int | None, *, exclude_request_id: int | None = None
) -> list[Earlier]:
    """The department's last ``CANDIDATES`` sent answers to other requests: one query."""
    if department_id is None:
        return []
    latest_rating = (
        Evaluation.objects.filter(response=OuterRef("pk"), rating__isnull=False)
        .order_by("-at", "-id")
        .values("rating")[:1]
    )
    qs = Response.objects.filter(department_id=department_id, status=ResponseStatus.SENT)
    if exclude_request_id is not None:
        # Answers to the same request (an interim, then the final) repeat one another.
        qs = qs.exclude(request_id=exclude_request_id)
    rows = (
        qs.annotate(latest_rating=Subquery(latest_rating))
        .order_by("-sent_at", "-id")
        .values_list("pk", "request_id", "request__number", "sent_at", "latest_rating", "text")[
            :CANDIDATES
        ]
    )
    return [Earlier(*row) for row in rows]


def closest(text: str, candidates: Iterable[Earlier], *, limit: int = SHOWN) -> Closeness:
    """The ``limit`` candidates closest to ``text`` (with anything in common), closest first;
    ties: the more recent first."""
    draft = shingles(text)
    scored = [Match(c, jaccard(draft, shingles(c.text))) for c in candidates]
    scored = [m for m in scored if m.score > 0]
    # Candidates come newest first; a stable sort keeps that order among equal scores.
    scored.sort(key=lambda m: m.score, reverse=True)
    return Closeness(tuple(scored[:limit]), threshold())


def draft_closeness(response: Response) -> Closeness:
    """How close the draft ``response`` is to its department's earlier sent answers."""
    candidates = earlier_answers(response.department_id, exclude_request_id=response.request_id)
    return closest(response.text, candidates)
