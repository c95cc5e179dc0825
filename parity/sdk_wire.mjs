// @clerk/backend 3.25.0 as a client of the served fake, on every Backend API endpoint the fake
// serves (run by parity/sdk_wire.py, which serves the fake and checks its answers against
// Clerk's OpenAPI spec).
//
// stdin: {apiUrl, secretKey, machineSecretKey, machineId, oauthToken}
// stdout: one JSON array of {name, ok, detail}; every fetch to a host that is not loopback throws.

import { createClerkClient } from '@clerk/backend';

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`refused a request to ${url.hostname}: only the local fake is reachable`);
  }
  return realFetch(input, init);
};

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

const clerk = createClerkClient({
  secretKey: input.secretKey,
  apiUrl: input.apiUrl,
  machineSecretKey: input.machineSecretKey,
});
const results = [];

async function check(name, run) {
  try {
    const detail = await run();
    results.push({ name, ok: true, detail: detail ?? null });
  } catch (error) {
    results.push({ name, ok: false, detail: `${error?.status ?? ''} ${error?.message ?? error}` });
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const ORG = `org_${'o'.repeat(27)}`;

// JWKS (versioned).
await check('jwks.getJwks', async () => {
  const jwks = await clerk.jwks.getJwks();
  expect(jwks.keys.length >= 1, 'no keys');
});

// Machines (versioned, instance key).
let ledger;
let billing;
await check('machines.create', async () => {
  ledger = await clerk.machines.create({ name: 'ledger' });
  billing = await clerk.machines.create({ name: 'billing', scopedMachines: [ledger.id], defaultTokenTtl: 120 });
  expect(billing.secretKey && billing.scopedMachines[0].id === ledger.id, 'scoped machines');
});
await check('machines.list', async () => {
  const page = await clerk.machines.list({ limit: 2, orderBy: '-created_at' });
  expect(page.data[0].id === billing.id && page.data[1].id === ledger.id, 'newest first');
  expect(page.totalCount === 3, `totalCount ${page.totalCount}`);
});
await check('machines.get', async () => {
  expect((await clerk.machines.get(ledger.id)).name === 'ledger', 'name');
});
await check('machines.update', async () => {
  expect((await clerk.machines.update({ machineId: ledger.id, name: 'ledger-2' })).name === 'ledger-2', 'name');
});
await check('machines.getSecretKey', async () => {
  expect((await clerk.machines.getSecretKey(billing.id)).secret.startsWith('ak_'), 'secret');
});
await check('machines.rotateSecretKey', async () => {
  expect((await clerk.machines.rotateSecretKey({ machineId: billing.id, previousTokenTtl: 0 })).secret, 'secret');
});
await check('machines.createScope', async () => {
  const scope = await clerk.machines.createScope(ledger.id, billing.id);
  expect(scope.fromMachineId === ledger.id && scope.toMachineId === billing.id, 'ids');
});
await check('machines.deleteScope', async () => {
  expect((await clerk.machines.deleteScope(ledger.id, billing.id)).deleted === true, 'deleted');
});
await check('machines.delete', async () => {
  expect((await clerk.machines.delete(ledger.id)).deleted === true, 'deleted');
});

// M2M tokens (unversioned, machine key).
let first;
let second;
await check('m2m.createToken', async () => {
  first = await clerk.m2m.createToken({ secondsUntilExpiration: 600, claims: { job: 'a' } });
  second = await clerk.m2m.createToken();
  expect(first.token.startsWith('mt_') && first.subject === input.machineId, 'subject');
  expect(first.expiration === first.createdAt + 600000, 'expiration in ms');
});
await check('m2m.createToken jwt', async () => {
  const jwt = await clerk.m2m.createToken({ tokenFormat: 'jwt' });
  expect(jwt.token.split('.').length === 3, 'compact JWT');
});
await check('m2m.list', async () => {
  const page = await clerk.m2m.list({ subject: input.machineId });
  expect(page.data[0].id === second.id && page.data[1].id === first.id, 'newest first');
  const one = await clerk.m2m.list({ subject: input.machineId, limit: 1, offset: 1 });
  expect(one.data.length === 1 && one.data[0].id === first.id && one.totalCount === 2, 'page');
});
await check('m2m.verify', async () => {
  const verified = await clerk.m2m.verify({ token: first.token });
  expect(verified.id === first.id && verified.claims.job === 'a', 'token');
});
await check('m2m.revokeToken', async () => {
  const revoked = await clerk.m2m.revokeToken({ m2mTokenId: first.id, revocationReason: 'done' });
  expect(revoked.revoked && revoked.revocationReason === 'done', 'revoked');
});

// API keys (unversioned, instance key).
let key;
await check('apiKeys.create', async () => {
  key = await clerk.apiKeys.create({ name: 'ci-key', subject: ORG, scopes: ['read'], claims: { env: 'ci' } });
  expect(key.secret.startsWith('ak_') && key.subject === ORG, 'created');
});
await check('apiKeys.list', async () => {
  const page = await clerk.apiKeys.list({ subject: ORG });
  expect(page.data[0].id === key.id && page.totalCount === 1, 'listed');
});
await check('apiKeys.get', async () => {
  expect((await clerk.apiKeys.get(key.id)).name === 'ci-key', 'name');
});
await check('apiKeys.update', async () => {
  const updated = await clerk.apiKeys.update({ apiKeyId: key.id, subject: ORG, scopes: ['read', 'write'] });
  expect(updated.scopes.length === 2 && updated.claims.env === 'ci', 'updated');
});
await check('apiKeys.getSecret', async () => {
  expect((await clerk.apiKeys.getSecret(key.id)).secret === key.secret, 'secret');
});
await check('apiKeys.verify', async () => {
  expect((await clerk.apiKeys.verify(key.secret)).id === key.id, 'verified');
});
await check('apiKeys.revoke', async () => {
  expect((await clerk.apiKeys.revoke({ apiKeyId: key.id, revocationReason: 'x' })).revoked, 'revoked');
});
await check('apiKeys.delete', async () => {
  const deleted = await clerk.apiKeys.delete(key.id);
  expect(deleted.deleted === true && deleted.id === key.id, 'deleted');
});

// OAuth access tokens (unversioned, instance key).
await check('idPOAuthAccessToken.verify', async () => {
  const verified = await clerk.idPOAuthAccessToken.verify(input.oauthToken);
  expect(verified.scopes[0] === 'email', 'scopes');
});

// Errors: Clerk's body reaches the SDK's ClerkAPIResponseError.
await check('errors are ClerkAPIResponseError', async () => {
  try {
    await clerk.apiKeys.create({ name: 'x', subject: 'user_1' });
  } catch (error) {
    expect(error.status === 400 && error.errors[0].code && error.clerkTraceId, 'error shape');
    return;
  }
  throw new Error('no error');
});

process.stdout.write(JSON.stringify(results));
