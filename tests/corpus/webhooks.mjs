// @ts-check
// Webhook corpora. `hostile`: bodies that must be refused with the given status and code,
// broadcasting nothing and storing nothing: they fail authentication or are not a token (or, the
// one content exception, name no call: see src/dialpad.rs). `oddButValid`: verified tokens with
// real-world or odd content, which are genuine Dialpad events and must be accepted, recorded and
// normalised (a number that is not a phone number becomes withheld, an unusable state
// `unknown`).
import { signHS256, signRaw } from '../../scripts/lib/jwt.mjs';
import { WEBHOOK_SECRET as S } from '../helpers/worker.mjs';

const now = () => Math.floor(Date.now() / 1000);
const base = () => ({
  call_id: 7123456789012345,
  state: 'ringing',
  direction: 'inbound',
  external_number: '+819012345678',
  internal_number: '+815017481234',
});
const ev = (over) => ({ ...base(), ...over });
const without = (k) => {
  const e = base();
  delete e[k];
  return e;
};
const b64 = (s) => Buffer.from(s).toString('base64url');
const good = () => signHS256(base(), S);
const nested = (n) => `{"call_id":1,"state":"ringing","x":${'['.repeat(n)}${']'.repeat(n)}}`;

/** @type {{ name: string, body: () => string | Buffer<ArrayBuffer>, status: number, code: string }[]} */
export const hostile =
  /** @type {[string, () => string | Buffer<ArrayBuffer>, number, string][]} */ ([
    [
      'alg none, empty signature',
      () => `${b64('{"alg":"none"}')}.${b64(JSON.stringify(base()))}.`,
      401,
      'unsupported_alg',
    ],
    ['alg none, signed anyway', () => signRaw({ alg: 'none' }, base(), S), 401, 'unsupported_alg'],
    ['alg RS256', () => signRaw({ alg: 'RS256' }, base(), S), 401, 'unsupported_alg'],
    ['alg HS512', () => signRaw({ alg: 'HS512' }, base(), S), 401, 'unsupported_alg'],
    ['alg HS384', () => signRaw({ alg: 'HS384' }, base(), S), 401, 'unsupported_alg'],
    ['alg ES256', () => signRaw({ alg: 'ES256' }, base(), S), 401, 'unsupported_alg'],
    ['alg lower-case hs256', () => signRaw({ alg: 'hs256' }, base(), S), 401, 'unsupported_alg'],
    ['no alg', () => signRaw({ typ: 'JWT' }, base(), S), 400, 'malformed_token'],
    [
      'wrong secret',
      () => signHS256(base(), 'not-the-webhook-secret-at-all'),
      401,
      'bad_signature',
    ],
    ['empty secret', () => signHS256(base(), ''), 401, 'bad_signature'],
    [
      'claims swapped after signing',
      () =>
        good()
          .split('.')
          .map((p, i) => (i === 1 ? b64(JSON.stringify(ev({ state: 'connected' }))) : p))
          .join('.'),
      401,
      'bad_signature',
    ],
    [
      'signature shortened',
      () => {
        const [h, c, sig] = good().split('.');
        return `${h}.${c}.${b64(Buffer.from(sig, 'base64url').subarray(0, 29))}`;
      },
      401,
      'bad_signature',
    ],
    ['signature cut mid-character', () => good().slice(0, -10), 400, 'malformed_token'],
    [
      'signature removed',
      () => good().split('.').slice(0, 2).join('.') + '.',
      401,
      'bad_signature',
    ],
    ['two segments', () => good().split('.').slice(0, 2).join('.'), 400, 'malformed_token'],
    ['four segments', () => `${good()}.extra`, 400, 'malformed_token'],
    [
      'bad base64 header',
      () => `!!!.${good().split('.')[1]}.${good().split('.')[2]}`,
      400,
      'malformed_token',
    ],
    [
      'bad base64 claims',
      () => `${good().split('.')[0]}.***.${good().split('.')[2]}`,
      400,
      'malformed_token',
    ],
    ['header not JSON', () => signRaw('not json', base(), S), 400, 'malformed_token'],
    ['claims not JSON', () => signRaw({ alg: 'HS256' }, 'not json', S), 400, 'malformed_claims'],
    ['claims an array', () => signRaw({ alg: 'HS256' }, '[1,2,3]', S), 400, 'malformed_claims'],
    ['claims a string', () => signRaw({ alg: 'HS256' }, '"ringing"', S), 400, 'malformed_claims'],
    [
      'deeply nested claims',
      () => signRaw({ alg: 'HS256' }, nested(3000), S),
      400,
      'malformed_claims',
    ],
    ['huge body', () => 'a'.repeat(80 * 1024), 413, 'payload_too_large'],
    ['empty body', () => '', 400, 'malformed_token'],
    ['whitespace body', () => '   \n', 400, 'malformed_token'],
    ['plain JSON event (unsigned)', () => JSON.stringify(base()), 401, 'unsigned_webhook'],
    [
      'binary garbage',
      () => Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x2e, 0x2e]),
      400,
      'malformed_token',
    ],
    ['missing call_id', () => signHS256(without('call_id'), S), 200, 'unattributable'],
    ['call_id float', () => signHS256(ev({ call_id: 1.5 }), S), 200, 'unattributable'],
    ['call_id boolean', () => signHS256(ev({ call_id: true }), S), 200, 'unattributable'],
    ['call_id object', () => signHS256(ev({ call_id: { id: 1 } }), S), 200, 'unattributable'],
    [
      'call_id SQL',
      () => signHS256(ev({ call_id: "1'; DROP TABLE calls;--" }), S),
      200,
      'unattributable',
    ],
    [
      'call_id 1000 chars',
      () => signHS256(ev({ call_id: '9'.repeat(1000) }), S),
      200,
      'unattributable',
    ],
    ['call_id negative huge', () => signHS256(ev({ call_id: -1e300 }), S), 200, 'unattributable'],
    ['expired exp', () => signHS256(ev({ exp: now() - 3600 }), S), 401, 'token_expired'],
    [
      'iat far in the future',
      () => signHS256(ev({ iat: now() + 86400 * 365 }), S),
      401,
      'iat_in_future',
    ],
    [
      'nbf in the future',
      () => signHS256(ev({ nbf: now() + 86400 }), S),
      401,
      'token_not_yet_valid',
    ],
    ['exp a string', () => signHS256(ev({ exp: 'tomorrow' }), S), 400, 'malformed_claims'],
  ]).map(([name, body, status, code]) => ({ name, body, status, code }));

/** @type {{ name: string, over: Record<string, any>, phone: string, store: string }[]} */
export const oddButValid = /** @type {[string, Record<string, any>, string, string?][]} */ ([
  ['full-width digits', { external_number: '０９０－１２３４－５６７８' }, '09012345678'],
  ['hyphens and spaces', { external_number: '090 1234-5678' }, '09012345678'],
  ['+81 with spaces', { external_number: '+81 90 1234 5678' }, '09012345678'],
  ['81 without plus', { external_number: '819012345678' }, '09012345678'],
  ['brackets', { external_number: '(090) 1234-5678' }, '09012345678'],
  ['anonymous caller', { external_number: 'anonymous' }, ''],
  ['withheld caller (null)', { external_number: null }, ''],
  ['caller missing', { external_number: undefined }, ''],
  ['foreign caller', { external_number: '+14155550100' }, '+14155550100'],
  ['unknown state', { state: 'some_future_state' }, '09012345678'],
  [
    'unknown extra fields',
    { brand_new_field: { nested: [1, 2, 3] }, labels: ['x'], mos_score: 4.2 },
    '09012345678',
  ],
  ['string call id', { call_id: 'sim-call-0001' }, '09012345678'],
  ['float duration', { duration: 19954.075 }, '09012345678'],
  ['exp in the future', { exp: Math.floor(Date.now() / 1000) + 600 }, '09012345678'],
  // Verified but odd content: recorded, never refused (issue 10).
  ['blocked caller', { external_number: 'blocked' }, ''],
  ['empty caller', { external_number: '' }, ''],
  ['missing state', { state: undefined }, '09012345678'],
  ['state a number', { state: 3 }, '09012345678'],
  ['state SQL', { state: "ringing' OR 1=1" }, '09012345678'],
  ['state emoji', { state: '📞' }, '09012345678'],
  ['state 1000 chars', { state: 'r'.repeat(1000) }, '09012345678'],
  ['state empty', { state: '' }, '09012345678'],
  ['caller with letters', { external_number: '090-ABCD-5678' }, ''],
  ['caller emoji', { external_number: '090📞12345678' }, ''],
  ['caller 1000 digits', { external_number: '1'.repeat(1000) }, ''],
  ['caller SQL', { external_number: "0'; DELETE FROM customers;--" }, ''],
  ['caller a number type', { external_number: 9012345678 }, ''],
  ['dialled with letters', { internal_number: '0501748abcd' }, '09012345678', '不明'],
  ['date_started a string', { date_started: 'yesterday' }, '09012345678'],
  ['date_connected negative', { date_connected: -5 }, '09012345678'],
  ['contact a string', { contact: 'bob' }, '09012345678'],
  ['direction a number', { direction: 1 }, '09012345678'],
  ['master_call_id an array', { master_call_id: [1] }, '09012345678'],
]).map(([name, over, phone, store = '西船橋']) => ({ name, over, phone, store }));
