// @ts-check
// Baseline B — the seed prototype's stack, for comparison only (not part of the product):
// Express + Socket.IO + jsonwebtoken in one Node process. POST /api/dialpad/webhook verifies
// the HS256 JWT with jsonwebtoken and emits `incoming_call` to the room `admin-room`; sockets
// authenticate with a session JWT in `auth.token` and join that room. Like the prototype it
// keeps nothing: no database, no call log, no replay; the customer comes from memory.
// Prints `listening <port>` on stdout once ready.
import express from 'express';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import jwt from 'jsonwebtoken';

const WEBHOOK_SECRET = process.env.WEBHOOK_SECRET;
const JWT_SECRET = process.env.JWT_SECRET;
if (!WEBHOOK_SECRET || !JWT_SECRET) throw new Error('WEBHOOK_SECRET and JWT_SECRET are required');

const customers = new Map([
  [
    '09012345678',
    {
      id: 1,
      name: '山田 太郎',
      kana: 'ヤマダ タロウ',
      memo: '平日夕方の来店が多い。駐車場利用。',
      customerType: '会員',
      flag: null,
      homeStore: { id: 1, name: '西船橋' },
      phones: ['09012345678'],
      usage: {
        visits: 12,
        totalSpend: 86000,
        lastVisit: '2026-11-02',
        calls: 0,
        lastCall: null,
        firstContact: null,
        missed30d: 0,
      },
    },
  ],
]);
const domestic = (n) => String(n ?? '').replace(/^\+81/, '0');

const app = express();
const server = createServer(app);
const io = new Server(server, { serveClient: false });

io.use((socket, next) => {
  try {
    socket.data.user = jwt.verify(socket.handshake.auth?.token ?? '', JWT_SECRET, {
      algorithms: ['HS256'],
    });
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});
io.on('connection', (socket) => {
  if (socket.data.user.role === 'admin') socket.join('admin-room');
});

let seq = 0;
app.post('/api/dialpad/webhook', express.text({ type: () => true, limit: '64kb' }), (req, res) => {
  let ev;
  try {
    ev = jwt.verify(req.body, WEBHOOK_SECRET, { algorithms: ['HS256'] });
  } catch {
    return res.status(401).json({ error: 'bad_signature' });
  }
  const customerPhone = domestic(ev.external_number);
  const message = {
    seq: ++seq,
    type: 'incoming_call',
    callId: String(ev.call_id),
    legId: String(ev.call_id),
    customerPhone,
    incomingNumber: domestic(ev.internal_number),
    timestamp: new Date(ev.event_timestamp ?? Date.now()).toISOString(),
    isTest: false,
    state: ev.state,
    phase: ev.state,
    direction: ev.direction,
    store: { id: 1, name: '西船橋' },
    customer: customers.get(customerPhone) ?? null,
    candidates: [],
    contactName: ev.contact?.name ?? null,
    connectedAt: null,
    endedAt: null,
    durationMs: null,
  };
  io.to('admin-room').emit('incoming_call', message);
  res.json({
    ok: true,
    status: 'broadcast',
    callId: message.callId,
    delivered: io.sockets.adapter.rooms.get('admin-room')?.size ?? 0,
  });
});
app.get('/health', (_req, res) => res.json({ ok: true }));

const stop = () => {
  io.close();
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the benchmark: the runner kills us, and this bounds us if it died first.
setTimeout(() => process.exit(0), Number(process.env.MAX_LIFETIME_MS ?? 900000)).unref();
process.stdin.on('end', () => process.exit(0)); // parent gone
process.stdin.resume();

server.listen(0, '127.0.0.1', () =>
  console.log(`listening ${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`),
);
