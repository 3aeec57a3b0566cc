// The JSON Schemas of schemas/ checked by Taplo, the TOML toolkit behind editors' TOML
// support (VS Code's Even Better TOML among them): every file of the repository
// validates against its format's schema, and `.taplo.toml` sends an editor to the right
// schema for each kind of file, which then rejects one mistake per format.
//   scripts/check-schemas   (installs Taplo, pinned, into schemas/node_modules)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const taplo = join(here, 'node_modules', '.bin', 'taplo');

function tomlFiles(dir, deep) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && deep) out.push(...tomlFiles(p, deep));
    else if (e.isFile() && e.name.endsWith('.toml')) out.push(p);
  }
  return out.sort();
}

function check(args, cwd) {
  const r = spawnSync(taplo, ['check', '--colors', 'never', ...args], { cwd, encoding: 'utf8' });
  assert.equal(r.error, undefined, `cannot run ${taplo}: ${r.error}`);
  return r;
}

test('every file of the repository validates against its format schema', () => {
  const inScenarios = tomlFiles(join(root, 'scenarios'), true);
  const kinds = {
    scenario: inScenarios.filter((f) => !f.endsWith('/product.toml')),
    product: inScenarios.filter((f) => f.endsWith('/product.toml')),
    'rp-profile': tomlFiles(join(root, 'fixtures', 'rps'), false),
    tenant: tomlFiles(join(root, 'fixtures', 'tenants'), false),
  };
  for (const [kind, files] of Object.entries(kinds)) {
    assert.ok(files.length > 0, `no ${kind} files found`);
    const schema = pathToFileURL(join(here, `${kind}.schema.json`)).href;
    const r = check(['--no-auto-config', '--schema', schema, ...files], root);
    assert.equal(r.status, 0, `${kind} files that do not validate:\n${r.stderr}`);
  }
  // The catalog holds 141 scenarios and 5 vendor products today: a filter that lost
  // most of them would show here.
  assert.ok(kinds.scenario.length >= 100, `${kinds.scenario.length} scenario files`);
});

// One file per format, valid, and the same file with one mistake a person makes.
const samples = [
  {
    path: 'scenarios/mine/state.toml',
    good: 'id = "mine"\ntitle = "t"\nfaults = [{ id = "state-mismatch" }]\n\n[expect]\nresult = "reject"\ncode = "oidc_state_missing"\n',
    bad: 'id = "mine"\ntitle = "t"\nfaults = [{ id = "state-mismatch" }]\n\n[expect]\nresult = "rejekt"\ncode = "oidc_state_missing"\n',
    says: /rejekt/,
  },
  {
    path: 'scenarios/mine/fault.toml',
    good: 'id = "fault"\ntitle = "t"\nfaults = [{ id = "nonce-mismatch", times = 1 }]\n\n[expect]\nresult = "reject"\n',
    bad: 'id = "fault"\ntitle = "t"\nfaults = [{ id = "nonce-mismatched", times = 1 }]\n\n[expect]\nresult = "reject"\n',
    says: /nonce-mismatched/,
  },
  {
    path: 'scenarios/vendors/acme/product.toml',
    good: 'name = "Acme"\nplaybook = "docs/playbooks/acme.md"\n\n[[errors]]\nsays = "x"\nsymptom = "y"\n',
    bad: 'name = "Acme"\nplaybook = "docs/playbooks/acme.md"\n\n[[errors]]\nsays = "x"\nsymptoms = "y"\n',
    says: /symptom/,
  },
  {
    path: 'fixtures/rps/mine.toml',
    good: 'name = "mine"\nlogin_url = "http://127.0.0.1:1/login"\nredirect_uris = ["http://127.0.0.1:1/cb"]\nclient_id = "c"\ntimeout_secs = 5\n\n[success]\nbody = "{email}"\n',
    bad: 'name = "mine"\nlogin_url = "http://127.0.0.1:1/login"\nredirect_uris = ["http://127.0.0.1:1/cb"]\nclient_id = "c"\ntimout_secs = 5\n\n[success]\nbody = "{email}"\n',
    says: /timout_secs/,
  },
  {
    path: 'fixtures/tenants/mine.toml',
    good: '[[users]]\nlogin = "a@example.com"\npassword = "p"\n\n[[clients]]\nclient_id = "c"\ntoken_endpoint_auth_method = "client_secret_basic"\n',
    bad: '[[users]]\nlogin = "a@example.com"\npassword = "p"\n\n[[clients]]\nclient_id = "c"\ntoken_endpoint_auth_method = "client_secret_basik"\n',
    says: /client_secret_basik/,
  },
];

function project(which) {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-harness-schemas-'));
  cpSync(join(root, '.taplo.toml'), join(dir, '.taplo.toml'));
  mkdirSync(join(dir, 'schemas'));
  for (const f of readdirSync(here).filter((f) => f.endsWith('.schema.json'))) {
    cpSync(join(here, f), join(dir, 'schemas', f));
  }
  for (const s of samples) {
    mkdirSync(join(dir, dirname(s.path)), { recursive: true });
    writeFileSync(join(dir, s.path), which(s));
  }
  return dir;
}

test('.taplo.toml sends each kind of file to its schema, which rejects a mistake', () => {
  const good = project((s) => s.good);
  try {
    const ok = check([], good);
    assert.equal(ok.status, 0, `the valid samples were refused:\n${ok.stderr}`);
    assert.match(ok.stderr, new RegExp(`found files total=${samples.length} `));
  } finally {
    rmSync(good, { recursive: true, force: true });
  }
  for (const s of samples) {
    const dir = project((t) => (t === s ? t.bad : t.good));
    try {
      const r = check([], dir);
      assert.notEqual(r.status, 0, `${s.path} with a mistake was accepted`);
      const invalid = [...r.stderr.matchAll(/invalid file .*path="([^"]+)"/g)].map((m) =>
        relative(dir, m[1]),
      );
      assert.deepEqual(invalid, [s.path], r.stderr);
      assert.match(r.stderr, s.says, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
