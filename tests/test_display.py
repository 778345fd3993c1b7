"""Evidence text on the terminal: rich markup in it is shown, not obeyed, and bidirectional
controls are made visible."""
from __future__ import annotations

import textwrap

from conftest import make_recycle_tree
from fixtures.builders.recycle_writer import build_i_file

from triage.display import esc, shown

HOSTILE = "[/][link=file:///etc/passwd]x[/link][bold red]"


def test_esc_and_shown():
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(f"[red]error[/] {esc(HOSTILE)} {esc('a' + chr(0x202E) + 'b')}")
    text = console.export_text()
    assert HOSTILE in text and "a⟨U+202E⟩b" in text
    assert shown("x\u2066y\u200fz") == "x⟨U+2066⟩y⟨U+200F⟩z" and shown(None) == "None"


def test_hostile_names_do_not_break_the_summary(cli, tmp_path):
    root = make_recycle_tree(tmp_path / "ev")
    bin_folder = next((root / "$Recycle.Bin").iterdir())
    # a damaged $I file whose name holds markup and an override: its error line is printed
    name = "[bold red][link=https:evil]x[blink]"  # a file name cannot hold "/"
    (bin_folder / f"$I{name}\u202ecod.exe").write_bytes(b"\x02\x00garbage")
    (bin_folder / "$IOK.txt").write_bytes(build_i_file(f"C:\\{HOSTILE}.txt", 3, 134168869231234567))
    result = cli("run", root, "-o", tmp_path / "case")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert f"{name}⟨U+202E⟩cod.exe" in result.output
    assert "\u202e" not in result.output
