"""The Almaty maslikhat portal: project package and the council's own structure."""

from .celery import app as celery_app

__all__ = ["celery_app"]
