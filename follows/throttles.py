"""Limits on the sign-up form, so it cannot be used to flood an inbox or the portal.

Counters live in the cache (Redis in production), one per address and one per client IP,
each for an hour from its first sign-up: at most ``PER_ADDRESS`` sign-ups per address and
``PER_IP`` per IP an hour. The client IP is the one login throttling sees (the same proxy
setting, ``AXES_PROXY_COUNT``).
"""

from __future__ import annotations

import hashlib

from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.http import HttpRequest

PER_ADDRESS = 5
PER_IP = 20
WINDOW_SECONDS = 3600


def _hit(key: str, limit: int) -> bool:
    """Count one sign-up under ``key``; False when the limit was already reached."""
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count <= limit


def sign_up_allowed(request: HttpRequest, email: str) -> bool:
    """Count a sign-up for the client IP and the address; False when either is over its limit."""
    ip = get_client_ip_address(request) or "unknown"
    digest = hashlib.sha256(email.encode()).hexdigest()
    ip_ok = _hit(f"follows:signup:ip:{ip}", PER_IP)
    address_ok = _hit(f"follows:signup:address:{digest}", PER_ADDRESS)
    return ip_ok and address_ok
