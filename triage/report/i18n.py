"""Every label of the investigation report, in English and Japanese.

`label(lang, key, **values)` formats one; a key missing in a language is a bug (a test checks
that both languages have exactly the same keys and the same {placeholders}).
"""
from __future__ import annotations

import string
from typing import Any

LANGUAGES = ("en", "ja")

# key: (English, Japanese)
_TEXTS: dict[str, tuple[str, str]] = {
    # page
    "title": ("Investigation report", "調査報告書"),
    "generated": ("Report generated", "報告書の作成日時"),
    "zone_note": ("All times are shown in the time zone {zone}. case.sqlite, the timeline files "
                  "and the exports keep UTC.",
                  "時刻はすべてタイムゾーン {zone} で表示しています。case.sqlite、タイムライン"
                  "ファイル、エクスポートは UTC のままです。"),
    "offline_note": ("This file is self-contained: it loads nothing from a network or from other "
                     "files.",
                     "このファイルは単体で完結しており、ネットワークや他のファイルから何も読み込み"
                     "ません。"),
    "footer": ("Built by triage {version} from case.sqlite (opened read-only) and manifest.json, "
               "without reading the evidence again.",
               "triage {version} が case.sqlite（読み取り専用）と manifest.json から作成しました。"
               "証拠は再読込していません。"),
    "contents": ("Contents", "目次"),
    "none": ("—", "—"),
    "yes": ("yes", "はい"),
    "no": ("no", "いいえ"),
    "more_rows": ("{n} more not shown.", "ほか {n} 件は省略しています。"),
    "time_col": ("time ({zone})", "時刻（{zone}）"),
    "count": ("count", "件数"),
    "user": ("user", "ユーザー"),
    "users": ("users", "ユーザー"),
    "path": ("path", "パス"),
    "message": ("event", "内容"),
    "desc": ("meaning of the time", "時刻の意味"),
    "artifact": ("artifact", "アーティファクト"),
    "family": ("family", "種別"),
    "source": ("source", "情報源"),
    "size": ("size (bytes)", "サイズ（バイト）"),
    "name": ("name", "名前"),
    # sections
    "sec_case": ("Case and evidence", "事件と証拠"),
    "sec_system": ("System and users", "システムとユーザー"),
    "sec_findings": ("Findings", "検知結果"),
    "sec_usb": ("USB and portable devices", "USB・ポータブルデバイス"),
    "sec_execution": ("Program execution", "プログラムの実行"),
    "sec_browsing": ("Web browsing", "Web 閲覧"),
    "sec_recent": ("Recent files and Office documents", "最近使ったファイルと Office 文書"),
    "sec_deleted": ("Deleted files", "削除されたファイル"),
    "sec_activity": ("Activity over time", "時系列の活動量"),
    "sec_timeline": ("Timeline", "タイムライン"),
    "sec_errors": ("Processing errors and warnings", "処理エラーと警告"),
    # case and evidence
    "examiner": ("Examiner", "調査担当者"),
    "case_id": ("Case ID", "事件番号"),
    "evidence_name": ("Evidence", "証拠"),
    "evidence_path": ("Evidence path", "証拠のパス"),
    "evidence_kind": ("Kind", "種類"),
    "containers": ("Containers", "コンテナ形式"),
    "volume_system": ("Partition table", "パーティションテーブル"),
    "segments": ("Segments", "セグメント"),
    "hashes": ("Evidence hashes", "証拠のハッシュ値"),
    "hash_computed": ("computed over the media", "メディア全体の計算値"),
    "hash_stored": ("stored in the image", "イメージ内の記録値"),
    "verification": ("E01 verification", "E01 の検証結果"),
    "verification_match": ("match: the computed hashes equal those stored in the image",
                           "一致：計算したハッシュ値はイメージ内の記録値と同じです"),
    "verification_mismatch": ("MISMATCH: the computed hashes differ from those stored in the image",
                              "不一致：計算したハッシュ値がイメージ内の記録値と異なります"),
    "not_hashed": ("not hashed (run with --hash-evidence to hash the media)",
                   "未計算（--hash-evidence を指定するとメディア全体を計算します）"),
    "media_size": ("media size (bytes)", "メディアサイズ（バイト）"),
    "tool": ("Tool", "ツール"),
    "platform": ("Platform", "実行環境"),
    "started": ("Run started", "処理開始"),
    "finished": ("Run finished", "処理終了"),
    "command_line": ("Command line", "コマンドライン"),
    "local_zone": ("Local time zone of the evidence", "証拠のローカルタイムゾーン"),
    "volumes": ("Volumes", "ボリューム"),
    "vol_id": ("volume", "ボリューム"),
    "vol_offset": ("offset", "オフセット"),
    "vol_type": ("partition type", "パーティション種別"),
    "vol_fs": ("file system", "ファイルシステム"),
    "vol_label": ("label", "ラベル"),
    "vol_serial": ("serial", "シリアル"),
    "vol_encryption": ("encryption", "暗号化"),
    "vol_status": ("status", "状態"),
    "snapshots": ("Volume shadow snapshots", "ボリュームシャドウコピー"),
    "snapshots_text": ("{found} found, {processed} processed", "{found} 件検出、{processed} 件処理"),
    "counts": ("Events and files", "イベントとファイル"),
    "counts_text": ("{events} events from {files} files; {errors} errors, {warnings} warnings",
                    "{files} ファイルから {events} 件のイベント。エラー {errors} 件、警告 {warnings} 件"),
    "integrity": ("Integrity", "完全性"),
    "chain_head": ("Chain head", "チェーンヘッド"),
    "manifest_sha256": ("manifest.json SHA-256 when this report was built",
                        "本報告書作成時の manifest.json の SHA-256"),
    "verify_hint": ("Check the case with: triage verify CASE --manifest-sha256 <the SHA-256 you "
                    "recorded>",
                    "事件の検証：triage verify CASE --manifest-sha256 <記録した SHA-256>"),
    "outputs": ("Output files (SHA-256 from manifest.json)",
                "出力ファイル（manifest.json 記載の SHA-256）"),
    "file": ("file", "ファイル"),
    # system
    "host": ("Computer name", "コンピューター名"),
    "product": ("Windows", "Windows"),
    "build": ("Build", "ビルド"),
    "install_date": ("Installed", "インストール日時"),
    "system_zone": ("Time zone setting", "タイムゾーン設定"),
    "bias": ("{minutes} minutes bias", "バイアス {minutes} 分"),
    "user_profiles": ("User profiles", "ユーザープロファイル"),
    "sid": ("SID", "SID"),
    "profile": ("profile folder", "プロファイルフォルダー"),
    "no_system": ("No Windows system facts were found.", "Windows のシステム情報は見つかりませんでした。"),
    # findings
    "findings_summary": ("Findings by severity", "重大度別の検知件数"),
    "no_findings": ("No detection rule matched.", "該当した検知ルールはありません。"),
    "severity": ("severity", "重大度"),
    "sev_critical": ("critical", "重大"),
    "sev_high": ("high", "高"),
    "sev_medium": ("medium", "中"),
    "sev_low": ("low", "低"),
    "sev_informational": ("informational", "情報"),
    "rule": ("rule", "ルール"),
    "attack": ("ATT&CK", "ATT&CK"),
    "span": ("time span", "期間"),
    "explanation": ("why", "検知理由"),
    "proving_events": ("Proving events ({n})", "根拠となるイベント（{n} 件）"),
    "more_proving": ("{n} more proving events are in case.sqlite (table finding_events).",
                     "ほか {n} 件の根拠イベントは case.sqlite（finding_events テーブル）にあります。"),
    # usb
    "no_devices": ("No removable or portable device was found.",
                   "リムーバブル・ポータブルデバイスは見つかりませんでした。"),
    "dev_kind": ("kind", "種類"),
    "device": ("device", "デバイス"),
    "serial": ("serial number", "シリアル番号"),
    "capacity": ("capacity (bytes)", "容量（バイト）"),
    "first_connected": ("first connected", "初回接続"),
    "last_connected": ("last connected", "最終接続"),
    "last_removed": ("last removed", "最終取り外し"),
    "volumes_letters": ("drive letters / volumes", "ドライブ文字・ボリューム"),
    "files_opened": ("files opened from it", "開かれたファイル"),
    "lifecycle": ("Device lifecycle", "デバイスのライフサイクル"),
    "mark_install": ("first install", "初回インストール"),
    "mark_arrival": ("arrival / connection", "接続"),
    "mark_removal": ("removal / disconnection", "取り外し・切断"),
    "mark_other": ("other record", "その他の記録"),
    # execution
    "no_execution": ("No program execution record was found.",
                     "プログラム実行の記録は見つかりませんでした。"),
    "program": ("program", "プログラム"),
    "run_count": ("run count", "実行回数"),
    "last_run": ("last run", "最終実行"),
    "first_seen": ("first recorded", "初回記録"),
    "exec_note": ("From Prefetch, UserAssist, BAM/DAM, ShimCache and Amcache. ShimCache and "
                  "Amcache prove that a program was present, not that it ran; the run count is "
                  "the highest any source records.",
                  "Prefetch、UserAssist、BAM/DAM、ShimCache、Amcache から集計。ShimCache と Amcache "
                  "はプログラムが存在したことを示すもので、実行の証明ではありません。実行回数は各"
                  "情報源の最大値です。"),
    # browsing
    "no_browsing": ("No browser history was found.", "ブラウザーの履歴は見つかりませんでした。"),
    "categories": ("Visits by category", "カテゴリ別の訪問"),
    "category": ("category", "カテゴリ"),
    "cat_cloud_storage": ("cloud storage", "クラウドストレージ"),
    "cat_file_transfer": ("file transfer", "ファイル転送"),
    "cat_webmail": ("webmail", "Web メール"),
    "cat_search": ("search", "検索"),
    "cat_social": ("social", "SNS"),
    "cat_other": ("other", "その他"),
    "leak_domains": ("Places where files can leave (cloud storage, file transfer, webmail)",
                     "ファイルの持ち出し先になり得るサイト（クラウドストレージ、ファイル転送、Web メール）"),
    "top_domains": ("Most visited domains", "訪問の多いドメイン"),
    "domain": ("domain", "ドメイン"),
    "visits": ("visits", "訪問数"),
    "first_visit": ("first visit", "初回訪問"),
    "last_visit": ("last visit", "最終訪問"),
    "downloads": ("Downloads", "ダウンロード"),
    "url": ("URL", "URL"),
    "target": ("saved to", "保存先"),
    "state": ("state", "状態"),
    "bytes": ("bytes", "バイト数"),
    "browser": ("browser", "ブラウザー"),
    "searches": ("Search terms", "検索語"),
    "term": ("search term", "検索語"),
    # recent files and documents
    "recent_files": ("Recently used files (shortcuts and Jump Lists)",
                     "最近使ったファイル（ショートカットとジャンプリスト）"),
    "no_recent": ("No shortcut or Jump List entry was found.",
                  "ショートカットやジャンプリストの記録は見つかりませんでした。"),
    "last_time": ("latest time", "最新の時刻"),
    "application": ("application", "アプリケーション"),
    "volume_info": ("volume (type, label, serial)", "ボリューム（種類・ラベル・シリアル）"),
    "documents": ("Office and PDF documents", "Office・PDF 文書"),
    "no_documents": ("No Office or PDF document was found.", "Office・PDF 文書は見つかりませんでした。"),
    "file_name": ("file name", "ファイル名"),
    "doc_title": ("title", "タイトル"),
    "author": ("author", "作成者"),
    "last_saved_by": ("last saved by", "最終保存者"),
    "created": ("created", "作成日時"),
    "last_saved": ("last saved / modified", "最終保存・更新日時"),
    "format": ("format", "形式"),
    # deleted
    "no_deleted": ("No deleted file record was found.", "削除ファイルの記録は見つかりませんでした。"),
    "deleted_time": ("deleted", "削除日時"),
    "original_path": ("original path", "元のパス"),
    "recoverable": ("content still present ($R)", "内容の残存（$R）"),
    # activity
    "per_day": ("Events per day", "日ごとのイベント数"),
    "per_week": ("Events per week (the span is too long for one bar per day)",
                 "週ごとのイベント数（期間が長いため週単位）"),
    "per_month": ("Events per month (the span is too long for one bar per day)",
                  "月ごとのイベント数（期間が長いため月単位）"),
    "untimed": ("{n} events have no time and are not counted here.",
                "時刻のないイベント {n} 件はここに含まれません。"),
    "no_activity": ("No event has a time.", "時刻のあるイベントはありません。"),
    "peak": ("busiest: {when} ({n} events)", "最多：{when}（{n} 件）"),
    # timeline
    "filters": ("Filters", "絞り込み"),
    "from": ("from", "開始"),
    "to": ("to", "終了"),
    "time_hint": ("YYYY-MM-DD hh:mm:ss, in {zone}", "YYYY-MM-DD hh:mm:ss（{zone}）"),
    "all": ("all", "すべて"),
    "text": ("text", "文字列"),
    "reset": ("Reset", "リセット"),
    "rows_per_page": ("rows per page", "1 ページの件数"),
    "prev": ("◀ Previous", "◀ 前へ"),
    "next": ("Next ▶", "次へ ▶"),
    "showing": ("{a}–{b} of {n} matching events", "該当 {n} 件中 {a}–{b} 件"),
    "no_match": ("No embedded event matches the filters.", "条件に一致するイベントはありません。"),
    "cap_all": ("All {n} events of the case are embedded in this report.",
                "この報告書には事件の全 {n} 件のイベントを収録しています。"),
    "cap_some": ("Only {k} of the case's {n} events are embedded in this report (limit {cap}: the "
                 "first events in timeline order). The complete timeline is in timeline.csv and "
                 "timeline.jsonl; `triage export` writes any part of it.",
                 "この報告書には事件の {n} 件中 {k} 件のイベントのみ収録しています（上限 {cap} 件、"
                 "タイムラインの先頭から）。全件は timeline.csv と timeline.jsonl にあり、"
                 "`triage export` で任意の範囲を書き出せます。"),
    "details": ("details", "詳細"),
    "tags": ("rules", "ルール"),
    "event_hash": ("event hash", "イベントハッシュ"),
    "utc": ("UTC", "UTC"),
    "data": ("data", "データ"),
    "js_needed": ("The interactive timeline needs JavaScript enabled in the browser (it makes no "
                  "network request).",
                  "対話型タイムラインにはブラウザーの JavaScript が必要です（ネットワーク通信は"
                  "行いません）。"),
    "page": ("page {p} of {n}", "{p} / {n} ページ"),
    # errors
    "no_errors": ("No error or warning was recorded.", "エラーや警告は記録されていません。"),
    "err_severity": ("kind", "区分"),
    "err_stage": ("stage", "段階"),
}

LABELS: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in _TEXTS.items()} for i, lang in enumerate(LANGUAGES)}

# labels the page's script needs
JS_KEYS = ("showing", "no_match", "prev", "next", "all", "details", "tags", "event_hash", "utc",
           "data", "path", "page", "user", "artifact", "source")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def label(lang: str, key: str, **values: Any) -> str:
    text = LABELS.get(lang, LABELS["en"])[key]
    return text.format(**values) if values else text


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r} (one of: {', '.join(LANGUAGES)})")
    return lang
