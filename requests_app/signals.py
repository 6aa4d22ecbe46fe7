"""Signals other apps listen to without requests_app importing them (the layers).

``final_answer_sent(sender=Response, response=, item=, by=)``: a head approved a final
answer, inside the approval's transaction (a receiver's error rolls the approval back).

``final_answer_returned(sender=Response, response=, item=, by=)``: the author returned a
sent final answer for rework, inside the evaluation's transaction (the promise of a planned
answer is withdrawn then).
"""

from __future__ import annotations

from django.dispatch import Signal

final_answer_sent = Signal()
final_answer_returned = Signal()
