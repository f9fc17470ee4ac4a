"""`zt-bot` / `python -m bot`: run, check, demo, db upgrade, forget-user, health.

`check` (what the configuration and the homeserver say) lives in check.py, the helpers
every sub-command shares (config, template, clock, logging) in common.py."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.check import _council_finding, cmd_check
from bot.cli.common import DEFAULT_LANGUAGE, _load, _now, _setup_logging, _template, _words
from bot.config import Config, ConfigError
from bot.domain.matrix_ids import is_user_id

# Re-exported: the tests import the check's council line from here.
__all__ = ["EXIT_ALREADY_RUNNING", "EXIT_LEASE_LOST", "_council_finding", "main"]

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.store.backup import Layout
    from bot.store.themes import Store


# `zt-bot run` ends with these (tests and supervisors tell them apart).
EXIT_ALREADY_RUNNING = 5  # SQLite: another instance runs on this database
EXIT_LEASE_LOST = 6  # PostgreSQL: the lease connection died; restart as standby


async def _freeze_after_first_sync(bot: Bot) -> None:
    """What start-up and the first sync loaded (code, rooms, members) lives as long as the
    process: the cyclic garbage collector need not walk it again on every full collection,
    which made a long list's answer take up to twice as long, at random."""
    gc.collect()
    gc.freeze()
    await bot.adapter.ready.wait()
    gc.collect()
    gc.freeze()


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import (
        AlreadyRunning,
        LeaseLost,
        build_bot,
        resolve_configured_rooms,
        run_until_signalled,
    )
    from bot.matrix.adapter import HomeserverUnreachable
    from bot.matrix.login import LoginFailed
    from bot.rendering import Renderer
    from bot.tasks import TaskGaveUp

    config = _load(args.config)
    _setup_logging(args.verbose)
    _template(config)  # a broken template stops the start with its line, not a traceback

    async def run() -> None:
        # The schema is upgraded only once the lease is held (Bot.run).
        bot = build_bot(await resolve_configured_rooms(config), prepare=False)
        freezing = asyncio.create_task(_freeze_after_first_sync(bot))
        try:
            await run_until_signalled(bot)
        finally:
            freezing.cancel()

    language = config.bot.language
    homeserver, user_id = config.matrix.homeserver, config.matrix.user_id

    def say(block: str, err: Exception) -> None:
        print(
            _words(language, block, homeserver=homeserver, user_id=user_id, error=err),
            file=sys.stderr,
        )

    try:
        asyncio.run(run())
    except ConfigError as err:
        error = err.text(Renderer(language))
        print(_words(language, "config_broken", path=args.config, error=error), file=sys.stderr)
        return 2
    except HomeserverUnreachable as err:
        say("homeserver_silent", err)
        return 3
    except LoginFailed as err:
        say("login_failed", err)
        return 3
    except TaskGaveUp as err:
        # A part of the bot kept crashing (see the log above): end, so that systemd or the
        # container starts a fresh process, rather than live on half-dead.
        say("task_gave_up", err)
        return 4
    except AlreadyRunning as err:
        say("already_running", err)
        return EXIT_ALREADY_RUNNING
    except LeaseLost as err:
        say("lease_lost", err)
        return EXIT_LEASE_LOST
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.themes import Store

    config = _load(args.config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.database_url)
    store.upgrade(args.revision)
    store.close()
    print(_words(config.bot.language, "schema_upgraded", revision=args.revision))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.conversation import run_demo

    _setup_logging(args.verbose)
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(run_demo(once=args.once))


# Calendar, annual plan import and export ----------------------------------------------


def _open_store(config: Config) -> Store:
    from bot.store.themes import Store

    store = Store(config.database_url)
    store.upgrade()
    return store


def _council_meetings(config: Config, store: Store) -> list[date]:
    from bot.store.council import CouncilStore

    return CouncilStore(store).days(config.council.meetings)


def _lead_names(language: str) -> dict[str, str]:
    """The leads' words from the templates, so chat and calendar agree."""
    from bot.rendering import Renderer

    return Renderer(language).lead_names()


def _write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)


def cmd_export_ics(args: argparse.Namespace) -> int:
    from bot.domain.ics import CalendarLabels, theme_calendar
    from bot.domain.theme_names import resolve
    from bot.rendering import Renderer

    config = _load(args.config)
    store = _open_store(config)
    try:
        match = resolve(args.theme, store.names)
        view = store.theme(match.name) if match.name else None
        if view is None:
            others = list(match.ambiguous or match.closest)
            words = _words(config.bot.language, "theme_not_found", theme=args.theme, others=others)
            print(words, file=sys.stderr)
            return 1
        ics = theme_calendar(
            view,
            lead_names=_lead_names(config.bot.language),
            now=_now(config),
            labels=CalendarLabels.from_words(Renderer(config.bot.language).words("calendar_words")),
            zone=config.bot.zone,
        )
    finally:
        store.close()
    _write_output(ics, args.output)
    if args.output is not None:
        count = ics.count(b"BEGIN:VEVENT")
        words = _words(
            config.bot.language,
            "calendar_written",
            count=count,
            theme=view.theme.name,
            path=args.output,
        )
        print(words, file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.domain.plan_file import read_plan, room_aliases, with_resolved_rooms
    from bot.matrix.adapter import HomeserverUnreachable, resolve_aliases
    from bot.rendering import Renderer
    from bot.store.plan_import import Action, error_text, import_plan, problem_text, text_progress
    from bot.store.theme_records import ThemeExists, ThemeGone

    config = _load(args.config)
    language = config.bot.language
    try:
        data = args.plan.read_bytes()
    except OSError as err:
        print(_words(language, "unreadable", path=args.plan, error=err.strerror), file=sys.stderr)
        return 2
    template = _template(config)
    parsed = read_plan(data)
    if aliases := room_aliases(parsed):  # `#mobilitaet:example.org` names a room id
        try:
            parsed = with_resolved_rooms(
                parsed, asyncio.run(resolve_aliases(config.matrix.homeserver, aliases))
            )
        except HomeserverUnreachable as err:
            words = _words(
                language, "aliases_unresolved", homeserver=config.matrix.homeserver, error=err
            )
            print(words, file=sys.stderr)
            return 3
    if parsed.errors:
        renderer = Renderer(language)
        for error in parsed.errors:
            text = error_text(error, renderer)
            print(_words(language, "plan_error", path=args.plan, error=text), file=sys.stderr)
        print(_words(language, "plan_refused", count=len(parsed.errors)), file=sys.stderr)
        return 1
    store = _open_store(config)
    try:
        report = import_plan(
            store,
            parsed,
            template=template,
            council_meetings=_council_meetings(config, store),
            actor=config.matrix.user_id,
            now=_now(config),
            dry_run=args.dry_run,
            progress=text_progress(sys.stderr),
        )
    except (ThemeExists, ThemeGone) as err:
        print(_words(language, "themes_changed", error=err), file=sys.stderr)
        return 1
    finally:
        store.close()
    renderer = Renderer(language)
    for result in report.of(Action.skipped):
        line, name = result.row.line, result.row.name
        reason = problem_text(result.why, renderer) if result.why else ""
        print(_words(language, "row_skipped", line=line, name=name, reason=reason))
    counts = {
        "created": report.count(Action.create),
        "updated": report.count(Action.update),
        "unchanged": report.count(Action.unchanged),
        "skipped": report.count(Action.skipped),
    }
    print(_words(language, "imported", dry_run=args.dry_run, **counts))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.domain.plan_file import write_plan

    config = _load(args.config)
    store = _open_store(config)
    try:
        views = store.themes(include_archived=True)
        named = store.participants_of([view.id for view in views])
    finally:
        store.close()
    text = write_plan(views, named)
    # With a BOM, Excel opens the UTF-8 file with its umlauts intact.
    _write_output(text.encode("utf-8-sig" if args.output else "utf-8"), args.output)
    return 0


def cmd_export_results(args: argparse.Namespace) -> int:
    from bot.domain.results_csv import results_csv
    from bot.domain.theme_names import fold
    from bot.rendering import Renderer
    from bot.store.evaluations import EvaluationStore, stored_summary

    config = _load(args.config)
    store = _open_store(config)
    try:
        evaluations = EvaluationStore(store)
        rows = []
        for evaluation, name in evaluations.closed():
            if args.theme and not fold(name).startswith(fold(args.theme)):
                continue
            rows.append((name, evaluation, stored_summary(evaluations, evaluation)))
    finally:
        store.close()
    text = results_csv(rows, Renderer(config.bot.language).words("results_csv_words"))
    _write_output(text.encode("utf-8-sig" if args.output else "utf-8"), args.output)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The year report, full: Markdown, a self-contained HTML page or CSV."""
    from bot.domain.year_report import year_report_csv
    from bot.rendering import Renderer
    from bot.store.reports import load_year_report

    config = _load(args.config)
    store = _open_store(config)
    try:
        report = load_year_report(store, config, args.year, _now(config).date())
    finally:
        store.close()
    renderer = Renderer(config.bot.language)
    if args.format == "csv":
        text = year_report_csv(report, renderer.words("year_report_words"))
        data = text.encode("utf-8-sig" if args.out else "utf-8")
    elif args.format == "html":
        data = renderer.document("year_report", "document", html=True, report=report).encode()
    else:
        data = renderer.document("year_report", "markdown", html=False, report=report).encode()
    _write_output(data, args.out)
    return 0


# Data protection and operations ---------------------------------------------------------


def cmd_forget_user(args: argparse.Namespace) -> int:
    from bot.rendering import Renderer
    from bot.store.privacy import FORGOTTEN, forget_user, place_labels

    if not is_user_id(args.user_id):
        print(_words(DEFAULT_LANGUAGE, "not_a_user_id", user_id=args.user_id), file=sys.stderr)
        return 2
    config = _load(args.config)
    store = _open_store(config)
    try:
        report = forget_user(store, args.user_id, now=_now(config), dry_run=args.dry_run)
    finally:
        store.close()
    # The config file is the operator's, not the database's: point at it, never edit it.
    configured = args.user_id in {*config.bot.coordinators, *config.bot.allowed_users}
    renderer = Renderer(config.bot.language)
    text = renderer.document(
        "cli",
        "forgotten",
        html=False,
        user_id=args.user_id,
        forgotten=FORGOTTEN,
        dry_run=args.dry_run,
        report=report,
        labels=place_labels(renderer),
        configured=configured,
        path=args.config,
    )
    print(text, end="")
    return 0


def _layout(config: Config) -> Layout:
    from bot.store.backup import Layout

    return Layout(config.database_url, config.bot.data_dir, config.matrix.store_path)


def _backup_words(config: Config, block: str, /, **context: object) -> str:
    """A sentence of templates/<lang>/backup.j2; a failure's own block follows its code."""
    from bot.rendering import Renderer

    renderer = Renderer(config.bot.language)
    err = context.get("err")
    if err is not None:
        context["reason"] = renderer.sentence("backup", err.code, **err.values).body
    return renderer.sentence("backup", block, **context).body


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.store.backup import BackupError, backup

    config = _load(args.config)
    try:
        report = backup(_layout(config), args.directory, now=_now(config))
    except BackupError as err:
        print(_backup_words(config, "failed", err=err), file=sys.stderr)
        return 1
    print(_backup_words(config, "saved", path=args.directory, written=report.written))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bot.store.backup import BackupError, restore

    config = _load(args.config)
    try:
        report = restore(_layout(config), args.directory)
    except BackupError as err:
        print(_backup_words(config, "refused", err=err), file=sys.stderr)
        return 1
    print(_backup_words(config, "restored", written=report.written))
    return 0


def _duration_arg(text: str) -> timedelta:
    from pydantic_core import PydanticCustomError

    from bot.config import parse_duration, refusal_text
    from bot.rendering import Renderer

    try:
        return parse_duration(text)
    except PydanticCustomError as err:
        raise argparse.ArgumentTypeError(refusal_text(err, Renderer())) from err


def cmd_health(args: argparse.Namespace) -> int:
    from bot.clock import Clock
    from bot.health import Limits, check_health, say
    from bot.rendering import Renderer

    config = _load(args.config)
    # Wall clock on purpose: the heartbeat is real time, whatever ZT_CLOCK_OFFSET says.
    now = Clock(config.bot.zone).now()
    limits = Limits(
        sync_max_age=args.max_age or config.health.sync_stale_after,
        queue_stuck_after=config.health.queue_stuck_after,
    )
    healthy, reasons = check_health(config.bot.data_dir, now=now, limits=limits)
    message = say(reasons, Renderer(config.bot.language))
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def _year_arg(text: str) -> int:
    from bot.domain.dates import MAX_YEAR, MIN_YEAR

    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(_words(DEFAULT_LANGUAGE, "year_digits", text=text))
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        words = _words(DEFAULT_LANGUAGE, "year_range", year=year, low=MIN_YEAR, high=MAX_YEAR)
        raise argparse.ArgumentTypeError(words)
    return year


def parser(language: str = DEFAULT_LANGUAGE) -> argparse.ArgumentParser:
    """The sub-commands; their help texts from templates/<language>/cli_help.j2 (German
    by default: the configuration, which names the language, is read after parsing)."""
    from bot.rendering import Renderer

    h = Renderer(language).words("cli_help")
    root = argparse.ArgumentParser(prog="zt-bot", description=h["description"])
    root.add_argument("-v", "--verbose", action="store_true", help=h["verbose"])
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help=h["run"])
    run.add_argument("--config", type=Path, required=True)
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help=h["check"])
    check.add_argument("--config", type=Path, required=True)
    check.add_argument("--online", action="store_true", help=h["check_online"])
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser("demo", help=h["demo"])
    demo.add_argument("--once", action="store_true", help=h["demo_once"])
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help=h["db"])
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help=h["db_upgrade"])
    upgrade.add_argument("--config", type=Path, required=True)
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    export_ics = sub.add_parser("export-ics", help=h["export_ics"])
    export_ics.add_argument("--config", type=Path, required=True)
    export_ics.add_argument("--theme", required=True, help=h["theme"])
    export_ics.add_argument("--output", type=Path, help=h["output"])
    export_ics.set_defaults(func=cmd_export_ics)

    plan_import = sub.add_parser("import", help=h["import"])
    plan_import.add_argument("--config", type=Path, required=True)
    plan_import.add_argument("plan", type=Path, help=h["plan"])
    plan_import.add_argument("--dry-run", action="store_true", help=h["import_dry_run"])
    plan_import.set_defaults(func=cmd_import)

    plan_export = sub.add_parser("export", help=h["export"])
    plan_export.add_argument("--config", type=Path, required=True)
    plan_export.add_argument("--output", type=Path, help=h["output"])
    plan_export.set_defaults(func=cmd_export)

    export_results = sub.add_parser("export-results", help=h["export_results"])
    export_results.add_argument("--config", type=Path, required=True)
    export_results.add_argument("--theme", help=h["results_theme"])
    export_results.add_argument("--output", type=Path)
    export_results.set_defaults(func=cmd_export_results)

    report = sub.add_parser("report", help=h["report"])
    report.add_argument("--config", type=Path, required=True)
    report.add_argument("--year", type=_year_arg, required=True, help=h["year"])
    report.add_argument("--format", choices=("md", "html", "csv"), default="md")
    report.add_argument("--out", type=Path, help=h["output"])
    report.set_defaults(func=cmd_report)

    forget = sub.add_parser("forget-user", help=h["forget_user"])
    forget.add_argument("--config", type=Path, required=True)
    forget.add_argument("user_id", help=h["user_id"])
    forget.add_argument("--dry-run", action="store_true", help=h["forget_dry_run"])
    forget.set_defaults(func=cmd_forget_user)

    save = sub.add_parser("backup", help=h["backup"])
    save.add_argument("--config", type=Path, required=True)
    save.add_argument("directory", type=Path, help=h["backup_directory"])
    save.set_defaults(func=cmd_backup)

    back = sub.add_parser("restore", help=h["restore"])
    back.add_argument("--config", type=Path, required=True)
    back.add_argument("directory", type=Path, help=h["restore_directory"])
    back.set_defaults(func=cmd_restore)

    health = sub.add_parser("health", help=h["health"])
    health.add_argument("--config", type=Path, required=True)
    health.add_argument(
        "--max-age",
        type=_duration_arg,
        default=None,
        help=h["max_age"],
    )
    health.set_defaults(func=cmd_health)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
