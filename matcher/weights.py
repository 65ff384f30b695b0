"""Fusion weights: versioned JSON files in ``models/weights/`` with an optional model card.

``models/weights/DEFAULT`` names the file the engine uses when no weights are given.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from matcher._resources import bundled_path
from matcher.corpus import Problem, _decode, _format
from matcher.errors import WeightsError
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
        problems = weight_problems(self.weights, self.bias, "weights", prefix="")
        if problems:
            raise WeightsError(_format(problems, "weights"), problems)
        object.__setattr__(self, "weights", MappingProxyType({k: float(self.weights.get(k, 0.0)) for k in SIGNALS}))
        object.__setattr__(self, "bias", float(self.bias))

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "bias": self.bias, "weights": dict(self.weights), **dict(self.meta)}


HAND_SET = "hand-set-v2.json"
_EXPECTED_FILE = "a JSON object with 'weights' (signal: weight) and optionally 'bias', 'name', 'kind'"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def weight_problems(weights: Any, bias: Any, file: str, prefix: str = "weights.", lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every problem of a weights mapping and bias: unknown signals (with the closest), values that
    are not finite non-negative numbers, a bias that is not a finite number."""
    lines = lines or {}
    out: list[Problem] = []
    if not isinstance(weights, Mapping):
        return [Problem(file, None, lines.get("weights"), "weights", weights, f"an object mapping signals to weights: {', '.join(SIGNALS)}")]
    for name, value in weights.items():
        key = f"{prefix}{name}"
        if name not in SIGNALS:
            close = difflib.get_close_matches(str(name), list(SIGNALS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(Problem(file, None, lines.get(key), key, name, f"one of the signals{hint}: {', '.join(SIGNALS)}"))
        elif not _is_number(value) or value < 0:
            out.append(Problem(file, None, lines.get(key), key, value, "a finite number >= 0 (a signal's weight)"))
    if not _is_number(bias):
        out.append(Problem(file, None, lines.get("bias"), "bias", bias, "a finite number"))
    return out


def _key_lines(text: str, data: Mapping) -> dict[str, int]:
    """Line of each top-level key and of each key inside 'weights' (first occurrence after its parent)."""
    def line_at(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    out = {}
    for key in data:
        pos = text.find(json.dumps(key))
        if pos >= 0:
            out[str(key)] = line_at(pos)
            if key == "weights" and isinstance(data[key], Mapping):
                for inner in data[key]:
                    ipos = text.find(json.dumps(inner), pos + 1)
                    if ipos >= 0:
                        out[f"weights.{inner}"] = line_at(ipos)
    return out


def _read_weights_file(path: Path) -> dict:
    display = str(path)
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"weights file {display!r} cannot be read ({exc.strerror or exc}); expected {_EXPECTED_FILE}") from exc
    text = _decode(raw, display, problems)
    data: Any = None
    if text is not None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(display, None, exc.lineno, None, exc.msg, "valid JSON"))
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(display, None, None, None, str(exc).split(";")[0] or type(exc).__name__, "valid JSON"))
    if not problems and not isinstance(data, dict):
        problems.append(Problem(display, None, 1, None, data, _EXPECTED_FILE))
    if not problems:
        lines = _key_lines(text, data)
        if "weights" not in data:
            problems.append(Problem(display, None, None, "weights", None, f"an object mapping signals to weights: {', '.join(SIGNALS)}"))
        else:
            problems += weight_problems(data["weights"], data.get("bias", 0.0), display, lines=lines)
        for key in ("name", "kind"):
            if key in data and not isinstance(data[key], str):
                problems.append(Problem(display, None, lines.get(key), key, data[key], "text"))
        versions = data.get("library_versions")
        if versions is not None and not isinstance(versions, dict):
            problems.append(Problem(display, None, lines.get("library_versions"), "library_versions", versions, "an object of library: version"))
    if problems:
        raise WeightsError(_format(problems, f"weights file {display!r}"), problems)
    return data


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
        raise WeightsError(f"weights file {str(path)!r} does not exist; expected a JSON file like models/weights/hand-set-v1.json")
    data = _read_weights_file(path)
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
