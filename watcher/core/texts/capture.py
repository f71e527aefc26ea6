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
    "capture.logo_screenshot": ("当社のロゴが画面の x={x}, y={y} に表示されています（約 {w}x{h} px、一致した特徴点 {n} 個）",
                                "the brand's logo appears in the screenshot at x={x}, y={y} (about {w}x{h} px; "
                                "{n} matching features)"),
    "capture.logo_fullpage": ("当社のロゴがページ全体の画面の x={x}, y={y} に表示されています（約 {w}x{h} px、一致した特徴点 {n} 個）",
                              "the brand's logo appears in the full-page screenshot at x={x}, y={y} (about "
                              "{w}x{h} px; {n} matching features)"),
    "capture.favicon_same": ("ファビコンが当社のものとバイト単位で同一です（sha256 {sha}…）",
                             "the favicon is byte-for-byte the brand's (sha256 {sha}…)"),
    "capture.favicon_similar": ("ファビコンが当社のものに酷似しています（dHash 距離 {d}/64）",
                                "the favicon looks like the brand's (dHash distance {d}/64)"),
    "capture.html_copy": ("HTML が公式ページ {url} のほぼ複製です（ssdeep {ssdeep}/100{tlsh}）",
                          "the HTML is a near copy of the official page {url} (ssdeep {ssdeep}/100{tlsh})"),
    "capture.html_shares": ("HTML の多くが公式ページ {url} と共通です（ssdeep {ssdeep}/100{tlsh}）",
                            "the HTML shares much of the official page {url} (ssdeep {ssdeep}/100{tlsh})"),
    "capture.brand_name": ("ページに当社名が表示されています: {names}", "the page names the brand: {names}"),
    "capture.login_words": ("ページがログインを求めています: {words}", "the page asks the visitor to log in: {words}"),
    "capture.credential_form_password": ("パスワードを入力させるフォームがあり、当社以外の送信先（{host}）に送信します",
                                         "a form asks for a password and sends it to {host}, which is not the brand's"),
    "capture.credential_form_pin": ("暗証番号を入力させるフォームがあり、当社以外の送信先（{host}）に送信します",
                                    "a form asks for a PIN and sends it to {host}, which is not the brand's"),
    "capture.fresh_registration_date": ("ドメイン名は {days} 日前（{date}）に登録されたばかりです",
                                        "the domain was registered {days} days ago ({date})"),
    "capture.fresh_registration": ("ドメイン名は {days} 日前に登録されました", "the domain was registered {days} days ago"),
    "capture.lookalike_name": ("ドメイン名が当社の名称に似せて作られています（名称の類似スコア {points}）",
                               "the name imitates the brand (name score {points})"),
    "capture.our_page_via_proxy": ("{proxy} を通した当社の公式ページ {original}（クローンではありません）",
                                   "our own page {original} seen through {proxy} (not a clone)"),
}
