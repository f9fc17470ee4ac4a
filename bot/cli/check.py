"""`zt-bot check [--online]`: what the configuration, the process template and the
questionnaires say, and with --online whether the bot can work on its homeserver. The
words are templates/<lang>/cli_check.j2."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from bot.cli.common import _load, _now, _template
from bot.config import Config
from bot.domain.process import ProcessTemplate
from bot.rendering import Renderer, describe_file_error

if TYPE_CHECKING:
    from bot.matrix.online_check import Finding


def _words(renderer: Renderer, block: str, /, **context: object) -> str:
    return renderer.sentence("cli_check", block, **context).body


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    from bot.domain.questionnaire import (
        INTERNAL,
        QuestionnaireError,
        load_questionnaire,
    )

    renderer = Renderer(config.bot.language)
    template = _template(config)
    try:
        questionnaire = load_questionnaire(config.evaluation.questionnaire)
        internal = load_questionnaire(config.evaluation.internal_questionnaire, default=INTERNAL)
    except QuestionnaireError as err:
        problems = describe_file_error(err, renderer)
        print(_words(renderer, "questionnaire_broken", error=problems), file=sys.stderr)
        return 2
    report = renderer.document(
        "cli_check",
        "report",
        html=False,
        path=args.config,
        c=config,
        t=template,
        database=config.database_url.split("://", 1)[0],
        missing_roles=_missing_roles(template),
        q=questionnaire,
        internal=internal,
    )
    print(report, end="")
    return _check_online(config, renderer) if args.online else 0


def _check_online(config: Config, renderer: Renderer) -> int:
    """Exit 0 only when the bot can work on its homeserver as configured."""
    from bot.matrix.online_check import ENV_ADMIN_TOKEN, can_work, check_online

    print(_words(renderer, "online", homeserver=config.matrix.homeserver))
    findings = asyncio.run(check_online(config, admin_token=os.environ.get(ENV_ADMIN_TOKEN)))
    if config.council.oparl is not None:
        findings.append(asyncio.run(_council_finding(config)))
    if config.web.enabled and config.web.public:
        findings.append(asyncio.run(_public_finding(config)))
    for finding in findings:
        print(f"  {finding.line(config.bot.language)}")
    if can_work(findings):
        print(_words(renderer, "can_work"))
        return 0
    print(_words(renderer, "cannot_work"), file=sys.stderr)
    return 1


async def _council_finding(config: Config) -> Finding:
    """One line on the council information system: which council, how many meetings in
    the coming year, or what is wrong. The bot works without it (hand-entered meetings),
    so a problem is a warning."""
    from bot.council.wiring import probe
    from bot.matrix.online_check import Finding, Status

    renderer = Renderer(config.bot.language)
    found = await probe(config, today=_now(config).date(), renderer=renderer)
    if found.ok:
        return Finding("council", Status.ok, "council", {"text": found.text})
    return Finding("council", Status.warning, "council", {"text": found.text}, fix="council")


async def _public_finding(config: Config) -> Finding:
    """Whether the public page answers where citizens reach it (through the city's proxy
    when `public_url` is set). The bot works without it, so a problem is a warning."""
    import httpx

    from bot.matrix.online_check import Finding, Status

    url = config.web.base_url() + "/"
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.get(url)
    except httpx.HTTPError as error:
        values = {"url": url, "error_type": type(error).__name__}
        return Finding("public", Status.warning, "public_unreachable", values, fix="public")
    if response.status_code != 200:
        values = {"url": url, "http": response.status_code}
        return Finding("public", Status.warning, "public_refused", values, fix="public")
    return Finding("public", Status.ok, "public_ok", {"url": url})


def _missing_roles(template: ProcessTemplate) -> list[str]:
    """Roles no step plays: the features that need them stay off (said, not failed)."""
    from bot.domain.process import MilestoneRole, StepRole

    roles = (StepRole.z2, StepRole.draft_resolution, StepRole.council_decision, StepRole.evaluation)
    missing = [role.value for role in roles if template.step_with_role(role) is None]
    if template.milestone_with_role(MilestoneRole.participation_start) is None:
        missing.append(MilestoneRole.participation_start.value)
    return missing
