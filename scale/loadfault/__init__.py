"""The parts of `manage.py loadfault`, one concern each.

clients: the simulated phones and browsers, and the recorder of what they saw.
cluster: starting, stopping and restarting the servers under test (Redis, gunicorn, Celery,
PostgreSQL). faults: the fault plan and its injection. traffic: the load. report: the checks
and the report afterwards.
"""
