// Differential parity runner: feeds each case to @clerk/backend's authenticateRequest.
//
// stdin: a JSON array of cases
//   {id, now (ms), request: {method, url, headers: [[name, value], ...]},
//    client: {secretKey, publishableKey, apiUrl, jwtKey?, machineSecretKey?},
//    options: {acceptsToken?, authorizedParties?, audience?, issuer?, ...}}
// stdout: one JSON array, one result per case, in order:
//   {id, status, reason, message, tokenType, isAuthenticated, auth, authPending, toAuthError,
//    error, fetches}
// Clerk's time is frozen per case (Date.now and `new Date()`), and every fetch to a host that is
// not loopback throws: the only Clerk this runner talks to is the local fake. Results come back
// in input order.

import { AsyncLocalStorage } from 'node:async_hooks';
import { setNow } from './frozen_date.mjs';

const CONCURRENCY = 8;

// Clerk logs warnings (e.g. a missing azp) with console.*: keep stdout for the results.
for (const name of ['log', 'info', 'warn', 'debug']) {
  console[name] = (...args) => process.stderr.write(`[clerk ${name}] ${args.join(' ')}\n`);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const realFetch = globalThis.fetch;
// Each case's fetches are logged in its own async context (cases run a few at a time).
const fetchLogs = new AsyncLocalStorage();
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const log = fetchLogs.getStore() ?? [];
  if (!LOOPBACK.has(url.hostname)) {
    log.push(`BLOCKED ${url.host}${url.pathname}`);
    throw new TypeError(`parity runner: network access to ${url.host} is not allowed`);
  }
  log.push(`${(init && init.method) || 'GET'} ${url.pathname}`);
  return realFetch(input, init);
};

const { createClerkClient } = await import('@clerk/backend');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

// JSON-safe plain fields of an auth object (functions dropped, undefined -> null).
function plain(obj) {
  if (obj === null || obj === undefined) {
    return null;
  }
  const out = {};
  for (const [key, value] of Object.entries(obj)) {
    if (typeof value === 'function') {
      continue;
    }
    out[key] = value === undefined ? null : JSON.parse(JSON.stringify(value) ?? 'null');
  }
  return out;
}

function describeError(err) {
  if (!err) {
    return null;
  }
  return `${err.name || 'Error'}: ${err.message || String(err)}`.slice(0, 300);
}

async function runCase(c, fetchLog) {
  const result = { id: c.id };
  try {
    const client = createClerkClient({
      ...c.client,
      telemetry: { disabled: true },
    });
    const request = new Request(c.request.url, {
      method: c.request.method,
      headers: c.request.headers,
    });
    const state = await client.authenticateRequest(request, c.options);
    result.status = state.status;
    result.reason = state.reason ?? null;
    result.message = state.message ?? null;
    result.tokenType = state.tokenType ?? null;
    result.isAuthenticated = state.isAuthenticated ?? null;
    try {
      const auth = state.toAuth();
      result.auth = plain(auth);
      if (state.status === 'signed-in' && state.tokenType === 'session_token') {
        result.authPending = plain(state.toAuth({ treatPendingAsSignedOut: false }));
      }
      result.toAuthError = null;
    } catch (err) {
      result.auth = null;
      result.toAuthError = describeError(err);
    }
    result.error = null;
  } catch (err) {
    result.status = 'error';
    result.reason = null;
    result.message = null;
    result.tokenType = null;
    result.auth = null;
    result.error = describeError(err);
  }
  result.fetches = fetchLog;
  return result;
}

// Cases run CONCURRENCY at a time; only cases frozen at the same instant run together.
const cases = JSON.parse(await readStdin());
const results = new Array(cases.length);
let next = 0;
while (next < cases.length) {
  const now = cases[next].now;
  setNow(now);
  const batch = [];
  while (next < cases.length && batch.length < CONCURRENCY && cases[next].now === now) {
    const index = next++;
    const log = [];
    batch.push(
      fetchLogs.run(log, () => runCase(cases[index], log)).then((r) => {
        results[index] = r;
      }),
    );
  }
  await Promise.all(batch);
}
process.stdout.write(JSON.stringify(results));
process.stdout.write('\n');
