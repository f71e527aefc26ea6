"""Phishing URL feeds as their publishers serve them, for the ``feeds`` job: JPCERT/CC's phishurl-list
CSV, OpenPhish's plain list, PhishTank's JSON and CSV dumps, URLhaus's CSV dump, and a generic CSV and
JSON. Served by the lab web (``kind = "feed"``) through its proxy, with ``ETag`` and ``Last-Modified``
and ``304 Not Modified`` for a conditional request, as the real ones are.

A feed site's options: ``format`` and ``entries`` (``{date, url, brand}``), optionally ``modified``
(an HTTP date) and ``validators = false`` (a server that sends neither header).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from lab.net import Request, Response

FORMATS = ("jpcert", "openphish", "phishtank-json", "phishtank-csv", "urlhaus", "csv", "json")
_MODIFIED = "Mon, 06 Jan 2025 01:00:00 GMT"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def body(fmt: str, entries: list[dict[str, Any]]) -> tuple[bytes, str]:
    """The feed file in ``fmt`` and its content type."""
    e = [{"date": str(x.get("date", "2025/01/06 09:56:00")), "url": str(x["url"]), "brand": str(x.get("brand", ""))}
         for x in entries]
    if fmt == "jpcert":  # github.com/JPCERTCC/phishurl-list: date,URL,description
        return _csv(["date", "URL", "description"], [[x["date"], x["url"], x["brand"]] for x in e]).encode(), \
            "text/csv; charset=utf-8"
    if fmt == "openphish":  # openphish.com/feed.txt
        return "".join(x["url"] + "\n" for x in e).encode(), "text/plain; charset=utf-8"
    if fmt == "phishtank-json":  # data.phishtank.com/data/online-valid.json
        return json.dumps([{"phish_id": 9000000 + i, "url": x["url"],
                            "phish_detail_url": f"http://www.phishtank.com/phish_detail.php?phish_id={9000000 + i}",
                            "submission_time": x["date"], "verified": "yes", "verification_time": x["date"],
                            "online": "yes", "target": x["brand"] or "Other", "details": []}
                           for i, x in enumerate(e)]).encode(), "application/json"
    if fmt == "phishtank-csv":
        return _csv(["phish_id", "url", "phish_detail_url", "submission_time", "verified", "verification_time",
                     "online", "target"],
                    [[str(9000000 + i), x["url"], f"http://www.phishtank.com/phish_detail.php?phish_id={9000000 + i}",
                      x["date"], "yes", x["date"], "yes", x["brand"] or "Other"] for i, x in enumerate(e)]).encode(), \
            "text/csv; charset=utf-8"
    if fmt == "urlhaus":  # urlhaus.abuse.ch/downloads/csv_recent/
        head = ("################################################################\n"
                "# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #\n"
                "# Terms Of Use: https://urlhaus.abuse.ch/api/                  #\n"
                "################################################################\n#\n"
                "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n")
        out = io.StringIO()
        w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for i, x in enumerate(e):
            w.writerow([str(3300000 + i), x["date"], x["url"], "online", x["date"], "phishing", x["brand"],
                        f"https://urlhaus.abuse.ch/url/{3300000 + i}/", "lab"])
        return (head + out.getvalue()).encode(), "text/csv; charset=utf-8"
    if fmt == "csv":  # a partner's list with its own column names
        return _csv(["observed", "phishing_link", "label"], [[x["date"], x["url"], x["brand"]] for x in e]).encode(), \
            "text/csv; charset=utf-8"
    if fmt == "json":
        return json.dumps({"data": {"items": [{"seen": x["date"], "link": x["url"], "brand": x["brand"]}
                                              for x in e]}}, ensure_ascii=False).encode(), "application/json"
    raise ValueError(f"unknown feed format {fmt!r}; known: {', '.join(FORMATS)}")


def render(options: dict[str, Any], request: Request) -> Response:
    data, ctype = body(str(options.get("format", "openphish")), list(options.get("entries", [])))
    if not options.get("validators", True):
        return Response(200, data, ctype)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    modified = str(options.get("modified", _MODIFIED))
    headers = {"ETag": etag, "Last-Modified": modified}
    if request.headers.get("If-None-Match") == etag:
        return Response(304, b"", ctype, headers)
    since = request.headers.get("If-Modified-Since")
    if since and not request.headers.get("If-None-Match"):
        try:
            if parsedate_to_datetime(modified) <= parsedate_to_datetime(since):
                return Response(304, b"", ctype, headers)
        except (TypeError, ValueError):
            pass  # an unreadable date: answer in full, as servers do
    return Response(200, data, ctype, headers)


def http_date(ts: Any) -> str:
    return format_datetime(ts, usegmt=True)
