"""`!zt öffentlich <Thema> an|aus`: a theme on or off the public page for citizens
(issue 24; `[web] public = true` serves it). Default: not public. An idea may be public
too: the page shows it as "in Planung" with its quarter.

`!zt öffentlich <Thema> auswertung an|aus`: the theme's newest closed participants'
evaluation on or off its public page, as aggregated counts per question and only for
questions with at least the evaluation's threshold of answers (never open answers, never
who answered). The internal evaluation never goes public."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.evaluation import INTERNAL_KIND, PARTICIPANTS
from bot.domain.public_page import page_slugs
from bot.domain.themes import ThemeView
from bot.rendering import Message

# The words that switch, German first; each stands for on or off.
SWITCH = arg.word("switch", {"an": "on", "aus": "off", "on": "on", "off": "off"}, optional=False)
# Before the switch: the theme's evaluation results instead of the theme itself.
RESULTS = arg.word("results", ("auswertung", "results"))


def page_url(services: Services, slug: str | None = None) -> str | None:
    """Where citizens read it, when the page is served (else None: the answer says so)."""
    web = services.config.web
    if not (web.enabled and web.public):
        return None
    return web.base_url() + ("/" if slug is None else f"/thema/{slug}")


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    switch = request.values.words.get("switch")
    if switch is None:
        raise UserError("missing_args", usage=request.usage, theme=view.theme.name)
    public = switch == "on"
    if request.values.has("results"):
        return _results(request, services, view, public)
    unchanged = view.theme.public == public
    if not unchanged:
        services.store.set_public(view.id, public, actor=request.sender, now=request.now)
    return services.renderer.message(
        "public_page",
        kind="public" if public else "private",
        unchanged=unchanged,
        theme=view.theme,
        url=page_url(services),
        prefix=services.config.bot.prefix,
    )


def _results(request: Request, services: Services, view: ThemeView, public: bool) -> Message:
    """Publish the newest participants' evaluation once it is closed, or take it off."""
    evaluations = services.evaluations.for_theme(view.id)  # newest first
    chosen = None
    if public:
        participants = [e for e in evaluations if e.kind == PARTICIPANTS]
        if not participants:
            internal = any(e.kind == INTERNAL_KIND for e in evaluations)
            raise UserError("public_results_none", theme=view.theme.name, internal=internal)
        if participants[0].status != "closed":
            raise UserError("public_results_running", theme=view.theme.name)
        chosen = participants[0]
    threshold = services.config.evaluation.min_answers
    changed = services.evaluations.set_public(
        view.id, chosen.id if chosen else None, actor=request.sender, now=request.now
    )
    return services.renderer.message(
        "public_page",
        kind="results_public" if public else "results_private",
        unchanged=not changed,
        theme=view.theme,
        min_answers=max(chosen.min_answers, threshold) if chosen else None,
        public_theme=view.theme.public,
        url=page_url(services, _slug(services, view)),
        prefix=services.config.bot.prefix,
    )


def _slug(services: Services, view: ThemeView) -> str | None:
    """The theme's address on the page; None while it is not public (no page yet)."""
    return page_slugs(services.store.public_themes()).get(view.id)


COMMAND = Command(
    name="öffentlich",
    aliases=("oeffentlich", "public"),
    handler=handle,
    arguments=(arg.theme(), RESULTS, SWITCH),
    right=Right.coordinators,
    examples=(
        "öffentlich Mobilität an",
        "öffentlich Regenwasserbewirtschaftung aus",
        "öffentlich Digitale Ethik auswertung an",
    ),
)
