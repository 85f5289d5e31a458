// @ts-check
// A corpus of realistic Dialpad call-event deliveries, built from Dialpad's published call
// schema (CallProto, CallContactProto, CallRecordingDetailsProto in dialpad/dialpad-python-sdk
// src/dialpad/schemas/call.py; states from CreateCallEventSubscription.call_states in
// src/dialpad/schemas/call_event_subscription.py) and the fields the Call Events payloads carry
// beyond it (voicemail_link, talk_time, hold_time, routing_breadcrumbs, transferred_from,
// integrations, call_recording_ids, recap_summary).
//
// Each delivery is one signed event: `{ name, claims, expect }`, in the order Dialpad would send
// them. Legs of one customer call share a `callId` (entry_point_call_id, else master_call_id,
// else call_id). `expect.pops` is how many popups this delivery should open (0 or 1; at most
// one per customer call); `expect.caller` what the call log stores as the customer's number
// ('' when withheld or not a number); `expect.phase`, when given, the call's phase in the log
// after this delivery.
//
// Ids are 64-bit integers above 2^53 (BigInt here): `claimsJson` writes them as exact JSON
// integers, as Dialpad does.

const OFFICE_ID = 4785074604081152n;
const CC_ID = 5629499534213120n; // a call center (受付センター)
const USER_TANAKA = 5066549580791808n;
const USER_SATO = 6192449487634432n;
const NISHI = '+815017481234'; // 西船橋's number (prefix 0501748)
const KINSHI = '+815017491234'; // 錦糸町's number (prefix 0501749)

let seq = 0n;
const idBase = 6_400_000_000_000_000_000n + BigInt(Date.now()) * 1000n;
/** A fresh 64-bit Dialpad id, above 2^53. */
export const newId = () => idBase + seq++;

/** JSON with BigInt ids written as exact integers. */
export function claimsJson(claims) {
  return JSON.stringify(claims, (_k, v) => (typeof v === 'bigint' ? `@@big:${v}@@` : v)).replace(
    /"@@big:(-?\d+)@@"/g,
    '$1',
  );
}

const contact = (over = {}) => ({
  id: '5139283921928192',
  name: '山田 太郎',
  phone: '+819012345678',
  email: '',
  type: 'local',
  ...over,
});
const officeTarget = (phone = NISHI) => ({
  id: OFFICE_ID,
  name: '西船橋店',
  phone,
  email: '',
  type: 'office',
  office_id: OFFICE_ID,
});
const userTarget = (id, name) => ({
  id,
  name,
  phone: NISHI,
  email: `${id}@example.jp`,
  type: 'user',
  office_id: OFFICE_ID,
});
const ccTarget = () => ({
  id: CC_ID,
  name: '受付センター',
  phone: NISHI,
  email: '',
  type: 'callcenter',
  office_id: OFFICE_ID,
});

/** A full CallProto-shaped inbound event with every field present, most of them empty. Calls
 * start six minutes ago, so every event of the corpus (the latest a few minutes after the start)
 * sits inside the webhook's replay window (15 minutes back, 2 ahead) when the test sends it.
 * @param {{ id?: bigint | string, state?: string, t?: number } & Record<string, any>} [opts]
 *   `over`: any other field of the event, replaced
 */
function call({ id = newId(), state = 'ringing', t = Date.now() - 6 * 60_000, ...over } = {}) {
  return {
    call_id: id,
    master_call_id: null,
    entry_point_call_id: null,
    operator_call_id: null,
    state,
    direction: 'inbound',
    external_number: '+819012345678',
    internal_number: NISHI,
    date_started: t - 2000,
    date_rang: t - 1500,
    date_first_rang: t - 1500,
    date_queued: null,
    date_connected: null,
    date_ended: null,
    event_timestamp: t,
    duration: null,
    total_duration: null,
    talk_time: null,
    hold_time: null,
    is_transferred: false,
    was_recorded: false,
    call_recording_ids: [],
    recording_details: [],
    recording_url: [],
    voicemail_link: null,
    voicemail_recording_id: null,
    transcription_text: null,
    group_id: `Office:${OFFICE_ID}`,
    labels: [],
    mos_score: null,
    csat_score: null,
    csat_recording_urls: [],
    csat_transcriptions: [],
    call_recording_share_links: [],
    admin_call_recording_share_links: [],
    screen_recording_urls: [],
    routing_breadcrumbs: [],
    contact: contact(),
    target: officeTarget(),
    entry_point_target: {},
    proxy_target: {},
    transferred_from: {},
    integrations: null,
    custom_data: null,
    ...over,
  };
}

/** The same call, later: a new state of one leg. */
const next = (prev, state, dt, over = {}) => ({
  ...prev,
  state,
  event_timestamp: prev.event_timestamp + dt,
  ...over,
});

const ended = (c, { talk = 0, hold = 0, connected = true } = {}) => ({
  date_connected: connected ? c.date_rang + 3000 : null,
  date_ended: c.event_timestamp + 4000 + talk,
  duration: connected ? talk + 0.375 : 0,
  total_duration: ((talk + 5000 + 0.294) / 1000) * 1000,
  talk_time: connected ? talk : 0,
  hold_time: hold,
});

const deliveries = [];
const add = (name, claims, expect) => {
  const callId = String(claims.entry_point_call_id ?? claims.master_call_id ?? claims.call_id);
  deliveries.push({ name, claims, expect: { callId, ...expect } });
};

// 1. A plain answered inbound call: ringing, connected, hold, connected again, hangup.
{
  const r = call();
  add('plain: ringing', r, { pops: 1, caller: '09012345678', phase: 'ringing' });
  const c = next(r, 'connected', 3000, {
    date_connected: r.date_rang + 3000,
    target: userTarget(USER_TANAKA, '田中 花子'),
  });
  add('plain: connected', c, { pops: 0, caller: '09012345678', phase: 'connected' });
  const h = next(c, 'hold', 20000);
  add('plain: hold', h, { pops: 0, caller: '09012345678', phase: 'hold' });
  // Dialpad sends `connected` again when the call is taken off hold (there is no `unhold`).
  const back = next(h, 'connected', 15000);
  add('plain: connected again after hold', back, {
    pops: 0,
    caller: '09012345678',
    phase: 'connected',
  });
  const end = next(back, 'hangup', 60000, ended(back, { talk: 95000, hold: 15000 }));
  add('plain: hangup (answered, fractional total_duration)', end, {
    pops: 0,
    caller: '09012345678',
    phase: 'ended',
  });
  add(
    'plain: recording (recording_details + recording_url)',
    next(end, 'recording', 30000, {
      was_recorded: true,
      call_recording_ids: [newId()],
      recording_details: [
        {
          id: 'rec-1',
          recording_type: 'callrecording',
          url: 'https://dialpad.com/r/rec-1',
          duration: 95000,
          start_time: end.date_connected,
        },
      ],
      recording_url: ['https://dialpad.com/r/rec-1'],
      call_recording_share_links: ['https://dialpad.com/shared/rec-1'],
    }),
    { pops: 0, caller: '09012345678', phase: 'ended' },
  );
  add(
    'plain: transcription',
    next(end, 'transcription', 60000, {
      transcription_text: '田中: お電話ありがとうございます。\n山田: 予約の変更をお願いします。',
    }),
    { pops: 0, caller: '09012345678', phase: 'ended' },
  );
  add(
    'plain: recap_summary',
    next(end, 'recap_summary', 90000, {
      recap_summary: '予約日の変更依頼。来週火曜日に変更済み。',
    }),
    { pops: 0, caller: '09012345678', phase: 'ended' },
  );
  add(
    'plain: csat',
    next(end, 'csat', 120000, {
      csat_score: '5',
      csat_recording_urls: ['https://dialpad.com/csat/1'],
      csat_transcriptions: ['とても良かった'],
    }),
    { pops: 0, caller: '09012345678', phase: 'ended' },
  );
}

// 2. Missed call that goes to voicemail; the link arrives with voicemail_uploaded.
{
  const r = call({
    external_number: '+819011112222',
    contact: contact({ name: '', phone: '+819011112222', id: '' }),
  });
  add('voicemail: ringing from an unknown caller', r, { pops: 1, caller: '09011112222' });
  const vm = next(r, 'voicemail', 20000, { date_ended: r.event_timestamp + 20000 });
  add('voicemail: voicemail', vm, { pops: 0, caller: '09011112222', phase: 'voicemail' });
  add(
    'voicemail: voicemail_uploaded with the link',
    next(vm, 'voicemail_uploaded', 15000, {
      voicemail_link: 'https://dialpad.com/voicemail/abc123',
      voicemail_recording_id: 'abc123',
      recording_details: [
        {
          id: 'abc123',
          recording_type: 'voicemail',
          url: 'https://dialpad.com/voicemail/abc123',
          duration: 12000,
        },
      ],
    }),
    { pops: 0, caller: '09011112222', phase: 'voicemail' },
  );
}

// 3. Withheld and odd numbers: every one is a genuine call, recorded with an empty caller.
for (const [what, number] of [
  ['blocked', 'blocked'],
  ['anonymous', 'anonymous'],
  ['empty', ''],
  ['null', null],
  ['not a number', 'sip:unknown@carrier.example'],
]) {
  const r = call({ external_number: number, contact: contact({ name: '', phone: '', id: '' }) });
  add(`withheld caller (${what}): ringing`, r, { pops: 1, caller: '' });
}
{
  const r = call({ external_number: 'blocked', contact: {} });
  add(
    'withheld caller: missed (hangup, never connected)',
    next(r, 'hangup', 25000, ended(r, { connected: false })),
    { pops: 0, caller: '', phase: 'missed' },
  );
}

// 4. Foreign callers (E.164 outside Japan).
add(
  'foreign caller (US)',
  call({
    external_number: '+14155550100',
    contact: contact({ name: 'John Smith', phone: '+14155550100' }),
  }),
  { pops: 1, caller: '+14155550100' },
);
add(
  'foreign caller (Korea)',
  call({ external_number: '+82212345678', contact: contact({ name: '', phone: '+82212345678' }) }),
  { pops: 1, caller: '+82212345678' },
);

// 5. Blocked internal number (the dialled Dialpad number hidden): store from the office id.
add(
  'hidden dialled number, office target',
  call({ internal_number: 'blocked', target: officeTarget('') }),
  { pops: 1, caller: '09012345678' },
);

// 6. Outbound calls: calling, connected, hangup with a blocked caller ID (proxy_target set).
{
  const o = call({
    direction: 'outbound',
    state: 'calling',
    external_number: '+819033334444',
    internal_number: 'blocked',
    target: userTarget(USER_SATO, '佐藤 一郎'),
    contact: contact({ name: '鈴木 次郎', phone: '+819033334444' }),
    proxy_target: { id: OFFICE_ID, name: '西船橋店', phone: NISHI, type: 'office' },
    date_rang: null,
    date_first_rang: null,
  });
  add('outbound: calling with hidden caller ID', o, { pops: 0, caller: '09033334444' });
  const oc = next(o, 'connected', 8000, { date_connected: o.event_timestamp + 8000 });
  add('outbound: connected', oc, { pops: 0, caller: '09033334444', phase: 'connected' });
  add('outbound: hangup', next(oc, 'hangup', 40000, ended(oc, { talk: 40000 })), {
    pops: 0,
    caller: '09033334444',
    phase: 'ended',
  });
}

// 7. Blind transfer: the second leg names the first as its master and entry point.
{
  const a = call({ target: userTarget(USER_TANAKA, '田中 花子') });
  add('transfer: first leg ringing', a, { pops: 1, caller: '09012345678' });
  add(
    'transfer: first leg connected',
    next(a, 'connected', 4000, { date_connected: a.event_timestamp + 4000 }),
    { pops: 0, caller: '09012345678' },
  );
  const b = call({
    master_call_id: a.call_id,
    entry_point_call_id: a.call_id,
    is_transferred: true,
    transferred_from: { id: USER_TANAKA, name: '田中 花子', type: 'user', phone: NISHI },
    target: userTarget(USER_SATO, '佐藤 一郎'),
    entry_point_target: officeTarget(),
    t: a.event_timestamp + 30000,
  });
  add('transfer: second leg ringing (must not pop again)', b, { pops: 0, caller: '09012345678' });
  add(
    'transfer: first leg hangup after the transfer',
    next(a, 'hangup', 31000, ended(a, { talk: 25000 })),
    { pops: 0, caller: '09012345678' },
  );
  const bc = next(b, 'connected', 3000, { date_connected: b.event_timestamp + 3000 });
  add('transfer: second leg connected', bc, { pops: 0, caller: '09012345678', phase: 'connected' });
  add('transfer: second leg hangup', next(bc, 'hangup', 50000, ended(bc, { talk: 50000 })), {
    pops: 0,
    caller: '09012345678',
    phase: 'ended',
  });
}

// 8. Ring group (department): the entry call rings two phones; one answers, one is missed.
{
  const entry = call({
    state: 'preanswer',
    target: {
      id: 5700000000000001n,
      name: '予約窓口',
      phone: NISHI,
      type: 'department',
      office_id: OFFICE_ID,
    },
    group_id: 'Department:5700000000000001',
  });
  add('ring group: entry call preanswer (IVR)', entry, { pops: 1, caller: '09012345678' });
  const legA = call({
    master_call_id: entry.call_id,
    entry_point_call_id: entry.call_id,
    target: userTarget(USER_TANAKA, '田中 花子'),
    entry_point_target: entry.target,
    group_id: entry.group_id,
    t: entry.event_timestamp + 1000,
  });
  const legB = call({
    master_call_id: entry.call_id,
    entry_point_call_id: entry.call_id,
    target: userTarget(USER_SATO, '佐藤 一郎'),
    entry_point_target: entry.target,
    group_id: entry.group_id,
    t: entry.event_timestamp + 1001,
  });
  add('ring group: phone A ringing', legA, { pops: 0, caller: '09012345678' });
  add('ring group: phone B ringing', legB, { pops: 0, caller: '09012345678' });
  add('ring group: phone B missed (does not end the call)', next(legB, 'missed', 6000), {
    pops: 0,
    caller: '09012345678',
    phase: 'ringing',
  });
  add(
    'ring group: phone A connected',
    next(legA, 'connected', 6500, { date_connected: legA.event_timestamp + 6500 }),
    { pops: 0, caller: '09012345678', phase: 'connected' },
  );
}

// 9. Call-center queue: queued, the agent leg (with operator_call_id) rings and connects.
{
  const q = call({
    state: 'queued',
    target: ccTarget(),
    group_id: `CallCenter:${CC_ID}`,
    date_queued: Date.now(),
    entry_point_target: ccTarget(),
  });
  add('queue: customer call queued', q, { pops: 1, caller: '09012345678' });
  const agent = call({
    master_call_id: q.call_id,
    entry_point_call_id: q.call_id,
    operator_call_id: newId(),
    target: userTarget(USER_TANAKA, '田中 花子'),
    entry_point_target: ccTarget(),
    group_id: q.group_id,
    routing_breadcrumbs: [
      {
        target_id: CC_ID,
        target_type: 'callcenter',
        target_name: '受付センター',
        date: q.event_timestamp,
      },
    ],
    t: q.event_timestamp + 45000,
  });
  add('queue: agent leg ringing (operator_call_id set)', agent, { pops: 0, caller: '09012345678' });
  add(
    'queue: agent leg connected',
    next(agent, 'connected', 3000, { date_connected: agent.event_timestamp + 3000 }),
    { pops: 0, caller: '09012345678', phase: 'connected' },
  );
}

// 10. A call to another store, with every odd type the schema allows.
add(
  'other store: custom_data object, integrations, labels, string ids',
  call({
    id: newId(),
    internal_number: KINSHI,
    target: {
      id: String(OFFICE_ID + 1n),
      name: '錦糸町店',
      phone: KINSHI,
      type: 'office',
      office_id: String(OFFICE_ID + 1n),
    },
    labels: ['予約', '新規'],
    integrations: { salesforce: { id: 'a0B5g00000XyZ' } },
    custom_data: '{"source":"web"}',
    mos_score: 4.31,
    brand_new_field: { nested: [1, [2, { three: null }]] },
  }),
  { pops: 1, caller: '09012345678' },
);
add('ids as strings', call({ id: newId().toString() }), { pops: 1, caller: '09012345678' });

// 11. States of the published enum that end or shadow a call.
add(
  'blocked state (caller on the block list)',
  call({ state: 'blocked', external_number: '+819099990000' }),
  { pops: 0, caller: '09099990000', phase: 'missed' },
);
add('parked then takeover', call({ state: 'parked', date_connected: Date.now() - 1000 }), {
  pops: 1,
  caller: '09012345678',
  phase: 'hold',
});
add('a future state Dialpad adds later', call({ state: 'ai_agent_handoff' }), {
  pops: 0,
  caller: '09012345678',
});

export { deliveries };
