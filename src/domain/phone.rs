//! Japanese phone-number normalisation. Pure: no `worker` types, unit-tested natively.
//!
//! Dialpad sends E.164 (`+81501748xxxx`), staff type numbers with hyphens or full-width digits,
//! and CSV imports carry whatever the old system stored. Everything is reduced to the domestic
//! digit form (`0501748xxxx`) so one string compares equal across all of them.

/// Longest digit string we accept. E.164 allows 15 digits; a little slack covers extensions
/// written without a separator, but a 1,000-digit "number" is refused rather than stored.
pub const MAX_DIGITS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// Domestic digits (`0…`) or, for a foreign number, `+` and its digits.
    Number(String),
    /// The caller withheld the number (非通知) or the carrier did not deliver it.
    Withheld,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// Characters that are not digits or the usual separators.
    InvalidCharacters,
    /// More than [`MAX_DIGITS`] digits.
    TooLong,
}

impl Phone {
    pub fn as_str(&self) -> &str {
        match self {
            Phone::Number(n) => n,
            Phone::Withheld => "",
        }
    }
    pub fn is_withheld(&self) -> bool {
        matches!(self, Phone::Withheld)
    }
}

/// Words carriers and PBXs use in place of a number for a withheld caller.
const WITHHELD: &[&str] = &[
    "anonymous",
    "withheld",
    "private",
    "restricted",
    "unknown",
    "unavailable",
    "非通知",
    "通知不可能",
    "公衆電話",
];

/// Normalises a phone number as typed or delivered. See the module docs for the target form.
pub fn normalize(input: &str) -> Result<Phone, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() || WITHHELD.iter().any(|w| trimmed.eq_ignore_ascii_case(w)) {
        return Ok(Phone::Withheld);
    }
    let mut plus = false;
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            // Full-width digits (U+FF10..U+FF19), common in Japanese input methods.
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '+' | '＋' if i == 0 => plus = true,
            ' ' | '\u{3000}' | '\t' | '-' | '‐' | '‑' | '–' | '—' | '－' | '−' | 'ー' | '('
            | ')' | '（' | '）' | '.' | '/' => {}
            _ => return Err(PhoneError::InvalidCharacters),
        }
        if digits.len() > MAX_DIGITS {
            return Err(PhoneError::TooLong);
        }
    }
    if digits.is_empty() {
        // Only separators, e.g. "--": nothing a caller could be matched on.
        return Err(PhoneError::InvalidCharacters);
    }
    let national = if plus {
        match digits.strip_prefix("81") {
            // "+81 (0)3…" is a common way of writing the trunk zero; drop it once.
            Some(rest) => rest.strip_prefix('0').unwrap_or(rest).to_string(),
            None => return Ok(Phone::Number(format!("+{digits}"))),
        }
    } else if let Some(rest) = digits.strip_prefix("81") {
        // "81…" without "+": a domestic number always starts with 0, so a 9-10 digit remainder
        // is the international form with its plus lost (as some exports write it).
        if (9..=10).contains(&rest.len()) && !rest.starts_with('0') {
            rest.to_string()
        } else {
            return Ok(Phone::Number(digits));
        }
    } else {
        return Ok(Phone::Number(digits));
    };
    Ok(Phone::Number(format!("0{national}")))
}

/// Masks all but the last four digits, for logs (`*******5678`).
pub fn mask(number: &str) -> String {
    let n = number.chars().count();
    number
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        match normalize(s).unwrap() {
            Phone::Number(n) => n,
            Phone::Withheld => "<withheld>".into(),
        }
    }

    #[test]
    fn normalisation_table() {
        let table = [
            ("09012345678", "09012345678"),
            ("090-1234-5678", "09012345678"),
            ("090 1234 5678", "09012345678"),
            ("(03) 1234-5678", "0312345678"),
            ("０９０－１２３４－５６７８", "09012345678"),
            ("０９０ー１２３４ー５６７８", "09012345678"),
            ("+819012345678", "09012345678"),
            ("+81 90-1234-5678", "09012345678"),
            ("+81 (0)3 1234 5678", "0312345678"),
            ("＋８１５０１７４８１２３４", "05017481234"),
            ("819012345678", "09012345678"),
            ("81312345678", "0312345678"),
            ("+14155550100", "+14155550100"),
            ("  0501748 1234 ", "05017481234"),
            ("0120-123-456", "0120123456"),
            ("110", "110"),
            // Short "81…" strings are not an international form: left alone.
            ("8123", "8123"),
        ];
        for (input, want) in table {
            assert_eq!(n(input), want, "input {input:?}");
        }
    }

    #[test]
    fn withheld_callers() {
        for s in [
            "",
            "  ",
            "anonymous",
            "Anonymous",
            "PRIVATE",
            "非通知",
            "公衆電話",
        ] {
            assert_eq!(normalize(s), Ok(Phone::Withheld), "input {s:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(
            normalize("090-abcd-5678"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            normalize("📞09012345678"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            normalize("0'; DROP TABLE customers;--"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(normalize("--"), Err(PhoneError::InvalidCharacters));
        assert_eq!(
            normalize("0+9012345678"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(normalize(&"1".repeat(1000)), Err(PhoneError::TooLong));
        assert_eq!(normalize(&"1".repeat(21)), Err(PhoneError::TooLong));
        assert!(normalize(&"1".repeat(20)).is_ok());
    }

    /// The corpus the browser's copy (public/admin/lib/phone.js) is tested with too.
    #[test]
    fn shared_corpus() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/corpus/phone.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 30);
        for case in cases {
            let input = case["input"].as_str().unwrap();
            let got = match normalize(input) {
                Ok(Phone::Number(n)) => n,
                Ok(Phone::Withheld) => "withheld".into(),
                Err(PhoneError::InvalidCharacters) => "invalid".into(),
                Err(PhoneError::TooLong) => "too_long".into(),
            };
            assert_eq!(got, case["expected"].as_str().unwrap(), "input {input:?}");
        }
    }

    #[test]
    fn masks_all_but_last_four() {
        assert_eq!(mask("09012345678"), "*******5678");
        assert_eq!(mask("123"), "123");
        assert_eq!(mask(""), "");
    }
}
