"""Where the bundled corpus, gold files and model weights live, in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# Installed wheel: shipped under matcher/_data/. Checkout or editable install: the repository's folders.
_LAYOUT = {
    "corpus": ("_data/corpus", "../corpus"),
    "models": ("_data/models", "../models"),
    "gold": ("_data/gold", "../evaluation/gold"),
}


def bundled_path(name: str) -> Path:
    """Folder of a bundled resource: ``corpus``, ``models`` or ``gold``."""
    for rel in _LAYOUT[name]:
        candidate = (_PACKAGE / rel).resolve()
        if candidate.is_dir():
            return candidate
    from matcher.errors import ResourceError

    raise ResourceError(f"bundled {name!r} folder not found next to {_PACKAGE}; reinstall matcher")
