"""Every exercise's parameter change is executed at profile ``smoke``."""

from __future__ import annotations

import pytest

from freqbook.exercises import exercises_of
from freqbook.runner import check_parameters, discover, notebooks_dir, run_notebook

CASES = [
    (key, ex)
    for key in discover()
    for ex in exercises_of(notebooks_dir() / f"{key}.ipynb", key)
]


def test_experiment_pages_have_exercises() -> None:
    keys = {key for key, _ in CASES}
    pages = [k for k in discover() if not k.split("/")[-1].startswith("99-")]
    missing = [k for k in pages if k not in keys]
    assert len(missing) <= len(pages) // 2, f"pages without exercises: {missing}"


@pytest.mark.parametrize(("key", "exercise"), CASES, ids=[f"{k}#{e.number}" for k, e in CASES])
def test_exercise_parameters_are_the_pages_own(key, exercise) -> None:
    check_parameters(notebooks_dir() / f"{key}.ipynb", {"profile": "smoke", **exercise.params})


@pytest.mark.notebook
@pytest.mark.parametrize(("key", "exercise"), CASES, ids=[f"{k}#{e.number}" for k, e in CASES])
def test_exercise_runs_at_smoke(key, exercise, isolated_outputs) -> None:
    run = run_notebook(key, "smoke", exercise.params, force=True)
    assert run.status == "ran"
