//! Validation as BroadWorks does it, answered with `ErrorInfo`: phone numbers (digits,
//! `+CC` with a known country code and an optional dash, extensions), SIP/tel URIs, ring
//! counts, speed codes, text lengths.

use crate::errors::XsiError;

/// Calling codes accepted after `+` (a representative table of ITU-T E.164 codes).
const COUNTRY_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "212",
    "213", "216", "218", "220", "234", "254", "255", "256", "351", "352", "353", "354", "355",
    "356", "357", "358", "359", "370", "371", "372", "380", "381", "385", "386", "420", "421",
    "852", "853", "880", "886", "960", "961", "962", "963", "964", "965", "966", "971", "972",
    "973", "974",
];

/// A phone number, extension or URI as `Address`/`DN` accept it.
pub fn address(field: &str, value: &str) -> Result<(), XsiError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 161 {
        return Err(XsiError::invalid(
            4001,
            format!("{field}: an address has 1 to 161 characters"),
        ));
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let rest = v.split_once(':').map(|(_, r)| r).unwrap_or("");
        return match rest.split_once('@') {
            Some((user, host))
                if !user.is_empty() && !host.is_empty() && !v.contains(char::is_whitespace) =>
            {
                Ok(())
            }
            _ => Err(XsiError::invalid(
                4001,
                format!("{field}: '{v}' is not a valid SIP URI"),
            )),
        };
    }
    let number = lower.strip_prefix("tel:").unwrap_or(v);
    phone(field, number)
}

/// A dialable number: digits (2–23), or `+CC[-]digits` with a known country code.
pub fn phone(field: &str, value: &str) -> Result<(), XsiError> {
    let v = value.trim();
    if let Some(rest) = v.strip_prefix('+') {
        let (cc, national) = match rest.split_once('-') {
            Some((cc, n)) => (cc.to_owned(), n.to_owned()),
            None => {
                let cc = (1..=3)
                    .rev()
                    .filter(|n| *n <= rest.len())
                    .map(|n| &rest[..n])
                    .find(|c| COUNTRY_CODES.contains(c))
                    .unwrap_or("");
                (cc.to_owned(), rest[cc.len()..].to_owned())
            }
        };
        if !COUNTRY_CODES.contains(&cc.as_str()) {
            return Err(XsiError::invalid(
                4003,
                format!("{field}: '+{cc}' is not a valid country code"),
            ));
        }
        return digits(field, &national, v);
    }
    digits(field, v, v)
}

fn digits(field: &str, digits: &str, whole: &str) -> Result<(), XsiError> {
    if digits.len() < 2
        || whole.len() > 23
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err(XsiError::invalid(
            4001,
            format!("{field}: '{whole}' is not a valid phone number"),
        ));
    }
    Ok(())
}

/// Rings: 0 or 2–20.
pub fn rings(field: &str, value: i64) -> Result<u32, XsiError> {
    match value {
        0 | 2..=20 => Ok(value as u32),
        _ => Err(XsiError::invalid(
            4002,
            format!("{field}: {value} is not allowed; use 0 or 2 to 20"),
        )),
    }
}

/// A bounded text.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), XsiError> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(XsiError::invalid(
            4001,
            format!("{field}: must have 1 to {max} characters"),
        ));
    }
    Ok(())
}

/// A speed code in `range`.
pub fn speed_code(value: &str, range: std::ops::RangeInclusive<u8>) -> Result<u8, XsiError> {
    value
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|c| range.contains(c))
        .ok_or_else(|| {
            XsiError::invalid(
                4006,
                format!(
                    "speed code '{value}' must be {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for ok in [
            "2145551234",
            "+1-2145551234",
            "+12145551234",
            "+442071234567",
            "1001",
            "sip:a@b",
            "tel:+12145550000",
            "*72",
        ] {
            assert!(address("x", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1",
            "abc",
            "+999-1234567",
            "+0-123",
            "sip:@x",
            "12a4",
            "123456789012345678901234",
        ] {
            assert!(address("x", bad).is_err(), "{bad}");
        }
        assert_eq!(address("x", "+999-1").map_err(|e| e.code), Err(4003));
    }

    #[test]
    fn rings_and_codes() {
        assert!(rings("r", 1).is_err());
        assert_eq!(rings("r", 20), Ok(20));
        assert_eq!(speed_code("9", 2..=9), Ok(9));
        assert!(speed_code("1", 2..=9).is_err());
        assert!(speed_code("100", 0..=99).is_err());
    }
}
