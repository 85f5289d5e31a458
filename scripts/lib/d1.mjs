// @ts-check
// Opens the project's D1 database for a script: the local one that `wrangler dev` serves
// (through wrangler's platform proxy) or, with remote, the deployed one through Cloudflare's
// D1 query API. Both expose the binding API subset the scripts use, with bound parameters.
import { readFileSync } from 'node:fs';

/**
 * The D1 database id in wrangler.toml (of `[env.<env>]` when given).
 * @param {string} [env]
 * @returns {string | undefined}
 */
export function databaseId(env) {
  const toml = readFileSync('wrangler.toml', 'utf8');
  const section = env ? toml.slice(toml.indexOf(`[env.${env}`)) : toml;
  return section.match(/database_id\s*=\s*"([^"]+)"/)?.[1];
}

/**
 * The deployed database through Cloudflare's D1 query API.
 * @param {string} id
 * @returns {{ db: any, dispose: () => Promise<void> }}
 */
export function remoteD1(id) {
  const account = process.env.CLOUDFLARE_ACCOUNT_ID;
  const token = process.env.CLOUDFLARE_API_TOKEN;
  if (!account || !token)
    throw new Error(
      '--remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (with D1 edit permission)',
    );
  const base = process.env.CLOUDFLARE_API_BASE ?? 'https://api.cloudflare.com/client/v4';
  const query = async (sql, params) => {
    const res = await fetch(`${base}/accounts/${account}/d1/database/${id}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql, params }),
    });
    const body = await res.json();
    if (!res.ok || !body.success)
      throw new Error(`D1 API: ${res.status} ${JSON.stringify(body.errors ?? body)}`);
    return body.result[0];
  };
  /**
   * @param {string} sql
   * @param {unknown[]} [params]
   * @returns {any}
   */
  const stmt = (sql, params = []) => ({
    bind: (...p) => stmt(sql, p),
    run: () => query(sql, params),
    all: () => query(sql, params),
    first: async () => (await query(sql, params)).results[0] ?? null,
  });
  return { db: { prepare: (sql) => stmt(sql) }, dispose: async () => {} };
}

/**
 * The local database `wrangler dev` serves.
 * @returns {Promise<{ db: any, dispose: () => Promise<void> }>}
 */
export async function localD1() {
  const { getPlatformProxy } = await import('wrangler');
  const { env, dispose } = await getPlatformProxy({ configPath: 'wrangler.toml', persist: true });
  return { db: env.DB, dispose };
}

/**
 * @param {{ remote?: boolean, env?: string, id?: string }} [opts]
 * @returns {Promise<{ db: any, dispose: () => Promise<void> }>}
 */
export async function openD1({ remote = false, env, id } = {}) {
  return remote ? remoteD1(id ?? databaseId(env)) : localD1();
}
