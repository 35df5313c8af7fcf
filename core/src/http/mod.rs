//! HTTP plumbing shared by every crate's routes: the caller, strict JSON bodies, CSRF, pages.

pub mod caller;
pub mod form;
pub mod json;
pub mod page;
pub mod page_text;
pub mod query;

pub use caller::{Caller, SESSION_COOKIE};
pub use form::{CsrfForm, FormFields, PublicForm};
pub use json::{ApiJson, BodyLimit};
pub use page::{PageCaller, PageEnv, PageError, PageUser};
pub use query::ApiQuery;
