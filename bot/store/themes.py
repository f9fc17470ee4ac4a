"""The store: the only code that speaks SQL. The database is the source of truth.

Like Synapse keeps its storage, one class per area over the one Database: reading
themes, changing them, the reminders' sent-log (the council and the evaluations have
stores of their own, over the same database)."""

from __future__ import annotations

from bot.store.milestones import Milestones
from bot.store.sent_log import SentLog
from bot.store.step_documents import StepDocuments
from bot.store.theme_changes import ThemeChanges
from bot.store.theme_queries import ThemeQueries


class Store(ThemeQueries, ThemeChanges, SentLog, StepDocuments, Milestones):
    """Themes, their steps, people and documents, the reminders' sent-log, and the
    milestones of the city's other strategies."""
