"""[vip] of revbook.toml: read, checked, described."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from revbook import ConfigError
from revbook.config import VipSettings, load_config
from support import write


def test_vip_is_read_from_revbook_toml(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path / "revbook.toml", '[vip]\nmin_arr = 100000\nsegments = ["Enterprise"]\naccounts = ["A1"]\n')
    )
    assert cfg.vip == VipSettings(min_arr=Decimal(100000), segments=("enterprise",), accounts=("A1",))
    assert cfg.vip.describe() == "ARR from 100,000; segment enterprise; 1 named account"
    assert load_config(write(tmp_path / "empty.toml", "")).vip.has_rule is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_ar = 1", "min_arr"),  # an unknown key names the nearest one
        ("min_arr = 'lots'", "[vip] min_arr must be a number"),
        ("min_arr = -1", "a finite number of 0 or more"),
        ("min_arr = 10\nmax_arr = 5", "[vip] min_arr (10) is above max_arr (5)"),
        ("segments = 'enterprise'", "[vip] segments must be a list of strings"),
        ("accounts = ['']", "[vip] accounts must hold non-empty strings"),
    ],
)
def test_bad_vip_settings_are_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "revbook.toml", f"[vip]\n{text}\n"))
    assert message in str(err.value)


def test_the_rule_in_words() -> None:
    assert VipSettings(max_arr=Decimal(5000)).describe() == "ARR up to 5,000"
    assert VipSettings(min_arr=Decimal(1), max_arr=Decimal(2), segments=("a", "b")).describe() == (
        "ARR from 1 to 2; segments a, b"
    )
    assert VipSettings().describe().startswith("no rule set")


def test_docs_account_plans_list_every_stage_metric_and_setting() -> None:
    """docs/account-plans.md holds the journey's stages in order, every KPI metric and every [vip] key."""
    from dataclasses import fields

    from revbook.definitions import JOURNEY_STAGES
    from revbook.plans import KPI_METRICS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "account-plans.md").read_text(encoding="utf-8")
    places = [doc.index(f"**{stage}**") for stage in JOURNEY_STAGES]
    assert places == sorted(places)
    assert all(f"`{name}`" in doc for name in KPI_METRICS), [n for n in KPI_METRICS if f"`{n}`" not in doc]
    assert all(f"`{f.name}`" in doc for f in fields(VipSettings))
