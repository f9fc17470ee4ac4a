"""A plain reply in a direct chat, no `!zt` needed, while an open question of a running
evaluation waits there for an answer: it is kept without its author and without the chat
(`store.evaluations.EvaluationStore.answer_open`), and the next open question, if any,
follows. Not a chat verb: the router hands it every non-command message of a direct chat."""

from __future__ import annotations

from datetime import datetime

from bot.command import Services
from bot.domain.evaluation import next_open_question
from bot.domain.questionnaire import Questionnaire
from bot.rendering import Message

VERB = "antwort"


def plain_reply(body: str, *, room_id: str, now: datetime, services: Services) -> Message | None:
    """The answer to a plain message in a direct chat, or None when no open question
    waits there (then the bot stays silent, as for any message not meant for it)."""
    found = services.evaluations.pending_open(room_id)
    if found is None:
        return None
    text = " ".join(body.split())
    if not text:
        return None
    evaluation, key = found
    assert evaluation.id is not None
    questionnaire = Questionnaire.from_json(evaluation.questionnaire_json)
    following = next_open_question(questionnaire, key)
    services.evaluations.answer_open(evaluation.id, room_id, key, text, following)
    question = questionnaire.question(following) if following else None
    return services.renderer.sentence(
        "evaluation_words", "open_answer_stored", next=question.text if question else None
    )
