//! The appeal every channel delivers, and the one validation it goes through. A channel maps its
//! own format (JSON, an HTML form, Open311 fields) onto [`AppealInput`] and calls [`validate`].

use hotline_core::domain::text::{BoundedText, PhoneNumber, ResidentId};
use hotline_core::domain::{AppealType, Channel, Urgency};
use hotline_core::ids::CategoryId;
use hotline_core::store::categories;
use hotline_core::ticket::NewAppeal;
use hotline_core::workflow::Hotline;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::IntakeError;
use crate::normalize;

/// An appeal as a client sends it. Only what the appeal needs is asked for: a way to call the
/// citizen back, and an ID number only for matters that need one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    pub appeal_type: Option<AppealType>,
    /// Defaults to `normal`.
    pub urgency: Option<Urgency>,
    pub category_id: Option<CategoryId>,
    /// ≤ 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// ≤ 10,000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub detail: String,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    /// WGS 84 degrees, with `longitude`.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[schema(max_length = 200)]
    pub citizen_name: Option<String>,
    /// A mobile number (11 digits) or a landline with area code.
    pub citizen_phone: Option<String>,
    /// A resident ID number (GB 11643), only when the matter needs it.
    pub citizen_id_number: Option<String>,
}

fn bounded<const MAX: usize>(field: &str, value: &str) -> Result<BoundedText<MAX>, IntakeError> {
    BoundedText::parse(&normalize::text(value)).map_err(|r| IntakeError::invalid(field, r))
}

fn opt_bounded<const MAX: usize>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<BoundedText<MAX>>, IntakeError> {
    match value.map(normalize::text) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => BoundedText::parse(&v)
            .map(Some)
            .map_err(|r| IntakeError::invalid(field, r)),
    }
}

fn coordinate(field: &str, v: Option<f64>, limit: f64) -> Result<Option<f64>, IntakeError> {
    match v {
        Some(x) if !x.is_finite() || x.abs() > limit => Err(IntakeError::invalid(
            field,
            format!("must be a number between -{limit} and {limit}"),
        )),
        other => Ok(other),
    }
}

/// Checks and normalises an appeal (not yet the category, which needs the database: see
/// [`check_category`]).
pub fn validate(input: &AppealInput, channel: Channel) -> Result<NewAppeal, IntakeError> {
    let latitude = coordinate("latitude", input.latitude, 90.0)?;
    let longitude = coordinate("longitude", input.longitude, 180.0)?;
    if latitude.is_some() != longitude.is_some() {
        let missing = if latitude.is_some() {
            "longitude"
        } else {
            "latitude"
        };
        return Err(IntakeError::invalid(
            missing,
            "latitude and longitude come together",
        ));
    }
    let appeal_type = input
        .appeal_type
        .ok_or_else(|| IntakeError::invalid("appeal_type", "must not be empty"))?;
    let citizen_phone = match input.citizen_phone.as_deref().map(normalize::code) {
        None => None,
        Some(p) if p.is_empty() => None,
        Some(p) => {
            Some(PhoneNumber::parse(&p).map_err(|r| IntakeError::invalid("citizen_phone", r))?)
        }
    };
    let citizen_id_number = match input.citizen_id_number.as_deref().map(normalize::code) {
        None => None,
        Some(p) if p.is_empty() => None,
        Some(p) => {
            Some(ResidentId::parse(&p).map_err(|r| IntakeError::invalid("citizen_id_number", r))?)
        }
    };
    Ok(NewAppeal {
        channel,
        appeal_type,
        urgency: input.urgency.unwrap_or(Urgency::Normal),
        category_id: input.category_id,
        title: bounded("title", &input.title)?,
        detail: bounded("detail", &input.detail)?,
        address: opt_bounded("address", input.address.as_deref())?,
        latitude,
        longitude,
        citizen_name: opt_bounded("citizen_name", input.citizen_name.as_deref())?,
        citizen_phone,
        citizen_id_number,
    })
}

/// Refuses a category that does not exist or was retired.
pub async fn check_category(hotline: &Hotline, id: Option<CategoryId>) -> Result<(), IntakeError> {
    let Some(id) = id else { return Ok(()) };
    let found = hotline.db.run(move |c| categories::get(c, id)).await;
    match found {
        Ok(c) if c.active => Ok(()),
        Ok(_) => Err(IntakeError::invalid(
            "category_id",
            "the category is retired",
        )),
        Err(hotline_core::StoreError::NotFound(_)) => {
            Err(IntakeError::invalid("category_id", "no such category"))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AppealInput {
        AppealInput {
            appeal_type: Some(AppealType::Complaint),
            title: "路灯不亮".into(),
            detail: "小区门口路灯不亮".into(),
            ..AppealInput::default()
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let field = |i: AppealInput| match validate(&i, Channel::App) {
            Err(IntakeError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(AppealInput {
                title: "　 ".into(),
                ..input()
            }),
            "title"
        );
        assert_eq!(
            field(AppealInput {
                citizen_phone: Some("12345".into()),
                ..input()
            }),
            "citizen_phone"
        );
        assert_eq!(
            field(AppealInput {
                citizen_id_number: Some("110105194912310021".into()),
                ..input()
            }),
            "citizen_id_number"
        );
        assert_eq!(
            field(AppealInput {
                latitude: Some(91.0),
                longitude: Some(1.0),
                ..input()
            }),
            "latitude"
        );
        assert_eq!(
            field(AppealInput {
                latitude: Some(28.0),
                ..input()
            }),
            "longitude"
        );
        assert_eq!(
            field(AppealInput {
                appeal_type: None,
                ..input()
            }),
            "appeal_type"
        );
    }

    #[test]
    fn full_width_input_is_accepted_and_normalised() {
        let a = validate(
            &AppealInput {
                title: "　ＡＢＣ小区路灯不亮　".into(),
                citizen_phone: Some("１３８００１３８０００".into()),
                citizen_id_number: Some("１１０１０５１９４９１２３１００２ｘ".into()),
                ..input()
            },
            Channel::Web,
        )
        .unwrap();
        assert_eq!(a.title.as_str(), "ABC小区路灯不亮");
        assert_eq!(a.citizen_phone.unwrap().as_str(), "13800138000");
        assert_eq!(a.citizen_id_number.unwrap().as_str(), "11010519491231002X");
    }
}
