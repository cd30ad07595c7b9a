"""Look after the dashboard tallies (PostgreSQL): see their size, fold, recount or rebuild."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues import tallies


class Command(BaseCommand):
    help = (
        "Show the dashboard tallies' rows; --compact folds them, --reconcile recounts them from "
        "the issues and visits and corrects any sum that differs, --rebuild starts them over "
        "(after a change of TIME_ZONE, say)."
    )

    def add_arguments(self, parser: Any) -> None:
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--compact", action="store_true", help="fold each key's rows into one")
        what.add_argument("--reconcile", action="store_true", help="recount and correct")
        what.add_argument("--rebuild", action="store_true", help="start over (holds writes)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not tallies.enabled():
            raise CommandError("The dashboard tallies exist on PostgreSQL only.")
        self.show("before")
        started = time.monotonic()
        if options["compact"]:
            self.stdout.write("folding …")
            done = f"{tallies.compact():,} rows folded away"
        elif options["reconcile"]:
            self.stdout.write("recounting from the issues and visits …")
            fixed = tallies.reconcile()
            done = ", ".join(f"{table}: {n:,} keys corrected" for table, n in fixed.items())
        elif options["rebuild"]:
            self.stdout.write("rebuilding (writes to issues and visits wait meanwhile) …")
            counts = tallies.rebuild()
            done = ", ".join(f"{table}: {n:,} rows" for table, n in counts.items())
        else:
            self.stdout.write(f"counting days in {tallies.installed_time_zone()}")
            return
        self.show("after")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s: {done}"))

    def show(self, when: str) -> None:
        for table, n in tallies.stats().items():
            self.stdout.write(
                f"{when}: {table:<36} {n['rows']:>10,} rows, {n['pending']:,} not folded"
            )
