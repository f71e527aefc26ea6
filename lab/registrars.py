"""The registrars and networks of the fictional world (docs/fictional-world.md), shared by RDAP, WHOIS and SMTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Registrar:
    name: str
    iana_id: str
    abuse_email: str
    abuse_phone: str
    url: str


REGISTRARS: dict[str, Registrar] = {r.name: r for r in (
    Registrar("Lab Registrar K.K.", "9001", "abuse@lab-registrar.test", "+81.312345678", "http://lab-registrar.test/"),
    Registrar("Cheap Names Ltd.", "9002", "abuse@cheapnames.test", "+86.1012345678", "http://cheapnames.test/"),
    Registrar("JPRS Lab Designated Registrar", "9003", "abuse@jp-registrar.test", "+81.352157000",
              "http://jp-registrar.test/"),
)}


def registrar(name: str, abuse_email: str | None = None) -> Registrar:
    """A known registrar, or an ad-hoc one (unknown names get a made-up IANA id)."""
    known = REGISTRARS.get(name)
    if known is None:
        known = Registrar(name, str(9100 + sum(map(ord, name)) % 800), abuse_email or "abuse@registrar.test",
                          "+81.300000000", "http://registrar.test/")
    if abuse_email and abuse_email != known.abuse_email:
        known = Registrar(known.name, known.iana_id, abuse_email, known.abuse_phone, known.url)
    return known
