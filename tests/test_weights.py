"""Fusion weights: validation, saving without overwriting, version warnings, the default file."""

from __future__ import annotations

import json
import logging

import pytest

from matcher import OutputError, ParameterError
from matcher.weights import Weights, default_weights_path, load_weights, save_weights


def test_unknown_signal_is_rejected_with_allowed_list():
    with pytest.raises(ParameterError) as info:
        Weights({"colour": 1.0})
    assert str(info.value) == "1 problem in weights:\n  weights colour: got 'colour'; expected one of the signals: sector, semantic, lexical, language, interest, related"


def test_missing_signals_default_to_zero():
    w = load_weights({"semantic": 1.0})
    assert dict(w.weights) == {"sector": 0.0, "semantic": 1.0, "lexical": 0.0, "language": 0.0, "interest": 0.0, "related": 0.0}


def test_save_never_overwrites_without_force(tmp_path):
    path = tmp_path / "w.json"
    save_weights(Weights({"semantic": 1.0}, name="w"), path, {"gold": "x"})
    assert (tmp_path / "w.card.md").read_text().startswith("# Model card: w")
    with pytest.raises(OutputError, match="already exists; pass --force"):
        save_weights(Weights({"semantic": 0.5}, name="w"), path, {"gold": "x"})
    assert json.loads(path.read_text())["weights"]["semantic"] == 1.0
    save_weights(Weights({"semantic": 0.5}, name="w"), path, {"gold": "x"}, force=True)
    assert json.loads(path.read_text())["weights"]["semantic"] == 0.5


def test_loading_warns_when_library_versions_differ(tmp_path, caplog):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"weights": {"semantic": 1.0}, "library_versions": {"numpy": "0.0.1"}}))
    with caplog.at_level(logging.WARNING):
        load_weights(path)
    assert "fitted with other library versions" in caplog.text and "numpy" in caplog.text


def test_default_weights_are_the_fitted_ones_with_a_card():
    """The default is fitted-v3 with only the related weight set by hand, and its card says why."""
    path = default_weights_path()
    data = json.loads(path.read_text())
    fitted = json.loads((path.parent / "fitted-v3.json").read_text())
    assert data["kind"] == "fitted+hand" and fitted["kind"] == "fitted"
    assert abs(sum(fitted["weights"].values()) - 1.0) < 1e-5
    assert {k: v for k, v in data["weights"].items() if k != "related"} == {k: v for k, v in fitted["weights"].items() if k != "related"}
    assert data["weights"]["related"] > fitted["weights"]["related"] > 0
    card = path.with_suffix(".card.md").read_text()
    assert "- **reason**:" in card and "corpus_sha256" in card
