from django.db import migrations

# A GIN index over the character bigrams of each issue's text (see issues/search.py). The
# expression must match IssueQuerySet.search() exactly for PostgreSQL to use it. SQLite,
# the embedded default, searches with LIKE instead.
CREATE = """
CREATE INDEX IF NOT EXISTS issue_search_bigrams
    ON issues_issue USING gin (to_tsvector('simple', search_text))
"""
DROP = "DROP INDEX IF EXISTS issue_search_bigrams"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("issues", "0002_categories")]

    operations = [migrations.RunPython(forwards, backwards)]
