//! What the production profile refuses at start: every setting that is only
//! safe on a developer's machine, named with its environment variable.

use super::auth::{ContactRegistryKind, DEVELOPMENT_CLIENT_SECRET};
use super::notify::{EmailTransportKind, SmsTransportKind, SmtpTls};
use super::{ConfigError, DatabaseUrl, Settings, TrustedProxies};
use secrecy::ExposeSecret;

/// Called by [`Settings::validate`] for the production profile, with the
/// proxies and database it has already parsed.
pub(super) fn refuse_insecure(
    settings: &Settings,
    proxies: &TrustedProxies,
    url: &DatabaseUrl,
) -> Result<(), ConfigError> {
    if proxies.trusts_too_widely() {
        return Err(ConfigError::InsecureForProduction {
            setting: "http.trusted_proxies (CITIZEN_API_HTTP__TRUSTED_PROXIES)",
            why: "a network wider than /8 (IPv4) or /7 (IPv6), such as 0.0.0.0/0, trusts \
                  public addresses as proxies, so clients there could name themselves in \
                  X-Forwarded-For and escape the per-address limits; list the proxies' \
                  own addresses or networks",
        });
    }
    if matches!(url, DatabaseUrl::Sqlite(_)) && !settings.database.allow_sqlite_in_production {
        return Err(ConfigError::InsecureForProduction {
            setting: "SQLite (DATABASE_URL)",
            why: "set DATABASE_URL to a postgres:// URL, or set \
                  CITIZEN_API_DATABASE__ALLOW_SQLITE_IN_PRODUCTION=true for a single-machine deployment",
        });
    }
    if !url.transfers_encrypted(|name| std::env::var(name).ok()) {
        return Err(ConfigError::InsecureForProduction {
            setting: "DATABASE_URL (sslmode)",
            why: "personal data would cross the network in clear text (R-BK-12); add \
                  sslmode=verify-full (or require) to the URL, or reach the server over a \
                  Unix-domain socket",
        });
    }
    refuse_development_settings(settings)
}

/// Each development convenience that would be a hole in production.
fn refuse_development_settings(settings: &Settings) -> Result<(), ConfigError> {
    let auth = &settings.auth;
    let smtp = &settings.notify.email.smtp;
    // R-BK-12: all transfers are encrypted, to the services this one
    // calls as to the browsers it answers.
    let https = |url: &str| url.starts_with("https://");
    let plain = |url: &Option<String>| url.as_deref().is_some_and(|u| !https(u));
    let refusals: [(bool, &'static str, &'static str); 21] = [
        (
            settings.demo_data,
            "demo_data (CITIZEN_API_DEMO_DATA)",
            "demo citizens and municipalities must never reach a production database; set it to false",
        ),
        (
            auth.development_provider,
            "auth.development_provider (CITIZEN_API_AUTH__DEVELOPMENT_PROVIDER)",
            "the development login signs in anyone; set it to false and configure TAXISnet",
        ),
        (
            auth.taxisnet.authorize_url.is_none()
                || auth.taxisnet.token_url.is_none()
                || auth.taxisnet.userinfo_url.is_none(),
            "auth.taxisnet URLs (CITIZEN_API_AUTH__TAXISNET__AUTHORIZE_URL, __TOKEN_URL, __USERINFO_URL)",
            "set the GSIS endpoints, e.g. https://www1.gsis.gr/oauth2server/oauth/authorize",
        ),
        (
            auth.taxisnet
                .client_secret
                .as_ref()
                .is_none_or(|s| s.expose_secret() == DEVELOPMENT_CLIENT_SECRET),
            "auth.taxisnet.client_secret (CITIZEN_API_AUTH__TAXISNET__CLIENT_SECRET)",
            "set the client secret GSIS issued; the development default is public",
        ),
        (
            auth.cookie_secure == Some(false),
            "auth.cookie_secure (CITIZEN_API_AUTH__COOKIE_SECURE)",
            "session cookies must only travel over HTTPS",
        ),
        (
            auth.contact_registry.kind == ContactRegistryKind::Database,
            "auth.contact_registry.kind (CITIZEN_API_AUTH__CONTACT_REGISTRY__KIND)",
            "the database registry is the development stand-in; use http with the registry's URL and token",
        ),
        (
            auth.contact_registry.kind == ContactRegistryKind::Http
                && auth.contact_registry.url.is_none(),
            "auth.contact_registry.url (CITIZEN_API_AUTH__CONTACT_REGISTRY__URL)",
            "the registry's base URL is required",
        ),
        (
            settings.notify.sms.transport == SmsTransportKind::Development,
            "the development SMS transport (CITIZEN_API_NOTIFY__SMS__TRANSPORT)",
            "it delivers no SMS, so citizens would never get their codes; set it to http",
        ),
        (
            settings.notify.email.transport == EmailTransportKind::Development,
            "the development e-mail transport (CITIZEN_API_NOTIFY__EMAIL__TRANSPORT)",
            "it delivers no e-mail, so citizens would never get their confirmations; set it to smtp",
        ),
        (
            smtp.username.is_some() != smtp.password.is_some(),
            "notify.email.smtp.username and .password (CITIZEN_API_NOTIFY__EMAIL__SMTP__USERNAME, __PASSWORD)",
            "give both or neither: one alone would send mail without signing in, and a relay that wants a login refuses it only at the first confirmation",
        ),
        (
            smtp.tls == SmtpTls::None,
            "notify.email.smtp.tls (CITIZEN_API_NOTIFY__EMAIL__SMTP__TLS)",
            "confirmations carry names and appointments, and a login would cross the network in clear text; use starttls or tls",
        ),
        (
            !auth.public_base_url.as_deref().is_some_and(https),
            "auth.public_base_url (CITIZEN_API_AUTH__PUBLIC_BASE_URL)",
            "TAXISnet's redirect_uri and the links in e-mails are made from it; set the service's public https:// address",
        ),
        (
            auth.allowed_origins.iter().any(|o| !https(o))
                || auth.return_to_allowlist.iter().any(|r| !https(r)),
            "auth.allowed_origins / auth.return_to_allowlist (CITIZEN_API_AUTH__ALLOWED_ORIGINS, __RETURN_TO_ALLOWLIST)",
            "production frontends are served over https; http:// entries (the development defaults among them) would trust pages sent in clear text",
        ),
        (
            plain(&auth.taxisnet.authorize_url)
                || plain(&auth.taxisnet.token_url)
                || plain(&auth.taxisnet.userinfo_url)
                || plain(&auth.contact_registry.url)
                || plain(&settings.notify.sms.gateway_url),
            "the TAXISnet, contact registry and SMS gateway URLs",
            "codes, tokens, AFMs and mobile numbers cross them; use https:// URLs",
        ),
        (
            settings.secrets.hmac_key.is_none(),
            "secrets.hmac_key (CITIZEN_API_SECRETS__HMAC_KEY)",
            "set base64 of at least 32 random bytes; development keys are made on the fly and not secret",
        ),
        (
            settings.secrets.encryption_keys.is_none(),
            "secrets.encryption_keys (CITIZEN_API_SECRETS__ENCRYPTION_KEYS)",
            "set ID:BASE64 of 32 random bytes (e.g. 2026a:$(openssl rand -base64 32)); development keys are made on the fly and not secret",
        ),
        (
            settings.secrets.photo_keys.is_none(),
            "secrets.photo_keys (CITIZEN_API_SECRETS__PHOTO_KEYS)",
            "set ID:BASE64 of 32 random bytes, other keys than secrets.encryption_keys (e.g. p2026a:$(openssl rand -base64 32)); development keys are made on the fly and not secret",
        ),
        (
            settings.secrets.token_signing_keys.is_none(),
            "secrets.token_signing_keys (CITIZEN_API_SECRETS__TOKEN_SIGNING_KEYS)",
            "set KID:BASE64 of a 32-byte Ed25519 seed (e.g. t2026a:$(openssl rand -base64 32)); a development key is made on the fly and not secret, and anyone holding it could mint access tokens",
        ),
        (
            plain(&settings.oauth.issuer) || plain(&settings.oauth.audience),
            "oauth.issuer / oauth.audience (CITIZEN_API_OAUTH__ISSUER, __AUDIENCE)",
            "applications fetch the token endpoint and the keys from the issuer's address; use https:// (unset, both follow auth.public_base_url)",
        ),
        (
            settings.storage.sends_in_clear()?,
            "storage.endpoint with storage.allow_http (CITIZEN_API_STORAGE__ENDPOINT, __ALLOW_HTTP)",
            "the access key's signatures and the sealed photos would cross the network in clear text (R-BK-12); use the storage service's https:// endpoint (plain http is only for a test server on this machine)",
        ),
        (
            settings.ops.metrics_token.is_none(),
            "ops.metrics_token (CITIZEN_API_OPS__METRICS_TOKEN)",
            "/metrics would show anyone the routes, the traffic and the outbox's backlog; set a random token of at least 32 characters for the scraper to send as Authorization: Bearer",
        ),
    ];
    match refusals.into_iter().find(|(refused, _, _)| *refused) {
        Some((_, setting, why)) => Err(ConfigError::InsecureForProduction { setting, why }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::auth::AuthSettings;
    use super::super::tests::METRICS_TOKEN;
    use super::super::{Profile, Settings, StorageKind, StorageSettings};
    use super::*;

    /// A production configuration that passes every refusal.
    fn production() -> Settings {
        let mut settings = Settings {
            profile: Profile::Production,
            demo_data: false,
            ..Settings::default()
        };
        settings.database.url = Some("postgres://db.internal/citizen?sslmode=verify-full".into());
        let taxisnet = &mut settings.auth.taxisnet;
        taxisnet.authorize_url = Some("https://www1.gsis.gr/oauth2server/oauth/authorize".into());
        taxisnet.token_url = Some("https://www1.gsis.gr/oauth2server/oauth/token".into());
        taxisnet.userinfo_url =
            Some("https://www1.gsis.gr/oauth2server/userinfo?format=xml".into());
        taxisnet.client_secret = Some("issued-by-gsis".into());
        settings.auth.development_provider = false;
        settings.auth.public_base_url = Some("https://api.mydimos.example".into());
        settings.auth.allowed_origins = vec!["https://mydimos.example".into()];
        settings.auth.return_to_allowlist = vec!["https://mydimos.example/".into()];
        settings.auth.contact_registry.kind = ContactRegistryKind::Http;
        settings.auth.contact_registry.url = Some("https://emep.example/api".into());
        settings.notify.sms.transport = SmsTransportKind::Http;
        settings.notify.email.transport = EmailTransportKind::Smtp;
        settings.notify.email.smtp.username = Some("citizen-api".into());
        settings.notify.email.smtp.password = Some("relay-password".into());
        settings.secrets.hmac_key = Some("c2VjcmV0LWtleS1vZi1hdC1sZWFzdC0zMi1ieXRlcyE=".into());
        settings.secrets.encryption_keys =
            Some("k1:c2VjcmV0LWtleS1vZi1leGFjdGx5LTMyLWJ5dGVzISE=".into());
        settings.secrets.photo_keys =
            Some("p1:cGhvdG8ta2V5LW9mLWV4YWN0bHktMzItYnl0ZXMhISE=".into());
        settings.secrets.token_signing_keys =
            Some("t1:dG9rZW4tc2lnbmluZy1zZWVkLTMyLWJ5dGVzLWxvbmc=".into());
        settings.ops.metrics_token = Some(METRICS_TOKEN.into());
        settings
    }

    type BreakIt = fn(&mut Settings);

    /// Each case, applied to a complete production configuration, stops the
    /// start with a message naming the setting.
    fn refused_by_name(cases: &[(BreakIt, &str)]) {
        for (break_it, setting) in cases {
            let mut settings = production();
            break_it(&mut settings);
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.contains(setting), "{setting}: {err}");
        }
    }

    #[test]
    fn a_complete_production_configuration_starts() {
        production().validate().unwrap();
    }

    #[test]
    fn production_refuses_each_development_convenience_by_name() {
        let cases: [(BreakIt, &str); 14] = [
            (
                |s| s.auth.development_provider = true,
                "DEVELOPMENT_PROVIDER",
            ),
            (|s| s.auth.taxisnet.token_url = None, "TOKEN_URL"),
            (
                |s| s.auth.taxisnet.client_secret = Some(DEVELOPMENT_CLIENT_SECRET.into()),
                "CLIENT_SECRET",
            ),
            (|s| s.auth.cookie_secure = Some(false), "COOKIE_SECURE"),
            (
                |s| s.auth.contact_registry.kind = ContactRegistryKind::Database,
                "CONTACT_REGISTRY__KIND",
            ),
            (
                |s| s.auth.contact_registry.url = None,
                "CONTACT_REGISTRY__URL",
            ),
            (|s| s.secrets.hmac_key = None, "HMAC_KEY"),
            (|s| s.secrets.encryption_keys = None, "ENCRYPTION_KEYS"),
            (|s| s.secrets.photo_keys = None, "PHOTO_KEYS"),
            (
                |s| s.secrets.token_signing_keys = None,
                "TOKEN_SIGNING_KEYS",
            ),
            (|s| s.ops.metrics_token = None, "METRICS_TOKEN"),
            (
                |s| s.notify.sms.transport = SmsTransportKind::Development,
                "CITIZEN_API_NOTIFY__SMS__TRANSPORT",
            ),
            (
                |s| s.notify.email.transport = EmailTransportKind::Development,
                "CITIZEN_API_NOTIFY__EMAIL__TRANSPORT",
            ),
            (
                |s| s.notify.email.smtp.password = None,
                "CITIZEN_API_NOTIFY__EMAIL__SMTP__USERNAME",
            ),
        ];
        refused_by_name(&cases);
    }

    #[test]
    fn r_bk_12_production_refuses_plain_http_to_browsers_and_to_the_services_it_calls() {
        refused_by_name(&[
            (|s| s.auth.public_base_url = None, "PUBLIC_BASE_URL"),
            (
                |s| s.auth.public_base_url = Some("http://api.mydimos.example".into()),
                "PUBLIC_BASE_URL",
            ),
            (
                |s| s.auth.allowed_origins = AuthSettings::default().allowed_origins,
                "ALLOWED_ORIGINS",
            ),
            (
                |s| s.auth.return_to_allowlist = vec!["http://mydimos.example/".into()],
                "RETURN_TO_ALLOWLIST",
            ),
            (
                |s| s.auth.contact_registry.url = Some("http://emep.example/api".into()),
                "contact registry",
            ),
            (
                |s| s.notify.sms.gateway_url = Some("http://sms.example/send".into()),
                "SMS gateway",
            ),
            (
                |s| s.notify.email.smtp.tls = SmtpTls::None,
                "CITIZEN_API_NOTIFY__EMAIL__SMTP__TLS",
            ),
        ]);
    }

    #[test]
    fn r_ph_19_production_keeps_photos_locally_or_in_s3_over_https_only() {
        let s3 = |endpoint: &str| {
            let mut settings = production();
            settings.storage = StorageSettings {
                kind: StorageKind::S3,
                bucket: Some("photos".into()),
                endpoint: Some(endpoint.into()),
                access_key_id: Some("AKIDEXAMPLE".into()),
                secret_access_key: Some("storage-secret".into()),
                allow_http: true,
                ..StorageSettings::default()
            };
            settings
        };
        production().validate().unwrap();
        s3("https://s3.gcloud.example").validate().unwrap();
        s3("http://127.0.0.1:9000").validate().unwrap();
        let err = s3("http://s3.gcloud.example")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CITIZEN_API_STORAGE__ENDPOINT") && err.contains("R-BK-12"),
            "{err}"
        );
    }

    #[test]
    fn production_refuses_to_trust_every_address_as_a_proxy() {
        refused_by_name(&[
            (
                |s| s.http.trusted_proxies = vec!["10.0.0.0/8".into(), "0.0.0.0/0".into()],
                "TRUSTED_PROXIES",
            ),
            (
                |s| s.http.trusted_proxies = vec!["::/0".into()],
                "TRUSTED_PROXIES",
            ),
            (
                |s| s.http.trusted_proxies = vec!["0.0.0.0/1".into(), "128.0.0.0/1".into()],
                "TRUSTED_PROXIES",
            ),
        ]);
        let mut settings = production();
        settings.http.trusted_proxies = vec!["10.0.0.0/8".into(), "fd00::/8".into()];
        settings.validate().unwrap();
    }

    #[test]
    fn production_refuses_sqlite_unless_allowed() {
        let mut sqlite = production();
        sqlite.database.url = None;
        let err = sqlite.validate().unwrap_err().to_string();
        assert!(err.contains("SQLite"), "{err}");
        let mut allowed = production();
        allowed.database.url = None;
        allowed.database.allow_sqlite_in_production = true;
        allowed.validate().unwrap();
    }

    #[test]
    fn production_refuses_a_database_reached_without_enforced_tls() {
        let mut settings = production();
        settings.database.url = Some("postgres://db.internal/citizen".into());
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("sslmode") && err.contains("R-BK-12"), "{err}");
        settings.profile = Profile::Development;
        settings.validate().unwrap();
    }

    #[test]
    fn production_refuses_demo_data() {
        let mut settings = production();
        settings.demo_data = true;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("demo_data"), "{err}");
    }
}
