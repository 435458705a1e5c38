//! Who may read `/metrics`: with `ops.metrics_token` set, only requests
//! that carry it as `Authorization: Bearer`; without it (development),
//! anyone. The metrics show the routes, the traffic and the outbox's
//! backlog, which is the operators' business alone.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::OpsSettings;
use crate::http::{ApiError, Text, bearer_token, unauthenticated};

/// The configured token as the server keeps it: its SHA-256 only, as it
/// keeps session tokens. A request's token is hashed too and the digests
/// are compared in constant time, so how long a refusal takes tells
/// neither the token's bytes nor its length.
pub struct MetricsAccess {
    token_digest: Option<[u8; 32]>,
}

impl MetricsAccess {
    pub fn new(settings: &OpsSettings) -> MetricsAccess {
        MetricsAccess {
            token_digest: settings
                .metrics_token
                .as_ref()
                .map(|token| digest(token.expose_secret().trim())),
        }
    }

    fn admits(&self, presented: Option<&str>) -> bool {
        match (&self.token_digest, presented) {
            (None, _) => true,
            (Some(expected), Some(token)) => digest(token)[..].ct_eq(&expected[..]).into(),
            (Some(_), None) => false,
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A caller who may read the metrics; anyone else is answered `401
/// unauthenticated` before the handler runs.
pub struct MetricsReader;

impl FromRequest for MetricsReader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<MetricsReader, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let access = req
            .app_data::<web::Data<MetricsAccess>>()
            .ok_or_else(|| ApiError::internal("the metrics access is not configured"));
        std::future::ready(access.and_then(|access| {
            if access.admits(bearer_token(req)) {
                Ok(MetricsReader)
            } else {
                Err(unauthenticated().with_detail(Text::new(
                    "Το /metrics απαιτεί το διακριτικό μετρικών ως Authorization: Bearer.",
                    "/metrics requires the metrics token as Authorization: Bearer.",
                )))
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn access(token: Option<&str>) -> MetricsAccess {
        MetricsAccess::new(&OpsSettings {
            metrics_token: token.map(SecretString::from),
        })
    }

    #[test]
    fn without_a_token_anyone_may_read() {
        let open = access(None);
        assert!(open.admits(None));
        assert!(open.admits(Some("anything")));
    }

    #[test]
    fn with_a_token_only_that_token_may_read() {
        let guarded = access(Some("  the-operators-metrics-token-of-32+chars\n"));
        assert!(guarded.admits(Some("the-operators-metrics-token-of-32+chars")));
        assert!(!guarded.admits(None));
        assert!(!guarded.admits(Some("")));
        assert!(!guarded.admits(Some("the-operators-metrics-token-of-32+char")));
        assert!(!guarded.admits(Some("the-operators-metrics-token-of-32+chars!")));
    }
}
