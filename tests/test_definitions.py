"""revbook.definitions against the code that applies it, the docs that explain it and the surfaces that print it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from revbook import Config, Workspace, definitions, sample
from revbook.config import template
from revbook.definitions import (
    ARR_BAND_EDGES,
    HEALTH_BANDS,
    MOVEMENT_KINDS,
    MOVEMENTS,
    STAGES,
    TERMS,
    band_labels,
)
from revbook.health.composite import HealthSettings, score_table
from revbook.metrics.movements import COUNTED
from revbook.reports import charts, cs_charts
from revbook.reports.excel.guide import DEFINITIONS
from support import get, text_of

DOCS = Path(__file__).resolve().parent.parent / "docs"
DEFINITIONS_MD = (DOCS / "definitions.md").read_text(encoding="utf-8")
HEALTH_MD = (DOCS / "health.md").read_text(encoding="utf-8")
RUM_MD = (DOCS / "rum.md").read_text(encoding="utf-8")


def _name(label: str) -> str:
    """A term's name as the docs write it: lower case, without a trailing "(RUM)"-like abbreviation."""
    return re.sub(r"\s*\([^)]*\)$", "", label).lower()


@pytest.mark.parametrize("key", list(TERMS))
def test_every_term_is_in_docs_definitions(key: str) -> None:
    term = TERMS[key]
    assert _name(term.label) in DEFINITIONS_MD.lower(), f"'{term.label}' is not in docs/definitions.md"


@pytest.mark.parametrize("kind", MOVEMENT_KINDS)
def test_every_movement_kind_is_a_row_of_the_docs_movement_table(kind: str) -> None:
    assert f"\n| {kind} |" in DEFINITIONS_MD


def test_the_identity_and_the_signs_are_the_docs() -> None:
    assert f"`{definitions.IDENTITY}`" in DEFINITIONS_MD
    assert definitions.GAINS == ("new", "reactivation", "expansion")
    assert definitions.LOSSES == ("contraction", "churn")
    assert {k: m.counted for k, m in MOVEMENTS.items()} == COUNTED


def test_default_arr_bands_are_in_the_docs_and_the_config() -> None:
    labels = ", ".join(band_labels(ARR_BAND_EDGES))
    assert f"default {labels}" in DEFINITIONS_MD
    assert Config().arr_bands == ARR_BAND_EDGES
    assert f"arr_bands = [{', '.join(map(str, ARR_BAND_EDGES))}]" in template()


def test_health_band_edges_are_the_scorers_and_the_docs() -> None:
    settings = HealthSettings()
    assert (settings.green, settings.yellow) == (definitions.HEALTH_GREEN, definitions.HEALTH_YELLOW)
    edges = f"green >= {settings.green:g}, yellow >= {settings.yellow:g}, red below"
    assert edges in HEALTH_MD
    assert edges in DEFINITIONS_MD


def test_health_bands_fall_at_the_edges() -> None:
    """A score exactly at an edge is in the upper band: what the glossary's "≥" says."""
    green, yellow = definitions.HEALTH_GREEN, definitions.HEALTH_YELLOW
    n = 5
    feats = pa.table(
        {
            "account_id": [str(i) for i in range(n)],
            "score_date": pa.array([None] * n, pa.date32()),
            # usage alone scores 50 + 200 x trend; every other component is missing
            "usage_trend": [(s - 50) / 200 for s in (green, green - 0.1, yellow, yellow - 0.1, 75.0)],
            **{c: pa.array([None] * n, pa.float64()) for c in _other_features()},
        }
    )
    bands = score_table(feats).column("band").to_pylist()
    assert bands == ["green", "yellow", "yellow", "red", "green"]
    assert set(bands) <= set(HEALTH_BANDS)


def _other_features() -> list[str]:
    from revbook.health.composite import COMPONENTS

    return [f for feats, _ in COMPONENTS.values() for f in feats if f != "usage_trend"]


def test_stages_are_in_docs_rum() -> None:
    for stage in STAGES:
        assert stage in RUM_MD, stage
    for stage in STAGES:
        assert f"stage_{stage.replace(' ', '_')}" in definitions.CS_GLOSSARY


def test_every_surface_has_its_wording() -> None:
    for key in (*definitions.GLOSSARY, *definitions.CS_GLOSSARY):
        assert TERMS[key].text, key
    for key in definitions.WORKBOOK:
        assert TERMS[key].sheet_text, key
    for key in definitions.HEADLINE:
        assert TERMS[key].headline_label and TERMS[key].headline_text, key


def test_the_surfaces_render_from_definitions() -> None:
    assert definitions.glossary(definitions.GLOSSARY) == charts.GLOSSARY
    assert definitions.glossary(definitions.CS_GLOSSARY) == cs_charts.CS_GLOSSARY
    sheet = [TERMS[k].sheet_label or TERMS[k].label for k in definitions.WORKBOOK]
    assert [term for term, _, _ in DEFINITIONS] == sheet
    assert list(cs_charts.BAND_COLORS) == list(HEALTH_BANDS)
    assert list(charts.MOVEMENT_COLORS) == ["start", *MOVEMENT_KINDS, "end"]


def test_dashboard_definitions_page_shows_the_real_health_edges(tmp_path: Path) -> None:
    web = pytest.importorskip("revbook.web")
    pytest.importorskip("httpx")
    config = Config(as_of=sample.SampleConfig().as_of)
    paths = sample.write(tmp_path / "data", accounts=20)
    with Workspace(tmp_path / "w.duckdb", config=config) as ws:
        ws.load(dict(paths))
    app: Any = web.create_app(tmp_path / "w.duckdb", config=config, token="")
    r = get(app, "/definitions")
    assert r.status_code == 200
    page = text_of(r.text)
    settings = HealthSettings()
    assert f"green ≥ {settings.green:g}, yellow ≥ {settings.yellow:g}, red below" in page
    for key in (*definitions.GLOSSARY, *definitions.CS_GLOSSARY):
        assert f'id="{key}"' in r.text, key
