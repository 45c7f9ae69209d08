//! Brand and landscape names: what a name must be to be stored.
//!
//! A name is shown in replies, embeds, charts and CSV files, and compared with what people
//! type. So it must show something, must not change how the text around it is displayed, and
//! two names that look the same must be the same name. The rule is here once; every command
//! option that names a brand or landscape (`Kind::Name` in the command specs) and
//! every imported row applies it. Names stored before the rule are left as they are.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::error::NameProblem;

/// The longest brand or landscape name, in characters.
pub const NAME_LEN: usize = 100;

/// A brand or landscape name as it is stored and compared: trimmed, in Unicode NFC (so that
/// "Café" typed with a combining accent is the same name as with a precomposed é), with at
/// least one visible character, and without control characters, line breaks or the
/// direction overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make a name display as
/// something else. Joiners and variation selectors stay: emoji need them.
pub fn check_name(text: &str) -> Result<Cow<'_, str>, NameProblem> {
    let text = text.trim();
    let name = match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    };
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().count() > NAME_LEN {
        return Err(NameProblem::TooLong { max: NAME_LEN });
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(NameProblem::Control);
    }
    if name
        .chars()
        .any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(NameProblem::DirectionOverride);
    }
    if !name.chars().any(visible) {
        return Err(NameProblem::Invisible);
    }
    Ok(name)
}

/// Whether a character shows on its own: a letter, digit, punctuation or symbol, except the
/// blank ones (Hangul fillers, the blank Braille pattern) that are letters and symbols only in
/// name. Spaces, marks, format characters (zero-width space, joiners) and unassigned code
/// points do not.
fn visible(c: char) -> bool {
    let blank = matches!(
        c,
        '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' | '\u{2800}'
    );
    !blank
        && matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter
                | GeneralCategoryGroup::Number
                | GeneralCategoryGroup::Punctuation
                | GeneralCategoryGroup::Symbol
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stored_in_one_form_and_must_show_something() {
        let decomposed = "Cafe\u{301} ☕";
        assert_eq!(check_name(decomposed).unwrap(), "Caf\u{e9} ☕");
        assert_eq!(check_name("  Ballet West ").unwrap(), "Ballet West");
        // Emoji keep their joiners and presentation selectors.
        assert_eq!(check_name("👩‍👩‍👧 Co ☕️").unwrap(), "👩‍👩‍👧 Co ☕️");
        assert_eq!(
            check_name("=HYPERLINK(\"x\")").unwrap(),
            "=HYPERLINK(\"x\")"
        );
        for (name, problem) in [
            ("", NameProblem::Empty),
            ("   ", NameProblem::Empty),
            ("Acme\0", NameProblem::Control),
            ("Acme\nInc", NameProblem::Control),
            ("Ac\tme", NameProblem::Control),
            ("Ac\u{2028}me", NameProblem::Control),
            ("\u{202e}emcA", NameProblem::DirectionOverride),
            ("Acme \u{2067}x\u{2069}", NameProblem::DirectionOverride),
            ("\u{200b}\u{200b}", NameProblem::Invisible),
            ("\u{200d}\u{feff}\u{2060}", NameProblem::Invisible),
            ("\u{3164}", NameProblem::Invisible),
            ("\u{2800}\u{2800}", NameProblem::Invisible),
            ("\u{301}", NameProblem::Invisible),
        ] {
            assert_eq!(check_name(name), Err(problem), "{name:?}");
        }
        assert_eq!(
            check_name(&"x".repeat(101)),
            Err(NameProblem::TooLong { max: 100 })
        );
    }
}
