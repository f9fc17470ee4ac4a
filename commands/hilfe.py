"""`!zt hilfe [befehl|schritt]`: the commands with examples, one command, or a step's goals."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Services, UserError
from bot.domain.theme_names import fold
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    # Imported here: the registry imports this module.
    from commands import COMMANDS, find_command

    prefix = services.config.bot.prefix
    labels = services.renderer.argument_labels

    def usage(form: Command) -> str:
        return form.usage(labels)

    topic = request.values.text
    if not topic:
        return services.renderer.message("help", commands=COMMANDS, prefix=prefix, usage=usage)
    command = find_command(topic.split()[0])
    if command is not None:
        return services.renderer.message(
            "help_command", command=command, prefix=prefix, usage=usage
        )
    step = services.template.step(topic.split()[0])
    if step is None:
        step = next((s for s in services.template.steps if fold(topic) in fold(s.name)), None)
    if step is not None:
        return services.renderer.message("help_step", step=step, prefix=prefix)
    raise UserError("unknown_help_topic", topic=topic, prefix=prefix)


COMMAND = Command(
    name="hilfe",
    changes=False,
    aliases=("help", "?"),
    handler=handle,
    arguments=(arg.text("topic", optional=True),),
    examples=("hilfe", "hilfe neu", "hilfe 3"),
)
