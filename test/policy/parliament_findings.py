"""parliament (PyPI) on every identity policy of synthesized graphs: prints one JSON finding per line.

Usage: .venv/bin/python test/policy/parliament_findings.py GRAPH.json...

Identity policies: aws:iam/policy:Policy (managed policies, the boundary included), aws:iam/rolePolicy:RolePolicy
and a role's inlinePolicies. Each statement is analysed alone, so a finding names its statement; the
privilege-escalation auditors need the whole document, so their findings come from the whole policy.
RESOURCE_MISMATCH details are split per action and marked `literal` when the statement names the action
itself (not only through a wildcard such as glue:Get*).
"""
import json
import sys

from parliament import analyze_policy_string

IDENTITY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")


def documents(resource):
    inputs = resource.get("inputs", {})
    if resource["type"] in IDENTITY_TYPES and isinstance(inputs.get("policy"), str):
        yield inputs["policy"]
    if resource["type"] == "aws:iam/role:Role":
        for inline in inputs.get("inlinePolicies") or []:
            if isinstance(inline.get("policy"), str):
                yield inline["policy"]


def as_list(value):
    return value if isinstance(value, list) else [] if value is None else [value]


def main(paths):
    analysed = 0
    for path in paths:
        graph = json.load(open(path))
        where = f"{graph['project']}/{graph['stack']}"
        for resource in graph["resources"]:
            for text in documents(resource):
                analysed += 1
                doc = json.loads(text)
                base = {"graph": where, "resource": resource["name"]}
                for finding in analyze_policy_string(text, include_community_auditors=True).findings:
                    if "PRIVILEGE_ESCALATION" in finding.issue:
                        # The escalation's type and actions are in the finding's location, not its detail.
                        where_found = {k: v for k, v in (finding.location or {}).items() if k != "filepath"}
                        detail = json.dumps({"detail": finding.detail, **where_found}, sort_keys=True)
                        print(json.dumps({**base, "sid": None, "issue": finding.issue, "detail": detail}))
                for statement in as_list(doc.get("Statement")):
                    named = {a.lower() for a in as_list(statement.get("Action"))}
                    single = json.dumps({"Version": doc.get("Version", "2012-10-17"), "Statement": [statement]})
                    for finding in analyze_policy_string(single, include_community_auditors=True).findings:
                        if "PRIVILEGE_ESCALATION" in finding.issue:
                            continue
                        row = {**base, "sid": statement.get("Sid")}
                        if finding.issue == "RESOURCE_MISMATCH":
                            for action in sorted({d["action"] for d in finding.detail}):
                                print(json.dumps({**row, "issue": finding.issue, "action": action, "literal": action.lower() in named}))
                        else:
                            print(json.dumps({**row, "issue": finding.issue, "detail": json.dumps(finding.detail, sort_keys=True)}))
    print(json.dumps({"analysed": analysed}))


if __name__ == "__main__":
    main(sys.argv[1:])
