//! The last passes: public operations say so, and components nothing
//! refers to are dropped, so the document passes Redocly's lint.

use super::walk::for_each_operation;

/// An operation with no security requirement says so with an empty list,
/// so a reader (and a linter) can tell "public" from "forgotten".
pub fn mark_public_operations(document: &mut utoipa::openapi::OpenApi) {
    for_each_operation(&mut document.paths, |_, operation| {
        operation.security.get_or_insert_with(Vec::new);
    });
}

/// Removes the components nothing refers to: generic pages inline their
/// items, and the headers pass gives some operations their own copy of a shared
/// response. Repeats until stable, as a removed component may have been the
/// last one to refer to another.
pub fn drop_unused_components(document: &mut utoipa::openapi::OpenApi) {
    loop {
        let json = serde_json::to_string(&*document).expect("the document serializes");
        let used =
            |kind: &str, name: &str| json.contains(&format!("\"#/components/{kind}/{name}\""));
        let Some(components) = document.components.as_mut() else {
            return;
        };
        let before = components.schemas.len() + components.responses.len();
        components.schemas.retain(|name, _| used("schemas", name));
        components
            .responses
            .retain(|name, _| used("responses", name));
        if components.schemas.len() + components.responses.len() == before {
            return;
        }
    }
}
