"""Load demo data, idempotently: running it again changes nothing."""

import importlib
import inspect

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule


class Command(BaseCommand):
    """Each installed app with demo data exposes ``<app>.demo.seed(stdout) -> dict``.

    Apps are seeded in INSTALLED_APPS order; their dicts are merged and passed
    on so later apps can use earlier apps' objects (a ``seed(stdout, context)``
    signature receives them). The app registry names the apps, so this command
    knows none of the apps above portal.
    """

    help = "Load demo data (idempotent) and print the demo credentials."

    def handle(self, *args, **options):
        context: dict = {}
        for config in apps.get_app_configs():
            if not module_has_submodule(config.module, "demo"):
                continue
            module = importlib.import_module(f"{config.name}.demo")
            if not hasattr(module, "seed"):
                continue
            self.stdout.write(f"{config.label}:")
            with transaction.atomic():
                # inspect.signature sees through decorators such as @transaction.atomic
                if len(inspect.signature(module.seed).parameters) >= 2:
                    result = module.seed(self.stdout, context)
                else:
                    result = module.seed(self.stdout)
            context.update(result or {})
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
