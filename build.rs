//! Rebuilds when a migration is added or changed: the binary embeds them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
