//! The five-level org tree: levels, unit kinds, and the reference a unit is known by in decisions.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

use crate::ids::UnitId;

/// Administrative level, from the province down to the community. Ordered top to bottom.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    Province,
    City,
    District,
    Street,
    Community,
}

impl Level {
    pub fn depth(self) -> u8 {
        match self {
            Self::Province => 1,
            Self::City => 2,
            Self::District => 3,
            Self::Street => 4,
            Self::Community => 5,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Province => "省",
            Self::City => "市",
            Self::District => "区县",
            Self::Street => "镇街",
            Self::Community => "村居",
        }
    }

    /// Accepts the English name or the Chinese label (importers see both).
    pub fn parse_any(s: &str) -> Option<Self> {
        let s = s.trim();
        s.parse().ok().or(match s {
            "省" => Some(Self::Province),
            "市" => Some(Self::City),
            "区县" | "区" | "县" => Some(Self::District),
            "镇街" | "街道" | "镇" | "乡" => Some(Self::Street),
            "村居" | "社区" | "村" => Some(Self::Community),
            _ => None,
        })
    }
}

/// What sort of unit: the 12345 centre, a functional department, or a local government.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UnitKind {
    Centre,
    Department,
    Government,
}

impl UnitKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Centre => "12345中心",
            Self::Department => "职能部门",
            Self::Government => "属地政府",
        }
    }

    pub fn parse_any(s: &str) -> Option<Self> {
        let s = s.trim();
        s.parse().ok().or(match s {
            "12345中心" | "中心" | "热线中心" => Some(Self::Centre),
            "职能部门" | "部门" => Some(Self::Department),
            "属地政府" | "政府" | "属地" => Some(Self::Government),
            _ => None,
        })
    }
}

/// What a decision needs to know about a unit: who it is and where it sits in the tree.
/// `path` lists the ids from the root down to the unit itself, as `/id/id/…/id/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    pub id: UnitId,
    pub level: Level,
    pub kind: UnitKind,
    pub path: String,
}

impl UnitRef {
    /// True when `self` lies strictly below `ancestor` in the tree.
    pub fn is_below(&self, ancestor: &UnitRef) -> bool {
        self.id != ancestor.id && self.path.starts_with(&ancestor.path)
    }
}

/// What placement rules need to know of a unit's parent.
#[derive(Debug, Clone, Copy)]
pub struct ParentFacts<'a> {
    pub level: Level,
    pub kind: UnitKind,
    pub division_code: Option<&'a str>,
}

/// Why a unit cannot stand where it was put: the field at fault and the reason.
pub type PlacementError = (&'static str, String);

/// The digits of a division code that identify a unit of this level (GB/T 2260 for the top
/// three levels, the 9-digit township and 12-digit statistical codes below).
fn significant_digits(level: Level) -> usize {
    match level {
        Level::Province => 2,
        Level::City => 4,
        Level::District => 6,
        Level::Street => 9,
        Level::Community => 12,
    }
}

fn division_len(level: Level) -> &'static [usize] {
    match level {
        Level::Province | Level::City | Level::District => &[6],
        Level::Street => &[9, 12],
        Level::Community => &[12],
    }
}

/// Checks a unit's level, kind and division code against its parent:
/// - a government sits exactly one level below its parent, which is a government;
/// - a department or a centre sits on the level of the government it belongs to;
/// - only a government may be a root;
/// - a government's division code has the length of its level and continues its parent's code
///   (the parent's significant digits, then digits that are not all zero); a department's or
///   centre's code, when given, is its government's own 6-digit code.
pub fn check_placement(
    level: Level,
    kind: UnitKind,
    division_code: Option<&str>,
    parent: Option<ParentFacts<'_>>,
) -> Result<(), PlacementError> {
    match (kind, parent) {
        (UnitKind::Government, None) => {}
        (_, None) => {
            return Err((
                "parent_code",
                "only a local government can be the root of the tree".into(),
            ));
        }
        (_, Some(p)) if p.kind != UnitKind::Government => {
            return Err((
                "parent_code",
                format!(
                    "the parent is a {} unit; units hang under a local government",
                    p.kind
                ),
            ));
        }
        (UnitKind::Government, Some(p)) if level.depth() != p.level.depth() + 1 => {
            return Err((
                "level",
                format!(
                    "a {level} government must be exactly one level below its parent ({} here)",
                    p.level
                ),
            ));
        }
        (UnitKind::Department | UnitKind::Centre, Some(p)) if level != p.level => {
            return Err((
                "level",
                format!(
                    "a {kind} belongs to the {} government above it and has its level",
                    p.level
                ),
            ));
        }
        _ => {}
    }
    let Some(code) = division_code.filter(|c| !c.is_empty()) else {
        return Ok(());
    };
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("division_code", "must be digits only".into()));
    }
    if kind != UnitKind::Government {
        let own = parent.and_then(|p| p.division_code).unwrap_or(code);
        let own6 = own.get(..6).unwrap_or(own);
        if code.len() != 6 || code != own6 {
            return Err((
                "division_code",
                format!("a {kind} carries its government's 6-digit code ({own6})"),
            ));
        }
        return Ok(());
    }
    if !division_len(level).contains(&code.len()) {
        return Err((
            "division_code",
            format!(
                "a {level} code has {} digits (got {})",
                division_len(level)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                code.len()
            ),
        ));
    }
    if let Some(parent_code) = parent.and_then(|p| p.division_code) {
        let parent_level = parent.map_or(level, |p| p.level);
        let prefix = significant_digits(parent_level);
        let own = significant_digits(level);
        let continues = parent_code.len() >= prefix
            && code.get(..prefix) == parent_code.get(..prefix)
            && code
                .get(prefix..own.min(code.len()))
                .is_some_and(|rest| rest.bytes().any(|b| b != b'0'));
        if !continues {
            return Err((
                "division_code",
                format!(
                    "must continue the parent's code {parent_code} (its first {prefix} digits, then a non-zero part)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gov(level: Level, code: &str) -> ParentFacts<'_> {
        ParentFacts {
            level,
            kind: UnitKind::Government,
            division_code: Some(code),
        }
    }

    #[test]
    fn placement_rules() {
        use Level as L;
        use UnitKind as K;
        assert!(check_placement(L::Province, K::Government, Some("990000"), None).is_ok());
        assert!(
            check_placement(
                L::City,
                K::Government,
                Some("990100"),
                Some(gov(L::Province, "990000"))
            )
            .is_ok()
        );
        assert!(
            check_placement(
                L::District,
                K::Government,
                Some("990102"),
                Some(gov(L::City, "990100"))
            )
            .is_ok()
        );
        assert!(
            check_placement(
                L::Street,
                K::Government,
                Some("990102001"),
                Some(gov(L::District, "990102"))
            )
            .is_ok()
        );
        assert!(
            check_placement(
                L::Community,
                K::Government,
                Some("990102001001"),
                Some(gov(L::Street, "990102001"))
            )
            .is_ok()
        );
        assert!(
            check_placement(
                L::City,
                K::Department,
                Some("990100"),
                Some(gov(L::City, "990100"))
            )
            .is_ok()
        );
        assert!(check_placement(L::City, K::Centre, None, Some(gov(L::City, "990100"))).is_ok());

        let field = |r: Result<(), PlacementError>| r.unwrap_err().0;
        // Two levels down.
        assert_eq!(
            field(check_placement(
                L::Community,
                K::Government,
                None,
                Some(gov(L::District, "990102"))
            )),
            "level"
        );
        // Department on the wrong level.
        assert_eq!(
            field(check_placement(
                L::City,
                K::Department,
                None,
                Some(gov(L::District, "990102"))
            )),
            "level"
        );
        // A code outside its parent, wrong lengths, zero part.
        assert_eq!(
            field(check_placement(
                L::District,
                K::Government,
                Some("980104"),
                Some(gov(L::City, "990100"))
            )),
            "division_code"
        );
        assert_eq!(
            field(check_placement(
                L::Street,
                K::Government,
                Some("99010202"),
                Some(gov(L::District, "990102"))
            )),
            "division_code"
        );
        assert_eq!(
            field(check_placement(
                L::District,
                K::Government,
                Some("990100"),
                Some(gov(L::City, "990100"))
            )),
            "division_code"
        );
        assert_eq!(
            field(check_placement(
                L::City,
                K::Department,
                Some("990102"),
                Some(gov(L::City, "990100"))
            )),
            "division_code"
        );
        // Roots are governments; parents are governments.
        assert_eq!(
            field(check_placement(L::City, K::Centre, None, None)),
            "parent_code"
        );
        let centre = ParentFacts {
            level: L::City,
            kind: K::Centre,
            division_code: None,
        };
        assert_eq!(
            field(check_placement(
                L::District,
                K::Government,
                None,
                Some(centre)
            )),
            "parent_code"
        );
    }
}
