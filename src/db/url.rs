//! Which backend a `DATABASE_URL` means. An unknown scheme is an error,
//! never a silent fallback to SQLite.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("it is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains('?') {
                return Err(format!(
                    "'{raw}' names no SQLite file (options are not accepted)"
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        match raw.split_once(':') {
            // "c:\..." would be a drive letter, which no supported platform has.
            Some((scheme, _)) if is_scheme(scheme) => {
                Err(format!("the scheme '{scheme}' is not supported"))
            }
            _ => Ok(DatabaseUrl::Sqlite(PathBuf::from(raw))),
        }
    }

    /// What may be written in logs: the URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    let userinfo = &url[start + 3..at];
                    let user = userinfo.split(':').next().unwrap_or_default();
                    format!("{}{user}:***{}", &url[..start + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_in_both_spellings() {
        for url in ["postgres://u@h:5432/d", "postgresql://h/d"] {
            assert_eq!(
                DatabaseUrl::parse(url),
                Ok(DatabaseUrl::Postgres(url.into()))
            );
        }
    }

    #[test]
    fn sqlite_urls_and_plain_paths() {
        let expect = |p: &str| Ok(DatabaseUrl::Sqlite(PathBuf::from(p)));
        assert_eq!(DatabaseUrl::parse("sqlite://var/a.db"), expect("var/a.db"));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.db"),
            expect("/tmp/a.db")
        );
        assert_eq!(DatabaseUrl::parse("sqlite:a.db"), expect("a.db"));
        assert_eq!(DatabaseUrl::parse("./var/a.db"), expect("./var/a.db"));
        assert_eq!(DatabaseUrl::parse("/srv/a.db"), expect("/srv/a.db"));
    }

    #[test]
    fn unknown_schemes_are_refused() {
        for url in ["mysql://h/d", "redis://h", "file:a.db", ""] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn redaction_hides_the_password_only() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/citizen").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/citizen");
    }
}
