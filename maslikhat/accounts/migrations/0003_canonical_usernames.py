"""Bring stored usernames to their canonical spelling (NFKC, no surrounding spaces, lower case).

Login now looks usernames up in that spelling, so an account stored as "Deputy1" would no
longer be reachable. Two accounts whose names differ only in case or spaces cannot both
be kept: the migration stops and names them, and an administrator renames one of them
(in the admin) before migrating again. Nothing is changed until every name is clear.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from django.db import migrations


def canonical(username: str) -> str:
    # A copy of maslikhat.accounts.models.canonical_username as of this migration.
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def canonicalise_usernames(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    by_canonical: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, username in User.objects.values_list("pk", "username").iterator():
        by_canonical[canonical(username)].append((pk, username))
    clashes = {name: rows for name, rows in by_canonical.items() if len(rows) > 1}
    if clashes:
        listing = "; ".join(
            f"{name!r} ← " + ", ".join(f"{username!r} (id {pk})" for pk, username in rows)
            for name, rows in sorted(clashes.items())
        )
        raise RuntimeError(
            "Usernames must not differ only in letter case or surrounding spaces. "
            f"Rename all but one account of each group, then migrate again: {listing}"
        )
    for name, [(pk, username)] in by_canonical.items():
        if username != name:
            User.objects.filter(pk=pk).update(username=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_email_reminders")]

    operations = [
        migrations.RunPython(canonicalise_usernames, migrations.RunPython.noop, elidable=True),
    ]
