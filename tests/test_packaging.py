"""The package works installed from a wheel, run from another folder: the model ships inside it."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import running_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The project's wheel, built and installed (without dependencies) into a folder of its own."""
    base = tmp_path_factory.mktemp("wheel")
    # From a copy without build/: setuptools reuses a stale build/lib, which once put a deleted file in the wheel.
    source = shutil.copytree(ROOT, base / "source", ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(base / "dist"),
                    str(source)], check=True, capture_output=True)
    wheel = next((base / "dist").glob("overclaim-*.whl"))
    site = base / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    return site


def run_installed(site, args, cwd, stdin=None):
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    return subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_wheel_carries_the_model_and_scores_from_another_folder(installed, tmp_path):
    code = ("import overclaim, json; r = overclaim.load().score('Elderberry cures the flu.');"
            "print(json.dumps([overclaim.__file__, r.decision, r.model['sha256']]))")
    done = run_installed(installed, [sys.executable, "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, decision, sha = json.loads(done.stdout)
    assert where.startswith(str(installed))
    assert decision in ("review", "block")
    assert sha == json.loads((ROOT / "model" / "meta.json").read_text())["sha256"]


def test_wheel_carries_the_policies(installed, tmp_path):
    code = ("import overclaim, json; from overclaim.policy import shipped_policies;"
            "r = overclaim.load(policy='us-dshea').score('May help prevent colds.');"
            "print(json.dumps([list(shipped_policies()), r.rule]))")
    done = run_installed(installed, [sys.executable, "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["default", "editorial", "strict-eu", "us-dshea"], "us-dshea/disease-claim"]



def test_wheel_carries_the_license_the_type_marker_and_one_version(installed, tmp_path):
    """Regression: no LICENSE file and no py.typed; the version was written in three places."""
    [info] = installed.glob("overclaim-*.dist-info")
    assert (installed / "overclaim" / "py.typed").is_file()
    assert "MIT License" in next(info.rglob("LICENSE")).read_text()
    code = "import overclaim; print(overclaim.__version__)"
    done = run_installed(installed, [sys.executable, "-c", code], cwd=tmp_path)
    assert done.returncode == 0 and info.name == f"overclaim-{done.stdout.strip()}.dist-info"

def test_installed_console_script_scores_stdin(installed, tmp_path):
    done = run_installed(installed, [sys.executable, str(installed / "bin" / "overclaim"), "score", "--json"],
                         cwd=tmp_path, stdin="Take one capsule daily with water.")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"] == "allow"


def test_installed_package_serves_http_from_another_folder(installed, tmp_path):
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    command = [sys.executable, str(installed / "bin" / "overclaim"), "serve"]
    with running_server(command, tmp_path, env=env, cwd=tmp_path) as live:
        status, _, body = live.post("/v1/score", {"text": "Elderberry cures the flu."})
        assert status == 200 and body["decision"] in ("review", "block")
        assert live.request("GET", "/docs")[0] == 200
        status, _, page = live.request("GET", "/")
        assert status == 200 and "Text to score" in page
        assert all(live.request("GET", f"/static/{name}")[0] == 200 for name in ("app.js", "style.css"))


def test_installed_package_checks_files(installed, tmp_path):
    (tmp_path / "page.md").write_text("# Zinc\n\nZinc cures colds overnight, guaranteed.\n", encoding="utf-8")
    done = run_installed(installed, [sys.executable, str(installed / "bin" / "overclaim"), "check", "page.md"],
                         cwd=tmp_path)
    assert done.returncode == 1 and "page.md:3:1: OC101 disease_claim" in done.stdout, done.stderr


def test_model_trust_wheel_ships_the_skops_model_not_a_pickle_and_requires_skops(installed):
    shipped = {p.name for p in (installed / "overclaim" / "model").iterdir()}
    assert "overclaim.skops" in shipped and not [name for name in shipped if name.endswith((".joblib", ".pkl"))]
    metadata = (next(installed.glob("overclaim-*.dist-info")) / "METADATA").read_text().splitlines()
    runtime = [line for line in metadata if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert any(line.startswith("Requires-Dist: skops") for line in runtime)
    assert not any(line.startswith("Requires-Dist: joblib") for line in runtime)


def test_model_trust_installed_command_honours_the_sha256_pin(installed, tmp_path):
    sha = json.loads((ROOT / "model" / "meta.json").read_text())["sha256"]
    script = [sys.executable, str(installed / "bin" / "overclaim"), "score", "--json", "Zinc cures colds."]
    wrong = run_installed(installed, [*script, "--model-sha256", "f" * 64], cwd=tmp_path)
    assert wrong.returncode == 2 and wrong.stderr.startswith("overclaim: error: ") and "not the pinned" in wrong.stderr
    right = run_installed(installed, [*script, "--model-sha256", sha], cwd=tmp_path)
    assert right.returncode == 0 and json.loads(right.stdout)["model"]["sha256"] == sha, right.stderr
