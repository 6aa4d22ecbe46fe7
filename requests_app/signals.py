"""Signals other apps listen to without requests_app importing them (the layers).

``final_answer_sent(sender=Response, response=, item=, by=)``: a head approved a final
answer, inside the approval's transaction (a receiver's error rolls the approval back).
"""

from __future__ import annotations

from django.dispatch import Signal

final_answer_sent = Signal()
