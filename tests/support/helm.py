"""Render the Helm chart in helm/ with its values (plus overrides) into Kubernetes objects."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .gotemplate import Renderer

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "ecommerce-api"


@dataclass
class Rendered:
    manifests: list[dict[str, Any]]
    notes: str

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name_suffix: str = "") -> dict[str, Any]:
        found = [m for m in self.all(kind) if m["metadata"]["name"].endswith(name_suffix)]
        if len(found) != 1:
            names = [m["metadata"]["name"] for m in self.all(kind)]
            raise AssertionError(f"expected one {kind} named *{name_suffix}, found {names}")
        return found[0]


def chart() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())


def default_values() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text())


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def template_sources() -> dict[str, str]:
    name = chart()["name"]
    return {
        f"{name}/templates/{path.name}": path.read_text()
        for path in sorted((CHART_DIR / "templates").iterdir())
        if path.is_file()
    }


def render(overrides: dict[str, Any] | None = None, *, release: str = "shop") -> Rendered:
    meta = chart()
    values = merge(default_values(), overrides or {})
    context = {
        "Values": values,
        "Chart": {"Name": meta["name"], "Version": meta["version"], "AppVersion": meta.get("appVersion")},
        "Release": {"Name": release, "Namespace": "shop", "Service": "Helm", "IsInstall": True},
        "Template": {"BasePath": f"{meta['name']}/templates"},
        "Capabilities": {},
    }
    sources = template_sources()
    renderer = Renderer(sources, context)
    manifests: list[dict[str, Any]] = []
    notes = ""
    for path in sources:
        file_name = path.rsplit("/", 1)[-1]
        if file_name.startswith("_"):
            continue
        output = renderer.render(path)
        if file_name == "NOTES.txt":
            notes = output
            continue
        for document in yaml.safe_load_all(output):
            if document:
                manifests.append(document)
    return Rendered(manifests, notes)


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]
