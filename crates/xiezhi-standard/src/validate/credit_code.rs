//! 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-symbol alphabet (no I, O, S, V,
//! Z); position 1 registering authority, 2 organisation kind, 3–8 GB/T 2260 division, 9–17 the
//! organisation code (GB 11714, with its own check character), 18 the check character
//! (weights 3^i mod 31, check = 31 − Σ mod 31). Government organs are registered by 机构编制
//! (`1`) as 机关 (`1`), so a political-legal organ's code starts `11`.

use crate::issue::Issue;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in b.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

/// The GB 11714 check character for the 8-character organisation code body.
pub fn org_check_char(body8: &str) -> Option<char> {
    let b = body8.as_bytes();
    if b.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in b.iter().zip(ORG_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from(b'0' + n as u8),
    })
}

/// Validates a credit code, returning every problem found.
pub fn check(raw: &str) -> Result<(), Vec<Issue>> {
    let err = |rule, zh: &str, en: &str| Issue::error("credit_code", rule, Some(raw), zh, en);
    let b = raw.as_bytes();
    if b.len() != 18 || !b.iter().all(|c| value_of(*c).is_some()) {
        return Err(vec![err(
            "credit_code.format",
            "统一社会信用代码应为18位，字符取自 0-9 及除 I O S V Z 外的大写字母",
            "a credit code has 18 characters from 0-9 and upper-case letters other than I O S V Z",
        )]);
    }
    let mut errors = Vec::new();
    if !b[2..8].iter().all(u8::is_ascii_digit) {
        errors.push(err(
            "credit_code.division",
            "第3-8位应为行政区划代码",
            "characters 3-8 must be a division code",
        ));
    }
    if org_check_char(&raw[8..16]) != Some(b[16] as char) {
        errors.push(err(
            "credit_code.org_checksum",
            "组织机构代码校验码错误",
            "the organisation-code check character is wrong",
        ));
    }
    if check_char(&raw[..17]) != Some(b[17] as char) {
        errors.push(err(
            "credit_code.checksum",
            "统一社会信用代码校验码错误",
            "the credit-code check character is wrong",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Builds a valid code for a government organ (`11` + division + organisation code).
pub fn compose_organ(division: &str, org_body8: &str) -> Option<String> {
    let org = format!("{org_body8}{}", org_check_char(org_body8)?);
    let first17 = format!("11{division}{org}");
    Some(format!("{first17}{}", check_char(&first17)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_codes_pass() {
        // Codes printed on public registration certificates.
        for code in ["91350100M000100Y43", "914403001922038216"] {
            check(code).unwrap_or_else(|e| panic!("{code}: {e:?}"));
        }
    }

    #[test]
    fn format_errors_are_specific() {
        assert_eq!(
            check("91350100M000100Y4").unwrap_err()[0].rule,
            "credit_code.format"
        );
        assert_eq!(
            check("91350100M000100YI3").unwrap_err()[0].rule,
            "credit_code.format"
        );
        let e = check("91350100M000100Y44").unwrap_err();
        assert_eq!(e[0].rule, "credit_code.checksum");
    }

    proptest! {
        #[test]
        fn composed_codes_pass_and_any_change_fails(body in "[0-9ABCDEFGHJKLMNPQRTUWXY]{8}", pos in 0usize..18, sub in 0usize..31) {
            let code = compose_organ("520102", &body).unwrap();
            prop_assert!(check(&code).is_ok());
            let mut b = code.clone().into_bytes();
            let replacement = ALPHABET[sub];
            prop_assume!(b[pos] != replacement);
            b[pos] = replacement;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(check(&changed).is_err(), "{} passed", changed);
        }

        #[test]
        fn check_never_panics(s in "\\PC{0,20}") {
            let _ = check(&s);
        }
    }
}
