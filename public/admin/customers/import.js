// @ts-check
// 顧客 › CSV 取り込み (admin): sends the file's bytes as they are (the server detects UTF-8 or
// Shift_JIS); a file with any bad row creates nothing, and its rows' errors are listed.
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { TEXT } from '../lib/messages.js';

/** Field names of the import's row errors. */
const CSV_FIELDS = Object.freeze({
  id: 'ID',
  name: '氏名',
  kana: 'フリガナ',
  phone: '電話番号',
  phones: '電話番号',
  homeStore: '店舗',
  type: '区分',
  flag: 'フラグ',
  visits: '来店回数',
  spend: '累計利用額',
  lastVisit: '最終来店日',
  memo: 'メモ',
  header: 'ヘッダー',
  file: 'ファイル',
});

const ui = {
  form: $('#import-form'),
  file: $('#import-file'),
  submit: $('#import-submit'),
  result: $('#import-result'),
  errors: $('#import-errors'),
  errorsTitle: $('#import-errors-title'),
  errorsBody: $('#import-errors-body'),
};

const status = (text, kind) => setStatusLine(ui.result, text, kind);

function showRowErrors(rows) {
  status('', null);
  ui.errorsTitle.textContent = `${rows.length}件の誤りがあるため、取り込みませんでした（1件も登録されていません）`;
  setChildren(
    ui.errorsBody,
    rows.map((r) =>
      el(
        'tr',
        { dataset: { line: r.line, field: r.field } },
        el('td', { class: 'num', text: `${r.line}行目` }),
        el('td', { text: CSV_FIELDS[r.field] ?? r.field }),
        el('td', { text: r.message }),
      ),
    ),
  );
  ui.errors.hidden = false;
}

/** Wires the import form: `imported()` after a successful import, `authLost(e)` on a 401. */
export function initImport({ imported, authLost }) {
  ui.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    ui.errors.hidden = true;
    const file = ui.file.files?.[0];
    if (!file) {
      status(TEXT.csvRequired, 'error');
      return;
    }
    ui.submit.disabled = true;
    status(`「${file.name}」を取り込み中…`, 'pending');
    try {
      const res = await api('/api/customers/import?encoding=auto', {
        method: 'POST',
        raw: file,
        contentType: 'text/csv',
      });
      status(
        `取り込みました: 新規 ${res.created}件・更新 ${res.updated}件（計 ${res.imported}行）`,
        'ok',
      );
      ui.file.value = '';
      imported();
    } catch (e) {
      if (authLost(e)) return;
      const rows = Array.isArray(e.details?.rows) ? e.details.rows : [];
      if (rows.length) showRowErrors(rows);
      else status(`取り込めませんでした: ${e.message}`, 'error');
    } finally {
      ui.submit.disabled = false;
    }
  });
}
