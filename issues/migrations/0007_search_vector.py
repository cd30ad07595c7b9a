from django.db import migrations

# The bigram vector is stored, not computed per row: a search's recheck and its per-status
# counts then read the vector instead of re-parsing the text of every candidate row. PostgreSQL
# keeps the generated column in step with search_text on every write. SQLite, the embedded
# default, searches with LIKE and has neither.
FORWARD = [
    """ALTER TABLE issues_issue ADD COLUMN IF NOT EXISTS search_vector tsvector
       GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    "CREATE INDEX IF NOT EXISTS issue_search_vector ON issues_issue USING gin (search_vector)",
    "DROP INDEX IF EXISTS issue_search_bigrams",
]
BACKWARD = [
    """CREATE INDEX IF NOT EXISTS issue_search_bigrams
       ON issues_issue USING gin (to_tsvector('simple', search_text))""",
    "DROP INDEX IF EXISTS issue_search_vector",
    "ALTER TABLE issues_issue DROP COLUMN IF EXISTS search_vector",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("issues", "0006_dashboard_covering_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
