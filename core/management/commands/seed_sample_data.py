from django.core.management.base import BaseCommand, CommandError

from core.seeding import SeedContext, run_seeders


class Command(BaseCommand):
    help = "Load the demo shop idempotently: users, catalog, shipping, tax, coupons, feature flags."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=40, help="How many products to create (default 40).")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        if options["products"] < 0:
            raise CommandError("--products must be zero or more.")
        ctx = SeedContext(stdout=self.stdout, products=options["products"], show_progress=not options["no_progress"])
        ran = run_seeders(ctx)
        self.stdout.write(self.style.SUCCESS(f"Sample data ready ({', '.join(ran)})."))
