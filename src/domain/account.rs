//! Accounts as an admin edits them in the console (アカウント): what a login id, a display
//! name, a role and store, and a typed password must be, and the generated password. Pure.
use crate::domain::error::ApiError;
use crate::domain::password::{self, PolicyError};
use crate::domain::token::Role;

pub const MAX_LOGIN_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 100;
/// Length of a generated password (the CLI's `randomPassword` makes the same kind).
pub const GENERATED_CHARS: usize = 16;
/// No look-alikes (0/O, 1/l/I): a generated password is read off the screen and typed.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A login id: trimmed, 1 to 64 characters, no spaces or control characters.
pub fn login_id(raw: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > MAX_LOGIN_CHARS {
        return Err(ApiError::bad(
            "invalid_login_id",
            "loginId",
            "ログインIDは1〜64文字で入力してください",
        ));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad(
            "invalid_login_id",
            "loginId",
            "ログインIDに空白や制御文字は使えません",
        ));
    }
    Ok(v.to_string())
}

/// A login id as typed at the login: trimmed, and refused only when it could never have been
/// created (empty, or longer than [`MAX_LOGIN_CHARS`] characters: the same count as
/// [`login_id`], so an id of kana or kanji that could be created can sign in).
pub fn login_attempt(raw: &str) -> Option<&str> {
    let v = raw.trim();
    (!v.is_empty() && v.chars().count() <= MAX_LOGIN_CHARS).then_some(v)
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
pub fn display_name(raw: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "invalid_name",
            "name",
            "表示名は1〜100文字で入力してください",
        ));
    }
    Ok(v.to_string())
}

pub fn role(raw: &str) -> Result<Role, ApiError> {
    Role::parse(raw).ok_or_else(|| {
        ApiError::bad(
            "invalid_role",
            "role",
            "権限は admin（管理者）、area_manager（エリアマネージャー）、staff（スタッフ）、\
             reception（受付センター）のいずれかです",
        )
    })
}

/// A staff member or an area manager works for stores, so needs at least one (`store` is the
/// first of them); an admin sees every store and a reception desk answers for every store:
/// either may have stores (or none).
pub fn store_fits(role: Role, store: Option<i64>) -> Result<(), ApiError> {
    if matches!(role, Role::Staff | Role::AreaManager) && store.is_none() {
        return Err(ApiError::bad(
            "store_required",
            "storeId",
            "スタッフには店舗を選んでください",
        ));
    }
    Ok(())
}

/// Most stores one account may belong to.
pub const MAX_STORES: usize = 100;

/// An account's stores from what an admin sent: `ids` (the whole set, when given) and `first`
/// (the store its new records go to; must be one of the set). Without `first`, `keep` (the
/// current first store) stays first if it is still in the set, else the lowest id is. Without
/// `ids`, the set is `first` alone (the one-store form older clients send). Answers the first
/// store and the set (ascending, no duplicates).
pub fn store_set(
    first: Option<i64>,
    ids: Option<&[i64]>,
    keep: Option<i64>,
) -> Result<(Option<i64>, Vec<i64>), ApiError> {
    let bad = |msg: &str| ApiError::bad("invalid_stores", "storeIds", msg);
    let Some(ids) = ids else {
        return Ok((first, first.into_iter().collect()));
    };
    if ids.len() > MAX_STORES {
        return Err(bad("店舗が多すぎます"));
    }
    if ids.iter().any(|s| *s <= 0) {
        return Err(bad("店舗の指定が正しくありません"));
    }
    let mut set = ids.to_vec();
    set.sort_unstable();
    set.dedup();
    let primary = match first {
        Some(f) if set.contains(&f) => Some(f),
        Some(_) => return Err(bad("最初の店舗は所属店舗から選んでください")),
        None => keep.filter(|k| set.contains(k)).or(set.first().copied()),
    };
    Ok((primary, set))
}

/// A typed password under `domain::password`'s policy, as a 400 the console shows.
pub fn typed_password(raw: &str) -> Result<(), ApiError> {
    password::check_policy(raw).map_err(|e| {
        let message = match e {
            PolicyError::TooShort => format!(
                "パスワードは{}文字以上にしてください",
                password::MIN_PASSWORD_CHARS
            ),
            PolicyError::TooLong => "パスワードが長すぎます".to_string(),
            PolicyError::Common => {
                "よく使われるパスワードは使えません。別のパスワードにしてください".to_string()
            }
        };
        ApiError::bad(e.code(), "password", message)
    })
}

/// A password made from `random` bytes (one character per byte).
pub fn password_from(random: &[u8; GENERATED_CHARS]) -> String {
    random
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A fresh random password that passes the policy.
pub fn generate() -> Result<String, getrandom::Error> {
    loop {
        let mut b = [0u8; GENERATED_CHARS];
        getrandom::getrandom(&mut b)?;
        let p = password_from(&b);
        if password::check_policy(&p).is_ok() {
            return Ok(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_and_names() {
        assert_eq!(login_id("  tanaka ").unwrap(), "tanaka");
        assert!(login_id("").is_err());
        assert!(login_id("a b").is_err());
        assert!(login_id(&"x".repeat(65)).is_err());
        assert_eq!(display_name(" 田中 ").unwrap(), "田中");
        assert!(display_name("  ").is_err());
        assert!(display_name("a\u{7}").is_err());
    }

    #[test]
    fn a_set_of_stores_and_its_first() {
        assert_eq!(store_set(Some(2), None, None).unwrap(), (Some(2), vec![2]));
        assert_eq!(store_set(None, None, Some(3)).unwrap(), (None, vec![]));
        assert_eq!(
            store_set(None, Some(&[3, 1, 3]), None).unwrap(),
            (Some(1), vec![1, 3])
        );
        // The current first store stays first while it is in the set.
        assert_eq!(
            store_set(None, Some(&[1, 3]), Some(3)).unwrap(),
            (Some(3), vec![1, 3])
        );
        assert_eq!(
            store_set(None, Some(&[1, 2]), Some(3)).unwrap(),
            (Some(1), vec![1, 2])
        );
        assert_eq!(
            store_set(Some(2), Some(&[1, 2]), None).unwrap(),
            (Some(2), vec![1, 2])
        );
        assert_eq!(store_set(None, Some(&[]), Some(1)).unwrap(), (None, vec![]));
        for (first, ids) in [(Some(5), vec![1, 2]), (None, vec![0]), (None, vec![1; 101])] {
            assert_eq!(
                store_set(first, Some(&ids), None).unwrap_err().code(),
                "invalid_stores"
            );
        }
    }

    #[test]
    fn staff_needs_a_store_admin_does_not() {
        assert_eq!(role("staff").unwrap(), Role::Staff);
        assert_eq!(role("owner").unwrap_err().code(), "invalid_role");
        assert_eq!(
            store_fits(Role::Staff, None).unwrap_err().code(),
            "store_required"
        );
        assert!(store_fits(Role::Staff, Some(1)).is_ok());
        assert!(store_fits(Role::Admin, None).is_ok());
    }

    #[test]
    fn typed_passwords_follow_the_policy() {
        assert_eq!(
            typed_password("short").unwrap_err().code(),
            "password_too_short"
        );
        assert_eq!(
            typed_password("password1234").unwrap_err().code(),
            "password_too_common"
        );
        assert!(typed_password("correct horse battery").is_ok());
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let p = password_from(&[0; GENERATED_CHARS]);
        assert_eq!(p.chars().count(), GENERATED_CHARS);
        for _ in 0..20 {
            let p = generate().unwrap();
            assert_eq!(p.len(), GENERATED_CHARS);
            assert!(password::check_policy(&p).is_ok());
            assert!(p.bytes().all(|b| ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn every_id_that_can_be_created_can_be_tried_at_login() {
        // 64 kanji: 192 bytes in UTF-8, 64 characters.
        let kanji = "山".repeat(MAX_LOGIN_CHARS);
        assert_eq!(login_id(&kanji).unwrap(), kanji);
        assert_eq!(login_attempt(&kanji), Some(kanji.as_str()));
        let too_long = "山".repeat(MAX_LOGIN_CHARS + 1);
        assert!(login_id(&too_long).is_err());
        assert_eq!(login_attempt(&too_long), None);
        assert_eq!(login_attempt("  yamada "), Some("yamada"));
        assert_eq!(login_attempt("   "), None);
        for id in ["a", "受付", &"ア".repeat(22), &"x".repeat(64)] {
            assert!(login_id(id).is_ok() && login_attempt(id).is_some(), "{id}");
        }
    }
}
