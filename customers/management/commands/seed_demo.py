"""`manage.py seed_demo`: load demo data once, so `make run` opens on a CRM that looks used."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.actors import Actor, Door
from customers.services.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Load realistic demo data (sales users, companies, contacts, deals, activities) once, "
        "with the records the README's examples use (user alice, the contact field "
        "loyalty_tier, 张伟 <zhang.wei@example.cn>). With contacts already there it adds no "
        "more unless --force; a demo database still gets any missing example record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=500, help="Contacts to create.")
        parser.add_argument("--seed", type=int, default=None, help="Seed for repeatable data.")
        parser.add_argument(
            "--force", action="store_true", help="Add demo data even if contacts exist."
        )

    def handle(self, *args, contacts: int, seed: int | None, force: bool, **options) -> None:
        started = time.monotonic()
        try:
            report = demo_seed(
                actor=Actor.system(door=Door.COMMAND), contacts=contacts, seed=seed, force=force
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if report.examples:
            self.stdout.write(f"For the README's examples: {', '.join(report.examples)}.")
        if report.skipped:
            self.stdout.write(
                f"Skipped demo data: the database already has {report.existing_contacts} "
                "contacts (use --force to add more)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded demo data in {time.monotonic() - started:.1f} s (seed {report.seed}): "
                f"{report.users} new users, {report.companies} companies, "
                f"{report.contacts} contacts, {report.deals} deals, {report.activities} activities."
            )
        )
