"""URL domain + category: shipped list, wildcard and exact patterns, examiner lists, caching."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl  # noqa: E402
from fixtures.builders.browser_writer import build_chrome_history, webkit_from_iso  # noqa: E402

from triage.extractors import ExtractionContext  # noqa: E402
from triage.urlcat import (  # noqa: E402
    UrlListError,
    categorize,
    domain_of,
    lists_for,
    load_lists,
    shipped_list,
)


@pytest.fixture(scope="module")
def shipped():
    path = shipped_list()
    assert path is not None and Path(path) == ROOT / "artifacts" / "lists" / "url_categories.yaml"
    return load_lists([path])


@pytest.mark.parametrize("url, domain, category", [
    # Japanese file-transfer services
    ("https://46.gigafile.nu/0612-b2f0e3c6a1d7", "46.gigafile.nu", "file_transfer"),
    ("https://firestorage.jp/download/abc", "firestorage.jp", "file_transfer"),
    ("https://www.filesend.to/plans", "www.filesend.to", "file_transfer"),
    ("https://filesend.to/", "filesend.to", "file_transfer"),
    ("https://datadeliver.net/upload", "datadeliver.net", "file_transfer"),
    ("https://wetransfer.com/downloads/x", "wetransfer.com", "file_transfer"),
    # cloud storage
    ("https://www.dropbox.com/home", "www.dropbox.com", "cloud_storage"),
    ("https://drive.google.com/drive/my-drive", "drive.google.com", "cloud_storage"),
    ("https://onedrive.live.com/?id=root", "onedrive.live.com", "cloud_storage"),
    ("https://1drv.ms/u/s!abc", "1drv.ms", "cloud_storage"),
    ("https://contoso-my.sharepoint.com/personal/a", "contoso-my.sharepoint.com", "cloud_storage"),
    ("https://app.box.com/folder/0", "app.box.com", "cloud_storage"),
    ("https://mega.nz/file/x#k", "mega.nz", "cloud_storage"),
    # webmail
    ("https://mail.yahoo.co.jp/u/pc/f/message", "mail.yahoo.co.jp", "webmail"),
    ("https://mail.google.com/mail/u/0/#inbox", "mail.google.com", "webmail"),
    ("https://outlook.live.com/mail/0/", "outlook.live.com", "webmail"),
    # search: google.* (bare host and www.) but not every Google service
    ("https://www.google.com/search?q=x", "www.google.com", "search"),
    ("https://www.google.co.jp/search?q=%E3%81%82", "www.google.co.jp", "search"),
    ("http://www.google.ch/search?q=funny+cats", "www.google.ch", "search"),
    ("https://google.com/", "google.com", "search"),
    ("http://news.google.com/", "news.google.com", "other"),
    ("https://www.bing.com/search?q=x", "www.bing.com", "search"),
    ("https://search.yahoo.co.jp/search?p=x", "search.yahoo.co.jp", "search"),
    ("https://www.yahoo.co.jp/", "www.yahoo.co.jp", "other"),
    # social
    ("https://x.com/someone", "x.com", "social"),
    ("https://www.facebook.com/", "www.facebook.com", "social"),
    # host parsing: case, port, user info, trailing dot
    ("HTTPS://User:pw@WWW.DropBox.COM.:443/x", "www.dropbox.com", "cloud_storage"),
    # look-alikes are not matched by suffix
    ("https://notdropbox.com/", "notdropbox.com", "other"),
    ("https://dropbox.com.evil.example/", "dropbox.com.evil.example", "other"),
    # no host
    ("file:///C:/Users/a/x.txt", None, "other"),
    ("about:blank", None, "other"),
    ("place:sort=8&maxResults=10", None, "other"),
    (None, None, "other"),
    ("", None, "other"),
])
def test_shipped_categories(shipped, url, domain, category):
    assert categorize(url, shipped) == {"domain": domain, "category": category}


def test_bare_host_and_idn(shipped):
    assert categorize("gigafile.nu/abc", shipped) == {"domain": "gigafile.nu", "category": "file_transfer"}
    # an IDN host is compared in its xn-- form; domain keeps what the URL says
    lists = {"file_transfer": ["データ便.jp"]}
    result = categorize("https://www.データ便.jp/", lists)
    assert result == {"domain": "www.データ便.jp", "category": "file_transfer"}
    assert categorize("https://www.xn--5ckp3np52j.jp/", lists)["category"] == "file_transfer"


def test_plain_mapping_specificity_and_exact():
    lists = {
        "search": ["google.*", "=yandex.ru"],
        "webmail": ["mail.google.com"],
        "other": ["news.google.com"],
    }
    assert categorize("https://mail.google.com/", lists)["category"] == "webmail"
    assert categorize("https://www.google.com.au/", lists)["category"] == "search"
    assert categorize("https://maps.google.co.uk/", lists)["category"] == "search"
    assert categorize("https://news.google.com/", lists)["category"] == "other"
    assert categorize("https://yandex.ru/search", lists)["category"] == "search"
    assert categorize("https://mail.yandex.ru/", lists)["category"] == "other"
    # `*` stands for a TLD, not for any number of labels
    assert categorize("https://google.evil.example.org/", lists)["category"] == "other"


def test_examiner_list_extends_and_overrides(tmp_path):
    lab = tmp_path / "lab"
    (lab / "lists").mkdir(parents=True)
    (lab / "lists" / "url_categories.yaml").write_text(
        "file_transfer:\n  - transfer.example.co.jp\n"
        "exfil_watch:\n  - paste.example.net\n"
        "other:\n  - pastebin.com   # this lab does not flag it\n",
        encoding="utf-8")
    ctx = ExtractionContext(definition_dirs=[str(ROOT / "artifacts"), str(lab)])
    assert len(ctx.list_files("url_categories.yaml")) == 2
    lists = lists_for(ctx)
    assert categorize("https://up.transfer.example.co.jp/", lists)["category"] == "file_transfer"
    assert categorize("https://paste.example.net/x", lists)["category"] == "exfil_watch"
    assert categorize("https://pastebin.com/raw/x", lists)["category"] == "other"  # later list wins
    assert categorize("https://46.gigafile.nu/", lists)["category"] == "file_transfer"  # shipped kept
    assert lists_for(ctx) is lists  # compiled once per process for the same files
    assert ctx.errors == [] and ctx.warnings == []


def test_context_without_definition_dirs_uses_shipped_list():
    lists = lists_for(ExtractionContext())
    assert categorize("https://mega.nz/", lists)["category"] == "cloud_storage"


def test_broken_examiner_list_is_reported_and_skipped(tmp_path):
    lab = tmp_path / "lab"
    (lab / "lists").mkdir(parents=True)
    (lab / "lists" / "url_categories.yaml").write_text("webmail: mail.example.com\n", encoding="utf-8")
    ctx = ExtractionContext(definition_dirs=[str(ROOT / "artifacts"), str(lab)])
    lists = lists_for(ctx)
    assert len(ctx.errors) == 1
    assert "must be a list of domains" in ctx.errors[0] and "url_categories.yaml" in ctx.errors[0]
    assert categorize("https://mail.google.com/", lists)["category"] == "webmail"


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "expected a mapping"),
    ("search: [1]\n", "is not a string"),
    ("search: ['bad pattern']\n", "invalid pattern"),
    ("search: ['*.example.com']\n", "invalid pattern"),
    ("search: [a..b]\n", "invalid pattern"),
    ("search: [\n", "not valid YAML"),
])
def test_invalid_lists(tmp_path, text, message):
    path = tmp_path / "url_categories.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UrlListError, match=message):
        load_lists([str(path)])


def test_domain_of_edge_cases():
    assert domain_of("https://[::1]:8080/x") == "::1"
    assert domain_of("http://10.0.0.5/share") == "10.0.0.5"
    assert domain_of("javascript:alert(1)") is None
    assert domain_of("chrome://settings/") == "settings"


def test_cli_examiner_list_through_artifacts_option(cli, tmp_path):
    """`--artifacts DIR` with only lists/url_categories.yaml extends the categories of a run."""
    evidence = tmp_path / "evidence"
    profile = evidence / "Users" / "alice" / "AppData" / "Local" / "Google" / "Chrome" / \
        "User Data" / "Default"
    profile.mkdir(parents=True)
    when = webkit_from_iso("2025-01-02T03:04:05.060708Z")
    build_chrome_history(profile / "History", {
        "urls": [{"id": 1, "url": "https://share.rival-corp.example/upload", "title": "Upload",
                  "last_visit_time": when},
                 {"id": 2, "url": "https://46.gigafile.nu/", "title": "", "last_visit_time": when}],
        "visits": [{"id": 1, "url": 1, "visit_time": when}, {"id": 2, "url": 2, "visit_time": when}],
    })
    lab = tmp_path / "lab"
    (lab / "lists").mkdir(parents=True)
    (lab / "lists" / "url_categories.yaml").write_text(
        "competitor:\n  - rival-corp.example\n", encoding="utf-8")
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--artifacts", lab, "--json")
    assert result.exit_code == 0, result.output
    got = sorted((e["data"]["domain"], e["data"]["category"]) for e in read_jsonl(case)
                 if e["artifact"] == "ChromiumHistory")
    assert got == [("46.gigafile.nu", "file_transfer"),
                   ("share.rival-corp.example", "competitor")]
