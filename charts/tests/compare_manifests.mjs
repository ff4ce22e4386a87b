// Compares the no-Helm install (kubectl kustomize deploy/operator) with the chart's
// default rendering (helm template cairn-operator charts/cairn-operator -n cairn-system
// --include-crds): the same objects, by kind/namespace/name, with equal content, once the
// labels only Helm adds are taken out.
//
//   node compare_manifests.mjs KUSTOMIZE.yaml HELM.yaml
import { readDocs, objectId } from "./k8s.mjs";

// Labels that only the chart sets (release bookkeeping); removed from every label map and
// label selector on both sides before comparing.
const HELM_ONLY_LABELS = [
  "helm.sh/chart",
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
];
// Objects that only one side has by design: kubectl apply -k creates the namespace, while
// helm install takes -n NAMESPACE --create-namespace.
const ONLY_IN_KUSTOMIZE = new Set(["Namespace/cairn-system"]);
const ONLY_IN_HELM = new Set([]);

function isStringMap(v) {
  return v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize);
  if (!value || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === "labels" || k === "matchLabels" || k === "selector") && isStringMap(v)) {
      const kept = Object.fromEntries(Object.entries(v).filter(([label]) => !HELM_ONLY_LABELS.includes(label)));
      if (Object.keys(kept).length) out[k] = kept;
      continue;
    }
    out[k] = normalize(v);
  }
  return out;
}

function differences(a, b, at, out) {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
      out.push(ja.length + jb.length < 400
        ? `${at}: deploy/ has ${ja}, the chart has ${jb}`
        : `${at}: ${a.length} item(s) in deploy/, ${b.length} in the chart`);
    }
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${at}[${i}]`, out);
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in b)) out.push(`${at}.${k}: only in deploy/: ${JSON.stringify(a[k])}`);
      else if (!(k in a)) out.push(`${at}.${k}: only in the chart: ${JSON.stringify(b[k])}`);
      else differences(a[k], b[k], `${at}.${k}`, out);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${at}: deploy/ has ${JSON.stringify(a)}, the chart has ${JSON.stringify(b)}`);
  }
}

function index(docs, source, failures) {
  const map = new Map();
  for (const doc of docs) {
    const id = objectId(doc);
    if (map.has(id)) failures.push(`${source} renders ${id} twice`);
    map.set(id, normalize(doc));
  }
  return map;
}

const [kustomizeFile, helmFile] = process.argv.slice(2);
if (!helmFile) {
  console.error("usage: compare_manifests.mjs KUSTOMIZE.yaml HELM.yaml");
  process.exit(2);
}
const failures = [];
const deploy = index(readDocs(kustomizeFile), "deploy/operator", failures);
const chart = index(readDocs(helmFile), "charts/cairn-operator", failures);

for (const id of deploy.keys()) {
  if (!chart.has(id) && !ONLY_IN_KUSTOMIZE.has(id)) failures.push(`${id}: in deploy/operator, not in the chart`);
}
for (const id of chart.keys()) {
  if (!deploy.has(id) && !ONLY_IN_HELM.has(id)) failures.push(`${id}: in the chart, not in deploy/operator`);
}
for (const id of ONLY_IN_KUSTOMIZE) {
  if (!deploy.has(id)) failures.push(`${id}: expected in deploy/operator only, but missing there`);
}
let compared = 0;
for (const [id, a] of deploy) {
  const b = chart.get(id);
  if (!b) continue;
  compared++;
  const diffs = [];
  differences(a, b, "", diffs);
  for (const d of diffs) failures.push(`${id}: ${d}`);
  if (diffs.length && a.kind === "CustomResourceDefinition") {
    failures.push(`${id}: the chart's copy of the CRD is out of date: run tools/sync-chart-crds.sh`);
  }
}

for (const f of failures) console.log(`FAIL: ${f}`);
if (failures.length) {
  console.log("deploy/operator and charts/cairn-operator (default values) must render the same objects:");
  console.log("change both (the RBAC rules of the chart are in templates/_helpers.tpl, cairn-operator.rules).");
}
console.log(`${compared} object(s) compared; ${failures.length} difference(s)`);
process.exit(failures.length ? 1 : 0);
