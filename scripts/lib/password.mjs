// @ts-check
// Password hashes in the Worker's format (src/domain/password.rs): PBKDF2-HMAC-SHA256,
// `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`. Both sides are tested against each other.
// The password policy mirrors `check_policy` there (same list file, same shared test cases in
// tests/corpus/password-policy.json).
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const ITERATIONS = 100_000;
export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_BYTES = 256;

const COMMON = new Set(
  readFileSync(new URL('../../src/domain/common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);

/**
 * The demo accounts' passwords (README): on the common list, so the policy refuses them; only
 * the seed writes them (`{ demo: true }`), for local development, where the Worker accepts them
 * at login because `.dev.vars` sets ALLOW_DEMO_PASSWORDS="true" (src/domain/password.rs).
 */
export const DEMO_PASSWORDS = Object.freeze(['cti-admin-demo', 'cti-staff-demo']);

/**
 * null when `password` is acceptable, else the same code as the Worker's rule. `demo: true`
 * (the seed only) lets the demo passwords through.
 * @param {string} password
 * @param {{ demo?: boolean }} [opts]
 * @returns {string | null}
 */
export function policyError(password, { demo = false } = {}) {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return 'password_too_long';
  if ([...password].length < MIN_PASSWORD_CHARS) return 'password_too_short';
  if (demo && DEMO_PASSWORDS.includes(password)) return null;
  if (COMMON.has(password.toLowerCase())) return 'password_too_common';
  return null;
}

const POLICY_TEXT = {
  password_too_short: `at least ${MIN_PASSWORD_CHARS} characters`,
  password_too_long: `at most ${MAX_PASSWORD_BYTES} bytes`,
  password_too_common: 'not one of the common passwords',
};

/**
 * Throws a readable error when `password` breaks the policy.
 * @param {string} password
 * @param {{ demo?: boolean }} [opts]
 */
export function checkPolicy(password, opts = {}) {
  const code = policyError(password, opts);
  if (code) throw new Error(`password refused (${code}): it must be ${POLICY_TEXT[code]}`);
}

/**
 * The stored form the Worker verifies: `pbkdf2_sha256$<iterations>$<salt hex>$<key hex>`.
 * @param {string} password
 * @param {{ iterations?: number, salt?: Buffer }} [opts]
 */
export function hashPassword(password, { iterations = ITERATIONS, salt = randomBytes(16) } = {}) {
  const dk = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt.toString('hex')}$${dk.toString('hex')}`;
}

/** A readable random password (no look-alike characters). */
export function randomPassword(length = 16) {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
