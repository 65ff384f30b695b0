"""Shared fixtures: tiny hand-made corpora, the bundled corpus, and fitted matchers (fitted once)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import matcher
from matcher import Matcher

FILLER = (
    "It supports small firms, research centres and universities with collaborative projects, training, "
    "market intelligence and help to find funding. "
)


def description(topic: str, words: int = 90) -> str:
    """A description about ``topic`` long enough to pass validation."""
    text = f"The cluster brings together companies working on {topic}. "
    while len(text.split()) < words:
        text += FILLER
    return text.strip()


def profile(pid: str, side: str = "eu", country: str | None = None, sectors=("automotive",), topic: str = "electric vehicles", **extra) -> dict:
    rec = {
        "id": pid,
        "name": pid.replace("-", " ").title(),
        "side": side,
        "country": country or ("CA" if side == "ca" else "FR"),
        "kind": "cluster_organisation",
        "sectors": list(sectors),
        "description": description(topic),
        "languages": ["en"],
        "sources": [f"https://example.org/{pid}"],
    }
    rec.update(extra)
    return rec


def write_corpus(folder: Path, records: list[dict], name: str = "profiles.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Two European and two Canadian profiles with known overlaps."""
    return write_corpus(
        tmp_path / "tiny",
        [
            profile("eu-auto", "eu", "FR", ["automotive"], "electric vehicles and batteries"),
            profile("eu-bio", "eu", "DE", ["biopharmaceuticals"], "vaccines and biologics manufacturing"),
            profile("ca-auto", "ca", None, ["automotive"], "electric vehicles and battery supply chains"),
            profile("ca-food", "ca", None, ["food_processing_manufacturing"], "plant protein ingredients"),
        ],
    )


@pytest.fixture(scope="session")
def bundled() -> matcher.Corpus:
    return matcher.load_corpus()


@pytest.fixture(scope="session")
def tfidf_matcher(bundled) -> Matcher:
    return Matcher(backend="tfidf").fit(bundled)


@pytest.fixture(scope="session")
def real_matcher(bundled, tmp_path_factory) -> Matcher:
    """The bundled all-MiniLM-L6-v2, loaded once, with a private embedding cache."""
    return Matcher(cache_path=tmp_path_factory.mktemp("emb-cache")).fit(bundled)
