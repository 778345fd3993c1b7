"""`triage batch --scheduler`: the same per-image tasks on a real Dask cluster (two worker
processes on 127.0.0.1) give the same cases as a local `--jobs` run. Skipped without Dask
(the optional `cluster` extra)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from triage.batch.lab import read_findings, read_index  # noqa: E402
from triage.batch.runner import BatchListener, BatchOptions, run_batch  # noqa: E402
from triage.cli_batch import batch_command  # noqa: E402
from triage.verify import verify_case  # noqa: E402

IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "images"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=40) as local:
        yield local


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dask")
    broken = folder / "broken.E01"
    broken.write_bytes((IMAGES / "win.E01").read_bytes()[:4096])
    path = folder / "batch.yaml"
    path.write_text("images:\n"
                    f"  - {{path: {IMAGES / 'win.E01'}, case_id: EV-1, custodian: Tanaka}}\n"
                    f"  - {{path: {IMAGES / 'win.vmdk'}, case_id: EV-2}}\n"
                    f"  - {{path: {IMAGES / 'usb-fat32.raw'}, case_id: EV-3}}\n"
                    f"  - {{path: {broken}, case_id: EV-4}}\n", encoding="utf-8")
    return path


def _cases(lab: Path) -> dict[str, dict]:
    out = {}
    for row in read_index(str(lab)):
        entry = {"status": row["status"], "events": row["events"], "chain_head": row["chain_head"]}
        case = lab / row["case_folder"]
        if (case / "timeline.jsonl").exists():
            entry["timeline"] = hashlib.sha256((case / "timeline.jsonl").read_bytes()).hexdigest()
            entry["verifies"] = verify_case(str(case)).ok
        out[row["case_id"]] = entry
    return out


@pytest.fixture(scope="module")
def labs(cluster, manifest, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("labs")
    local_lab, dask_lab = root / "local", root / "dask"
    local = run_batch(BatchOptions(source=str(manifest), lab_dir=str(local_lab), jobs=2))
    result = CliRunner().invoke(batch_command, [str(manifest), "-o", str(dask_lab), "--json",
                                                "--scheduler", cluster.scheduler_address])
    return {"local": local, "local_lab": local_lab, "dask_lab": dask_lab, "cli": result}


def test_dask_cluster_run_equals_local_run(labs):
    local_lab, dask_lab, result = labs["local_lab"], labs["dask_lab"], labs["cli"]
    assert result.exit_code == 1, result.output  # EV-4 is unreadable, as locally
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == labs["local"].exit_code == 1

    local_cases, dask_cases = _cases(local_lab), _cases(dask_lab)
    assert dask_cases == local_cases
    assert dask_cases["EV-1"]["status"] == "ok" and dask_cases["EV-1"]["verifies"]
    assert dask_cases["EV-4"]["status"] == "evidence unreadable"
    # the work really ran in the cluster's worker processes, not in local ones
    workers = {r["worker"] for r in read_index(str(dask_lab)) if r["worker"]}
    assert workers
    assert {r["worker"] for r in read_index(str(local_lab))}.isdisjoint(workers)

    def findings(lab):
        return [(f["kind"], f["value"], f["images"]) for f in read_findings(str(lab))]

    assert findings(dask_lab) == findings(local_lab)
    assert ("usb_serial", "0022CFF6B8A7C2B1", ["EV-1", "EV-2"]) in findings(dask_lab)


def test_dask_resume_skips_verified_cases(cluster, labs, manifest, tmp_path):
    lab = tmp_path / "lab"
    shutil.copytree(labs["dask_lab"], lab)
    first = read_index(str(lab))
    heard: dict[str, list[str]] = {}

    class Listener(BatchListener):  # progress travels back as Dask events
        def started(self, row, message):
            heard.setdefault(row["case_id"], []).append(message["worker"])

    again = run_batch(BatchOptions(source=str(manifest), lab_dir=str(lab), resume=True,
                                   scheduler=cluster.scheduler_address), Listener())
    assert list(heard) == ["EV-4"]
    assert [r["resumed"] for r in again.rows] == [True, True, True, False]
    assert [r["chain_head"] for r in again.rows] == [r["chain_head"] for r in first]
    assert again.rows[3]["status"] == "evidence unreadable"  # tried again on the cluster


def test_unreachable_scheduler_is_a_usage_error():
    from triage.batch.dask_runner import connect
    from triage.engine import UsageError

    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        connect("tcp://127.0.0.1:9", timeout=1)
