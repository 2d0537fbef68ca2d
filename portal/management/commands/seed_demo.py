"""Load demo data, idempotently: running it again changes nothing."""

import importlib
import inspect

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data exposes ``<app>.demo.seed(stdout) -> dict``; the
# dicts are merged and passed on so later apps can use earlier apps' objects
# (a ``seed(stdout, context)`` signature receives them).
DEMO_APPS = ["portal", "catalog", "billing", "bookings", "referrals", "mailings"]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo credentials."

    def handle(self, *args, **options):
        context: dict = {}
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{app}.demo":
                    continue
                raise
            self.stdout.write(f"{app}:")
            with transaction.atomic():
                # inspect.signature sees through decorators such as @transaction.atomic
                if len(inspect.signature(module.seed).parameters) >= 2:
                    result = module.seed(self.stdout, context)
                else:
                    result = module.seed(self.stdout)
            context.update(result or {})
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
