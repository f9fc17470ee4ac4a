"""No user-facing German in Python: every sentence a person reads is a template block
(templates/de and templates/en), so it is written once and can be said in English.

The rule. A string constant in `bot/` or `commands/` that looks like German text (an
umlaut or ß, or two words of which one is a German function word) is a sentence that
belongs in a template, unless it is data:

- what people *type*, in the bot's German verbs: a command's `name`, `aliases` and
  `examples` (the English help shows the same German verbs), and the words `word(...)`
  and the `*_WORDS` tuples accept (`entfernen`, `trotzdem` …);
- tables that *parse* input or foreign data: month names (domain/dates.py), the umlaut
  folding (domain/theme_names.py), OParl's own vocabulary (council/reading.py);
- docstrings and comments (for maintainers, not users).

`ALLOWED` names that data by file and constant. Anything else fails, naming every
file:line (the last of the debt this test once counted was moved in issue 22).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_UMLAUT = re.compile(r"[äöüÄÖÜß]")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")
# Words that are German and not English, frequent in the bot's sentences.
_GERMAN = frozenset(
    re.findall(
        r"\S+",
        "nicht bitte ist sind und oder kein keine keinen fehlt fehlerhaft gibt wird wurde "
        "werden der die das den dem des ein eine einen mit für von zu im auf bei nach seit "
        "noch schon nur als auch kann erwartet zeile datei schritt thema raum sitzung "
        "datenbank konfiguration sicherung verzeichnis gesetzt ungültig",
    )
)

# Data, not sentences: (file, name of the constant or of the function that holds it).
ALLOWED = {
    ("bot/domain/dates.py", "MONTHS"),  # month names to parse "15. März 2027"
    ("bot/domain/dates.py", "_MONTH_NAME"),  # the pattern that reads them
    ("bot/domain/theme_names.py", "_FOLDS"),  # ä → a …: how names are compared
    ("bot/council/reading.py", "_NO_DECISION"),  # OParl results that are no decision
    ("bot/web/public.py", "THEME_PATH"),  # the public page's address of a theme
    ("bot/domain/plan_file.py", "DATE_HEADERS"),  # the plan's column names, as it reads them
    ("bot/domain/plan_file.py", "ROOM_HEADERS"),
    # What the database holds in place of a forgotten person's id (rows keep it).
    ("bot/store/privacy.py", "FORGOTTEN"),
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def looks_german(text: str) -> bool:
    if _UMLAUT.search(text):
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    return len(words) >= 2 and any(w in _GERMAN for w in words)


def _data_nodes(tree: ast.AST) -> set[int]:
    """Constants that are data by the rule: command names, aliases, examples, accepted
    words, and the ALLOWED constants (filled in by `german_constants`)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if callee == "word":
                found.update(id(n) for arg in node.args for n in ast.walk(arg))
            for keyword in node.keywords:
                if callee == "Command" and keyword.arg in ("name", "aliases", "examples"):
                    found.update(id(n) for n in ast.walk(keyword.value))
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.endswith("_WORDS") for t in targets):
                found.update(id(n) for n in ast.walk(node))
    return found


def _allowed_nodes(tree: ast.AST, file: str) -> set[int]:
    names = {name for path, name in ALLOWED if path == file}
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                found.update(id(n) for n in ast.walk(node))
    return found


def german_constants(source: str, file: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    skip = _docstrings(tree) | _data_nodes(tree) | _allowed_nodes(tree, file)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and looks_german(node.value)
    ]


def _modules() -> list[Path]:
    return sorted(
        path
        for package in ("bot", "commands")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def found_by_file() -> dict[str, list[tuple[int, str]]]:
    found = {}
    for path in _modules():
        file = path.relative_to(ROOT).as_posix()
        hits = german_constants(path.read_text("utf-8"), file)
        if hits:
            found[file] = hits
    return found


def test_no_german_sentence_in_python() -> None:
    found = [
        f"{file}:{line}: {text[:60]!r}"
        for file, hits in found_by_file().items()
        for line, text in sorted(hits)
    ]
    assert not found, "German text in Python; move it into templates/<lang>/:\n" + "\n".join(found)


def test_the_guard_finds_a_planted_sentence() -> None:
    planted = (
        'def f():\n    """Docstrings are for maintainers: für alle."""\n'
        '    return "Das Thema gibt es nicht"\n'
    )
    assert german_constants(planted, "bot/x.py") == [(3, "Das Thema gibt es nicht")]
    assert german_constants('X = "Größe"\n', "bot/x.py") == [(1, "Größe")]
    assert german_constants('LOG = "council data not read"\n', "bot/x.py") == []
    examples = 'C = Command(name="löschen", examples=("löschen Thema bestätigen",))\n'
    assert german_constants(examples, "commands/x.py") == []


# A failure raised with a code, and the template whose blocks say it.
_RAISED = {
    "oparl": re.compile(r'(?:OParlUnavailable\(\s*Failure\.\w+,|OParlLookupError\()\s*"(\w+)"'),
    "backup": re.compile(r'BackupError\(\s*"(\w+)"'),
    "plan_file": re.compile(r'PlanProblem\(\s*"(\w+)"'),
    "toml_file": re.compile(r'(?:BrokenRule|FileProblem)\(\s*"(\w+)"'),
    "config": re.compile(r'(?:ConfigError|OffsetError)\(\s*"(\w+)"'),
    "health": re.compile(r'(?:SnapshotUnreadable|Reason)\(\s*"(\w+)"'),
}


def test_every_failure_code_has_its_sentence_in_both_languages() -> None:
    """A code without a block would render an empty reason: each has one, de and en."""
    sources = [path.read_text("utf-8") for path in _modules()]
    for template, raised in _RAISED.items():
        codes = {code for source in sources for code in raised.findall(source)}
        assert len(codes) >= 5, template  # the pattern still finds the raises
        for language in ("de", "en"):
            source = (ROOT / "templates" / language / f"{template}.j2").read_text("utf-8")
            blocks = set(re.findall(r"{%-? block (\w+) -?%}", source))
            assert codes - blocks == set(), (template, language)


def test_every_refused_config_value_has_its_words_in_both_languages() -> None:
    """A validator's `_refusal` code without a case in `_config.j2` would say pydantic's
    bare code: each has one, de and en."""
    source = (ROOT / "bot" / "config.py").read_text("utf-8")
    codes = set(re.findall(r'_refusal\(\s*"(\w+)"', source))
    assert len(codes) >= 5  # the pattern still finds the refusals
    for language in ("de", "en"):
        words = (ROOT / "templates" / language / "_config.j2").read_text("utf-8")
        cases = set(re.findall(r'code == "(\w+)"', words))
        assert codes - cases == set(), language
