"""revbook.toml: every section parsed and checked once by load_config into typed settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import sample
from revbook.config import (
    CatalogueSettings,
    Config,
    HealthSettings,
    LifecycleSettings,
    ReasonOverride,
    RumSettings,
    SignalOverride,
    SurvivalSettings,
    load_config,
    template,
)
from revbook.errors import ConfigError, WorkspaceError
from support import write


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path / "revbook.toml", text))


@pytest.mark.parametrize(
    ("section", "typo", "nearest"),
    [
        ("workspace", "churn_grace_day", "churn_grace_days"),
        ("health", "weigths", "weights"),
        ("health.bands", "gren", "green"),
        ("rum", "cross_sell_shar", "cross_sell_share"),
        ("lifecycle", "renewal_window", "renewal_window_days"),
        ("catalogue", "qbr_window", "qbr_window_days"),
        ("survival", "gross_margn", "gross_margin"),
        ("sources.subscriptions", "date_fromat", "date_format"),
        ("churn_reasons.price", "keyword", "keywords"),
        ("signals.competitor", "add_pattern", "add_patterns"),
    ],
)
def test_an_unknown_key_names_itself_its_section_and_the_nearest_key(tmp_path, section, typo, nearest):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, f"[{section}]\n{typo} = 1\n")
    assert str(err.value) == f"unknown key '{typo}' in [{section}]; did you mean '{nearest}'?"


def test_an_unknown_section_names_the_nearest_one(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section 'helth' in revbook.toml; did you mean 'health'\?"):
        load(tmp_path, "[helth]\nweights = {}\n")


def test_a_key_with_no_near_match_lists_the_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'zzz' in \[rum\]; the keys of \[rum\] are: target_utilisation"):
        load(tmp_path, "[rum]\nzzz = 1\n")


def test_unknown_source_tables_and_columns_name_the_nearest(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'subscriptions'"):
        load(tmp_path, '[sources.subscription]\npath = "s.csv"\n')
    with pytest.raises(ConfigError, match="did you mean 'account_id'"):
        load(tmp_path, '[sources.subscriptions]\npath = "s.csv"\n[sources.subscriptions.columns]\naccount_ids = "Id"\n')


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[lifecycle]\nonboarding_days = 'soon'\n", r"invalid \[lifecycle\] setting: onboarding_days must be a whole"),
        ("[lifecycle]\nonboarding_days = 0\n", "day counts must be at least 1"),
        ("[lifecycle]\nonboarding_milestones = 'kickoff'\n", "onboarding_milestones must be a list of names"),
        ("[health]\nweights = { usage = 'high' }\n", "weight of 'usage' must be a number >= 0"),
        ("[health]\nweights = { usige = 1 }\n", "unknown component 'usige'; did you mean 'usage'"),
        ("[health]\nbands = { green = 50, yellow = 60 }\n", "yellow <= green"),
        ("[health]\nhorizons = [3]\n", "at least 7"),
        ("[health]\ncontraction_threshold = 2\n", r"contraction_threshold must be in \(0, 1\]"),
        ("[health]\nweights = 1\n", r"\[health.weights\] must be a table"),
        ("[rum]\ntarget_utilisation = 1.5\n", "shares in"),
        ("[rum]\npotential_bands = [0.1, 0.3]\n", "high >= medium"),
        ("[rum]\nusage_tiers = { team = 'many' }\n", "usage_tiers.team must be a number"),
        ("[rum]\ntrain_months = true\n", "train_months must be a whole number"),
        ("[catalogue]\nactivation_days = -1\n", "whole number of 0 or more"),
        ("[catalogue]\nactivation_days = 0\n", "windows of days must be 1 or more"),
        ("[survival]\ngross_margin = 80\n", "gross_margin must be above 0 and at most 1, got 80"),
        ("[survival]\nspell = 'all'\n", "spell must be 'first' or 'whole'"),
        ("[churn_reasons.price]\nkeywords = ['(unclosed']\n", "not a valid regular expression"),
        ("[churn_reasons]\nunknown = false\n", "cannot be removed"),
        ("[signals.pilot]\npatterns = ['a']\npolarity = 'maybe'\n", "polarity must be one of"),
        ("health = 3\n", r"\[health\] must be a table"),
    ],
)
def test_a_wrong_type_or_range_is_an_error(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load(tmp_path, text)


def test_the_defaults_load_as_typed_settings(tmp_path):
    cfg = load(tmp_path, "")
    assert (cfg.health, cfg.rum, cfg.lifecycle) == (HealthSettings(), RumSettings(), LifecycleSettings())
    assert (cfg.catalogue, cfg.survival) == (CatalogueSettings(), SurvivalSettings())
    assert cfg.health.weights["usage"] == 0.25 and (cfg.health.green, cfg.health.yellow) == (57.0, 47.0)
    assert cfg.survival.gross_margin == Decimal("0.8") and cfg.rum.potential_bands == (0.25, 0.10)
    assert cfg.churn_reasons == {} and cfg.signals == {}
    assert Config() == cfg.with_(workspace=Config().workspace)


def test_settings_are_read_once_into_their_types(tmp_path):
    cfg = load(
        tmp_path,
        "[health]\nweights = { usage = 1 }\nbands = { green = 80 }\nhorizons = [30]\n"
        "[rum]\nusage_tiers = { team = 40 }\npotential_bands = [0.5, 0.2]\n"
        "[lifecycle]\nonboarding_milestones = ['kickoff']\nonboarding_days = 60\n"
        "[catalogue]\nqbr_types = ['qbr', 'ebr']\n"
        "[survival]\nhorizon_months = 36\n"
        "[churn_reasons]\nfit = false\n[churn_reasons.price]\nkeywords = 'pricey'\n"
        "[signals.competitor]\nadd_patterns = ['acme']\n",
    )
    assert cfg.health.weights == {**HealthSettings().weights, "usage": 1.0}
    assert (cfg.health.green, cfg.health.yellow, cfg.health.horizons) == (80.0, 47.0, (30,))
    assert cfg.rum.usage_tiers == {"team": 40.0} and cfg.rum.potential_bands == (0.5, 0.2)
    assert cfg.lifecycle == LifecycleSettings(onboarding_milestones=("kickoff",), onboarding_days=60)
    assert cfg.catalogue.qbr_types == ("qbr", "ebr") and cfg.survival.horizon_months == 36
    assert cfg.churn_reasons == {"fit": None, "price": ReasonOverride(keywords=("pricey",))}
    assert cfg.signals == {"competitor": SignalOverride(add_patterns=("acme",))}


def test_settings_built_directly_are_checked_too():
    with pytest.raises(ConfigError, match="day counts"):
        LifecycleSettings(churned_days=0)
    with pytest.raises(ConfigError, match="unknown component"):
        HealthSettings(weights={"vibes": 1.0})
    with pytest.raises(ConfigError, match=r"Config\.health must be a HealthSettings"):
        Config(health={"weights": {}})  # type: ignore[arg-type]
    survival = SurvivalSettings().override(spell="whole", confidence=None)
    assert (survival.spell, survival.confidence) == ("whole", 0.95)
    with pytest.raises(ConfigError, match="spell"):
        survival.override(spell="all")


def test_on_date_is_the_as_of_date_or_an_earlier_one():
    cfg = Config(as_of=dt.date(2025, 6, 30))
    assert cfg.on_date() == dt.date(2025, 6, 30)
    assert cfg.on_date("2025-01-31") == dt.date(2025, 1, 31)
    with pytest.raises(ConfigError, match="not a date"):
        cfg.on_date("last tuesday")
    with pytest.raises(WorkspaceError, match="after the as-of date"):
        cfg.on_date(dt.date(2025, 7, 1))


def test_the_init_template_loads(tmp_path):
    cfg = load(tmp_path, template())
    assert cfg.sources == {} and cfg.health == HealthSettings()


def test_the_demo_config_loads(tmp_path):
    from revbook.sample.demo import write_config

    out = tmp_path / "demo"
    paths = sample.write(out / "data", accounts=30, seed=1, text=True)
    cfg = Config(workspace=out / "revbook.duckdb", as_of=sample.SampleConfig().as_of)
    loaded = load_config(write_config(out, cfg, paths))
    assert loaded.as_of == cfg.as_of and set(loaded.sources) == set(paths)
    assert loaded.workspace == cfg.workspace


def test_every_typed_setting_is_in_the_config_docstring():
    import revbook.config as config_module
    import revbook.config.cs as cs

    doc = (config_module.__doc__ or "") + (cs.__doc__ or "")
    for cls in (LifecycleSettings, RumSettings):
        assert [f.name for f in fields(cls) if f.name not in doc] == []
