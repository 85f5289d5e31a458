// @ts-check
// Minimal HS256 JWT signing, as Dialpad signs webhook events. Used by the call simulator,
// the tests and the benchmarks; the Worker verifies with jwt-compact.
import { createHmac } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function signRaw(header, claims, secret) {
  const h = typeof header === 'string' ? header : JSON.stringify(header);
  const c = typeof claims === 'string' ? claims : JSON.stringify(claims);
  const input = `${b64url(h)}.${b64url(c)}`;
  const sig = createHmac('sha256', secret).update(input).digest();
  return `${input}.${b64url(sig)}`;
}

export function signHS256(claims, secret) {
  return signRaw({ alg: 'HS256', typ: 'JWT' }, claims, secret);
}
