"""Fusion weights: versioned JSON files in ``models/weights/`` with an optional model card.

``models/weights/DEFAULT`` names the file the engine uses when no weights are given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from matcher._resources import bundled_path
from matcher.errors import ParameterError
from matcher.score import SIGNALS

__all__ = ["Weights", "default_weights_path", "load_weights", "save_weights"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weights:
    """One weight per signal plus a bias; ``name`` and ``kind`` say where they come from."""

    weights: Mapping[str, float]
    bias: float = 0.0
    name: str = "custom"
    kind: str = "hand-set"
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(SIGNALS))
        if unknown:
            raise ParameterError(f"weights name unknown signal(s) {unknown}; allowed signals: {', '.join(SIGNALS)}")
        object.__setattr__(self, "weights", MappingProxyType({k: float(self.weights.get(k, 0.0)) for k in SIGNALS}))

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "bias": self.bias, "weights": dict(self.weights), **dict(self.meta)}


HAND_SET = "hand-set-v1.json"


def hand_set_weights_path() -> Path:
    """The hand-set weights, never fitted on any gold."""
    return bundled_path("models") / "weights" / HAND_SET


def default_weights_path() -> Path:
    folder = bundled_path("models") / "weights"
    return folder / (folder / "DEFAULT").read_text(encoding="utf-8").strip()


def load_weights(source: str | Path | Mapping | Weights | None = None) -> Weights:
    """Weights from a file path, a mapping ``{signal: weight}``, a Weights, or the default file."""
    if isinstance(source, Weights):
        return source
    if isinstance(source, Mapping):
        return Weights(dict(source), name="custom", kind="hand-set")
    path = Path(source) if source is not None else default_weights_path()
    if not path.is_file():
        raise ParameterError(f"weights file {str(path)!r} does not exist; expected a JSON file like models/weights/hand-set-v1.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = {k: v for k, v in data.items() if k not in {"weights", "bias", "name", "kind"}}
    w = Weights(data["weights"], float(data.get("bias", 0.0)), data.get("name", path.stem), data.get("kind", "hand-set"), meta)
    versions = data.get("library_versions") or {}
    if versions:
        from matcher._meta import library_versions

        now = library_versions()
        differ = {k: (v, now.get(k)) for k, v in versions.items() if now.get(k) != v}
        if differ:
            log.warning("weights %s were fitted with other library versions: %s", path.name, differ)
    return w


def check_can_save(path: str | Path, force: bool = False) -> tuple[Path, Path]:
    """The weights path and its card path; an error if either exists and ``force`` is not set."""
    from matcher.errors import OutputError

    path = Path(path)
    card_path = path.with_suffix(".card.md")
    for p in (path, card_path):
        if p.exists() and not force:
            raise OutputError(f"{str(p)!r} already exists; pass --force (force=True) to overwrite it, or choose another name")
    return path, card_path


def save_weights(weights: Weights, path: str | Path, card: Mapping[str, object], force: bool = False) -> tuple[Path, Path]:
    """Save weights as JSON and a model card beside them (``.card.md``); never overwrite unless ``force``."""
    from matcher.write import atomic_write_json, atomic_write_text

    path, card_path = check_can_save(path, force)
    data = {**weights.to_dict(), **{k: v for k, v in card.items() if k in ("library_versions", "corpus_sha256", "commit", "gold")}}
    atomic_write_json(path, data)
    lines = [f"# Model card: {weights.name}", ""]
    for key, value in card.items():
        if isinstance(value, Mapping):
            lines.append(f"- **{key}**:")
            lines += [f"  - {k}: {v}" for k, v in value.items()]
        else:
            lines.append(f"- **{key}**: {value}")
    atomic_write_text(card_path, "\n".join(lines) + "\n")
    return path, card_path
