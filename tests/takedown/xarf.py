"""The published XARF v4 schema (data/xarf/v4, from github.com/xarf/xarf-spec) as a validator.

``validate(report)`` raises ``jsonschema.ValidationError`` naming the first field that breaks the
schema, with formats checked (date-time, email, uuid, uri, hostname, ipv4).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "xarf" / "v4"
MASTER = "https://xarf.org/schemas/v4/xarf-v4-master.json"


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "$id" in doc:
            resources.append((doc["$id"], Resource.from_contents(doc)))
    registry: Registry = Registry().with_resources(resources)
    master = registry.contents(MASTER)
    return Draft202012Validator(master, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(report: dict[str, Any]) -> None:
    validator().validate(report)
