// @ts-check
// A call message shaped like the product's `incoming_call` (same fields, about the same size),
// for the baselines, which have no pipeline of their own to build one.
export function callMessage(legId, seq = 0) {
  return {
    seq,
    type: 'incoming_call',
    callId: legId,
    legId,
    customerPhone: '09012345678',
    incomingNumber: '05017481234',
    timestamp: new Date().toISOString(),
    isTest: false,
    state: 'ringing',
    phase: 'ringing',
    direction: 'inbound',
    store: { id: 1, name: '西船橋' },
    customer: {
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
      updatedAt: new Date().toISOString(),
    },
    candidates: [],
    contactName: '山田 太郎',
    connectedAt: null,
    endedAt: null,
    durationMs: null,
  };
}
