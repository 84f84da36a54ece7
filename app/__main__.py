"""Operator commands: `python -m app migrate` (a deploy's release step) and friends."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import httpx

from app.clock import SystemClock
from app.db import migrate
from app.db.database import Database
from app.services.demo import seed_demo
from app.services.reconcile import reconcile
from app.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("migrate", help="apply pending migrations (default: to head)")
    up.add_argument("revision", nargs="?", default="head")
    down = commands.add_parser("downgrade", help="revert migrations down to a revision")
    down.add_argument("revision")
    commands.add_parser("current", help="print the database's migration revision")
    commands.add_parser(
        "reconcile", help="repair plans whose JSON and reminder rows disagree (logs each fix)"
    )
    commands.add_parser("seed-demo", help="local mode: create the demo user's leads (once)")
    tick = commands.add_parser(
        "tick", help="ask a running service for one dispatch pass (what the cron job runs)"
    )
    tick.add_argument("--url", default=os.environ.get("APP_URL"), help="default: $APP_URL")
    args = parser.parse_args(argv)
    if args.command == "tick":
        return call_tick(args.url, os.environ.get("INTERNAL_TOKEN"))

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "seed-demo" and not settings.local_mode:
        print("seed-demo skipped: a bot token is set, so this is not local mode")
        return 0
    return asyncio.run(_run(args, Database.from_url(settings.database)))


async def _run(args: argparse.Namespace, db: Database) -> int:
    try:
        if args.command == "migrate":
            await migrate.upgrade(db, args.revision)
            print(f"database at {await migrate.current_revision(db)}")
        elif args.command == "downgrade":
            await migrate.downgrade(db, args.revision)
            print(f"database at {await migrate.current_revision(db)}")
        elif args.command == "seed-demo":
            created = await seed_demo(db, SystemClock().now())
            print("demo data created" if created else "demo data already present")
        elif args.command == "reconcile":
            report = await reconcile(db, SystemClock().now())
            for repair in report.repairs:
                print(f"lead {repair.lead_id} step {repair.step_id}: {repair.what}")
            print(f"checked {report.leads_checked} leads, {len(report.repairs)} repairs")
        else:
            print(await migrate.current_revision(db) or "empty")
    finally:
        await db.dispose()
    return 0


def call_tick(base_url: str | None, token: str | None) -> int:
    """POST /internal/tick; used by a platform cron job as a backup to the in-process loop."""
    if not base_url:
        print("error: give --url or set APP_URL to the service's base URL", file=sys.stderr)
        return 2
    if not token:
        print("error: set INTERNAL_TOKEN to the service's internal token", file=sys.stderr)
        return 2
    try:
        response = httpx.post(
            base_url.rstrip("/") + "/internal/tick",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    except httpx.HTTPError as exc:
        print(f"error: tick request failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"error: tick answered {response.status_code}", file=sys.stderr)
        return 1
    print(json.dumps(response.json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
