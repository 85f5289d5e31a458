// @ts-check
// A stand-in for Dialpad's API v2, a real HTTP server on 127.0.0.1 that the Workers reach
// through DIALPAD_API_BASE. Written from Dialpad's published schema and documented limits
// (dialpad/dialpad-python-sdk, generated from its OpenAPI spec), not from what our code sends:
//
// - src/dialpad/schemas/contact.py `CreateContactMessageWithUid`: first_name, last_name, uid
//   required (str); company_name, emails, extension, job_title, phones (E.164), trunk_group,
//   urls optional. resources/contacts_resource.py: `PUT /api/v2/contacts` create_or_update
//   (100 per minute), `DELETE /api/v2/contacts/{id}` (1200 per minute).
// - src/dialpad/schemas/call.py `RingCallMessage`: phone_number (E.164) and user_id (int)
//   required; custom_data, device_id, group_id, group_type (callcenter, department, office),
//   is_consult, outbound_caller_id (E.164 or "blocked"). resources/calls_resource.py:
//   `POST /api/v2/call` initiate_ring_call 5 per minute; `GET /api/v2/call` list (cursor,
//   started_after, started_before, target_id, target_type; concluded calls only, recent first)
//   1200 per minute; `GET /api/v2/call/{id}` 10 per minute; `PUT /api/v2/call/{id}/labels`
//   (`AddCallLabelsMessage`: labels, list of str) 250 per minute.
// - src/dialpad/schemas/recording_share_link.py `CreateRecordingShareLink`: recording_id (str)
//   and recording_type (admincallrecording, callrecording, voicemail) required, privacy
//   (admin, company, owner, public). `POST /api/v2/recordingsharelink` 100 per minute.
// - `GET /api/v2/users` (users_resource.py list, cursor paging).
//
// Unknown or missing required fields are a 400; past an endpoint's per-minute limit it answers
// 429 with Retry-After (seconds) until the minute is over, and counts any request that came
// before the Retry-After it gave (`violations`). `minuteMs` shortens the minute for tests.
import { createServer } from 'node:http';

const E164 = /^\+[1-9]\d{6,14}$/;
const str = (v) => typeof v === 'string';
const strList = (v) => Array.isArray(v) && v.every(str);
const int = (v) => Number.isInteger(v);

const SCHEMAS = {
  CreateContactMessageWithUid: {
    required: ['first_name', 'last_name', 'uid'],
    fields: {
      company_name: str,
      emails: strList,
      extension: str,
      first_name: str,
      job_title: str,
      last_name: str,
      phones: (v) => strList(v) && v.every((p) => E164.test(p)),
      trunk_group: str,
      uid: (v) => str(v) && v.length > 0,
      urls: strList,
    },
  },
  AddCallLabelsMessage: { required: [], fields: { labels: strList } },
  RingCallMessage: {
    required: ['phone_number', 'user_id'],
    fields: {
      custom_data: str,
      device_id: str,
      group_id: int,
      group_type: (v) => ['callcenter', 'department', 'office'].includes(v),
      is_consult: (v) => typeof v === 'boolean',
      outbound_caller_id: (v) => v === 'blocked' || (str(v) && E164.test(v)),
      phone_number: (v) => str(v) && E164.test(v),
      user_id: int,
    },
  },
  CreateRecordingShareLink: {
    required: ['recording_id', 'recording_type'],
    fields: {
      privacy: (v) => ['admin', 'company', 'owner', 'public'].includes(v),
      recording_id: str,
      recording_type: (v) => ['admincallrecording', 'callrecording', 'voicemail'].includes(v),
    },
  },
};

function validate(name, body) {
  const s = SCHEMAS[name];
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return `${name}: body must be an object`;
  for (const k of Object.keys(body)) {
    if (!(k in s.fields)) return `${name}: unknown field ${k}`;
    if (!s.fields[k](body[k])) return `${name}: invalid ${k}`;
  }
  for (const k of s.required) if (!(k in body)) return `${name}: missing required field ${k}`;
  return null;
}

/** Endpoint → per-minute limit, as documented. */
export const LIMITS = {
  'contacts.put': 100,
  'contacts.delete': 1200,
  'call.list': 1200,
  'call.get': 10,
  'call.labels': 250,
  'call.ring': 5,
  recordingsharelink: 100,
  'users.list': 1200,
};

export async function startDialpadFake({
  key = 'fake-dialpad-key',
  minuteMs = 60_000,
  pageSize = 2,
} = {}) {
  const fake = {
    key,
    minuteMs,
    requests: [],
    contacts: new Map(), // uid → contact
    contactWrites: [], // uids in the order written
    deletes: [], // contact ids deleted
    created: 0,
    calls: new Map(), // id → CallProto
    users: [],
    rings: [],
    shareLinks: [],
    limited: 0,
    violations: 0,
    windows: {},
    nextId: 7_000_000,
    addCall(call) {
      this.calls.set(String(call.call_id), { labels: [], ...call });
    },
  };
  const retryUntil = {};
  function limit(ep, now) {
    if (retryUntil[ep] && now < retryUntil[ep] - 5) fake.violations++;
    let w = fake.windows[ep];
    if (!w || now - w.start >= minuteMs) w = fake.windows[ep] = { start: now, n: 0 };
    if (w.n >= LIMITS[ep]) {
      const until = w.start + minuteMs;
      retryUntil[ep] = until;
      fake.limited++;
      return Math.max(1, Math.ceil((until - now) / 1000));
    }
    w.n++;
    return 0;
  }
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const send = (status, obj, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      const bad = (message) => send(400, { error: { code: 400, message } });
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        return bad('body is not JSON');
      }
      const url = new URL(req.url, 'http://x');
      const path = url.pathname;
      fake.requests.push({
        method: req.method,
        path,
        query: Object.fromEntries(url.searchParams),
        body,
        at: Date.now(),
      });
      if (req.headers.authorization !== `Bearer ${key}`)
        return send(401, { error: { message: 'invalid api key' } });
      /** @type {[string, RegExp, string][]} */
      const routes = [
        ['PUT', /^\/api\/v2\/contacts$/, 'contacts.put'],
        ['DELETE', /^\/api\/v2\/contacts\/([^/]+)$/, 'contacts.delete'],
        ['GET', /^\/api\/v2\/call$/, 'call.list'],
        ['POST', /^\/api\/v2\/call$/, 'call.ring'],
        ['GET', /^\/api\/v2\/call\/(\d+)$/, 'call.get'],
        ['PUT', /^\/api\/v2\/call\/(\d+)\/labels$/, 'call.labels'],
        ['POST', /^\/api\/v2\/recordingsharelink$/, 'recordingsharelink'],
        ['GET', /^\/api\/v2\/users$/, 'users.list'],
      ];
      const route = routes.find(([m, re]) => m === req.method && re.test(path));
      if (!route) return send(404, { error: { message: `no route ${req.method} ${path}` } });
      const [, re, ep] = route;
      const arg = path.match(re)[1];
      const wait = limit(ep, Date.now());
      if (wait)
        return send(
          429,
          { error: { code: 429, message: 'rate limit exceeded' } },
          { 'retry-after': String(wait) },
        );
      const cursor = url.searchParams.get('cursor');
      const paged = (items) => {
        const start = cursor ? Number(cursor) : 0;
        return {
          items: items.slice(start, start + pageSize),
          ...(start + pageSize < items.length ? { cursor: String(start + pageSize) } : {}),
        };
      };
      switch (ep) {
        case 'contacts.put': {
          const err = validate('CreateContactMessageWithUid', body);
          if (err) return bad(err);
          let c = fake.contacts.get(body.uid);
          if (!c) {
            c = { id: String(fake.nextId++), type: 'shared' };
            fake.created++;
          }
          Object.assign(c, body);
          fake.contacts.set(body.uid, c);
          fake.contactWrites.push(body.uid);
          return send(200, c);
        }
        case 'contacts.delete': {
          const entry = [...fake.contacts.entries()].find(([, c]) => c.id === arg);
          if (!entry) return send(404, { error: { message: 'contact not found' } });
          fake.contacts.delete(entry[0]);
          fake.deletes.push(arg);
          return send(200, entry[1]);
        }
        case 'call.list': {
          const known = ['cursor', 'started_after', 'started_before', 'target_id', 'target_type'];
          for (const k of url.searchParams.keys())
            if (!known.includes(k)) return bad(`unknown parameter ${k}`);
          const after = Number(url.searchParams.get('started_after') ?? 0);
          const beforeTs = Number(url.searchParams.get('started_before') ?? Infinity);
          const items = [...fake.calls.values()]
            .filter((c) => c.date_ended && c.date_started > after && c.date_started < beforeTs)
            .sort((a, b) => b.date_started - a.date_started);
          return send(200, paged(items));
        }
        case 'call.get': {
          const c = fake.calls.get(arg);
          return c ? send(200, c) : send(404, { error: { message: 'call not found' } });
        }
        case 'call.labels': {
          if (body !== null) {
            const err = validate('AddCallLabelsMessage', body);
            if (err) return bad(err);
          }
          const c = fake.calls.get(arg);
          if (!c) return send(404, { error: { message: 'call not found' } });
          c.labels = body?.labels ?? [];
          return send(200, c);
        }
        case 'call.ring': {
          const err = validate('RingCallMessage', body);
          if (err) return bad(err);
          if (!fake.users.some((u) => Number(u.id) === body.user_id))
            return bad(`user ${body.user_id} not found`);
          fake.rings.push(body);
          return send(200, { call_id: fake.nextId++ });
        }
        case 'recordingsharelink': {
          const err = validate('CreateRecordingShareLink', body);
          if (err) return bad(err);
          const call = [...fake.calls.values()].find((c) =>
            (c.recording_details ?? []).some((r) => r.id === body.recording_id),
          );
          if (!call) return send(404, { error: { message: 'recording not found' } });
          const link = {
            id: String(fake.nextId++),
            item_id: body.recording_id,
            type: body.recording_type,
            privacy: body.privacy ?? 'owner',
            call_id: call.call_id,
            access_link: `https://dialpad.example/r/${body.recording_id}`,
          };
          fake.shareLinks.push({ body, link });
          return send(200, link);
        }
        case 'users.list':
          return send(200, paged(fake.users));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  fake.url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
  fake.close = () =>
    new Promise((r) => {
      server.closeAllConnections?.();
      server.close(r);
    });
  return fake;
}
