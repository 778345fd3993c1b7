"""Standard Sigma rules evaluated on event-log events (field mapping, modifiers, logsource)."""
from __future__ import annotations

import json
import textwrap

from conftest import read_jsonl
from test_evtx import partition_log, security_log, system_log

RDP_LOGON = """\
title: Remote interactive logon
id: 0b3a9f41-0000-4000-8000-000000000001
status: experimental
logsource: {product: windows, service: security}
detection:
  selection:
    EventID: 4624
    LogonType: 10
    IpAddress|startswith: '192.0.2.'
  filter:
    TargetUserName|endswith: '$'
  condition: selection and not filter
level: medium
tags: [attack.lateral_movement, attack.t1021.001]
"""
WRONG_CHANNEL = """\
title: A 4624 in the System log (never)
id: 0b3a9f41-0000-4000-8000-000000000002
logsource: {product: windows, service: system}
detection:
  selection: {EventID: 4624}
  condition: selection
level: high
"""
KEYWORD = """\
title: Keyword anywhere
id: 0b3a9f41-0000-4000-8000-000000000003
logsource: {product: windows}
detection:
  keywords: ['*alice*']
  condition: keywords
level: low
"""


def _evidence(tmp_path):
    logs = tmp_path / "evidence" / "Windows" / "System32" / "winevt" / "Logs"
    logs.mkdir(parents=True)
    (logs / "Security.evtx").write_bytes(security_log())
    (logs / "System.evtx").write_bytes(system_log())
    (logs / "Microsoft-Windows-Partition%4Diagnostic.evtx").write_bytes(partition_log())
    return tmp_path / "evidence"


def test_sigma_rules_fire_on_mapped_fields_and_respect_logsource(cli, tmp_path):
    sigma = tmp_path / "sigma"
    sigma.mkdir()
    (sigma / "rdp.yml").write_text(RDP_LOGON)
    (sigma / "wrong.yml").write_text(WRONG_CHANNEL)
    (sigma / "sub").mkdir()
    (sigma / "sub" / "kw.yaml").write_text(KEYWORD)
    listed = json.loads(cli("rules", "list", "--sigma", sigma, "--json").output)
    rdp = next(r for r in listed if r["title"] == "Remote interactive logon")
    assert (rdp["severity"], rdp["attack"]) == ("medium", "T1021.001")
    case = tmp_path / "case"
    result = cli("run", _evidence(tmp_path), "-o", case, "--sigma", sigma, "--no-builtin-rules", "--json")
    summary = json.loads(result.output)
    titles = sorted(line.split("] ", 1)[1].split(": ")[0] for line in summary["finding_list"])
    assert titles == ["SIGMA-0b3a9f41-0000-4000-8000-000000000001 Remote interactive logon",
                      "SIGMA-0b3a9f41-0000-4000-8000-000000000003 Keyword anywhere"]
    logon = next(e for e in read_jsonl(case) if e["timestamp_desc"] == "Logon")
    assert "SIGMA-0b3a9f41-0000-4000-8000-000000000001" in logon["tags"]


def test_invalid_sigma_rule_is_a_usage_error(cli, tmp_path):
    sigma = tmp_path / "sigma"
    sigma.mkdir()
    (sigma / "bad.yml").write_text(textwrap.dedent("""\
        title: no detection
        logsource: {product: windows}
        level: low
        """))
    result = cli("rules", "list", "--sigma", sigma)
    assert result.exit_code == 2
    assert "bad.yml: Sigma rule not usable" in result.output
