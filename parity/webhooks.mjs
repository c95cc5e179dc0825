// Differential parity for webhooks: feeds each delivery to @clerk/backend/webhooks verifyWebhook.
//
// stdin: a JSON array of cases
//   {id, now (ms), headers: [[name, value], ...], body (base64), secret (string or null: use
//    the environment), env (CLERK_WEBHOOK_SIGNING_SECRET, or null: unset)}
// stdout: one JSON array, in order: {id, ok, event | null, error | null}
// The clock is frozen per case (Date.now); cases run one at a time (process.env is per case).

import { setNow } from './frozen_date.mjs';

const { verifyWebhook } = await import('@clerk/backend/webhooks');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

const cases = JSON.parse(await readStdin());
const results = [];
for (const c of cases) {
  setNow(c.now);
  if (c.env === null) {
    delete process.env.CLERK_WEBHOOK_SIGNING_SECRET;
  } else {
    process.env.CLERK_WEBHOOK_SIGNING_SECRET = c.env;
  }
  const result = { id: c.id, ok: false, event: null, error: null };
  try {
    const request = new Request('https://app.test/webhooks/clerk', {
      method: 'POST',
      headers: new Headers(c.headers),
      body: Buffer.from(c.body, 'base64'),
    });
    const options = c.secret === null ? {} : { signingSecret: c.secret };
    const event = await verifyWebhook(request, options);
    result.ok = true;
    // JSON round trip: what a handler could serialise (undefined fields are dropped).
    result.event = JSON.parse(JSON.stringify(event));
  } catch (err) {
    result.error = `${err && err.message ? err.message : String(err)}`.slice(0, 300);
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
process.stdout.write('\n');
