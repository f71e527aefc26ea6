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
}
