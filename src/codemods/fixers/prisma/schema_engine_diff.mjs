// Run Prisma's schema engine (npm package @prisma/schema-engine-wasm) offline for stabfix.
//
// Usage: node schema_engine_diff.mjs PACKAGE_DIR < request.json
// request: {"diffs": [{"from": "<schema text>" | null, "to": "<schema text>", "fromName"?, "toName"?}, ...]}
// answer (stdout, one JSON object): {"results": [{"ok": true, "stdout": "..."} | {"ok": false, "error": "..."}]}
//
// The engine needs a driver adapter even for a schema-to-schema diff: on creation it asks the
// database for its version once. A fake PostgreSQL 16 answers that; a datamodel-to-datamodel
// diff never touches a database. The wasm is loaded through the `schema_engine_bg` glue module so
// no experimental Node flag is needed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const pkgDir = process.argv[2];
const bg = await import(pathToFileURL(path.join(pkgDir, 'schema_engine_bg.js')).href);
const bytes = readFileSync(path.join(pkgDir, 'schema_engine_bg.wasm'));
const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
bg.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

const ok = (value) => ({ ok: true, value });
// ColumnTypeEnum of @prisma/driver-adapter-utils: Int32 = 0, Boolean = 5, Text = 7.
const VERSION_ROW = { columnNames: ['exists', 'version', 'numeric_version'], columnTypes: [5, 7, 0], rows: [[false, 'PostgreSQL 16.4 (stabfix offline)', 160004]] };

function fakeConnection() {
  return {
    provider: 'postgres',
    adapterName: 'stabfix-offline',
    async queryRaw() { return ok(VERSION_ROW); },
    async executeRaw() { return ok(0); },
    async executeScript() { return ok(undefined); },
    async startTransaction() { return { ok: false, error: { kind: 'GenericJs', id: 0 } }; },
    getConnectionInfo() { return ok({ schemaName: 'public', supportsRelationJoins: true }); },
    async dispose() { return ok(undefined); },
  };
}

const factory = {
  provider: 'postgres',
  adapterName: 'stabfix-offline',
  async connect() { return ok(fakeConnection()); },
  async connectToShadowDb() { return ok(fakeConnection()); },
};

function message(err) {
  if (err && typeof err === 'object') {
    if (typeof err.message === 'string' && err.message) return err.message;
    try { return JSON.stringify(err); } catch { /* fall through */ }
  }
  return String(err);
}

const request = JSON.parse(readFileSync(0, 'utf8'));
const engine = await bg.SchemaEngine.new({ datamodels: undefined }, () => {}, factory);
const results = [];
for (const item of request.diffs) {
  // a null schema means "empty database" (the first migration)
  const target = (name, content) => (content === null || content === undefined
    ? { tag: 'empty' }
    : { tag: 'schemaDatamodel', files: [{ path: name, content }] });
  try {
    const r = await engine.diff({
      from: target(item.fromName || 'from/schema.prisma', item.from),
      to: target(item.toName || 'to/schema.prisma', item.to),
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    results.push({ ok: true, stdout: r.stdout ?? '' });
  } catch (err) {
    results.push({ ok: false, error: message(err) });
  }
}
process.stdout.write(JSON.stringify({ results }));
