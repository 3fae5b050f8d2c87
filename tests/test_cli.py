"""qa.cli: the `qa` command, run as a user runs it (a separate process, the real model)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = ("torch", "sentence_transformers", "transformers", "faiss", "gradio", "matplotlib")

NOTES = {
    "kitchen.txt": (
        "Kitchen Rules\n\n"
        "The secret ingredient of the house soup is smoked paprika. Nobody else knows it.\n\n"
        "The oven runs hot, so bread is baked at 200 degrees. Pans go on the lower shelf.\n"
    ),
    "garden/plants.md": "# Garden\n\nThe tomatoes were planted along the south wall in April.\n",
}
QUESTION = "What is the secret ingredient of the soup?"
CITATION = re.compile(r"^\[(\d+)\] (\S+)(?: › (.+?))?  \(chars (\d+)-(\d+), score (-?\d+\.\d\d)\)$")


def _qa(*args: str, cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory, subprocess_env):
    """`qa build`, then `qa ask` and `qa ask --json` side by side, on a tiny corpus."""
    root = tmp_path_factory.mktemp("cli")
    for name, text in NOTES.items():
        path = root / "seeds" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    build = _qa("build", cwd=root, env=subprocess_env)
    ask_cmd = [sys.executable, "-m", "qa.cli", "ask", QUESTION, "-k", "2"]
    procs = {
        "text": subprocess.Popen(
            ask_cmd, cwd=root, env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ),
        "json": subprocess.Popen(
            [*ask_cmd, "--json"],
            cwd=root,
            env=subprocess_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return root, build, results["text"], results["json"]


def test_help_exits_quickly_without_heavy_imports(repo_root, subprocess_env, tmp_path):
    t0 = time.perf_counter()
    proc = _qa("--help", cwd=tmp_path, env=subprocess_env, timeout=60)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "usage: qa" in proc.stdout
    for command in ("build", "ask", "eval", "serve"):
        assert command in proc.stdout
    assert elapsed < 5, f"--help took {elapsed:.1f}s"


def test_importing_the_cli_does_not_import_torch(subprocess_env, tmp_path):
    code = f"import qa.cli, sys; qa.cli.parser(); print([m for m in {HEAVY!r} if m in sys.modules])"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["build", "ask", "eval", "serve"])
def test_subcommand_help(command, subprocess_env, tmp_path):
    proc = _qa(command, "--help", cwd=tmp_path, env=subprocess_env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"usage: qa {command}" in proc.stdout and "--seeds-dir" in proc.stdout


def test_build_reports_what_it_indexed(runs):
    root, build, _, _ = runs
    assert build.returncode == 0, build.stderr
    assert re.search(r"^indexed 2 documents into \d+ chunks \(\d+ embedded, 0 reused\)", build.stdout, re.M)
    assert (root / "index" / "CURRENT").is_file()


def test_build_again_is_up_to_date(runs, subprocess_env):
    root, _, _, _ = runs
    proc = _qa("build", cwd=root, env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("index is up to date: 2 documents")


def test_ask_prints_cited_quotes_with_a_marked_highlight(runs):
    root, _, ask, _ = runs
    assert ask.returncode == 0, ask.stderr
    lines = ask.stdout.splitlines()
    assert lines[0] == "Answer, quoted from your documents:"
    assert "\033[" not in ask.stdout  # not a terminal: no escape codes
    citations = [(i, CITATION.match(line)) for i, line in enumerate(lines) if line.startswith("[")]
    assert [m is not None for _, m in citations] == [True, True], lines
    i, m = citations[0]
    number, source, heading, start, end, _score = m.groups()
    assert (number, source, heading) == ("1", "kitchen.txt", "Kitchen Rules")
    # The quote is printed indented under its citation, the highlight between ** **.
    body_lines = []
    for line in lines[i + 1 :]:
        if not line.startswith("    "):
            break
        body_lines.append(line[4:])
    body = "\n".join(body_lines)
    assert body.count("**") == 2
    marked = re.search(r"\*\*(.+?)\*\*", body, re.S).group(1)
    assert "smoked paprika" in marked
    doc = (root / "seeds" / "kitchen.txt").read_text(encoding="utf-8")
    assert body.replace("**", "") == doc[int(start) : int(end)]
    assert marked.endswith(".") and marked[0].isupper()


def test_ask_json_is_the_answer(runs):
    root, _, _, ask = runs
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert data["question"] == QUESTION
    assert data["found"] is True
    assert len(data["passages"]) == 2
    for p in data["passages"]:
        doc = (root / "seeds" / p["source"]).read_text(encoding="utf-8")
        assert doc[p["start"] : p["end"]] == p["text"]
        h0, h1 = p["highlight"]
        assert 0 <= h0 < h1 <= len(p["text"])
        assert isinstance(p["score"], float)
    best = data["passages"][0]
    assert best["source"] == "kitchen.txt"
    assert "smoked paprika" in best["text"][best["highlight"][0] : best["highlight"][1]]


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--seeds-dir", "no-such-folder"],
        ["ask", "What is in the soup?", "--seeds-dir", "no-such-folder"],
    ],
)
def test_a_missing_seeds_dir_exits_2_with_an_error_line(args, subprocess_env, tmp_path):
    proc = _qa(*args, "--index-dir", str(tmp_path / "index"), cwd=tmp_path, env=subprocess_env, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "no-such-folder" in errors[0], proc.stderr
    assert proc.stdout == ""


def test_a_blank_question_exits_2_with_an_error_line(runs, subprocess_env):
    root, _, _, _ = runs
    proc = _qa("ask", "   ", cwd=root, env=subprocess_env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "empty" in proc.stderr
