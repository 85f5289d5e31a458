//! CSV reading (RFC 4180: quotes, doubled quotes, CRLF or LF, a UTF-8 BOM) and the customer
//! import's column mapping. Pure. Each field is validated by `customer`, the same rules as
//! every other write path.
use crate::domain::customer;
use crate::domain::error::ApiError;

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
    /// A custom field, by its index in the definitions given.
    Custom(usize),
}

/// A custom field's name: [`crate::domain::fields::label`], and not a standard column's
/// (the field is a CSV column named by it).
pub fn field_label(v: &str) -> Result<String, ApiError> {
    let v = crate::domain::fields::label(v)?;
    if column(&v).is_some() {
        return Err(ApiError::bad(
            "reserved_label",
            "label",
            format!("「{v}」は標準の項目名と同じです（CSVの列名が重なります）"),
        ));
    }
    Ok(v)
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
    /// The row's custom field cells: (field id, value; `None` clears it).
    pub custom: Vec<(i64, Option<String>)>,
}

pub use crate::domain::error::RowError;

/// Maps and validates every data row. Returns the rows, or every error found (the import is
/// all-or-nothing, so the user gets the whole list to fix at once).
pub fn import_rows(records: &[(usize, Vec<String>)]) -> Result<Vec<ImportRow>, Vec<RowError>> {
    match read_rows(records)? {
        (rows, errors) if errors.is_empty() => Ok(rows),
        (_, errors) => Err(errors),
    }
}

/// Every data row mapped, with every row's problems (a row with problems is still returned,
/// so checks that need the database, such as store names, can report on it in the same
/// pass). `Err` is a problem with the file itself.
pub type RowsAndErrors = (Vec<ImportRow>, Vec<RowError>);

pub fn read_rows(records: &[(usize, Vec<String>)]) -> Result<RowsAndErrors, Vec<RowError>> {
    read_rows_with(records, &[])
}

/// [`read_rows`] with the business's custom fields: a column named as a field's label is read
/// into that field, validated by `domain::fields`.
pub fn read_rows_with(
    records: &[(usize, Vec<String>)],
    defs: &[crate::domain::fields::Definition],
) -> Result<RowsAndErrors, Vec<RowError>> {
    let Some((header_line, header)) = records.first() else {
        return Err(vec![RowError {
            line: 1,
            field: "file",
            message: "ヘッダー行がありません".into(),
        }]);
    };
    let cols: Vec<Option<Column>> = header
        .iter()
        .map(|h| {
            column(h).or_else(|| {
                defs.iter()
                    .position(|d| d.label == h.trim())
                    .map(Column::Custom)
            })
        })
        .collect();
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
            customer_type: customer::TYPES[0].into(),
            ..Default::default()
        };
        let mut bad: Vec<ApiError> = Vec::new();
        let mut phones: Vec<&str> = Vec::new();
        for (i, value) in rec.iter().enumerate() {
            // A leading apostrophe is Excel's "this is text" marker (and what export writes
            // before formula-like cells): not part of the value.
            let value = value.strip_prefix('\'').unwrap_or(value);
            // `="09012345678"`: how export writes a number so Excel keeps its leading 0.
            let value = excel_text_value(value);
            let v = value.trim();
            let mut check = |r: Result<(), ApiError>| {
                if let Err(e) = r {
                    bad.push(e)
                }
            };
            match cols.get(i).copied().flatten() {
                None => {}
                Some(Column::Id) if v.is_empty() => {}
                Some(Column::Id) => match v.parse::<i64>() {
                    Ok(id) if id > 0 => row.id = Some(id),
                    _ => check(Err(ApiError::bad(
                        "invalid_id",
                        "id",
                        format!("IDが正しくありません: {v}"),
                    ))),
                },
                Some(Column::Name) => check(customer::name(v).map(|n| row.name = n)),
                Some(Column::Kana) => check(customer::kana(v).map(|k| row.kana = k)),
                Some(Column::Phones) => phones.extend(
                    v.split(['/', ';', '、', '\n'])
                        .map(str::trim)
                        .filter(|p| !p.is_empty()),
                ),
                Some(Column::HomeStore) => row.home_store = (!v.is_empty()).then(|| v.to_string()),
                Some(Column::Type) => {
                    check(customer::customer_type(v).map(|t| row.customer_type = t))
                }
                Some(Column::Flag) => check(customer::flag(Some(v)).map(|f| row.flag = f)),
                Some(Column::Visits) => {
                    check(customer::amount_text(v, "visits", "来店回数").map(|n| row.visits = n))
                }
                Some(Column::Spend) => check(
                    customer::amount_text(v, "totalSpend", "累計利用額").map(|n| row.spend = n),
                ),
                Some(Column::LastVisit) => {
                    check(customer::last_visit(v).map(|d| row.last_visit = d))
                }
                Some(Column::Memo) => check(customer::memo(value).map(|m| row.memo = m)),
                Some(Column::Custom(n)) => check(
                    crate::domain::fields::value_text(&defs[n], v)
                        .map(|x| row.custom.push((defs[n].id, x))),
                ),
            }
        }
        // A short row may not reach the name column at all.
        if row.name.is_empty() && !bad.iter().any(|e| e.field() == Some("name")) {
            bad.extend(customer::name("").err());
        }
        match customer::phones(phones) {
            Ok(p) => row.phones = p,
            Err(e) => bad.push(e),
        }
        errors.extend(bad.into_iter().map(|e| RowError {
            line: *line,
            field: e.field().unwrap_or("file"),
            message: e.message(),
        }));
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(vec![RowError {
            line: *header_line,
            field: "file",
            message: "データ行がありません".into(),
        }]);
    }
    Ok((rows, errors))
}

/// A cell written as an Excel text formula (`="…"`, see [`excel_text`]) read back as its text.
pub fn excel_text_value(v: &str) -> &str {
    v.trim()
        .strip_prefix("=\"")
        .and_then(|r| r.strip_suffix('"'))
        .filter(|r| !r.contains('"'))
        .unwrap_or(v)
}

/// A value Excel must keep as text (phone numbers: `09012345678` would lose its leading 0 and
/// become 9012345678): written as the formula `="09012345678"`, which Excel shows as the text
/// and saves back as the plain number; the importer reads both. Only for values without `"`
/// (numbers are digits, `+` and ` / `); anything else is left to [`write_row`].
pub fn excel_text(v: &str) -> String {
    if v.is_empty() || v.contains('"') {
        v.to_string()
    } else {
        format!("=\"{v}\"")
    }
}

/// One CSV line (CRLF-terminated). Cells that a spreadsheet would evaluate as a formula get a
/// leading `'` (CSV injection); the importer strips it again.
pub fn write_row(fields: &[&str]) -> String {
    write_row_with_text(fields, &[])
}

/// [`write_row`], with the cells at `text_columns` written by [`excel_text`] (our own formula,
/// so not marked as a risky one).
pub fn write_row_with_text(fields: &[&str], text_columns: &[usize]) -> String {
    let mut line = String::new();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        let text;
        let f: &str = if text_columns.contains(&n) {
            text = excel_text(f);
            &text
        } else {
            f
        };
        let risky = !(text_columns.contains(&n) && f.starts_with("=\""))
            && f.starts_with(['=', '+', '-', '@', '\t', '\r'])
            && f.parse::<f64>().is_err();
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
    fn numbers_keep_their_leading_zero_through_excel() {
        let line = write_row_with_text(&["山田", "09012345678 / +14155550100"], &[1]);
        assert_eq!(line, "山田,\"=\"\"09012345678 / +14155550100\"\"\"\r\n");
        let rows = import_rows(&parse(&format!("氏名,電話番号\n{line}")).unwrap()).unwrap();
        assert_eq!(rows[0].phones, vec!["09012345678", "+14155550100"]);
        // What Excel writes back after opening that file: the plain text.
        let rows = import_rows(&parse("氏名,電話番号\n山田,09012345678\n").unwrap()).unwrap();
        assert_eq!(rows[0].phones, vec!["09012345678"]);
        // A number that lost its 0 (opened without the formula) is named as such.
        let errs = import_rows(&parse("氏名,電話番号\n山田,9012345678\n").unwrap()).unwrap_err();
        assert_eq!(errs[0].field, "phones");
        assert!(errs[0].message.contains("先頭の0"), "{}", errs[0].message);
        assert_eq!(excel_text_value("=\"a\"b\""), "=\"a\"b\"");
    }

    #[test]
    fn reports_every_bad_row() {
        let recs = parse("name,phone,type,visits,last_visit\n,09012341234,VIP,1,\nOK,abc,会員,x,2026-13-01\nFine,0312345678,新規,3,\n").unwrap();
        let errs = import_rows(&recs).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            got,
            vec![(2, "name"), (3, "visits"), (3, "lastVisit"), (3, "phones")]
        );
        assert_eq!(
            import_rows(&parse("memo\nx\n").unwrap()).unwrap_err()[0].field,
            "header"
        );
        assert_eq!(import_rows(&[]).unwrap_err()[0].field, "file");
    }

    #[test]
    fn custom_field_columns_by_label() {
        let def = crate::domain::fields::Definition {
            id: 7,
            label: "指名".into(),
            kind: "choice".into(),
            options: vec!["佐藤".into(), "鈴木".into()],
            store_id: None,
            on_card: true,
            position: 0,
            staff_edit: true,
        };
        let recs = parse("氏名,電話番号,指名\n山田,09012345678,鈴木\n田中,09011112222,\n").unwrap();
        let (rows, errors) = read_rows_with(&recs, std::slice::from_ref(&def)).unwrap();
        assert!(errors.is_empty());
        assert_eq!(rows[0].custom, vec![(7, Some("鈴木".to_string()))]);
        assert_eq!(rows[1].custom, vec![(7, None)]);
        let recs = parse("氏名,電話番号,指名\n山田,09012345678,田中\n").unwrap();
        let (_, errors) = read_rows_with(&recs, &[def]).unwrap();
        assert_eq!((errors[0].line, errors[0].field), (2, "fields"));
        assert_eq!(field_label("氏名").unwrap_err().code(), "reserved_label");
        assert_eq!(field_label("電話").unwrap_err().code(), "reserved_label");
        assert_eq!(field_label(" 指名 ").unwrap(), "指名");
        // Without the definition the column is not read.
        assert!(read_rows(&recs).unwrap().0[0].custom.is_empty());
    }
}
