"""Texts of the capture area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "capture.visual_match": ("画面が公式ページ {url} と一致します（pHash 距離 {p}/64、dHash {d}/64{colour}）",
                             "the screenshot matches the official page {url} (pHash distance {p}/64, "
                             "dHash {d}/64{colour})"),
    "capture.visual_resembles": ("画面が公式ページ {url} に似ています（pHash 距離 {p}/64、dHash {d}/64{colour}）",
                                 "the screenshot resembles the official page {url} (pHash distance {p}/64, "
                                 "dHash {d}/64{colour})"),
    "capture.our_page_via_proxy": ("{proxy} を通した当社の公式ページ {original}（クローンではありません）",
                                   "our own page {original} seen through {proxy} (not a clone)"),
}
