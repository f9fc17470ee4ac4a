"""Tests of bot.council against the OParl 1.1 test system "Musterstadt".

The test data lives in tests/data/oparl (a copy of the shared test system, `{base}`
placeholders kept); `load` reads one of its files with the placeholder replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.rendering import Renderer

DATA = Path(__file__).resolve().parent.parent / "data" / "oparl"
ROUTES: dict[str, Any] = json.loads((DATA / "routes.json").read_text(encoding="utf-8"))
# Where the documents pretend to live when no server is involved.
OFFLINE_BASE = "https://ris.musterstadt.example"


def load(file: str, base: str = OFFLINE_BASE) -> Any:
    """A JSON file of the test system, `{base}` replaced."""
    text = (DATA / file).read_text(encoding="utf-8")
    return json.loads(text.replace(ROUTES["placeholder"], base))


def summary(paper: object, language: str = "de") -> str:
    """A paper's state in one line ("beraten am 08.07.2027"), as oparl.j2 says it."""
    return Renderer(language).sentence("oparl", "summary", paper=paper).body
