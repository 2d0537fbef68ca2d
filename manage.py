#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # manage.py is the developer's tool: run in a checkout with no environment it uses the
    # development configuration. The web server (wsgi/asgi) defaults to production, and the
    # image pins DJANGO_DEBUG=0, so a deploy never falls back to debug through this line.
    os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
