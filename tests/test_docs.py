"""The architecture, database, sequence and operations documents exist, carry their Mermaid
diagrams, and describe what the code has: every model and relation, every app, real variables."""

import re

import pytest

from tests.support import erd
from tests.support.parsers import ROOT, env_example_keys

DOCS = ROOT / "docs"


def mermaid_blocks(name: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", (DOCS / name).read_text(), re.S)


@pytest.mark.parametrize(
    ("name", "diagram"),
    [
        ("ARCHITECTURE.md", "flowchart"),
        ("DATABASE.md", "erDiagram"),
        ("ORDER_SEQUENCE.md", "sequenceDiagram"),
    ],
)
def test_document_has_its_mermaid_diagram(name, diagram):
    blocks = mermaid_blocks(name)

    assert any(block.lstrip().startswith(diagram) for block in blocks), f"{name} has no {diagram}"


def test_database_diagrams_draw_every_model_and_no_other():
    entities, _, _ = erd.documented((DOCS / "DATABASE.md").read_text())
    models = {erd.entity_name(model) for model in erd.local_models()}

    missing = sorted(models - entities)
    stale = sorted(entities - models)
    assert (missing, stale) == ([], []), "regenerate: python -m tests.support.erd --write (see docs/DATABASE.md)"


def test_database_diagrams_draw_every_relation_and_no_other():
    _, relations, _ = erd.documented((DOCS / "DATABASE.md").read_text())
    actual = {relation for model in erd.local_models() for relation in erd.relations(model)}

    assert sorted(actual - relations, key=str) == []
    assert sorted(relations - actual, key=str) == []


def test_database_document_has_a_diagram_per_section():
    _, _, bodies = erd.documented((DOCS / "DATABASE.md").read_text())

    assert set(bodies) == set(erd.SECTIONS)
    assert all(body.lstrip().startswith("erDiagram") for body in bodies.values())


def test_architecture_names_every_app_and_queue():
    from django.conf import settings

    from core.seeding import LOCAL_APPS

    text = (DOCS / "ARCHITECTURE.md").read_text()
    for app in LOCAL_APPS:
        assert f"`{app}`" in text, app
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"default"}
    for queue in queues:
        assert f"| `{queue}` |" in text, queue


def test_architecture_diagram_matches_the_enforced_dependency_layers():
    """Each arrow of the dependency flowchart is an import tests/test_architecture.py allows."""
    from tests.test_architecture import LAYERS, ONLY

    (flowchart,) = [b for b in mermaid_blocks("ARCHITECTURE.md") if b.lstrip().startswith("flowchart BT")]
    arrows = re.findall(r"^\s*(\w+)(?:\[[^\]]*\])?\s*-\.?[^>]*?\.?->\s*(\w+)", flowchart, re.M)

    assert len(arrows) >= 10
    for source, target in arrows:
        allowed = ONLY.get(source, set(LAYERS[: LAYERS.index(source)]))
        assert target in allowed, f"{source} -> {target}"


def test_order_sequence_follows_the_real_routes_and_services():
    from django.urls import resolve

    text = (DOCS / "ORDER_SEQUENCE.md").read_text()
    for path in ("/api/v1/orders/", "/api/v1/payments/", "/api/v1/payments/stripe/webhook/"):
        assert path in text
        resolve(path)  # raises Resolver404 if the route is gone
    from orders import services as order_services
    from payment import services as payment_services
    from payment import webhooks

    for module, name in (
        (order_services, "order_place"),
        (order_services, "order_mark_paid"),
        (payment_services, "payment_create"),
        (payment_services, "payment_succeeded_record"),
        (webhooks, "stripe_event_verify"),
        (webhooks, "stripe_event_process"),
    ):
        assert f"{name}" in text, name
        assert callable(getattr(module, name)), name
    for event in ("payment_intent.succeeded",):
        assert event in text and event in webhooks.APPLIERS


def test_operations_mentions_only_documented_variables():
    text = (DOCS / "OPERATIONS.md").read_text()
    mentioned = set(re.findall(r"`([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)(?:=[^`]*)?`", text))
    assert mentioned, "the scan found no variables"
    assert sorted(mentioned - env_example_keys()) == []


def test_bench_readme_documents_every_option():
    from bench import run as bench

    text = (ROOT / "bench" / "README.md").read_text()
    parser_options = re.findall(r'add_argument\(\s*"(--[a-z-]+)"', (ROOT / "bench" / "run.py").read_text())

    assert parser_options
    for option in parser_options:
        assert f"`{option}" in text, option
    assert bench.HEALTH_PATH in text
