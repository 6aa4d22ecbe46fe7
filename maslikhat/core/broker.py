"""The embedded broker: kombu's filesystem transport, with messages that appear whole.

Without Redis (``make run``, a single machine on SQLite) tasks travel as files in
``var/celery/queue/``. Kombu's transport creates a message's file, then writes into it;
the worker, polling the folder, may move and read a file in between and find it empty.
It cannot decode that, and the worker's consumer stops on the error: the worker exits,
and ``run_portal`` stops the portal with it. Under load (fifty deputies submitting at
once, on a busy machine) that happened.

Here the message is written under a name the worker does not pick up (it ends in
``.part``) and then renamed to its queue name. A rename within one folder is atomic, so
the worker sees either no file or the whole message.

``CELERY_BROKER_TRANSPORT`` names this transport in the settings whenever the broker is
the filesystem.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

#: The suffix of a message still being written; the worker reads only ``*.<queue>.msg``.
PARTIAL_SUFFIX = ".part"


class Channel(filesystem.Channel):
    # kombu's own classes name the second argument differently (message, payload); it is
    # passed by position.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``payload`` on ``queue``: written aside, then renamed into the queue."""
        # The name kombu gives a message: its time first, so the worker reads in order.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        partial = path + PARTIAL_SUFFIX
        # Encoded before any file exists: a payload that cannot be encoded leaves nothing.
        content = str_to_bytes(dumps(payload))
        try:
            with open(partial, "wb", buffering=0) as file:
                file.write(content)
            os.replace(partial, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise filesystem.ChannelError(f"Cannot add file {path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
