"""Operator commands: `python -m app migrate` (a deploy's release step) and friends."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.db import migrate
from app.db.database import Database
from app.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("migrate", help="apply pending migrations (default: to head)")
    up.add_argument("revision", nargs="?", default="head")
    down = commands.add_parser("downgrade", help="revert migrations down to a revision")
    down.add_argument("revision")
    commands.add_parser("current", help="print the database's migration revision")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, Database.from_url(settings.database)))


async def _run(args: argparse.Namespace, db: Database) -> int:
    try:
        if args.command == "migrate":
            await migrate.upgrade(db, args.revision)
            print(f"database at {await migrate.current_revision(db)}")
        elif args.command == "downgrade":
            await migrate.downgrade(db, args.revision)
            print(f"database at {await migrate.current_revision(db)}")
        else:
            print(await migrate.current_revision(db) or "empty")
    finally:
        await db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
