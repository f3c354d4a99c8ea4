"""Request body parsers with the limits DRF leaves out.

DRF's parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (enforced
only by `request.body`) never applied to JSON or form bodies; and the json module meets a body
nested a thousand levels deep with RecursionError. Both were anonymous 500s. Here a body over the
limit is a 413 `payload_too_large`, read no further than the limit, and too deep a body a 400
`parse_error`. Multipart uploads keep Django's own limits (and nginx's `client_max_body_size`).
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _bounded_body(stream) -> io.BytesIO:
    from .errors import PayloadTooLarge  # core.errors loads DRF, whose settings load this module

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = stream.read(limit + 1) if stream is not None else b""
    if limit is not None and len(body) > limit:
        raise PayloadTooLarge()
    return io.BytesIO(body)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = _bounded_body(stream)
        try:
            return super().parse(body, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(_bounded_body(stream), media_type, parser_context)
