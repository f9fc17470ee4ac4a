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
from bot.cli.common import _load, _now, _setup_logging, _template
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

    try:
        asyncio.run(run())
    except ConfigError as err:
        words = err.text(Renderer(config.bot.language))
        print(f"Konfiguration {args.config} ist fehlerhaft:\n{words}", file=sys.stderr)
        return 2
    except HomeserverUnreachable as err:
        print(f"Homeserver {config.matrix.homeserver} antwortet nicht: {err}", file=sys.stderr)
        return 3
    except LoginFailed as err:
        print(
            f"Anmeldung bei {config.matrix.homeserver} als {config.matrix.user_id} "
            f"fehlgeschlagen: {err}",
            file=sys.stderr,
        )
        return 3
    except TaskGaveUp as err:
        # A part of the bot kept crashing (see the log above): end, so that systemd or the
        # container starts a fresh process, rather than live on half-dead.
        print(f"Der Bot wird beendet: {err}. Einzelheiten stehen im Log.", file=sys.stderr)
        return 4
    except AlreadyRunning as err:
        print(
            f"Eine andere Instanz des Bots läuft schon mit dieser Datenbank ({err}). Zwei "
            "Instanzen auf einer SQLite-Datenbank sind nicht möglich; für eine Instanz in "
            "Bereitschaft (standby) PostgreSQL verwenden.\n"
            f"Another instance of the bot is already running on this database ({err}). Two "
            "instances cannot share a SQLite database; use PostgreSQL for a standby.",
            file=sys.stderr,
        )
        return EXIT_ALREADY_RUNNING
    except LeaseLost as err:
        print(
            f"Der Bot wird beendet: die Verbindung, die die Sperre hält, ist abgerissen "
            f"({err}); eine andere Instanz kann jetzt aktiv sein. Neu starten (als "
            "Bereitschaft).\n"
            f"The bot ends: the connection holding the lease was lost ({err}); another "
            "instance may be active now. Restart it (as standby).",
            file=sys.stderr,
        )
        return EXIT_LEASE_LOST
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.themes import Store

    config = _load(args.config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.database_url)
    store.upgrade(args.revision)
    store.close()
    print(f"Datenbankschema auf Stand {args.revision}")
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
            others = match.ambiguous or match.closest
            hint = f" Meinten Sie: {', '.join(others)}?" if others else ""
            print(f"Thema „{args.theme}“ nicht gefunden.{hint}", file=sys.stderr)
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
        print(
            f"{ics.count(b'BEGIN:VEVENT')} Termine von „{view.theme.name}“ in {args.output}",
            file=sys.stderr,
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.domain.plan_file import read_plan, room_aliases, with_resolved_rooms
    from bot.matrix.adapter import HomeserverUnreachable, resolve_aliases
    from bot.store.plan_import import Action, import_plan, text_progress
    from bot.store.theme_records import ThemeExists, ThemeGone

    config = _load(args.config)
    try:
        data = args.plan.read_bytes()
    except OSError as err:
        print(f"{args.plan}: kann nicht gelesen werden: {err.strerror}", file=sys.stderr)
        return 2
    template = _template(config)
    parsed = read_plan(data)
    if aliases := room_aliases(parsed):  # `#mobilitaet:example.org` names a room id
        try:
            parsed = with_resolved_rooms(
                parsed, asyncio.run(resolve_aliases(config.matrix.homeserver, aliases))
            )
        except HomeserverUnreachable as err:
            print(
                f"Raumadressen nicht auflösbar: {config.matrix.homeserver} antwortet nicht "
                f"({err}); nichts importiert.",
                file=sys.stderr,
            )
            return 3
    if parsed.errors:
        for error in parsed.errors:
            print(f"{args.plan}: {error}", file=sys.stderr)
        print(f"{len(parsed.errors)} Fehler: nichts importiert.", file=sys.stderr)
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
        print(
            f"Themen wurden währenddessen geändert ({err}): nichts importiert, "
            "bitte erneut versuchen.",
            file=sys.stderr,
        )
        return 1
    finally:
        store.close()
    for result in report.of(Action.skipped):
        print(f"Zeile {result.row.line}: „{result.row.name}“ übersprungen: {result.reason}")
    print(
        f"{report.count(Action.create)} angelegt, {report.count(Action.update)} ergänzt, "
        f"{report.count(Action.unchanged)} unverändert, "
        f"{report.count(Action.skipped)} übersprungen"
        + (" (Probelauf: nichts gespeichert)" if args.dry_run else "")
    )
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
    from bot.store.privacy import forget_user, place_labels

    if not is_user_id(args.user_id):
        print(
            f"„{args.user_id}“ ist keine Matrix-ID; erwartet wie @person:server.example",
            file=sys.stderr,
        )
        return 2
    config = _load(args.config)
    store = _open_store(config)
    try:
        report = forget_user(store, args.user_id, now=_now(config), dry_run=args.dry_run)
    finally:
        store.close()
    verb = "würde ersetzt" if args.dry_run else "ersetzt"
    print(f"{args.user_id} → „gelöscht“ ({verb}):")
    labels = place_labels(Renderer(config.bot.language))
    for place, count in report.changed.items():
        print(f"  {labels[place]:<34} {count:>5}   ({place})")
    print(f"  {'zusammen':<34} {report.total:>5}")
    for place in report.leftovers:
        print(f"Achtung: {args.user_id} steht noch in {place} (nicht automatisch ersetzt)")
    # The config file is the operator's, not the database's: point at it, never edit it.
    configured = {*config.bot.coordinators, *config.bot.allowed_users}
    if args.user_id in configured:
        print(f"Achtung: {args.user_id} steht noch in der Konfiguration {args.config}")
    if args.dry_run:
        print("Probelauf: nichts gespeichert")
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
        raise argparse.ArgumentTypeError(f"„{text}“: bitte ein vierstelliges Jahr, z. B. 2027")
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise argparse.ArgumentTypeError(f"{year} liegt außerhalb von {MIN_YEAR} bis {MAX_YEAR}")
    return year


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="zt-bot", description="Zukunftstische-Bot für Matrix")
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot")
    run.add_argument("--config", type=Path, required=True)
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate the config and the process template")
    check.add_argument("--config", type=Path, required=True)
    check.add_argument(
        "--online", action="store_true", help="also log in and check rooms, power, media, keys"
    )
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser("demo", help="throwaway homeserver + bot + a scripted conversation")
    demo.add_argument("--once", action="store_true", help="exit after the conversation")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the Alembic migrations")
    upgrade.add_argument("--config", type=Path, required=True)
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    export_ics = sub.add_parser("export-ics", help="a theme's steps as an .ics calendar file")
    export_ics.add_argument("--config", type=Path, required=True)
    export_ics.add_argument("--theme", required=True, help="the theme's name (or a prefix)")
    export_ics.add_argument("--output", type=Path, help="file to write (default: stdout)")
    export_ics.set_defaults(func=cmd_export_ics)

    plan_import = sub.add_parser("import", help="create themes from the annual plan (CSV)")
    plan_import.add_argument("--config", type=Path, required=True)
    plan_import.add_argument("plan", type=Path, help="CSV: Thema; Z2 or Quartal; Teamraum")
    plan_import.add_argument("--dry-run", action="store_true", help="check and report only")
    plan_import.set_defaults(func=cmd_import)

    plan_export = sub.add_parser("export", help="write the annual plan (CSV) with the state")
    plan_export.add_argument("--config", type=Path, required=True)
    plan_export.add_argument("--output", type=Path, help="file to write (default: stdout)")
    plan_export.set_defaults(func=cmd_export)

    export_results = sub.add_parser(
        "export-results", help="evaluation results as CSV (aggregates only)"
    )
    export_results.add_argument("--config", type=Path, required=True)
    export_results.add_argument("--theme", help="only this theme (name or prefix)")
    export_results.add_argument("--output", type=Path)
    export_results.set_defaults(func=cmd_export_results)

    report = sub.add_parser(
        "report", help="the year report: steps on time, council, evaluations, KVP, trends"
    )
    report.add_argument("--config", type=Path, required=True)
    report.add_argument("--year", type=_year_arg, required=True, help="e.g. 2027")
    report.add_argument("--format", choices=("md", "html", "csv"), default="md")
    report.add_argument("--out", type=Path, help="file to write (default: stdout)")
    report.set_defaults(func=cmd_report)

    forget = sub.add_parser(
        "forget-user", help="replace a person by 'gelöscht' everywhere in the database"
    )
    forget.add_argument("--config", type=Path, required=True)
    forget.add_argument("user_id", help="the Matrix id, e.g. @person:server.example")
    forget.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    forget.set_defaults(func=cmd_forget_user)

    save = sub.add_parser(
        "backup", help="copy database, encryption keys and device record (safe while running)"
    )
    save.add_argument("--config", type=Path, required=True)
    save.add_argument("directory", type=Path, help="a new or empty directory")
    save.set_defaults(func=cmd_backup)

    back = sub.add_parser("restore", help="put a backup back into an empty data directory")
    back.add_argument("--config", type=Path, required=True)
    back.add_argument("directory", type=Path, help="the backup's directory")
    back.set_defaults(func=cmd_restore)

    health = sub.add_parser(
        "health", help="exit 0 when the bot works: syncing, sending, reminding (else: why not)"
    )
    health.add_argument("--config", type=Path, required=True)
    health.add_argument(
        "--max-age",
        type=_duration_arg,
        default=None,
        help="sync staleness, e.g. 90s, 5m (default: [health] sync_stale_after)",
    )
    health.set_defaults(func=cmd_health)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
