use serde::{Deserialize, Serialize, Serializer};

/// Crockford's base32 alphabet: the digits and the letters without I, L, O
/// and U, so no two symbols look alike and no rude words spell out by
/// chance. A symbol's value is its index.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Random symbols: 15 × 5 = 75 bits from the OS CSPRNG. [`Kodikarithmos::masked`]
/// shows three of them, which leaves 60 bits unknown to anyone who sees
/// only the masked form.
const RANDOM_SYMBOLS: usize = 15;

/// The random symbols and the check symbol.
const SYMBOLS: usize = RANDOM_SYMBOLS + 1;

/// The only characters between symbols that [`Kodikarithmos::parse`]
/// skips: the group dash and the space people type instead.
const SEPARATORS: [char; 2] = ['-', ' '];

/// What [`Kodikarithmos::parse`] accepts, as the schema's `pattern`:
/// sixteen symbols of the alphabet in either case, with O, I and L (folded
/// to 0, 1, 1) but without U, and separators anywhere. A test holds the
/// pattern and the parser to the same strings.
const PATTERN: &str = "^[ -]*(?:[0-9A-TV-Za-tv-z][ -]*){16}$";

/// The code a studio's upload creates (R-PH-05): the citizen types or pastes
/// it, or reads it from its QR code (R-PH-12), to link the photos to their
/// AFM. It is a secret, since whoever holds it can preview and link the
/// photos (R-PH-11): it is meant to be stored only as a hash of
/// [`Kodikarithmos::canonical`], and `Debug` shows only
/// [`Kodikarithmos::masked`].
///
/// Sixteen symbols of Crockford's base32 shown in groups of four
/// (`7KQM-2XPD-9RTV-HC42`): fifteen random ones and a check symbol.
///
/// **Input** is read the way people copy codes: with or without the dashes,
/// with spaces instead, in any case, and with the letters Crockford folds
/// into digits because they look alike (O as 0, I and L as 1).
///
/// **The check symbol** stays within the 32-symbol alphabet, so it fits the
/// fourth group (Crockford's own mod-37 check needs five more symbols,
/// `*~$=U`). It makes the weighted sum of the sixteen symbol values, taken in
/// the field GF(32) (polynomial arithmetic mod x⁵ + x² + 1), equal zero, the
/// value `vᵢ` at position `i` (0 to 15) weighing α¹⁵⁻ⁱ with α = x:
///
/// Σ vᵢ·α¹⁵⁻ⁱ = 0 (addition is XOR)
///
/// Every weight is non-zero and, as the multiplicative group of GF(32) has
/// prime order 31, the powers α⁰ … α³⁰ are all distinct. So:
/// - changing one symbol by a non-zero `e` changes the sum by `e·αᵏ ≠ 0`:
///   every single-symbol error is caught;
/// - swapping two different symbols `a`, `b` at any two positions (adjacent
///   or not) changes it by `(a − b)(αⁱ − αʲ) ≠ 0`: every transposition is
///   caught.
///
/// A Luhn mod 32 check would miss the swap of the symbols worth 0 and 31
/// (as Luhn mod 10 misses 09 ↔ 90), and a weighted sum mod 37 needs 37
/// symbols; the field has neither gap.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Kodikarithmos(String);

/// Why a text is not a kodikarithmos. Like [`super::DomainError`], it
/// carries no copy of the input, which may be a secret; `Display` gives
/// the English message, [`KodikarithmosError::message_el`] the Greek one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KodikarithmosError {
    /// Not sixteen symbols of the alphabet: a character outside it, or too
    /// few or too many.
    #[error(
        "A kodikarithmos is 16 letters and digits without the letter U, as in \
         7KQM-2XPD-9RTV-HC42; only dashes and spaces may separate them."
    )]
    Malformed,
    /// Sixteen symbols whose check symbol does not match: a typo.
    #[error("This kodikarithmos has a typo: check each character against the one you received.")]
    CheckMismatch,
}

impl KodikarithmosError {
    /// Stable, machine-readable code, like [`super::DomainError::code`].
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "invalid_kodikarithmos",
            Self::CheckMismatch => "kodikarithmos_typo",
        }
    }

    /// The message in Greek, for display to citizens.
    pub const fn message_el(&self) -> &'static str {
        match self {
            Self::Malformed => {
                "Ο κωδικάριθμος έχει 16 γράμματα και ψηφία χωρίς το γράμμα U, όπως \
                 7KQM-2XPD-9RTV-HC42· ανάμεσά τους επιτρέπονται μόνο παύλες και κενά."
            }
            Self::CheckMismatch => {
                "Ο κωδικάριθμος έχει τυπογραφικό λάθος: ελέγξτε κάθε χαρακτήρα με αυτόν \
                 που λάβατε."
            }
        }
    }
}

impl Kodikarithmos {
    /// A new code from the operating system's CSPRNG.
    pub fn generate() -> Kodikarithmos {
        let mut bytes = [0u8; RANDOM_SYMBOLS];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        // 256 is a multiple of 32, so the low five bits of a uniform byte
        // are a uniform symbol.
        Kodikarithmos::from_values(bytes.map(|b| b & 31))
    }

    /// The code of these random symbol values (each below 32), with its check
    /// symbol appended.
    fn from_values(values: [u8; RANDOM_SYMBOLS]) -> Kodikarithmos {
        let check = times_alpha(weighted_sum(&values));
        let canonical = values
            .iter()
            .chain([&check])
            .map(|&v| char::from(ALPHABET[usize::from(v)]))
            .collect();
        Kodikarithmos(canonical)
    }

    /// Reads a code as typed, pasted or scanned (see the type's doc).
    ///
    /// # Errors
    ///
    /// [`KodikarithmosError::Malformed`] unless the input is sixteen symbols
    /// with separators; [`KodikarithmosError::CheckMismatch`] if they are, but
    /// the check symbol does not match.
    pub fn parse(input: &str) -> Result<Kodikarithmos, KodikarithmosError> {
        let mut values = Vec::with_capacity(SYMBOLS);
        for c in input.chars().filter(|c| !SEPARATORS.contains(c)) {
            if values.len() == SYMBOLS {
                return Err(KodikarithmosError::Malformed);
            }
            values.push(symbol_value(c).ok_or(KodikarithmosError::Malformed)?);
        }
        let values: [u8; SYMBOLS] = values
            .try_into()
            .map_err(|_| KodikarithmosError::Malformed)?;
        if weighted_sum(&values) != 0 {
            return Err(KodikarithmosError::CheckMismatch);
        }
        let mut random = [0u8; RANDOM_SYMBOLS];
        random.copy_from_slice(&values[..RANDOM_SYMBOLS]);
        Ok(Kodikarithmos::from_values(random))
    }

    /// The sixteen symbols without separators, upper case: the form that is
    /// hashed and compared.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// The last group of four, the part [`Kodikarithmos::masked`] shows.
    pub fn last_group(&self) -> &str {
        &self.0[SYMBOLS - 4..]
    }

    /// The code with all but its last group hidden, `••••-••••-••••-HC42`:
    /// enough for a citizen to tell their codes apart on screen or in a
    /// message, while 60 random bits stay hidden.
    pub fn masked(&self) -> String {
        format!("••••-••••-••••-{}", self.last_group())
    }
}

/// The value of a typed character, folding case and look-alikes.
fn symbol_value(c: char) -> Option<u8> {
    let folded = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    let position = ALPHABET.iter().position(|&s| char::from(s) == folded)?;
    u8::try_from(position).ok()
}

/// Σ vᵢ·αⁿ⁻¹⁻ⁱ in GF(32), by Horner's rule: zero for a whole code.
fn weighted_sum(values: &[u8]) -> u8 {
    values.iter().fold(0, |sum, &v| times_alpha(sum) ^ v)
}

/// Multiplication by α = x in GF(32) = GF(2)[x] / (x⁵ + x² + 1).
fn times_alpha(value: u8) -> u8 {
    let shifted = value << 1;
    if shifted & 0b10_0000 != 0 {
        shifted ^ 0b10_0101
    } else {
        shifted
    }
}

/// Grouped in fours with dashes, as printed, sent and put in the QR code.
impl std::fmt::Display for Kodikarithmos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let groups: Vec<&str> = (0..SYMBOLS)
            .step_by(4)
            .map(|start| &self.0[start..start + 4])
            .collect();
        f.write_str(&groups.join("-"))
    }
}

/// Masked: the code is a secret, and `Debug` output ends up in logs.
impl std::fmt::Debug for Kodikarithmos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Kodikarithmos")
            .field(&self.masked())
            .finish()
    }
}

/// Serialized grouped, the form the citizen receives.
impl Serialize for Kodikarithmos {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl TryFrom<String> for Kodikarithmos {
    type Error = KodikarithmosError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Kodikarithmos::parse(&value)
    }
}

impl utoipa::PartialSchema for Kodikarithmos {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some(
                "Kodikarithmos: 16 symbols of Crockford's base32, the last a check symbol, \
                 written in groups of four. Accepted in any case, with or without dashes \
                 or spaces, with O read as 0 and I or L as 1; answered grouped, upper case.",
            ))
            .pattern(Some(PATTERN))
            .examples(["7KQM-2XPD-9RTV-HC42"])
            .into()
    }
}

impl utoipa::ToSchema for Kodikarithmos {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use super::*;

    const EXAMPLE: &str = "7KQM-2XPD-9RTV-HC42";

    fn any_code() -> impl Strategy<Value = Kodikarithmos> {
        prop::array::uniform15(0u8..32).prop_map(Kodikarithmos::from_values)
    }

    fn values(code: &Kodikarithmos) -> [u8; SYMBOLS] {
        let mut values = [0u8; SYMBOLS];
        for (value, c) in values.iter_mut().zip(code.canonical().chars()) {
            *value = symbol_value(c).unwrap();
        }
        values
    }

    fn text(values: &[u8]) -> String {
        values
            .iter()
            .map(|&v| char::from(ALPHABET[usize::from(v)]))
            .collect()
    }

    /// Independent oracle for the field product: carry-less multiplication,
    /// then reduction by x⁵ + x² + 1.
    fn gf32_mul(a: u8, b: u8) -> u8 {
        let mut product: u16 = 0;
        for bit in 0..5 {
            if b >> bit & 1 == 1 {
                product ^= u16::from(a) << bit;
            }
        }
        for bit in (5..10).rev() {
            if product >> bit & 1 == 1 {
                product ^= 0b10_0101 << (bit - 5);
            }
        }
        product as u8
    }

    #[test]
    fn the_example_parses_and_prints_as_given() {
        let code = Kodikarithmos::parse(EXAMPLE).unwrap();
        assert_eq!(code.to_string(), EXAMPLE);
        assert_eq!(code.canonical(), "7KQM2XPD9RTVHC42");
        assert_eq!(code.last_group(), "HC42");
        assert_eq!(code.masked(), "••••-••••-••••-HC42");
    }

    #[test]
    fn input_is_read_without_dashes_with_spaces_in_any_case_and_with_look_alikes() {
        let code = Kodikarithmos::parse(EXAMPLE).unwrap();
        for input in [
            "7KQM2XPD9RTVHC42",
            "7kqm-2xpd-9rtv-hc42",
            "7KQM 2XPD 9RTV HC42",
            " 7KQM - 2XPD-9RTV-HC42 ",
            "-7-K-Q-M-2-X-P-D-9-R-T-V-H-C-4-2-",
        ] {
            assert_eq!(Kodikarithmos::parse(input), Ok(code.clone()), "{input:?}");
        }
        let with_ones_and_zeros =
            Kodikarithmos::from_values([0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let typed = format!("OiOl{}", &with_ones_and_zeros.canonical()[4..]).to_lowercase();
        assert_eq!(Kodikarithmos::parse(&typed), Ok(with_ones_and_zeros));
    }

    #[test]
    fn wrong_lengths_and_characters_are_malformed() {
        for input in [
            "",
            "7KQM-2XPD-9RTV-HC4",
            "7KQM-2XPD-9RTV-HC422",
            "7KQM-2XPD-9RTV-HC4U",
            "7KQM_2XPD_9RTV_HC42",
            "7KQM-2XPD-9RTV-HC42\n",
            "7KQM–2XPD–9RTV–HC42",  // en dashes
            "７KQM-2XPD-9RTV-HC42", // full-width digit
        ] {
            assert_eq!(
                Kodikarithmos::parse(input),
                Err(KodikarithmosError::Malformed),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_wrong_check_symbol_is_a_mismatch() {
        assert_eq!(
            Kodikarithmos::parse("7KQM-2XPD-9RTV-HC43"),
            Err(KodikarithmosError::CheckMismatch)
        );
    }

    /// The check is linear over XOR, so whether an error is caught depends
    /// on the error alone, not on the code it hits: these loops cover every
    /// single-symbol error and every transposition of every code.
    #[test]
    fn every_single_symbol_error_pattern_changes_the_sum() {
        for position in 0..SYMBOLS {
            for error in 1..32 {
                let mut pattern = [0u8; SYMBOLS];
                pattern[position] = error;
                assert_ne!(weighted_sum(&pattern), 0, "{position} {error}");
            }
        }
    }

    /// Swapping different symbols `a` and `b` at positions `i` and `j` adds
    /// `a ^ b` at both.
    #[test]
    fn every_transposition_pattern_changes_the_sum() {
        for i in 0..SYMBOLS {
            for j in i + 1..SYMBOLS {
                for difference in 1..32 {
                    let mut pattern = [0u8; SYMBOLS];
                    pattern[i] = difference;
                    pattern[j] = difference;
                    assert_ne!(weighted_sum(&pattern), 0, "{i} {j} {difference}");
                }
            }
        }
    }

    #[test]
    fn alpha_generates_all_31_non_zero_elements() {
        let powers: std::collections::BTreeSet<u8> =
            std::iter::successors(Some(1u8), |&p| Some(times_alpha(p)))
                .take(31)
                .collect();
        assert_eq!(powers, (1..32).collect());
        assert_eq!((0..31).fold(1, |p, _| times_alpha(p)), 1);
    }

    #[test]
    fn debug_shows_only_the_masked_form() {
        let code = Kodikarithmos::parse(EXAMPLE).unwrap();
        let debug = format!("{code:?}");
        assert_eq!(debug, "Kodikarithmos(\"••••-••••-••••-HC42\")");
        assert!(!debug.contains("7KQM"));
    }

    #[test]
    fn serde_goes_through_parse_and_answers_grouped() {
        let de = |s: &str| Kodikarithmos::deserialize(s.into_deserializer());
        let code: Result<Kodikarithmos, DeError> = de("7kqm2xpd9rtvhc42");
        let code = code.unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            format!("\"{EXAMPLE}\"")
        );
        let typo: Result<Kodikarithmos, DeError> = de("7KQM-2XPD-9RTV-HC43");
        assert_eq!(
            typo.unwrap_err().to_string(),
            KodikarithmosError::CheckMismatch.to_string()
        );
    }

    #[test]
    fn errors_have_stable_codes_and_greek_messages() {
        let errors = [
            KodikarithmosError::Malformed,
            KodikarithmosError::CheckMismatch,
        ];
        let codes: Vec<_> = errors.iter().map(KodikarithmosError::code).collect();
        assert_eq!(codes, ["invalid_kodikarithmos", "kodikarithmos_typo"]);
        for error in errors {
            assert!(error.message_el().contains("κωδικάριθμος"), "{error:?}");
        }
    }

    #[test]
    fn the_schema_is_a_string_whose_example_parses() {
        use utoipa::PartialSchema;
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{Schema, SchemaType, Type};
        let RefOr::T(Schema::Object(schema)) = Kodikarithmos::schema() else {
            panic!("an inline object schema");
        };
        assert!(matches!(schema.schema_type, SchemaType::Type(Type::String)));
        assert_eq!(schema.pattern.as_deref(), Some(PATTERN));
        let example = schema.examples[0].as_str().unwrap();
        assert_eq!(Kodikarithmos::parse(example).unwrap().to_string(), example);
    }

    #[test]
    fn generated_codes_parse_back_and_differ() {
        let a = Kodikarithmos::generate();
        let b = Kodikarithmos::generate();
        assert_eq!(Kodikarithmos::parse(&a.to_string()), Ok(a.clone()));
        assert_eq!(Kodikarithmos::parse(b.canonical()), Ok(b.clone()));
        // Two equal draws of 75 bits would mean the source is broken.
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn the_weighted_sum_is_what_the_doc_says(values in prop::array::uniform16(0u8..32)) {
            let alpha_power = |n: usize| (0..n).fold(1, |p, _| times_alpha(p));
            let by_definition = values
                .iter()
                .enumerate()
                .fold(0, |sum, (i, &v)| sum ^ gf32_mul(v, alpha_power(SYMBOLS - 1 - i)));
            prop_assert_eq!(weighted_sum(&values), by_definition);
        }

        #[test]
        fn codes_round_trip_through_display_and_canonical(code in any_code()) {
            prop_assert_eq!(Kodikarithmos::parse(&code.to_string()), Ok(code.clone()));
            prop_assert_eq!(Kodikarithmos::parse(code.canonical()), Ok(code.clone()));
            prop_assert_eq!(
                Kodikarithmos::parse(&code.to_string().to_lowercase()),
                Ok(code.clone())
            );
        }

        /// Through the parser, on random codes: each of the 16 × 31 single
        /// substitutions and each swap of two different symbols.
        #[test]
        fn every_typo_of_a_code_is_a_mismatch(code in any_code()) {
            let original = values(&code);
            for position in 0..SYMBOLS {
                for value in (0..32).filter(|&v| v != original[position]) {
                    let mut typo = original;
                    typo[position] = value;
                    prop_assert_eq!(
                        Kodikarithmos::parse(&text(&typo)),
                        Err(KodikarithmosError::CheckMismatch)
                    );
                }
            }
            for i in 0..SYMBOLS {
                for j in (i + 1..SYMBOLS).filter(|&j| original[i] != original[j]) {
                    let mut typo = original;
                    typo.swap(i, j);
                    prop_assert_eq!(
                        Kodikarithmos::parse(&text(&typo)),
                        Err(KodikarithmosError::CheckMismatch)
                    );
                }
            }
        }

        /// Every input the documented pattern allows has the code's shape.
        #[test]
        fn inputs_the_pattern_allows_are_never_malformed(
            input in proptest::string::string_regex(&PATTERN[1..PATTERN.len() - 1]).unwrap()
        ) {
            prop_assert_ne!(Kodikarithmos::parse(&input), Err(KodikarithmosError::Malformed));
        }

        /// The documented pattern matches exactly the inputs that are not
        /// malformed: a client that follows the document is never refused
        /// for the shape, and one refused for it was warned.
        #[test]
        fn the_pattern_matches_exactly_what_is_not_malformed(
            input in "[ -]{0,2}([0-9A-Za-z_.][ -]{0,2}){14,18}"
        ) {
            let pattern = regex::Regex::new(PATTERN).unwrap();
            prop_assert_eq!(
                pattern.is_match(&input),
                Kodikarithmos::parse(&input) != Err(KodikarithmosError::Malformed),
                "{:?}", input
            );
        }
    }
}
