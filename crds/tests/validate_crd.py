#!/usr/bin/python3
"""Checks the CRDs (those crds/kustomization.yaml installs) the way the API server would, without an API server.

1. The schema is structural (the apiextensions.k8s.io/v1 rules the API server enforces on
   create): every node typed, no type/default/description inside junctors, properties only
   under objects, metadata unconstrained, defaults valid against their own schema.
2. Subresource and printer-column JSON paths point at fields of the right type.
3. Example manifests, each against the CRD of its kind: crds/examples/valid/* are defaulted (CRD defaulting semantics) and must
   validate; crds/examples/invalid/* must be rejected with an error whose path and message
   contain every "# expect: <text>" line in the file.
Exit status is non-zero on any failure; every failure is printed.
"""
import copy
import glob
import os
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CRD_DIR = os.path.dirname(HERE)
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
FORBIDDEN_IN_JUNCTORS = ("type", "default", "description", "additionalProperties", "nullable",
                         "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                         "x-kubernetes-embedded-resource")

failures = []


def fail(msg):
    failures.append(msg)


def check_junctor(node, path, outer_props):
    subs = node if isinstance(node, list) else [node]
    for i, sub in enumerate(subs):
        p = f"{path}[{i}]"
        for key in FORBIDDEN_IN_JUNCTORS:
            if key in sub:
                fail(f"{p}: {key} is forbidden inside a logical junctor")
        for prop in sub.get("properties", {}):
            if prop not in outer_props:
                fail(f"{p}.properties[{prop}]: must be specified outside the junctor too")
        for j in JUNCTORS:
            if j in sub:
                check_junctor(sub[j], f"{p}.{j}", outer_props)


def check_structural(node, path, root=False):
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "type" not in node and not (int_or_string or preserve):
        fail(f"{path}.type: Required value: must not be empty for specified fields")
    if int_or_string and "anyOf" in node:
        want = [{"type": "integer"}, {"type": "string"}]
        if node["anyOf"] != want and not (node.get("allOf") and node["allOf"][0].get("anyOf") == want):
            fail(f"{path}: x-kubernetes-int-or-string needs anyOf [integer, string]")
    if "properties" in node and node.get("type") != "object":
        fail(f"{path}.properties: only allowed for type object")
    if "properties" in node and "additionalProperties" in node:
        fail(f"{path}: properties and additionalProperties are mutually exclusive")
    if "items" in node and node.get("type") != "array":
        fail(f"{path}.items: only allowed for type array")
    if node.get("type") == "array" and "items" not in node:
        fail(f"{path}.items: Required value: must be specified for arrays")
    for j in JUNCTORS:
        # The one junctor the API server allows to carry types is int-or-string's anyOf.
        if j in node and not (int_or_string and j == "anyOf"):
            check_junctor(node[j], f"{path}.{j}", node.get("properties", {}))
    if "default" in node:
        errs = list(jsonschema.Draft4Validator(strip_for_jsonschema(node)).iter_errors(node["default"]))
        for e in errs:
            fail(f"{path}.default: invalid default: {e.message}")
    for name, sub in node.get("properties", {}).items():
        if root and name == "metadata":
            extra = set(sub) - {"type"}
            if extra or sub.get("type") != "object":
                fail(f"{path}.properties[metadata]: must only be type object")
            continue
        check_structural(sub, f"{path}.properties[{name}]")
    if isinstance(node.get("additionalProperties"), dict):
        check_structural(node["additionalProperties"], f"{path}.additionalProperties")
    if isinstance(node.get("items"), dict):
        check_structural(node["items"], f"{path}.items")


def strip_for_jsonschema(node):
    """Drops the vendor extensions jsonschema does not know; leaves value validation intact."""
    if isinstance(node, dict):
        return {k: strip_for_jsonschema(v) for k, v in node.items()
                if not k.startswith("x-kubernetes-") and k != "default"}
    if isinstance(node, list):
        return [strip_for_jsonschema(v) for v in node]
    return node


def resolve(schema, json_path):
    """Schema node at a simple .a.b.c path, or None."""
    node = schema
    for part in json_path.lstrip(".").split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def apply_defaults(schema, obj):
    """CRD defaulting: a missing (or null, non-nullable) property gets its default, then
    defaulting recurses into it so nested defaults apply to defaulted objects too."""
    if not isinstance(obj, dict):
        if isinstance(obj, list) and isinstance(schema.get("items"), dict):
            for item in obj:
                apply_defaults(schema["items"], item)
        return
    for name, sub in schema.get("properties", {}).items():
        if "default" in sub and (name not in obj or (obj[name] is None and not sub.get("nullable"))):
            obj[name] = copy.deepcopy(sub["default"])
        if name in obj:
            apply_defaults(sub, obj[name])
    if isinstance(schema.get("additionalProperties"), dict):
        for name in obj:
            apply_defaults(schema["additionalProperties"], obj[name])


def k8s_path(error):
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path).replace(".[", "[")


def validation_errors(schema, obj):
    validator = jsonschema.Draft4Validator(strip_for_jsonschema(schema))
    out = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        out.append(f"{k8s_path(e) or '<root>'}: Invalid value: {e.message}")
    return out


def check_crd(crd):
    spec = crd["spec"]
    storage = [v for v in spec["versions"] if v.get("storage")]
    if len(storage) != 1:
        fail("spec.versions: exactly one version must be the storage version")
    if crd["metadata"]["name"] != f"{spec['names']['plural']}.{spec['group']}":
        fail("metadata.name must be <plural>.<group>")
    for v in spec["versions"]:
        schema = v["schema"]["openAPIV3Schema"]
        check_structural(schema, f"versions[{v['name']}].schema.openAPIV3Schema", root=True)
        scale = v.get("subresources", {}).get("scale")
        if scale:
            for key, prefix, typ in (("specReplicasPath", ".spec.", "integer"),
                                     ("statusReplicasPath", ".status.", "integer"),
                                     ("labelSelectorPath", ".status.", "string")):
                p = scale.get(key)
                if p is None:
                    continue
                node = resolve(schema, p)
                if not p.startswith(prefix) or node is None or node.get("type") != typ:
                    fail(f"subresources.scale.{key} {p}: must be a {typ} field under {prefix}")
        for col in v.get("additionalPrinterColumns", []):
            if col["jsonPath"] == ".metadata.creationTimestamp":
                continue
            node = resolve(schema, col["jsonPath"])
            if node is None:
                fail(f"printer column {col['name']}: {col['jsonPath']} is not in the schema")
            elif node.get("type") != col["type"]:
                fail(f"printer column {col['name']}: type {col['type']} != schema {node.get('type')}")


def expectations(path):
    with open(path) as f:
        return [l.split(":", 1)[1].strip() for l in f if l.startswith("# expect:")]


def check_examples(crd):
    version = {v["name"]: v for v in crd["spec"]["versions"]}
    crd_kind = crd["spec"]["names"]["kind"]
    for kind in ("valid", "invalid"):
        files = []
        for path in sorted(glob.glob(os.path.join(CRD_DIR, "examples", kind, "*.yaml"))):
            with open(path) as f:
                obj = yaml.safe_load(f)
            if obj.get("kind") == crd_kind:
                files.append((path, obj))
        if not files:
            fail(f"no {kind} {crd_kind} examples found")
        for path, obj in files:
            name = os.path.relpath(path, CRD_DIR)
            api_version = obj.get("apiVersion", "")
            group, _, ver = api_version.partition("/")
            if group != crd["spec"]["group"] or ver not in version:
                fail(f"{name}: apiVersion {api_version} is not served by this CRD")
                continue
            schema = version[ver]["schema"]["openAPIV3Schema"]
            defaulted = copy.deepcopy(obj)
            apply_defaults(schema, defaulted)
            errors = validation_errors(schema, defaulted)
            if kind == "valid":
                for e in errors:
                    fail(f"{name}: valid example rejected: {e}")
                for want in expectations(path):
                    key, _, value = want.partition("=")
                    got = defaulted
                    for part in key.split("."):
                        got = got.get(part) if isinstance(got, dict) else None
                    if str(got) != value:
                        fail(f"{name}: after defaulting {key} = {got!r}, want {value}")
            else:
                wants = expectations(path)
                if not wants:
                    fail(f"{name}: invalid example without '# expect:' lines")
                if not errors:
                    fail(f"{name}: invalid example accepted")
                for want in wants:
                    if not any(want in e for e in errors):
                        fail(f"{name}: no error mentions {want!r}; got {errors}")
                print(f"{name}: rejected as expected:\n  " + "\n  ".join(errors))


def main():
    with open(os.path.join(CRD_DIR, "kustomization.yaml")) as f:
        files = yaml.safe_load(f)["resources"]
    kinds = set()
    for name in files:
        with open(os.path.join(CRD_DIR, name)) as f:
            crd = yaml.safe_load(f)
        kinds.add(crd["spec"]["names"]["kind"])
        check_crd(crd)
        check_examples(crd)
    for path in sorted(glob.glob(os.path.join(CRD_DIR, "examples", "*", "*.yaml"))):
        with open(path) as f:
            kind = yaml.safe_load(f).get("kind")
        if kind not in kinds:
            fail(f"{os.path.relpath(path, CRD_DIR)}: kind {kind} has no CRD here")
    for msg in failures:
        print("FAIL:", msg)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
