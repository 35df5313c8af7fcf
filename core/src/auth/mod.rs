//! Who is calling: passwords, sessions and tokens, and what each role may do.

pub mod password;
pub mod permission;
pub mod token;

pub use permission::{Permission, role_permits};
