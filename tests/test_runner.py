"""The notebook runner: cache hits and invalidation, errors naming notebook and cell."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from freqbook import runlock, runner
from freqbook.runner import RunError, resolve, run_notebook


def _write_nb(path, body: str) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell('profile = "cpu"\nseed = 0', metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def demo(tmp_path, monkeypatch, isolated_outputs):
    books = tmp_path / "nbs"
    monkeypatch.setenv("FREQBOOK_NOTEBOOKS", str(books))
    counter = tmp_path / "count.txt"
    _write_nb(
        books / "demo" / "01-count.ipynb",
        f"import pathlib\np = pathlib.Path({str(counter)!r})\n"
        "p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n"
        "print(profile, seed)",
    )
    _write_nb(books / "demo" / "02-broken.ipynb", "x = 1\nraise ValueError('boom on purpose')")
    return books, counter


def _executions(counter) -> int:
    return int(counter.read_text()) if counter.exists() else 0


def test_cache_hit_and_invalidation(demo):
    books, counter = demo
    code = "fingerprint-A"
    assert run_notebook("demo/01-count", "smoke", code=code).status == "ran"
    assert run_notebook("demo/01-count", "smoke", code=code).status == "cached"
    assert _executions(counter) == 1
    # another parameter value, another profile, changed package code: each re-executes
    assert run_notebook("demo/01-count", "smoke", {"seed": 3}, code=code).status == "ran"
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code=code).status == "ran"
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code="fingerprint-B").status == "ran"
    assert _executions(counter) == 4
    # editing the notebook's source invalidates; outputs alone would not
    nb = nbformat.read(books / "demo" / "01-count.ipynb", as_version=4)
    nb.cells[1].source += "\nprint('edited')"
    nbformat.write(nb, books / "demo" / "01-count.ipynb")
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code="fingerprint-B").status == "ran"
    assert _executions(counter) == 5
    out, meta = runner.staged_paths("demo/01-count")
    info = json.loads(meta.read_text())
    assert info["profile"] == "cpu" and info["parameters"]["seed"] == 3
    assert info["wall_s"] > 0 and info["git_sha"]
    executed = nbformat.read(out, as_version=4)
    assert any("cpu 3" in o.get("text", "") for c in executed.cells for o in c.get("outputs", []))


def test_failing_cell_names_notebook_and_cell_and_keeps_last_good_copy(demo):
    books, _ = demo
    with pytest.raises(RunError) as err:
        run_notebook("demo/02-broken", "smoke", code="x")
    msg = str(err.value)
    assert "demo/02-broken" in msg and "cell" in msg and "ValueError" in msg
    assert "boom on purpose" in msg and "\n" not in msg
    out, meta = runner.staged_paths("demo/02-broken")
    assert not out.exists() and not meta.exists()  # nothing pretends to have succeeded
    assert out.with_name("02-broken.failed.ipynb").exists()
    assert not list(out.parent.glob("*.partial.ipynb"))


def test_unknown_names_and_parameters_are_one_line_errors(demo):
    with pytest.raises(RunError, match=r"unknown notebook 'nope'; valid: demo/01-count"):
        resolve(["nope"])
    assert resolve(["demo"]) == ["demo/01-count", "demo/02-broken"]
    assert resolve(["01-count.ipynb"]) == ["demo/01-count"]
    with pytest.raises(RunError, match=r"unknown parameter\(s\) lr; valid: profile, seed"):
        run_notebook("demo/01-count", "smoke", {"lr": 1.0}, code="x")


def test_unknown_profile_is_rejected(demo):
    from freqbook.profiles import ProfileError

    with pytest.raises(ProfileError, match="valid profiles: smoke, cpu, paper"):
        run_notebook("demo/01-count", "fast", code="x")


def test_cli_reports_errors_in_one_line(demo, capsys):
    from freqbook.cli import main

    assert main(["run", "--profile", "turbo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: unknown profile 'turbo'; valid profiles: smoke, cpu, paper"


def test_a_page_that_only_reads_records_reruns_when_they_change(demo, isolated_outputs):
    books, _ = demo
    _write_nb(books / "demo" / "99-summary.ipynb", "print('summary')")
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "ran"
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "cached"
    record = isolated_outputs / "results" / "smoke" / "demo" / "exp.nc"
    record.parent.mkdir(parents=True)
    record.write_bytes(b"new record")
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "ran"
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "cached"


def test_records_of_a_run_are_its_own_chapters_only(demo, isolated_outputs):
    """A record another chapter's run writes meanwhile is not attributed to this notebook."""
    books, _ = demo
    results = isolated_outputs / "results" / "smoke"
    _write_nb(
        books / "demo" / "03-writes.ipynb",
        "import pathlib\n"
        f"for rel in ('demo/mine.nc', 'other/theirs.nc'):\n"
        f"    p = pathlib.Path({str(results)!r}) / rel\n"
        "    p.parent.mkdir(parents=True, exist_ok=True)\n"
        "    p.write_bytes(b'record')",
    )
    assert run_notebook("demo/03-writes", "smoke", code="x").status == "ran"
    meta = json.loads(runner.staged_paths("demo/03-writes")[1].read_text())
    assert meta["records"] == ["smoke/demo/mine.nc"]


# --- the run lock ------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_lock(path, pid: int, proc_start: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "pid": pid, "proc_start": proc_start if proc_start else runlock.process_start(pid),
        "host": socket.gethostname(), "started": "2026-12-05T09:00:00+00:00",
        "command": "freqbook run --profile cpu",
    }))


def test_a_second_run_is_refused_with_one_line_naming_the_first(demo):
    books, counter = demo
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_lock(runner.lock_path(), holder.pid)
        with pytest.raises(RunError) as err:
            runner.run_notebooks(["demo/01-count"], "smoke", display="lines", log=lambda s: None)
    finally:
        holder.kill()
        holder.wait()
    msg = str(err.value)
    assert "\n" not in msg and f"pid {holder.pid}" in msg
    assert "started 2026-12-05 09:00:00 UTC" in msg and "freqbook run --profile cpu" in msg
    assert _executions(counter) == 0  # nothing ran, and the holder's lock is left alone
    assert json.loads(runner.lock_path().read_text())["pid"] == holder.pid


def test_lock_is_held_during_a_run_and_released_after(demo, tmp_path):
    path = tmp_path / "lock"
    with runlock.locked(path) as info:
        assert info["pid"] == os.getpid() and path.exists()
        with pytest.raises(runlock.LockHeld, match=f"pid {os.getpid()}, started"):
            runlock.acquire(path)
    assert not path.exists()
    with pytest.raises(RunError):  # a failing notebook still releases the lock
        runner.run_notebooks(["demo/02-broken"], "smoke", display="lines", log=lambda s: None)
    assert not runner.lock_path().exists()


def test_a_crashed_runs_stale_lock_does_not_block(demo):
    books, counter = demo
    _write_lock(runner.lock_path(), _dead_pid())
    runs = runner.run_notebooks(["demo/01-count"], "smoke", display="lines", log=lambda s: None)
    assert [r.status for r in runs] == ["ran"] and _executions(counter) == 1
    assert not runner.lock_path().exists()
    # a live pid that now belongs to a process started at another time (pid reuse) is stale too
    if runlock.process_start(os.getpid()) is not None:
        assert not runlock.holder_alive({"pid": os.getpid(), "proc_start": "1",
                                         "host": socket.gethostname()})
    assert runlock.holder_alive({"pid": os.getpid(), "host": socket.gethostname(),
                                 "proc_start": runlock.process_start(os.getpid())})


# --- ETA, progress and Ctrl-C ------------------------------------------------------------------


def test_eta_sums_the_recorded_wall_times_left():
    from freqbook.runprogress import Eta, format_eta, remaining

    expected = [10.0, None, 0.0, 30.0]
    assert remaining(expected, 0) == Eta(40.0, 1)
    assert remaining(expected, 0, elapsed=4.0) == Eta(36.0, 1)
    assert remaining(expected, 0, elapsed=25.0) == Eta(30.0, 1)  # past its record: counts 0
    assert remaining(expected, 2) == Eta(30.0, 0)
    assert remaining(expected, 4) == Eta(0.0, 0)
    with pytest.raises(ValueError, match="done=5"):
        remaining(expected, 5)
    assert format_eta(Eta(30.0, 0)) == "ETA 30 s"
    assert format_eta(Eta(725.0, 2)) == "ETA 12 min + 2 never timed"
    assert format_eta(Eta(3 * 3600 + 300.0)) == "ETA 3 h 05 min"
    assert format_eta(Eta(0.0, 3)) == "ETA unknown (3 never timed at this profile)"


def test_expected_times_come_from_the_last_run_at_the_same_profile(demo):
    books, _ = demo
    keys = ["demo/01-count"]
    assert runner.expected_times(keys, "smoke") == [None]  # never ran
    wall = runner.run_notebook("demo/01-count", "smoke").wall_s
    assert runner.expected_times(keys, "smoke") == [0.0]  # cached: costs nothing
    assert runner.expected_times(keys, "smoke", force=True) == [pytest.approx(wall, abs=0.01)]
    assert runner.expected_times(keys, "cpu") == [None]  # never timed at this profile
    assert runner.expected_times(keys, "smoke", {"seed": 4}) == [pytest.approx(wall, abs=0.01)]


def test_training_bars_go_to_the_progress_file_not_the_notebook(tmp_path, monkeypatch, capsys):
    import torch

    from freqbook.runprogress import latest_bar_line
    from freqbook.train import fit

    sink = tmp_path / "bars.txt"
    monkeypatch.setenv("FREQBOOK_PROGRESS_FILE", str(sink))
    monkeypatch.setenv("FREQBOOK_PROGRESS", "0")  # the runner's setting for notebooks
    w = torch.zeros(2, requires_grad=True)
    fit([w], lambda: (((w - 1) ** 2).sum(), {}), steps=5, lr=0.1, desc="tiny fit")
    assert "tiny fit" in sink.read_text()
    assert "tiny fit" not in capsys.readouterr().err
    assert latest_bar_line("\rfit:  10%|#| 1/10\rfit:  20%|##| 2/10") == "fit:  20%|##| 2/10"
    assert latest_bar_line("\rfit:  20%|##| 2/10\r          \r") is None
    assert latest_bar_line("") is None


def test_ctrl_c_says_how_many_finished_and_that_rerunning_resumes(demo, monkeypatch, capsys):
    books, counter = demo
    _write_nb(books / "demo" / "03-more.ipynb", "print('more')")
    real = runner.run_notebook

    def interrupted_on_the_second(key, *args, **kw):
        if key == "demo/03-more":
            raise KeyboardInterrupt
        return real(key, *args, **kw)

    monkeypatch.setattr(runner, "run_notebook", interrupted_on_the_second)
    with pytest.raises(runner.RunInterrupted) as err:
        runner.run_notebooks(["demo/01-count", "demo/03-more"], "smoke", display="lines",
                             log=lambda s: None)
    assert err.value.finished == 1 and err.value.total == 2
    msg = str(err.value)
    assert "\n" not in msg and "1 of 2" in msg and "during demo/03-more" in msg
    assert "rerun the same command to resume" in msg
    assert not runner.lock_path().exists()

    from freqbook.cli import main

    assert main(["run", "--profile", "smoke", "--display", "lines", "demo/01-count",
                 "demo/03-more"]) == 130
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("interrupted during demo/03-more")
    assert _executions(counter) == 1  # the finished notebook was cached, not rerun


def test_the_kernel_transport_warning_stays_off_the_terminal(demo, capfd):
    run_notebook("demo/01-count", "smoke", code="quiet")
    captured = capfd.readouterr()
    assert "Kernel is running over TCP" not in captured.err + captured.out
    out, _ = runner.staged_paths("demo/01-count")
    assert out.with_name("01-count" + runner.KERNEL_LOG_SUFFIX).exists()
