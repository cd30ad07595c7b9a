#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings)
    except ImproperlyConfigured as e:
        # Django would go on without its apps and fail later with an unrelated traceback.
        sys.exit(
            f"ImproperlyConfigured: {e}.\n"
            "For development set DEBUG=true (python3 dev.py run does); for production "
            "see the environment variables in README.md."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
