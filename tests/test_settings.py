"""The settings package: prod reads the environment, test isolates paths."""

import importlib
import sys


def _load(module: str, monkeypatch, **environ):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def test_prod_takes_paths_and_contact_from_the_environment(monkeypatch):
    prod = _load(
        "settings.prod",
        monkeypatch,
        ARCHIVE_URI="s3://warcs/newsvault",
        STATE_PATH="/srv/state.sqlite",
        NEWSVAULT_CONTACT="ops@archive.example",
    )
    assert prod.ARCHIVE_URI == "s3://warcs/newsvault" and prod.STATE_PATH == "/srv/state.sqlite"
    assert "ops@archive.example" in prod.USER_AGENT and "newsvault@example.org" not in prod.USER_AGENT


def test_prod_without_environment_is_base(monkeypatch):
    for name in ("ARCHIVE_URI", "ITEMS_URI", "STATE_PATH", "NEWSVAULT_CONTACT"):
        monkeypatch.delenv(name, raising=False)
    prod, base = _load("settings.prod", monkeypatch), importlib.import_module("settings.base")
    assert (prod.ARCHIVE_URI, prod.ITEMS_URI, prod.USER_AGENT) == (base.ARCHIVE_URI, base.ITEMS_URI, base.USER_AGENT)


def test_test_settings_never_share_state_with_a_deployment(monkeypatch, tmp_path):
    test = _load("settings.test", monkeypatch, NEWSVAULT_TEST_DIR=str(tmp_path))
    assert test.STATE_PATH.startswith(str(tmp_path)) and test.ARCHIVE_URI.startswith(str(tmp_path))
    assert "%(run)s" in test.ITEMS_URI
