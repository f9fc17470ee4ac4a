"""`zt-bot` / `python -m bot`: run, check, demo, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.process import TemplateError, load_template


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # nio logs every request at INFO; its warnings are what an operator needs.
    logging.getLogger("nio").setLevel(logging.WARNING)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as err:
        print(f"Konfiguration {path} ist fehlerhaft:\n{err}", file=sys.stderr)
        raise SystemExit(2) from err


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import build_bot, run_until_signalled

    config = _load(args.config)
    _setup_logging(args.verbose)
    try:
        load_template(config.process.file)
    except TemplateError as err:
        print(f"Prozessvorlage ist fehlerhaft:\n{err}", file=sys.stderr)
        return 2
    asyncio.run(run_until_signalled(build_bot(config)))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    try:
        template = load_template(config.process.file)
    except TemplateError as err:
        print(f"Prozessvorlage ist fehlerhaft:\n{err}", file=sys.stderr)
        return 2
    source = config.process.file or "mitgeliefert"
    print(f"Konfiguration {args.config}: in Ordnung")
    print(f"  Homeserver:     {config.matrix.homeserver} als {config.matrix.user_id}")
    print(f"  Gerät:          {config.matrix.device_id} (Schlüssel in {config.matrix.store_path})")
    credential = "Zugangstoken" if config.matrix.access_token else "Passwort"
    print(f"  Anmeldung:      {credential} (gesetzt, wird nicht angezeigt)")
    print(f"  Datenbank:      {config.database_url.split('://', 1)[0]}")
    print(f"  Präfix:         {config.bot.prefix}   Sprache: {config.bot.language}")
    print(f"  Zeitzone:       {config.bot.timezone}   Erinnerungen um {config.reminders.send_time}")
    print(f"  Koordination:   {', '.join(config.bot.coordinators) or '(niemand eingetragen)'}")
    print(f"  Koordinationsraum: {config.rooms.koordination or '(nicht gesetzt)'}")
    print(f"Prozess „{template.process.name}“ (Version {template.process.version}, {source}):")
    for step in template.steps:
        anchor = "Z2" if step.anchor == "z2" else f"Schritt {step.anchor}"
        optional = ", optional" if step.optional else ""
        print(f"  {step.key:>3}  {step.offset_weeks:+3d} W zu {anchor:<10} {step.kind}{optional}: "
              f"{step.label}")  # fmt: skip
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import Store

    config = _load(args.config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.database_url)
    store.upgrade(args.revision)
    store.close()
    print(f"Datenbankschema auf Stand {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    _setup_logging(args.verbose)
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(run_demo(once=args.once))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="zt-bot", description="Zukunftstische-Bot für Matrix")
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot")
    run.add_argument("--config", type=Path, required=True)
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate the config and the process template")
    check.add_argument("--config", type=Path, required=True)
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
