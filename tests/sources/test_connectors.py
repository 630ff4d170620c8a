"""The connector registry: a source is named, built lazily, and an unknown one is a clear error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from revbook import Config
from revbook.cli import app
from revbook.errors import ConfigError
from revbook.sources.connectors import CONNECTORS, connector


def test_an_unknown_source_names_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match="unknown source 'nowhere'") as err:
        connector("nowhere", Config(workspace=tmp_path / "w.duckdb"))
    for name in CONNECTORS:
        assert name in (err.value.hint or "")
    result = CliRunner().invoke(app, ["connect", "nowhere", "--workspace", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2 and "unknown source 'nowhere'" in result.output
    assert not (tmp_path / "w.duckdb").exists()


def test_every_registered_connector_names_a_factory():
    for name, target in CONNECTORS.items():
        module, _, factory = target.partition(":")
        assert module.startswith("revbook.sources.") and factory, name
