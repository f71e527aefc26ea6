"""lint-messages results as SARIF 2.1.0, so a CI pipeline of the firm's mail templates shows them
where it shows compiler and linter findings (GitHub code scanning, GitLab, Azure DevOps)."""

from __future__ import annotations

from typing import Any

from watcher.core.texts import text
from watcher.owned.message_links import RULES, Problem

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://www.jsda.or.jp/"  # the guideline the rules come from (IV.4(5))


def sarif(problems: list[Problem], lang: str = "en", version: str = "") -> dict[str, Any]:
    rules = [{"id": rid, "name": rid.replace("-", "_"),
              "shortDescription": {"text": text(f"{key}_rule").render(lang)},
              "fullDescription": {"text": text("lint.rule_help").render(lang)},
              "helpUri": INFO_URI,
              "defaultConfiguration": {"level": "error"}} for rid, key in RULES.items()]
    index = {rid: i for i, rid in enumerate(RULES)}
    results = []
    for p in problems:
        message = p.reason.render(lang) + f": {p.url}" + (f" ({p.note.render(lang)})" if p.note else "")
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": p.path},
                                                    "region": {"startLine": max(p.line, 1)}}}
        if p.where:
            loc["logicalLocations"] = [{"name": p.where, "kind": "member"}]
        results.append({"ruleId": p.rule, "ruleIndex": index.get(p.rule, 0), "level": "error",
                        "message": {"text": message}, "locations": [loc],
                        "partialFingerprints": {"url": p.url[:500]}})
    return {"$schema": SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "omamori lint-messages", "version": version or "0",
                                          "informationUri": INFO_URI, "rules": rules}},
                      "results": results}]}
