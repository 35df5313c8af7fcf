//! POST requests: the form a GeoReport client sends (`application/x-www-form-urlencoded`),
//! mapped onto the one [`AppealInput`] every channel produces. Refusals name the Open311 field
//! (`phone`, `attribute[appeal_type]`), not the internal one.

use hotline_core::domain::{AppealType, Urgency};

use super::catalogue::{APPEAL_TYPE, CITIZEN_ID_NUMBER, Service, URGENCY};
use crate::appeal::AppealInput;
use crate::error::IntakeError;

/// The description's limit in the specification.
pub const DESCRIPTION_MAX: usize = 4000;
/// How much of the description the ticket's title carries after the service name.
const TITLE_EXCERPT: usize = 30;

/// The fields of a POST request. Empty values count as absent ("optional" in the spec means an
/// empty parameter is the same as a missing one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestForm {
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    /// `attribute[CODE]=v` and `attribute[CODE][]=v`, in order, values of one code together.
    pub attributes: Vec<(String, Vec<String>)>,
}

/// What an Open311 request carries beyond the appeal: kept beside the ticket, echoed back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    pub media_url: Option<String>,
    pub address_id: Option<String>,
    pub account_id: Option<String>,
}

fn present(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl RequestForm {
    /// Parses a url-encoded body (the query string's `api_key` fills in a missing one: some
    /// clients send the key in the URL).
    pub fn parse(body: &[u8], query: &str) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let value = present(&v);
            let slot = match k.as_ref() {
                "api_key" => &mut f.api_key,
                "jurisdiction_id" => &mut f.jurisdiction_id,
                "service_code" => &mut f.service_code,
                "lat" => &mut f.lat,
                "long" => &mut f.long,
                "address_string" => &mut f.address_string,
                "address_id" => &mut f.address_id,
                "email" => &mut f.email,
                "device_id" => &mut f.device_id,
                "account_id" => &mut f.account_id,
                "first_name" => &mut f.first_name,
                "last_name" => &mut f.last_name,
                "phone" => &mut f.phone,
                "description" => &mut f.description,
                "media_url" => &mut f.media_url,
                other => {
                    if let (Some(code), Some(value)) = (attribute_code(other), value) {
                        match f.attributes.iter_mut().find(|(c, _)| c == code) {
                            Some((_, values)) => values.push(value),
                            None => f.attributes.push((code.to_owned(), vec![value])),
                        }
                    }
                    continue;
                }
            };
            if value.is_some() {
                *slot = value;
            }
        }
        if f.api_key.is_none() {
            f.api_key = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "api_key")
                .and_then(|(_, v)| present(&v));
        }
        f
    }

    fn attribute(&self, code: &str) -> Result<Option<&str>, IntakeError> {
        match self.attributes.iter().find(|(c, _)| c == code) {
            None => Ok(None),
            Some((_, values)) => match values.as_slice() {
                [one] => Ok(Some(one)),
                _ => Err(IntakeError::invalid(
                    format!("attribute[{code}]"),
                    "takes one value",
                )),
            },
        }
    }

    /// The appeal this request makes for `service`, and what goes beside it.
    pub fn to_input(&self, service: &Service) -> Result<(AppealInput, Extras), IntakeError> {
        if let Some((code, _)) = self
            .attributes
            .iter()
            .find(|(c, _)| ![APPEAL_TYPE, URGENCY, CITIZEN_ID_NUMBER].contains(&c.as_str()))
        {
            return Err(IntakeError::invalid(
                format!("attribute[{code}]"),
                "not an attribute of this service (see its service definition)",
            ));
        }
        let appeal_type = match self.attribute(APPEAL_TYPE)? {
            None => AppealType::Help,
            Some(v) => v.parse().map_err(|_| {
                IntakeError::invalid(
                    "attribute[appeal_type]",
                    "one of consult, help, complaint, report, suggestion, praise",
                )
            })?,
        };
        let urgency: Option<Urgency> = self
            .attribute(URGENCY)?
            .map(|v| {
                v.parse()
                    .map_err(|_| IntakeError::invalid("attribute[urgency]", "normal or urgent"))
            })
            .transpose()?;
        let coordinate = |field: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    s.parse::<f64>().map_err(|_| {
                        IntakeError::invalid(field, "must be a number (WGS 84 degrees)")
                    })
                })
                .transpose()
        };
        let (lat, long) = (
            coordinate("lat", &self.lat)?,
            coordinate("long", &self.long)?,
        );
        match (lat, long) {
            (Some(_), None) => {
                return Err(IntakeError::invalid("long", "lat and long come together"));
            }
            (None, Some(_)) => {
                return Err(IntakeError::invalid("lat", "lat and long come together"));
            }
            (None, None) if self.address_string.is_none() && self.address_id.is_none() => {
                return Err(IntakeError::invalid(
                    "location",
                    "send lat and long, address_string or address_id",
                ));
            }
            _ => {}
        }
        let description = self.description.as_deref();
        if description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
            return Err(IntakeError::invalid(
                "description",
                "at most 4,000 characters",
            ));
        }
        if let Some(url) = &self.media_url {
            let lower = url.to_ascii_lowercase();
            let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
            if !scheme_ok || url.len() > 2000 || url.chars().any(char::is_whitespace) {
                return Err(IntakeError::invalid(
                    "media_url",
                    "must be an http or https URL of at most 2,000 characters",
                ));
            }
        }
        if self
            .address_id
            .as_ref()
            .is_some_and(|a| a.chars().count() > 100)
        {
            return Err(IntakeError::invalid("address_id", "at most 100 characters"));
        }
        let input = AppealInput {
            appeal_type: Some(appeal_type),
            urgency,
            category_id: Some(service.code),
            title: title(&service.name, description),
            detail: description.map_or_else(|| service.name.clone(), str::to_owned),
            address: self.address_string.clone().or_else(|| {
                self.address_id
                    .as_ref()
                    .map(|id| format!("address_id:{id}"))
            }),
            latitude: lat,
            longitude: long,
            citizen_name: full_name(self.first_name.as_deref(), self.last_name.as_deref()),
            citizen_phone: self.phone.clone(),
            citizen_id_number: self.attribute(CITIZEN_ID_NUMBER)?.map(str::to_owned),
        };
        let extras = Extras {
            media_url: self.media_url.clone(),
            address_id: self.address_id.clone(),
            account_id: self.account_id.clone(),
        };
        Ok((input, extras))
    }
}

/// `CODE` of `attribute[CODE]` or `attribute[CODE][]`.
fn attribute_code(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("attribute[")?;
    let (code, tail) = rest.split_once(']')?;
    (!code.is_empty() && (tail.is_empty() || tail == "[]")).then_some(code)
}

/// The ticket's title: the service name and the start of the description.
fn title(service: &str, description: Option<&str>) -> String {
    let flat = description
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    if flat.is_empty() {
        return service.to_owned();
    }
    let mut excerpt: String = flat.chars().take(TITLE_EXCERPT).collect();
    if flat.chars().count() > TITLE_EXCERPT {
        excerpt.push('…');
    }
    format!("{service}：{excerpt}")
}

/// A Chinese name is family name first, without a space (张 + 三 = 张三); a Latin one is
/// "given family".
fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (Some(first), Some(last)) if first.is_ascii() && last.is_ascii() => {
            Some(format!("{first} {last}"))
        }
        (Some(first), Some(last)) => Some(format!("{last}{first}")),
    }
}

/// The Open311 name of a field [`crate::appeal::validate`] refused.
pub fn open311_field(field: &str) -> &str {
    match field {
        "citizen_phone" => "phone",
        "citizen_name" => "first_name/last_name",
        "citizen_id_number" => "attribute[citizen_id_number]",
        "title" | "detail" => "description",
        "address" => "address_string",
        "latitude" => "lat",
        "longitude" => "long",
        "appeal_type" => "attribute[appeal_type]",
        "category_id" => "service_code",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Service {
        Service {
            code: hotline_core::ids::CategoryId::new(),
            name: "城市建设和市政管理".into(),
            group: "城乡建设".into(),
            parts: vec![],
        }
    }

    #[test]
    fn the_form_maps_onto_an_appeal() {
        let f = RequestForm::parse(
            "service_code=x&lat=28.2&long=112.9&first_name=%E4%B8%89&last_name=%E5%BC%A0\
             &attribute[appeal_type]=complaint&attribute[tags][]=a&attribute[tags][]=b&email="
                .as_bytes(),
            "api_key=k",
        );
        assert_eq!(f.api_key.as_deref(), Some("k"));
        assert_eq!(f.email, None);
        assert_eq!(
            f.attributes,
            vec![
                ("appeal_type".to_owned(), vec!["complaint".to_owned()]),
                ("tags".to_owned(), vec!["a".to_owned(), "b".to_owned()]),
            ]
        );
        let err = f.to_input(&service()).unwrap_err();
        assert!(err.to_string().starts_with("attribute[tags]:"), "{err}");
        let f = RequestForm {
            attributes: vec![("appeal_type".into(), vec!["complaint".into()])],
            ..f
        };
        let (input, _) = f.to_input(&service()).unwrap();
        assert_eq!(input.appeal_type, Some(AppealType::Complaint));
        assert_eq!(input.citizen_name.as_deref(), Some("张三"));
        assert_eq!(input.title, "城市建设和市政管理");
    }

    #[test]
    fn a_location_is_required_and_titles_are_short() {
        let f = RequestForm::parse(b"service_code=x&description=abc", "");
        assert!(
            f.to_input(&service())
                .unwrap_err()
                .to_string()
                .starts_with("location:")
        );
        let f = RequestForm::parse(b"address_id=A-17&lat=1", "");
        assert!(
            f.to_input(&service())
                .unwrap_err()
                .to_string()
                .starts_with("long:")
        );
        assert_eq!(
            title(
                "路灯",
                Some("一二三四五六七八九十\n一二三四五六七八九十一二三四五六七八九十一")
            ),
            "路灯：一二三四五六七八九十 一二三四五六七八九十一二三四五六七八九…"
        );
        assert_eq!(
            full_name(Some("John"), Some("Smith")).as_deref(),
            Some("John Smith")
        );
    }
}
