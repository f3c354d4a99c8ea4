from django.conf import settings
from django.core.management.base import BaseCommand

from account.services import users_purge_inactive


class Command(BaseCommand):
    help = (
        "Anonymise customer accounts with no login for PERSONAL_DATA_RETENTION_DAYS (or, never logged in, "
        "joined before then). Orders are kept without personal data; staff are never purged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list the accounts that would be anonymised.")

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        users = users_purge_inactive(dry_run=dry_run)
        days = settings.PERSONAL_DATA_RETENTION_DAYS
        for user in users:
            last_seen = user.last_login or user.date_joined
            if dry_run:
                self.stdout.write(
                    f"would anonymise {user.pk} {user.email or user.phone or '-'} (last seen {last_seen:%Y-%m-%d})"
                )
            else:
                self.stdout.write(f"anonymised {user.pk} (last seen {last_seen:%Y-%m-%d})")
        verb = "would be anonymised" if dry_run else "anonymised"
        self.stdout.write(self.style.SUCCESS(f"{len(users)} account(s) inactive for over {days} days {verb}."))
