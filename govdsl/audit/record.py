"""Build the audit record of one `govdsl check` run, and find where the log lives."""

from __future__ import annotations

import datetime
import getpass
import hashlib
import os
import socket
from pathlib import Path

RECORD_FORMAT = "govdsl-audit-record/1"
DEFAULT_LOG = Path(".govdsl") / "audit.jsonl"

# CI variables worth recording: which pipeline, commit and actor ran the gate. Only these
# named variables are read, so no token or secret from the environment lands in the log.
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_SHA", "GITHUB_REF",
    "GITHUB_ACTOR", "GITHUB_WORKFLOW", "GITHUB_JOB",
    "GITLAB_CI", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_JOB_ID", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "GITLAB_USER_LOGIN",
    "JENKINS_URL", "BUILD_ID", "BUILD_URL", "GIT_COMMIT",
    "BUILDKITE", "BUILDKITE_BUILD_ID", "BUILDKITE_COMMIT",
    "CIRCLECI", "CIRCLE_BUILD_NUM", "CIRCLE_SHA1",
    "TF_BUILD", "BUILD_BUILDID", "BUILD_SOURCEVERSION",
)


def log_path(option: str | None, settings: dict) -> Path:
    """Return the audit log path: the option, then GOVDSL_AUDIT_LOG, then `audit_log` in settings, then .govdsl/audit.jsonl."""
    for candidate in (option, os.environ.get("GOVDSL_AUDIT_LOG"), settings.get("audit_log")):
        if candidate:
            return Path(candidate)
    return DEFAULT_LOG


def who_ran() -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return {
        "user": user,
        "host": socket.gethostname(),
        "ci": {name: os.environ[name] for name in CI_VARIABLES if name in os.environ},
    }


def build_record(results, plan_json: str) -> dict:
    """Return the audit record of an evaluation: inputs with their digests, statuses with values, the gate, who ran it."""
    data = results.to_dict()
    return {
        "format": RECORD_FORMAT,
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "govdsl_version": data["govdsl_version"],
        "as_of": data["as_of"],
        "policies": data["policies"],
        "plan_sha256": hashlib.sha256(plan_json.encode("utf-8")).hexdigest(),
        "bundle": {
            "path": data["bundle"]["path"],
            "model": {"id": data["bundle"]["model"].get("id"), "version": data["bundle"]["model"].get("version")},
            "evidence": data["bundle"]["datasets"],
            "manifest": data["bundle"].get("manifest"),
            "model_card": data["bundle"].get("model_card"),
        },
        "parameters": data["parameters"],
        "waivers": [{"id": w["id"], "control": w["control"], "state": w["state"]} for w in data["waivers"]],
        "controls": [
            {
                "id": control["id"],
                "enforcement": control["enforcement"],
                "status": control["status"],
                "checks": [{"id": c["id"], "status": c["status"], "value": c["value"]} for c in control["checks"]],
            }
            for control in data["controls"]
        ],
        "gate": {
            "decision": data["gate"]["decision"],
            "blocking_controls": data["gate"]["blocking_controls"],
            "insufficient_relaxed": data["gate"]["insufficient_relaxed"],
            "regressions": data["gate"].get("regressions", []),
        },
        "baseline": (
            {"file": data["baseline"]["file"], "sha256": data["baseline"].get("sha256")} if data.get("baseline") else None
        ),
        "run_by": who_ran(),
    }
