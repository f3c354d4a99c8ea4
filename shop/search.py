"""Product search: PostgreSQL full-text with typo correction, icontains elsewhere.

On PostgreSQL (see migration 0002) each product has a weighted `search_vector` kept current by a
trigger, and `shop_search_word` holds the vocabulary of names, brands and categories. A query is
split into words; each word that is not the start of a known word is paired with its most similar
known word by trigram similarity ("hoodei" -> "hoodie"), and the product must match every word (as a
prefix, so "hood" finds "hoodie") or its correction. All of it is one SQL expression evaluated once
per query, so the list endpoint keeps its query budget and both lookups use indexes (GIN on the
vector, trigram GIN on the vocabulary).

Elsewhere (SQLite in local runs) every word must appear, case-insensitively, in the name, brand,
description or the name of the category or one of its ancestors.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Case, Exists, F, FloatField, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.lookups import StartsWith

from shop.models import Category, Product

MAX_TERMS = 8
MAX_TERM_LENGTH = 60
_WORD = re.compile(r"\w+", re.UNICODE)

# %s is the array of query words; %% is a literal % (pg_trgm's similarity operator, LIKE wildcards).
_TSQUERY_SQL = """
(SELECT to_tsquery('english', coalesce(string_agg(
        '(' || quote_literal(term.word) || ':*'
            || coalesce(' | ' || quote_literal(correction.word) || ':*', '') || ')',
        ' & '), ''))
   FROM unnest(%s::text[]) AS term(word)
   LEFT JOIN LATERAL (
        SELECT known.word
          FROM shop_search_word AS known
         WHERE known.word %% term.word
           AND NOT EXISTS (SELECT 1 FROM shop_search_word AS prefix WHERE prefix.word LIKE term.word || '%%')
         ORDER BY similarity(known.word, term.word) DESC, known.word
         LIMIT 1
   ) AS correction ON true)
"""


def search_terms(query: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS of them."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall(query.lower())][:MAX_TERMS]


def _uses_postgres_search() -> bool:
    return connection.vendor == "postgresql"


def search_filter(queryset: QuerySet[Product], query: str) -> QuerySet[Product]:
    """Products matching every word of `query` (none when it has no words)."""
    terms = search_terms(query)
    if not terms:
        return queryset.none()
    if _uses_postgres_search():
        # Constant SQL; the user's words travel only as the bound array parameter.
        matches = RawSQL(f"shop_product.search_vector @@ {_TSQUERY_SQL}", [terms], output_field=BooleanField())  # noqa: S611
        return queryset.filter(matches)
    condition = Q()
    for term in terms:
        condition &= (
            Q(name__icontains=term)
            | Q(brand__icontains=term)
            | Q(description__icontains=term)
            | Exists(_lineage_categories_named(term))
        )
    return queryset.filter(condition)


def search_rank_annotate(queryset: QuerySet[Product], query: str) -> QuerySet[Product]:
    """Adds `search_rank` (higher is more relevant) for ordering by relevance."""
    terms = search_terms(query)
    if not terms:
        return queryset.annotate(search_rank=Value(0.0, output_field=FloatField()))
    if _uses_postgres_search():
        # ts_rank_cd rewards the weights A (name) > B (brand) > C (category) > D (description).
        rank = RawSQL(f"ts_rank_cd(shop_product.search_vector, {_TSQUERY_SQL})", [terms], output_field=FloatField())  # noqa: S611
        return queryset.annotate(search_rank=rank)
    name_hits = [When(Q(name__icontains=term), then=Value(4)) for term in terms]
    brand_hits = [When(Q(brand__icontains=term), then=Value(2)) for term in terms]
    return queryset.annotate(search_rank=Case(*name_hits, *brand_hits, default=Value(1), output_field=IntegerField()))


def _lineage_categories_named(term: str) -> QuerySet[Category]:
    """Categories named like `term` that are the product's category or one of its ancestors."""
    return Category.objects.filter(StartsWith(OuterRef("category__path"), F("path")), name__icontains=term)
