#!/usr/bin/python3
"""Validates EtcdCluster manifests (charts/cairn-cluster's rendering) against the CRD in crds/,
the way the API server would: CRD defaulting, then the version's openAPIV3Schema, using
crds/tests/validate_crd.py; fields the schema does not know (which the API server would
prune silently) are errors too. Of the CEL rules (x-kubernetes-validations) only the name
length rule is evaluated; any other rule fails this check until it is taught here.

  validate_etcdcluster.py FILE...                   every EtcdCluster must be valid
  validate_etcdcluster.py --expect-invalid FILE...  each file must be rejected, with an error
                                                    containing each of its "# expect:" lines
Exit status is non-zero on any failure; every finding is printed.
"""
import copy
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "crds", "tests"))
import validate_crd  # noqa: E402  (the CRD checks' defaulting and schema validation)

CRD_FILE = os.path.join(ROOT, "crds", "etcd.cairn.dev_etcdclusters.yaml")
NAME_RULE = re.compile(r"^self\.metadata\.name\.size\(\) <= (\d+)$")


def cel_errors(schema, obj):
    errors = []
    for rule in schema.get("x-kubernetes-validations", []):
        m = NAME_RULE.match(rule["rule"].strip())
        if not m:
            errors.append(f"<root>: CEL rule {rule['rule']!r} is not evaluated by this check; teach validate_etcdcluster.py")
        elif len(obj.get("metadata", {}).get("name", "")) > int(m.group(1)):
            errors.append(f"<root>: Invalid value: {rule.get('message', rule['rule'])}")
    return errors


def unknown_fields(schema, obj, path, out, root=False):
    """Fields that structural-schema pruning would drop: not in properties, no
    additionalProperties schema, no x-kubernetes-preserve-unknown-fields."""
    if isinstance(obj, list):
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(obj):
                unknown_fields(schema["items"], item, f"{path}[{i}]", out)
        return
    if not isinstance(obj, dict):
        return
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    for key, value in obj.items():
        where = f"{path}.{key}" if path else key
        if root and key == "metadata":
            continue
        if key in props:
            unknown_fields(props[key], value, where, out)
        elif isinstance(extra, dict):
            unknown_fields(extra, value, where, out)
        elif not preserve and not extra:
            out.append(f"{where}: unknown field (the API server would prune it)")


def errors_of(crd, obj):
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    versions = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    api_group, _, version = str(obj.get("apiVersion", "")).partition("/")
    if obj.get("kind") != kind or api_group != group or version not in versions:
        return [f"<root>: {obj.get('apiVersion')} {obj.get('kind')} is not a served {kind} version of {group}"]
    schema = versions[version]["schema"]["openAPIV3Schema"]
    defaulted = copy.deepcopy(obj)
    validate_crd.apply_defaults(schema, defaulted)
    unknown = []
    unknown_fields(schema, defaulted, "", unknown, root=True)
    return validate_crd.validation_errors(schema, defaulted) + cel_errors(schema, defaulted) + unknown


def main(argv):
    expect_invalid = argv[:1] == ["--expect-invalid"]
    files = argv[1:] if expect_invalid else argv
    if not files:
        print(__doc__)
        return 2
    with open(CRD_FILE) as f:
        crd = yaml.safe_load(f)
    failures = 0
    for path in files:
        with open(path) as f:
            text = f.read()
        objs = [o for o in yaml.safe_load_all(text) if o is not None]
        if not objs:
            print(f"FAIL: {path}: no objects")
            failures += 1
            continue
        errors = []
        for obj in objs:
            name = obj.get("metadata", {}).get("name", "<no name>")
            errors += [f"{obj.get('kind')}/{name}: {e}" for e in errors_of(crd, obj)]
        if not expect_invalid:
            for e in errors:
                print(f"FAIL: {path}: {e}")
            failures += len(errors)
            if not errors:
                print(f"ok: {path}: {len(objs)} EtcdCluster(s) valid against {os.path.relpath(CRD_FILE, ROOT)}")
            continue
        wants = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("# expect:")]
        if not wants:
            print(f"FAIL: {path}: an invalid case needs '# expect:' lines")
            failures += 1
        if not errors:
            print(f"FAIL: {path}: invalid EtcdCluster accepted: the validation is not working")
            failures += 1
            continue
        for want in wants:
            if not any(want in e for e in errors):
                print(f"FAIL: {path}: no error mentions {want!r}; got {errors}")
                failures += 1
        print(f"ok: {path}: rejected as expected:\n  " + "\n  ".join(errors))
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
