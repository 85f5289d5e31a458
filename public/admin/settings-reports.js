// @ts-check
// 設定 › 着信分析の週次サマリー (admins): where last week's summary is sent (an https:// URL),
// saved on its own (PUT /api/settings/reports), and a test send of last week's summary.
import { $, setStatusLine } from './lib/dom.js';
import { api } from './lib/api.js';

const url = $('#weekly-url');
const status = $('#weekly-status');

async function load() {
  try {
    const r = await api('/api/settings/reports');
    url.value = r.webhookUrl ?? '';
    if (r.lastSentWeek) setStatusLine(status, `最後に送った週: ${r.lastSentWeek}〜`, '');
  } catch {
    // Staff (403) never see the card; a failure leaves it empty.
  }
}

$('#weekly-save').addEventListener('click', async () => {
  setStatusLine(status, '保存中…', 'pending');
  try {
    const r = await api('/api/settings/reports', {
      method: 'PUT',
      body: { webhookUrl: url.value.trim() || null },
    });
    url.value = r.webhookUrl ?? '';
    setStatusLine(
      status,
      r.webhookUrl ? '送信先を保存しました' : '週次サマリーを送らない設定にしました',
      'ok',
    );
  } catch (e) {
    setStatusLine(status, e.message, 'error');
  }
});

$('#weekly-test').addEventListener('click', async () => {
  setStatusLine(status, '送信中…', 'pending');
  try {
    const r = await api('/api/settings/reports/test', { method: 'POST', body: {} });
    setStatusLine(
      status,
      r.sent ? '先週分を送信しました' : `送信先が応答しませんでした（${r.status}）`,
      r.sent ? 'ok' : 'error',
    );
  } catch (e) {
    setStatusLine(status, e.message, 'error');
  }
});

load();
