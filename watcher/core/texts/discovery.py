"""Texts of the discovery area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # the matcher: why a name looks like the brand
    "discovery.owned_official": ("{suffix} の中の名前（{brand} の公式ドメイン）",
                                 "within {suffix}, an official domain of {brand}"),
    "discovery.owned_group": ("{suffix} の中の名前（{brand} のグループのドメイン）",
                              "within {suffix}, a group domain of {brand}"),
    "discovery.lapsed": ("{suffix} の中の名前：{brand} が手放したドメイン（ドロップキャッチの疑い）",
                         "within {suffix}, a domain {brand} let lapse (drop-catch?)"),
    "discovery.permutation": ("{name} は {base} のタイポスクワットです（生成方法：{fuzzer}）",
                              "{name} is a typosquat of {base} (fuzzer: {fuzzer})"),
    "discovery.flattened": ("公式ドメイン {domain} がラベル '{label}' に平たく埋め込まれています",
                            "official domain {domain} flattened into label '{label}'"),
    "discovery.embedded": ("公式ドメイン {domain} が長い名前に埋め込まれています",
                           "official domain {domain} embedded in a longer name"),
    "discovery.keyword_registrable": ("登録ドメインのラベル '{label}' にブランドのキーワード '{keyword}'",
                                      "brand keyword '{keyword}' in the registrable label '{label}'"),
    "discovery.keyword_subdomain": ("サブドメインのラベル '{label}' にブランドのキーワード '{keyword}'",
                                    "brand keyword '{keyword}' in a subdomain label '{label}'"),
    "discovery.short_alone": ("短いキーワード '{keyword}' がラベル '{label}' の中で独立した語として現れます",
                              "short brand keyword '{keyword}' as a word of its own in label '{label}'"),
    "discovery.short_beside": ("短いキーワード '{keyword}' がラベル '{label}' で '{word}' と並んでいます",
                               "short brand keyword '{keyword}' beside '{word}' in label '{label}'"),
    "discovery.reads_as": ("ラベル '{label}' は '{reads}' と読め、'{keyword}'（{what}）を含みます",
                           "label '{label}' reads as '{reads}', which contains '{keyword}' ({what})"),
    "discovery.edit_distance": ("ラベル '{label}' の '{part}' は '{target}'（{what}）から {d} 文字違いです",
                                "'{part}' in label '{label}' is {d} edit(s) from '{target}' ({what})"),
    "discovery.what_keyword": ("キーワード '{keyword}'", "keyword '{keyword}'"),
    "discovery.what_label": ("{domain} のラベル", "the label of {domain}"),
    "discovery.what_flattened": ("{domain} を平たくしたもの", "{domain} flattened"),
    "discovery.combo": ("ブランドと {words} の組み合わせ", "brand together with {words}"),
    "discovery.cheap_tld": (".{tld} はフィッシングに多用されるトップレベルドメインです",
                            ".{tld} is a top-level domain much used for phishing"),
    "discovery.in_path": ("URL のパスまたはクエリにブランドのキーワード '{keyword}'（{part}）",
                          "brand keyword '{keyword}' in the URL path or query ({part})"),
    # feeds
    "discovery.feed_row": ("フィッシング URL フィード {feed} に掲載（{date}）",
                           "listed in the phishing URL feed {feed} ({date})"),
    "discovery.feed_brand": ("フィード {feed} の説明がブランドを名指し：'{said}'",
                             "the feed {feed} names the brand: '{said}'"),
    # pivots
    "discovery.pivot": ("ケース {case}（{site}）からのピボット：{how}", "pivot from case {case} ({site}): {how}"),
    "discovery.pivot_cert": ("同じ証明書の別の名前", "another name in the same certificate"),
    "discovery.pivot_registrable": ("同じ登録ドメイン {registrable} の新しい名前",
                                    "a new name under the same registered domain {registrable}"),
    "discovery.pivot_ip": ("同じ IP アドレス {ip}", "the same IP address {ip}"),
    "discovery.pivot_ns": ("同じネームサーバー {ns}", "the same name servers {ns}"),
    "discovery.pivot_favicon": ("同じファビコン（sha256 {sha}…）", "the same favicon (sha256 {sha}…)"),
    "discovery.pivot_html": ("同じ HTML（ssdeep {score}）", "the same HTML (ssdeep {score})"),
    "discovery.pivot_form": ("同じフォーム送信先 {target}", "the same form target {target}"),
}
