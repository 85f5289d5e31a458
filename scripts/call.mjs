// @ts-check
// Local call simulator: signs a Dialpad-style call event with the webhook secret and POSTs
// it to the Worker, exactly as Dialpad would.
//
//   npm run call -- <caller> <dialled> [--state ringing] [--flow] [--call-id N] [--url URL]
//   npm run call -- <caller> <dialled> --answer --call-id N    (answer a ringing call now)
//   npm run call -- <caller> <dialled> --hangup --call-id N    (hang it up later)
//
//   caller, dialled   any format: 090-1234-5678, +819012345678, 0501748xxxx (x = random digit)
//   --state S         Dialpad state to send (default ringing)
//   --flow            a whole answered call: ringing, connected 3 s later, hangup 5 s after that
//   --missed          a whole unanswered call: ringing, then hangup 5 s later
//   --answer          connected, now (with --call-id: a call rung earlier)
//   --hangup          hangup, now, without date_connected (as Dialpad may send it): a call
//                     the hub saw connected ends as 終了, one never answered as 不在着信
//   --url URL         the Worker (default http://localhost:8787)
// The secret comes from DIALPAD_WEBHOOK_SECRET or .dev.vars.
import { signHS256 } from './lib/jwt.mjs';
import { devVars } from './lib/devvars.mjs';

const USAGE = `usage: npm run call -- <caller> <dialled> [--state S] [--flow|--missed|--answer|--hangup] [--call-id N] [--url URL]

  caller, dialled   any format: 090-1234-5678, +819012345678, 0501748xxxx (x = random digit)
  --state S         Dialpad state to send (default ringing)
  --flow            a whole answered call: ringing, connected 3 s later, hangup 5 s after that
  --missed          a whole unanswered call: ringing, then hangup 5 s later
  --answer          answer a call now (connected); with --call-id, one that rang earlier
  --hangup          hang up a call now (hangup without date_connected, as Dialpad may send
                    it): one the hub saw connected ends as 終了, else 不在着信
  --call-id N       the Dialpad call id to use (default: a fresh one; printed on every run)
  --url URL         the Worker (default http://localhost:8787)

  e.g.  npm run call -- 09012345678 05017481234 --call-id 42           # rings
        npm run call -- 09012345678 05017481234 --answer --call-id 42  # 通話中
        npm run call -- 09012345678 05017481234 --hangup --call-id 42  # 終了

The webhook secret comes from DIALPAD_WEBHOOK_SECRET or .dev.vars.`;
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const flag = (name, def) => {
  const i = args.indexOf(name);
  if (i === -1) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const bool = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return false;
  args.splice(i, 1);
  return true;
};
const url = flag('--url', 'http://localhost:8787');
const state = flag('--state', 'ringing');
const callId = Number(flag('--call-id', String(6_000_000_000_000_000 + Date.now())));
const flow = bool('--flow');
const missed = bool('--missed');
const answer = bool('--answer');
const hangup = bool('--hangup');
if ([flow, missed, answer, hangup].filter(Boolean).length > 1) {
  console.error('call: choose one of --flow, --missed, --answer, --hangup');
  process.exit(2);
}
if (!Number.isSafeInteger(callId) || callId <= 0) {
  console.error('call: --call-id must be a positive integer');
  process.exit(2);
}
const [callerArg, dialledArg] = args;
if (!callerArg || !dialledArg) {
  console.error(USAGE);
  process.exit(2);
}
const fill = (n) => n.replace(/x/gi, () => String(Math.floor(Math.random() * 10)));
const toE164 = (n) => (n.startsWith('0') ? '+81' + n.slice(1) : n);
const caller = toE164(fill(callerArg).replace(/[-\s]/g, ''));
const dialled = toE164(fill(dialledArg).replace(/[-\s]/g, ''));
const secret = process.env.DIALPAD_WEBHOOK_SECRET ?? devVars().DIALPAD_WEBHOOK_SECRET;
if (!secret) {
  console.error(
    'call: no DIALPAD_WEBHOOK_SECRET in the environment or .dev.vars (npm start creates it)',
  );
  process.exit(2);
}

const started = Date.now();
async function send(st, extra = {}) {
  const now = Date.now();
  const event = {
    call_id: callId,
    master_call_id: null,
    entry_point_call_id: null,
    state: st,
    direction: 'inbound',
    external_number: caller,
    internal_number: dialled,
    date_started: started,
    date_rang: started,
    date_connected: null,
    date_ended: null,
    event_timestamp: now,
    duration: null,
    contact: { id: 1, name: caller, phone: caller, type: 'local' },
    target: { id: 2, name: 'Dialpad', phone: dialled, type: 'office' },
    ...extra,
  };
  const res = await fetch(`${url}/api/dialpad/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/jwt' },
    body: signHS256(event, secret),
  });
  console.log(`${st.padEnd(10)} call ${callId} -> ${res.status} ${await res.text()}`);
  if (!res.ok) process.exitCode = 1;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (flow) {
  await send('ringing');
  await sleep(3000);
  const connected = Date.now();
  await send('connected', { date_connected: connected });
  await sleep(5000);
  const ended = Date.now();
  await send('hangup', {
    date_connected: connected,
    date_ended: ended,
    duration: ended - connected,
  });
} else if (answer) {
  await send('connected', { date_connected: Date.now() });
} else if (hangup) {
  await send('hangup', { date_ended: Date.now() });
} else if (missed) {
  await send('ringing');
  await sleep(5000);
  await send('hangup', { date_ended: Date.now() });
} else {
  await send(state);
}
