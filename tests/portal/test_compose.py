"""The production set-up (docker-compose.yml, Dockerfile, .env.example) holds together.

No Docker engine runs here, so the files are parsed: every command names a module,
a Celery app or a management command that exists; every variable the compose file or
the settings use is documented in .env.example and in the README; exactly one beat.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.core.exceptions import ImproperlyConfigured
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
SETTINGS_DIR = ROOT / "maslikhat" / "settings"

APP_SERVICES = ("web", "worker", "beat")
SERVICES = (*APP_SERVICES, "postgres", "redis")

GUNICORN_TARGET = re.compile(r"\bgunicorn\s[^&;|]*?\b([A-Za-z_][\w.]*):([A-Za-z_]\w*)")
CELERY_APP = re.compile(r"\bcelery\s+(?:-A|--app)[\s=]+([A-Za-z_][\w.:]*)")
MANAGE_COMMAND = re.compile(r"\bmanage\.py\s+([\w-]+)")
# `from maslikhat.celery import app` inside a healthcheck's `python -c`.
PYTHON_FROM_IMPORT = re.compile(r"\bfrom\s+([A-Za-z_][\w.]*)\s+import\s+([A-Za-z_]\w*)")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt} and $VAR, but not the
# escaped $$VAR that compose hands to the container's shell.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_]\w*)(?:[:]?[-?+][^}]*)?\}|([A-Za-z_]\w*))")
# What a settings module reads: env.str("NAME", …), env("NAME"), environ.Env().str("NAME", …),
# os.environ["NAME"], os.environ.get("NAME"), os.getenv("NAME").
SETTINGS_READS = (
    re.compile(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']"),
    re.compile(r"\benviron\.Env\(\)(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']"),
    re.compile(r"\bos\.environ(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']"),
    re.compile(r"\bos\.getenv\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']"),
)
ENV_EXAMPLE_ENTRY = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
README_TABLE_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)


# --- Reading the files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


def as_text(value: Any) -> str:
    """A compose command or healthcheck test (string or list) as one line of text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(part) for part in value)
    return str(value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in logical.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_commands() -> list[str]:
    """The shell and exec-form commands of RUN, CMD and ENTRYPOINT as text."""
    commands = []
    for keyword, arguments in dockerfile_instructions():
        if keyword not in {"RUN", "CMD", "ENTRYPOINT"}:
            continue
        if arguments.startswith("["):
            arguments = " ".join(json.loads(arguments))
        commands.append(arguments)
    return commands


def every_command(compose: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of every command the portal's containers run, healthchecks included."""
    for name in APP_SERVICES:
        spec = service(compose, name)
        for key in ("entrypoint", "command"):
            if spec.get(key):
                yield f"{name}.{key}", as_text(spec[key])
        yield f"{name}.healthcheck", as_text(spec["healthcheck"]["test"])
    for index, command in enumerate(dockerfile_commands()):
        yield f"Dockerfile command {index + 1}", command


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a parsed YAML document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def compose_variables(compose: dict[str, Any]) -> set[str]:
    found = set()
    for text in strings_in(compose):
        for braced, bare in COMPOSE_VARIABLE.findall(text):
            found.add(braced or bare)
    return found


def interpolated(text: str, value: str = "secret") -> str:
    """``text`` with every compose variable replaced by ``value``, as a container sees it."""
    return COMPOSE_VARIABLE.sub(value, text).replace("$$", "$")


def env_example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def documented_variables() -> dict[str, str]:
    """Variables of .env.example (set or commented out with their default) → example value."""
    entries = {}
    for line in env_example_lines():
        match = ENV_EXAMPLE_ENTRY.match(line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def env_file_keys(path: Path) -> set[str]:
    keys = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=", line)
        if match:
            keys.add(match.group(1))
    return keys


def settings_variables() -> dict[str, str]:
    """Every environment variable a settings module reads → the file that reads it."""
    found: dict[str, str] = {}
    for module in sorted(SETTINGS_DIR.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        for pattern in SETTINGS_READS:
            for name in pattern.findall(source):
                found.setdefault(name, module.name)
    return found


def readme_configuration_variables() -> set[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Configuration\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Configuration' section"
    return set(README_TABLE_ROW.findall(match.group(1)))


def named_volume_mounts(spec: dict[str, Any], compose: dict[str, Any]) -> dict[str, str]:
    """Container path → named volume, for the short `volume:/path` syntax."""
    mounts = {}
    for entry in spec.get("volumes", []):
        source, _, target = str(entry).partition(":")
        if source in (compose.get("volumes") or {}):
            mounts[target.split(":")[0]] = source
    return mounts


# --- Services and healthchecks ------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_exists_with_a_healthcheck(compose: dict[str, Any], name: str) -> None:
    assert name in compose["services"], f"docker-compose.yml has no service {name!r}"
    healthcheck = service(compose, name).get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name}'s healthcheck is disabled"
    test = healthcheck["test"]
    assert test, f"{name}'s healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test must start with CMD"


def test_every_compose_command_names_a_real_module(compose: dict[str, Any]) -> None:
    checked = 0
    available_commands = get_commands()
    for where, text in every_command(compose):
        for module_name, attribute in GUNICORN_TARGET.findall(text):
            module = importlib.import_module(module_name)
            assert callable(getattr(module, attribute, None)), (
                f"{where}: gunicorn target {module_name}:{attribute} does not exist"
            )
            checked += 1
        for app_name in CELERY_APP.findall(text):
            # The very lookup `celery -A` performs.
            app = find_app(app_name)
            assert isinstance(app, Celery), f"{where}: `celery -A {app_name}` finds no Celery app"
            checked += 1
        for command in MANAGE_COMMAND.findall(text):
            assert command in available_commands, (
                f"{where}: `manage.py {command}` is not a management command"
            )
            checked += 1
        for module_name, attribute in PYTHON_FROM_IMPORT.findall(text):
            module = importlib.import_module(module_name)
            assert hasattr(module, attribute), f"{where}: {module_name}.{attribute} does not exist"
            checked += 1
    # gunicorn twice (web, Dockerfile), celery three times, one healthcheck import,
    # migrate and collectstatic.
    assert checked >= 8, f"only {checked} commands were recognised: did the commands change?"


def test_web_migrates_before_it_serves(compose: dict[str, Any]) -> None:
    command = as_text(service(compose, "web")["command"])
    assert "manage.py migrate --noinput" in command
    assert command.index("migrate") < command.index("gunicorn")
    assert "exec gunicorn" in command, "gunicorn must replace the shell to receive SIGTERM"


def test_worker_and_beat_run_the_projects_celery_app(compose: dict[str, Any]) -> None:
    worker = as_text(service(compose, "worker")["command"])
    beat = as_text(service(compose, "beat")["command"])
    assert re.search(r"\bcelery -A maslikhat worker\b", worker)
    assert re.search(r"\bcelery -A maslikhat beat\b", beat)
    app = find_app("maslikhat")
    app.loader.import_default_modules()  # what a worker does at start: autodiscovers tasks
    assert "core.ping" in app.tasks, "the worker would not know the task /healthz/ publishes"


def test_web_healthcheck_asks_healthz_over_the_proxys_https(compose: dict[str, Any]) -> None:
    test = as_text(service(compose, "web")["healthcheck"]["test"])
    match = re.search(r"https?://127\.0\.0\.1:8000(/[\w/]*)", test)
    assert match, "the web healthcheck must fetch the portal on 127.0.0.1:8000"
    assert resolve(match.group(1)).view_name == "core:healthz"
    # Production settings redirect plain HTTP to HTTPS unless the proxy header says https.
    assert "X-Forwarded-Proto" in test and "https" in test
    hosts = service(compose, "web")["environment"]["DJANGO_ALLOWED_HOSTS"]
    assert "127.0.0.1" in hosts.split(","), "the healthcheck's Host must be an allowed host"


def test_worker_healthcheck_pings_its_own_node(compose: dict[str, Any]) -> None:
    test = service(compose, "worker")["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL", "$HOSTNAME needs a shell"
    assert "inspect ping" in test[1] and "celery@$HOSTNAME" in interpolated(test[1])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any], name: str) -> None:
    depends_on = service(compose, name)["depends_on"]
    assert isinstance(depends_on, dict), f"{name}: depends_on must name conditions"
    assert "redis" in depends_on
    for dependency, condition in depends_on.items():
        assert condition == {"condition": "service_healthy"}, f"{name} → {dependency}"
        assert service(compose, dependency).get("healthcheck"), f"{dependency} has no healthcheck"
    if name != "beat":
        assert "postgres" in depends_on


def test_exactly_one_beat(compose: dict[str, Any]) -> None:
    beat = service(compose, "beat")
    assert beat["deploy"]["replicas"] == 1
    assert beat.get("scale", 1) == 1
    assert "--beat" not in as_text(service(compose, "worker")["command"]), (
        "an embedded beat in the worker would be a second beat"
    )
    assert "EXACTLY ONE beat" in COMPOSE_FILE.read_text(encoding="utf-8")


def test_beat_schedule_lives_on_a_volume(compose: dict[str, Any]) -> None:
    beat = service(compose, "beat")
    match = re.search(r"--schedule[\s=]+(\S+)", as_text(beat["command"]))
    assert match
    schedule_dir = str(Path(match.group(1)).parent)
    assert schedule_dir in named_volume_mounts(beat, compose)


def test_uploads_are_one_volume_shared_by_web_and_worker(compose: dict[str, Any]) -> None:
    volumes = set()
    for name in ("web", "worker"):
        spec = service(compose, name)
        media_root = spec["environment"]["DJANGO_MEDIA_ROOT"]
        mounts = named_volume_mounts(spec, compose)
        assert media_root in mounts, f"{name}: DJANGO_MEDIA_ROOT is not on a named volume"
        volumes.add(mounts[media_root])
    assert len(volumes) == 1


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_the_compose_database_and_broker(
    compose: dict[str, Any], name: str
) -> None:
    environment = service(compose, name)["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "maslikhat.settings.production"
    database = urlsplit(interpolated(environment["DATABASE_URL"]))
    broker = urlsplit(interpolated(environment["REDIS_URL"]))
    assert database.scheme in {"postgres", "postgresql"} and database.hostname == "postgres"
    assert database.username == "maslikhat" and database.password == "secret"
    assert "${POSTGRES_PASSWORD" in environment["DATABASE_URL"]
    assert broker.scheme == "redis" and broker.hostname == "redis"


def test_postgres_and_redis_keep_their_data(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    redis = service(compose, "redis")
    assert postgres["image"].startswith("postgres:15")
    assert redis["image"].startswith("redis:7")
    assert "/var/lib/postgresql/data" in named_volume_mounts(postgres, compose)
    assert "/data" in named_volume_mounts(redis, compose)
    assert "--appendonly yes" in as_text(redis["command"])
    assert "pg_isready" in as_text(postgres["healthcheck"]["test"])
    assert "redis-cli ping" in as_text(redis["healthcheck"]["test"])


# --- Environment variables ----------------------------------------------------------------


def test_every_compose_variable_is_documented_in_env_example(compose: dict[str, Any]) -> None:
    used = compose_variables(compose)
    assert {"POSTGRES_PASSWORD", "DJANGO_SECRET_KEY"} <= used
    missing = sorted(used - documented_variables().keys())
    assert not missing, f"used in docker-compose.yml, missing from .env.example: {missing}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_env_file_key_is_documented_in_env_example(
    compose: dict[str, Any], name: str
) -> None:
    env_files = service(compose, name).get("env_file") or []
    if isinstance(env_files, str):
        env_files = [env_files]
    paths = [entry["path"] if isinstance(entry, dict) else entry for entry in env_files]
    assert ".env" in paths, f"{name} must read the operator's .env"
    documented = documented_variables().keys()
    for path in paths:
        if path == ".env":
            # The operator's copy of .env.example: never committed, never in the image.
            assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
            assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
            continue
        missing = sorted(env_file_keys(ROOT / path) - documented)
        assert not missing, f"{path}: keys missing from .env.example: {missing}"


def test_every_settings_variable_is_in_env_example_and_the_readme() -> None:
    read = settings_variables()
    # The scan itself works: these are read by base.py and production.py.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_SECURE_SSL_REDIRECT"} <= set(
        read
    )
    in_env_example = documented_variables().keys()
    in_readme = readme_configuration_variables()
    missing_env = sorted(f"{name} ({read[name]})" for name in read if name not in in_env_example)
    missing_readme = sorted(f"{name} ({read[name]})" for name in read if name not in in_readme)
    assert not missing_env, f"read by the settings, missing from .env.example: {missing_env}"
    assert not missing_readme, f"read by the settings, missing from README: {missing_readme}"


def test_every_env_example_variable_is_in_the_readme_table() -> None:
    missing = sorted(documented_variables().keys() - readme_configuration_variables())
    assert not missing, f"in .env.example, missing from the README's Configuration: {missing}"


def test_every_env_example_variable_is_explained_by_a_comment() -> None:
    lines = env_example_lines()
    for index, line in enumerate(lines):
        match = ENV_EXAMPLE_ENTRY.match(line)
        if not match:
            continue
        previous = lines[index - 1] if index else ""
        assert previous.startswith("#") and not ENV_EXAMPLE_ENTRY.match(previous), (
            f".env.example: {match.group(1)} has no explanation on the line above it"
        )
        assert match.group(2), f".env.example: {match.group(1)} has no example value"


def test_the_secret_key_placeholder_is_refused_by_production() -> None:
    """Copying .env.example without replacing the key must not give a running portal."""
    source = (SETTINGS_DIR / "production.py").read_text(encoding="utf-8")
    function = next(
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == "require_real_secret_key"
    )
    namespace: dict[str, Any] = {
        "ImproperlyConfigured": ImproperlyConfigured,
        "INSECURE_DEV_SECRET_KEY": importlib.import_module(
            "maslikhat.settings.base"
        ).INSECURE_DEV_SECRET_KEY,
    }
    exec(compile(ast.Module(body=[function], type_ignores=[]), "production.py", "exec"), namespace)
    placeholder = documented_variables()["DJANGO_SECRET_KEY"]
    assert "REPLACE-ME" in placeholder
    with pytest.raises(ImproperlyConfigured):
        namespace["require_real_secret_key"](placeholder)


# --- The image ----------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_production_image() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    env = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    match = re.search(r"DJANGO_SETTINGS_MODULE=([\w.]+)", env)
    assert match and match.group(1) == "maslikhat.settings.production"
    assert importlib.util.find_spec(match.group(1)) is not None
    # The build-time key is an ARG: it must never become the containers' key.
    assert "DJANGO_SECRET_KEY" not in env
    assert any(
        keyword == "ARG" and args.startswith("DJANGO_SECRET_KEY") for keyword, args in instructions
    )
    assert any("manage.py collectstatic --noinput" in command for command in dockerfile_commands())
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    assert ("EXPOSE", "8000") in instructions


# --- The object store (profile s3) ----------------------------------------------------------

S3_SERVICES = ("minio", "minio-bucket")


def test_the_object_store_runs_only_with_its_profile(compose: dict[str, Any]) -> None:
    for name in S3_SERVICES:
        assert service(compose, name)["profiles"] == ["s3"], f"{name} must be in profile s3"
    # A plain `docker compose up` must not need it: no service outside the profile
    # depends on one inside it.
    for name, spec in compose["services"].items():
        if "s3" in (spec.get("profiles") or []):
            continue
        depends_on = spec.get("depends_on") or {}
        assert not set(depends_on) & set(S3_SERVICES), f"{name} depends on the s3 profile"


def test_the_object_store_keeps_its_data_and_is_private(compose: dict[str, Any]) -> None:
    minio = service(compose, "minio")
    command = as_text(minio["command"])
    match = re.search(r"\bserver\s+(/\S+)", command)
    assert match and match.group(1) in named_volume_mounts(minio, compose)
    assert minio["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    # Only the portal reaches the store: no port on the host.
    assert not minio.get("ports"), "the object store must not be published on the host"
    # Its root user is the portal's access key, so the two cannot drift apart.
    environment = minio["environment"]
    assert "${S3_ACCESS_KEY_ID" in environment["MINIO_ROOT_USER"]
    assert "${S3_SECRET_ACCESS_KEY" in environment["MINIO_ROOT_PASSWORD"]


def test_the_bucket_is_created_private_once_the_store_is_healthy(compose: dict[str, Any]) -> None:
    bucket = service(compose, "minio-bucket")
    assert bucket["depends_on"] == {"minio": {"condition": "service_healthy"}}
    script = interpolated(as_text(bucket["entrypoint"]))
    assert "mc mb --ignore-existing" in script and "$S3_BUCKET" in script
    assert "mc anonymous set none" in script, "anonymous access to the bucket must stay off"
    assert bucket["restart"] == "no"
    # The bucket's name and keys are the portal's own, from .env.
    assert ".env" in (bucket.get("env_file") or [bucket.get("env_file")])
    for variable in ("FILE_STORAGE", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID"):
        assert variable in documented_variables(), f"{variable} is not in .env.example"
    assert "http://minio:9000" in documented_variables()["S3_ENDPOINT_URL"]
