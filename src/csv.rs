//! CSV reading (RFC 4180: quotes, doubled quotes, CRLF or LF, a UTF-8 BOM) and the customer
//! import's column mapping and row validation. Pure.
use crate::phone::{self, Phone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Splits CSV text into records of fields. Empty lines are skipped.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut field = String::new();
    let mut record: Vec<String> = Vec::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].is_empty()) {
                    records.push((record_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                record_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(CsvError {
            line: record_line,
            message: "閉じられていない引用符があります".into(),
        });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Name,
    Kana,
    Phones,
    HomeStore,
    Type,
    Flag,
    Visits,
    Spend,
    LastVisit,
    Memo,
}

/// Header names understood (Japanese as the business's systems export them, or English).
fn column(header: &str) -> Option<Column> {
    Some(match header.trim() {
        "id" | "ID" | "顧客ID" => Column::Id,
        "name" | "氏名" | "顧客名" | "名前" => Column::Name,
        "kana" | "フリガナ" | "ふりがな" | "カナ" => Column::Kana,
        "phone" | "phones" | "電話番号" | "電話" => Column::Phones,
        "home_store" | "store" | "店舗" | "所属店舗" => Column::HomeStore,
        "type" | "customer_type" | "区分" | "会員区分" => Column::Type,
        "flag" | "フラグ" => Column::Flag,
        "visits" | "visit_count" | "来店回数" => Column::Visits,
        "spend" | "total_spend" | "累計利用額" | "利用額" => Column::Spend,
        "last_visit" | "last_visit_at" | "最終来店日" => Column::LastVisit,
        "memo" | "メモ" | "備考" => Column::Memo,
        _ => return None,
    })
}

pub const TYPES: &[&str] = &["新規", "会員", "VIP"];
pub const FLAGS: &[&str] = &["要注意", "ブロック"];
pub const MAX_IMPORT_ROWS: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportRow {
    pub line: usize,
    pub id: Option<i64>,
    pub name: String,
    pub kana: String,
    pub phones: Vec<String>,
    pub home_store: Option<String>,
    pub customer_type: String,
    pub flag: Option<String>,
    pub visits: i64,
    pub spend: i64,
    pub last_visit: Option<String>,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: &'static str,
    pub message: String,
}

fn number(v: &str) -> Option<i64> {
    let cleaned: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | '¥' | '円' | ' '))
        .collect();
    if cleaned.is_empty() {
        return Some(0);
    }
    cleaned.parse::<i64>().ok().filter(|n| *n >= 0)
}

fn date(v: &str) -> Option<String> {
    let v = v.trim().replace('/', "-");
    let parts: Vec<&str> = v.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = (
        y.parse::<u32>().ok()?,
        m.parse::<u32>().ok()?,
        d.parse::<u32>().ok()?,
    );
    ((1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// Maps and validates every data row. Returns the rows, or every error found (the import is
/// all-or-nothing, so the user gets the whole list to fix at once).
pub fn import_rows(records: &[(usize, Vec<String>)]) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let Some((header_line, header)) = records.first() else {
        return Err(vec![RowError {
            line: 1,
            field: "file",
            message: "ヘッダー行がありません".into(),
        }]);
    };
    let cols: Vec<Option<Column>> = header.iter().map(|h| column(h)).collect();
    if !cols.contains(&Some(Column::Name)) || !cols.contains(&Some(Column::Phones)) {
        return Err(vec![RowError {
            line: *header_line,
            field: "header",
            message: "ヘッダーに「氏名」と「電話番号」の列が必要です".into(),
        }]);
    }
    if records.len() - 1 > MAX_IMPORT_ROWS {
        return Err(vec![RowError {
            line: *header_line,
            field: "file",
            message: format!("1ファイル{MAX_IMPORT_ROWS}行までです"),
        }]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line, rec) in &records[1..] {
        let mut row = ImportRow {
            line: *line,
            customer_type: "新規".into(),
            ..Default::default()
        };
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        for (i, value) in rec.iter().enumerate() {
            // A leading apostrophe is Excel's "this is text" marker (and what export writes
            // before formula-like cells): not part of the value.
            let value = value.strip_prefix('\'').unwrap_or(value);
            let v = value.trim();
            match cols.get(i).copied().flatten() {
                None => {}
                Some(Column::Id) if v.is_empty() => {}
                Some(Column::Id) => match v.parse::<i64>() {
                    Ok(id) if id > 0 => row.id = Some(id),
                    _ => bad.push(("id", format!("IDが正しくありません: {v}"))),
                },
                Some(Column::Name) => row.name = v.to_string(),
                Some(Column::Kana) => row.kana = v.to_string(),
                Some(Column::Phones) => {
                    for p in v
                        .split(['/', ';', '、', '\n'])
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                    {
                        match phone::normalize(p) {
                            Ok(Phone::Number(n)) => {
                                if !row.phones.contains(&n) {
                                    row.phones.push(n)
                                }
                            }
                            _ => bad.push(("phone", format!("電話番号が正しくありません: {p}"))),
                        }
                    }
                }
                Some(Column::HomeStore) => row.home_store = (!v.is_empty()).then(|| v.to_string()),
                Some(Column::Type) if v.is_empty() => {}
                Some(Column::Type) if TYPES.contains(&v) => row.customer_type = v.to_string(),
                Some(Column::Type) => {
                    bad.push(("type", format!("区分は新規・会員・VIPのいずれかです: {v}")))
                }
                Some(Column::Flag) if v.is_empty() => {}
                Some(Column::Flag) if FLAGS.contains(&v) => row.flag = Some(v.to_string()),
                Some(Column::Flag) => bad.push((
                    "flag",
                    format!("フラグは要注意・ブロックのいずれかです: {v}"),
                )),
                Some(Column::Visits) => match number(v) {
                    Some(n) => row.visits = n,
                    None => bad.push(("visits", format!("来店回数が数値ではありません: {v}"))),
                },
                Some(Column::Spend) => match number(v) {
                    Some(n) => row.spend = n,
                    None => bad.push(("spend", format!("累計利用額が数値ではありません: {v}"))),
                },
                Some(Column::LastVisit) if v.is_empty() => {}
                Some(Column::LastVisit) => match date(v) {
                    Some(d) => row.last_visit = Some(d),
                    None => bad.push((
                        "lastVisit",
                        format!("最終来店日は YYYY-MM-DD 形式です: {v}"),
                    )),
                },
                Some(Column::Memo) => row.memo = value.to_string(),
            }
        }
        if row.name.is_empty() {
            bad.push(("name", "氏名が空です".into()));
        } else if row.name.chars().count() > 100 {
            bad.push(("name", "氏名は100文字以内です".into()));
        }
        if row.phones.is_empty() && !bad.iter().any(|(f, _)| *f == "phone") {
            bad.push(("phone", "電話番号が空です".into()));
        }
        if row.memo.chars().count() > 2000 {
            bad.push(("memo", "メモは2000文字以内です".into()));
        }
        errors.extend(bad.into_iter().map(|(field, message)| RowError {
            line: *line,
            field,
            message,
        }));
        rows.push(row);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: *header_line,
            field: "file",
            message: "データ行がありません".into(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// One CSV line (CRLF-terminated). Cells that a spreadsheet would evaluate as a formula get a
/// leading `'` (CSV injection); the importer strips it again.
pub fn write_row(fields: &[&str]) -> String {
    let mut line = String::new();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        let risky = f.starts_with(['=', '+', '-', '@', '\t', '\r']) && f.parse::<f64>().is_err();
        let v = if risky {
            format!("'{f}")
        } else {
            f.to_string()
        };
        if v.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&v.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&v);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc4180() {
        let text = "\u{feff}氏名,電話番号,メモ\r\n\"山田, 太郎\",090-1234-5678,\"He said \"\"hi\"\"\nsecond line\"\r\n\r\n佐藤,0311112222,\n";
        let recs = parse(text).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(
            recs[1].1,
            vec!["山田, 太郎", "090-1234-5678", "He said \"hi\"\nsecond line"]
        );
        assert_eq!(
            recs[2].0, 5,
            "line numbers count the embedded newline and the blank line"
        );
        assert_eq!(recs[2].1, vec!["佐藤", "0311112222", ""]);
        assert!(parse("a,\"b\n").is_err());
        assert_eq!(
            parse("a,b").unwrap(),
            vec![(1, vec!["a".to_string(), "b".to_string()])]
        );
    }

    #[test]
    fn maps_and_validates_rows() {
        let recs = parse("氏名,フリガナ,電話番号,店舗,区分,来店回数,累計利用額,最終来店日\n山田,ヤマダ,090-1234-5678 / +81 3 1111 2222,西船橋,会員,12,\"86,000\",2026/11/2\n").unwrap();
        let rows = import_rows(&recs).unwrap();
        assert_eq!(rows[0].phones, vec!["09012345678", "0311112222"]);
        assert_eq!(rows[0].spend, 86000);
        assert_eq!(rows[0].last_visit.as_deref(), Some("2026-11-02"));
        assert_eq!(rows[0].home_store.as_deref(), Some("西船橋"));
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn written_rows_read_back() {
        let line = write_row(&["1", "=cmd|' /C calc'!A0", "a,\"b\"", "+14155550100", "-5"]);
        assert!(line.starts_with("1,'=cmd"));
        let back = parse(&line).unwrap();
        assert_eq!(back[0].1[2], "a,\"b\"");
        assert_eq!(back[0].1[3], "+14155550100", "a number is not a formula");
        assert_eq!(back[0].1[4], "-5");
        let rows = import_rows(
            &parse(&format!(
                "氏名,電話番号\n{}",
                write_row(&["x", "+14155550100"])
            ))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(rows[0].phones, vec!["+14155550100"]);
    }

    #[test]
    fn reports_every_bad_row() {
        let recs = parse("name,phone,type,visits,last_visit\n,0901234,VIP,1,\nOK,abc,会員,x,2026-13-01\nFine,0312345678,新規,3,\n").unwrap();
        let errs = import_rows(&recs).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            got,
            vec![(2, "name"), (3, "phone"), (3, "visits"), (3, "lastVisit")]
        );
        assert_eq!(
            import_rows(&parse("memo\nx\n").unwrap()).unwrap_err()[0].field,
            "header"
        );
        assert_eq!(import_rows(&[]).unwrap_err()[0].field, "file");
    }
}
