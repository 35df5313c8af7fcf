//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>): the public standard through
//! which third-party apps list the services, file requests and follow them. Requests go through
//! the intake's one path like every other channel; this module maps the standard's shapes onto
//! the hotline's: services ([`catalogue`]), the POST form ([`form`]), requests as GET shows them
//! ([`requests`]), the row kept beside each ([`tokens`]), API keys ([`keys`]), and the XML/JSON
//! rendering ([`doc`]). The HTTP doors are in `routes::open311`.

pub mod catalogue;
pub mod doc;
pub mod form;
pub mod keys;
pub mod requests;
pub mod tokens;
