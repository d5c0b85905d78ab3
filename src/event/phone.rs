//! Phone numbers in E.164: the form a CRM matches a lead on across providers.
//!
//! Providers write the same number in different ways: WhatsApp's `wa_id` and CloudTalk's
//! and WaVoIP's numbers are the digits without `+` (`5511987654321`), Twilio writes
//! `+5511987654321`, or `whatsapp:+5511987654321` for WhatsApp, and Meta's
//! `display_phone_number` may be spaced (`+1 555-078-3881`). [`e164`] turns each into
//! `+` and 8 to 15 digits, and anything that is no phone number into `None`.
//!
//! # Rules
//!
//! | step | rule | example | gives |
//! |---|---|---|---|
//! | 1 | surrounding whitespace is trimmed | `" +5511987654321 "` | `+5511987654321` |
//! | 2 | a `whatsapp:` prefix, then a `tel:` prefix, is dropped (any case); a `tel:` URI's parameters (`;ext=...`) too | `whatsapp:+5511987654321`, `tel:+1-415-555-0100;ext=2` | `+5511987654321`, `+14155550100` |
//! | 3 | spaces (any whitespace), dashes, dots and parentheses are removed | `+1 (415) 555-0100` | `+14155550100` |
//! | 4 | a leading `00` (the international call prefix) becomes `+` | `0034 612 345 678` | `+34612345678` |
//! | 5 | digits without `+` are taken as international: country code and number | `5511987654321` | `+5511987654321` |
//! | 6 | the result has 8 to 15 digits, the first not `0` (no country code starts with `0`) | `+1555`, `0612345678` | `None` |
//! | 7 | any other character is no phone number: letters, a `+` not at the start, `@`, `:` | `sip:+14155550100@pbx.example.com`, `client:alice`, `anonymous`, `1-800-FLOWERS` | `None` |
//! | 8 | Twilio's placeholders for a withheld caller are no number | `+266696687`, `+7378742833`, `+86282452253`, `+2562533`, `+8656696` | `None` |
//!
//! Step 5 means a national number written without its country code and without a leading
//! `0` (`4155550100`) reads as an international one (`+4155550100`): every provider that
//! sends bare digits sends them with the country code, and guessing a country would
//! need a numbering plan per country (the `phonenumber` crate carries Google's
//! libphonenumber metadata for that; callhook does not need it).
//!
//! SIP URIs (`sip:` and `sips:`) are not read even when their user part is a number:
//! they name a SIP endpoint (a PBX extension, a trunk), not a line a CRM can call back.
//! Twilio Client identities (`client:alice`) likewise.
//!
//! ## Withheld caller ids
//!
//! A withheld caller id reaches the webhook as a word (`anonymous`, `restricted`,
//! `unknown`, `unavailable`, `private`, `blocked`: letters, so no number by step 7) or,
//! on Twilio until 2023, as that word typed on a phone keypad. Twilio's changelog
//! documents both: its entry of 16 November 2022, [Upcoming changes to withheld caller
//! ID behavior for `<Dial>` calls](https://www.twilio.com/en-us/changelog/upcoming-changes-to-withheld-caller-ids-behavior-for-dial-calls),
//! says Programmable Voice translated withheld caller ids (ANONYMOUS, RESTRICTED, ...)
//! into digits and would keep the word instead; its entry of 17 May 2023, "Changes to
//! withheld caller ID behavior" (<https://www.twilio.com/en-us/changelog>), says
//! withheld callers now show as `anonymous` in `From` on inbound calls too. Stored
//! events, replays and older integrations still carry the digit forms, which look like
//! real numbers:
//!
//! | `From` | keypad word |
//! |---|---|
//! | `+266696687` | ANONYMOUS |
//! | `+7378742833` | RESTRICTED |
//! | `+86282452253` | UNAVAILABLE |
//! | `+2562533` | BLOCKED |
//! | `+8656696` | UNKNOWN |
//!
//! Twilio's changelog does not list the digits: they are the words spelled on a keypad
//! (2 ABC, 3 DEF, ..., 9 WXYZ), as integrations that met them record. `+7378742833`
//! and `+86282452253` are well-formed numbers in Russia and China; a real line with
//! those digits would be read as withheld too.
//!
//! # Examples
//!
//! ```
//! use callhook::event::phone::e164;
//!
//! assert_eq!(e164("5511987654321").as_deref(), Some("+5511987654321")); // WhatsApp wa_id
//! assert_eq!(e164("whatsapp:+5511987654321").as_deref(), Some("+5511987654321")); // Twilio
//! assert_eq!(e164("+1 555-078-3881").as_deref(), Some("+15550783881")); // display number
//! assert_eq!(e164("tel:+34-612-345-678").as_deref(), Some("+34612345678"));
//! assert_eq!(e164("0044 (20) 7946.0958").as_deref(), Some("+442079460958"));
//! assert_eq!(e164("sip:alice@example.sip.twilio.com"), None);
//! assert_eq!(e164("client:agent_7"), None);
//! assert_eq!(e164("anonymous"), None);
//! assert_eq!(e164("+266696687"), None); // Twilio's withheld caller (ANONYMOUS)
//! assert_eq!(e164("+1555"), None); // too short
//! ```

/// The fewest digits of a number in E.164 that callhook accepts.
pub const MIN_DIGITS: usize = 8;

/// The most digits a number in E.164 has (ITU-T E.164).
pub const MAX_DIGITS: usize = 15;

/// What Twilio wrote in `From` for a withheld caller id before May 2023: ANONYMOUS,
/// RESTRICTED, UNAVAILABLE, BLOCKED and UNKNOWN typed on a keypad (see the module docs).
pub const TWILIO_WITHHELD: [&str; 5] = ["+266696687", "+7378742833", "+86282452253", "+2562533", "+8656696"];

/// The number in E.164 (`+` and 8 to 15 digits), or `None` for anything that is no phone
/// number (a SIP URI, a client name, a withheld caller, letters, too few or too many
/// digits). The rules are in the [module docs](self).
///
/// ```
/// use callhook::event::phone::e164;
/// assert_eq!(e164("34612345678").as_deref(), Some("+34612345678"));
/// assert_eq!(e164("restricted"), None);
/// ```
pub fn e164(raw: &str) -> Option<String> {
    let mut rest = raw.trim();
    if let Some(number) = strip_prefix_ignore_case(rest, "whatsapp:") {
        rest = number.trim_start();
    }
    if let Some(number) = strip_prefix_ignore_case(rest, "tel:") {
        // A tel URI's parameters (`;ext=2`, `;phone-context=...`) are not the number.
        rest = number.split(';').next().unwrap_or_default().trim();
    }
    let (plus, body) = match rest.strip_prefix('+') {
        Some(body) => (true, body),
        None => (false, rest),
    };
    // At most `00` and 15 digits are kept: a longer string is refused without
    // allocating for it.
    let mut digits = String::with_capacity(MAX_DIGITS + 3);
    digits.push('+');
    for c in body.chars() {
        if c.is_ascii_digit() {
            if digits.len() > MAX_DIGITS + 2 {
                return None;
            }
            digits.push(c);
        } else if !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')) {
            return None;
        }
    }
    if !plus && digits.starts_with("+00") {
        digits.replace_range(1..3, "");
    }
    let count = digits.len() - 1;
    let valid = (MIN_DIGITS..=MAX_DIGITS).contains(&count) && !digits.starts_with("+0");
    (valid && !TWILIO_WITHHELD.contains(&digits.as_str())).then_some(digits)
}

/// `value` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &value[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, Option<&str>)]) {
        for (raw, expected) in cases {
            assert_eq!(e164(raw).as_deref(), *expected, "{raw:?}");
        }
    }

    #[test]
    fn e164_numbers_are_kept() {
        check(&[("+5511987654321", Some("+5511987654321")), ("+14155550100", Some("+14155550100"))]);
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        check(&[(" +5511987654321\n", Some("+5511987654321")), ("\t5511987654321 ", Some("+5511987654321"))]);
    }

    #[test]
    fn whatsapp_and_tel_prefixes_are_dropped_in_any_case() {
        check(&[
            ("whatsapp:+5511987654321", Some("+5511987654321")),
            ("WhatsApp:+5511987654321", Some("+5511987654321")),
            ("whatsapp: 5511987654321", Some("+5511987654321")),
            ("tel:+14155550100", Some("+14155550100")),
            ("TEL:+1-415-555-0100", Some("+14155550100")),
            ("tel:+14155550100;ext=2", Some("+14155550100")),
            ("tel:+14155550100;phone-context=example.com", Some("+14155550100")),
            ("whatsapp:tel:+14155550100", Some("+14155550100")),
            ("tel:;ext=2", None),
            ("whatsapp:", None),
            ("whatsapp", None),
        ]);
    }

    #[test]
    fn separators_are_removed() {
        check(&[
            ("+1 (415) 555-0100", Some("+14155550100")),
            ("+1.415.555.0100", Some("+14155550100")),
            ("+55 11 98765-4321", Some("+5511987654321")),
            ("+1\u{a0}415\u{a0}555\u{a0}0100", Some("+14155550100")),
            ("+ 1 415 555 0100", Some("+14155550100")),
        ]);
    }

    #[test]
    fn a_leading_00_is_the_plus() {
        check(&[
            ("0034612345678", Some("+34612345678")),
            ("00 34 612 345 678", Some("+34612345678")),
            ("000034612345678", None),
            ("+0034612345678", None),
        ]);
    }

    #[test]
    fn digits_without_plus_are_international() {
        check(&[
            ("5511987654321", Some("+5511987654321")),
            ("34612345678", Some("+34612345678")),
            ("447700900000", Some("+447700900000")),
        ]);
    }

    #[test]
    fn no_country_code_starts_with_0() {
        check(&[("0612345678", None), ("+0612345678", None), ("0 612 345 678", None)]);
    }

    #[test]
    fn eight_to_fifteen_digits() {
        check(&[
            ("+1234567", None),
            ("+12345678", Some("+12345678")),
            ("+123456789012345", Some("+123456789012345")),
            ("+1234567890123456", None),
            ("00123456789012345", Some("+123456789012345")),
            ("001234567890123456", None),
            ("", None),
            ("+", None),
            ("()- .", None),
        ]);
        let long = "1".repeat(10_000);
        assert_eq!(e164(&long), None);
    }

    #[test]
    fn sip_uris_and_client_names_are_no_number() {
        check(&[
            ("sip:+14155550100@pbx.example.com", None),
            ("sips:alice@example.sip.twilio.com", None),
            ("sip:1001@10.0.0.1:5060", None),
            ("client:alice", None),
            ("client:+14155550100", None),
            ("wss://ws.example.com/socket", None),
        ]);
    }

    #[test]
    fn withheld_callers_are_no_number() {
        check(&[
            ("anonymous", None),
            ("Anonymous", None),
            ("unknown", None),
            ("restricted", None),
            ("RESTRICTED", None),
            ("private", None),
            ("unavailable", None),
        ]);
        for placeholder in TWILIO_WITHHELD {
            assert_eq!(e164(placeholder), None, "{placeholder}");
            assert_eq!(e164(&placeholder[1..]), None, "{placeholder} without +");
        }
        assert_eq!(e164("+266696688").as_deref(), Some("+266696688"), "only the placeholders themselves");
    }

    #[test]
    fn letters_and_other_characters_are_no_number() {
        check(&[
            ("1-800-FLOWERS", None),
            ("+1415555010O", None),
            ("+1415+5550100", None),
            ("5511987654321@s.whatsapp.net", None),
            ("+١٤١٥٥٥٥٠١٠٠", None),
            ("+14155550100#", None),
            ("+14155550100/", None),
        ]);
    }
}
