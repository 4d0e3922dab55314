// Runs every graphql-http server audit (the GraphQL-over-HTTP spec's MUST, SHOULD and
// MAY checks) against a GraphQL endpoint, one at a time, and prints one line per audit:
//
//   node audit.mjs http://127.0.0.1:4000/graphql
//
// A failing MUST audit is an error and makes the exit code 1; a failing SHOULD audit is a
// warning and a failing MAY audit a notice, printed but not failing. The last line is
// `graphql-http audit: N passed, N failed`: passed = audits that succeeded, failed =
// MUST audits that did not.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (process.argv.length !== 3 || !/^https?:\/\//.test(url ?? '')) {
  console.error('usage: node audit.mjs <GraphQL endpoint URL, e.g. http://127.0.0.1:4000/graphql>');
  process.exit(2);
}

// No request may hang the run: each gets 10 s.
const REQUEST_TIMEOUT_MS = 10_000;
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

const LEVEL_STATUS = { MUST: 'error', SHOULD: 'warn', MAY: 'notice' };
const level = (name) => name.split(' ', 1)[0];

// The response the audit judged, in a few words: status, content type, start of body.
async function describe(response) {
  if (!response || typeof response.status !== 'number') return '';
  const type = response.headers?.get('content-type') ?? 'no content-type';
  let body = '';
  try {
    body = (await response.text()).replace(/\s+/g, ' ').trim();
  } catch {
    body = '(body already read)';
  }
  if (body.length > 160) body = `${body.slice(0, 160)}…`;
  return ` [got ${response.status} ${type}${body ? `: ${body}` : ''}]`;
}

const audits = serverAudits({ url, fetchFn });
if (audits.length === 0) {
  console.error('graphql-http audit: the installed graphql-http has no server audits');
  process.exit(1);
}

const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
let passed = 0;
let failed = 0;
const LABEL = { ok: 'ok    ', warn: 'WARN  ', notice: 'notice', error: 'ERROR ' };
for (const audit of audits) {
  let status;
  let reason = '';
  try {
    const result = await audit.fn();
    status = result.status;
    if (status !== 'ok') reason = `${result.reason}${await describe(result.response)}`;
  } catch (err) {
    // graphql-http throws only when the audit could not run (no answer, a timeout).
    status = LEVEL_STATUS[level(audit.name)] ?? 'error';
    reason = `the audit could not run: ${err?.cause?.message ?? err?.message ?? err}`;
  }
  counts[status] = (counts[status] ?? 0) + 1;
  if (status === 'ok') passed += 1;
  if (status === 'error' && level(audit.name) === 'MUST') failed += 1;
  console.log(`${LABEL[status] ?? status} ${audit.id} ${audit.name}${reason ? ` — ${reason}` : ''}`);
}

console.log(
  `${audits.length} audits: ${counts.ok} ok, ${counts.error} MUST errors, ` +
    `${counts.warn} SHOULD warnings, ${counts.notice} MAY notices`,
);
console.log(`graphql-http audit: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
