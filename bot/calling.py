"""How a call is read before its handler runs: the command's right enforced, then its
declared arguments (bot/arguments.py) read into `request.values`, refusing a call that
misses one with the usage line. The router calls these two; handlers never do."""

from __future__ import annotations

from dataclasses import replace

from bot.arguments import (
    Arg,
    BadDate,
    Kind,
    Missing,
    NotAUser,
    StepRef,
    Values,
    head_words,
    read_rest,
    split_call,
    theme_takes_all,
)
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    date_error,
    find_leading_theme,
    find_step,
    find_theme,
    require_args,
    require_coordinator,
    require_marker,
)
from bot.domain.theme_names import first_word
from bot.domain.themes import ThemeView


def authorize(command: Command, request: Request, services: Services) -> Request:
    """Enforce what the command declares; a theme_members command gets its theme."""
    if command.right is Right.coordinators:
        require_coordinator(request, services)
    elif command.right is Right.theme_members:
        view, rest = find_leading_theme(require_args(request), services)
        require_marker(request, services, view)
        return replace(request, theme=view, args=rest)
    return request


def read_arguments(form: Command, request: Request, services: Services) -> Request:
    """The request with the form's declared arguments read (`request.values`); a call
    that misses one, or has a bad date or a word that is no user id, is refused."""
    if not form.arguments or not form.reads_arguments:
        return request
    try:
        return replace(request, values=_values(form.arguments, request, services))
    except Missing as missing:
        raise UserError(missing.code, usage=request.usage) from missing
    except BadDate as bad:
        raise date_error(bad.error, request.usage, quarters=bad.quarters) from bad
    except NotAUser as err:
        raise UserError("invalid_user_id", text=err.text) from err


def _values(arguments: tuple[Arg, ...], request: Request, services: Services) -> Values:
    kinds = [a.kind for a in arguments]
    found = request.theme  # a theme_members command: the router has found it
    remaining = arguments
    if found is not None and Kind.theme in kinds:
        remaining = arguments[kinds.index(Kind.theme) + 1 :]
    call = split_call(remaining, request.args)
    # A reply to the bot mentions the bot: it is never one of the people a command names.
    mentions = tuple(m for m in request.mentions if m != services.config.matrix.user_id)
    head = call.head
    view = found
    if view is None and Kind.theme in kinds:
        view, head = _theme_from(arguments, head, services)
    steps: tuple[StepRef, ...] = ()
    if Kind.step in kinds or Kind.steps in kinds:
        assert view is not None, "steps follow a theme"
        steps, head = _steps_from(view, head, request.usage, several=Kind.steps in kinds)
    head = head_words(arguments, head, call.words)
    try:
        people, number, text = read_rest(arguments, head, mentions)
    except Missing as missing:  # the refusal may name the theme ("Für „Mobilität“ fehlt …")
        name = view.theme.name if view is not None else None
        raise UserError(missing.code, usage=request.usage, theme=name) from missing
    if text and not any(a.kind is Kind.text for a in arguments) and not steps:
        raise UserError("too_many_args", usage=request.usage, rest=text)
    return Values(
        theme=view,
        steps=steps,
        date=call.date,
        users=people,
        number=number,
        text=text if any(a.kind is Kind.text for a in arguments) else "",
        words=call.words,
    )


def _theme_from(
    arguments: tuple[Arg, ...], head: str, services: Services
) -> tuple[ThemeView | None, str]:
    """The theme named by the head: all of it, or its start (the rest is read on)."""
    declared = next(a for a in arguments if a.kind is Kind.theme)
    if not head.strip():
        if declared.optional:
            return None, head
        raise Missing(declared.missing)
    if theme_takes_all(arguments):
        return find_theme(head, services), ""
    return find_leading_theme(head, services)


def _steps_from(
    view: ThemeView, head: str, usage: str, *, several: bool
) -> tuple[tuple[StepRef, ...], str]:
    """The step named first (by key or a word of its name), then, for `steps`, more by
    their exact keys, so that a note that starts with a word of a step's name stays a note."""
    if not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    first, rest = first_word(head)
    if not first:
        raise UserError("missing_step", usage=usage, keys=[s.key for s in view.steps])
    found = find_step(view, first)
    if found is None:
        raise UserError("unknown_step", step=first, keys=[s.key for s in view.steps])
    refs = [StepRef(view, found[0], found[1])]
    while several and rest:
        key, after = first_word(rest)
        definition = view.template.step(key)
        record = view.step(definition.key) if definition is not None else None
        if definition is None or record is None:
            break
        if all(r.definition.key != definition.key for r in refs):
            refs.append(StepRef(view, record, definition))
        rest = after
    return tuple(refs), rest
