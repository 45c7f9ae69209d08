//! Rebuild when a migration is added: `sqlx::migrate!` embeds each backend's folder at compile
//! time, and cargo does not otherwise notice new files in them.
fn main() {
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
}
