"""The demo of the portal: ``manage.py seed_demo`` and the builders of the demo year.

Built on top of every domain app and imported by none of them: the demo reaches the
council's data only through the domain apps' services, and its corpora (problems, topics,
answers, names, phrases) are data files under ``demo/data/``.
"""
