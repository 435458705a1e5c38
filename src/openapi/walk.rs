//! Visiting every operation of a document, for the passes.

use utoipa::openapi::path::{Operation, Paths};

pub(super) fn for_each_operation(paths: &mut Paths, mut visit: impl FnMut(&str, &mut Operation)) {
    for (path, item) in paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            visit(path, operation);
        }
    }
}
