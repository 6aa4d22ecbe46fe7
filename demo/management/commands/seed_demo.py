"""``manage.py seed_demo``: the demo directory, the demo accounts and the demo year.

The directory and the accounts come first (``seed_directory``); then every step
in ``STEPS`` runs in order, inside the same transaction, so a failing step
leaves nothing half-loaded.

Adding a step: write a function ``def seed_something(context: DemoContext) -> str | None``
in a module of the ``demo`` app, draw randomness only from
``context.rng("something")``, make it idempotent, use ``context.scale`` for the volume,
keep its texts and figures in ``demo/data/``, return a summary line (or None) and append
it to ``STEPS``. The demo imports the domain apps; none of them imports the demo.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from demo.context import DEFAULT_SEED, DemoContext, DemoDirectory, DemoStep
from demo.decreed_days import seed_decreed_days
from demo.directory import department_usernames, seed_directory
from demo.instructions import seed_instructions
from demo.kpi import seed_kpi
from demo.promises import seed_promises
from demo.reminders import seed_reminders
from demo.requests import seed_requests
from maslikhat.accounts.models import Role, User

# The demo steps run after the directory, in this order.
STEPS: list[DemoStep] = [
    # First: the decreed days and the rules the due dates of the demo year are computed by.
    seed_decreed_days,
    seed_requests,
    # After the requests: their promises (made at the heads' approvals) in every state.
    seed_promises,
    seed_instructions,
    # After the requests and instructions: the KPI snapshots are computed from them.
    seed_kpi,
    # Today's reminders, so the demo accounts see what is due when they log in.
    seed_reminders,
]


class Command(BaseCommand):
    help = (
        "Load the demo directory and accounts (admin, staff, chair, deputy1…, <code>-head, "
        "<code>-exec, one password) and the demo year; deterministic for a seed, safe to re-run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Volume of the demo year: N times one realistic year (for benchmarks).",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Seed of the random choices."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (used by `make run`).",
        )

    def handle(self, *args: Any, scale: int, seed: int, if_empty: bool, **options: Any) -> None:
        if scale < 1:
            raise CommandError(_("--scale must be 1 or more."))
        if if_empty and User.objects.exists():
            self.stdout.write(_("The database already has users: demo data not loaded."))
            return
        with transaction.atomic():
            directory = seed_directory(seed=seed, scale=scale)
            context = DemoContext(directory=directory, seed=seed, scale=scale)
            summaries = [line for step in STEPS if (line := step(context))]
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data loaded (seed %(seed)s, scale %(scale)s).")
                % {"seed": seed, "scale": scale}
            )
        )
        for line in summaries:
            self.stdout.write(line)
        self.write_logins(directory)

    def write_logins(self, directory: DemoDirectory) -> None:
        """The demo logins as a short table: role, usernames; then the password."""
        deputies = [d.user.username for d in directory.deputies]
        rows: list[tuple[str, str]] = [
            (str(Role.ADMIN.label), directory.admin.username),
            (str(Role.STAFF.label), directory.staff.username),
            (str(Role.CHAIR.label), directory.chair.username),
        ]
        if deputies:
            rows.append((str(Role.DEPUTY.label), f"{deputies[0]} … {deputies[-1]}"))
        department_count = len(directory.heads)
        if department_count:
            head, executor = department_usernames(next(iter(directory.heads)))
            accounts = len(directory.heads) + len(directory.executors)
            rows.append(
                (
                    f"{Role.HEAD.label} / {Role.EXECUTOR.label}",
                    _("%(example)s, … (%(departments)s, %(accounts)s)")
                    % {
                        "example": f"{head} / {executor}",
                        "departments": ngettext(
                            "%(count)d department", "%(count)d departments", department_count
                        )
                        % {"count": department_count},
                        "accounts": ngettext("%(count)d account", "%(count)d accounts", accounts)
                        % {"count": accounts},
                    },
                )
            )
        width = max(len(label) for label, _value in rows) + 2
        self.stdout.write(_("Demo accounts:"))
        for label, value in rows:
            self.stdout.write(f"  {label.ljust(width)}{value}")
        self.stdout.write(_("Password: %(password)s") % {"password": directory.password})
        if directory.created_accounts < len(directory.users):
            self.stdout.write(_("Accounts that existed before this run kept their passwords."))
