//! Identifiers. Internal ids are random UUIDs (never sequential in URLs); the ticket number is the
//! readable one people say on the phone; the query code is the citizen's secret for tracking.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

uuid_id!(
    /// A ticket's internal id.
    TicketId
);
uuid_id!(
    /// An org unit's internal id.
    UnitId
);
uuid_id!(
    /// A staff user's internal id.
    UserId
);
uuid_id!(
    /// A catalogue category's internal id.
    CategoryId
);
uuid_id!(
    /// One run of a `hotline serve` node (the console's presence rows name it).
    NodeId
);

/// Why an identifier text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdError(pub &'static str);

/// The readable ticket number: the business date (Asia/Shanghai) and a six-digit daily counter,
/// e.g. `20261123000127`. Six digits hold a million appeals a day, far above the busiest province's
/// ~60,000.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNumber(String);

impl TicketNumber {
    pub const COUNTER_MAX: u32 = 999_999;

    pub fn new(day: NaiveDate, counter: u32) -> Result<Self, IdError> {
        if counter == 0 || counter > Self::COUNTER_MAX {
            return Err(IdError("daily counter out of range 1..=999999"));
        }
        Ok(Self(format!("{}{counter:06}", day.format("%Y%m%d"))))
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim();
        if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError(
                "a ticket number is 14 digits: date YYYYMMDD and a 6-digit counter",
            ));
        }
        NaiveDate::parse_from_str(&s[..8], "%Y%m%d")
            .map_err(|_| IdError("the first 8 digits of a ticket number must be a date"))?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The citizen's query code: 6 random characters from an alphabet without look-alikes (no 0/O,
/// 1/I/L). Drawn from the OS-seeded CSPRNG, so it cannot be derived from the ticket number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryCode(String);

impl QueryCode {
    const ALPHABET: &'static [u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    pub fn random() -> Self {
        let mut rng = rand::rng();
        let code = (0..6)
            .map(|_| char::from(Self::ALPHABET[rng.random_range(0..Self::ALPHABET.len())]))
            .collect();
        Self(code)
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() != 6 || !upper.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err(IdError("a query code is 6 letters or digits"));
        }
        Ok(Self(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_id_traits {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}
string_id_traits!(TicketNumber);
string_id_traits!(QueryCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_number_has_date_and_six_digit_counter() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(
            TicketNumber::new(day, 127).unwrap().as_str(),
            "20261123000127"
        );
        assert!(TicketNumber::new(day, 1_000_000).is_err());
        assert!(TicketNumber::new(day, 0).is_err());
        assert!(TicketNumber::parse("20261323000127").is_err());
        assert!(TicketNumber::parse("2026112300012").is_err());
        assert_eq!(
            TicketNumber::parse("20261123000127").unwrap().as_str(),
            "20261123000127"
        );
    }

    #[test]
    fn query_codes_are_random_and_parse_case_insensitively() {
        let a = QueryCode::random();
        let b = QueryCode::random();
        assert_eq!(a.as_str().len(), 6);
        assert_ne!(a, b, "two draws from 31^6 codes should differ");
        assert_eq!(QueryCode::parse(&a.as_str().to_lowercase()).unwrap(), a);
        assert!(QueryCode::parse("ABC0O1").is_err());
    }
}
