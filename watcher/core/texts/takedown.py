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
}
