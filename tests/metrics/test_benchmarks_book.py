"""A book's NRR, GRR and gross revenue churn beside their bands and the published median of its ACV
band (revbook.metrics.benchmarks): the worked example of docs/benchmarks.md, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import Config, Workspace
from revbook.config import BenchmarkSettings
from revbook.metrics.benchmarks import acv_of, benchmarks, headline_benchmarks
from support import write

AS_OF = dt.date(2025, 1, 31)


def book_files(folder: Path) -> dict[str, Path]:
    """Four accounts. On 2024-01-31: A 3,000, B 1,000, C 1,000 a month. A expands to 3,600 in July, C
    contracts to 800 in June, B churns in October, D is new at 2,000 in May."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "accounts": write(
            folder / "accounts.csv",
            "account_id,name,segment\nA,Alder,enterprise\nB,Birch,smb\nC,Cedar,smb\nD,Dogwood,smb\n",
        ),
        "subscriptions": write(
            folder / "subscriptions.csv",
            "account_id,subscription_id,product,plan,start_date,end_date,amount,billing_period_months,currency\n"
            "A,S1,core,pro,2023-12-01,2024-07-01,3000,1,USD\n"
            "A,S2,core,pro,2024-07-01,,3600,1,USD\n"
            "B,S3,core,basic,2023-12-01,2024-10-01,1000,1,USD\n"
            "C,S4,core,basic,2023-12-01,2024-06-01,1000,1,USD\n"
            "C,S5,core,basic,2024-06-01,,800,1,USD\n"
            "D,S6,core,pro,2024-05-01,,2000,1,USD\n",
        ),
    }


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        ws.load(book_files(tmp_path / "data"))
    return path


def test_the_worked_example(book: Path) -> None:
    """docs/benchmarks.md: NRR 4,400 / 5,000 = 88.0%, below good; GRR 3,800 / 5,000 = 76.0%, below good
    (good >= 80%); gross revenue churn 1,200 / 5,000 = 24.0% over 12 months, 2.26% a month compounded:
    good (< 5%); the median ARR of A 43,200, C 9,600 and D 24,000 is 24,000: ACV band 12k-25k, whose
    published medians are NRR 102% and GRR 90% (SaaS Capital, 2023)."""
    with Workspace(book, config=Config(as_of=AS_OF), read_only=True) as ws:
        head = ws.headline()
        assert head["nrr_12m"] == pytest.approx(0.88)
        assert head["grr_12m"] == pytest.approx(0.76)
        assert head["gross_revenue_churn_12m"] == pytest.approx(0.24)
        assert acv_of(ws, AS_OF) == {None: (Decimal("24000.00"), 3)}
        found = headline_benchmarks(ws, head)
    assert found.acv_band == "12k-25k" and found.acv == Decimal("24000.00")
    assert found.basis == "ACV band 12k-25k: the median ARR of 3 paying accounts, 24,000 USD"
    nrr, grr, churn = (found.of(m) for m in ("nrr", "grr", "gross_revenue_churn"))
    assert nrr and grr and churn
    assert (nrr.band.name, nrr.median_text) == ("below good", "102% at ACV 12k-25k (SaaS Capital, 2023)")
    assert (grr.band.name, grr.median_text) == ("below good", "90% at ACV 12k-25k (SaaS Capital, 2023)")
    assert churn.band.name == "good" and churn.band.compared == pytest.approx(1 - 0.76 ** (1 / 12))
    assert churn.band.conversion == "2.26% a month from 24.0% over 12 months, compounded"
    assert churn.median is None and churn.median_text == "no published median shipped"


def test_each_slice_has_its_own_acv_and_the_segment_its_bar(book: Path) -> None:
    with Workspace(book, config=Config(as_of=AS_OF), read_only=True) as ws:
        acv = acv_of(ws, AS_OF, by="segment")
        assert acv == {"enterprise": (Decimal("43200.00"), 1), "smb": (Decimal("16800.00"), 2)}
        ent = benchmarks(
            ws, {"nrr": 1.2, "gross_revenue_churn": 0.015}, grain="year", acv=acv["enterprise"], segment="enterprise"
        )
    assert ent.acv_band == "25k-50k" and ent.of("nrr").median.median == "103%"  # type: ignore[union-attr]
    # 1.5% a year is 0.13% a month: elite, and the enterprise bar is great
    assert (ent.of("gross_revenue_churn").band.name, ent.of("gross_revenue_churn").band.expected) == ("elite", "great")  # type: ignore[union-attr]


def test_a_set_acv_band_and_show_false(book: Path) -> None:
    set_band = Config(as_of=AS_OF, benchmarks=BenchmarkSettings(acv_band="250k+"))
    with Workspace(book, config=set_band, read_only=True) as ws:
        found = headline_benchmarks(ws)
    assert found.acv is None and found.basis == "ACV band 250k+, set in [benchmarks] acv_band"
    assert found.of("nrr").median.median == "110%"  # type: ignore[union-attr]
    off = Config(as_of=AS_OF, benchmarks=BenchmarkSettings(show=False))
    with Workspace(book, config=off, read_only=True) as ws:
        assert headline_benchmarks(ws).rows == []


def test_a_short_window_is_refused_for_nrr_and_converted_for_churn(book: Path) -> None:
    with Workspace(book, config=Config(as_of=AS_OF), read_only=True) as ws:
        found = benchmarks(
            ws, {"nrr": 1.0, "grr": 0.9, "gross_revenue_churn": 0.06}, grain="quarter", acv=(Decimal(30000), 3)
        )
    assert [r.metric for r in found.rows] == ["gross_revenue_churn"]
    assert found.refused == [
        "NRR bands are for 12 months; a quarter's figure is not compared with them",
        "GRR bands are for 12 months; a quarter's figure is not compared with them",
    ]
    churn = found.of("gross_revenue_churn")
    assert churn and churn.band.name == "good" and churn.band.compared == pytest.approx(1 - 0.94 ** (1 / 3))


def test_another_currency_is_compared_as_it_is_and_says_so(book: Path) -> None:
    with Workspace(book, config=Config(as_of=AS_OF, reporting_currency="EUR"), read_only=True) as ws:
        found = benchmarks(ws, {"nrr": 1.0}, acv=(Decimal(24000), 3))
    assert found.basis.endswith("24,000 EUR (the bands are US dollars; no conversion)")
