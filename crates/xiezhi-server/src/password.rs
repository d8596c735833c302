//! Password rules (等保 2.0 level 3: identification and complexity): at least 12 characters,
//! three of four character classes, not containing the user name, different from the current
//! password. Each failed rule is named, with its Chinese message.

/// A broken password rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRule {
    /// Fewer characters than [`MIN_LENGTH`].
    TooShort { length: usize },
    /// Fewer than three of upper case, lower case, digits, symbols.
    TooFewClasses { classes: usize },
    /// The user name appears in the password (case-insensitive).
    ContainsUsername,
    /// The new password equals the current one.
    SameAsCurrent,
}

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Character classes required (of upper, lower, digit, symbol).
pub const MIN_CLASSES: usize = 3;

impl PasswordRule {
    /// Stable rule code for problem+json.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordRule::TooShort { .. } => "password_too_short",
            PasswordRule::TooFewClasses { .. } => "password_classes",
            PasswordRule::ContainsUsername => "password_contains_username",
            PasswordRule::SameAsCurrent => "password_unchanged",
        }
    }

    /// What is wrong, in Chinese.
    pub fn message(&self) -> String {
        match self {
            PasswordRule::TooShort { length } => {
                format!("口令至少 {MIN_LENGTH} 个字符，当前 {length} 个")
            }
            PasswordRule::TooFewClasses { classes } => format!(
                "口令须包含大写字母、小写字母、数字、符号中的至少 {MIN_CLASSES} 类，当前 {classes} 类"
            ),
            PasswordRule::ContainsUsername => "口令不得包含用户名".into(),
            PasswordRule::SameAsCurrent => "新口令不得与当前口令相同".into(),
        }
    }
}

/// Character classes present in `password`.
pub fn classes(password: &str) -> usize {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    [
        has(char::is_ascii_uppercase),
        has(char::is_ascii_lowercase),
        has(char::is_ascii_digit),
        has(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

/// Checks a new password; returns every broken rule (empty: accepted).
pub fn check(username: &str, new: &str, current: Option<&str>) -> Vec<PasswordRule> {
    let mut broken = Vec::new();
    let length = new.chars().count();
    if length < MIN_LENGTH {
        broken.push(PasswordRule::TooShort { length });
    }
    let c = classes(new);
    if c < MIN_CLASSES {
        broken.push(PasswordRule::TooFewClasses { classes: c });
    }
    if !username.is_empty() && new.to_lowercase().contains(&username.to_lowercase()) {
        broken.push(PasswordRule::ContainsUsername);
    }
    if current == Some(new) {
        broken.push(PasswordRule::SameAsCurrent);
    }
    broken
}

/// A password that meets every rule, for accounts an administrator creates (the user must
/// change it at first login).
pub fn initial_password() -> String {
    // 12 random base64url characters plus one of each class.
    format!("{}Aa1!", crate::auth::random_token(9))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_rule_is_named() {
        assert_eq!(
            check("zhang", "short", None),
            vec![
                PasswordRule::TooShort { length: 5 },
                PasswordRule::TooFewClasses { classes: 1 }
            ]
        );
        assert_eq!(
            check("zhang", "Xx-ZHANG-2024-yy", None),
            vec![PasswordRule::ContainsUsername]
        );
        assert_eq!(
            check("li", "Good-Pass-2024", Some("Good-Pass-2024")),
            vec![PasswordRule::SameAsCurrent]
        );
        assert!(check("li", "Good-Pass-2024", Some("Other-Pass-2024")).is_empty());
        assert!(check("li", "口令很长但是只有中文字符吗", None)
            .iter()
            .any(|r| r.code() == "password_classes"));
        for r in check("a", "a", Some("a")) {
            assert!(!r.message().is_empty() && r.code().starts_with("password_"));
        }
    }

    proptest! {
        /// The checker agrees with the rules stated independently, for any input.
        #[test]
        fn rules_match_their_definition(
            user in "[a-z]{1,6}",
            new in "[ -~]{0,20}",
            same in any::<bool>(),
        ) {
            let current = if same { Some(new.as_str()) } else { None };
            let broken = check(&user, &new, current);
            let long_enough = new.len() >= MIN_LENGTH;
            let kinds = [
                new.bytes().any(|b| b.is_ascii_uppercase()),
                new.bytes().any(|b| b.is_ascii_lowercase()),
                new.bytes().any(|b| b.is_ascii_digit()),
                new.bytes().any(|b| !b.is_ascii_alphanumeric()),
            ].iter().filter(|b| **b).count();
            prop_assert_eq!(broken.iter().any(|r| matches!(r, PasswordRule::TooShort { .. })), !long_enough);
            prop_assert_eq!(broken.iter().any(|r| matches!(r, PasswordRule::TooFewClasses { .. })), kinds < 3);
            prop_assert_eq!(broken.contains(&PasswordRule::ContainsUsername), new.to_lowercase().contains(&user));
            prop_assert_eq!(broken.contains(&PasswordRule::SameAsCurrent), same);
        }

        /// Generated initial passwords always pass.
        #[test]
        fn initial_passwords_pass(_n in 0..20u8) {
            let p = initial_password();
            prop_assert!(check("user", &p, None).is_empty(), "{}", p);
        }
    }
}
