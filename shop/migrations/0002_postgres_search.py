"""PostgreSQL full-text search for products, kept current by the database itself.

- `shop_product.search_vector` (tsvector, not a Django field) is written by a BEFORE trigger from the
  name (weight A), brand (B), the names of the category and its ancestors (C) and the description
  (D); a GIN index serves `@@` queries. Renaming or moving a category refreshes its subtree's products.
- `shop_search_word` is the vocabulary (lower-case words of names, brands and categories) with a
  trigram index: shop.search corrects a misspelt query word ("hoodei") to its nearest known word
  ("hoodie") before matching, so typo tolerance stays index-backed.
- A trigram index on product names serves substring autocomplete.

Every operation here is a no-op on other databases (SQLite in local runs), which search with icontains.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD_STATEMENTS = [
    "ALTER TABLE shop_product ADD COLUMN search_vector tsvector",
    "CREATE INDEX shop_product_search_vector_gin ON shop_product USING gin (search_vector)",
    "CREATE INDEX shop_product_name_trgm ON shop_product USING gin (name gin_trgm_ops)",
    "CREATE TABLE shop_search_word (word text PRIMARY KEY)",
    "CREATE INDEX shop_search_word_trgm ON shop_search_word USING gin (word gin_trgm_ops)",
    """
    CREATE FUNCTION shop_category_lineage_names(target_category_id bigint) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT coalesce(string_agg(ancestor.name, ' ' ORDER BY ancestor.depth), '')
        FROM shop_category AS node
        JOIN shop_category AS ancestor
          ON ancestor.id = ANY (string_to_array(trim(both '/' from node.path), '/')::bigint[])
        WHERE node.id = target_category_id
    $$
    """,
    """
    CREATE FUNCTION shop_product_search_vector_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        category_names text := shop_category_lineage_names(NEW.category_id);
    BEGIN
        NEW.search_vector :=
               setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
            || setweight(to_tsvector('english', coalesce(NEW.brand, '')), 'B')
            || setweight(to_tsvector('english', category_names), 'C')
            || setweight(to_tsvector('english', coalesce(NEW.description, '')), 'D');
        INSERT INTO shop_search_word (word)
        SELECT lexeme
        FROM unnest(tsvector_to_array(to_tsvector(
            'simple', coalesce(NEW.name, '') || ' ' || coalesce(NEW.brand, '') || ' ' || category_names
        ))) AS lexeme
        WHERE length(lexeme) BETWEEN 3 AND 60
        ON CONFLICT (word) DO NOTHING;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER shop_product_search_vector_trigger
    BEFORE INSERT OR UPDATE OF name, brand, description, category_id ON shop_product
    FOR EACH ROW EXECUTE FUNCTION shop_product_search_vector_refresh()
    """,
    # Touching category_id re-runs the product trigger, which re-reads the category names.
    """
    CREATE FUNCTION shop_category_search_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.name IS DISTINCT FROM OLD.name OR NEW.path IS DISTINCT FROM OLD.path THEN
            UPDATE shop_product SET category_id = category_id
            WHERE category_id IN (SELECT id FROM shop_category WHERE path LIKE NEW.path || '%');
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER shop_category_search_trigger
    AFTER UPDATE OF name, path ON shop_category
    FOR EACH ROW EXECUTE FUNCTION shop_category_search_refresh()
    """,
    "UPDATE shop_product SET category_id = category_id",
]

BACKWARD_STATEMENTS = [
    "DROP TRIGGER IF EXISTS shop_category_search_trigger ON shop_category",
    "DROP FUNCTION IF EXISTS shop_category_search_refresh()",
    "DROP TRIGGER IF EXISTS shop_product_search_vector_trigger ON shop_product",
    "DROP FUNCTION IF EXISTS shop_product_search_vector_refresh()",
    "DROP FUNCTION IF EXISTS shop_category_lineage_names(bigint)",
    "DROP TABLE IF EXISTS shop_search_word",
    "DROP INDEX IF EXISTS shop_product_name_trgm",
    "DROP INDEX IF EXISTS shop_product_search_vector_gin",
    "ALTER TABLE shop_product DROP COLUMN IF EXISTS search_vector",
]


def _run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            # params=None: the SQL holds literal % signs that must not be read as placeholders.
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(_run_on_postgresql(FORWARD_STATEMENTS), _run_on_postgresql(BACKWARD_STATEMENTS)),
    ]
