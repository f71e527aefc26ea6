"""The evidence bundle for investigators (guideline IV.6(3), IV.5): one zip per case.

Inside: every evidence file of every capture of every hostname (screenshots, page HTML, favicon,
the attachments of the requests, the raw reports that named the site), the timeline of events, the
requests sent and the answers received, the snapshots' records, and ``manifest.json`` with the
SHA-256 and size of every file. ``manifest.json.p7s`` is a detached CMS (PKCS #7) signature of the
manifest made with the firm's key and certificate (``sharing.signing_*``, default the S/MIME ones of
``smtp``); without one the manifest says it is unsigned. An investigator checks the signature with
``openssl cms -verify`` and each file with ``sha256sum``; evidence files keep the sha256 name they
have in the store, so the chain of custody is visible in the name too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from watcher.context import Context
from watcher.core.casefacts import CaseFacts, case_facts, requests_of
from watcher.core.events import record
from watcher.core.models import Event, Report, Snapshot
from watcher.core.texts import t

SNAPSHOT_FILES = ("screenshot_sha256", "fullpage_sha256", "html_sha256", "favicon_sha256")
EXT = {"screenshot_sha256": "png", "fullpage_sha256": "png", "html_sha256": "html", "favicon_sha256": "ico"}


class BundleError(Exception):
    pass


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str).encode()


def timeline(session: Session, facts: CaseFacts, snaps: list[Snapshot], req_ids: list[int]) -> list[dict[str, Any]]:
    keys = [("case", [facts.id]), ("candidate", facts.candidate_ids()),
            ("snapshot", [s.id for s in snaps if s.id is not None]), ("takedownrequest", req_ids),
            ("takedown_request", req_ids)]
    rows: list[Event] = []
    for object_type, ids in keys:
        if ids:
            rows += list(session.exec(select(Event).where(Event.object_type == object_type,
                                                          col(Event.object_id).in_(ids))))
    rows.sort(key=lambda e: (e.at, e.id or 0))
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "object": f"{e.object_type}:{e.object_id}",
             "detail": e.detail} for e in rows]


def _sign(ctx: Context, data: bytes) -> bytes | None:
    sh, smtp = ctx.settings.sharing, ctx.settings.smtp
    cert_p, key_p = (sh.signing_cert, sh.signing_key) if sh.signing_cert and sh.signing_key else (
        smtp.smime_cert, smtp.smime_key)
    if not (cert_p and key_p):
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        cert = x509.load_pem_x509_certificate(ctx.settings.path(Path(cert_p)).read_bytes())
        key = serialization.load_pem_private_key(ctx.settings.path(Path(key_p)).read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise BundleError(f"signing key or certificate ({cert_p}, {key_p}): {type(e).__name__}: {e}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BundleError(f"{key_p}: only RSA and EC keys can sign")
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def build(ctx: Context, case_id: int, *, actor: str = "system") -> tuple[bytes, dict[str, Any]]:
    """The zip's bytes and its manifest. Raises BundleError for an unknown case or an unusable key."""
    now: datetime = ctx.now()
    files: dict[str, bytes] = {}
    missing: list[str] = []
    with ctx.session() as s:
        facts = case_facts(s, case_id)
        if facts is None:
            raise BundleError(f"no case {case_id}; `omamori status` or the dashboard lists the cases")
        ids = facts.candidate_ids()
        snaps = list(s.exec(select(Snapshot).where(col(Snapshot.candidate_id).in_(ids)).order_by(col(Snapshot.id))))\
            if ids else []
        reqs = requests_of(s, facts)

        def add_evidence(sha: str, role: str, ext: str) -> str:
            if not sha:
                return ""
            name = f"evidence/{sha}.{ext}"
            if name in files:
                return name
            try:
                files[name] = ctx.evidence.get(sha)
            except (OSError, ValueError):
                missing.append(f"{role}: {sha}")
                return ""
            return name

        snap_rows = []
        for snap in snaps:
            row = snap.model_dump(mode="json")
            row["files"] = {k: add_evidence(getattr(snap, k), f"snapshot {snap.id} {k}", EXT[k])
                            for k in SNAPSHOT_FILES if getattr(snap, k)}
            snap_rows.append(row)
        req_rows = []
        for r in reqs:
            row = r.model_dump(mode="json")
            row["files"] = [add_evidence(a.get("sha256", ""), f"request {r.id} attachment",
                                         (a.get("filename") or "bin").rsplit(".", 1)[-1][:8])
                            for a in (r.attachments or [])]
            req_rows.append(row)
            files[f"requests/{r.id:05d}-{r.recipient_kind.value}.txt"] = (
                f"To: {r.recipient_name} <{r.recipient}>\nSubject: {r.subject}\nMessage-ID: {r.message_id}\n"
                f"Status: {r.status.value}\nSent: {r.sent_at.isoformat() if r.sent_at else '-'}\n\n{r.body}\n").encode()
            for i, reply in enumerate(r.replies or []):
                files[f"answers/{r.id:05d}-{i + 1}.json"] = _json(reply)
        reports = [rep for rep in s.exec(select(Report)) if any(
            any(c.domain in str(u) for c in facts.hosts) for u in (rep.urls or []))]
        for rep in reports:
            add_evidence(rep.raw_sha256, f"report {rep.id}", "eml")
        events = timeline(s, facts, snaps, [r.id for r in reqs if r.id is not None])
        case_doc = {"case": facts.case.model_dump(mode="json"),
                    "hostnames": [c.model_dump(mode="json") for c in facts.hosts],
                    "reports": [rep.model_dump(mode="json") for rep in reports]}
    files["case.json"] = _json(case_doc)
    files["snapshots.json"] = _json(snap_rows)
    files["requests.json"] = _json(req_rows)
    files["timeline.json"] = _json(events)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["at", "actor", "action", "object", "detail"])
    for e in events:
        w.writerow([e["at"], e["actor"], e["action"], e["object"], json.dumps(e["detail"], ensure_ascii=False)])
    files["timeline.csv"] = ("\ufeff" + buf.getvalue()).encode()
    files["README.txt"] = "\n\n".join(t("sharing.bundle.readme", lang, case=facts.id, site=facts.site,
                                        at=now.isoformat()) for lang in ("ja", "en")).encode() + b"\n"
    manifest: dict[str, Any] = {
        "case": facts.id, "site": facts.site, "generated_at": now.isoformat(), "generated_by": actor,
        "tool": "omamori", "hash": "sha256",
        "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(files.items())],
        "missing": missing,
    }
    manifest_bytes = _json(manifest)
    signature = _sign(ctx, manifest_bytes)
    if signature is None:
        manifest["signed"] = False
        manifest["note"] = {lang: t("sharing.bundle.unsigned", lang) for lang in ("ja", "en")}
        manifest_bytes = _json(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
        z.writestr("manifest.json", manifest_bytes)
        if signature is not None:
            z.writestr("manifest.json.p7s", signature)
    with ctx.session() as s:
        record(s, actor, "case.exported", ("case", facts.id),
               {"files": len(files), "signed": signature is not None,
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(), "missing": len(missing)}, at=now)
        s.commit()
    return out.getvalue(), manifest


def export(ctx: Context, case_id: int, path: Path | None = None, *, actor: str = "system") -> Path:
    data, _ = build(ctx, case_id, actor=actor)
    if path is None:
        out_dir = ctx.state_dir / "exports"
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"case-{case_id}-evidence-{ctx.now():%Y%m%dT%H%M%SZ}.zip"
    path.write_bytes(data)
    return path
