"""`!zt dokument <Thema> <Schritt> <URL> [Titel]`: a step's result gets a home (the
Thesenpapier, the Fotoprotokoll of Z2, the Beschlussvorlage draft); `… entfernen
<URL|Nr>` takes one off; `!zt dokument <Thema>` lists them. The next step's reminders
link what the step before produced."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError, theme_and_step
from bot.domain.documents import (
    MAX_PER_STEP,
    DocumentError,
    check_link,
    check_title,
    looks_like_link,
)
from bot.domain.theme_names import first_word, fold
from bot.domain.themes import ThemeView
from bot.rendering import Message

REMOVE_WORDS = ("entfernen", "remove", "löschen", "loeschen")


def document_error(err: DocumentError, usage: str) -> UserError:
    return UserError(f"document_{err.code}", text=err.text, usage=usage)


def next_step_key(view: ThemeView, key: str) -> str | None:
    """The step after `key` in the process: its reminders link these documents."""
    keys = [step.key for step in view.steps]
    position = keys.index(key) if key in keys else -1
    return keys[position + 1] if 0 <= position < len(keys) - 1 else None


def _list(request: Request, services: Services) -> Message:
    view = request.named_theme
    rows = [
        (view.template.step(step.key), view.documents_of(step.key))
        for step in view.steps
        if view.documents_of(step.key)
    ]
    return services.renderer.message(
        "documents", kind="list", theme=view.theme, rows=rows, prefix=services.config.bot.prefix
    )


def _remove(request: Request, services: Services, view: ThemeView, key: str, what: str) -> Message:
    found = view.documents_of(key)
    word = what.strip()
    if not word:
        raise UserError("missing_args", usage=request.usage)
    if word.isascii() and word.isdigit() and len(word) <= 3:
        number = int(word)
        if not 1 <= number <= len(found):
            raise UserError("unknown_document", theme=view.theme.name, step=key, text=word)
        url = found[number - 1].url
    else:
        try:
            url = check_link(word)
        except DocumentError as err:
            raise document_error(err, request.usage) from err
        if all(document.url != url for document in found):
            raise UserError("unknown_document", theme=view.theme.name, step=key, text=word)
    services.store.remove_document(view.id, key, url, actor=request.sender, now=request.now)
    return services.renderer.message(
        "documents",
        kind="removed",
        theme=view.theme,
        step=view.template.step(key),
        url=url,
        left=len(found) - 1,
        prefix=services.config.bot.prefix,
    )


def handle(request: Request, services: Services) -> Message:
    if not request.args.strip():
        return _list(request, services)
    ref = theme_and_step(request)
    view, key = ref.view, ref.step.key
    word, rest = first_word(ref.rest)
    if fold(word) in {fold(w) for w in REMOVE_WORDS}:
        return _remove(request, services, view, key, rest)
    if not word:
        raise UserError("document_missing_link", usage=request.usage)
    if not looks_like_link(word):
        raise UserError("document_missing_link", usage=request.usage)
    try:
        url = check_link(word)
        title = check_title(rest)
    except DocumentError as err:
        raise document_error(err, request.usage) from err
    present = view.documents_of(key)
    if len(present) >= MAX_PER_STEP and all(d.url != url for d in present):
        raise UserError("too_many_documents", limit=MAX_PER_STEP, step=key)
    added = services.store.add_documents(
        view.id, key, [(url, title)], actor=request.sender, now=request.now
    )
    following = next_step_key(view, key)
    return services.renderer.message(
        "documents",
        kind="added" if added else "retitled",
        theme=view.theme,
        step=ref.definition,
        url=url,
        title=title,
        next=view.template.step(following) if following else None,
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="dokument",
    aliases=("dokumente", "document", "documents"),
    handler=handle,
    # Three shapes (add, `entfernen`, the list without a step): the handler reads them.
    arguments=(arg.theme(), arg.step(), arg.text("link"), arg.text("title", optional=True)),
    reads_arguments=False,
    right=Right.theme_members,
    examples=(
        "dokument Mobilität 3 https://cloud.stadt.de/s/thesen Thesenpapier",
        "dokument Mobilität Z2 https://cloud.stadt.de/s/foto Fotoprotokoll",
        "dokument Mobilität 3 entfernen 1",
        "dokument Mobilität",
    ),
)
