"""The tables. The store (this package) is the only code that talks to them."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.domain.themes import StepState, ThemeStatus


class Theme(SQLModel, table=True):
    __tablename__ = "theme"
    __table_args__ = (
        # The year plan and the engines ask for themes by Z2.
        sa.Index("ix_theme_z2_name", "z2", "name"),
        # Name prefixes (`!zt status mobil`) with LIKE under any PostgreSQL collation;
        # SQLite's GLOB uses the unique index on name_key (store.name_index).
        sa.Index(
            "ix_theme_name_key_pattern",
            "name_key",
            postgresql_ops={"name_key": "text_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    # Folded name (domain.theme_names.fold): one theme per spelling, whatever the umlauts.
    name_key: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    z2: date | None = None
    planned_quarter: str | None = Field(default=None, max_length=10)
    status: str = Field(default=ThemeStatus.active, sa_type=sa.String(16))
    team_room: str | None = Field(default=None, max_length=255)
    # A theme may have its own citizen dialogue room and a room for its Z2 participants.
    buergerdialog_room: str | None = Field(default=None, max_length=255)
    z2_room: str | None = Field(default=None, max_length=255)
    # The digital participation window when moved by hand (NULL: as the process says).
    participation_start: date | None = None
    participation_end: date | None = None
    # The leading department (Fachbereich) and a contact for the theme (free text).
    department: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=500)
    # On the public page for citizens, and the participation's link (migration 0022).
    public: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    participation_link: str | None = Field(default=None, max_length=1000)
    # The step definitions the theme was created with (JSON of domain.process.ProcessTemplate).
    process_json: str = Field(sa_type=sa.Text)
    # Its SHA-256 (hex): lists read this and each distinct copy once, not ~5 KB per theme.
    process_digest: str | None = Field(default=None, max_length=64, index=True)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Step(SQLModel, table=True):
    __tablename__ = "step"
    __table_args__ = (
        sa.UniqueConstraint("theme_id", "key", name="uq_step_theme_key"),
        # What falls due around a day (the reminder engine, the year plan).
        sa.Index("ix_step_due", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(max_length=10)
    position: int
    due: date
    pinned: bool = False
    state: str = Field(default=StepState.open, sa_type=sa.String(16))
    done_on: date | None = None
    done_by: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, max_length=500)
    # A meeting's time in the city's zone and its place (migration 0019).
    starts_at: time | None = None
    ends_at: time | None = None
    place: str | None = Field(default=None, max_length=200)


class TeamRoom(SQLModel, table=True):
    """A further team room of a theme (the first one is `theme.team_room`): themes are
    fachbereichsübergreifend, and every team room hears the Fachbereich's reminders."""

    __tablename__ = "team_room"
    __table_args__ = (sa.UniqueConstraint("theme_id", "room_id", name="uq_team_room"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    room_id: str = Field(max_length=255)


class CoreTeamMember(SQLModel, table=True):
    """A member of a theme's Kernteam; the Fachbereich's reminders mention them."""

    __tablename__ = "core_team_member"
    __table_args__ = (sa.UniqueConstraint("theme_id", "user_id", name="uq_core_team_member"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: str = Field(max_length=255)


class ThemeParticipant(SQLModel, table=True):
    """Someone who sits at the theme's Z2 (`!zt teilnehmende`): asked in the evaluation
    after Z2, besides the members of the Z2 room."""

    __tablename__ = "theme_participant"
    __table_args__ = (sa.UniqueConstraint("theme_id", "user_id", name="uq_theme_participant"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: str = Field(max_length=255)


class Responsibility(SQLModel, table=True):
    """A person named responsible for a step (`!zt zuständig`); reminders mention them."""

    __tablename__ = "responsibility"
    __table_args__ = (sa.UniqueConstraint("step_id", "user_id", name="uq_responsibility"),)

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("step.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: str = Field(max_length=255)


class CouncilMeeting(SQLModel, table=True):
    """A known council meeting; step 6 moves to the first one on or after its date."""

    __tablename__ = "council_meeting"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column_kwargs={"unique": True})
    added_by: str = Field(max_length=255)


class OParlMeeting(SQLModel, table=True):
    """A council meeting from the council information system: the last good read."""

    __tablename__ = "oparl_meeting"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=1000, sa_column_kwargs={"unique": True})  # its OParl id
    name: str | None = Field(default=None, max_length=500)
    start: datetime = Field(sa_type=sa.DateTime(timezone=True))
    day: date  # in the city's time zone


class CouncilSync(SQLModel, table=True):
    """How the last reads of the council information system went (one row).

    `failing_since` is set at the first failed read and cleared by a good one; the notice
    that the data is stale (or back) is recorded in the same transaction, so a restart
    never repeats it."""

    __tablename__ = "council_sync"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="", max_length=2000)  # entry point, body, organization
    body: str | None = Field(default=None, max_length=500)
    organization: str | None = Field(default=None, max_length=500)
    last_success: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    failing_since: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    failure: str | None = Field(default=None, max_length=1000)


class ThemePaper(SQLModel, table=True):
    """A theme's Beschlussvorlage in the council information system (`!zt vorlage`)."""

    __tablename__ = "theme_paper"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    key: str = Field(max_length=1000)  # the paper's OParl id
    reference: str = Field(max_length=100)
    name: str | None = Field(default=None, sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=1000)
    # domain.papers.PaperConsultation as a JSON list.
    consultations: str = Field(default="[]", sa_type=sa.Text)
    decided: bool = False
    result: str | None = Field(default=None, max_length=500)
    result_day: date | None = None
    pending_day: date | None = None
    checked_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # The decision was carried into the theme's steps (once).
    applied: bool = False
    linked_by: str = Field(max_length=255)
    linked_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class HistoryEntry(SQLModel, table=True):
    """Every change to a theme, with who and when (`!zt verlauf`)."""

    __tablename__ = "history"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor: str = Field(max_length=255)
    action: str = Field(max_length=32)
    # Values for the history template (JSON object), e.g. {"step": "3", "note": "..."}.
    detail: str = Field(default="{}", sa_type=sa.Text)


class ReminderLog(SQLModel, table=True):
    """The sent-log: one row per reminder and room, written as pending before the send.

    `key` is a digest of (theme, step, kind, n, step date, room): unique, so a reminder
    is sent exactly once; a moved date makes a new key and voids the old reminders.
    """

    __tablename__ = "reminder_log"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    theme_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=True),
    )
    step_key: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    n: int
    step_date: date
    room_id: str = Field(max_length=255)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    event_id: str | None = Field(default=None, max_length=255)


class Evaluation(SQLModel, table=True):
    """The short questionnaire after a theme's Z2, as native Matrix polls."""

    __tablename__ = "evaluation"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    mode: str = Field(max_length=16)  # "anonym" or "raum"
    # starting → open → closing → closed
    status: str = Field(default="starting", max_length=16)
    # The Z2 room (its members are asked; results go there too); None: only the named
    # participants are asked (`!zt teilnehmende`).
    room_id: str | None = Field(default=None, max_length=255)
    questionnaire_json: str = Field(sa_type=sa.Text)
    min_answers: int
    opened_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    closes_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    reminded: bool = False
    participants: int = 0  # people asked (anonym mode)
    # Which questionnaire: "teilnehmende" (the Z2 participants) or "intern" (department,
    # Kernteam and Koordination on the process).
    kind: str = Field(
        default="teilnehmende", max_length=16, sa_column_kwargs={"server_default": "teilnehmende"}
    )
    # Started by the bot itself (announced in the coordination room).
    auto_started: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Its aggregated results are on the public page (`!zt öffentlich <Thema> auswertung an`).
    public: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class EvaluationPoll(SQLModel, table=True):
    """A poll event while the evaluation is open. In anonym mode one per direct chat and
    question: these rows are deleted at the close, so that nothing links an answer to a
    direct chat once the counts are stored."""

    __tablename__ = "evaluation_poll"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False)
    )
    question_key: str = Field(max_length=32)
    room_id: str = Field(max_length=255)
    start_event_id: str = Field(max_length=255)


class EvaluationResult(SQLModel, table=True):
    """Counts only: per question and answer, and per question the number of voters."""

    __tablename__ = "evaluation_result"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False)
    )
    question_key: str = Field(max_length=32)
    # None: the row holds the number of voters (and spoiled votes) of the question.
    answer_id: str | None = Field(default=None, max_length=32)
    count: int
    spoiled: int = 0


class EvaluationOpenPrompt(SQLModel, table=True):
    """An open question waiting for a plain reply in a direct chat while the evaluation is
    open; deleted with the answer and at the close, like the poll rows."""

    __tablename__ = "evaluation_open_prompt"
    __table_args__ = (sa.UniqueConstraint("evaluation_id", "room_id", name="uq_open_prompt_room"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False)
    )
    room_id: str = Field(max_length=255)
    question_key: str = Field(max_length=32)


class EvaluationOpenAnswer(SQLModel, table=True):
    """An answer to an open question: its text only, never who gave it or where."""

    __tablename__ = "evaluation_open_answer"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False)
    )
    question_key: str = Field(max_length=32)
    text: str = Field(max_length=1000)


class EvaluationOffer(SQLModel, table=True):
    """A notice that offered an evaluation of a theme (e.g. the internal one once step 6
    is done): recorded so that it goes out once."""

    __tablename__ = "evaluation_offer"
    __table_args__ = (sa.UniqueConstraint("theme_id", "kind", name="uq_evaluation_offer"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    offered_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Idea(SQLModel, table=True):
    """An improvement idea for the process (KVP)."""

    __tablename__ = "idea"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False)
    )
    text: str = Field(max_length=1000)
    author: str | None = Field(default=None, max_length=255)  # None: given anonymously
    status: str = Field(default="open", max_length=16)  # open, adopted, rejected
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # An adopted idea's follow-up (`kvp übernommen 3 @anna bis 01.06.2027`): who puts it
    # into practice, the day they are reminded, and when it was done (`kvp umgesetzt`).
    owner: str | None = Field(default=None, max_length=255)
    follow_up: date | None = None
    implemented_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    implemented_by: str | None = Field(default=None, max_length=255)


class StepDocumentRow(SQLModel, table=True):
    """A link on a theme's step (`!zt dokument`, or a link in an `erledigt` note): the
    Thesenpapier, the Fotoprotokoll of Z2, the Beschlussvorlage draft."""

    __tablename__ = "step_document"
    __table_args__ = (sa.UniqueConstraint("theme_id", "step_key", "url", name="uq_step_document"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    step_key: str = Field(max_length=10)
    url: str = Field(max_length=1000)
    title: str | None = Field(default=None, max_length=200)
    added_by: str = Field(max_length=255)
    added_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class StrategyMilestone(SQLModel, table=True):
    """A milestone of one of the city's other strategies (Masterplan Mobilität Q3,
    Reallabor ab Mai), shown beside the themes in the year plan and the feeds."""

    __tablename__ = "strategy_milestone"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    first_day: date = Field(index=True)
    last_day: date
    # As written and shown: "15.05.2027", "KW 20/2027", "Q3/2027", "Q2–Q3/2027".
    written: str = Field(max_length=20)
    # "day", "week" or "quarter": a Z2 in the week of a day or week milestone is warned of.
    precision: str = Field(max_length=10)
    added_by: str = Field(max_length=255)
    added_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # The last move: a subscribed calendar updates its event (SEQUENCE from it).
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class HandledEvent(SQLModel, table=True):
    """A command the bot has handled, with its reply until the homeserver has it.

    The outbox that makes answers exactly-once: the event id is recorded right after the
    command's effect, together with the rendered reply; after a crash a pending reply is
    sent again under the same transaction id, and the command is never run twice."""

    __tablename__ = "handled_event"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    room_id: str = Field(max_length=255)
    handled_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # The reply's event content while it is not yet sent; cleared once it is.
    reply_json: str | None = Field(default=None, sa_type=sa.Text)


class CrossSigningKey(SQLModel, table=True):
    """One of the bot account's cross-signing keys (master, self-signing, user-signing).

    Kept here and not in matrix-nio's key store: the database is backed up, and a lost key
    store (the bot becomes a new device) must not lose the identity that signs devices."""

    __tablename__ = "cross_signing_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "usage", name="uq_cross_signing_key_usage"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255)
    usage: str = Field(max_length=16)  # "master", "self_signing" or "user_signing"
    public_key: str = Field(max_length=64)  # Ed25519, unpadded base64
    # The private key's 32-byte seed, unpadded base64: a secret, like the whole database.
    private_key: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class FeedToken(SQLModel, table=True):
    """The secret in a calendar feed's URL (`!zt kalender <Thema> abo`): one per theme
    and one for the feed of every theme; renewing it revokes the old URL."""

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    # "all" for the feed of every theme, "theme:<id>" for one theme's feed.
    scope: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    theme_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=True),
    )
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class SyncToken(SQLModel, table=True):
    """Where the bot's sync stands: saved only once every command of the syncs before it
    is handled, so that a command interrupted by a crash comes again after the restart
    (and the outbox drops the ones handled already). In the database, so that a standby
    instance takes over from it."""

    __tablename__ = "sync_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    token: str = Field(sa_type=sa.Text)
    saved_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
