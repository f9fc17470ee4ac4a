"""The store's part for documents on steps (`!zt dokument`): each change in one
transaction with its history entry (a feed's SEQUENCE rises with it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import select

from bot.domain.documents import StepDocument
from bot.store.database import Database, utc
from bot.store.tables import StepDocumentRow, Theme
from bot.store.theme_records import ThemeGone, document_record, record_history


class StepDocuments(Database):
    """Links on a theme's steps (a part of Store)."""

    def documents(self, theme_id: int, step_key: str | None = None) -> list[StepDocument]:
        with self.reading() as session:
            query = select(StepDocumentRow).where(StepDocumentRow.theme_id == theme_id)
            if step_key is not None:
                query = query.where(StepDocumentRow.step_key == step_key)
            rows = session.exec(query.order_by(StepDocumentRow.id))  # type: ignore[arg-type]
            return [document_record(row) for row in rows]

    def add_documents(
        self,
        theme_id: int,
        step_key: str,
        links: Sequence[tuple[str, str | None]],
        *,
        actor: str,
        now: datetime,
    ) -> list[str]:
        """Adds (link, title) pairs to a step; the links that were new. A link already
        on the step keeps its place and gets the new title, if one is given."""
        added: list[str] = []
        with self.session() as session:
            if session.get(Theme, theme_id) is None:
                raise ThemeGone(theme_id)
            existing = {
                row.url: row
                for row in session.exec(
                    select(StepDocumentRow).where(
                        StepDocumentRow.theme_id == theme_id, StepDocumentRow.step_key == step_key
                    )
                )
            }
            for url, title in links:
                row = existing.get(url)
                if row is None:
                    row = StepDocumentRow(
                        theme_id=theme_id,
                        step_key=step_key,
                        url=url,
                        title=title,
                        added_by=actor,
                        added_at=utc(now),
                    )
                    existing[url] = row
                    added.append(url)
                elif title:
                    row.title = title
                session.add(row)
            if added:
                record_history(
                    session, theme_id, actor, now, "document_added", step=step_key, urls=added
                )
            session.commit()
        return added

    def remove_document(
        self, theme_id: int, step_key: str, url: str, *, actor: str, now: datetime
    ) -> bool:
        with self.session() as session:
            row = session.exec(
                select(StepDocumentRow).where(
                    StepDocumentRow.theme_id == theme_id,
                    StepDocumentRow.step_key == step_key,
                    StepDocumentRow.url == url,
                )
            ).first()
            if row is None:
                return False
            session.delete(row)
            record_history(
                session, theme_id, actor, now, "document_removed", step=step_key, urls=[url]
            )
            session.commit()
            return True
