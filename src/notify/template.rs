//! Message texts. The wording lives in `templates/` at the crate root, apart
//! from the code, so it can be reviewed and translated as text; it is
//! embedded at build time and rendered with minijinja in strict mode, so a
//! variable missing from a template's context is an error, never a blank.

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::Channel;
use crate::http::Lang;

/// What a message says. Each variant carries exactly the variables its
/// templates use, so callers cannot misspell or forget one.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Template {
    /// A one-time code for step-up authentication (R-PH-02, R-PH-03), and
    /// how many minutes it is valid for.
    Otp { code: String, minutes: i64 },
    /// A booking's confirmation, with its link and what to send or bring
    /// (R-BK-04, R-BK-05, R-BK-06 a, b).
    ReservationConfirmed(Box<Confirmation>),
    /// The documents to bring or send, again, before the visit (R-BK-05).
    ReservationReminder(Box<Confirmation>),
    /// The service withdrew the slot and cancelled the booking.
    ReservationCancelled(Cancelled),
    /// The citizen cancelled the booking.
    ReservationCancelledOnRequest(Cancelled),
    /// A studio uploaded the citizen's photos: the code that links them,
    /// and the local date by which to link it (R-PH-05, R-PH-08).
    Kodikarithmos {
        code: String,
        studio: String,
        link_by: String,
    },
}

/// The variables of a cancellation notice, in the message's language.
#[derive(Debug, Clone, Serialize)]
pub struct Cancelled {
    pub service: String,
    pub department: String,
    pub municipality: String,
    /// Local date and time, e.g. `01/12/2026 09:00`.
    pub when: String,
}

/// The variables of a booking confirmation, in the message's language.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmation {
    pub service: String,
    pub department: String,
    pub municipality: String,
    /// Local date and time, e.g. `01/12/2026 09:00`.
    pub when: String,
    pub full_name: String,
    pub link: String,
    pub department_email: String,
    pub required_documents: Vec<String>,
    pub legal_entity: Option<String>,
    pub legal_entity_documents: Vec<String>,
}

/// Subject and body, ready to send. SMS have no subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Every template, by the name it is registered under:
/// `{channel}/{template}[.subject].{language}`.
const SOURCES: &[(&str, &str)] = &[
    ("sms/otp.el", include_str!("../../templates/sms/otp.el.txt")),
    ("sms/otp.en", include_str!("../../templates/sms/otp.en.txt")),
    (
        "sms/kodikarithmos.el",
        include_str!("../../templates/sms/kodikarithmos.el.txt"),
    ),
    (
        "sms/kodikarithmos.en",
        include_str!("../../templates/sms/kodikarithmos.en.txt"),
    ),
    (
        "email/kodikarithmos.subject.el",
        include_str!("../../templates/email/kodikarithmos.subject.el.txt"),
    ),
    (
        "email/kodikarithmos.subject.en",
        include_str!("../../templates/email/kodikarithmos.subject.en.txt"),
    ),
    (
        "email/kodikarithmos.el",
        include_str!("../../templates/email/kodikarithmos.el.txt"),
    ),
    (
        "email/kodikarithmos.en",
        include_str!("../../templates/email/kodikarithmos.en.txt"),
    ),
    (
        "email/otp.subject.el",
        include_str!("../../templates/email/otp.subject.el.txt"),
    ),
    (
        "email/otp.subject.en",
        include_str!("../../templates/email/otp.subject.en.txt"),
    ),
    (
        "email/otp.el",
        include_str!("../../templates/email/otp.el.txt"),
    ),
    (
        "email/otp.en",
        include_str!("../../templates/email/otp.en.txt"),
    ),
    (
        "email/reservation_confirmed.subject.el",
        include_str!("../../templates/email/reservation_confirmed.subject.el.txt"),
    ),
    (
        "email/reservation_confirmed.subject.en",
        include_str!("../../templates/email/reservation_confirmed.subject.en.txt"),
    ),
    (
        "email/reservation_confirmed.el",
        include_str!("../../templates/email/reservation_confirmed.el.txt"),
    ),
    (
        "email/reservation_confirmed.en",
        include_str!("../../templates/email/reservation_confirmed.en.txt"),
    ),
    (
        "email/reservation_reminder.subject.el",
        include_str!("../../templates/email/reservation_reminder.subject.el.txt"),
    ),
    (
        "email/reservation_reminder.subject.en",
        include_str!("../../templates/email/reservation_reminder.subject.en.txt"),
    ),
    (
        "email/reservation_reminder.el",
        include_str!("../../templates/email/reservation_reminder.el.txt"),
    ),
    (
        "email/reservation_reminder.en",
        include_str!("../../templates/email/reservation_reminder.en.txt"),
    ),
    (
        "email/reservation_cancelled_on_request.subject.el",
        include_str!("../../templates/email/reservation_cancelled_on_request.subject.el.txt"),
    ),
    (
        "email/reservation_cancelled_on_request.subject.en",
        include_str!("../../templates/email/reservation_cancelled_on_request.subject.en.txt"),
    ),
    (
        "email/reservation_cancelled_on_request.el",
        include_str!("../../templates/email/reservation_cancelled_on_request.el.txt"),
    ),
    (
        "email/reservation_cancelled_on_request.en",
        include_str!("../../templates/email/reservation_cancelled_on_request.en.txt"),
    ),
    (
        "email/reservation_cancelled.subject.el",
        include_str!("../../templates/email/reservation_cancelled.subject.el.txt"),
    ),
    (
        "email/reservation_cancelled.subject.en",
        include_str!("../../templates/email/reservation_cancelled.subject.en.txt"),
    ),
    (
        "email/reservation_cancelled.el",
        include_str!("../../templates/email/reservation_cancelled.el.txt"),
    ),
    (
        "email/reservation_cancelled.en",
        include_str!("../../templates/email/reservation_cancelled.en.txt"),
    ),
];

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    // `empty`: plain text needs no HTML escaping and no filters.
    let mut environment = Environment::empty();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in SOURCES {
        environment
            .add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
    }
    environment
});

impl Template {
    fn name(&self) -> &'static str {
        match self {
            Template::Otp { .. } => "otp",
            Template::ReservationConfirmed(_) => "reservation_confirmed",
            Template::ReservationReminder(_) => "reservation_reminder",
            Template::ReservationCancelled(_) => "reservation_cancelled",
            Template::ReservationCancelledOnRequest(_) => "reservation_cancelled_on_request",
            Template::Kodikarithmos { .. } => "kodikarithmos",
        }
    }

    /// The names of the templates a message on `channel` in `lang` is
    /// rendered from: its subject's, on a channel that has subjects, and
    /// its body's.
    fn sources(&self, channel: Channel, lang: Lang) -> (Option<String>, String) {
        let (name, lang) = (self.name(), lang.tag());
        match channel {
            Channel::Sms => (None, format!("sms/{name}.{lang}")),
            Channel::Email => (
                Some(format!("email/{name}.subject.{lang}")),
                format!("email/{name}.{lang}"),
            ),
        }
    }

    pub fn render(&self, channel: Channel, lang: Lang) -> Result<Rendered, minijinja::Error> {
        let context = Value::from(Serde(self));
        let render = |template: String| {
            ENVIRONMENT
                .get_template(&template)?
                .render(context.clone())
                .map(|text| text.trim_end().to_owned())
        };
        let (subject, body) = self.sources(channel, lang);
        Ok(Rendered {
            subject: subject.map(render).transpose()?.unwrap_or_default(),
            body: render(body)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn otp() -> Template {
        Template::Otp {
            code: "482913".into(),
            minutes: 5,
        }
    }

    #[test]
    fn the_otp_sms_renders_in_greek_and_english() {
        let el = otp().render(Channel::Sms, Lang::El).unwrap();
        assert_eq!(
            el.body,
            "Ο κωδικός μίας χρήσης σας είναι 482913. Ισχύει για 5 λεπτά. Μην τον δώσετε σε κανέναν."
        );
        assert_eq!(el.subject, "");
        let en = otp().render(Channel::Sms, Lang::En).unwrap();
        assert!(
            en.body.starts_with("Your one-time code is 482913."),
            "{en:?}"
        );
    }

    #[test]
    fn the_otp_texts_state_the_lifetime_they_are_given() {
        let one = Template::Otp {
            code: "482913".into(),
            minutes: 1,
        };
        for channel in [Channel::Sms, Channel::Email] {
            let el = one.render(channel, Lang::El).unwrap().body;
            assert!(el.contains("Ισχύει για 1 λεπτό."), "{el}");
            let en = one.render(channel, Lang::En).unwrap().body;
            assert!(en.contains("valid for 1 minute."), "{en}");
            let el = otp().render(channel, Lang::El).unwrap().body;
            assert!(el.contains("Ισχύει για 5 λεπτά."), "{el}");
        }
    }

    #[test]
    fn the_otp_email_has_a_subject_in_each_language() {
        let el = otp().render(Channel::Email, Lang::El).unwrap();
        assert_eq!(el.subject, "Κωδικός μίας χρήσης");
        assert!(el.body.contains("482913"));
        let en = otp().render(Channel::Email, Lang::En).unwrap();
        assert_eq!(en.subject, "Your one-time code");
        assert!(en.body.contains("482913"));
    }

    /// One message of every kind, with a value of its own in each variable
    /// (a legal entity, so the conditional parts render too), and the
    /// channels it is sent on.
    fn every_template() -> Vec<(Template, &'static [Channel])> {
        let cancelled = || Cancelled {
            service: "Άδεια Οικοδομής".into(),
            department: "Πολεοδομία".into(),
            municipality: "Δήμος Σπάρτης".into(),
            when: "02/12/2026 10:40".into(),
        };
        vec![
            (
                Template::Otp {
                    code: "482913".into(),
                    minutes: 45,
                },
                &[Channel::Sms, Channel::Email],
            ),
            (
                Template::Kodikarithmos {
                    code: "7KQM-2XPD-9RTV-HC42".into(),
                    studio: "Φωτογραφείο Φως".into(),
                    link_by: "16/12/2026".into(),
                },
                &[Channel::Sms, Channel::Email],
            ),
            (
                Template::ReservationConfirmed(details(Some("Σύλλογος Φίλων"))),
                &[Channel::Email],
            ),
            (
                Template::ReservationReminder(details(Some("Σύλλογος Φίλων"))),
                &[Channel::Email],
            ),
            (
                Template::ReservationCancelled(cancelled()),
                &[Channel::Email],
            ),
            (
                Template::ReservationCancelledOnRequest(cancelled()),
                &[Channel::Email],
            ),
        ]
    }

    /// The values of a message's variables, as its text shows them.
    fn variable_values(value: &serde_json::Value, into: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) => into.push(text.clone()),
            serde_json::Value::Number(number) => into.push(number.to_string()),
            serde_json::Value::Array(items) => {
                items.iter().for_each(|item| variable_values(item, into));
            }
            serde_json::Value::Object(fields) => {
                fields
                    .values()
                    .for_each(|field| variable_values(field, into));
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) => {}
        }
    }

    /// The template files under `templates/`, by the name each is
    /// registered under (`email/otp.subject.el` for
    /// `templates/email/otp.subject.el.txt`).
    fn template_files() -> BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut names = BTreeSet::new();
        for channel in std::fs::read_dir(&root).unwrap() {
            let channel = channel.unwrap().path();
            for file in std::fs::read_dir(&channel).unwrap() {
                let file = file.unwrap().path();
                let name = file.strip_prefix(&root).unwrap().to_str().unwrap();
                names.insert(name.strip_suffix(".txt").unwrap_or(name).to_owned());
            }
        }
        names
    }

    /// Every kind of message, on each of its channels, in Greek and in
    /// English, renders in full: no error (a variable the template names
    /// but the message lacks), every variable's value in the body, no
    /// template syntax left over, and a text of each language's own. And
    /// every file under `templates/` is embedded and rendered by one of
    /// them, so a template without a message, or a message that misses
    /// one of its templates, fails here rather than when it is sent.
    #[test]
    fn every_template_renders_with_its_variables() {
        let mut rendered_from = BTreeSet::new();
        for (template, channels) in every_template() {
            let mut values = Vec::new();
            variable_values(&serde_json::to_value(&template).unwrap(), &mut values);
            for &channel in channels {
                let [el, en] = [Lang::El, Lang::En].map(|lang| {
                    let (subject, body) = template.sources(channel, lang);
                    rendered_from.extend(subject.clone());
                    rendered_from.insert(body);
                    let what = format!("{} by {channel:?} in {lang:?}", template.name());
                    let text = template
                        .render(channel, lang)
                        .unwrap_or_else(|e| panic!("{what}: {e:#}"));
                    assert_eq!(text.subject.is_empty(), subject.is_none(), "{what}");
                    assert!(!text.subject.contains('\n'), "{what}: {text:?}");
                    for value in &values {
                        assert!(text.body.contains(value), "{what} lacks {value:?}");
                    }
                    for leftover in ["{{", "}}", "{%", "%}"] {
                        let whole = format!("{}\n{}", text.subject, text.body);
                        assert!(!whole.contains(leftover), "{what}: {whole}");
                    }
                    text
                });
                assert_ne!(el.body, en.body, "{} by {channel:?}", template.name());
            }
        }
        let embedded: BTreeSet<String> = SOURCES.iter().map(|(name, _)| (*name).into()).collect();
        assert_same(&template_files(), "under templates/", &embedded);
        assert_same(&rendered_from, "rendered by a message", &embedded);
    }

    /// Fails naming the templates that only one of `names` and `embedded` has.
    fn assert_same(names: &BTreeSet<String>, what: &str, embedded: &BTreeSet<String>) {
        let only_there: Vec<_> = names.difference(embedded).collect();
        let only_embedded: Vec<_> = embedded.difference(names).collect();
        assert!(
            only_there.is_empty() && only_embedded.is_empty(),
            "{what} but not embedded (SOURCES): {only_there:?}; embedded but not {what}: {only_embedded:?}"
        );
    }

    fn confirmation(legal_entity: Option<&str>) -> Template {
        Template::ReservationConfirmed(details(legal_entity))
    }

    fn details(legal_entity: Option<&str>) -> Box<Confirmation> {
        Box::new(Confirmation {
            service: "Επίδομα Στέγασης".into(),
            department: "Κοινωνική Πρόνοια".into(),
            municipality: "Δήμος Καλαμάτας".into(),
            when: "01/12/2026 09:00".into(),
            full_name: "Μαρία Παπαδοπούλου".into(),
            link: "https://example.gr/r/1".into(),
            department_email: "pronoia@kalamata.example".into(),
            required_documents: vec!["Μισθωτήριο".into()],
            legal_entity: legal_entity.map(Into::into),
            legal_entity_documents: vec!["Καταστατικό".into()],
        })
    }

    #[test]
    fn r_bk_04_r_bk_06_the_confirmation_lists_the_link_documents_and_where_to_send_them() {
        let plain = confirmation(None).render(Channel::Email, Lang::El).unwrap();
        assert_eq!(
            plain.subject,
            "Επιβεβαίωση ραντεβού: Επίδομα Στέγασης, 01/12/2026 09:00"
        );
        assert!(plain.body.contains("https://example.gr/r/1"));
        assert!(plain.body.contains("- Μισθωτήριο"));
        assert!(!plain.body.contains("Καταστατικό"));
        let entity = confirmation(Some("Σύλλογος Φίλων"))
            .render(Channel::Email, Lang::En)
            .unwrap();
        assert!(entity.body.contains("\"Σύλλογος Φίλων\""));
        assert!(entity.body.contains("pronoia@kalamata.example"));
        assert!(entity.body.contains("- Καταστατικό"));
    }

    #[test]
    fn r_bk_05_the_reminder_lists_the_documents_in_both_languages() {
        let el = Template::ReservationReminder(details(None))
            .render(Channel::Email, Lang::El)
            .unwrap();
        assert_eq!(
            el.subject,
            "Υπενθύμιση ραντεβού: Επίδομα Στέγασης, 01/12/2026 09:00"
        );
        assert!(
            el.body.contains("Φέρτε μαζί σας:\n- Μισθωτήριο"),
            "{}",
            el.body
        );
        assert!(!el.body.contains("Καταστατικό"));
        let en = Template::ReservationReminder(details(Some("Σύλλογος Φίλων")))
            .render(Channel::Email, Lang::En)
            .unwrap();
        assert!(en.subject.starts_with("Appointment reminder: "));
        assert!(
            en.body.contains("e-mail to pronoia@kalamata.example"),
            "{}",
            en.body
        );
        assert!(en.body.contains("- Καταστατικό"));
        assert!(en.body.contains("https://example.gr/r/1"));
    }

    #[test]
    fn a_missing_variable_is_an_error_not_a_blank() {
        let template = ENVIRONMENT.get_template("sms/otp.en").unwrap();
        let err = template.render(Value::from(())).unwrap_err();
        assert_eq!(err.kind(), minijinja::ErrorKind::UndefinedError, "{err}");
    }
}
