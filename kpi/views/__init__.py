"""The browser pages of the two-way KPI, one module per page.

- ``rankings``: ``/kpi/``, departments or deputies ranked for a period;
- ``entity``: a department's or a deputy's page (components, trend, weights);
- ``methodology``: the formulas, the weights in force and their history;
- ``survey``: the perception survey's report, answering it, opening and closing rounds;
- ``weights``, ``flags``: the staff pages (versions of the weights, rater flags);
- ``activities``: deputies' receptions, reports and visits.

Each view parses its input, reads through one selector (``kpi/selectors.py``) or acts
through one service (``kpi/services.py``, the same ones the API calls), turns the result
into what the template shows with ``kpi/presenters.py``, and renders. Every number comes
from a stored snapshot: nothing is computed in a view. Charts get their data through
``json_script`` and are drawn by ``static/js/kpi.js``; every chart has its numbers in a
table under it.

Rankings, entity pages, the methodology and the survey report are public (the public sees
the KPI rankings and the methodology); the weights and the rater flags are for maslikhat
staff (the chair reads them); activities for deputies (their own) and staff (anyone's).
"""
