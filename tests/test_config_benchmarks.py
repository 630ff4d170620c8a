"""[benchmarks] of revbook.toml: its keys, its checks, its place in the template of every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

import revbook.config as config_module
from revbook.config import BenchmarkSettings, Config, load_config
from revbook.errors import ConfigError


def toml(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "revbook.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_defaults_show_the_benchmarks_at_the_books_own_acv_band() -> None:
    assert Config().benchmarks == BenchmarkSettings(show=True, acv_band="")


def test_the_section_is_read(tmp_path: Path) -> None:
    cfg = toml(tmp_path, '[benchmarks]\nshow = false\nacv_band = "50k-100k"\n')
    assert cfg.benchmarks == BenchmarkSettings(show=False, acv_band="50k-100k")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[benchmarks]\nacv_bnd = "< 12k"\n', "did you mean 'acv_band'"),
        ('[benchmarks]\nacv_band = "12-25k"\n', "acv_band must be one of the published medians' ACV bands"),
        ("[benchmarks]\nacv_band = 25000\n", "acv_band must be one of"),
        ('[benchmarks]\nshow = "no"\n', "show must be true or false"),
    ],
)
def test_bad_settings_are_errors_that_say_what_to_use(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        toml(tmp_path, text)
    if "acv_band must" in message:
        assert "'12k-25k'" in str(err.value)  # the hint lists the valid bands


def test_every_setting_is_documented() -> None:
    import revbook.config.benchmarks as section

    assert "[benchmarks]" in (config_module.__doc__ or "")
    for name in ("show", "acv_band"):
        assert f"{name} = " in (section.__doc__ or "")
    docs = (Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "show = true" in docs and 'acv_band = ""' in docs
