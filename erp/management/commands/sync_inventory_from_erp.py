"""Run the ERP inventory pull by hand: `python manage.py sync_inventory_from_erp [--since ISO] [--full]`."""

from __future__ import annotations

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from erp.client import ErpClient
from erp.errors import ErpNotConfigured
from erp.services import erp_inventory_pull

SHOWN_DETAILS = 20


class Command(BaseCommand):
    help = "Pull stock counts from the ERP now (what changed since the last pull, unless told otherwise)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--since", help="Pull items the ERP changed since this ISO 8601 date-time.")
        group.add_argument("--full", action="store_true", help="Pull every item, ignoring the last pull.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, since=None, full=False, no_progress=False, **options):
        since_at = None
        if since:
            since_at = parse_datetime(since)
            if since_at is None:
                raise CommandError(f"--since {since!r} is not an ISO 8601 date-time.")
            if timezone.is_naive(since_at):
                since_at = since_at.replace(tzinfo=UTC)
        try:
            client = ErpClient.from_settings()
        except ErpNotConfigured as exc:
            raise CommandError(str(exc)) from exc
        # The raw stream: Django's OutputWrapper would end each of tqdm's "\r" redraws with a newline.
        with tqdm(unit=" items", desc="ERP inventory", file=self.stderr._out, disable=no_progress) as bar:
            report = erp_inventory_pull(since=since_at, full=full, progress=bar.update, client=client)
        for sku in report.unknown_skus[:SHOWN_DETAILS]:
            self.stdout.write(f"unknown SKU: {sku}")
        for failure in report.failures[:SHOWN_DETAILS]:
            self.stdout.write(f"failed: {failure.sku}: {failure.reason}")
        for conflict in report.conflict_details[:SHOWN_DETAILS]:
            self.stdout.write(
                f"conflict: {conflict.sku}: ERP count {conflict.erp_quantity} is below "
                f"{conflict.quantity_allocated} held by open orders; on hand set to {conflict.quantity_on_hand}"
            )
        self.stdout.write(f"ERP inventory sync: {report.summary()}")
        if not report.complete:
            raise CommandError(f"The pull did not finish: {report.error}")
