"""Detection on real data: the matcher against phishing reported in Japan in 2025, and popular benign names.

Reads the corpus from ``../shared/data/corpus/`` beside the checkout (never copied into the repository;
see its README) and the brand files of ``bench/detection_brands.toml`` (written as each firm's analyst
would, from the firms' official domains and names). For each brand: the reported hostnames, those
*lexically related* to the brand, and how many of each the matcher flags, with 0.1's matcher
(``bench/_matcher01.py``) in the same run; every miss of a related hostname explained by kind; the
benign names flagged; names per second of the matcher alone on one core.

A hostname is **lexically related** to a brand when a label of it (hyphens ignored, look-alike ASCII
folded, IDN read as a reader sees it) contains one of the brand's words: a word of 6+ letters exactly
or within one edit (two from 9 letters) anywhere in the label; a word of 5 letters exactly anywhere, or
within one edit as a whole hyphen- or digit-delimited part (one edit of five letters somewhere inside
a longer string happens by chance: ``orion`` is not ``orico``); a word of 4 letters or fewer exactly,
as a whole hyphen-, digit- or dot-delimited part (``jcb-card``) or glued to another of the brand's
words (``smbcvpass``) — glued to anything else a short word is not recognisable (``au`` in ``sauce``). This is decided by brute force
(approximate substring search, Sellers' algorithm with transpositions), independently of the matcher's
indexes.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.core.brands import BrandSpec
from watcher.core.names import try_normalize

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ROOT / "bench" / "detection_brands.toml"
PHISH = "jp-phish-2025-other-brands.csv"
BENIGN = "benign-majestic-top15k.txt"


def corpus_dir() -> Path:
    """``../shared/data/corpus`` beside the checkout (a worktree may sit one folder deeper)."""
    env = os.environ.get("OMAMORI_CORPUS")
    if env:
        return Path(env)
    for up in (ROOT.parent, ROOT.parent.parent):
        d = up / "shared" / "data" / "corpus"
        if (d / PHISH).exists():
            return d
    raise FileNotFoundError("the corpus is not at ../shared/data/corpus (set OMAMORI_CORPUS to its folder)")


def load_brands(path: Path = BRANDS) -> tuple[list[BrandSpec], dict[str, str]]:
    """The bench's brands, and corpus brand label -> slug."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs, labels = [], {}
    for entry in data["brand"]:
        entry = dict(entry)
        for label in entry.pop("corpus_labels", []):
            labels[label] = entry["slug"]
        specs.append(BrandSpec.model_validate(entry))
    return specs, labels


def reported_hosts(corpus: Path, labels: dict[str, str]) -> tuple[dict[str, set[str]], dict[str, dict[str, str]]]:
    """slug -> reported hostnames (deduplicated); slug -> host -> one reported URL."""
    hosts: dict[str, set[str]] = defaultdict(set)
    urls: dict[str, dict[str, str]] = defaultdict(dict)
    with (corpus / PHISH).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            slug = labels.get(row.get("brand", ""))
            if slug is None:
                continue
            url = (row.get("url") or "").strip()
            try:
                host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
            except ValueError:
                continue
            n = try_normalize(host)
            if n is None:
                continue
            hosts[slug].add(n.ascii)
            urls[slug].setdefault(n.ascii, url)
    return hosts, urls


def benign_names(corpus: Path) -> list[str]:
    out = []
    for line in (corpus / BENIGN).read_text(encoding="utf-8").splitlines():
        n = try_normalize(line.strip())
        if n is not None:
            out.append(n.ascii)
    return out


def half(host: str) -> str:
    """The fixed half a name falls in: rules of the matcher were tuned looking only at the "dev" half
    of both lists (phishing and benign); the "held-out" half is what they were judged on."""
    return "dev" if int(hashlib.sha256(host.encode()).hexdigest()[:8], 16) % 2 == 0 else "held-out"


def extra_benign(exclude: set[str]) -> tuple[str, list[str]]:
    """A second popular-domains list (``OMAMORI_BENCH_EXTRA_BENIGN``: one domain a line, or
    ``rank,domain``), less the corpus's benign names: names no rule was written against."""
    path = os.environ.get("OMAMORI_BENCH_EXTRA_BENIGN", "")
    if not path or not Path(path).exists():
        return "", []
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        n = try_normalize(line.split(",")[-1].strip())
        if n is not None and not n.is_ip and n.ascii not in exclude:
            out.append(n.ascii)
    return Path(path).name, sorted(set(out))


# ---------------------------------------------------------------- the oracle: lexically related


def _approx_substring(pattern: str, text: str, k: int) -> int:
    """Least edit distance (Levenshtein plus adjacent transpositions) of ``pattern`` to any substring of
    ``text``, capped at k+1 (Sellers' algorithm)."""
    m = len(pattern)
    prev2: list[int] | None = None
    prev = list(range(m + 1))
    best = prev[m]
    for j in range(1, len(text) + 1):
        cur = [0] * (m + 1)
        for i in range(1, m + 1):
            cost = 0 if pattern[i - 1] == text[j - 1] else 1
            v = min(prev[i] + 1, cur[i - 1] + 1, prev[i - 1] + cost)
            if (prev2 is not None and i > 1 and j > 1 and pattern[i - 1] == text[j - 2]
                    and pattern[i - 2] == text[j - 1]):
                v = min(v, prev2[i - 2] + 1)
            cur[i] = v
        best = min(best, cur[m])
        prev2, prev = prev, cur
    return min(best, k + 1)


class Oracle:
    def __init__(self, specs: list[BrandSpec]) -> None:
        from watcher.discovery.ct.matcher import skeleton
        from watcher.discovery.ct.tokens import fold

        self.fold, self.skeleton = fold, skeleton
        self.words: dict[str, list[str]] = {}
        for b in specs:
            ws = {w.replace(" ", "") for w in b.keywords if w.isascii()}
            for d in b.official_domains:
                ws.add(d.split(".")[0])
            self.words[b.slug] = sorted({fold(w.replace("-", "")) for w in ws if len(w.replace("-", "")) >= 2})

    def labels(self, host: str) -> list[tuple[str, str]]:
        """(folded label without hyphens, folded label with them) for every label but the TLD."""
        n = try_normalize(host)
        out = []
        parts = (n.unicode if n else host).split(".")
        for lab in parts[:-1] if len(parts) > 1 else parts:
            sk = self.skeleton(lab)
            sk = "".join(c for c in sk if c.isascii())
            f = self.fold(sk)
            out.append((f.replace("-", ""), f))
        return out

    def related(self, slug: str, host: str) -> tuple[str, str] | None:
        """(the word, how) when ``host`` is lexically related to the brand, else None."""
        for flat, dashed in self.labels(host):
            for w in self.words[slug]:
                if len(w) <= 4:
                    if self._short(slug, w, dashed):
                        return w, "short"
                    continue
                k = 2 if len(w) >= 9 else 1
                if w in flat:
                    return w, "exact"
                if len(w) == 5:
                    parts = [p for p in re.split(r"[^a-z]+", dashed.replace("0", "o").replace("1", "l")) if p]
                    if any(_approx_substring(w, p, 1) <= 1 and abs(len(p) - 5) <= 1 for p in parts):
                        return w, "edit"
                elif _approx_substring(w, flat, k) <= k:
                    return w, "edit"
        return None

    def _short(self, slug: str, w: str, dashed: str) -> bool:
        others = [o for o in self.words[slug] if o != w and len(o) >= 3]
        pos = dashed.find(w)
        while pos >= 0:
            end = pos + len(w)
            before, after = dashed[:pos], dashed[end:]
            left = pos == 0 or not dashed[pos - 1].isalpha() or any(before.endswith(o) for o in others)
            right = end == len(dashed) or not dashed[end].isalpha() or any(after.startswith(o) for o in others)
            if left and right:
                return True
            pos = dashed.find(w, pos + 1)
        return False


def miss_kind(oracle: Oracle, slug: str, host: str, word: str, how: str, spec: BrandSpec,
              owned: Callable[[str], bool]) -> str:
    """Why the matcher did not flag a related hostname, in a few words."""
    if owned(host):
        return "an official or group domain of a brand"
    if any(e.replace("-", "") in host.replace("-", "") for e in spec.word_exceptions):
        return "inside a word exception"
    if how == "short":
        return (f"short word '{word}' glued to a word that is not a finance/login word, or beside an English "
                "word in the registrable label (read as another thing's acronym)")
    if how == "edit":
        return f"one or two edits of '{word}' inside a longer word"
    if how == "exact" and len(word) < 7:
        return f"'{word}' buried in a longer word on both sides (5-6 letters are not counted there)"
    return f"'{word}' present, not flagged"


# ---------------------------------------------------------------- speed


def names_per_second(match: Callable[[str], Any], names: list[str], forget: Callable[[], None],
                     rounds: int = 3) -> float:
    """One pass over every name, caches cold at the start of each pass; CPU time of this process (the
    machine is shared), best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        forget()
        t0 = time.process_time()
        for n in names:
            match(n)
        best = min(best, time.process_time() - t0)
    return len(names) / best


# ---------------------------------------------------------------- the run


def _flagged(match: Callable[[str], Any], names: Iterable[str]) -> set[str]:
    out = set()
    for n in names:
        m = match(n)
        if m is not None and not m.owned:
            out.add(n)
    return out


def run() -> dict[str, Any]:
    from bench._matcher01 import Matcher as Matcher01
    from watcher.discovery.ct.matcher import Matcher

    load_start = os.getloadavg()[0]
    corpus = corpus_dir()
    specs, labels = load_brands()
    t0 = time.perf_counter()
    v2 = Matcher(specs)
    build_v2 = time.perf_counter() - t0
    v1 = Matcher01(specs)
    hosts, _urls = reported_hosts(corpus, labels)
    benign = benign_names(corpus)
    oracle = Oracle(specs)
    by_slug = {b.slug: b for b in specs}

    def owned(host: str) -> bool:
        m = v2.match(host)
        return m is not None and m.owned

    rows: list[dict[str, Any]] = []
    misses: Counter[str] = Counter()
    miss_examples: dict[str, list[str]] = defaultdict(list)
    tot: Counter[str] = Counter()
    for b in specs:
        hs = sorted(hosts.get(b.slug, set()))
        related = {h: r for h in hs if (r := oracle.related(b.slug, h)) is not None}
        f2, f1 = _flagged(v2.match, hs), _flagged(v1.match, hs)
        rel2, rel1 = f2 & set(related), f1 & set(related)
        for h in sorted(set(related) - f2):
            word, how = related[h]
            kind = miss_kind(oracle, b.slug, h, word, how, by_slug[b.slug], owned)
            misses[kind] += 1
            if len(miss_examples[kind]) < 4:
                miss_examples[kind].append(h)
        tot.update({"reported": len(hs), "related": len(related), "rel2": len(rel2), "rel1": len(rel1),
                    "all2": len(f2), "all1": len(f1)})
        for h in related:
            tot["related " + half(h)] += 1
            tot["rel2 " + half(h)] += h in f2
        rows.append({
            "brand": b.slug, "reported hostnames": len(hs), "lexically related": len(related),
            "related flagged (0.2)": len(rel2), "related flagged (0.1)": len(rel1),
            "related recall 0.2": _pct(len(rel2), len(related)), "related recall 0.1": _pct(len(rel1), len(related)),
            "all flagged (0.2)": len(f2), "all flagged (0.1)": len(f1), "all recall 0.2": _pct(len(f2), len(hs)),
        })
    rows.append({
        "brand": "**all**", "reported hostnames": tot["reported"], "lexically related": tot["related"],
        "related flagged (0.2)": tot["rel2"], "related flagged (0.1)": tot["rel1"],
        "related recall 0.2": _pct(tot["rel2"], tot["related"]), "related recall 0.1": _pct(tot["rel1"], tot["related"]),
        "all flagged (0.2)": tot["all2"], "all flagged (0.1)": tot["all1"],
        "all recall 0.2": _pct(tot["all2"], tot["reported"]),
    })
    b2, b1 = sorted(_flagged(v2.match, benign)), sorted(_flagged(v1.match, benign))
    benign_half = Counter(half(n) for n in benign)
    b2_half = Counter(half(n) for n in b2)
    extra_name, extra = extra_benign(set(benign))
    e2 = sorted(_flagged(v2.match, extra))
    # The second list's flagged names by what made them: the brand word itself in the name (the
    # brands' own names abroad and their services look exactly like reported phishing such as
    # smbc-card.org or jabank.info), or only a lookalike of it.
    e2_exact = [n for n in e2 if {r.kind for r in v2.match(n).reasons} & {"keyword", "embedded", "flattened"}]
    e2_like = [n for n in e2 if n not in set(e2_exact)]
    reported = sorted({h for hs in hosts.values() for h in hs})
    from watcher.core.names import normalize_host

    def forget_v2() -> None:
        v2.clear_caches()
        normalize_host.cache_clear()

    # Benign names are what CT brings almost always (a hit is rare); the reported ones mostly hit, and
    # a hit costs its reasons in words.
    # A pass over the benign names takes a fraction of a second: best of seven, so that one pass falls
    # in a quieter moment of the shared machine.
    nps2 = names_per_second(v2.match, benign, forget_v2, rounds=7)
    nps1 = names_per_second(v1.match, benign, normalize_host.cache_clear, rounds=7)
    nps2r = names_per_second(v2.match, reported, forget_v2)
    nps1r = names_per_second(v1.match, reported, normalize_host.cache_clear)
    miss_lines = "; ".join(f"{k}: {n} (e.g. {', '.join(miss_examples[k])})" for k, n in misses.most_common())
    return {
        "title": "Detection: the matcher on phishing reported in Japan in 2025 (0.2 vs 0.1)",
        "what": (f"{len(specs)} brands of the corpus (`bench/detection_brands.toml`, written from the firms' "
                 f"official domains and names), {tot['reported']:,} distinct reported hostnames, "
                 f"{len(benign):,} popular benign registrable domains. *Lexically related*: a label carries a "
                 "brand word — 6+ letters exactly or within one edit (two from 9) anywhere, 5 letters exactly "
                 "anywhere or within one edit as a whole part, 4 or fewer as a whole part or glued to another "
                 "of the brand's words — decided by brute force apart from the matcher (see the module's "
                 "docstring). The rest name no brand: feeds, reports and pivots find those, not the matcher. "
                 "Speed: CPU time of one pass with cold caches, best of seven (benign) or three (reported). "
                 "The machine is shared with "
                 f"other engineers' jobs (2 cores; load average {load_start:.1f} at the start of this run, "
                 f"{os.getloadavg()[0]:.1f} at its end): CPU time is inflated under contention, so the names "
                 "per second are a floor. *Halves*: every name falls in a fixed half by a hash of it; the "
                 "matcher's rules on English words (v0.2.1) were tuned looking at the dev half of both lists "
                 "only and are judged on the held-out half; v0.2.2's rules were written against the classes "
                 "of a second popular list's flagged names (below), and checked on both halves."),
        "command": (f"OMAMORI_BENCH_EXTRA_BENIGN=…/{extra_name} " if extra else "") + ".venv/bin/python -m bench detection",
        "rows": rows,
        "related recall 0.2 (all brands)": _pct(tot["rel2"], tot["related"]),
        "related recall 0.1 (all brands)": _pct(tot["rel1"], tot["related"]),
        "related recall 0.2, dev half": _pct(tot["rel2 dev"], tot["related dev"]),
        "related recall 0.2, held-out half": _pct(tot["rel2 held-out"], tot["related held-out"]),
        "benign flagged 0.2": f"{len(b2)} of {len(benign):,} ({100 * len(b2) / len(benign):.4f}%)",
        "benign flagged 0.2, dev half": _share(b2_half["dev"], benign_half["dev"]),
        "benign flagged 0.2, held-out half": _share(b2_half["held-out"], benign_half["held-out"]),
        "benign flagged 0.1": f"{len(b1)} of {len(benign):,} ({100 * len(b1) / len(benign):.3f}%)",
        "names/s 0.2, benign names (matcher alone, one core, cold caches, CPU time)": round(nps2),
        "names/s 0.1, benign names (same names, same run)": round(nps1),
        "speed ratio 0.2 / 0.1, benign names": round(nps2 / nps1, 2),
        "names/s 0.2, reported phishing hostnames (most hit: reasons in words)": round(nps2r),
        "names/s 0.1, reported phishing hostnames": round(nps1r),
        "speed ratio 0.2 / 0.1, reported": round(nps2r / nps1r, 2),
        "matcher build 0.2 (s, with permutations)": round(build_v2, 2),
        **({f"benign flagged 0.2, a second popular list ({extra_name}, less the corpus's names)":
            _share(len(e2), len(extra))} if extra else {}),
        "notes": ("The done-when figures of issue 15: related recall 0.2 ≥ 97% and benign flagged ≤ 0.01%. "
                  "The brand files' exceptions and group domains are disclosed in their header; none was added "
                  "for the English-word rules. Those rules (a short keyword beside an English word in the "
                  "registrable label is another thing's acronym; a brand word that is English, glued to "
                  "English words there, is a phrase; an i-/e- product name whose letter ends the word before "
                  "it is the English word; a lookalike that is an English word is that word) read Webster's "
                  "web2 list (`watcher/discovery/ct/lexicon.py`). Said plainly: the three benign names flagged "
                  "before them (appleinsider.com, myapple.pl, smbc-comics.com) had been published here, so the "
                  "held-out benign half is not blind to them, and a second popular list (below) was blind to "
                  "every rule until v0.2.2, whose rules were written against the classes of its flagged "
                  "names (never a named row), so it no longer is: a registrable label under a suffix given only to institutions its registry "
                  "checked (ac.*, go.jp, edu, gov…) is its holder's (`ct/vetted.py`); permutations that name "
                  "something else are not kept (a 3-4-letter label with a letter changed, an English word, a "
                  "dictionary word that replaced the brand's own part); a lookalike of a compound (aupay, "
                  "chasebank) keeps the brand's own part; letters running on after a word only the fold "
                  "makes are another word. And two for recall that flag no benign name of either list: a "
                  "5-6-letter brand word buried in a longer word counts under the TLDs where phishing "
                  "against Japan is mostly registered (.shop, .top, .cyou…), and a mirrored letter (b/d, "
                  "p/q) is a phisher's edit."
                  + (f" The second list ({extra_name}: {len(extra):,} popular registrable domains, a "
                     "Tranco-style ranking kept outside the repository, less the corpus's benign names; "
                     f"given with OMAMORI_BENCH_EXTRA_BENIGN): {len(e2)} flagged. {len(e2_exact)} carry the "
                     "brand word itself — the brands' own names abroad and their services (e.g. "
                     f"{', '.join(e2_exact[:8])}), which no lexical rule can tell from reported phishing "
                     "such as smbc-card.org, jabank.info or kuronekoyamato.org.cn; the brand files' group "
                     f"domains or the certificate's owner can. {len(e2_like)} are lookalikes only: "
                     f"{', '.join(e2_like)}."
                     if extra else "") + "\n\n"
                  "Misses of related hostnames by kind: " + (miss_lines or "none") + ".\n\n"
                  "Benign names flagged by 0.2: " + (", ".join(b2) or "none") + ". By 0.1: "
                  + (", ".join(b1[:20]) or "none") + (" …" if len(b1) > 20 else "") + "."),
    }


def _share(a: int, b: int) -> str:
    return f"{a} of {b:,} ({100 * a / b:.4f}%)" if b else "-"


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"
