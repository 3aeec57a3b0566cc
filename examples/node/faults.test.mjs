// Arming a fault of the mock IdP from node:test, as a Node service's tests would.
//
// The IdP is the `oidc-harness idp` binary (OIDC_HARNESS names it), started on a free
// port; its admin API (docs/admin-api.json) arms and disarms faults and reads the
// journal. Here the fault is `discovery-unavailable`, for everyone: the discovery
// document answers 503 until it is disarmed. Any fault of docs/faults.md can be armed the
// same way, for one user or one client, once or until disarmed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

let idp;
let base;

before(async () => {
  idp = spawn(process.env.OIDC_HARNESS || 'oidc-harness', ['idp', '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let banner = '';
  while (!/listening on \S+\n/.test(banner)) {
    const [chunk] = await once(idp.stdout, 'data');
    banner += chunk;
  }
  base = /listening on (\S+)/.exec(banner)[1];
});

after(() => idp.kill('SIGTERM'));

const admin = (method, path, body) => fetch(`${base}/_harness${path}`, {
  method,
  headers: body ? { 'content-type': 'application/json' } : {},
  body: body ? JSON.stringify(body) : undefined,
});

test('discovery fails while the fault is armed', async () => {
  const discovery = `${base}/oauth2/default/.well-known/openid-configuration`;
  assert.equal((await fetch(discovery)).status, 200);
  const armed = await admin('POST', '/faults', { id: 'discovery-unavailable' });
  assert.equal(armed.status, 201);
  const { armed_id: id } = await armed.json();
  assert.equal((await fetch(discovery)).status, 503);
  assert.equal((await admin('DELETE', `/faults/armed/${id}`)).status, 204);
  assert.equal((await fetch(discovery)).status, 200);
});

test('an unknown fault is refused with its name', async () => {
  const resp = await admin('POST', '/faults', { id: 'no-such-fault' });
  assert.equal(resp.status, 400);
  assert.match(await resp.text(), /no-such-fault/);
});
