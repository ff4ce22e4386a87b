// Shared by the chart checks: loading the tools tools/install-helm.sh installed, reading
// multi-document YAML, and validating manifests against the Kubernetes OpenAPI schemas of
// kubernetes-models (plus unknown-field detection, which its validators do not do).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const toolsDir = process.env.CAIRN_TOOLS_DIR;
if (!toolsDir || !fs.existsSync(path.join(toolsDir, "node_modules", "kubernetes-models"))) {
  console.error(`kubernetes-models not found under CAIRN_TOOLS_DIR=${toolsDir}: run tools/install-helm.sh`);
  process.exit(2);
}
const modulesDir = path.join(toolsDir, "node_modules");
export const require = createRequire(path.join(toolsDir, "package.json"));
export const YAML = require("yaml");
export const modelsVersion = require("kubernetes-models/package.json").version;

// Custom resources: validated elsewhere (EtcdCluster: against the CRD's schema by
// cluster_crd_test) or not at all (ServiceMonitor: only its apiVersion and kind are checked).
export const CUSTOM_KINDS = {
  EtcdCluster: "etcd.cairn.dev/v1alpha1",
  ServiceMonitor: "monitoring.coreos.com/v1",
};

/** Every non-empty document of a multi-document YAML text; throws on a YAML error. */
export function parseDocs(text, source) {
  const docs = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${source}: YAML error: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

export function readDocs(file) {
  return parseDocs(fs.readFileSync(file === "-" ? 0 : file, "utf8"), file);
}

export function objectId(obj) {
  const ns = obj?.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
  return `${obj?.kind ?? "<no kind>"}/${ns}${obj?.metadata?.name ?? "<no name>"}`;
}

// ---- Field index from the models' TypeScript declarations --------------------------------
// The compiled validators check types, enums, formats and required fields but let unknown
// fields through, which the API server (strict field validation) rejects or silently drops.
// The .d.ts files list every field of every type; they are indexed once per process.

let fieldIndex = null;

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

// Splits an interface body into [name, optional, type] triples.
function parseProps(body) {
  const props = [];
  const re = /"([^"]+)"(\?)?\s*:\s*/g;
  let m;
  while ((m = re.exec(body)) !== null) {
    let depth = 0;
    let i = re.lastIndex;
    for (; i < body.length; i++) {
      const c = body[i];
      if (c === "{" || c === "<" || c === "(" || c === "[") depth++;
      else if (c === "}" || c === ">" || c === ")" || c === "]") depth--;
      else if (c === ";" && depth === 0) break;
    }
    props.push([m[1], m[2] === "?", body.slice(re.lastIndex, i).trim()]);
    re.lastIndex = i + 1;
  }
  return props;
}

function walkDts(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "_schemas") walkDts(p, out);
    } else if (entry.name.endsWith(".d.ts")) {
      out.push(p);
    }
  }
}

function buildIndex() {
  const files = [];
  walkDts(path.join(modulesDir, "kubernetes-models"), files);
  walkDts(path.join(modulesDir, "@kubernetes-models", "apimachinery"), files);
  const interfaces = new Map(); // global name -> {props: Map(name -> typeString), file, local: Map}
  const byFile = new Map(); // file -> Map(local interface name -> global name)
  for (const file of files) {
    const text = stripComments(fs.readFileSync(file, "utf8"));
    const locals = new Map();
    for (const m of text.matchAll(/export interface (\w+)(?:\s+extends\s+TypeMeta)?\s*\{([\s\S]*?)\n\}/g)) {
      locals.set(m[1], { props: new Map(parseProps(m[2]).map(([n, , t]) => [n, t])), file });
    }
    const aliases = new Map();
    for (const m of text.matchAll(/export \{ (\w+) as (\w+)/g)) aliases.set(m[1], m[2]);
    const localToGlobal = new Map();
    for (const [local, def] of locals) {
      const global = aliases.get(local) ?? `${file}#${local}`;
      localToGlobal.set(local, global);
      def.localToGlobal = localToGlobal;
      interfaces.set(global, def);
    }
    byFile.set(file, localToGlobal);
  }
  return { interfaces, byFile };
}

function typeDescriptor(typeStr, localToGlobal) {
  const t = typeStr.trim();
  let m = /^Array<([\s\S]+)>$/.exec(t);
  if (m) return { array: typeDescriptor(m[1], localToGlobal) };
  m = /^\{\s*\[key: string\]:\s*([\s\S]+?);?\s*\}$/.exec(t);
  if (m) return { map: typeDescriptor(m[1], localToGlobal) };
  if (/^\w+$/.test(t)) {
    const global = localToGlobal.get(t) ?? t;
    const def = fieldIndex.interfaces.get(global);
    if (def && def.props.size > 0) return { object: def };
  }
  return null; // a scalar, a union of literals, or an opaque type (JSON, RawExtension, ...)
}

function unknownFields(value, def, at, errors) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const typeStr = def.props.get(key);
    if (typeStr === undefined) {
      errors.push(`${at}/${key}: unknown field "${key}"`);
      continue;
    }
    checkType(child, typeDescriptor(typeStr, def.localToGlobal), `${at}/${key}`, errors);
  }
}

function checkType(value, desc, at, errors) {
  if (!desc || value === null || value === undefined) return;
  if (desc.array && Array.isArray(value)) value.forEach((v, i) => checkType(v, desc.array, `${at}/${i}`, errors));
  else if (desc.map && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) checkType(v, desc.map, `${at}/${k}`, errors);
  } else if (desc.object) unknownFields(value, desc.object, at, errors);
}

// ---- Validation ------------------------------------------------------------------------

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[\w.-]+(\/[\w.-]+)?$/.test(apiVersion)) {
    return null;
  }
  const dir = path.join(modulesDir, "kubernetes-models", ...apiVersion.split("/"));
  const dts = path.join(dir, `${kind}.d.ts`);
  if (!fs.existsSync(dts)) return null;
  const Model = require(`kubernetes-models/${apiVersion}`)[kind];
  return Model ? { Model, dts } : null;
}

/** Errors of one object, as "Kind/ns/name: /path message" strings; [] when valid. */
export function validateObject(obj) {
  const id = objectId(obj);
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return [`${id}: not an object`];
  const errors = [];
  if (!obj.metadata?.name) errors.push(`${id}: metadata.name is missing`);
  if (obj.kind in CUSTOM_KINDS) {
    if (obj.apiVersion !== CUSTOM_KINDS[obj.kind]) {
      errors.push(`${id}: apiVersion ${obj.apiVersion}, expected ${CUSTOM_KINDS[obj.kind]}`);
    }
    return errors;
  }
  const model = modelFor(obj.apiVersion, obj.kind);
  if (!model) return [`${id}: no schema for apiVersion ${obj.apiVersion} kind ${obj.kind} in kubernetes-models ${modelsVersion}`];
  try {
    new model.Model(obj).validate();
  } catch (e) {
    for (const err of e.errors ?? [{ instancePath: "", message: e.message }]) {
      const extra = err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : "";
      errors.push(`${id}: ${err.instancePath || "/"} ${err.message}${extra}`);
    }
  }
  fieldIndex ??= buildIndex();
  const top = fieldIndex.interfaces.get(fieldIndex.byFile.get(model.dts)?.get(`I${obj.kind}`));
  if (!top) return [...errors, `${id}: no field list for ${obj.kind} in ${model.dts}`];
  const unknown = [];
  unknownFields(obj, top, "", unknown);
  return [...errors, ...unknown.map((u) => `${id}: ${u}`)];
}
