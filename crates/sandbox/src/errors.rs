//! Errors as an XSP answers them: a status code and an `ErrorInfo` body.
//!
//! Error codes used (BroadWorks-style integers; `8251` is BroadWorks' own for a duplicate
//! Anywhere location):
//! | code | meaning |
//! |---|---|
//! | 4000 | the request body is not a valid document (schema) |
//! | 4001 | a value is not valid (number format, range, length) |
//! | 4002 | number of rings not allowed |
//! | 4003 | a country code is not valid |
//! | 4004 | activating needs a number |
//! | 4005 | too many locations / duplicate location |
//! | 4006 | speed code out of range |
//! | 4100 | authentication required / failed |
//! | 4101 | account locked |
//! | 4102 | not allowed to access another user |
//! | 4200 | resource not found |
//! | 4201 | service not assigned |
//! | 4300 | duplicate entry |
//! | 5030 | service temporarily unavailable |
//! | 8251 | a BroadWorks Anywhere location with that number already exists |

use crate::xml::Doc;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {text}")]
pub struct XsiError {
    /// HTTP status.
    pub status: u16,
    /// `errorCode`.
    pub code: u32,
    /// `summaryEnglish`.
    pub text: String,
}

impl XsiError {
    /// A new error.
    pub fn new(status: u16, code: u32, text: impl Into<String>) -> Self {
        Self {
            status,
            code,
            text: text.into(),
        }
    }

    /// 400: the body does not follow the schema.
    pub fn schema(text: impl Into<String>) -> Self {
        Self::new(400, 4000, text)
    }

    /// 400: a value is not valid.
    pub fn invalid(code: u32, text: impl Into<String>) -> Self {
        Self::new(400, code, text)
    }

    /// 404.
    pub fn not_found(text: impl Into<String>) -> Self {
        Self::new(404, 4200, text)
    }

    /// The `ErrorInfo` document.
    pub fn body(&self) -> String {
        let mut doc = Doc::new("ErrorInfo");
        doc.text("summary", &self.text)
            .text("summaryEnglish", &self.text)
            .text("errorCode", self.code.to_string());
        doc.finish("ErrorInfo")
    }
}
