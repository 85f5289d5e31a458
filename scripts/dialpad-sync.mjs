// @ts-check
// Starts a full resync of the customers to Dialpad's contacts (every customer queued again, in
// order, on the console's paced queue: POST /api/dialpad/sync), or shows its progress. Talks to
// a running console Worker as an admin; the sync itself runs in the Worker (DialpadSync), so
// this returns at once unless --wait is given.
export const USAGE = `usage:
  CTI_LOGIN=<admin login id> CTI_PASSWORD=… npm run dialpad:sync -- [--url https://<console worker>] [--status] [--wait]
  npm run dialpad:sync -- --help

  --url      the console Worker (default http://localhost:8787, i.e. npm start)
  --status   only show the progress (synced, waiting, refused, last error, time left)
  --wait     after starting, follow the progress until nothing waits

The Worker needs DIALPAD_API_KEY and 設定 → Dialpad 連携 → 顧客を Dialpad の連絡先に同期する on.
CTI_TOKEN (a session token, as for Authorization: Bearer) may be given instead of the login.`;

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function line(s) {
  const left = s.estimateSeconds ? `, about ${Math.ceil(s.estimateSeconds / 60)} min left` : '';
  const err = s.lastError ? `, last error: ${s.lastError}` : '';
  return `synced ${s.synced}, waiting ${s.waiting}, refused ${s.refused}${left}${err}`;
}

async function main() {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const base = (opt('--url') ?? 'http://localhost:8787').replace(/\/$/, '');
  let token = process.env.CTI_TOKEN;
  if (!token) {
    const loginId = process.env.CTI_LOGIN;
    const password = process.env.CTI_PASSWORD;
    if (!loginId || !password) {
      console.error(
        'dialpad:sync: set CTI_LOGIN and CTI_PASSWORD (an admin), or CTI_TOKEN\n\n' + USAGE,
      );
      return 2;
    }
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginId, password }),
    });
    if (res.status !== 200) {
      console.error(`dialpad:sync: login failed (${res.status}): ${await res.text()}`);
      return 1;
    }
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
    token = cookie.slice(cookie.indexOf('=') + 1);
  }
  const call = async (method) => {
    const res = await fetch(`${base}/api/dialpad/sync`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.json().catch(() => null);
    if (res.status !== 200)
      throw new Error(`${method} /api/dialpad/sync: ${res.status} ${body?.error?.message ?? ''}`);
    return body;
  };
  let status = await call(args.includes('--status') ? 'GET' : 'POST');
  console.log(args.includes('--status') ? line(status) : `full resync started: ${line(status)}`);
  while (args.includes('--wait') && status.waiting > 0) {
    await new Promise((r) => setTimeout(r, 5000));
    status = await call('GET');
    console.log(line(status));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`dialpad:sync: ${e.message}`);
    process.exit(1);
  },
);
