"""PostgreSQL facts for concurrency tests."""

from django.db import connection


def backends_waiting_for_a_lock() -> int:
    """Sessions of this test database blocked on a lock right now: proves a race really queued."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # statistics views are frozen per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
