// What the charts render, value set by value set: the objects, the operator's flags, RBAC
// scope, probes, security context, labels, the ServiceMonitor wiring, NOTES.txt, and the
// value combinations the charts must refuse (charts/tests/values/*/fail/*.yaml, whose
// "# expect-error:" lines name the message).
//
//   HELM=... node render_checks.mjs
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseDocs, objectId } from "./k8s.mjs";

const TESTS = path.dirname(fileURLToPath(import.meta.url));
const CHARTS = path.dirname(TESTS);
const HELM = process.env.HELM;
const failures = [];
let checks = 0;

function check(cond, what) {
  checks++;
  if (!cond) failures.push(what);
  return cond;
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const stable = (v) =>
  Array.isArray(v) ? v.map(stable)
    : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable(v[k])])) : v;
const same = (a, b) => eq(stable(a), stable(b));

function helm(args) {
  const r = spawnSync(HELM, args, { encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

const RELEASE = { "cairn-operator": ["cairn-operator", "cairn-system"], "cairn-cluster": ["example", "db"] };

function render(chart, valuesFile, chartDir = path.join(CHARTS, chart), extra = []) {
  const [release, ns] = RELEASE[chart];
  const args = ["template", release, chartDir, "-n", ns, ...extra];
  if (valuesFile) args.push("-f", path.join(TESTS, "values", chart, valuesFile));
  const r = helm(args);
  if (!r.ok) throw new Error(`helm ${args.join(" ")} failed:\n${r.err}`);
  return parseDocs(r.out, `${chart} ${valuesFile ?? "defaults"}`);
}

// NOTES.txt through helm template (which skips it): a copy of the chart whose NOTES become
// a named template rendered into a ConfigMap-like document.
function renderNotes(chart, valuesFile) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notes-"));
  try {
    fs.cpSync(path.join(CHARTS, chart), path.join(dir, chart), { recursive: true });
    const tdir = path.join(dir, chart, "templates");
    const notes = fs.readFileSync(path.join(tdir, "NOTES.txt"), "utf8");
    fs.rmSync(path.join(tdir, "NOTES.txt"));
    fs.writeFileSync(path.join(tdir, "_notes_under_test.tpl"), `{{- define "notes-under-test" }}${notes}{{- end }}`);
    fs.writeFileSync(path.join(tdir, "notes_under_test.yaml"), 'notes: {{ include "notes-under-test" . | toJson }}\n');
    const docs = render(chart, valuesFile, path.join(dir, chart), ["--show-only", "templates/notes_under_test.yaml"]);
    return docs[0].notes;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const find = (docs, kind, name, ns) =>
  docs.find((d) => d.kind === kind && (!name || d.metadata.name === name) && (ns === undefined || d.metadata.namespace === ns));
const kinds = (docs) => docs.map(objectId).sort();

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const STANDARD_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
  "app.kubernetes.io/managed-by", "helm.sh/chart"];

function labelMaps(value, at, out) {
  if (Array.isArray(value)) value.forEach((v, i) => labelMaps(v, `${at}[${i}]`, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if ((k === "labels" || k === "matchLabels") && v && typeof v === "object") out.push([`${at}.${k}`, v]);
      else labelMaps(v, `${at}.${k}`, out);
    }
  }
  return out;
}

// Checks that hold for every rendering of a chart.
function common(docs, where, chart) {
  for (const d of docs) {
    const id = `${where}: ${objectId(d)}`;
    check(DNS1123.test(d.metadata.name) && d.metadata.name.length <= 253, `${id}: invalid name`);
    if (d.kind !== "CustomResourceDefinition") {
      for (const l of STANDARD_LABELS) check(d.metadata.labels?.[l], `${id}: label ${l} missing`);
      check(d.metadata.labels?.["app.kubernetes.io/managed-by"] === "Helm", `${id}: managed-by is not Helm`);
      check(d.metadata.labels?.["app.kubernetes.io/name"] === chart || d.kind === "EtcdCluster" || chart !== "cairn-operator",
        `${id}: app.kubernetes.io/name is not ${chart}`);
    }
    for (const [at, map] of labelMaps(d, "", [])) {
      for (const [k, v] of Object.entries(map)) {
        check(typeof v === "string" && v.length <= 63 && LABEL_VALUE.test(v), `${id}: ${at}.${k}: invalid label value ${JSON.stringify(v)}`);
      }
    }
  }
}

function operatorCommon(docs, where) {
  common(docs, where, "cairn-operator");
  const dep = find(docs, "Deployment");
  if (!check(dep, `${where}: no Deployment`)) return {};
  const pod = dep.spec.template;
  const c = pod.spec.containers.find((x) => x.name === "operator");
  check(c, `${where}: no operator container`);
  const sel = dep.spec.selector.matchLabels;
  check(Object.entries(sel).every(([k, v]) => pod.metadata.labels[k] === v), `${where}: selector does not match the pod labels`);
  check(c.ports?.some((p) => p.name === "http" && p.containerPort === 8080), `${where}: no http port 8080`);
  check(same(c.livenessProbe?.httpGet, { path: "/healthz", port: "http" }), `${where}: liveness probe is not GET /healthz on http`);
  check(same(c.readinessProbe?.httpGet, { path: "/readyz", port: "http" }), `${where}: readiness probe is not GET /readyz on http`);
  check(c.args.includes("--http-address=0.0.0.0:8080"), `${where}: --http-address is not 0.0.0.0:8080`);
  check(c.resources && (c.resources.requests || c.resources.limits), `${where}: no resources`);
  const psc = pod.spec.securityContext ?? {};
  check(psc.runAsNonRoot === true && psc.runAsUser === 65532, `${where}: pod does not run as non-root user 65532`);
  check(psc.seccompProfile?.type === "RuntimeDefault", `${where}: seccomp profile is not RuntimeDefault`);
  const csc = c.securityContext ?? {};
  check(csc.readOnlyRootFilesystem === true, `${where}: root file system is not read-only`);
  check(csc.allowPrivilegeEscalation === false, `${where}: privilege escalation allowed`);
  check(eq(csc.capabilities?.drop, ["ALL"]), `${where}: capabilities are not drop [ALL]`);
  check(c.env?.some((e) => e.name === "POD_NAMESPACE" && e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace"),
    `${where}: no POD_NAMESPACE from the downward API`);
  // Every RoleBinding/ClusterRoleBinding names an object the chart renders.
  for (const b of docs.filter((d) => d.kind === "RoleBinding" || d.kind === "ClusterRoleBinding")) {
    const roleNs = b.kind === "RoleBinding" ? b.metadata.namespace : undefined;
    check(find(docs, b.roleRef.kind, b.roleRef.name, roleNs), `${where}: ${objectId(b)} refers to a missing ${b.roleRef.kind} ${b.roleRef.name}`);
    for (const s of b.subjects) {
      check(s.kind === "ServiceAccount" && s.name === pod.spec.serviceAccountName && s.namespace === "cairn-system",
        `${where}: ${objectId(b)} binds ${s.kind} ${s.namespace}/${s.name}, not the operator's ServiceAccount`);
    }
  }
  const svc = find(docs, "Service");
  if (svc) {
    check(Object.entries(svc.spec.selector).every(([k, v]) => pod.metadata.labels[k] === v), `${where}: metrics Service does not select the pods`);
    check(svc.spec.ports.some((p) => p.name === "http" && p.port === 8080 && p.targetPort === "http"), `${where}: metrics Service has no http port 8080`);
  }
  const arg = (flag) => c.args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
  return { dep, pod, c, arg, svc };
}

const expectErrors = (file) =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("# expect-error:")).map((l) => l.slice(15).trim());

// ---- cairn-operator ---------------------------------------------------------------------
const defaults = render("cairn-operator");
const defaultRules = find(defaults, "ClusterRole")?.rules;
{
  const where = "cairn-operator defaults";
  const { c, arg, pod } = operatorCommon(defaults, where);
  check(eq(kinds(defaults), [
    "ClusterRole/cairn-operator", "ClusterRoleBinding/cairn-operator", "Deployment/cairn-system/cairn-operator",
    "Role/cairn-system/cairn-operator-leader-election", "RoleBinding/cairn-system/cairn-operator-leader-election",
    "Service/cairn-system/cairn-operator-metrics", "ServiceAccount/cairn-system/cairn-operator",
  ]), `${where}: objects are ${kinds(defaults).join(", ")}`);
  check(find(defaults, "Deployment").spec.replicas === 2, `${where}: replicas is not 2`);
  check(eq(arg("--leader-election-namespace"), ["$(POD_NAMESPACE)"]) && eq(arg("--leader-election-id"), ["cairn-operator"]),
    `${where}: leader-election flags are ${c.args}`);
  check(eq(arg("--default-cairn-image"), ["cairn"]), `${where}: --default-cairn-image is not cairn`);
  check(eq(arg("--log-level"), ["info"]) && eq(arg("--log-format"), ["text"]), `${where}: log flags are ${c.args}`);
  check(arg("--namespace").length === 0, `${where}: --namespace is set`);
  check(c.image === "cairn-operator:0.1.0" && c.imagePullPolicy === "IfNotPresent", `${where}: image is ${c.image} ${c.imagePullPolicy}`);
  check(pod.metadata.annotations?.["prometheus.io/scrape"] === "true", `${where}: no prometheus.io annotations`);
  const le = find(defaults, "Role", "cairn-operator-leader-election", "cairn-system");
  check(le && same(le.rules, [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"],
    verbs: ["get", "list", "watch", "create", "update", "patch"] }]), `${where}: leader-election Role rules`);
  check(Array.isArray(defaultRules) && defaultRules.length > 0, `${where}: ClusterRole has no rules`);
  // Least privilege: nothing cluster-wide beyond the listed resources, no wildcards, and
  // Secrets (the TLS certificates the operator issues) by name only: never listed or watched.
  for (const r of defaultRules ?? []) {
    check(![...r.apiGroups, ...r.resources, ...r.verbs].includes("*"), `${where}: wildcard in ClusterRole rule ${JSON.stringify(r)}`);
    if (r.resources.includes("secrets")) {
      check(eq(r.resources, ["secrets"]) && eq(r.verbs, ["get", "create", "update"]),
        `${where}: Secrets must be granted alone and by name only (get, create, update): ${JSON.stringify(r)}`);
    }
  }
  const crds = render("cairn-operator", undefined, undefined, ["--include-crds"]).filter((d) => d.kind === "CustomResourceDefinition");
  check(eq(crds.map((d) => d.metadata.name).sort(), ["etcdbackups.etcd.cairn.dev", "etcdclusters.etcd.cairn.dev"]), `${where}: --include-crds renders ${crds.map(objectId)}`);
  const notes = renderNotes("cairn-operator");
  for (const want of ["kubectl -n default apply -f -", "kind: EtcdCluster", "kubectl -n default get etcdcluster example -w",
    "rollout status deployment/cairn-operator", "helm upgrade\" does not update CRDs", "deleting the CRD"]) {
    check(notes.includes(want), `${where}: NOTES.txt does not say ${JSON.stringify(want)}:\n${notes}`);
  }
}
{
  const where = "cairn-operator values/namespaced.yaml";
  const docs = render("cairn-operator", "namespaced.yaml");
  const { arg } = operatorCommon(docs, where);
  check(!find(docs, "ClusterRole") && !find(docs, "ClusterRoleBinding"), `${where}: renders a ClusterRole(Binding)`);
  const role = find(docs, "Role", "cairn-operator", "team-a");
  check(role && same(role.rules, defaultRules), `${where}: the Role in team-a does not carry the ClusterRole's rules`);
  check(find(docs, "RoleBinding", "cairn-operator", "team-a")?.roleRef.name === "cairn-operator", `${where}: no RoleBinding in team-a`);
  check(find(docs, "Role", "cairn-operator-leader-election", "cairn-system"), `${where}: no leader-election Role in the release namespace`);
  check(eq(arg("--namespace"), ["team-a"]), `${where}: --namespace is ${arg("--namespace")}`);
  check(eq(arg("--leader-election-id"), ["cairn-operator-team-a"]), `${where}: --leader-election-id is ${arg("--leader-election-id")}`);
  const notes = renderNotes("cairn-operator", "namespaced.yaml");
  check(notes.includes("in namespace team-a only") && notes.includes("kubectl -n team-a get etcdcluster example -w"),
    `${where}: NOTES.txt does not point at team-a:\n${notes}`);
}
{
  const where = "cairn-operator values/servicemonitor.yaml";
  const docs = render("cairn-operator", "servicemonitor.yaml");
  const { svc } = operatorCommon(docs, where);
  const sm = find(docs, "ServiceMonitor");
  if (check(sm, `${where}: no ServiceMonitor`)) {
    check(sm.apiVersion === "monitoring.coreos.com/v1", `${where}: ServiceMonitor apiVersion ${sm.apiVersion}`);
    check(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels[k] === v),
      `${where}: ServiceMonitor selector does not match the metrics Service`);
    check(eq(sm.spec.namespaceSelector?.matchNames, ["cairn-system"]), `${where}: ServiceMonitor namespaceSelector`);
    const ep = sm.spec.endpoints?.[0] ?? {};
    check(svc.spec.ports.some((p) => p.name === ep.port) && ep.path === "/metrics", `${where}: endpoint ${JSON.stringify(ep)}`);
    check(ep.interval === "15s" && ep.scrapeTimeout === "10s", `${where}: interval/scrapeTimeout ${JSON.stringify(ep)}`);
    check(sm.metadata.labels.release === "prometheus", `${where}: serviceMonitor.labels not applied`);
  }
  check(svc?.metadata.annotations?.["example.com/owner"] === "platform", `${where}: metrics.service.annotations not applied`);
}
{
  const where = "cairn-operator values/pull-secrets.yaml";
  const docs = render("cairn-operator", "pull-secrets.yaml");
  const { pod, c, arg, dep } = operatorCommon(docs, where);
  check(same(pod.spec.imagePullSecrets, [{ name: "regcred" }, { name: "mirror-cred" }]), `${where}: imagePullSecrets ${JSON.stringify(pod.spec.imagePullSecrets)}`);
  check(c.image === "registry.example.com:5000/cairn/cairn-operator:0.1.1" && c.imagePullPolicy === "Always", `${where}: image ${c.image} ${c.imagePullPolicy}`);
  check(eq(arg("--default-cairn-image"), ["registry.example.com:5000/cairn/cairn"]), `${where}: --default-cairn-image ${arg("--default-cairn-image")}`);
  check(dep.metadata.labels["app.kubernetes.io/version"] === "0.1.1", `${where}: version label does not follow image.tag`);
}
{
  const where = "cairn-operator values/scheduling.yaml";
  const docs = render("cairn-operator", "scheduling.yaml");
  const { pod, c, arg, dep } = operatorCommon(docs, where);
  const values = parseDocs(fs.readFileSync(path.join(TESTS, "values/cairn-operator/scheduling.yaml"), "utf8"), "scheduling.yaml")[0];
  check(dep.spec.replicas === 3, `${where}: replicas ${dep.spec.replicas}`);
  for (const key of ["tolerations", "affinity", "nodeSelector", "priorityClassName"]) {
    check(same(pod.spec[key], values[key]), `${where}: pod ${key} is ${JSON.stringify(pod.spec[key])}`);
  }
  check(same(c.resources, values.resources), `${where}: resources ${JSON.stringify(c.resources)}`);
  check(eq(arg("--log-level"), ["debug"]) && eq(arg("--log-format"), ["json"]), `${where}: log flags ${c.args}`);
  check(pod.metadata.annotations["example.com/team"] === "storage" && pod.metadata.annotations["prometheus.io/scrape"] === "true",
    `${where}: pod annotations ${JSON.stringify(pod.metadata.annotations)}`);
  check(pod.metadata.labels["example.com/tier"] === "operators" && !("example.com/tier" in dep.spec.selector.matchLabels),
    `${where}: podLabels must label the pods and stay out of the selector`);
}
{
  const where = "cairn-operator values/minimal.yaml";
  const docs = render("cairn-operator", "minimal.yaml");
  const { pod, arg } = operatorCommon(docs, where);
  check(eq(kinds(docs), ["ClusterRole/cairn", "ClusterRoleBinding/cairn", "Deployment/cairn-system/cairn"]), `${where}: objects are ${kinds(docs)}`);
  check(arg("--leader-election-id").length === 0 && arg("--leader-election-namespace").length === 0, `${where}: leader-election flags set`);
  check(pod.spec.serviceAccountName === "existing-operator-sa", `${where}: serviceAccountName ${pod.spec.serviceAccountName}`);
  check(!pod.metadata.annotations, `${where}: pod annotations ${JSON.stringify(pod.metadata.annotations)}`);
}

// ---- cairn-cluster ----------------------------------------------------------------------
{
  const where = "cairn-cluster defaults";
  const docs = render("cairn-cluster");
  common(docs, where, "cairn-cluster");
  check(eq(kinds(docs), ["EtcdCluster/db/example"]), `${where}: objects are ${kinds(docs)}`);
  const spec = docs[0]?.spec ?? {};
  check(same(spec, { replicas: 3, version: "0.1.0", paused: false, storage: { size: "1Gi", reclaimPolicy: "Delete" } }),
    `${where}: spec ${JSON.stringify(spec)}`);
  const notes = renderNotes("cairn-cluster");
  check(notes.includes("kubectl -n db get etcdcluster example -w") && notes.includes("example-client"), `${where}: NOTES.txt:\n${notes}`);
}
{
  const where = "cairn-cluster values/full.yaml";
  const docs = render("cairn-cluster", "full.yaml");
  common(docs, where, "cairn-cluster");
  const v = parseDocs(fs.readFileSync(path.join(TESTS, "values/cairn-cluster/full.yaml"), "utf8"), "full.yaml")[0];
  const ec = find(docs, "EtcdCluster", "orders", "db");
  if (check(ec, `${where}: no EtcdCluster db/orders`)) {
    check(same(ec.spec, {
      replicas: v.replicas, version: String(v.version), image: v.image, imagePullPolicy: v.imagePullPolicy, paused: v.paused,
      storage: { size: v.storage.size, storageClassName: v.storage.storageClassName, reclaimPolicy: v.storage.reclaimPolicy },
      resources: v.resources, options: v.options, podTemplate: v.podTemplate,
      tls: v.tls, auth: v.auth, backup: v.backup, bootstrap: v.bootstrap,
    }), `${where}: spec ${JSON.stringify(ec.spec)}`);
    check(ec.metadata.labels["example.com/team"] === "orders" && ec.metadata.annotations["example.com/owner"] === "orders",
      `${where}: labels/annotations not applied`);
  }
}
{
  const where = "cairn-cluster values/emptydir.yaml";
  const docs = render("cairn-cluster", "emptydir.yaml");
  check(same(docs[0]?.spec.storage, { emptyDir: { medium: "Memory", sizeLimit: "512Mi" }, reclaimPolicy: "Delete" }),
    `${where}: storage ${JSON.stringify(docs[0]?.spec.storage)}`);
}

// ---- value sets the charts must refuse --------------------------------------------------
for (const chart of ["cairn-operator", "cairn-cluster"]) {
  const dir = path.join(TESTS, "values", chart, "fail");
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    const where = `${chart} values/fail/${file}`;
    const wants = expectErrors(path.join(dir, file));
    check(wants.length > 0, `${where}: no "# expect-error:" lines`);
    const [release, ns] = RELEASE[chart];
    const r = helm(["template", release, path.join(CHARTS, chart), "-n", ns, "-f", path.join(dir, file)]);
    if (!check(!r.ok, `${where}: helm template succeeded; the chart must refuse these values`)) continue;
    for (const want of wants) check(r.err.includes(want), `${where}: the error does not mention ${JSON.stringify(want)}:\n${r.err}`);
    console.log(`ok: ${where}: refused: ${r.err.trim().split("\n").filter((l) => l && !l.startsWith("Use --debug")).join(" ")}`);
  }
}

for (const f of failures) console.log(`FAIL: ${f}`);
console.log(`${checks} check(s), ${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
