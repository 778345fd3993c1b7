"""Evidence text shown to a person: on the terminal (rich) and in the HTML report.

Why: evidence is written by whoever controlled the seized machine. A file name, volume label or
USB friendly name may hold rich markup (`[link=...]`, or an unbalanced `[/]` that would stop the
program), or Unicode bidirectional controls: a right-to-left override makes
"invoice\u202efdp.exe" display as "invoiceexe.pdf". Such text is shown, never obeyed: markup is
escaped, and bidirectional controls are shown as visible marks (⟨U+202E⟩). The stored timeline
keeps the evidence's own text; only what is displayed is changed.
"""
from __future__ import annotations

from typing import Any

from rich.markup import escape

BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE = {code: f"⟨U+{code:04X}⟩" for code in BIDI_CONTROLS}


def shown(text: Any) -> str:
    """The text with bidirectional controls made visible (for any display)."""
    return str(text).translate(_VISIBLE)


def esc(value: Any) -> str:
    """Evidence text for a rich console string or table cell: visible controls, no markup."""
    return escape(shown("" if value is None else value))
