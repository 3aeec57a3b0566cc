"""The CI templates' shell steps, run here as their CI would run them, against the sample RP.

ci-templates/github/action.yml (a composite action) and
ci-templates/gitlab/oidc-harness.gitlab-ci.yml (a job to extend): each is read as YAML, its
`${{ ... }}` expressions (GitHub) or variables (GitLab) filled in, and its shell run with
bash as the runner does (`-eo pipefail`). A run where the sample RP passes two scenarios
must end 0 with the Markdown summary in the job summary and the reports where the
artifact step uploads them; a run with a profile that does not exist must end 2; a binary
fetched from a URL (a local server standing for a release page) is used when its SHA-256
is the one given, and refused (exit 3, nothing run) when it is not.
"""

import functools
import hashlib
import http.server
import json
import os
import pathlib
import re
import shutil
import subprocess
import threading

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("OIDC_HARNESS", "oidc-harness")
SCENARIOS = "--scenario scenarios/oidc-core/happy-path.toml --scenario scenarios/troubleshooting/state-mismatch.toml"


def sample_rp_profile(tmp):
    """fixtures/rps/sample-rp.toml, starting the sample RP built next to the harness
    binary when there is one (the profile itself builds a release one with cargo, from
    the checkout: its folder is made absolute, as the copy lives elsewhere)."""
    text = (ROOT / "fixtures/rps/sample-rp.toml").read_text()
    built = pathlib.Path(BINARY).resolve().parent / "sample-rp"
    if built.is_file():
        text = re.sub(r"(?m)^command = .*$", f"command = [{json.dumps(str(built))}]", text)
        text = re.sub(r'(?m)^(cwd|build) = .*$', "", text)
    else:
        text = re.sub(r'(?m)^cwd = .*$', f"cwd = {json.dumps(str(ROOT))}", text)
    profile = tmp / "sample-rp.toml"
    profile.write_text(text)
    return str(profile)


def bash(script, env, cwd):
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def github(tmp, inputs):
    """Runs the action's steps; returns (exit code of the last step, summary, outputs)."""
    action = yaml.safe_load((ROOT / "ci-templates/github/action.yml").read_text())
    for name, spec in action["inputs"].items():
        inputs.setdefault(name, spec.get("default", ""))
    outputs = {}
    summary = tmp / "summary.md"
    summary.write_text("")

    def fill(text):
        def value(m):
            expr = m.group(1).strip()
            if expr.startswith("inputs."):
                return inputs[expr[len("inputs.") :]]
            if expr == "github.action_path":
                return str(ROOT / "ci-templates/github")
            found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            assert found, f"an expression the test does not know: {expr}"
            return outputs.get(found.group(1), {}).get(found.group(2), "")

        return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))

    code = None
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"] == "actions/upload-artifact@v4"
            assert fill(step["with"]["path"]) == inputs["out"]
            continue
        out_file = tmp / f"output-{len(outputs)}"
        out_file.write_text("")
        env = {k: fill(v) for k, v in step.get("env", {}).items()}
        # The runner's temporary folder, which GitHub empties after each job.
        runner_temp = tmp / "runner-temp"
        runner_temp.mkdir(exist_ok=True)
        env.update(
            GITHUB_OUTPUT=str(out_file),
            GITHUB_STEP_SUMMARY=str(summary),
            RUNNER_TEMP=str(runner_temp),
        )
        done = bash(step["run"], env, tmp)
        code = done.returncode
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line
            )
        if code != 0:
            break
    return code, summary.read_text(), outputs


def gitlab(tmp, variables):
    """Runs the job's script with its variables; returns the finished process. A shell
    executor's temporary folder outlives the job: the script must leave nothing there."""
    job = yaml.safe_load((ROOT / "ci-templates/gitlab/oidc-harness.gitlab-ci.yml").read_text())
    template = job[".oidc-harness"]
    env = {k: str(v) for k, v in template["variables"].items()}
    env.update(variables)
    temp = tmp / "executor-tmp"
    temp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(temp)
    assert template["artifacts"]["paths"] == ["$OIDC_HARNESS_OUT"]
    assert template["artifacts"]["reports"]["junit"] == "$OIDC_HARNESS_OUT/junit.xml"
    done = bash("\n".join(template["script"]), env, tmp)
    left = list(temp.iterdir())
    assert not left, f"the job left {left} in its temporary folder"
    return done


def test_the_github_action_runs_reports_and_summarises(tmp_path):
    code, summary, outputs = github(
        tmp_path,
        {
            "rp": sample_rp_profile(tmp_path),
            "args": SCENARIOS,
            "format": "json,junit",
            "binary": BINARY,
        },
    )
    assert code == 0, summary
    assert outputs["run"]["exit-code"] == "0"
    assert "oidc-harness: sample-rp" in summary and "2 pass" in summary.replace("*", ""), summary
    reports = tmp_path / "reports/oidc-harness"
    assert (reports / "junit.xml").is_file() and (reports / "summary.md").is_file()


def test_the_github_action_fails_the_job_on_bad_input(tmp_path):
    code, _, outputs = github(
        tmp_path, {"rp": "no-such-profile.toml", "binary": BINARY}
    )
    assert outputs["run"]["exit-code"] == "2"
    assert code == 2


def test_the_gitlab_job_runs_and_leaves_its_artifacts(tmp_path):
    done = gitlab(
        tmp_path,
        {
            "OIDC_HARNESS_RP": sample_rp_profile(tmp_path),
            "OIDC_HARNESS_ARGS": SCENARIOS,
            "OIDC_HARNESS_BIN": BINARY,
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "reports/oidc-harness/junit.xml").is_file()
    bad = gitlab(tmp_path, {"OIDC_HARNESS_BIN": BINARY})
    assert bad.returncode == 2 and "set OIDC_HARNESS_RP" in bad.stderr


def serve(directory):
    """An HTTP server on a free port serving `directory` (a release page); returns it."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(directory)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_both_templates_fetch_the_binary_and_check_its_sha256(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(BINARY, release / "oidc-harness")
    digest = hashlib.sha256((release / "oidc-harness").read_bytes()).hexdigest()
    server = serve(release)
    url = f"http://127.0.0.1:{server.server_port}/oidc-harness"
    try:
        profile = sample_rp_profile(tmp_path)
        code, summary, outputs = github(
            tmp_path,
            {"rp": profile, "args": SCENARIOS, "binary-url": url, "binary-sha256": digest},
        )
        assert code == 0, summary
        # The downloaded copy ran (in its own temporary folder), not a binary found elsewhere.
        assert re.search(r"/oidc-harness\.\w+/oidc-harness$", outputs["bin"]["path"]), outputs
        code, _, outputs = github(
            tmp_path, {"rp": profile, "binary-url": url, "binary-sha256": "0" * 64}
        )
        assert code == 3 and "run" not in outputs, "a binary with another SHA-256 was used"
        done = gitlab(
            tmp_path,
            {"OIDC_HARNESS_RP": profile, "OIDC_HARNESS_ARGS": SCENARIOS,
             "OIDC_HARNESS_URL": url, "OIDC_HARNESS_SHA256": digest},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        done = gitlab(
            tmp_path,
            {"OIDC_HARNESS_RP": profile, "OIDC_HARNESS_URL": url, "OIDC_HARNESS_SHA256": "0" * 64},
        )
        assert done.returncode == 3 and "SHA-256" in done.stderr, done.stderr
    finally:
        server.shutdown()
