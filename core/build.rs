//! The migrations are embedded in the library (`embed_migrations!`): rebuild when one is added or
//! changed, which the macro alone does not tell cargo.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
