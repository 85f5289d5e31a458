// @ts-check
// 設定 → 営業日と折り返し (admin): the business-day cutoff (営業日切替), a callback's default
// due time in minutes, and whether an item needs an outcome before it is closed. Staff see
// them read-only. The server validates (`PUT /api/settings/hours`).
import { $, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { whileSaving, settingsSave } from '../lib/page.js';
import { TEXT } from '../lib/messages.js';

const ui = {
  form: $('#hours-settings-form'),
  cutoff: $('#hours-cutoff'),
  due: $('#hours-due-minutes'),
  requireOutcome: $('#hours-require-outcome'),
  error: $('#hours-settings-error'),
  status: $('#hours-settings-status'),
  save: $('#hours-settings-save'),
};

function render(s) {
  ui.cutoff.value = s.businessDayCutoff;
  ui.due.value = String(s.callbackDueMinutes);
  ui.requireOutcome.checked = s.callbackRequireOutcome;
}

export async function initHours({ admin }) {
  const { settings } = await api('/api/settings/hours');
  render(settings);
  for (const node of [ui.cutoff, ui.due, ui.requireOutcome]) node.disabled = !admin;
  ui.form.hidden = false;
  ui.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await whileSaving(settingsSave(ui), async () => {
      const body = {
        businessDayCutoff: ui.cutoff.value,
        callbackDueMinutes: Number(ui.due.value),
        callbackRequireOutcome: ui.requireOutcome.checked,
      };
      const res = await api('/api/settings/hours', { method: 'PUT', body });
      render(res.settings);
      setStatusLine(ui.status, TEXT.saved, 'ok');
    });
  });
}
