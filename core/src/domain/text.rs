//! Validated text values. A value of these types has already passed its checks, so code that holds
//! one never re-validates it. Each `parse` says what is wrong in words a caller can show; the HTTP
//! edge adds the field name.

use std::fmt;

use chrono::Datelike;
use serde::Serialize;

/// Non-empty text of at most `MAX` characters (Unicode scalar values, not bytes), trimmed, with
/// control characters other than line breaks and tabs refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BoundedText<const MAX: usize>(String);

/// A ticket title: ≤ 200 characters.
pub type Title = BoundedText<200>;
/// A ticket's description: ≤ 10,000 characters.
pub type Detail = BoundedText<10_000>;
/// A reason, a reply, a note or a ruling: ≤ 5,000 characters.
pub type Reason = BoundedText<5_000>;
/// A person's or unit's name, an address line: ≤ 200 characters.
pub type ShortText = BoundedText<200>;

impl<const MAX: usize> BoundedText<MAX> {
    pub const MAX_CHARS: usize = MAX;

    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        let count = trimmed.chars().count();
        if count > MAX {
            return Err(format!("must be at most {MAX} characters (got {count})"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> fmt::Display for BoundedText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> AsRef<str> for BoundedText<MAX> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A Chinese telephone number as citizens give it: a mobile number (11 digits, 1[3-9]…, an optional
/// +86/86 prefix) or a landline with area code (0 + 2–3 digits, then 7–8 digits, separators allowed).
/// Stored as digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '+'))
            .collect();
        if digits.is_empty() {
            return Err("must not be empty".into());
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("must contain only digits, spaces, '-', '(' ')' or a leading '+'".into());
        }
        let digits = match digits.strip_prefix("86") {
            Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest.to_owned(),
            _ => digits,
        };
        let bytes = digits.as_bytes();
        let mobile = bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]);
        let landline = bytes.first() == Some(&b'0') && (10..=12).contains(&bytes.len());
        if mobile || landline {
            Ok(Self(digits))
        } else {
            Err(
                "must be a mobile number (11 digits starting 13–19) or a landline with area code"
                    .into(),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form shown on every page and API answer: 138****8000.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks all but the first three and last four digits (138****8000); short values are fully masked.
pub fn mask_phone(digits: &str) -> String {
    mask_keep(digits, 3, 4)
}

/// A resident identity card number (居民身份证号码, GB 11643-1999): 17 digits and a check
/// character (0–9 or X) computed from them, with a real birth date in positions 7–14. Stored with
/// an upper-case X.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ResidentId(String);

impl ResidentId {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &'static [u8; 11] = b"10X98765432";

    pub fn parse(s: &str) -> Result<Self, String> {
        let id: String = s.trim().to_ascii_uppercase();
        let bytes = id.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err("must be 18 characters: 17 digits and a digit or X".into());
        }
        let birth = chrono::NaiveDate::parse_from_str(&id[6..14], "%Y%m%d")
            .map_err(|_| "positions 7–14 must be a birth date".to_owned())?;
        if birth.year() < 1900 || birth > chrono::Utc::now().date_naive() {
            return Err("positions 7–14 must be a birth date".into());
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let expected = Self::CHECK[(sum % 11) as usize];
        if bytes[17] != expected {
            return Err("the check character does not match (GB 11643)".into());
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Masks an identity number to its first 3 and last 4 characters (430***********123X).
pub fn mask_id_number(id: &str) -> String {
    mask_keep(id, 3, 4)
}

fn mask_keep(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let h: String = chars[..head].iter().collect();
    let t: String = chars[chars.len() - tail..].iter().collect();
    format!("{h}{}{t}", "*".repeat(chars.len() - head - tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_counts_characters_not_bytes() {
        let two_hundred = "路".repeat(200);
        assert!(Title::parse(&two_hundred).is_ok());
        let err = Title::parse(&"路".repeat(201)).unwrap_err();
        assert!(err.contains("at most 200"), "{err}");
        assert_eq!(Title::parse("  路灯不亮  ").unwrap().as_str(), "路灯不亮");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse("a\u{0007}b").is_err());
        assert!(Detail::parse("第一行\n第二行").is_ok());
    }

    #[test]
    fn resident_ids_follow_gb_11643() {
        // The standard's own example number.
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert!(
            ResidentId::parse("110105194912310021")
                .unwrap_err()
                .contains("check")
        );
        assert!(
            ResidentId::parse("110105194913310020")
                .unwrap_err()
                .contains("birth")
        );
        assert!(ResidentId::parse("1101051949123100").is_err());
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
    }

    #[test]
    fn phone_numbers_mobile_and_landline() {
        assert_eq!(
            PhoneNumber::parse("138 0013 8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            PhoneNumber::parse("+86 13800138000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            PhoneNumber::parse("0731-88886666").unwrap().as_str(),
            "073188886666"
        );
        assert!(PhoneNumber::parse("12800138000").is_err());
        assert!(PhoneNumber::parse("1380013800").is_err());
        assert!(PhoneNumber::parse("abc").is_err());
        assert_eq!(
            PhoneNumber::parse("13800138000").unwrap().masked(),
            "138****8000"
        );
    }
}
