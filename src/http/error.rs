//! One error type for the whole API, rendered as RFC 9457 problem+json with
//! a stable `code` (catalogued in `docs/errors.md`) and Greek or English
//! texts chosen by `Accept-Language`.

use std::borrow::Cow;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Lang, Text};
use crate::db::DbError;

/// Generates [`ErrorCode`] and its catalogue from one table, so a code, its
/// status and its texts can never drift apart.
macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:ident,
        title($title_el:literal, $title_en:literal),
        detail($detail_el:literal, $detail_en:literal); )+) => {
        /// The stable machine-readable codes of the API's errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $( $variant, )+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )+];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )+ }
            }

            pub fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )+ }
            }

            pub fn title(self) -> Text {
                match self { $( ErrorCode::$variant => Text::new($title_el, $title_en), )+ }
            }

            /// The detail used when the error carries no more specific one.
            pub fn default_detail(self) -> Text {
                match self { $( ErrorCode::$variant => Text::new($detail_el, $detail_en), )+ }
            }
        }
    };
}

error_codes! {
    BadRequest = "bad_request", BAD_REQUEST,
        title("Μη έγκυρο αίτημα", "Bad request"),
        detail("Το αίτημα δεν μπορεί να γίνει κατανοητό.", "The request could not be understood.");
    MalformedJson = "malformed_json", BAD_REQUEST,
        title("Μη έγκυρο JSON", "Malformed JSON"),
        detail("Το σώμα του αιτήματος δεν είναι έγκυρο JSON.", "The request body is not valid JSON.");
    NotFound = "not_found", NOT_FOUND,
        title("Δεν βρέθηκε", "Not found"),
        detail("Ο πόρος που ζητήθηκε δεν υπάρχει.", "The requested resource does not exist.");
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED,
        title("Μη επιτρεπτή μέθοδος", "Method not allowed"),
        detail("Η διαδρομή δεν δέχεται αυτή τη μέθοδο HTTP· δείτε την κεφαλίδα Allow.",
               "This path does not accept this HTTP method; see the Allow header.");
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE,
        title("Πολύ μεγάλο αίτημα", "Payload too large"),
        detail("Το σώμα του αιτήματος υπερβαίνει το επιτρεπτό μέγεθος.",
               "The request body exceeds the size limit.");
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE,
        title("Μη υποστηριζόμενος τύπος περιεχομένου", "Unsupported media type"),
        detail("Το σώμα πρέπει να αποσταλεί ως application/json.",
               "The body must be sent as application/json.");
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY,
        title("Μη έγκυρα στοιχεία", "Validation failed"),
        detail("Ορισμένα πεδία δεν είναι έγκυρα· δείτε το errors.",
               "Some fields are not valid; see errors.");
    Unauthenticated = "unauthenticated", UNAUTHORIZED,
        title("Απαιτείται σύνδεση", "Authentication required"),
        detail("Συνδεθείτε με τους κωδικούς TAXISnet· η συνεδρία λείπει ή έληξε.",
               "Sign in with TAXISnet; the session is missing or has expired.");
    Forbidden = "forbidden", FORBIDDEN,
        title("Δεν επιτρέπεται", "Forbidden"),
        detail("Δεν έχετε δικαίωμα για αυτή την ενέργεια.", "You are not allowed to do this.");
    StrongAuthRequired = "strong_auth_required", FORBIDDEN,
        title("Απαιτείται κωδικός μίας χρήσης", "One-time code required"),
        detail("Επιβεβαιώστε τη σύνδεση με τον κωδικό μίας χρήσης που λαμβάνετε με SMS.",
               "Confirm your sign-in with the one-time code sent to you by SMS.");
    OriginNotAllowed = "origin_not_allowed", FORBIDDEN,
        title("Μη επιτρεπτή προέλευση", "Origin not allowed"),
        detail("Αιτήματα με cookie που αλλάζουν δεδομένα δέχονται μόνο από εγκεκριμένες ιστοσελίδες.",
               "Cookie-authenticated requests that change data are only accepted from approved sites.");
    InvalidLoginState = "invalid_login_state", BAD_REQUEST,
        title("Μη έγκυρη σύνδεση", "Invalid login state"),
        detail("Η σύνδεση έληξε, χρησιμοποιήθηκε ήδη ή δεν ξεκίνησε εδώ. Ξεκινήστε ξανά.",
               "The login expired, was already used or did not start here. Start again.");
    LoginFailed = "login_failed", BAD_REQUEST,
        title("Η σύνδεση απέτυχε", "Login failed"),
        detail("Το TAXISnet δεν ολοκλήρωσε τη σύνδεση. Ξεκινήστε ξανά.",
               "TAXISnet did not complete the sign-in. Start again.");
    IdentityProviderError = "identity_provider_error", BAD_REQUEST,
        title("Σφάλμα TAXISnet", "Identity provider error"),
        detail("Το TAXISnet δεν απάντησε σωστά. Δοκιμάστε ξανά σε λίγο.",
               "TAXISnet did not answer properly. Please try again shortly.");
    ContactRegistryUnavailable = "contact_registry_unavailable", BAD_GATEWAY,
        title("Το Εθνικό Μητρώο Επικοινωνίας δεν απαντά", "Contact registry unavailable"),
        detail("Δεν ήταν δυνατή η αναζήτηση του πιστοποιημένου κινητού σας. Δοκιμάστε ξανά σε λίγο.",
               "Your certified mobile number could not be looked up. Please try again shortly.");
    NoCertifiedMobile = "no_certified_mobile", CONFLICT,
        title("Δεν υπάρχει πιστοποιημένο κινητό", "No certified mobile"),
        detail("Δεν έχετε πιστοποιήσει κινητό στο Εθνικό Μητρώο Επικοινωνίας (ΕΜΕπ).",
               "You have no mobile number certified in the National Registry of Communication (EMEp).");
    OtpNotRequested = "otp_not_requested", BAD_REQUEST,
        title("Δεν ζητήθηκε κωδικός", "No code requested"),
        detail("Ζητήστε πρώτα κωδικό μίας χρήσης.", "Request a one-time code first.");
    OtpInvalid = "otp_invalid", BAD_REQUEST,
        title("Λάθος κωδικός", "Wrong code"),
        detail("Ο κωδικός δεν είναι σωστός.", "The code is not correct.");
    OtpExpired = "otp_expired", BAD_REQUEST,
        title("Ο κωδικός έληξε", "Code expired"),
        detail("Ο κωδικός έληξε. Ζητήστε νέο.", "The code has expired. Request a new one.");
    OtpUsed = "otp_used", BAD_REQUEST,
        title("Ο κωδικός χρησιμοποιήθηκε", "Code already used"),
        detail("Ο κωδικός έχει ήδη χρησιμοποιηθεί. Ζητήστε νέο.", "The code was already used. Request a new one.");
    OtpAttemptsExceeded = "otp_attempts_exceeded", BAD_REQUEST,
        title("Πολλές λάθος προσπάθειες", "Too many wrong tries"),
        detail("Ο κωδικός ακυρώθηκε μετά από 5 λάθος προσπάθειες. Ζητήστε νέο.",
               "The code was cancelled after 5 wrong tries. Request a new one.");
    RateLimited = "rate_limited", TOO_MANY_REQUESTS,
        title("Πάρα πολλά αιτήματα", "Too many requests"),
        detail("Δοκιμάστε ξανά μετά από όσα δευτερόλεπτα λέει η κεφαλίδα Retry-After.",
               "Try again after the number of seconds in the Retry-After header.");
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY,
        title("Το κλειδί χρησιμοποιήθηκε ήδη", "Idempotency key reused"),
        detail("Το Idempotency-Key χρησιμοποιήθηκε ήδη για διαφορετικό αίτημα.",
               "This Idempotency-Key was already used for a different request.");
    SlotFull = "slot_full", CONFLICT,
        title("Η ώρα είναι πλήρης", "Slot full"),
        detail("Δεν υπάρχουν ελεύθερες θέσεις σε αυτή την ώρα. Επιλέξτε άλλη.",
               "This time has no free seats left. Choose another.");
    SlotUnavailable = "slot_unavailable", CONFLICT,
        title("Η ώρα δεν είναι διαθέσιμη", "Slot unavailable"),
        detail("Η ώρα έχει περάσει, είναι εκτός του διαστήματος κρατήσεων ή αποσύρθηκε.",
               "The time has passed, is outside the booking window, or was withdrawn.");
    AlreadyBooked = "already_booked", CONFLICT,
        title("Υπάρχει ήδη ραντεβού", "Already booked"),
        detail("Έχετε ήδη επερχόμενο ραντεβού για αυτή την υπηρεσία.",
               "You already have an upcoming appointment for this service.");
    InvalidTransition = "invalid_transition", CONFLICT,
        title("Μη επιτρεπτή αλλαγή", "Invalid transition"),
        detail("Το ραντεβού δεν βρίσκεται σε κατάσταση που επιτρέπει αυτή την ενέργεια.",
               "The appointment is not in a state that allows this action.");
    AlreadyExists = "already_exists", CONFLICT,
        title("Υπάρχει ήδη", "Already exists"),
        detail("Υπάρχει ήδη εγγραφή με αυτό το όνομα.", "Something with this name already exists.");
    CodeNotFound = "code_not_found", NOT_FOUND,
        title("Ο κωδικάριθμος δεν βρέθηκε", "Code not found"),
        detail("Δεν υπάρχει διαθέσιμος κωδικάριθμος με αυτή την τιμή για εσάς. Ελέγξτε τον και δοκιμάστε ξανά.",
               "No kodikarithmos with this value is available to you. Check it and try again.");
    CodeExpired = "code_expired", GONE,
        title("Ο κωδικάριθμος έληξε", "Code expired"),
        detail("Η προθεσμία σύνδεσης του κωδικάριθμου πέρασε. Ζητήστε από τον φωτογράφο νέα υποβολή.",
               "The time to link this kodikarithmos has passed. Ask the photographer for a new upload.");
    AlreadyLinked = "already_linked", CONFLICT,
        title("Υπάρχουν ήδη συνδεδεμένες φωτογραφίες", "Photos already linked"),
        detail("Ο ΑΦΜ σας έχει ήδη συνδεδεμένο κωδικάριθμο. Αποσυνδέστε τον πρώτα.",
               "Your AFM already has a linked kodikarithmos. Unlink it first.");
    DailyLimitReached = "daily_limit_reached", TOO_MANY_REQUESTS,
        title("Όριο ημέρας", "Daily limit reached"),
        detail("Κάνατε ήδη 5 συνδέσεις ή αποσυνδέσεις σήμερα. Δοκιμάστε ξανά μετά τα μεσάνυχτα (ώρα Ελλάδας).",
               "You already made 5 links or unlinks today. Try again after midnight, Greek time.");
    NotLinked = "not_linked", NOT_FOUND,
        title("Δεν υπάρχουν συνδεδεμένες φωτογραφίες", "Nothing linked"),
        detail("Ο ΑΦΜ σας δεν έχει συνδεδεμένο κωδικάριθμο.",
               "Your AFM has no linked kodikarithmos.");
    SubmissionInUse = "submission_in_use", CONFLICT,
        title("Η υποβολή είναι σε χρήση", "Submission in use"),
        detail("Ένας πολίτης έχει συνδέσει αυτή την υποβολή· μόνο εκείνος μπορεί να την αποσυνδέσει.",
               "A citizen has linked this submission; only they can unlink it.");
    InvalidToken = "invalid_token", UNAUTHORIZED,
        title("Μη έγκυρο διακριτικό πρόσβασης", "Invalid access token"),
        detail("Το διακριτικό πρόσβασης είναι κατεστραμμένο, έληξε, ανακλήθηκε ή δεν εκδόθηκε από αυτή την υπηρεσία. Ζητήστε νέο από το /oauth/token.",
               "The access token is malformed, expired, revoked or not issued by this service. Request a new one from /oauth/token.");
    InsufficientScope = "insufficient_scope", FORBIDDEN,
        title("Ανεπαρκές εύρος πρόσβασης", "Insufficient scope"),
        detail("Το διακριτικό πρόσβασης δεν καλύπτει αυτή την εικόνα.",
               "The access token does not cover this image.");
    ConsentRequired = "consent_required", FORBIDDEN,
        title("Απαιτείται συναίνεση του πολίτη", "Citizen's consent required"),
        detail("Ο πολίτης δεν έχει εξουσιοδοτήσει αυτή την εφαρμογή να λάβει τις φωτογραφίες του.",
               "The citizen has not authorized this application to fetch their photos.");
    NothingLinked = "nothing_linked", CONFLICT,
        title("Δεν υπάρχουν συνδεδεμένες φωτογραφίες", "Nothing linked"),
        detail("Συνδέστε πρώτα τις φωτογραφίες σας με τον κωδικάριθμο· μετά μπορείτε να εξουσιοδοτήσετε εφαρμογές.",
               "Link your photos with the kodikarithmos first; then you can authorize applications.");
    AppDisabled = "app_disabled", CONFLICT,
        title("Η εφαρμογή έχει απενεργοποιηθεί", "Application disabled"),
        detail("Η εφαρμογή απενεργοποιήθηκε οριστικά· δεν παίρνει νέο μυστικό.",
               "The application was disabled for good; it gets no new secret.");
    ImageTooLarge = "image_too_large", PAYLOAD_TOO_LARGE,
        title("Πολύ μεγάλο αρχείο εικόνας", "Image file too large"),
        detail("Το αρχείο της εικόνας υπερβαίνει το επιτρεπτό μέγεθος.",
               "The image file exceeds the size limit.");
    ImageTooSmall = "image_too_small", UNPROCESSABLE_ENTITY,
        title("Πολύ μικρό αρχείο εικόνας", "Image file too small"),
        detail("Το αρχείο της εικόνας έχει λιγότερα byte από όσα χρειάζεται μια ευκρινής εικόνα.",
               "The image file has fewer bytes than a sharp image needs.");
    ImageTypeNotAllowed = "image_type_not_allowed", UNSUPPORTED_MEDIA_TYPE,
        title("Μη αποδεκτός τύπος εικόνας", "Image type not allowed"),
        detail("Η φωτογραφία προσώπου είναι JPEG και η υπογραφή JPEG ή PNG, όπως δηλώνεται.",
               "The face photo must be a JPEG and the signature a JPEG or PNG, declared as such.");
    ImageUnreadable = "image_unreadable", UNPROCESSABLE_ENTITY,
        title("Η εικόνα δεν διαβάζεται", "Image unreadable"),
        detail("Το αρχείο της εικόνας είναι κομμένο ή κατεστραμμένο: δεν αποκωδικοποιείται.",
               "The image file is truncated or corrupt: it does not decode.");
    ImageDimensionsOutOfBounds = "image_dimensions_out_of_bounds", UNPROCESSABLE_ENTITY,
        title("Μη αποδεκτές διαστάσεις εικόνας", "Image dimensions out of bounds"),
        detail("Οι διαστάσεις της εικόνας σε pixel είναι εκτός των επιτρεπτών ορίων.",
               "The image's size in pixels is outside the allowed bounds.");
    ImageOrientationNotApplied = "image_orientation_not_applied", UNPROCESSABLE_ENTITY,
        title("Η εικόνα δεν είναι όρθια", "Image not upright"),
        detail("Η εικόνα στέκεται όρθια μόνο χάρη στην ένδειξη προσανατολισμού EXIF, που δεν διατηρείται.",
               "The image stands upright only through its EXIF orientation tag, which is not kept.");
    InternalError = "internal_error", INTERNAL_SERVER_ERROR,
        title("Εσωτερικό σφάλμα", "Internal error"),
        detail("Παρουσιάστηκε απρόσμενο σφάλμα. Δοκιμάστε ξανά αργότερα.",
               "An unexpected error occurred. Please try again later.");
    ServiceUnavailable = "service_unavailable", SERVICE_UNAVAILABLE,
        title("Η υπηρεσία δεν είναι διαθέσιμη", "Service unavailable"),
        detail("Η υπηρεσία είναι προσωρινά υπερφορτωμένη. Δοκιμάστε ξανά σε λίγο.",
               "The service is temporarily overloaded. Please try again shortly.");
    StorageUnavailable = "storage_unavailable", SERVICE_UNAVAILABLE,
        title("Η αποθήκη φωτογραφιών δεν είναι διαθέσιμη", "Photo storage unavailable"),
        detail("Οι φωτογραφίες δεν μπορούν να αποθηκευτούν ή να διαβαστούν αυτή τη στιγμή. Δοκιμάστε ξανά σε λίγο.",
               "Photos cannot be stored or read right now. Please try again shortly.");
}

impl ErrorCode {
    /// The closest code for an error that did not come from this crate
    /// (actix's own extractors, routing), so nothing leaves as plain text.
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status.as_u16() {
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            422 => ErrorCode::ValidationFailed,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::ServiceUnavailable,
            400..=499 => ErrorCode::BadRequest,
            _ => ErrorCode::InternalError,
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: Cow<'static, str>,
    pub code: Cow<'static, str>,
    pub message: Text,
}

impl FieldError {
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: &'static str,
        message: Text,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            code: Cow::Borrowed(code),
            message,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    detail: Option<Text>,
    errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError {
            code,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: Text) -> ApiError {
        self.detail = Some(detail);
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// With `Retry-After`: whole seconds, rounded up (so that a retry at
    /// that time is never early), at least one.
    pub fn retry_after(self, wait: chrono::Duration) -> ApiError {
        let seconds = (wait.num_milliseconds() + 999).div_euclid(1000).max(1);
        self.with_header(
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from(seconds),
        )
    }

    /// Names the one part of the request an error other than
    /// `validation_failed` is about (which uploaded image), for clients to
    /// point at.
    pub fn with_field_error(mut self, error: FieldError) -> ApiError {
        self.errors.push(error);
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            errors,
            ..ApiError::new(ErrorCode::ValidationFailed)
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(ErrorCode::NotFound)
    }

    /// Logs the cause for operators; callers only ever see the generic text.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(ErrorCode::InternalError)
    }

    pub fn database_unavailable() -> ApiError {
        ApiError::new(ErrorCode::ServiceUnavailable)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    /// The photo store could not be reached or refused the request; its
    /// own message is for the log, never for the caller.
    pub fn storage_unavailable() -> ApiError {
        ApiError::new(ErrorCode::StorageUnavailable)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn problem(&self, lang: Lang) -> Problem {
        let detail = self
            .detail
            .clone()
            .unwrap_or_else(|| self.code.default_detail());
        Problem {
            type_: format!("urn:citizen-api:problem:{}", self.code.as_str()),
            title: self.code.title().get(lang).to_owned(),
            status: self.code.status().as_u16(),
            detail: detail.get(lang).to_owned(),
            code: self.code.as_str().to_owned(),
            errors: self
                .errors
                .iter()
                .map(|e| FieldProblem {
                    field: e.field.to_string(),
                    code: e.code.to_string(),
                    message: e.message.get(lang).to_owned(),
                })
                .collect(),
        }
    }

    /// The error in neither language, for keeping: [`ApiError::from_kept`]
    /// gives it back, to be rendered in whichever language is asked then.
    /// Headers are not kept.
    pub fn to_kept(&self) -> String {
        serde_json::to_string(&KeptError {
            code: Cow::Borrowed(self.code.as_str()),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        })
        .expect("strings and texts serialize")
    }

    /// `None` if `kept` is not what [`ApiError::to_kept`] wrote, or names a
    /// code this build does not know.
    pub fn from_kept(kept: &str) -> Option<ApiError> {
        let KeptError {
            code,
            detail,
            errors,
        } = serde_json::from_str(kept).ok()?;
        let code = *ErrorCode::ALL.iter().find(|c| c.as_str() == code)?;
        Some(ApiError {
            code,
            detail,
            errors,
            headers: Vec::new(),
        })
    }

    pub fn render(&self, lang: Lang) -> HttpResponse {
        let mut response = HttpResponse::build(self.code.status());
        response
            .content_type("application/problem+json")
            .insert_header((header::CONTENT_LANGUAGE, lang.tag()));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.problem(lang))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = self
            .detail
            .clone()
            .unwrap_or_else(|| self.code.default_detail());
        write!(f, "{}: {}", self.code.as_str(), detail.en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    /// Greek, the default; [`render_problems`] re-renders for the caller's
    /// language, which this method cannot see.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::El)
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> ApiError {
        match error {
            DbError::Unavailable(_) => ApiError::database_unavailable(),
            DbError::Blocking(cause) => ApiError::internal(cause),
            DbError::Query(error) => error.into(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> ApiError {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => ApiError::not_found(),
            // The server went away under the request (a restart, a
            // failover): nothing is wrong with the request, try later.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                tracing::warn!(cause = info.message(), "the database closed the connection");
                ApiError::database_unavailable()
            }
            other => ApiError::internal(other),
        }
    }
}

/// What [`ApiError::to_kept`] writes.
#[derive(Serialize, serde::Deserialize)]
struct KeptError {
    code: Cow<'static, str>,
    detail: Option<Text>,
    errors: Vec<FieldError>,
}

/// An RFC 9457 problem document. Each error response of the OpenAPI
/// document shows an example of its own (`problem_docs`); the examples here
/// only say what each field looks like.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:citizen-api:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:citizen-api:problem:not_found")]
    pub type_: String,
    /// Short summary, in the negotiated language.
    #[schema(example = "Δεν βρέθηκε")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong in this request, in the negotiated language.
    #[schema(example = "Ο πόρος που ζητήθηκε δεν υπάρχει.")]
    pub detail: String,
    /// Stable machine-readable code; see the error catalogue.
    #[schema(example = "not_found")]
    pub code: String,
    /// One entry per invalid field, for `validation_failed`; one naming the image, for `image_*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldProblem {
    /// The field, query parameter or path parameter, e.g. `limit`.
    #[schema(example = "limit")]
    pub field: String,
    /// Stable machine-readable reason, e.g. `out_of_range`.
    #[schema(example = "out_of_range")]
    pub code: String,
    #[schema(example = "Το limit πρέπει να είναι ακέραιος από 1 έως 200.")]
    pub message: String,
}

/// An error whose answer another protocol prescribes: the OAuth endpoints
/// answer RFC 6749 §5.2 JSON (`{"error","error_description"}`), which
/// clients' OAuth libraries parse, not problem+json. [`render_problems`]
/// passes it on untouched; its body and headers are the whole answer.
#[derive(Debug, Clone)]
pub struct ProtocolError {
    status: StatusCode,
    body: serde_json::Value,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ProtocolError {
    pub fn new(status: StatusCode, body: serde_json::Value) -> ProtocolError {
        ProtocolError {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ProtocolError {
        self.headers.push((name, value));
        self
    }

    pub fn body(&self) -> &serde_json::Value {
        &self.body
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl ResponseError for ProtocolError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(&self.body)
    }
}

/// Middleware: renders every error response as problem+json in the
/// caller's language, including the errors actix raises itself, except a
/// [`ProtocolError`], whose form is not ours to choose.
pub async fn render_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let lang = Lang::from_headers(req.headers());
    let response = next.call(req).await?;
    let Some(error) = response.response().error() else {
        return Ok(response.map_into_left_body());
    };
    if error.as_error::<ProtocolError>().is_some() {
        return Ok(response.map_into_left_body());
    }
    let mut rendered = match error.as_error::<ApiError>() {
        Some(_) if lang == Lang::El => return Ok(response.map_into_left_body()),
        Some(api_error) => api_error.render(lang),
        None => {
            let status = error.as_response_error().status_code();
            if status.is_server_error() {
                tracing::error!(%error, "unhandled error");
            }
            ApiError::new(ErrorCode::for_status(status)).render(lang)
        }
    };
    // What other layers said on the answer (RateLimit-*, Retry-After,
    // Allow, ...) stays; only the body and its own headers are new.
    for (name, value) in response.headers() {
        if !rendered.headers().contains_key(name) {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(response.into_response(rendered).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
        }
    }

    /// `docs/errors.md` is the integrators' catalogue: it must list them all.
    #[test]
    fn every_code_is_in_the_catalogue() {
        let catalogue = include_str!("../../docs/errors.md");
        for code in ErrorCode::ALL {
            assert!(
                catalogue.contains(&format!("`{}`", code.as_str())),
                "{} missing",
                code.as_str()
            );
        }
    }

    #[test]
    fn a_problem_carries_code_status_and_fields_in_the_language_asked() {
        let error = ApiError::validation(vec![FieldError::new(
            "limit",
            "out_of_range",
            Text::new("εκτός ορίων", "out of range"),
        )]);
        let en = error.problem(Lang::En);
        assert_eq!((en.status, en.code.as_str()), (422, "validation_failed"));
        assert_eq!(en.title, "Validation failed");
        assert_eq!(en.errors[0].message, "out of range");
        assert_eq!(error.problem(Lang::El).errors[0].message, "εκτός ορίων");
    }

    #[test]
    fn a_kept_error_comes_back_whole_for_either_language() {
        let error = ApiError::validation(vec![FieldError::new(
            "slot_id",
            "not_found",
            Text::new("δεν υπάρχει", "no such slot"),
        )])
        .with_detail(Text::new("λεπτομέρεια", "detail"));
        let back = ApiError::from_kept(&error.to_kept()).unwrap();
        for lang in [Lang::El, Lang::En] {
            assert_eq!(
                serde_json::to_value(back.problem(lang)).unwrap(),
                serde_json::to_value(error.problem(lang)).unwrap()
            );
        }
        assert!(
            ApiError::from_kept(r#"{"code":"no_such_code","detail":null,"errors":[]}"#).is_none()
        );
        assert!(ApiError::from_kept("not json").is_none());
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let problem = ApiError::internal("relation \"x\" does not exist").problem(Lang::En);
        assert!(!problem.detail.contains("relation"));
        assert_eq!(problem.status, 500);
    }
}
