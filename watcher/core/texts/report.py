"""Texts of the report area: key -> (Japanese, English). See watcher/core/texts/__init__.py.

The weekly report's first page (for management), the lock states, the customer alert page and the
official-domains page speak from here.
"""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # the weekly report's first page
    "report.title": ("週次報告：フィッシング対策・ドメイン管理", "Weekly report: phishing and domain protection"),
    "report.period": ("対象期間 {start} ～ {end}（作成 {generated}）", "Period {start} – {end} (generated {generated})"),
    "report.guideline": ("日本証券業協会ガイドライン IV.1(3)・IV.4 に基づく経営陣への定期報告",
                         "Regular report to management under JSDA guideline IV.1(3) and IV.4"),
    "report.english_below": ("英語版は下にあります。", "English version below."),
    "report.h.happened": ("今週起きたこと", "What happened this week"),
    "report.h.changed": ("先週からの変化（過去8週間の推移）", "What changed since last week (8-week trend)"),
    "report.h.decide": ("判断をお願いしたいこと", "What needs a decision"),
    "report.happened.sites": ("当社を装うサイトを新たに {new} 件検知し、{confirmed} 件を偽サイトと確認しました。",
                              "{new} new sites impersonating us were found; {confirmed} were confirmed as phishing."),
    "report.happened.down": ("{down} 件が停止しました。依頼から停止まで 中央値 {median} 時間、90% 値 {p90} 時間です。",
                             "{down} were taken down: {median} h median and {p90} h at the 90th percentile "
                             "from request to down."),
    "report.happened.down_none": ("今週停止したサイトはありません。", "No site was taken down this week."),
    "report.happened.blocklisted": ("ブラウザのブロックリスト掲載まで 中央値 {median} 時間、90% 値 {p90} 時間"
                                    "（{n} サイト）。",
                                    "Browser blocklists listed them in {median} h median, {p90} h at the 90th "
                                    "percentile ({n} sites)."),
    "report.happened.blocklisted_none": ("今週ブロックリストに掲載されたサイトはありません。",
                                         "No site was listed on a browser blocklist this week."),
    "report.happened.open_sites": ("週末時点で対応中のサイトは {n} 件です。", "{n} sites are still being handled."),
    "report.happened.findings": ("自社ドメイン・メール認証の指摘：新規 {opened} 件、解消 {resolved} 件、"
                                 "未対応 {open} 件（うち緊急・高 {severe} 件）。",
                                 "Findings on our domains and mail authentication: {opened} new, {resolved} "
                                 "resolved, {open} open ({severe} critical or high)."),
    "report.happened.reject": ("DMARC p=reject に移行できる送信ドメイン：{ready} / {total}。",
                               "Sending domains ready for DMARC p=reject: {ready} of {total}."),
    "report.happened.alerts": ("担当チームへの通知 {n} 件。", "{n} alerts were sent to the team."),
    "report.trend.metric": ("指標", "Measure"),
    "report.trend.this_week": ("今週", "This week"),
    "report.trend.last_week": ("先週", "Last week"),
    "report.trend.change": ("変化", "Change"),
    "report.trend.weeks": ("8週間", "8 weeks"),
    "report.metric.new_sites": ("新規検知サイト", "New sites found"),
    "report.metric.confirmed_sites": ("偽サイト確認", "Sites confirmed as phishing"),
    "report.metric.down_sites": ("停止したサイト", "Sites taken down"),
    "report.metric.open_sites": ("対応中のサイト（週末）", "Sites still open (end of week)"),
    "report.metric.median_ttd": ("停止までの時間 中央値（時間）", "Median time to down (h)"),
    "report.metric.severe_findings": ("緊急・高の未対応指摘（週末）", "Open critical/high findings (end of week)"),
    "report.decide.approve": ("テイクダウン依頼の承認：{site}（{n} 件が承認待ち）",
                              "Approve takedown requests: {site} ({n} waiting)"),
    "report.decide.review": ("偽サイトかの判断：{site}（スコア {score}）",
                             "Decide whether it is phishing: {site} (score {score})"),
    "report.decide.stalled": ("停止されないサイトへの追加対応：{site}（{why}）",
                              "Further action on a site that stays up: {site} ({why})"),
    "report.decide.finding": ("{severity}：{title}", "{severity}: {title}"),
    "report.decide.reject": ("DMARC を p=reject に移行する判断：{domains}",
                             "Decide to move DMARC to p=reject: {domains}"),
    "report.decide.none": ("判断が必要な事項はありません。", "Nothing needs a decision."),
    "report.decide.more": ("ほか {n} 件は添付の一覧をご覧ください。", "{n} more in the attached lists."),
    "report.hours_na": ("－", "–"),
    # the detail pages
    "report.h.sites": ("サイト別のテイクダウン状況（今週）", "Takedowns by site (this week)"),
    "report.sites.site": ("サイト", "Site"),
    "report.sites.hosts": ("ホスト名数", "Hostnames"),
    "report.sites.status": ("状態", "Status"),
    "report.sites.confirmed": ("確認", "Confirmed"),
    "report.sites.requests": ("依頼（宛先）", "Requests (recipients)"),
    "report.sites.ttd": ("停止まで（時間）", "To down (h)"),
    "report.sites.ttb": ("ブロックリストまで（時間）", "To blocklisted (h)"),
    "report.lock.yes": ("あり", "yes"),
    "report.lock.no": ("なし", "no"),
    "report.lock.unknown": ("不明", "unknown"),
    "report.lock.legend": ("ロック：✓ あり（確認済み）／✗ なし（確認済み・要対応）／? 不明（未確認、または WHOIS が"
                           "公開しない）", "Locks: ✓ set (checked) / ✗ not set (checked: act on it) / ? unknown "
                           "(not checked yet, or the registry's WHOIS does not publish them)"),
    # the customer alert page (guideline IV.7(2))
    "report.customer.title": ("当社を装った偽サイトにご注意ください", "Beware of fake sites impersonating us"),
    "report.customer.intro": ("{brand}を装った偽のウェブサイトを確認しています。以下のサイトでIDやパスワード、"
                              "暗証番号を入力しないでください。ログインはブックマークまたは公式アプリから行って"
                              "ください。", "We have found fake websites impersonating {brand}. Never enter your "
                              "ID, password or PIN on the sites below. Log in only from your bookmark or our "
                              "official app."),
    "report.customer.defanged": ("誤ってアクセスしないよう、アドレスの「.」を「[.]」に置き換えて表示しています。",
                                 "Addresses are shown with “.” written as “[.]” so that they cannot be opened by "
                                 "mistake."),
    "report.customer.site": ("偽サイトのアドレス", "Fake site address"),
    "report.customer.seen": ("確認日", "Found on"),
    "report.customer.status": ("状況", "Status"),
    "report.customer.status_open": ("稼働中（停止を依頼しています）", "Active (we have asked for it to be taken down)"),
    "report.customer.status_closed": ("停止済み", "Taken down"),
    "report.customer.none": ("現在、確認している偽サイトはありません。", "We know of no fake site at present."),
    "report.customer.official": ("当社の正式なドメインの一覧はこちら：{url}", "Our official domains are listed at {url}"),
    "report.customer.report_to": ("不審なメール・SMS・サイトを見つけた場合はお知らせください：{contact}",
                                  "If you find a suspicious mail, SMS or site, please tell us: {contact}"),
    "report.customer.updated": ("更新日時：{at}", "Updated: {at}"),
    # the official-domains page (IV.4(4)③, IV.7(2)⑥)
    "report.official.rule": ("当社のウェブサイトとメールのアドレスは、必ず次のドメインで終わります：{domains}。"
                             "これらに似ていても末尾が異なるもの（例：{example}）は当社のものではありません。",
                             "Our websites and mail addresses always end in one of these domains: {domains}. "
                             "Names that look similar but end differently (e.g. {example}) are not ours."),
    "report.official.apps": ("公式アプリ", "Official apps"),
    "report.official.short_code": ("SMS は共通ショートコード {codes} からのみ送信します。",
                                   "We send SMS only from the carrier-common short code {codes}."),
}
