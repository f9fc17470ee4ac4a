"""What a citizen may see of the themes (issue 24): the public page's view model. Pure:
themes and `today` in, plain values out. Only what is meant for the public: a theme's
name, Fachbereich, its phases as the concept names them with their dates, the
participation's link, the paper's reference and link, the council's result. Never
Matrix ids, people, notes, rooms, places, KVP ideas or evaluation answers: none of
them is copied into these values, so no page can show them. A closed participants'
evaluation a coordinator published shows as counts per poll question, and only for a
question at least the evaluation's threshold (`min_answers`) of people answered: open
answers are no poll questions and never enter, and no count says who."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from bot.domain.annual_plan import planned_quarter
from bot.domain.participation import window as participation_window
from bot.domain.polls import Summary
from bot.domain.process import StepRole
from bot.domain.theme_names import fold
from bot.domain.themes import StepState, ThemeStatus, ThemeView

MAX_LINK_LENGTH = 1000
_FORBIDDEN = re.compile(r"[\s\"'<>\\`]")


class LinkError(ValueError):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(code)
        self.code = code
        self.text = text


def check_participation_link(text: str) -> str:
    """The link as stored, or LinkError: `link_scheme` (not http/https), `link_invalid`
    (no host, blanks, quotes …), `link_too_long`. A citizen's browser opens it."""
    link = text.strip()
    if len(link) > MAX_LINK_LENGTH:
        raise LinkError("link_too_long", link[:80])
    scheme = link.split(":", 1)[0].lower() if ":" in link else ""
    if scheme not in ("http", "https"):
        raise LinkError("link_scheme", link)
    parts = urlsplit(link)
    if _FORBIDDEN.search(link) or not parts.hostname:
        raise LinkError("link_invalid", link)
    return scheme + link[len(scheme) :]


def slug(name: str) -> str:
    """A theme's address on the page: `Digitale Ethik` → `digitale-ethik`."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:60] or "thema"


@dataclass(frozen=True)
class Phase:
    """One phase as the concept names it; `kind` picks its German words in the template."""

    kind: str  # preparation, expertise, participation, z2, draft, council, evaluation
    first: date
    last: date | None  # a period's end (participation, preparation); None: one day / open
    state: str  # done, current, upcoming
    link: str | None = None  # participation: its platform; draft: the paper
    reference: str | None = None  # the paper's number
    result: str | None = None  # the council's result (OParl)


@dataclass(frozen=True)
class PublicAnswer:
    text: str
    count: int
    share: int  # whole percent of the question's answers


@dataclass(frozen=True)
class PublicQuestion:
    key: str
    text: str
    answers: int  # people who answered it: at least the threshold
    mean: float | None  # scale questions: the mean score (1 to 5), one decimal
    distribution: tuple[PublicAnswer, ...]


@dataclass(frozen=True)
class PublicResults:
    """A published evaluation: its questions with enough answers, in their order."""

    min_answers: int
    questions: tuple[PublicQuestion, ...]


def _share(count: int, total: int) -> int:
    # Half up, as people round; a question here has at least min_answers (>= 2) answers.
    return int((Decimal(100 * count) / Decimal(total)).quantize(Decimal(1), ROUND_HALF_UP))


def public_results(summary: Summary) -> PublicResults:
    """What a citizen may see of a closed evaluation: the poll questions that reached the
    threshold, their counts and shares; a question below it is left out entirely."""
    questions = tuple(
        PublicQuestion(
            key=question.key,
            text=question.text,
            answers=question.answers,
            mean=question.mean,
            distribution=tuple(
                PublicAnswer(answer.text, answer.count, _share(answer.count, question.answers))
                for answer in question.distribution
            ),
        )
        for question in summary.questions
        if not question.too_few and question.answers >= summary.min_answers
    )
    return PublicResults(summary.min_answers, questions)


@dataclass(frozen=True)
class PublicTheme:
    slug: str
    name: str
    department: str | None
    status: str  # idea, planned, running, decided, implemented, paused
    year: int | None
    quarter: int | None
    quarter_text: str | None  # an idea's planned quarter as written: Q4/2027
    z2: date | None
    decided_on: date | None
    phases: tuple[Phase, ...]
    results: PublicResults | None = None  # a published evaluation's aggregates

    @property
    def current(self) -> Phase | None:
        return next((p for p in self.phases if p.state == "current"), None)


@dataclass(frozen=True)
class QuarterGroup:
    year: int
    quarter: int
    themes: tuple[PublicTheme, ...]


@dataclass(frozen=True)
class PublicPage:
    today: date
    themes: tuple[PublicTheme, ...]  # every public theme, by date then name

    def by_quarter(self) -> tuple[QuarterGroup, ...]:
        """This year's and next year's themes, by quarter (what `/` lists)."""
        years = (self.today.year, self.today.year + 1)
        groups: dict[tuple[int, int], list[PublicTheme]] = {}
        for theme in self.themes:
            if theme.year in years and theme.quarter is not None:
                groups.setdefault((theme.year, theme.quarter), []).append(theme)
        return tuple(QuarterGroup(y, q, tuple(found)) for (y, q), found in sorted(groups.items()))

    def find(self, wanted: str) -> PublicTheme | None:
        return next((theme for theme in self.themes if theme.slug == wanted), None)


_ROLE_KINDS = {
    StepRole.z2: "z2",
    StepRole.draft_resolution: "draft",
    StepRole.council_decision: "council",
    StepRole.evaluation: "evaluation",
}


def _phases(view: ThemeView, today: date) -> list[Phase]:
    template = view.template
    found: list[tuple[str, date, date | None, bool]] = []
    window = participation_window(view)
    paper = view.paper
    for position, step in enumerate(view.steps):
        definition = template.step(step.key)
        if definition is None:
            continue
        done = step.state in (StepState.done, StepState.skipped, StepState.lapsed)
        if position == 0:
            after = view.steps[1].due if len(view.steps) > 1 else None
            found.append(("preparation", step.due, after, done))
        elif window is not None and step.key == window.step_key:
            found.append(("expertise", step.due, None, done))
        elif definition.role in _ROLE_KINDS:
            found.append((_ROLE_KINDS[definition.role], step.due, None, done))
    if window is not None:
        found.append(("participation", window.opens, window.closes, today > window.closes))
    found.sort(key=lambda f: f[1])
    current = _current_index(found, today)
    phases = []
    for index, (kind, first, last, _done) in enumerate(found):
        # Before the current phase is past; after it is ahead, whatever its steps say.
        state = "current" if index == current else ("upcoming" if first >= today else "done")
        phases.append(
            Phase(
                kind,
                first,
                last,
                state,
                link=_link(kind, view),
                reference=paper.reference if kind == "draft" and paper else None,
                result=paper.result if kind == "council" and paper and paper.decided else None,
            )
        )
    return phases


def _current_index(found: list[tuple[str, date, date | None, bool]], today: date) -> int | None:
    """The phase a citizen is told is now: a running participation first, else the last
    phase that has begun and is not settled (the evaluation runs on)."""
    for index, (kind, first, last, _done) in enumerate(found):
        if kind == "participation" and last is not None and first <= today <= last:
            return index
    begun = [i for i, (_kind, first, _l, _d) in enumerate(found) if first <= today]
    if not begun:
        return None
    last_begun = begun[-1]
    kind, _first, _last, done = found[last_begun]
    return None if done and kind == "evaluation" else last_begun


def _link(kind: str, view: ThemeView) -> str | None:
    if kind == "participation":
        return view.theme.participation_link
    if kind == "draft" and view.paper is not None and view.paper.link:
        link = view.paper.link
        return link if link.split(":", 1)[0].lower() in ("http", "https") else None
    return None


def _status(view: ThemeView, phases: list[Phase], today: date) -> tuple[str, date | None]:
    theme = view.theme
    if theme.status == ThemeStatus.idea:
        return "idea", None
    evaluation = next((p for p in phases if p.kind == "evaluation"), None)
    council_step = next(
        (
            s
            for s in view.steps
            if view.template.step(s.key) is not None
            and view.template.step(s.key).role == StepRole.council_decision
        ),  # type: ignore[union-attr]
        None,
    )
    decided_on = None
    if view.paper is not None and view.paper.decided:
        decided_on = view.paper.result_day
    elif council_step is not None and council_step.state == StepState.done:
        decided_on = council_step.done_on or council_step.due
    if theme.status == ThemeStatus.archived or (
        evaluation is not None and evaluation.state == "done" and decided_on
    ):
        return "implemented", decided_on
    if decided_on is not None:
        return "decided", decided_on
    if theme.status == ThemeStatus.paused:
        return "paused", None
    if view.steps and min(step.due for step in view.steps) <= today:
        return "running", None
    return "planned", None


def public_theme(
    view: ThemeView, today: date, page_slug: str, results: Summary | None = None
) -> PublicTheme:
    theme = view.theme
    phases = _phases(view, today) if theme.status != ThemeStatus.idea else []
    status, decided_on = _status(view, phases, today)
    planned = planned_quarter(theme.planned_quarter) if theme.z2 is None else None
    year = theme.z2.year if theme.z2 else (planned.year if planned else None)
    quarter = (theme.z2.month - 1) // 3 + 1 if theme.z2 else (planned.quarter if planned else None)
    return PublicTheme(
        slug=page_slug,
        name=theme.name,
        department=theme.department,
        status=status,
        year=year,
        quarter=quarter,
        quarter_text=str(planned) if planned else None,
        z2=theme.z2,
        decided_on=decided_on,
        phases=tuple(phases),
        results=public_results(results) if results is not None else None,
    )


def _chosen(views: Iterable[ThemeView]) -> list[ThemeView]:
    return sorted(
        (v for v in views if v.theme.public),
        key=lambda v: (v.theme.z2 or date.max, v.theme.name.casefold()),
    )


def page_slugs(views: Iterable[ThemeView]) -> dict[int, str]:
    """Each public theme's address (by theme id); a slug two names share gets the id."""
    chosen = _chosen(views)
    taken: dict[str, int] = {}
    for view in chosen:
        taken[slug(view.theme.name)] = taken.get(slug(view.theme.name), 0) + 1
    slugs = {}
    for view in chosen:
        base = slug(view.theme.name)
        slugs[view.id] = base if taken[base] == 1 else f"{base}-{view.id}"
    return slugs


def public_page(
    views: Iterable[ThemeView], today: date, results: Mapping[int, Summary] | None = None
) -> PublicPage:
    """The page of the themes made public; `results`: the published evaluations'
    summaries by theme id."""
    chosen = _chosen(views)
    slugs = page_slugs(chosen)
    published = results or {}
    themes = [public_theme(view, today, slugs[view.id], published.get(view.id)) for view in chosen]
    return PublicPage(today, tuple(themes))
