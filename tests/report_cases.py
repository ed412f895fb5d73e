"""Results that the renderer tests share: the COMPAS example, and a toy run with every status and hostile text."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.evidence import load_bundle
from govdsl.evidence.waivers import load_waivers
from support import COMPAS_BUNDLE, COMPAS_POLICY, make_bundle, write_policy

AS_OF = datetime.date(2026, 12, 4)

# Text that would run script or break markup if a renderer did not escape it.
HOSTILE_TITLE = "<script>alert('title')</script> & | `tick` $x^2$"
HOSTILE_REMEDIATION = "<img src=x onerror=alert('remediation')> [link](javascript:alert(1)) </details>"
HOSTILE_GROUP = "<b onmouseover=alert('group')>b</b>"

# Group a: TPR 1/2, FPR 1/2. The hostile group: TPR 2/2 and no actual negatives, so its FPR is undefined.
MIXED_CSV = f"""\
label,prediction,group
1,1,a
1,0,a
0,1,a
0,0,a
1,1,"{HOSTILE_GROUP}"
1,1,"{HOSTILE_GROUP}"
"""

# One control per status: pass, fail, error, insufficient, blocked, skipped, waived;
# an advisory failure, and a control without checks.
MIXED_POLICY = f'''
policy mixed {{
  version "2.0.0"

  control passes {{
    title "Selection rate is a rate"
    maps ["NIST-AI-RMF:MEASURE 2.11"]
    check selection_rate() <= 1
  }}

  control fails {{
    title "{HOSTILE_TITLE.replace('"', "'")}"
    maps ["NIST-AI-RMF:MEASURE 2.11", "EU-AI-ACT:Art.10(2)(f)"]
    remediation "{HOSTILE_REMEDIATION.replace('"', "'")}"
    check gap: equal_opportunity_difference(by = "group") <= 0.1
  }}

  control errs {{
    maps ["EU-AI-ACT:Art.10(2)(g)"]
    check demographic_parity_difference(by = "race") <= 0.1
  }}

  control undecided {{
    maps ["EU-AI-ACT:Art.10(2)(g)"]
    check false_positive_rate_difference(by = "group") <= 0.5
  }}

  control later {{
    requires [fails]
    check selection_rate() <= 1
  }}

  control not_here {{
    applies when model.risk_tier == "minimal"
    maps ["ISO-42001:A.6.2.4"]
    check selection_rate() <= 1
  }}

  control advice {{
    enforcement advisory
    check equal_opportunity_difference(by = "group") <= 0.1
  }}

  control empty {{
  }}

  control excused {{
    enforcement soft
    check equal_opportunity_difference(by = "group") <= 0.1
  }}
}}
'''

WAIVERS = """\
waivers_version: 1
waivers:
  - id: W-1
    control: mixed.excused
    models:
      - id: toy
    justification: "Accepted for the test run."
    approved_by: {name: "Test Approver", role: model_risk_officer}
    approved_on: 2026-11-01
    expires: 2026-12-31
"""

EXPECTED_CONTROL_STATUSES = {
    "mixed.passes": "pass",
    "mixed.fails": "fail",
    "mixed.errs": "error",
    "mixed.undecided": "insufficient",
    "mixed.later": "blocked",
    "mixed.not_here": "skipped",
    "mixed.advice": "fail",
    "mixed.empty": "insufficient",
    "mixed.excused": "waived",
}


def compas_results():
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    return evaluate(plan, load_bundle(COMPAS_BUNDLE), clock=lambda: AS_OF)


def mixed_results(folder: Path, allow_insufficient: bool = False):
    """Evaluate MIXED_POLICY on a toy bundle in `folder`; the folder must be empty."""
    policy = write_policy(folder, MIXED_POLICY)
    waivers_file = folder / "waivers.yaml"
    waivers_file.write_text(textwrap.dedent(WAIVERS), encoding="utf-8")
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(make_bundle(folder, MIXED_CSV))
    return evaluate(
        plan, bundle, clock=lambda: AS_OF, allow_insufficient=allow_insufficient, waivers=load_waivers(waivers_file)
    )
