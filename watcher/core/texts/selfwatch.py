"""Texts of the selfwatch area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "self.job_failing": ("ジョブ {job} が {n} 回続けて失敗しました", "job {job} failed {n} times in a row"),
    "self.ct_log_stale": ("CT ログ {log} が {since} UTC 以降増えていません",
                          "CT log {log} has not grown since {since} UTC"),
    "self.ct_log_invalid": ("CT ログ {log} の検証に失敗しました", "CT log {log} failed verification"),
    "self.ct_log_lagging": ("CT ログ {log} の読み取りが遅れています: 署名済みツリーヘッドより {entries} 件、{minutes} 分遅れ",
                            "CT log {log} is falling behind: {entries} entries and {minutes} minutes behind its signed tree head"),
    "self.ct_log_lagging_detail": (
        "位置 {next_index} / ツリーサイズ {tree_size}（上限 {max_entries} 件、{max_minutes} 分）。最後のエラー: {error}",
        "position {next_index} of tree size {tree_size} (limits {max_entries} entries, {max_minutes} minutes). "
        "Last error: {error}"),
    "self.feed_silent_since": ("{feed} フィードが {since} UTC 以降届いていません",
                               "{feed} feed silent since {since} UTC"),
    "self.feed_silent_start": ("{feed} フィードが起動以来届いていません", "{feed} feed silent since start"),
    # what each job does (`omamori jobs`, the health view)
    "self.job.ct_poll": ("CT ログの新しいエントリを読み、照合します", "read new entries of every CT log and match them"),
    "self.job.permutations": ("類似ドメインを生成して名前解決します", "generate typosquat permutations and resolve them"),
    "self.job.intake": ("通報用メールボックスとフィードから報告を読み込みます", "read reports from the abuse mailbox and feeds"),
    "self.job.feeds": ("フィッシング URL フィードを取得します", "pull the phishing URL feeds"),
    "self.job.pivots": ("確定した案件の関連（証明書・ドメイン・アドレス・ページ）を調べます",
                   "look for siblings of confirmed cases: certificate, domain, address, page"),
    "self.job.snapshot": ("確認期限の候補を確認します（DNS・RDAP・キャプチャ・スコア・判定）",
                     "check due candidates: DNS, RDAP, capture, score, triage"),
    "self.job.takedowns": ("依頼の送信・督促・エスカレーション、停止の確認", "send requests, reminders and escalations; close when down"),
    "self.job.blocklists": ("確定したフィッシング URL をブラウザのブロックリストに登録し、掲載を確認します",
                       "submit confirmed phishing URLs to the browser blocklists; check when they are listed"),
    "self.job.takedown_replies": ("通報用メールボックスを読みます（不達通知・受付番号・返信）",
                             "read the takedown mailbox: bounces, ticket numbers, replies"),
    "self.job.inventory": ("保有ドメインを確認します（期限・ロック・ドロップキャッチ・乗っ取り）",
                      "check owned domains: expiry, locks, drop-catch, takeover"),
    "self.job.mailauth": ("送信ドメインの SPF・DKIM・DMARC・BIMI・MTA-STS を確認します",
                     "check SPF, DKIM, DMARC, BIMI, MTA-STS of sending domains"),
    "self.job.dmarc_reports": ("DMARC 集計レポートを取り込みます", "ingest DMARC aggregate reports"),
    "self.job.weekly_report": ("週次レポートを送ります（週に一度）", "send the weekly report when it is due"),
    "self.job.health": ("omamori 自身の監視（フィード・ログ・ジョブ）", "omamori watches itself: feeds, logs, jobs"),
    "self.job.alerts": ("チームへの通知（新しい案件・承認・停滞・検出事項）",
                   "tell the team: new cases, approvals, stalled takedowns, findings"),
    "self.job.publish": ("顧客向け注意喚起ページと公式ドメイン一覧を公開します",
                    "customer alert page and official-domains list, when they change"),
    "self.job.queue": ("停止したワーカーのタスクをキューに戻します", "put the tasks of dead workers back in the queue"),
    "self.job.share": ("確定案件を STIX で共有し、MISP に送ります", "STIX bundles of confirmed cases; push them to MISP"),
    "self.job.message_lint": ("当社のメール・SMS テンプレートにログインリンクがないか点検します",
                         "lint the firm's mail and SMS templates for login links"),
}
