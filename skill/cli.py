"""``rls-coach``: serve | chat | say | validate | preview | model build | purge.

The parser lives here; each command's work lives beside what it drives, imported only when that
command runs, so ``rls-coach validate`` never imports Flask and ``serve`` never imports the chat.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from skill.catalog.loader import collect_errors
from skill.catalog.model import CONTENT_DIR
from skill.settings import Settings, SettingsError, parse_clock


def _cmd_validate(args: argparse.Namespace) -> int:
    directory = Path(args.directory) if args.directory else CONTENT_DIR
    catalog, errors = collect_errors(directory)
    if catalog is not None:
        from skill.coach.budget import fit_problems  # noqa: PLC0415

        errors = fit_problems(catalog)
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        print(f"{len(errors)} problem(s) in {directory}", file=sys.stderr)
        return 1
    assert catalog is not None
    print(f"content OK: {catalog.summary()}")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """Environment first, then the flags given on the command line."""
    settings = Settings.from_env()
    return settings.with_overrides(
        store_url=getattr(args, "store", None),
        verify=False if getattr(args, "no_verify", False) else None,
        skill_id=getattr(args, "skill_id", None),
        default_timezone=getattr(args, "timezone", None),
        default_bedtime=(
            parse_clock("--bedtime", args.bedtime) if getattr(args, "bedtime", None) else None
        ),
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from webhook.serve import serve  # noqa: PLC0415 - Flask only when serving

    return serve(_settings(args), host=args.host, port=args.port, threads=args.threads)


def _cmd_chat(args: argparse.Namespace) -> int:
    from coach_dev.chat import Permission, run_chat  # noqa: PLC0415

    return run_chat(
        _settings(args),
        url=args.url,
        locale=args.locale,
        user=args.user,
        screen=args.screen,
        at=args.at,
        permission=Permission(args.permission),
    )


def _cmd_say(args: argparse.Namespace) -> int:
    from coach_dev.chat import Permission, run_say  # noqa: PLC0415

    return run_say(
        _settings(args),
        args.utterances,
        url=args.url,
        locale=args.locale,
        user=args.user,
        as_json=args.json,
        screen=args.screen,
        at=args.at,
        permission=Permission(args.permission),
    )


def _cmd_model_build(args: argparse.Namespace) -> int:
    from coach_dev.model import build_command  # noqa: PLC0415

    return build_command(
        check=args.check,
        output=Path(args.output) if args.output else None,
        content=Path(args.content) if args.content else None,
    )


def _cmd_preview(args: argparse.Namespace) -> int:
    from coach_dev.preview import PreviewError, preview  # noqa: PLC0415
    from skill.catalog.model import CatalogError  # noqa: PLC0415

    try:
        return preview(
            " ".join(args.target),
            pace=args.pace,
            content=Path(args.content) if args.content else None,
        )
    except PreviewError as exc:
        print(f"rls-coach preview: {exc}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(
            f"rls-coach preview: the content has problems; run rls-coach validate\n{exc}",
            file=sys.stderr,
        )
        return 1


def _cmd_purge(args: argparse.Namespace) -> int:
    import datetime as dt  # noqa: PLC0415

    from ask_sdk_core.exceptions import PersistenceException  # noqa: PLC0415

    from skill.stores import StoreURLError, open_store  # noqa: PLC0415
    from skill.stores.retention import purge  # noqa: PLC0415

    settings = _settings(args)
    days = settings.retention_days
    parts = urlsplit(settings.store_url)
    if parts.scheme.lower() == "sqlite" and parts.path[1:] and not Path(parts.path[1:]).is_file():
        # Opening it would create an empty store; there is nothing to purge in none.
        print(f"rls-coach purge: no store at {parts.path[1:]}", file=sys.stderr)
        return 1
    try:
        store = open_store(settings.store_url)
        outcome = purge(store, days, dt.datetime.now(dt.UTC), dry_run=args.dry_run)
    except (StoreURLError, PersistenceException) as exc:
        print(f"rls-coach purge: {exc}", file=sys.stderr)
        return 1
    if outcome is None:
        print(
            f"{settings.store_url}: nothing to purge here. DynamoDB erases a record by itself "
            f"{days} days after its last save (the table's TTL); memory:// keeps nothing."
        )
        return 0
    count, before = outcome
    since = before.date().isoformat()
    if args.dry_run:
        print(
            f"{count} record(s) untouched since {since} would be erased (retention {days} days). "
            "Nothing was erased: run without --dry-run to erase them."
        )
    else:
        print(f"erased {count} record(s) untouched since {since} (retention {days} days)")
    return 0


def _add_skill_options(
    parser: argparse.ArgumentParser,
    timezone_help: str = "default IANA time zone (env RLS_COACH_TIMEZONE)",
) -> None:
    parser.add_argument("--store", help="store URL: sqlite:///path, dynamodb://table or memory://")
    parser.add_argument("--skill-id", help="the Alexa skill id (env RLS_COACH_SKILL_ID)")
    parser.add_argument("--timezone", help=timezone_help)
    parser.add_argument("--bedtime", help="default bedtime, 24-hour HH:MM (env RLS_COACH_BEDTIME)")


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", help="talk to a running webhook (e.g. http://127.0.0.1:5000/alexa)"
    )
    parser.add_argument("--locale", default="en-US", help="request locale (default en-US)")
    parser.add_argument("--user", default="local-user", help="a name for the simulated user")
    parser.add_argument(
        "--screen",
        action="store_true",
        help="be an Echo Show: screens (APL) are asked for and shown; ':tap next' taps a button",
    )
    parser.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="the device's local date and time (in --timezone); each turn then comes as much "
        "later as the previous answer takes to speak (default: the real clock)",
    )
    parser.add_argument(
        "--permission",
        choices=["granted", "denied", "none"],
        default="none",
        help="the reminders permission: granted before; denied (the user says no when Alexa "
        "asks); none (default: Alexa asks when the skill wants it, and the next turn answers: "
        "accept, deny or ignore). Not with --url",
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0-65535")
    return port


def _threads(value: str) -> int:
    try:
        threads = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if not 1 <= threads <= 256:
        raise argparse.ArgumentTypeError("threads must be between 1 and 256")
    return threads


DEVICE_DESCRIPTION = (
    "A simulated Echo. In this process it has a clock (--at), an API token, and the Alexa "
    "Settings and Reminders APIs answered by a stand-in: the device's time zone is --timezone, "
    "reminders are kept for the run, and the reminders permission is --permission. With --url "
    "it talks to a running webhook, sending its clock but no API token (the webhook uses its own "
    "time zone and cannot set reminders)."
)
DEVICE_TIMEZONE_HELP = (
    "the device's IANA time zone, as the Settings API answers it and the skill's default "
    "(env RLS_COACH_TIMEZONE)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rls-coach", description="Restless Legs Coach: a voice coach for RLS stretches."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the Alexa webhook (POST /alexa, GET /healthz)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=5000)
    serve.add_argument("--threads", type=_threads, default=8, help="worker threads (default 8)")
    serve.add_argument(
        "--no-verify",
        action="store_true",
        help="skip Alexa request verification (local development only)",
    )
    _add_skill_options(serve)
    serve.set_defaults(run=_cmd_serve)

    chat = commands.add_parser(
        "chat",
        help="talk to the skill from the terminal, as a simulated Echo",
        description=DEVICE_DESCRIPTION,
    )
    _add_client_options(chat)
    _add_skill_options(chat, DEVICE_TIMEZONE_HELP)
    chat.set_defaults(run=_cmd_chat)

    say = commands.add_parser(
        "say",
        help="send utterances as turns of one session, from a simulated Echo",
        description=DEVICE_DESCRIPTION,
    )
    say.add_argument("utterances", nargs="+", help="what you would say, one turn each")
    say.add_argument(
        "--json",
        action="store_true",
        help="print each turn's request and response JSON, and the Alexa API calls it made",
    )
    _add_client_options(say)
    _add_skill_options(say, DEVICE_TIMEZONE_HELP)
    say.set_defaults(run=_cmd_say)

    validate = commands.add_parser("validate", help="check the content YAML")
    validate.add_argument(
        "directory", nargs="?", help="content directory (default: the shipped one)"
    )
    validate.set_defaults(run=_cmd_validate)

    preview = commands.add_parser(
        "preview", help="print the whole spoken script of a routine or exercise"
    )
    preview.add_argument("target", nargs="+", help="a routine or exercise: id, name or synonym")
    preview.add_argument("--pace", default="normal", help="a pace from rules.yaml (default normal)")
    preview.add_argument("--content", help="content directory (default: the shipped one)")
    preview.set_defaults(run=_cmd_preview)

    purge = commands.add_parser(
        "purge",
        help="erase the records no one has used for RLS_COACH_RETENTION_DAYS (SQLite store)",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="only say how many records would be erased"
    )
    purge.add_argument("--store", help="store URL: sqlite:///path (env RLS_COACH_STORE)")
    purge.set_defaults(run=_cmd_purge)

    model = commands.add_parser("model", help="interaction model commands")
    model_commands = model.add_subparsers(dest="model_command", required=True, metavar="COMMAND")
    build = model_commands.add_parser(
        "build", help="write the skill package (manifest and interaction models) from the content"
    )
    build.add_argument("--check", action="store_true", help="compare instead of writing")
    build.add_argument("--output", help="skill package directory (default: skill-package/)")
    build.add_argument("--content", help="content directory (default: the shipped one)")
    build.set_defaults(run=_cmd_model_build)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SettingsError as exc:
        print(f"rls-coach: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
