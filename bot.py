"""Digital Embassy Assistant: the command line.

    python bot.py run                      the bot (sandbox when BOT_TOKEN is not set)
    python bot.py migrate                  bring the database schema up to date
    python bot.py content import [PATH]    validate and import the content store
    python bot.py content export PATH      write the store back out as files
    python bot.py ask "QUESTION" [--lang auto|kk|ru|en] [--json]
    python bot.py cases import FILE        validate and import cases from the consular system
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings
from bot.errors import StartupError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="Digital Embassy Assistant")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the local sandbox when BOT_TOKEN is not set)")
    sub.add_parser("sandbox", help="the local Bot API server, the bot and a terminal chat")
    sub.add_parser("migrate", help="apply database migrations")
    content = sub.add_parser("content", help="import or export the content store")
    csub = content.add_subparsers(dest="action", required=True)
    imp = csub.add_parser("import", help="validate files and import them")
    imp.add_argument("path", nargs="?", type=Path)
    exp = csub.add_parser("export", help="write the store out as files")
    exp.add_argument("path", type=Path)
    ask = sub.add_parser("ask", help="answer questions the way the chat does")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--lang", default="auto", choices=["auto", "kk", "ru", "en"])
    ask.add_argument("--json", action="store_true", help="print JSON")
    cases = sub.add_parser("cases", help="cases from the consular system")
    casesub = cases.add_subparsers(dest="action", required=True)
    cimp = casesub.add_parser("import", help="validate a CSV file, then import it")
    cimp.add_argument("file", type=Path)
    return parser


def cmd_migrate(settings: Settings) -> int:
    from storage.migrate import upgrade

    upgrade(settings.db.url)
    print("database is up to date")
    return 0


async def cmd_content(settings: Settings, action: str, path: Path | None) -> int:
    from bot.answers.content import ContentErrors
    from bot.answers.store import export_content, import_content
    from bot.answers.teach import (
        TAUGHT_FILE,
        export_taught,
        import_taught,
        read_taught,
        topic_slugs,
    )
    from storage.db import create_engine, create_session_factory

    engine = create_engine(settings.db.url)
    try:
        factory = create_session_factory(engine)
        if action == "import":
            root = path or settings.content_dir
            try:
                read_taught(root)  # refused before anything is imported
            except ValueError as exc:
                print(f"content in {root} is not valid, nothing was imported:\n  {exc}",
                      file=sys.stderr)
                return 1
            try:
                report = await import_content(factory, root)
            except ContentErrors as exc:
                print(f"content in {root} is not valid, nothing was imported:", file=sys.stderr)
                for problem in exc.problems:
                    print(f"  {problem}", file=sys.stderr)
                return 1
            taught = await import_taught(factory, root, await topic_slugs(factory))
            print(f"imported {root}")
            for line in [*report.lines(), *taught.lines()]:
                print(f"  {line}")
            return 0
        assert path is not None
        count = await export_content(factory, path)
        taught_count = await export_taught(factory, path)
        print(f"exported {count} files to {path}, and {taught_count} taught examples to "
              f"{path / TAUGHT_FILE}")
        return 0
    finally:
        await engine.dispose()


async def cmd_ask(settings: Settings, question: str | None, lang: str, as_json: bool) -> int:
    """Answers without loading the Telegram framework: the services need only the store."""
    from bot.answers.service import AnswerService
    from bot.answers.store import load_store
    from bot.shared.translation import check_catalogs
    from storage.db import create_engine, create_session_factory

    check_catalogs()
    engine = create_engine(settings.db.url)
    try:
        answers = AnswerService(await load_store(create_session_factory(engine),
                                                 settings.cache_dir), settings.tz)
        forced = None if lang == "auto" else lang
        if question is not None:
            _print_reply(answers.answer(question, lang=forced), as_json)
            return 0
        for line in sys.stdin:
            if line.strip():
                _print_reply(answers.answer(line, lang=forced), as_json=True)
                sys.stdout.flush()
        return 0
    finally:
        await engine.dispose()


async def cmd_cases(settings: Settings, path: Path) -> int:
    """Writes cases and their steps and queues the followers' notices; the bot sends them."""
    from bot.answers.store import ContentStore
    from bot.cases.imports import CaseImportErrors, import_cases
    from storage.db import create_engine, create_session_factory

    engine = create_engine(settings.db.url)
    try:
        factory = create_session_factory(engine)
        try:
            report = await import_cases(factory, await ContentStore.load(factory), path,
                                        settings.tz)
        except CaseImportErrors as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"{path}: nothing was imported", file=sys.stderr)
            return 1
        print(f"imported {path}: {report.line()}")
        return 0
    finally:
        await engine.dispose()


def _print_reply(reply: object, as_json: bool) -> None:
    from bot.answers.service import Reply

    assert isinstance(reply, Reply)
    if as_json:
        print(json.dumps(reply.to_json(), ensure_ascii=False))
        return
    data = reply.to_json()
    print(f"[{data['lang']}] topic={data['topic']} country={data['country']} "
          f"confidence={data['confidence']}")
    print(data["answer"])
    for row in reply.screen.buttons:
        print("  " + "  ".join(f"[{b.text}]" for b in row))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging(settings)
    try:
        return _dispatch(args, settings)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "run"
    serving = command == "run" and settings.bot.token is not None
    if not serving:  # serve() checks the database itself, then the Bot API server
        from bot.errors import check_database

        asyncio.run(check_database(settings.db.url, migrated=command != "migrate"))
    if command == "migrate":
        return cmd_migrate(settings)
    if command == "content":
        return asyncio.run(cmd_content(settings, args.action, args.path))
    if command == "cases":
        return asyncio.run(cmd_cases(settings, args.file))
    if command == "ask":
        return asyncio.run(cmd_ask(settings, args.question, args.lang, args.json))
    if command == "sandbox" or (command == "run" and settings.bot.token is None):
        from bot.sandbox import run_sandbox

        return asyncio.run(run_sandbox(settings))
    from bot.app import serve

    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
