"""An investigator's bundle from the dashboard (IV.6(3)): after a person confirms a site, the candidate
view offers the case's evidence zip; its manifest names every file with its sha256, and the export is
an Event with the person as actor."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.dashboard.seed import Seeded
from watcher.context import Context
from watcher.core.models import Event

AppFactory = Callable[..., AppTest]


def test_a_confirmed_case_exports_its_evidence_bundle(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    cid = ids.candidates["hoshizora-sec-login.top"]
    at = app("approver")
    at.selectbox(key="pick").set_value(cid)
    at.button(key="open_btn").click().run()
    at.text_input(key=f"reason_{cid}").input("clone of the login page")
    at.button(key="act_confirm").click().run()
    at.button(key="act_confirm_go").click().run()
    assert not at.exception, at.exception

    at.button(key="act_export_case").click().run()
    assert not at.exception, at.exception
    made = at.session_state[f"bundle_{cid}"]
    assert made, [e.value for e in at.error]
    name, data = made
    assert name.startswith("case-") and name.endswith("-evidence.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read("manifest.json"))
        listed = manifest["files"]
        assert listed, manifest
        for entry in listed:  # every file is there and is what the manifest says
            assert hashlib.sha256(z.read(entry["path"])).hexdigest() == entry["sha256"]
        assert {"case.json", "timeline.json", "requests.json"} <= {e["path"] for e in listed}
    with ctx.session() as s:
        exported = [e for e in s.exec(select(Event)) if e.action.endswith("export") or "export" in e.action]
    assert exported and exported[-1].actor == "dashboard:approver"
