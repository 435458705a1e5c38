//! What answers when no route matched: `405` with `Allow` when the path
//! exists under other methods, else `404`. Actix's routing cannot tell the
//! two apart (a method guard that fails just means "no route"), so the table
//! is built from the OpenAPI document, which lists every route.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use super::{ApiError, ErrorCode};

pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteTable {
    pub fn from_document(document: &OpenApi) -> RouteTable {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    (&item.get, "GET"),
                    (&item.post, "POST"),
                    (&item.put, "PUT"),
                    (&item.patch, "PATCH"),
                    (&item.delete, "DELETE"),
                ]
                .into_iter()
                .filter(|(operation, _)| operation.is_some())
                .map(|(_, name)| name)
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods a path accepts, or `None` when no route has that shape.
    fn allowed_methods(&self, path: &str) -> Option<Vec<&'static str>> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&'static str> = self
            .routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(segment, part)| match segment {
                            Segment::Literal(literal) => literal == part,
                            Segment::Parameter => !part.is_empty(),
                        })
            })
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// The app's default service.
pub async fn no_route(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed_methods(req.path()) {
        Some(methods) => ApiError::new(ErrorCode::MethodNotAllowed).with_header(
            header::ALLOW,
            HeaderValue::from_str(&methods.join(", ")).expect("method names are header-safe"),
        ),
        None => ApiError::not_found(),
    })
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::OpenApiBuilder;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    use super::*;

    fn table() -> RouteTable {
        let paths = PathsBuilder::new()
            .path(
                "/v1/things",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .path(
                "/v1/things/{id}",
                PathItem::new(HttpMethod::Delete, OperationBuilder::new()),
            )
            .path(
                "/v1/things/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .build();
        RouteTable::from_document(&OpenApiBuilder::new().paths(paths).build())
    }

    #[test]
    fn known_paths_list_their_methods() {
        assert_eq!(table().allowed_methods("/v1/things"), Some(vec!["GET"]));
        assert_eq!(
            table().allowed_methods("/v1/things/abc"),
            Some(vec!["DELETE", "GET"])
        );
    }

    #[test]
    fn unknown_paths_are_none() {
        for path in ["/v1/thing", "/v1/things/", "/v1/things/a/b", "/"] {
            assert_eq!(table().allowed_methods(path), None, "{path}");
        }
    }
}
