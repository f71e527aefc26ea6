"""Texts of the terminal's story (``omamori run --story``): key -> (Japanese, English).
See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "story.running": ("omamori 稼働中: ジョブ {jobs} 件。起きたことをここに表示します（ログは {log}）",
                      "omamori running: {jobs} jobs; what happens is printed here, the log is in {log}"),
    # the verb column
    "story.verb.found": ("検出", "found"),
    "story.verb.captured": ("取得", "captured"),
    "story.verb.confirmed": ("確定", "confirmed"),
    "story.verb.sent": ("送信", "sent"),
    "story.verb.down": ("停止", "down"),
    "story.verb.dismissed": ("対象外", "dismissed"),
    "story.verb.owned": ("自社", "owned"),
    "story.verb.error": ("エラー", "ERROR"),
    # what each line says
    "story.looks_like": ("{name} — {official} に酷似", "{name} — looks like {official}"),
    "story.found": ("{name}（{source}）", "{name} (from {source})"),
    "story.captured": ("{name}: {verdict}、スコア {score}", "{name}: {verdict}, score {score}"),
    "story.confirmed": ("{name}（{who}）", "{name} by {who}"),
    "story.dismissed": ("{name}（{who}）", "{name} by {who}"),
    "story.down": ("{name}: サイトの停止を確認", "{name}: the site is gone"),
    "story.auto_rule": ("自動ルール", "auto rule"),
    "story.sent": ("依頼 {n} 件 — {said}", "{n} request(s) — {said}"),
    "story.many": ("{n} 件: {items}", "{n}: {items}"),
    "story.owned": ("自社ドメインの検出事項: {counts}（ダッシュボード: 保有ドメイン、メール認証）",
                    "{counts} finding(s) about our own domains (dashboard: owned domains, mail authentication)"),
    "story.owned_critical": ("［緊急］{kind} {subject}: {title}", "[critical] {kind} {subject}: {title}"),
    "story.found_counted": ("{counts}（パーキング中または未確認: ダッシュボードに一覧）",
                            "{counts} (parked or not checked yet: the dashboard lists them)"),
    "story.found_by": ("{source}による類似ドメイン {n} 件", "{n} lookalike(s) by {source}"),
    "story.job_failed": ("ジョブ {job} が失敗しました: {error}（稼働状況画面、ログファイル）",
                         "job {job} failed: {error} (health view, log file)"),
    "story.error": ("{message}（稼働状況画面、ログファイル）", "{message} (health view, log file)"),
    "story.unreadable": ("（ストーリー: データベースを読めませんでした: {error}）",
                         "(story: could not read the database: {error})"),
    # a count beside its severity word (texts.word("severity", ...), the one every reader uses)
    "story.counted": ("{word} {n}", "{n} {word}"),
}
