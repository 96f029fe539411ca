//! What the tray shows, computed from the account and the line summary: the icon, the
//! status, the tooltip and the menu. Pure functions, so what the user sees is tested
//! without a bus.

use crate::icons::IconKind;
use deskline_api::resident::{LineSummary, Registration};

/// Menu item ids (dbusmenu ids; 0 is the root).
pub mod ids {
    /// Open Deskline.
    pub const OPEN: i32 = 1;
    /// Separator after Open.
    pub const SEPARATOR_TOP: i32 = 2;
    /// The account (disabled).
    pub const ACCOUNT: i32 = 3;
    /// The line state (disabled).
    pub const LINE: i32 = 4;
    /// The missed calls (disabled).
    pub const MISSED: i32 = 5;
    /// Separator before the actions.
    pub const SEPARATOR_BOTTOM: i32 = 6;
    /// Sync now.
    pub const SYNC: i32 = 7;
    /// Quit Deskline.
    pub const QUIT: i32 = 8;
}

/// How the line is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineMode {
    /// The account's lines are registered.
    On,
    /// The demo provider: no calls.
    Demo,
    /// SIP is turned off (`DESKLINE_SIP=off`).
    Off,
}

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// Its dbusmenu id.
    pub id: i32,
    /// Its text (empty for separators).
    pub label: String,
    /// Whether it can be chosen.
    pub enabled: bool,
    /// Whether it is shown.
    pub visible: bool,
    /// A separator.
    pub separator: bool,
}

/// Everything the tray shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    /// A session runs.
    pub signed_in: bool,
    /// The account ("Dana Demo · 2145551000") or "Not signed in".
    pub account: String,
    /// The line state ("Line: 2 of 2 connected").
    pub line: String,
    /// Failed lines and why, one per entry.
    pub failures: Vec<String>,
    /// The missed calls ("1 missed call").
    pub missed: String,
    /// How many calls were missed.
    pub missed_count: u32,
    /// A call is ringing.
    pub ringing: bool,
    /// The icon.
    pub icon: IconKind,
}

fn missed_text(n: u32) -> String {
    match n {
        0 => "No missed calls".to_owned(),
        1 => "1 missed call".to_owned(),
        n => format!("{n} missed calls"),
    }
}

impl TrayView {
    /// Before anything is known (while opening the data directory).
    pub fn starting() -> Self {
        Self {
            signed_in: false,
            account: "Starting…".into(),
            line: "Line: not connected".into(),
            failures: Vec::new(),
            missed: missed_text(0),
            missed_count: 0,
            ringing: false,
            icon: IconKind::Idle,
        }
    }

    /// No account signs in automatically.
    pub fn signed_out() -> Self {
        Self {
            account: "Not signed in".into(),
            ..Self::starting()
        }
    }

    /// A running session: `account` as the user knows it, the line as summarised.
    pub fn signed_in(account: &str, mode: LineMode, summary: &LineSummary) -> Self {
        let line = match mode {
            LineMode::Demo => "Line: demo (no calls)".to_owned(),
            LineMode::Off => "Line: off (SIP turned off)".to_owned(),
            LineMode::On if summary.lines.is_empty() => {
                "Line: no soft client shared with you".to_owned()
            }
            LineMode::On => format!(
                "Line: {} of {} connected",
                summary.registered(),
                summary.lines.len()
            ),
        };
        let failures = summary
            .lines
            .iter()
            .filter(|l| l.state == Registration::Failed)
            .map(|l| match &l.reason {
                Some(reason) => format!("{}: {reason}", l.label),
                None => format!("{}: not registered", l.label),
            })
            .collect::<Vec<_>>();
        let ringing = !summary.ringing.is_empty();
        let connecting = mode == LineMode::On
            && summary
                .lines
                .iter()
                .any(|l| l.state == Registration::Connecting);
        let icon = if summary.missed > 0 || ringing {
            IconKind::Alert
        } else if !failures.is_empty() {
            IconKind::Failed
        } else if connecting {
            IconKind::Idle
        } else {
            IconKind::Ok
        };
        Self {
            signed_in: true,
            account: account.to_owned(),
            line,
            failures,
            missed: missed_text(summary.missed),
            missed_count: summary.missed,
            ringing,
            icon,
        }
    }

    /// The StatusNotifierItem status.
    pub fn status(&self) -> &'static str {
        if self.ringing || self.missed_count > 0 {
            "NeedsAttention"
        } else {
            "Active"
        }
    }

    /// The tooltip's text (its title is "Deskline").
    pub fn tooltip(&self) -> String {
        let mut lines = vec![self.account.clone()];
        if self.signed_in {
            lines.push(self.line.clone());
            lines.extend(self.failures.iter().cloned());
            if self.ringing {
                lines.push("A call is ringing".into());
            }
            lines.push(self.missed.clone());
        }
        lines.join("\n")
    }

    /// The menu, in order.
    pub fn menu(&self) -> Vec<MenuItem> {
        let item = |id, label: &str, enabled, visible| MenuItem {
            id,
            label: label.to_owned(),
            enabled,
            visible,
            separator: false,
        };
        let separator = |id| MenuItem {
            id,
            label: String::new(),
            enabled: true,
            visible: true,
            separator: true,
        };
        vec![
            item(ids::OPEN, "Open Deskline", true, true),
            separator(ids::SEPARATOR_TOP),
            item(ids::ACCOUNT, &self.account, false, true),
            item(ids::LINE, &self.line, false, self.signed_in),
            item(ids::MISSED, &self.missed, false, self.signed_in),
            separator(ids::SEPARATOR_BOTTOM),
            item(ids::SYNC, "Sync now", true, self.signed_in),
            item(ids::QUIT, "Quit Deskline", true, true),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskline_api::resident::LineStatus;

    fn line(state: Registration, reason: Option<&str>) -> LineStatus {
        LineStatus {
            line: "sip:dana-pc@deskline.example".into(),
            label: "Dana Demo (PC)".into(),
            state,
            reason: reason.map(str::to_owned),
            permanent: false,
        }
    }

    fn summary(lines: Vec<LineStatus>, missed: u32) -> LineSummary {
        LineSummary {
            calls_running: true,
            lines,
            ringing: Vec::new(),
            missed,
        }
    }

    #[test]
    fn not_signed_in_offers_only_open_and_quit() {
        let view = TrayView::signed_out();
        assert_eq!(view.icon, IconKind::Idle);
        assert_eq!(view.tooltip(), "Not signed in");
        let visible_actions: Vec<String> = view
            .menu()
            .into_iter()
            .filter(|i| i.visible && i.enabled && !i.separator)
            .map(|i| i.label)
            .collect();
        assert_eq!(visible_actions, ["Open Deskline", "Quit Deskline"]);
    }

    #[test]
    fn icon_and_tooltip_follow_the_lines_and_the_missed_calls() {
        let registered = summary(vec![line(Registration::Registered, None)], 0);
        let view = TrayView::signed_in("Dana Demo · 2145551000", LineMode::On, &registered);
        assert_eq!(view.icon, IconKind::Ok);
        assert_eq!(view.status(), "Active");
        assert_eq!(
            view.tooltip(),
            "Dana Demo · 2145551000\nLine: 1 of 1 connected\nNo missed calls"
        );

        let connecting = summary(vec![line(Registration::Connecting, None)], 0);
        let view = TrayView::signed_in("Dana", LineMode::On, &connecting);
        assert_eq!(view.icon, IconKind::Idle);

        let failed = summary(
            vec![line(Registration::Failed, Some("SIP credentials rejected"))],
            0,
        );
        let view = TrayView::signed_in("Dana", LineMode::On, &failed);
        assert_eq!(view.icon, IconKind::Failed);
        assert!(
            view.tooltip()
                .contains("Dana Demo (PC): SIP credentials rejected")
        );

        let missed = summary(vec![line(Registration::Registered, None)], 2);
        let view = TrayView::signed_in("Dana", LineMode::On, &missed);
        assert_eq!(view.icon, IconKind::Alert);
        assert_eq!(view.status(), "NeedsAttention");
        assert!(view.tooltip().ends_with("2 missed calls"));
        let labels: Vec<String> = view.menu().into_iter().map(|i| i.label).collect();
        assert!(labels.contains(&"2 missed calls".to_owned()), "{labels:?}");
        assert!(labels.contains(&"Sync now".to_owned()));
    }

    #[test]
    fn the_demo_has_no_calls() {
        let view = TrayView::signed_in("Dana", LineMode::Demo, &LineSummary::default());
        assert_eq!(view.line, "Line: demo (no calls)");
        assert_eq!(view.icon, IconKind::Ok);
    }
}
