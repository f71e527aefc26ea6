"""Texts of the takedown area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "takedown.send_failed": ("削除依頼 TD-{id}（{recipient} 宛）を送信できませんでした",
                             "takedown request TD-{id} to {recipient} could not be sent"),
    "takedown.send_failed_detail": (
        "メールサーバーの応答: {error}（{attempts} 回試行）。自動では再送しません。宛先と送信設定を確認し、"
        "依頼を再送するか、別の窓口（フォーム等）から依頼してください。",
        "The mail server answered: {error} ({attempts} attempts). It is not retried by itself: check the "
        "recipient and the mail settings, then re-send the request or use another channel (a web form)."),
    "takedown.name_lookalike": ("ドメイン名 {name}（{alabel}）は、［］内の文字を似た別の文字に置き換えて当社の {official} に見せかけています",
                                "the name {name} ({alabel}) imitates our {official}: the characters in ［］ are look-alikes"),
    "takedown.no_registrar_contact": ("RDAP と WHOIS にレジストラの不正利用窓口がありません",
                                      "RDAP and WHOIS named no abuse contact for the registrar"),
    "takedown.no_network_contact": ("IP アドレスの RDAP にネットワークの不正利用窓口がありません",
                                    "IP RDAP named no abuse contact for the network"),
    "takedown.recipient_cut": ("{who} は宛先から除外されました（{why}）", "{who} was left out ({why})"),
    "takedown.cut_invalid_email": ("メールアドレスとして正しくありません", "not a valid email address"),
    "takedown.cut_own_address": ("当社（公式・グループ）ドメインのアドレスです", "it is the firm's own address (official or group domain)"),
    "takedown.cut_phisher_address": ("通報対象のドメイン自体のアドレスで、送ると犯人に知られます",
                                     "it is at the reported domain itself (would tip off the phisher)"),
    "takedown.no_recipient": ("{domain} の削除依頼の宛先が見つかりません", "no takedown recipient found for {domain}"),
    "takedown.no_recipient_cuts": ("見つかった窓口はすべて除外されました: {cuts}", "every contact found was left out: {cuts}"),
    "takedown.no_recipient_detail": ("RDAP・WHOIS と IP アドレスの RDAP に不正利用窓口がなく、設定にも依頼先がありません。"
                                     "窓口を調べて手動で依頼してください。",
                                     "RDAP/WHOIS and IP RDAP named no abuse contact and none is configured: "
                                     "find the contact and send the request by hand."),
}
