"""Loaded by pytest (`-p grassroots.testing`) before Django reads its settings."""

import os

os.environ.setdefault("GRASSROOTS_TESTING", "true")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("GRASSROOTS_VAR_DIR", os.path.join(os.getcwd(), "var", "test"))
