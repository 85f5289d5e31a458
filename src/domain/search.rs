//! The search key: what people type and what is stored, folded to one form so that they meet.
//! Pure.
//!
//! Front-desk staff type a name however their input method gives it: やまだ, ヤマダ, ﾔﾏﾀﾞ,
//! 山田太郎 without the space, full-width letters and digits. The key folds all of these:
//! compatibility forms to their plain forms (the part of NFKC that Japanese input produces:
//! full-width ASCII, half-width katakana with their sound marks), hiragana to katakana, ASCII
//! to lower case, and every space away. It is computed once when a customer is written and
//! stored beside the name (`customers.name_key`, `kana_key`); a query is folded the same way.
//! Matching uses `instr`, not `LIKE`, so D1's 50-byte LIKE pattern cap does not apply.

/// The longest query a search takes, in characters (customers, 着信履歴, 操作履歴's customer
/// filter; `tests/corpus/field-limits.json`).
pub const MAX_QUERY_CHARS: usize = 100;

/// Half-width katakana U+FF66..=U+FF9D in order, as full-width.
const HALF_KATAKANA: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

fn half_to_full(c: char) -> Option<char> {
    let n = c as u32;
    match n {
        0xFF61 => Some('。'),
        0xFF62 => Some('「'),
        0xFF63 => Some('」'),
        0xFF64 => Some('、'),
        0xFF65 => Some('・'),
        0xFF66..=0xFF9D => HALF_KATAKANA.chars().nth((n - 0xFF66) as usize),
        _ => None,
    }
}

/// The voiced (゛) or semi-voiced (゜) form of a katakana, if it has one.
fn with_mark(c: char, semi: bool) -> Option<char> {
    let n = c as u32;
    if semi {
        // ハ ヒ フ ヘ ホ -> パ ピ プ ペ ポ (each row is 3 apart: ハ バ パ)
        return matches!(c, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ')
            .then(|| char::from_u32(n + 2))
            .flatten();
    }
    match c {
        'ウ' => Some('ヴ'),
        'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ'
        | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(n + 1),
        _ => None,
    }
}

/// Folds width: full-width ASCII to ASCII, half-width katakana (with a following ﾞ/ﾟ) to
/// full-width, the ideographic space to a space. The rest is kept.
pub fn fold_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let n = c as u32;
        if (0xFF01..=0xFF5E).contains(&n) {
            out.push(char::from_u32(n - 0xFEE0).unwrap_or(c));
        } else if c == '\u{3000}' {
            out.push(' ');
        } else if let Some(full) = half_to_full(c) {
            let marked = match chars.peek() {
                Some('ﾞ') => with_mark(full, false),
                Some('ﾟ') => with_mark(full, true),
                _ => None,
            };
            match marked {
                Some(m) => {
                    chars.next();
                    out.push(m);
                }
                None => out.push(full),
            }
        } else if c == 'ﾞ' {
            out.push('゛');
        } else if c == 'ﾟ' {
            out.push('゜');
        } else {
            out.push(c);
        }
    }
    out
}

/// Hiragana to katakana (ぁ..ゖ and ゝゞ map 0x60 up); everything else is kept.
pub fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            n @ (0x3041..=0x3096 | 0x309D..=0x309E) => char::from_u32(n + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The search key of a text (see the module docs).
pub fn key(s: &str) -> String {
    to_katakana(&fold_width(s))
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_type_meets_what_is_stored() {
        let stored = [key("山田 太郎"), key("ヤマダ タロウ")];
        for typed in [
            "やまだ",
            "ヤマダ",
            "ﾔﾏﾀﾞ",
            "山田太郎",
            "山田　太郎",
            "やまだ たろう",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
        ] {
            let k = key(typed);
            assert!(stored.iter().any(|s| s.contains(&k)), "{typed} -> {k}");
        }
    }

    #[test]
    fn width_and_marks() {
        assert_eq!(fold_width("ＡＢＣ１２３"), "ABC123");
        assert_eq!(fold_width("ｶﾞｷﾞﾊﾟﾋﾟｳﾞ"), "ガギパピヴ");
        assert_eq!(
            fold_width("ｱﾞ"),
            "ア゛",
            "a mark with no composed form stays a mark"
        );
        assert_eq!(fold_width("ｰ"), "ー");
        assert_eq!(key("Ｓｕｚｕｋｉ　Ｉｃｈｉｒｏ"), "suzukiichiro");
        assert_eq!(to_katakana("やまだ ゞ"), "ヤマダ ヾ");
        assert_eq!(key("090-1234"), "090-1234");
    }
}
