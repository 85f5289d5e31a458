// @ts-check
// Reads customers, stores (with prefixes) and the call log out of D1 for `npm run export`.

export async function exportAll(db) {
  const all = async (sql) => (await db.prepare(sql).all()).results;
  return {
    stores: await all(
      `SELECT s.id, s.name, (SELECT group_concat(prefix, ' ') FROM store_prefixes WHERE store_id = s.id) AS prefixes, s.created_at
       FROM stores s ORDER BY s.id`,
    ),
    customers: await all(
      `SELECT c.id, c.name, c.kana, (SELECT group_concat(phone, ' ') FROM customer_phones WHERE customer_id = c.id) AS phones,
         hs.name AS home_store, c.customer_type, c.flag, c.visit_count, c.total_spend, c.last_visit_at, c.memo,
         c.created_at, c.updated_at
       FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id ORDER BY c.id`,
    ),
    calls: await all(
      `SELECT k.id, k.direction, k.caller, k.dialled, s.name AS store, k.customer_id, k.state, k.phase, k.is_test,
         k.started_at, k.connected_at, k.ended_at, k.duration_ms, k.answered_by
       FROM calls k LEFT JOIN stores s ON s.id = k.store_id ORDER BY k.started_at`,
    ),
  };
}

/** Columns that hold phone numbers or number prefixes: Excel must keep them as text. */
export const NUMBER_COLUMNS = Object.freeze(['phones', 'caller', 'dialled', 'prefixes']);

/**
 * RFC 4180 CSV with a header row; a UTF-8 BOM so Excel opens Japanese text correctly. Cells of
 * `NUMBER_COLUMNS` are written as `="09012345678"` (as the API's export does, see
 * domain::csv::excel_text), so Excel keeps their leading 0 instead of making 9012345678.
 */
export function toCsv(rows) {
  if (!rows.length) return '\ufeff';
  const cols = Object.keys(rows[0]);
  const cell = (v, col) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    if (NUMBER_COLUMNS.includes(col) && /^[+\d][\d +]*$/.test(s)) return `"=""${s}"""`;
    // A leading = + - @ makes spreadsheets evaluate the cell: neutralise (CSV injection).
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return (
    '\ufeff' +
    [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c], c)).join(','))].join('\r\n') +
    '\r\n'
  );
}
