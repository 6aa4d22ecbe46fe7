"""The web process's garbage collector, set for a server rather than a script.

A page builds thousands of short-lived objects (model instances, template nodes' values,
lazy translations). CPython's cyclic collector runs its youngest generation every 700 net
allocations and, every so often, walks the whole heap, Django's modules and the loaded
templates included: a list page paid 10–20 % of its time to collections that found
almost nothing to free (measured with ``bench/profile.py``: the time moved to whatever
allocation happened to trigger them).

``tune_web_process`` is called once the WSGI application is loaded
(``maslikhat/wsgi.py``), in each gunicorn worker:

- ``gc.freeze()`` moves everything loaded so far (Django, the portal, the URL map, the
  settings) to the permanent generation, which collections never walk;
- the youngest generation is collected every ``YOUNG_THRESHOLD`` allocations instead of
  700, the older ones less often too. Reference counting still frees almost everything at
  once; only cycles wait a little longer, a few megabytes at most per worker.

The Celery worker and management commands keep Python's defaults.
"""

from __future__ import annotations

import gc
from importlib import import_module

from django.conf import settings

#: Allocations (net of frees) between collections of the youngest generation.
YOUNG_THRESHOLD = 50_000
#: Youngest-generation collections between collections of the middle one, and middle
#: ones between full collections.
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 50

THRESHOLDS = (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def tune_web_process() -> None:
    """Freeze what is loaded and collect less often (see the module's docstring).

    The URL map is imported first (it imports every view module), so that the first
    request's imports are frozen too."""
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
