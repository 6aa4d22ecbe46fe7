"""What ``make bench`` times: every list, detail, dashboard, KPI, export and public endpoint.

Each row names its URL pattern (so ``tests/test_bench.py`` can check that every pattern
of the portal is timed here or said below why not), the path with placeholders that
``bench/run.py`` fills in from the database (``{request}``, ``{instruction}``, …), the
persona that calls it and its target class:

- ``list``: p95 ≤ 3× the ``/api/v1/auth/me/`` floor and ≤ 1.5× the plain ``ModelSerializer``
  list floor;
- ``search``: p95 ≤ 5× the auth/me floor;
- ``dashboard`` (the summary, dashboards, KPI rankings, public statistics): p95 ≤ 3× the
  auth/me floor;
- ``detail``, ``export``, ``page``: no ratio target;
- ``floor``: the two floors themselves.

Every row also has the growth target: p95 at the large size ≤ 1.3× p95 at the demo year.
Personas: ``staff`` (the council's office), ``deputy`` (the deputy with the most requests),
``head`` (the head of the department with the most requests), ``public`` (no login).
API rows authenticate with a token, page rows with a session.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_CLASSES = ("floor", "list", "search", "dashboard", "detail", "export", "page")
PERSONAS = ("staff", "deputy", "head", "public")

#: The two floors every ratio is taken against.
FLOOR_ME = "auth/me floor"
FLOOR_MODEL_SERIALIZER = "ModelSerializer floor"


@dataclass(frozen=True)
class Endpoint:
    """One timed row: a GET of ``path`` (placeholders filled in) as ``persona``."""

    label: str
    name: str  # the URL pattern's name, as ``reverse`` takes it
    path: str
    persona: str
    target: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/") or self.path.startswith("/bench/")


def _api(label: str, name: str, path: str, persona: str, target: str) -> Endpoint:
    return Endpoint(label, name, "/api/v1/" + path, persona, target)


def _page(label: str, name: str, path: str, persona: str, target: str) -> Endpoint:
    return Endpoint(label, name, path, persona, target)


ENDPOINTS: tuple[Endpoint, ...] = (
    # --- The floors ---------------------------------------------------------------------
    _api(FLOOR_ME, "auth-me", "auth/me/", "staff", "floor"),
    Endpoint(
        FLOOR_MODEL_SERIALIZER, "bench-floor-requests", "/bench/floor/requests/", "staff", "floor"
    ),
    # --- Deputy requests (API) ------------------------------------------------------------
    _api("API requests, staff", "request-list", "requests/", "staff", "list"),
    _api("API requests, head", "request-list", "requests/", "head", "list"),
    _api("API requests, deputy", "request-list", "requests/", "deputy", "list"),
    _api(
        "API requests overdue by due date, staff",
        "request-list",
        "requests/?is_overdue=true&ordering=due_date",
        "staff",
        "list",
    ),
    _api(
        "API requests search, staff", "request-list", "requests/?search={word}", "staff", "search"
    ),
    _api(
        "API requests search, deputy", "request-list", "requests/?search={word}", "deputy", "search"
    ),
    _api(
        "API similar requests",
        "request-similar",
        "requests/similar/?title={title}",
        "deputy",
        "search",
    ),
    _api("API request", "request-detail", "requests/{request}/", "deputy", "detail"),
    _api(
        "API request responses",
        "request-responses",
        "requests/{request}/responses/",
        "deputy",
        "detail",
    ),
    _api(
        "API request history", "request-history", "requests/{request}/history/", "deputy", "detail"
    ),
    _api(
        "API request evaluations",
        "request-evaluations",
        "requests/{request}/evaluations/",
        "deputy",
        "detail",
    ),
    _api(
        "API request messages",
        "request-messages",
        "requests/{request}/messages/",
        "deputy",
        "detail",
    ),
    _api(
        "API request extensions",
        "request-extensions",
        "requests/{request}/extensions/",
        "deputy",
        "detail",
    ),
    _api(
        "API request attachments",
        "request-attachments",
        "requests/{request}/attachments/",
        "deputy",
        "detail",
    ),
    # --- Promises of planned answers (API) -----------------------------------------------
    _api("API promises, staff", "commitment-list", "commitments/", "staff", "list"),
    _api("API promises, head", "commitment-list", "commitments/", "head", "list"),
    _api("API promise", "commitment-detail", "commitments/{commitment}/", "staff", "detail"),
    # --- Protocol instructions and meetings (API) -----------------------------------------
    _api("API instructions, staff", "instruction-list", "instructions/", "staff", "list"),
    _api("API instructions, head", "instruction-list", "instructions/", "head", "list"),
    _api(
        "API execution discipline",
        "instruction-discipline",
        "instructions/discipline/",
        "staff",
        "dashboard",
    ),
    _api("API instruction", "instruction-detail", "instructions/{instruction}/", "head", "detail"),
    _api(
        "API instruction reports",
        "instruction-reports",
        "instructions/{instruction}/reports/",
        "head",
        "detail",
    ),
    _api(
        "API instruction history",
        "instruction-history",
        "instructions/{instruction}/history/",
        "head",
        "detail",
    ),
    _api(
        "API instruction messages",
        "instruction-messages",
        "instructions/{instruction}/messages/",
        "head",
        "detail",
    ),
    _api(
        "API instruction extensions",
        "instruction-extensions",
        "instructions/{instruction}/extensions/",
        "head",
        "detail",
    ),
    _api(
        "API instruction attachments",
        "instruction-attachments",
        "instructions/{instruction}/attachments/",
        "head",
        "detail",
    ),
    _api("API meetings", "meeting-list", "meetings/", "staff", "list"),
    _api("API meeting", "meeting-detail", "meetings/{meeting}/", "staff", "detail"),
    _api("API protocols", "protocol-list", "protocols/", "staff", "list"),
    _api("API protocol", "protocol-detail", "protocols/{protocol}/", "staff", "detail"),
    # --- Notifications and the directory (API) --------------------------------------------
    _api("API notifications", "notification-list", "notifications/", "deputy", "list"),
    _api(
        "API notification",
        "notification-detail",
        "notifications/{notification}/",
        "deputy",
        "detail",
    ),
    _api("API convocations", "convocation-list", "convocations/", "staff", "list"),
    _api("API convocation", "convocation-detail", "convocations/{convocation}/", "staff", "detail"),
    _api("API commissions", "commission-list", "commissions/", "staff", "list"),
    _api("API commission", "commission-detail", "commissions/{commission}/", "staff", "detail"),
    _api("API districts", "district-list", "districts/", "staff", "list"),
    _api("API district", "district-detail", "districts/{district}/", "staff", "detail"),
    _api("API departments", "department-list", "departments/", "staff", "list"),
    _api("API department", "department-detail", "departments/{department}/", "staff", "detail"),
    _api("API deputies", "deputy-list", "deputies/", "staff", "list"),
    _api("API deputy", "deputy-detail", "deputies/{deputy}/", "staff", "detail"),
    _api("API categories", "category-list", "categories/", "staff", "list"),
    _api("API category", "category-detail", "categories/{category}/", "staff", "detail"),
    # --- KPI (API) ------------------------------------------------------------------------
    _api("API KPI departments", "kpi-department-list", "kpi/departments/", "staff", "dashboard"),
    _api(
        "API KPI department",
        "kpi-department-detail",
        "kpi/departments/{department}/",
        "staff",
        "detail",
    ),
    _api("API KPI deputies", "kpi-deputy-list", "kpi/deputies/", "staff", "dashboard"),
    _api("API KPI deputy", "kpi-deputy-detail", "kpi/deputies/{deputy}/", "staff", "detail"),
    _api("API KPI weights", "kpi-weights-list", "kpi/weights/", "staff", "list"),
    _api("API KPI methodology", "kpi-methodology-list", "kpi/methodology/", "staff", "detail"),
    _api("API KPI rater flags", "kpi-flag-list", "kpi/flags/", "staff", "list"),
    _api("API KPI activities", "kpi-activity-list", "kpi/activities/", "staff", "list"),
    _api("API KPI survey", "kpi-survey-list", "kpi/survey/", "staff", "list"),
    # --- Reports (API) --------------------------------------------------------------------
    _api("API summary, staff", "reports-summary", "reports/summary/", "staff", "dashboard"),
    _api("API summary, head", "reports-summary", "reports/summary/", "head", "dashboard"),
    _api("API to-do, staff", "me-todo", "me/todo/", "staff", "dashboard"),
    _api("API to-do, head", "me-todo", "me/todo/", "head", "dashboard"),
    _api("API to-do, deputy", "me-todo", "me/todo/", "deputy", "dashboard"),
    _api(
        "API requests export (one row)",
        "requests-export",
        "requests/export/?format=xlsx&search={number}",
        "staff",
        "export",
    ),
    _api(
        "API instructions export (head)",
        "instructions-export",
        "instructions/export/?format=xlsx&status=returned",
        "head",
        "export",
    ),
    # --- Pages: home, dashboards, exports -------------------------------------------------
    _page("Home, staff", "reports:home", "/", "staff", "page"),
    _page("Home, deputy", "reports:home", "/", "deputy", "page"),
    _page("Home, head", "reports:home", "/", "head", "page"),
    _page("Dashboard", "reports:dashboard", "/dashboard/", "staff", "dashboard"),
    _page(
        "Department dashboard",
        "reports:dashboard-department",
        "/dashboard/department/",
        "head",
        "dashboard",
    ),
    _page(
        "Deputy dashboard", "reports:dashboard-deputy", "/dashboard/deputy/", "deputy", "dashboard"
    ),
    _page(
        "Quarterly report PDF",
        "reports:quarterly-report",
        "/dashboard/report/{quarter}.pdf",
        "staff",
        "export",
    ),
    _page("Export jobs", "reports:export-jobs", "/exports/", "staff", "list"),
    _page("Imports of past records", "imports:index", "/imports/", "staff", "page"),
    _page(
        "Requests export page (one row)",
        "reports:export-requests",
        "/exports/requests/?format=csv&search={number}",
        "staff",
        "export",
    ),
    _page(
        "Instructions export page (head)",
        "reports:export-instructions",
        "/exports/instructions/?format=csv&status=returned",
        "head",
        "export",
    ),
    _page("KPI export", "reports:export-kpi", "/exports/kpi/?format=csv", "public", "export"),
    # --- Pages: requests, instructions, KPI, notifications --------------------------------
    _page("Requests, staff", "requests:list", "/requests/", "staff", "list"),
    _page("Requests, head", "requests:list", "/requests/", "head", "list"),
    _page("Requests, deputy", "requests:list", "/requests/", "deputy", "list"),
    _page("Requests search, staff", "requests:list", "/requests/?search={word}", "staff", "search"),
    _page("Request", "requests:detail", "/requests/{request}/", "deputy", "detail"),
    _page("New request form", "requests:new", "/requests/new/", "deputy", "page"),
    _page(
        "Similar requests",
        "requests:similar",
        "/requests/similar/?title={title}",
        "deputy",
        "search",
    ),
    _page("Promises, staff", "commitments:list", "/commitments/", "staff", "page"),
    _page("Promises, head", "commitments:list", "/commitments/", "head", "page"),
    _page("Instructions, staff", "instructions:list", "/instructions/", "staff", "list"),
    _page("Instructions, head", "instructions:list", "/instructions/", "head", "list"),
    _page(
        "Execution discipline",
        "instructions:discipline",
        "/instructions/discipline/",
        "staff",
        "dashboard",
    ),
    _page("Instruction", "instructions:detail", "/instructions/{instruction}/", "head", "detail"),
    _page("Meetings", "instructions:meetings", "/instructions/meetings/", "staff", "list"),
    _page(
        "New meeting form",
        "instructions:meeting_new",
        "/instructions/meetings/new/",
        "staff",
        "page",
    ),
    _page(
        "Meeting", "instructions:meeting", "/instructions/meetings/{meeting}/", "staff", "detail"
    ),
    _page(
        "Protocol",
        "instructions:protocol",
        "/instructions/protocols/{protocol}/",
        "staff",
        "detail",
    ),
    _page("KPI rankings", "kpi:index", "/kpi/", "staff", "dashboard"),
    _page("KPI department", "kpi:department", "/kpi/departments/{department}/", "staff", "detail"),
    _page("KPI deputy", "kpi:deputy", "/kpi/deputies/{deputy}/", "staff", "detail"),
    _page("KPI methodology", "kpi:methodology", "/kpi/methodology/", "staff", "page"),
    _page("KPI weights", "kpi:weights", "/kpi/weights/", "staff", "page"),
    _page("KPI rater flags", "kpi:flags", "/kpi/flags/", "staff", "list"),
    _page("KPI activities", "kpi:activities", "/kpi/activities/", "deputy", "list"),
    _page("KPI survey", "kpi:survey", "/kpi/survey/", "staff", "page"),
    _page("Working calendar", "directory:calendar", "/calendar/", "staff", "page"),
    _page("Deadline rules", "directory:rules", "/calendar/rules/", "staff", "page"),
    _page("Notifications", "core:notifications", "/notifications/", "deputy", "list"),
    _page("Preferences", "accounts:preferences", "/accounts/settings/", "deputy", "page"),
    _page("Health check", "core:healthz", "/healthz/", "public", "page"),
    # --- The public portal ----------------------------------------------------------------
    _page("Public home", "reports:public", "/public/", "public", "page"),
    _page("Public requests", "reports:public-requests", "/public/requests/", "public", "list"),
    _page(
        "Public requests search",
        "reports:public-requests",
        "/public/requests/?search={word}",
        "public",
        "search",
    ),
    _page(
        "Public request",
        "reports:public-request",
        "/public/requests/{public_request}/",
        "public",
        "detail",
    ),
    _page(
        "Public statistics",
        "reports:public-statistics",
        "/public/statistics/",
        "public",
        "dashboard",
    ),
    _page("Public rankings", "reports:public-rankings", "/public/rankings/", "public", "dashboard"),
    _page(
        "Public methodology", "reports:public-methodology", "/public/methodology/", "public", "page"
    ),
    _page("Public deputies", "reports:public-deputies", "/public/deputies/", "public", "list"),
    _page(
        "Public deputy", "reports:public-deputy", "/public/deputies/{deputy}/", "public", "detail"
    ),
    _page("Public plan", "reports:public-plan", "/public/plan/", "public", "page"),
    _page(
        "Public instructions",
        "reports:public-instructions",
        "/public/instructions/",
        "public",
        "list",
    ),
    _page(
        "Public instruction",
        "reports:public-instruction",
        "/public/instructions/{public_instruction}/",
        "public",
        "detail",
    ),
    _page("Public promises", "reports:public-promises", "/public/promises/", "public", "dashboard"),
    _page("Follow form", "follows:follow", "/public/follow/", "public", "page"),
    _page(
        "Requests feed", "follows:feed-requests", "/public/feeds/requests.atom", "public", "list"
    ),
    _page(
        "Instructions feed",
        "follows:feed-instructions",
        "/public/feeds/instructions.atom",
        "public",
        "list",
    ),
)

#: URL patterns not timed, and why. Besides these, ``tests/test_bench.py`` leaves out the
#: admin, the POST-only API actions and the pages' action addresses (each takes a POST
#: and calls one service).
NOT_TIMED: dict[str, str] = {
    "imports:template": "a template workbook built from the column table, no data",
    "imports:batch": "one import batch; batches are not part of the demo data",
    "imports:progress": "one import batch's progress",
    "imports:commit": "a POST: staff start an import",
    "auth-token": "a POST: the benchmark logs in with it",
    "accounts:login": "logging in, not a page of the portal's data",
    "accounts:logout": "logging out",
    "set_language": "a POST that sets the language",
    "core:attachment-download": "a file download; the demo data has no files",
    "core:notification-read": "a POST",
    "core:notifications-read-all": "a POST",
    "kpi:flag-review": "a POST: staff review a rater flag",
    "kpi:survey-open": "a POST: staff open a survey round",
    "kpi:survey-close": "a POST: staff close a survey round",
    "directory:calendar-day": "the form of one decreed day, the same at every size",
    "directory:calendar-day-remove": "the confirmation of one decreed day's removal",
    "directory:rule": "the form of one deadline rule (addressed by its code)",
    "follows:confirm": "a one-time link from a confirmation e-mail",
    "follows:unsubscribe": "a one-time link from a digest e-mail",
    "requests:edit": "the form of a draft, the same page as requests:new",
    "reports:export-job": "one export job of its owner; jobs are not part of the demo data",
    "reports:export-job-status": "one export job of its owner",
    "reports:export-job-download": "one export job's file",
    "api-root": "the API's index of links",
    "api-schema": "the generated OpenAPI document, the same at every size",
    "api-docs": "Swagger UI's page, static",
}


def placeholders(path: str) -> set[str]:
    """The ``{name}`` placeholders of ``path``."""
    import string

    return {name for _text, name, _spec, _conv in string.Formatter().parse(path) if name}
