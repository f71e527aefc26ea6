"""Texts of the alerts area: key -> (Japanese, English). See watcher/core/texts/__init__.py.

Hostnames in alerts are defanged (``example[.]top``) before they reach these sentences, so that no
chat client or mail reader turns a phishing site into a link.
"""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # titles, one per rule
    "alert.case_confirmed": ("偽サイトを確認しました: {site}（{brand}）", "Phishing site confirmed: {site} ({brand})"),
    "alert.case_high_score": ("確認が必要な候補: {site}（{brand}、スコア {score}）",
                              "Candidate needs a look: {site} ({brand}, score {score})"),
    "alert.approval_waiting": ("テイクダウン依頼 {n} 件が承認待ちです: {site}",
                               "{n} takedown request(s) wait for approval: {site}"),
    "alert.takedown_stalled": ("テイクダウンが進んでいません: {site}（{why}）",
                               "Takedown not progressing: {site} ({why})"),
    "alert.owned_finding": ("自社ドメインの問題: {title}", "Problem with our domains: {title}"),
    "alert.self_finding": ("omamori 自身の問題: {title}", "omamori itself needs attention: {title}"),
    "alert.resolved": ("解消しました: {title}", "Resolved: {title}"),
    "alert.test": ("omamori からのテスト通知です（{channel}）", "Test alert from omamori ({channel})"),
    # details
    "alert.detail.case": ("ホスト名: {hosts}／状態: {status}／確認者: {by}",
                          "hostnames: {hosts}; status: {status}; confirmed by: {by}"),
    "alert.detail.candidate": ("ホスト名: {hosts}／判定: {verdict}／発見元: {source}",
                               "hostnames: {hosts}; verdict: {verdict}; found by: {source}"),
    "alert.detail.drafts": ("宛先: {recipients}。ダッシュボードまたは `omamori takedown approve` で承認してください。",
                            "to: {recipients}. Approve in the dashboard or with `omamori takedown approve`."),
    "alert.detail.stalled": ("{detail}", "{detail}"),
    "alert.detail.finding": ("対象: {subject}／重要度: {severity}／{detail}",
                             "subject: {subject}; severity: {severity}; {detail}"),
    "alert.why.failed": ("送信失敗", "sending failed"),
    "alert.why.stalled": ("停止されないまま", "still up"),
    "alert.why.uncertain": ("送信結果が不明", "send uncertain"),
    "alert.why.no_recipient": ("宛先なし", "no recipient"),
    "alert.why.bounced": ("不達", "bounced"),
    "alert.why.other": ("{what}", "{what}"),
    # the frame of a message
    "alert.kind.new": ("新規", "new"),
    "alert.kind.reminder": ("リマインド（未解決のまま）", "reminder (still open)"),
    "alert.kind.resolved": ("解消", "resolved"),
    "alert.kind.test": ("テスト", "test"),
    "alert.digest_title": ("omamori 通知まとめ（{n} 件）", "omamori digest ({n} alerts)"),
    "alert.open_dashboard": ("ダッシュボードで開く", "Open in the dashboard"),
    "alert.severity": ("重要度", "severity"),
}
