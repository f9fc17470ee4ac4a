"""`!zt vorlage <Thema> <Nummer>`: link a theme to its Beschlussvorlage in the council
information system (found by its reference, e.g. BV/2027/0012).

From then on the theme's decision step sits on the day of the paper's deciding
consultation, status shows the consultations, and the council engine marks the decision
step done with the result once the council information system reports it.
"""

from __future__ import annotations

from datetime import timedelta

from bot import arguments as arg
from bot.command import (
    Command,
    Reply,
    Request,
    Right,
    Services,
    UserError,
    moved_notices,
)
from bot.council.client import OParlUnavailable
from bot.domain.council import decision_step
from bot.domain.process import StepRole
from bot.domain.theme_names import clean_name, unquote
from bot.domain.themes import StepState

MAX_REFERENCE_LENGTH = 60
# The paper is looked for among those created at most this long before Z2 (the OParl
# filter `created_since` keeps the walk through a large system's papers short).
PAPERS_BEFORE_Z2 = timedelta(days=365)


def handle(request: Request, services: Services) -> Reply:
    view, rest = request.values.theme, request.values.text
    assert view is not None
    reference = clean_name(unquote(rest))
    if not reference:
        raise UserError("missing_reference", usage=request.usage)
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise UserError("reference_too_long", limit=MAX_REFERENCE_LENGTH, length=len(reference))
    if view.theme.z2 is None or not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    if services.papers is None:
        raise UserError("council_not_configured")
    try:
        paper = services.papers.find_paper(
            reference, created_since=view.theme.z2 - PAPERS_BEFORE_Z2, now=request.now
        )
    except OParlUnavailable as failure:
        reason = failure.text(services.renderer)
        raise UserError("council_unavailable", reason=reason) from failure
    if paper is None:
        raise UserError("paper_unknown", reference=reference)
    changes = services.council.link_paper(
        view.id,
        paper,
        configured=services.config.council.meetings,
        actor=request.sender,
        now=request.now,
    )
    key = decision_step(view)
    step = view.step(key) if key else None
    answer = services.renderer.message(
        "paper_linked",
        theme=view.theme,
        paper=paper,
        changes=changes,
        decision=view.template.step_with_role(StepRole.council_decision),
        decision_open=step is not None and step.state == StepState.open,
        prefix=services.config.bot.prefix,
    )
    return Reply(answer, moved_notices(request, services, view, changes, cause="paper"))


COMMAND = Command(
    name="vorlage",
    aliases=("paper",),
    handler=handle,
    arguments=(arg.theme(), arg.text("reference", missing="missing_reference")),
    examples=("vorlage Mobilität BV/2027/0012",),
    right=Right.coordinators,
)
