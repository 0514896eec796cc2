"""deploy/ kept honest with the code: the Procfile, the compose file, the image and the example
environment run what `make run` runs, with the variables the settings read, one beat."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # PyYAML: installed with drf-spectacular, which needs it
from celery.app.utils import find_app
from django.urls import resolve

from scripts.devstack import web_server_command
from telehealth.celery import app as celery_app
from telehealth.env import secret_key_weakness

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# The image's code directory (deploy/Dockerfile's WORKDIR) and so its default EXPORT_DIR.
IMAGE_EXPORT_DIR = "/app/var/exports"
NAME = r"[A-Z][A-Z0-9_]*"


def _procfile() -> dict[str, str]:
    """Process type -> command, as honcho and foreman read the file."""
    text = (DEPLOY / "Procfile").read_text()
    return dict(re.findall(r"^([A-Za-z0-9_-]+):\s*(.+)$", text, re.MULTILINE))


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined and comments left out."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    pairs = (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    return [(word.upper(), rest.strip()) for word, rest in pairs]


def _env_example() -> tuple[dict[str, str], set[str]]:
    """The variables env.example sets (with their values) and those it only shows, commented."""
    values, shown = {}, set()
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if match := re.fullmatch(rf"({NAME})=(.*)", line.strip()):
            values[match[1]] = match[2].strip('"')
        elif match := re.fullmatch(rf"#\s*({NAME})=.*", line.strip()):
            shown.add(match[1])
    return values, shown


def _settings_reads() -> set[str]:
    """Every variable telehealth/settings.py reads, through telehealth.env's readers."""
    source = (ROOT / "telehealth" / "settings.py").read_text()
    return set(re.findall(rf'\b(?:env_[a-z]+|_api_rate)\(\s*"({NAME})"', source))


def _deploy_reads() -> set[str]:
    """Variables the deploy files themselves expand (`${WEB_CONCURRENCY:-2}` and the like)."""
    names = set()
    for name in ("Procfile", "Dockerfile", "compose.yaml"):
        names |= set(re.findall(rf"\$\{{?({NAME})", (DEPLOY / name).read_text()))
    return names


def _expand(command: str, env: dict[str, str]) -> list[str]:
    """The words the platform's shell runs for a Procfile line or a shell-form CMD."""
    result = subprocess.run(
        ["sh", "-c", f'printf "%s\\n" {command.removeprefix("exec ")}'],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def _production_variables() -> tuple[set[str], set[str]]:
    """From docs/operations.md's "Running in production": the names in the Environment table,
    and the names in every table up to "Each release" (the SMS and email settings too)."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Running in production", 1)[1].split("### Each release", 1)[0]
    environment = section.split("### Environment", 1)[1].split("###", 1)[0]

    def first_column_names(markdown: str) -> set[str]:
        cells = re.findall(r"^\|([^|]+)\|", markdown, re.MULTILINE)
        return {name for cell in cells for name in re.findall(rf"`({NAME})`", cell)}

    return first_column_names(environment), first_column_names(section)


def _services_running(compose: dict, subcommand: str) -> list[str]:
    """Names of the services whose command is `celery ... <subcommand>`."""
    return [
        name
        for name, service in compose["services"].items()
        if "celery" in service.get("command", []) and subcommand in service["command"]
    ]


def test_env_example_names_only_variables_the_code_reads():
    values, shown = _env_example()
    readable = _settings_reads() | _deploy_reads()

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= _settings_reads()
    assert set(values) | shown <= readable, (set(values) | shown) - readable


def test_env_example_sets_every_variable_production_requires():
    required, documented = _production_variables()
    values, shown = _env_example()

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "SMS_BACKEND"} <= documented
    assert required <= set(values), required - set(values)
    assert documented <= set(values) | shown, documented - set(values) - shown
    assert values["DATABASE_URL"].startswith("postgres://")
    assert values["DJANGO_HTTPS"] == "1"


def test_env_example_holds_no_key_a_process_would_start_with():
    values, shown = _env_example()

    assert secret_key_weakness(values["DJANGO_SECRET_KEY"]) is not None
    assert "DJANGO_DEBUG" not in set(values) | shown


@pytest.mark.parametrize(
    "env",
    [{}, {"PORT": "8123", "WEB_CONCURRENCY": "6", "WEB_HEADER_TIMEOUT": "7"}],
    ids=["defaults", "from-the-environment"],
)
def test_procfile_web_is_make_runs_server_on_every_address(env, monkeypatch):
    for name in ("WEB_CONCURRENCY", "WEB_HEADER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The process manager's or the image's python; every address, which the proxy reaches.
    expected = [
        "python" if word == sys.executable else word
        for word in web_server_command(int(env.get("PORT", "8000")))
    ]
    expected[expected.index("--host") + 1] = "0.0.0.0"

    assert _expand(_procfile()["web"], env) == expected


def test_image_and_compose_run_the_procfiles_web_server():
    env = {"PORT": "8000", "WEB_CONCURRENCY": "3", "WEB_HEADER_TIMEOUT": "4"}
    (cmd,) = [arguments for instruction, arguments in _dockerfile() if instruction == "CMD"]

    assert not cmd.startswith("["), "a shell-form CMD, so that it reads the environment"
    assert _expand(cmd, env) == _expand(_procfile()["web"], env)
    assert "command" not in _compose()["services"]["web"], "web runs the image's CMD"


def test_image_runs_as_a_non_root_user():
    instructions = _dockerfile()
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    last_user = max(i for i, (instruction, _) in enumerate(instructions) if instruction == "USER")
    first_cmd = min(i for i, (instruction, _) in enumerate(instructions) if instruction == "CMD")

    assert users, "no USER: the processes would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert last_user < first_cmd


def test_dockerignore_keeps_local_state_secrets_and_patient_files_out_of_the_image():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".venv", "var", ".git", "bench/results", "**/.env"} <= ignored
    # What import_patients reads and reports and export_patients writes, wherever it is.
    assert {"**/*.csv", "**/*.ndjson", "**/*.jsonl", "**/*.db", "**/*.partial"} <= ignored


def test_procfile_release_migrates_and_sets_up_roles_once():
    release = _procfile()["release"]

    assert release == "python manage.py migrate --noinput && python manage.py setup_roles"
    assert _compose()["services"]["migrate"]["command"] == ["sh", "-c", release]


def test_procfile_worker_runs_without_beat_and_beat_is_its_own_process():
    processes = _procfile()
    worker = shlex.split(processes["worker"].removeprefix("exec "))
    beat = shlex.split(processes["beat"].split("&& exec ", 1)[1])

    assert worker[:6] == ["python", "-m", "celery", "--app", "telehealth", "worker"]
    assert not {"-B", "--beat"} & set(worker)
    assert beat[:6] == ["python", "-m", "celery", "--app", "telehealth", "beat"]
    assert [name for name, command in processes.items() if " beat " in command] == ["beat"]


def test_the_celery_app_the_deploy_files_name_is_the_projects():
    assert find_app("telehealth") is celery_app


def test_compose_runs_exactly_one_beat_scheduler():
    compose = _compose()
    beats = _services_running(compose, "beat")

    assert beats == ["beat"]
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1
    for name in _services_running(compose, "worker"):
        assert not {"-B", "--beat"} & set(compose["services"][name]["command"])


def test_compose_runs_several_web_servers_and_workers():
    compose = _compose()
    services = compose["services"]

    assert services["web"]["deploy"]["replicas"] > 1
    assert _services_running(compose, "worker") == ["worker"]
    assert services["worker"]["deploy"]["replicas"] > 1


def test_compose_worker_runs_the_procfiles_worker_command():
    worker = shlex.split(_procfile()["worker"].removeprefix("exec "))

    assert _compose()["services"]["worker"]["command"] == worker


def test_compose_starts_web_workers_and_beat_only_after_the_release_step():
    services = _compose()["services"]

    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_compose_shares_one_postgres_and_one_redis():
    services = _compose()["services"]

    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "--appendonly" in services["redis"]["command"]
    for name in ("migrate", "web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert "@postgres:5432/" in environment["DATABASE_URL"], name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name


def test_compose_web_servers_and_workers_share_the_export_files():
    services = _compose()["services"]
    mounts = {
        name: {volume.split(":")[1]: volume.split(":")[0] for volume in services[name]["volumes"]}
        for name in ("web", "worker")
    }

    assert mounts["web"][IMAGE_EXPORT_DIR] == mounts["worker"][IMAGE_EXPORT_DIR]
    assert mounts["web"][IMAGE_EXPORT_DIR] in _compose()["volumes"]


def test_compose_health_checks_probe_the_services_and_the_liveness_endpoint():
    services = _compose()["services"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    (path,) = re.findall(r"http://127\.0\.0\.1:8000(/[^'\"]*)", web_check)

    assert resolve(path).url_name == "healthz"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
