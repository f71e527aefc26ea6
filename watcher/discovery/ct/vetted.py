"""Public suffixes whose registry gives names only to institutions it has checked: schools,
universities, governments, the military, international organisations.

Under ``ac.in``, ``go.jp`` or ``edu`` a name is given only to an institution that proves it is one, so
the registrable label there is its holder's own name (``nta.ac.in`` is India's National Testing
Agency), not a lookalike someone registered. A brand word in a *subdomain* label of such a name still
counts: hacked university sites do carry phishing.

Company and organisation suffixes (``co.jp``, ``or.jp``, ``ne.jp``) are not here although JPRS checks
their holders too: any registered company may pick any free name there, and a ``co.jp`` lookalike of a
Japanese firm's own ``co.jp`` domain is the costliest kind, not one to wave through.

The suffixes are the public suffix list's (``watcher.core.names``): the education, government and
military second levels used across country codes, JPRS's ``ac ed go lg .jp``, and ``.edu``,
``.gov``, ``.mil`` and ``.int`` themselves.
"""

from __future__ import annotations

from typing import Final

_JP: Final = frozenset({"ac.jp", "ed.jp", "go.jp", "lg.jp"})
_TOP: Final = frozenset({"edu", "gov", "mil", "int"})
# Second levels that mean education, government or the military wherever they are used
# (ac.uk, gov.in, go.id, gob.mx, gouv.fr, govt.nz, gv.at, nic.in, gc.ca, mil.br).
_SECOND: Final = frozenset({"ac", "edu", "gov", "go", "gob", "gouv", "govt", "gv", "mil", "nic", "gc"})


def vetted(suffix: str) -> bool:
    """``suffix`` (a public suffix, lower-case ASCII) is given only to institutions its registry checked."""
    if suffix in _JP or suffix in _TOP:
        return True
    parts = suffix.split(".")
    return len(parts) == 2 and parts[0] in _SECOND
