#!/usr/bin/env node
// Writes the strict, self-contained JSON schemas that kubeconform needs for the kinds in rendered
// manifests, without any network access:
//   - built-in kinds from the schemas shipped in the kubernetes-validate package (one file per kind
//     that $refs a shared _definitions.json; the references a kind needs are inlined under $defs);
//   - custom resources from their CustomResourceDefinition YAML (openAPIV3Schema made strict:
//     additionalProperties false wherever properties are listed and unknown fields are not kept).
// Files are named as kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json, under one folder per
// Kubernetes version: OUT/v1.37.0/deployment-apps-v1.json, OUT/v1.37.0/servicemonitor-monitoring-v1.json.
//
// node scripts/chart/kube-schemas.mjs --kube-schemas DIR --out DIR --kube-version 1.37.0 \
//   [--kube-version ...] [--crd FILE ...] MANIFEST...
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// References in a kind's file point into _definitions.json; those inside it are local.
const DEFINITION_PREFIXES = ['/api/_definitions.json#/$defs/', '#/$defs/'];

function parseArgs(argv) {
  const options = { kubeSchemas: '', out: '', kubeVersions: [], crds: [], manifests: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => {
      const value = argv[(i += 1)];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--kube-schemas') options.kubeSchemas = next();
    else if (arg === '--out') options.out = next();
    else if (arg === '--kube-version') options.kubeVersions.push(next().replace(/^v/, ''));
    else if (arg === '--crd') options.crds.push(next());
    else options.manifests.push(arg);
  }
  if (!options.kubeSchemas || !options.out || options.kubeVersions.length === 0) {
    throw new Error(
      'usage: --kube-schemas DIR --out DIR --kube-version X.Y.Z [--crd FILE] MANIFEST...',
    );
  }
  return options;
}

/** kubeconform's file name for a kind: lower-case kind, first label of the group, version. */
export function schemaFileName(apiVersion, kind) {
  const [groupOrVersion, maybeVersion] = apiVersion.split('/');
  const suffix =
    maybeVersion === undefined
      ? `-${groupOrVersion}`
      : `-${groupOrVersion.split('.')[0]}-${maybeVersion}`;
  return `${kind.toLowerCase()}${suffix}.json`;
}

function readYamlDocuments(file) {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS();
    })
    .filter((doc) => doc !== null && typeof doc === 'object');
}

/** Inlines every definition a built-in kind's schema reaches, so the file stands alone. */
function standaloneBuiltIn(kindSchema, definitions) {
  const needed = new Map();
  const queue = [];
  const rewrite = (node) => {
    if (Array.isArray(node)) {
      node.forEach(rewrite);
    } else if (node !== null && typeof node === 'object') {
      const prefix = DEFINITION_PREFIXES.find((p) => String(node.$ref).startsWith(p));
      if (typeof node.$ref === 'string' && prefix !== undefined) {
        const name = node.$ref.slice(prefix.length);
        node.$ref = `#/$defs/${name}`;
        if (!needed.has(name)) {
          const definition = definitions[name];
          if (definition === undefined) throw new Error(`missing definition ${name}`);
          const copy = structuredClone(definition);
          needed.set(name, copy);
          queue.push(copy);
        }
      }
      for (const [key, value] of Object.entries(node)) if (key !== '$ref') rewrite(value);
    }
  };
  const schema = structuredClone(kindSchema);
  delete schema.$id;
  rewrite(schema);
  while (queue.length > 0) rewrite(queue.shift());
  schema.$defs = Object.fromEntries([...needed.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return schema;
}

/** OpenAPI v3 (as in a CRD) → JSON schema that rejects unknown fields. */
function strictFromOpenApi(node) {
  if (Array.isArray(node)) return node.map(strictFromOpenApi);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === 'enum' || key === 'default' || key === 'example' ? value : strictFromOpenApi(value);
  }
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined) {
    out.anyOf = out.anyOf ?? [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

function crdSchemas(files) {
  const byFileName = new Map();
  for (const file of files) {
    for (const doc of readYamlDocuments(file)) {
      if (doc.kind !== 'CustomResourceDefinition') continue;
      const { group, names, versions } = doc.spec;
      for (const version of versions) {
        const openApi = version.schema?.openAPIV3Schema;
        if (openApi === undefined) continue;
        const apiVersion = `${group}/${version.name}`;
        const schema = strictFromOpenApi(openApi);
        schema.properties = {
          ...schema.properties,
          apiVersion: { type: 'string', enum: [apiVersion] },
          kind: { type: 'string', enum: [names.kind] },
        };
        byFileName.set(schemaFileName(apiVersion, names.kind), { schema, source: file });
      }
    }
  }
  return byFileName;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const kinds = new Map();
  for (const file of options.manifests) {
    for (const doc of readYamlDocuments(file)) {
      kinds.set(schemaFileName(doc.apiVersion, doc.kind), `${doc.apiVersion} ${doc.kind}`);
    }
  }
  const crds = crdSchemas(options.crds);
  let missing = 0;
  for (const kubeVersion of options.kubeVersions) {
    const source = join(options.kubeSchemas, `v${kubeVersion}-local-strict`);
    const outDir = join(options.out, `v${kubeVersion}`);
    mkdirSync(outDir, { recursive: true });
    let definitions;
    for (const [fileName, label] of [...kinds.entries()].sort()) {
      const target = join(outDir, fileName);
      const builtIn = join(source, fileName);
      const crd = crds.get(fileName);
      let from;
      if (existsSync(builtIn)) {
        from = `Kubernetes v${kubeVersion}`;
        if (!existsSync(target)) {
          definitions ??= JSON.parse(readFileSync(join(source, '_definitions.json'), 'utf8')).$defs;
          const schema = standaloneBuiltIn(JSON.parse(readFileSync(builtIn, 'utf8')), definitions);
          writeFileSync(target, JSON.stringify(schema));
        }
      } else if (crd !== undefined) {
        from = `CRD ${crd.source.split('/').slice(-1)[0]}`;
        if (!existsSync(target)) writeFileSync(target, JSON.stringify(crd.schema));
      } else {
        missing += 1;
        console.log(
          `  schema  v${kubeVersion}  ${label}: NO SCHEMA (neither built in nor a known CRD)`,
        );
        continue;
      }
      console.log(`  schema  v${kubeVersion}  ${label} ← ${from}`);
    }
  }
  if (missing > 0) process.exitCode = 1;
}

main();
