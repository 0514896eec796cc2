"""The exports' settings from the environment: the storage (the local disk by default, any
storage class with its options otherwise) and the expiry."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_with(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with these variables; print the export ones."""
    show = (
        "import json; from telehealth import settings as s; "
        "print(json.dumps({'storage': s.STORAGES['exports'], "
        "'ttl': s.EXPORT_TTL.total_seconds()}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EXPORT_")}
    return subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env={**clean, "TELEHEALTH_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )


def test_by_default_exports_go_to_the_local_disk_for_the_owner_only(tmp_path):
    result = settings_with(tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "storage": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(tmp_path / "exports"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
        "ttl": 24 * 3600,
    }


def test_another_storage_backend_gets_exactly_the_options_given(tmp_path):
    options = {"bucket_name": "clinic-exports", "default_acl": "private"}

    result = settings_with(
        tmp_path,
        EXPORT_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        EXPORT_STORAGE_OPTIONS=json.dumps(options),
        EXPORT_TTL="6h",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "storage": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "ttl": 6 * 3600,
    }


def test_storage_options_that_are_not_a_json_object_stop_the_start_up(tmp_path):
    for value in ("{bucket: x}", '["a"]'):
        result = settings_with(tmp_path, EXPORT_STORAGE_OPTIONS=value)

        assert result.returncode != 0
        assert "EXPORT_STORAGE_OPTIONS must be a JSON object" in result.stderr


def test_a_stale_after_not_longer_than_the_visibility_timeout_stops_the_start_up(tmp_path):
    # The sweep would fail an export that the broker is about to hand to another worker.
    for env in (
        {"EXPORT_STALE_AFTER": "1h"},  # the default timeout, an hour: not longer
        {"EXPORT_STALE_AFTER": "30m"},
        {"NOTIFICATION_RETRY_MAX_DELAY": "7200"},  # a timeout of 4 hours, above the 2h default
    ):
        result = settings_with(tmp_path, **env)

        assert result.returncode != 0, env
        assert "EXPORT_STALE_AFTER must be longer than the broker's visibility timeout" in (
            result.stderr
        )

    longer = settings_with(tmp_path, EXPORT_STALE_AFTER="5h", NOTIFICATION_RETRY_MAX_DELAY="7200")
    assert longer.returncode == 0, longer.stderr
