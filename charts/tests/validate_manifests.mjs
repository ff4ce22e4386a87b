// Validates rendered manifests against the Kubernetes OpenAPI schemas (kubernetes-models).
//
//   node validate_manifests.mjs FILE...            every object of every file must be valid
//   node validate_manifests.mjs --expect-invalid FILE...
//       self-check: every file must be reported invalid, with an error containing each of
//       its "# expect: <text>" lines (proves the validator rejects what it should)
//
// Exit status 0 when everything is as expected, 1 otherwise; every finding is printed.
import fs from "node:fs";
import { readDocs, validateObject, objectId, modelsVersion } from "./k8s.mjs";

const args = process.argv.slice(2);
const expectInvalid = args[0] === "--expect-invalid";
const files = expectInvalid ? args.slice(1) : args;
if (files.length === 0) {
  console.error("usage: validate_manifests.mjs [--expect-invalid] FILE...");
  process.exit(2);
}

let failures = 0;
for (const file of files) {
  let docs;
  try {
    docs = readDocs(file);
  } catch (e) {
    console.log(`FAIL: ${e.message}`);
    failures++;
    continue;
  }
  const errors = docs.flatMap(validateObject);
  if (!expectInvalid) {
    if (docs.length === 0) {
      console.log(`FAIL: ${file}: no objects`);
      failures++;
    }
    for (const e of errors) console.log(`FAIL: ${file}: ${e}`);
    failures += errors.length;
    if (errors.length === 0) {
      console.log(`ok: ${file}: ${docs.length} object(s) valid (${docs.map(objectId).join(", ")})`);
    }
    continue;
  }
  const wants = fs.readFileSync(file, "utf8").split("\n")
    .filter((l) => l.startsWith("# expect:")).map((l) => l.slice("# expect:".length).trim());
  if (wants.length === 0) {
    console.log(`FAIL: ${file}: a deliberately broken manifest needs "# expect:" lines`);
    failures++;
  }
  if (errors.length === 0) {
    console.log(`FAIL: ${file}: deliberately broken manifest was accepted: the validator is not working`);
    failures++;
    continue;
  }
  for (const want of wants) {
    if (!errors.some((e) => e.includes(want))) {
      console.log(`FAIL: ${file}: no error mentions ${JSON.stringify(want)}; got:\n  ${errors.join("\n  ")}`);
      failures++;
    }
  }
  console.log(`ok: ${file}: rejected as expected:\n  ${errors.join("\n  ")}`);
}
console.log(`kubernetes-models ${modelsVersion}: ${failures} failure(s)`);
process.exit(failures ? 1 : 0);
