"""The investigation report (`triage report CASE`): one self-contained HTML file per case.

    from triage.report import build_report
    path = build_report("case1", lang="ja", tz="Asia/Tokyo")   # -> case1/report.html

See triage/report/build.py for what it holds and how evidence text is escaped, and
triage/report/i18n.py for the English and Japanese labels.
"""
from __future__ import annotations

from triage.report.build import DEFAULT_NAME, build_report, render_report
from triage.report.i18n import LANGUAGES

__all__ = ["DEFAULT_NAME", "LANGUAGES", "build_report", "render_report"]
