"""What every `zt-bot` sub-command shares: the config, the process template, the clock,
logging; a broken file ends the command with exit 2 and a sentence that names its line."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.domain.process import ProcessTemplate, TemplateError, load_template
from bot.rendering import Renderer, describe_file_error, shared_renderer

# Before the configuration is read, the operator is told in German (the bot's default).
DEFAULT_LANGUAGE = "de"


def _words(language: str, block: str, /, **values: object) -> str:
    """A sentence of templates/<language>/cli.j2."""
    return shared_renderer(language).sentence("cli", block, **values).body


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
        # Without a readable configuration there is no language to choose.
        error = err.text(Renderer(DEFAULT_LANGUAGE))
        print(_words(DEFAULT_LANGUAGE, "config_broken", path=path, error=error), file=sys.stderr)
        raise SystemExit(2) from err


def _template(config: Config) -> ProcessTemplate:
    """The process template, or exit 2 with a message that names key and line."""
    try:
        return load_template(config.process.file)
    except TemplateError as err:
        language = config.bot.language
        problems = describe_file_error(err, Renderer(language))
        print(_words(language, "process_broken", error=problems), file=sys.stderr)
        raise SystemExit(2) from err


def _now(config: Config) -> datetime:
    from bot.clock import ENV_CLOCK_OFFSET, Clock, parse_offset

    return Clock(config.bot.zone, parse_offset(os.environ.get(ENV_CLOCK_OFFSET, ""))).now()
