"""Configuration from the environment refuses bad values loudly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env


def test_booleans_must_be_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "True")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env.env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


def test_integers_are_checked_against_bounds(monkeypatch):
    monkeypatch.setenv("X_NUM", "12")
    assert env.env_int("X_NUM", 1, maximum=20) == 12
    monkeypatch.setenv("X_NUM", "200MB")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        env.env_int("X_NUM", 1, minimum=1)


def test_secrets_come_from_the_variable_or_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.delenv("X_SECRET_FILE", raising=False)
    assert env.env_secret("X_SECRET") is None
    (tmp_path / "s").write_text("from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "s"))
    assert env.env_secret("X_SECRET") == "from-file"
    monkeypatch.setenv("X_SECRET", "both")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.env_secret("X_SECRET")
    monkeypatch.delenv("X_SECRET")
    (tmp_path / "s").write_text("")
    with pytest.raises(ImproperlyConfigured, match="empty"):
        env.env_secret("X_SECRET")


def run_settings(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", "PORTAL_DATA_DIR": str(tmp_path), **variables}
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.DEBUG, len(s.SECRET_KEY))"],
        env=environment, capture_output=True, text=True, check=False,
    )


def test_production_needs_a_secret_key_and_debug_is_off_by_default(tmp_path):
    result = run_settings(tmp_path)
    assert result.returncode != 0 and "PORTAL_SECRET_KEY" in result.stderr
    assert not (tmp_path / "secrets" / "secret_key").exists()
    result = run_settings(tmp_path, PORTAL_SECRET_KEY="k" * 50)
    assert result.stdout.split() == ["False", "50"]


def test_development_generates_a_secret_key_once(tmp_path):
    first = run_settings(tmp_path, PORTAL_DEBUG="True")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secrets" / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert run_settings(tmp_path, PORTAL_DEBUG="True").stdout == first.stdout


def test_bad_debug_value_stops_start_up(tmp_path):
    result = run_settings(tmp_path, PORTAL_DEBUG="yes please", PORTAL_SECRET_KEY="k" * 50)
    assert result.returncode != 0 and "PORTAL_DEBUG" in result.stderr
