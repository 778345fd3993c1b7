"""Batch triage scaling: the same list of images with --jobs 1, --jobs 2 (...) and on a Dask
LocalCluster; wall time, peak memory per worker, scaling ratio.

    .venv/bin/python bench/batch_bench.py                      # fixture images x 2 copies
    .venv/bin/python bench/batch_bench.py --copies 4 --jobs 1,2,4 --dask-workers 2
    .venv/bin/python bench/batch_bench.py --image bench/work/bench-100k.E01 --copies 4

Each configuration runs in a fresh Python process (its own worker pool or cluster), into a
fresh lab folder under bench/work/batch/. Wall time is `run_batch` from call to return: pool
or client start, every image, the lab index and the cross-image correlation (a Dask cluster's
own start is reported apart, as `cluster_start_s`). Peak memory is each worker process's
ru_maxrss as the worker reports it after its last image. Every configuration must give the
same chain head for every case (checked: `identical_chain_heads`).

Results: bench/results/batch-<date>[-<tag>].json, and a table on stdout (Markdown with
--markdown).
Needs Dask (the `cluster` extra) only for the Dask configuration (`--dask-workers 0` skips it).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "images"
DEFAULT_IMAGES = ["win.E01", "win.vmdk", "win.qcow2", "win.vhd", "win.vhdx", "win-mbr.raw",
                  "win-gpt.raw", "win-split.E01", "win-split.raw.001", "usb-fat32.raw"]


def _write_manifest(path: Path, images: list[str], copies: int) -> int:
    lines = ["path,case_id"]
    for copy in range(1, copies + 1):
        for image in images:
            name = Path(image).name.replace(".", "-")
            lines.append(f"{image},{name}-c{copy}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _one(config: dict) -> dict:
    """Runs in its own process: one configuration, one lab."""
    sys.path.insert(0, str(ROOT))
    import resource

    from triage.batch.runner import BatchOptions, run_batch

    lab = Path(config["lab"])
    if lab.exists():
        shutil.rmtree(lab)
    cluster = None
    out: dict = {"config": config["name"]}
    scheduler = None
    if config.get("dask_workers"):
        from distributed import LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=config["dask_workers"], processes=True,
                               threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                               silence_logs=40)
        out["cluster_start_s"] = round(time.perf_counter() - start, 3)
        scheduler = cluster.scheduler_address
    try:
        start = time.perf_counter()
        result = run_batch(BatchOptions(source=config["manifest"], lab_dir=str(lab),
                                        jobs=config.get("jobs") or 1, scheduler=scheduler,
                                        command_line=["batch_bench.py"]))
        out["wall_s"] = round(time.perf_counter() - start, 3)
    finally:
        if cluster is not None:
            cluster.close()
    rows = result.rows
    workers: dict[str, int] = {}
    for row in rows:
        if row.get("worker") and row.get("peak_rss_kib"):
            workers[row["worker"]] = max(workers.get(row["worker"], 0), row["peak_rss_kib"])
    out.update({
        "images": len(rows),
        "statuses": {s: sum(1 for r in rows if r["status"] == s) for s in {r["status"] for r in rows}},
        "sum_image_s": round(sum(r.get("duration_s") or 0 for r in rows), 3),
        "sum_image_cpu_s": round(sum(r.get("cpu_s") or 0 for r in rows), 3),
        "events": sum(r.get("events") or 0 for r in rows),
        "workers": len(workers),
        "worker_peak_rss_mib": {w: round(k / 1024, 1) for w, k in sorted(workers.items())},
        "max_worker_peak_rss_mib": round(max(workers.values(), default=0) / 1024, 1),
        "client_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "lab_findings": len(result.findings),
        "chain_heads": {r["case_id"]: r.get("chain_head") for r in rows},
    })
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", action="append", default=[],
                        help="image to include (repeatable); default: ten fixture images")
    parser.add_argument("--copies", type=int, default=2, help="times each image is listed")
    parser.add_argument("--jobs", default="1,2", help="local --jobs values, comma-separated")
    parser.add_argument("--dask-workers", type=int, default=2,
                        help="LocalCluster worker processes (0: no Dask run)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration (median)")
    parser.add_argument("--work", default=str(ROOT / "bench" / "work" / "batch"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--tag", help="suffix of the results file: batch-<date>-<tag>.json")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(json.loads(args.one))))
        return 0

    images = [str(Path(i).resolve()) for i in args.image] or [str(FIXTURES / n) for n in DEFAULT_IMAGES]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    manifest = work / "bench-batch.csv"
    tasks = _write_manifest(manifest, images, args.copies)
    configs = [{"name": f"local --jobs {j}", "jobs": int(j)} for j in args.jobs.split(",") if j]
    if args.dask_workers:
        configs.append({"name": f"dask LocalCluster {args.dask_workers}w",
                        "dask_workers": args.dask_workers})
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {c["name"]: [] for c in configs}
    for repeat in range(args.repeat):
        for config in configs:
            config = dict(config, manifest=str(manifest),
                          lab=str(work / ("lab-" + config["name"].replace(" ", "_").replace("-", ""))))
            proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)],
                                  capture_output=True, text=True, cwd=str(ROOT))
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs[config["name"]].append(result)
            print(f"[bench] {config['name']} run {repeat + 1}: {result['wall_s']:.2f} s",
                  file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    results = []
    for name, items in runs.items():
        items.sort(key=lambda r: r["wall_s"])
        median = dict(items[len(items) // 2])
        median["wall_s_all"] = [r["wall_s"] for r in items]
        results.append(median)
    base = next((r["wall_s"] for r in results if r["config"] == "local --jobs 1"), None)
    heads = [r.pop("chain_heads") for r in results]
    for r in results:
        r["scaling_vs_jobs1"] = round(base / r["wall_s"], 2) if base else None
        r["images_per_min"] = round(60 * r["images"] / r["wall_s"], 1)
    report = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform(), "load_avg_before": load_before,
                 "load_avg_after": load_after},
        "images": [os.path.relpath(i, ROOT) if i.startswith(str(ROOT)) else i for i in images],
        "copies": args.copies, "tasks": tasks, "repeat": args.repeat,
        "identical_chain_heads": all(h == heads[0] for h in heads),
        "results": results,
    }
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"-{args.tag}" if args.tag else ""
    out_file = out_dir / f"batch-{_dt.date.today().isoformat()}{tag}.json"
    out_file.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    header = ("configuration", "workers", "wall s", "images/min", "scaling", "sum of image s",
              "sum of image CPU s", "peak RSS/worker MiB (max)", "client MiB")
    rows = [(r["config"], str(r["workers"]), f"{r['wall_s']:.2f}", f"{r['images_per_min']:.1f}",
             f"{r['scaling_vs_jobs1']:.2f}x" if r["scaling_vs_jobs1"] else "",
             f"{r['sum_image_s']:.2f}", f"{r['sum_image_cpu_s']:.2f}",
             f"{r['max_worker_peak_rss_mib']:.0f}",
             f"{r['client_peak_rss_mib']:.0f}") for r in results]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(f"{tasks} images ({len(images)} distinct x {args.copies}); identical chain heads: "
          f"{report['identical_chain_heads']}; {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; results: {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
