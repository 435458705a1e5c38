//! Texts in the service's two languages, Greek first: error messages,
//! catalogue names and descriptions, the documents a service asks for.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A language the service speaks; Greek unless a caller prefers English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    El,
    En,
}

/// A text in Greek and English. Named `LocalizedText` in the OpenAPI
/// document, where `Text` alone would say little.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = LocalizedText)]
pub struct Text {
    #[schema(value_type = String, example = "Δήμος Καλαμάτας")]
    pub el: Cow<'static, str>,
    #[schema(value_type = String, example = "Municipality of Kalamata")]
    pub en: Cow<'static, str>,
}

impl Text {
    pub fn new(el: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Text {
        Text {
            el: el.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::El => &self.el,
            Lang::En => &self.en,
        }
    }
}
