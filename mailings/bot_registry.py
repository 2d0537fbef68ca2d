"""What the apps above mailings add to the bots, registered at their ``AppConfig.ready()``.

mailings sits below catalog, billing, bookings and referrals (docs/architecture.md),
so its bots cannot import them. Instead those apps register here:

- a ``/start`` payload prefix: ``start_payload_register(prefix="ref_", handler=…)``;
  ``handler(subscriber=BotSubscriber, telegram_user=dict, argument=str) -> BotReply``
  runs for ``/start ref_<argument>``; raising a ``portal.errors.DomainError``
  refuses, and its message is the reply;
- a command for chats linked to a site account:
  ``command_register(command="/bookings", handler=…, description=…)``;
  ``handler(user=User) -> BotReply``; /help lists it with its description;
- lines of the staff ``/stats`` report: ``stats_register(name="billing", provider=…)``;
  ``provider(start=datetime, end=datetime) -> list[str]`` describes [start, end)
  (today in the site's time zone), one line per figure.

This module imports no models and no bot library, so registering is cheap.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BotReply:
    """What a registered handler answers: plain text (escaped by the bot), optionally with the Mini App button."""

    text: str
    app_button: bool = False


StartPayloadHandler = Callable[..., BotReply]
CommandHandler = Callable[..., BotReply]
StatsProvider = Callable[..., list[str]]


@dataclass(frozen=True)
class BotCommand:
    name: str
    handler: CommandHandler
    description: str


_start_payloads: dict[str, StartPayloadHandler] = {}
_commands: dict[str, BotCommand] = {}
_stats: dict[str, StatsProvider] = {}


def start_payload_register(*, prefix: str, handler: StartPayloadHandler) -> None:
    """Let ``/start <prefix><argument>`` (a t.me deep link) call ``handler``."""
    _start_payloads[prefix] = handler


def start_payload_handler(payload: str) -> tuple[StartPayloadHandler, str] | None:
    """The handler registered for ``payload``'s prefix and the rest of the payload, or None."""
    for prefix, handler in _start_payloads.items():
        if payload.startswith(prefix):
            return handler, payload[len(prefix) :]
    return None


def command_register(*, command: str, handler: CommandHandler, description) -> None:
    """Add ``command`` (``/name``) for chats linked to a user, listed in /help with ``description``."""
    name = command.lower()
    _commands[name] = BotCommand(name=name, handler=handler, description=description)


def bot_command_get(name: str) -> BotCommand | None:
    return _commands.get(name.lower())


def bot_commands() -> list[BotCommand]:
    """The registered commands, in the order they were registered."""
    return list(_commands.values())


def stats_register(*, name: str, provider: StatsProvider) -> None:
    """Add ``provider``'s lines to the staff ``/stats`` report (one provider per ``name``)."""
    _stats[name] = provider


def stats_providers() -> list[tuple[str, StatsProvider]]:
    """The registered /stats providers, in the order they were registered."""
    return list(_stats.items())
