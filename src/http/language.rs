//! The language of error texts: Greek unless the caller prefers English.

use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderMap};

pub use crate::domain::Lang;

impl Lang {
    /// Picks el or en from `Accept-Language` by quality value, the earlier
    /// entry winning a tie; anything unreadable falls back to Greek, the
    /// language of the service.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let lang = match primary.as_str() {
                "el" => Lang::El,
                "en" => Lang::En,
                _ => continue,
            };
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map_or(Lang::El, |(lang, _)| lang)
    }

    pub fn from_headers(headers: &HeaderMap) -> Lang {
        headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::El, Lang::from_accept_language)
    }

    /// The language a [`Lang::tag`] names; Greek for anything else.
    pub fn from_tag(tag: &str) -> Lang {
        match tag {
            "en" => Lang::En,
            _ => Lang::El,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::El => "el",
            Lang::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang::{self, El, En};

    #[test]
    fn greek_is_the_default() {
        for header in ["", "fr", "*", "de-DE, fr;q=0.5", "en;q=0", ";;;"] {
            assert_eq!(Lang::from_accept_language(header), El, "{header:?}");
        }
    }

    #[test]
    fn english_when_preferred() {
        for header in ["en", "en-GB", "EN-us", "fr, en;q=0.8", "el;q=0.3, en;q=0.9"] {
            assert_eq!(Lang::from_accept_language(header), En, "{header:?}");
        }
    }

    #[test]
    fn greek_when_preferred_or_tied_first() {
        for header in ["el-GR, en;q=0.9", "el, en", "en;q=0.5, el"] {
            assert_eq!(Lang::from_accept_language(header), El, "{header:?}");
        }
    }
}
