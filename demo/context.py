"""What every demo step receives: the demo directory, the seed and the scale.

``manage.py seed_demo`` builds the directory first (``demo.directory.seed_directory``),
then runs its steps in order, each with one ``DemoContext``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from maslikhat.accounts.models import User
from maslikhat.directory.models import Deputy
from maslikhat.directory.services import ReferenceDirectory

DEFAULT_SEED = 2023


@dataclass(frozen=True)
class DemoDirectory:
    """The directory and the demo people, as the later demo steps need them."""

    reference: ReferenceDirectory
    users: dict[str, User]  # by username
    deputies: list[Deputy]  # deputy1 … deputyN
    heads: dict[str, User]  # by department code
    executors: dict[str, User]  # by department code
    password: str
    created_accounts: int

    @property
    def admin(self) -> User:
        return self.users["admin"]

    @property
    def staff(self) -> User:
        return self.users["staff"]

    @property
    def chair(self) -> User:
        return self.users["chair"]


@dataclass(frozen=True)
class DemoContext:
    """What every demo step receives: the directory, the seed and the scale."""

    directory: DemoDirectory
    seed: int
    scale: int = 1

    def rng(self, name: str) -> random.Random:
        """A generator of the step's own: adding a step never changes another step's data.

        Seeding with a string is stable across processes (it is hashed with
        SHA-512, not with Python's randomised ``hash``).
        """
        return random.Random(f"{self.seed}:{name}")


# A demo step: fills in its part of the demo year and returns a line for the
# command's summary (or None).
DemoStep = Callable[[DemoContext], str | None]
