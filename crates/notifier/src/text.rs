//! What a call notification says, the same on every platform: the summary ("Incoming
//! call — Alex Example"), the body ("2145552001 · on Dana Demo (PC)"), the action keys and
//! labels, and the mapping from an action key back to a [`NotificationAction`]. Caller
//! names and numbers come from the network: control characters are dropped and long
//! values shortened before they reach the desktop.

use deskline_core::calls::{IncomingCallView, NotificationAction};

/// The application name notifications are shown under.
pub const APP_NAME: &str = "Deskline";
/// The freedesktop category of a ringing-call notification.
pub const CATEGORY: &str = "call.incoming";
/// The freedesktop icon name shown with it.
pub const ICON: &str = "call-start";
/// Action key of the Answer button.
pub const ACTION_ANSWER: &str = "answer";
/// Action key of the Decline button.
pub const ACTION_DECLINE: &str = "decline";
/// The buttons, as `(key, label)` pairs in display order.
pub const ACTIONS: [(&str, &str); 2] = [(ACTION_ANSWER, "Answer"), (ACTION_DECLINE, "Decline")];

/// Longest caller name or line label shown, in characters.
const MAX_FIELD: usize = 80;

/// Drops control characters, trims, and shortens to [`MAX_FIELD`] characters (with "…").
pub fn clean(raw: &str) -> String {
    let text: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_FIELD {
        let mut short: String = text.chars().take(MAX_FIELD - 1).collect();
        short.push('…');
        short
    } else {
        text
    }
}

/// "Incoming call — NAME", or the number when no name is known.
pub fn summary(call: &IncomingCallView) -> String {
    let name = call
        .caller_name
        .as_deref()
        .map(clean)
        .filter(|n| !n.is_empty());
    let who = name.unwrap_or_else(|| caller_number(call));
    format!("Incoming call — {who}")
}

/// "NUMBER · on LINE".
pub fn body(call: &IncomingCallView) -> String {
    format!("{} · on {}", caller_number(call), clean(&call.line_label))
}

fn caller_number(call: &IncomingCallView) -> String {
    let number = clean(&call.caller_number);
    if number.is_empty() {
        "Unknown caller".to_owned()
    } else {
        number
    }
}

/// Escapes `&`, `<` and `>` for servers that read the body as markup.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    out
}

/// The action for a button key; `None` for keys Deskline did not offer (including the
/// freedesktop `default` key of a click on the notification's body).
pub fn action_for_key(key: &str) -> Option<NotificationAction> {
    match key {
        ACTION_ANSWER => Some(NotificationAction::Answer),
        ACTION_DECLINE => Some(NotificationAction::Decline),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: Option<&str>, number: &str) -> IncomingCallView {
        IncomingCallView {
            call_id: "c1".into(),
            caller_name: name.map(str::to_owned),
            caller_number: number.into(),
            line_label: "Dana Demo (PC)".into(),
        }
    }

    #[test]
    fn summary_and_body() {
        let v = view(Some("Alex Example"), "2145552001");
        assert_eq!(summary(&v), "Incoming call — Alex Example");
        assert_eq!(body(&v), "2145552001 · on Dana Demo (PC)");
        assert_eq!(
            summary(&view(None, "2145552001")),
            "Incoming call — 2145552001"
        );
        assert_eq!(
            summary(&view(Some("  "), "2145552001")),
            "Incoming call — 2145552001"
        );
        assert_eq!(summary(&view(None, "")), "Incoming call — Unknown caller");
    }

    #[test]
    fn network_text_is_cleaned() {
        let v = view(Some("Evil\r\nName\u{7}"), "21\t45");
        assert_eq!(summary(&v), "Incoming call — Evil Name");
        assert_eq!(body(&v), "21 45 · on Dana Demo (PC)");
        let long = "x".repeat(500);
        let cleaned = clean(&long);
        assert_eq!(cleaned.chars().count(), MAX_FIELD);
        assert!(cleaned.ends_with('…'));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("Smith & <b>Co</b>"),
            "Smith &amp; &lt;b&gt;Co&lt;/b&gt;"
        );
    }

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(action_for_key("answer"), Some(NotificationAction::Answer));
        assert_eq!(action_for_key("decline"), Some(NotificationAction::Decline));
        assert_eq!(action_for_key("default"), None);
        assert_eq!(action_for_key("Decline"), None);
    }
}
