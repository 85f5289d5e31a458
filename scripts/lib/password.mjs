// Password hashes in the Worker's format (src/password.rs): PBKDF2-HMAC-SHA256,
// `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`. Both sides are tested against each other.
import { pbkdf2Sync, randomBytes } from 'node:crypto';

export const ITERATIONS = 100_000;

export function hashPassword(password, { iterations = ITERATIONS, salt = randomBytes(16) } = {}) {
  const dk = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt.toString('hex')}$${dk.toString('hex')}`;
}

/** A readable random password (no look-alike characters). */
export function randomPassword(length = 14) {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
