"""Mermaid ER diagrams of our models, read from Django's model registry.

docs/DATABASE.md holds one diagram per domain between `<!-- erd:<name> -->` and `<!-- /erd -->`
markers; tests/test_docs.py checks that those diagrams name every model and relation that exists.
Regenerate them after a model change:

    DJANGO_SETTINGS_MODULE=ecommerce_api.settings.test .venv/bin/python -m tests.support.erd --write
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "DATABASE.md"

# The diagrams of docs/DATABASE.md and the apps each one draws.
SECTIONS: dict[str, list[str]] = {
    "accounts": ["core", "account", "sms"],
    "catalog": ["shop"],
    "pricing": ["shipping", "coupons", "cart"],
    "orders": ["orders", "payment", "erp"],
    "chat": ["chat"],
}

_TYPES = {
    "AutoField": "int",
    "BigAutoField": "bigint",
    "BigIntegerField": "bigint",
    "BooleanField": "bool",
    "CharField": "string",
    "DateField": "date",
    "DateTimeField": "datetime",
    "DecimalField": "decimal",
    "DurationField": "interval",
    "EmailField": "string",
    "FileField": "string",
    "FloatField": "float",
    "GenericIPAddressField": "inet",
    "ImageField": "string",
    "IntegerField": "int",
    "JSONField": "json",
    "PositiveIntegerField": "int",
    "PositiveBigIntegerField": "bigint",
    "PositiveSmallIntegerField": "smallint",
    "SlugField": "string",
    "SmallIntegerField": "smallint",
    "TextField": "text",
    "TimeField": "time",
    "URLField": "string",
    "UUIDField": "uuid",
    "BinaryField": "bytes",
}


# The one column of a box drawn only to end a relation; its columns are in another section.
STUB_ATTRIBUTE = "see_other_diagram"


@dataclass(frozen=True)
class Relation:
    parent: str
    child: str
    cardinality: str
    label: str

    def line(self) -> str:
        return f'    {self.parent} {self.cardinality} {self.child} : "{self.label}"'


def local_models():
    from django.apps import apps

    from core.seeding import LOCAL_APPS

    return [model for label in LOCAL_APPS for model in apps.get_app_config(label).get_models()]


def entity_name(model) -> str:
    return model.__name__


def _column_type(field) -> str:
    if field.is_relation:
        return _column_type(field.target_field)
    internal = field.get_internal_type()
    return _TYPES.get(internal, internal.removesuffix("Field").lower() or "value")


def attributes(model) -> list[str]:
    rows = []
    # The primary key first, then the columns in model order.
    fields = sorted(model._meta.concrete_fields, key=lambda field: not field.primary_key)
    for field in fields:
        keys = []
        if field.primary_key:
            keys.append("PK")
        if field.is_relation:
            keys.append("FK")
        if field.unique and not field.primary_key:
            keys.append("UK")
        name = field.attname if field.is_relation else field.name
        rows.append(f"{_column_type(field)} {name} {', '.join(keys)}".rstrip())
    return rows


def relations(model) -> list[Relation]:
    local = set(local_models())
    found = []
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.related_model not in local:
            continue
        parent = entity_name(field.related_model)
        if field.one_to_one:
            cardinality = "|o--o|" if field.null else "||--o|"
        else:
            cardinality = "|o--o{" if field.null else "||--o{"
        found.append(Relation(parent, entity_name(model), cardinality, field.name))
    for field in model._meta.local_many_to_many:
        if field.related_model in local:
            found.append(Relation(entity_name(model), entity_name(field.related_model), "}o--o{", field.name))
    return found


def diagram(app_labels: list[str]) -> str:
    models = [m for m in local_models() if m._meta.app_label in app_labels]
    lines = ["erDiagram"]
    outside: set[str] = set()
    rels: list[Relation] = []
    for model in models:
        rels.extend(relations(model))
    names = {entity_name(m) for m in models}
    for rel in rels:
        outside |= {rel.parent, rel.child} - names
    for model in models:
        lines.append(f"    {entity_name(model)} {{")
        lines.extend(f"        {row}" for row in attributes(model))
        lines.append("    }")
    for name in sorted(outside):
        lines.extend([f"    {name} {{", f'        string {STUB_ATTRIBUTE} "drawn in its own section"', "    }"])
    lines.extend(rel.line() for rel in rels)
    return "\n".join(lines)


# --- reading the document back --------------------------------------------------------------------

_BLOCK = re.compile(r"<!-- erd:(?P<name>\w+) -->\s*```mermaid\n(?P<body>.*?)```\s*<!-- /erd -->", re.S)
_ENTITY = re.compile(r"^\s{4}(\w+) \{\s*\n(.*?)^\s{4}\}", re.M | re.S)
_RELATION = re.compile(r'^\s{4}(\w+) ([|}o][|o]--[o|][|{o]) (\w+) : "(\w+)"\s*$', re.M)


def documented(text: str) -> tuple[set[str], set[Relation], dict[str, str]]:
    """Entities drawn with their columns, relations, and each section's body, from DATABASE.md."""
    entities: set[str] = set()
    rels: set[Relation] = set()
    bodies = {}
    for block in _BLOCK.finditer(text):
        bodies[block.group("name")] = block.group("body")
        entities |= {name for name, columns in _ENTITY.findall(block.group("body")) if STUB_ATTRIBUTE not in columns}
        rels |= {Relation(p, c, card, label) for p, card, c, label in _RELATION.findall(block.group("body"))}
    return entities, rels, bodies


def write(doc: Path = DOC) -> None:
    text = doc.read_text()
    for name, labels in SECTIONS.items():
        block = f"<!-- erd:{name} -->\n```mermaid\n{diagram(labels)}\n```\n<!-- /erd -->"
        pattern = re.compile(rf"<!-- erd:{name} -->.*?<!-- /erd -->", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{doc} has no <!-- erd:{name} --> ... <!-- /erd --> block")
        text = pattern.sub(lambda _match, block=block: block, text)
    doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    import django

    django.setup()
    parser = argparse.ArgumentParser(description="Mermaid ER diagrams of the models.")
    parser.add_argument("--write", action="store_true", help=f"rewrite the diagrams in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write:
        write()
        print(f"updated {DOC.relative_to(ROOT)}")
    else:
        for name, labels in SECTIONS.items():
            print(f"%% {name}\n{diagram(labels)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
