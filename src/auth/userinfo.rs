//! The GSIS userinfo answer: XML whose root element has a child
//! `<userinfo taxid=".." lastname=".." firstname=".." .../>`. Values may carry
//! surrounding spaces. The parser refuses any DOCTYPE (so no entity can be
//! declared, let alone expanded) and the caller limits the size before
//! parsing, so a hostile answer costs nothing and yields a clear error.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::domain::Afm;

/// What the login learns about the citizen. Only kept for the session
/// (R-BK-01): the AFM identifies, the names greet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxisnetUser {
    pub afm: Afm,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserinfoError {
    #[error("the userinfo answer is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the userinfo answer declares a DOCTYPE, which is refused")]
    Doctype,
    #[error("the userinfo answer has no <userinfo> element under its root")]
    Missing,
    #[error("the userinfo attribute {0} is missing or too long")]
    Attribute(&'static str),
    #[error("the userinfo taxid is not a valid AFM")]
    InvalidAfm,
}

const MAX_VALUE_CHARS: usize = 200;

pub fn parse_userinfo(xml: &[u8]) -> Result<TaxisnetUser, UserinfoError> {
    let mut reader = Reader::from_reader(xml);
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| UserinfoError::Malformed(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(UserinfoError::Doctype),
            Event::Start(element) | Event::Empty(element)
                if depth == 1 && element.local_name().as_ref() == b"userinfo" =>
            {
                return user_from(&reader, &element);
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Err(UserinfoError::Missing),
            _ => {}
        }
    }
}

fn user_from(
    reader: &Reader<&[u8]>,
    element: &BytesStart<'_>,
) -> Result<TaxisnetUser, UserinfoError> {
    let attribute = |name: &'static str| -> Result<String, UserinfoError> {
        let found = element
            .try_get_attribute(name)
            .map_err(|e| UserinfoError::Malformed(e.to_string()))?
            .ok_or(UserinfoError::Attribute(name))?;
        let value = found
            .decode_and_unescape_value(reader.decoder())
            .map_err(|e| UserinfoError::Malformed(e.to_string()))?;
        let value = value.trim();
        if value.chars().count() > MAX_VALUE_CHARS || value.chars().any(char::is_control) {
            return Err(UserinfoError::Attribute(name));
        }
        Ok(value.to_owned())
    };
    let afm = Afm::parse(&attribute("taxid")?).map_err(|_| UserinfoError::InvalidAfm)?;
    Ok(TaxisnetUser {
        afm,
        first_name: attribute("firstname")?,
        last_name: attribute("lastname")?,
        father_name: attribute("fathername").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GSIS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<root><userinfo userid="User123456783   " taxid="123456783   " lastname="ΠΑΠΑΔΟΠΟΥΛΟΥ " firstname="ΜΑΡΙΑ" fathername="ΓΕΩΡΓΙΟΣ" mothername="ΕΛΕΝΗ" birthyear="1985      "/></root>"#;

    #[test]
    fn reads_the_gsis_answer_and_trims_values() {
        let user = parse_userinfo(GSIS.as_bytes()).unwrap();
        assert_eq!(user.afm.as_str(), "123456783");
        assert_eq!(user.last_name, "ΠΑΠΑΔΟΠΟΥΛΟΥ");
        assert_eq!(user.first_name, "ΜΑΡΙΑ");
        assert_eq!(user.father_name, "ΓΕΩΡΓΙΟΣ");
    }

    #[test]
    fn escaped_characters_are_unescaped() {
        let xml = r#"<root><userinfo taxid="123456783" lastname="O&apos;NEIL" firstname="A&amp;B"/></root>"#;
        let user = parse_userinfo(xml.as_bytes()).unwrap();
        assert_eq!(
            (user.last_name.as_str(), user.first_name.as_str()),
            ("O'NEIL", "A&B")
        );
    }

    #[test]
    fn entity_declarations_are_refused_not_expanded() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<root><userinfo taxid="123456783" lastname="&lol2;" firstname="x"/></root>"#;
        assert_eq!(
            parse_userinfo(laughs.as_bytes()),
            Err(UserinfoError::Doctype)
        );
        let external = r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><root><userinfo taxid="123456783" lastname="&xxe;" firstname="x"/></root>"#;
        assert_eq!(
            parse_userinfo(external.as_bytes()),
            Err(UserinfoError::Doctype)
        );
    }

    #[test]
    fn an_undeclared_entity_is_malformed() {
        let xml = r#"<root><userinfo taxid="123456783" lastname="&xxe;" firstname="x"/></root>"#;
        assert!(matches!(
            parse_userinfo(xml.as_bytes()),
            Err(UserinfoError::Malformed(_))
        ));
    }

    #[test]
    fn missing_or_bad_data_is_an_error_not_a_panic() {
        let cases: [(&str, UserinfoError); 5] = [
            ("<root/>", UserinfoError::Missing),
            (
                "<userinfo taxid=\"123456783\" lastname=\"a\" firstname=\"b\"/>",
                UserinfoError::Missing,
            ),
            (
                "<root><userinfo lastname=\"a\" firstname=\"b\"/></root>",
                UserinfoError::Attribute("taxid"),
            ),
            (
                "<root><userinfo taxid=\"123456789\" lastname=\"a\" firstname=\"b\"/></root>",
                UserinfoError::InvalidAfm,
            ),
            (
                "<root><userinfo taxid=\"123456783\" firstname=\"b\"/></root>",
                UserinfoError::Attribute("lastname"),
            ),
        ];
        for (xml, expected) in cases {
            assert_eq!(parse_userinfo(xml.as_bytes()), Err(expected), "{xml}");
        }
        for garbage in ["", "{\"taxid\":1}", "<root><userinfo taxid=", "\u{0}\u{1}"] {
            assert!(parse_userinfo(garbage.as_bytes()).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn absurdly_long_values_are_refused() {
        let xml = format!(
            "<root><userinfo taxid=\"123456783\" lastname=\"{}\" firstname=\"b\"/></root>",
            "Α".repeat(500)
        );
        assert_eq!(
            parse_userinfo(xml.as_bytes()),
            Err(UserinfoError::Attribute("lastname"))
        );
    }
}
