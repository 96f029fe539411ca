//! `deskline listen`: registers the user's line(s) with the SIP agent, runs the call
//! tracker (caller names, Do Not Disturb, call history, desktop notifications with
//! Answer/Decline) and prints what happens until SIGINT/SIGTERM, then unregisters.
//!
//! Two modes: with `--line`, that one line alone (password from stdin or a prompt; its
//! history goes to `manual-lines.sqlite3` in the data directory under a pseudo-account
//! named after the line, kept apart from the signed-in accounts so it never makes
//! choosing an account ambiguous); without, the soft clients synced for the signed-in
//! account(s) (`--account` picks one), with their SIP passwords from the keychain.
//!
//! Output: one line per event; with `--json` one object per line with a `type`
//! (`registered`, `registration_failed`, `unregistered`, `incoming_call`, `call_ended`,
//! `action`, `problem`) — the call tracker's events as they are. Exit codes: 0 after a
//! signal, 2 usage, 3 when every line's SIP credentials were rejected, 4 when no line
//! registered within `--register-timeout` for network reasons.

use crate::GlobalOpts;
use crate::exit::{self, fail};
use crate::output;
use anyhow::Context as _;
use deskline_api::ApiError;
use deskline_api::calls::{CallPlan, Calls, LineStates, ManualLine, manual_call_plan};
use deskline_core::calls::tracker::TrackerEvent;
use deskline_core::calls::{CallEndReason, NotificationAction};
use deskline_core::{SipLine, SipUri, Transport};
use deskline_notifier::DesktopNotifier;
use deskline_sip::{AgentOptions, SipError};
use secrecy::SecretString;
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// `deskline listen` options.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Register this line alone (sip:USER@HOST[:PORT]) instead of your account's soft
    /// clients.
    #[arg(long, value_name = "SIP_URI")]
    pub line: Option<String>,
    /// SIP authentication user name (default: the user part of --line).
    #[arg(long, value_name = "USER", requires = "line")]
    pub auth_user: Option<String>,
    /// Read the line's SIP password from the first line of standard input.
    #[arg(long, requires = "line")]
    pub password_stdin: bool,
    /// Transport: udp, tcp or tls.
    #[arg(long, value_name = "udp|tcp|tls", value_parser = parse_transport, requires = "line")]
    pub transport: Option<Transport>,
    /// Outbound proxy, HOST[:PORT].
    #[arg(long, value_name = "HOST:PORT", requires = "line")]
    pub proxy: Option<String>,
    /// Registrar, HOST[:PORT] (default: the host and port of --line).
    #[arg(long, value_name = "HOST:PORT", requires = "line")]
    pub registrar: Option<String>,
    /// The line's name in notifications (default: the line's address).
    #[arg(long, value_name = "NAME", requires = "line")]
    pub label: Option<String>,
    /// Registration expiry to ask for, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub expires: u32,
    /// Trust these CA certificates (PEM) for SIP over TLS instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// Local address to send and receive SIP on (default: all).
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// Give up (exit 4) when no line registered within this many seconds; 0 waits
    /// forever.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub register_timeout: u64,
}

fn parse_transport(raw: &str) -> Result<Transport, String> {
    Transport::parse(raw).ok_or_else(|| format!("'{raw}' is not udp, tcp or tls"))
}

/// Runs `deskline listen`.
pub async fn run(args: ListenArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let tls_ca = match &args.tls_ca {
        Some(path) => Some(tokio::fs::read_to_string(path).await.map_err(|e| {
            fail(
                exit::USAGE,
                format!("could not read the CA file {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    let manual = args.line.is_some();
    let plan = if manual {
        manual_plan(&args, global, tls_ca).await?
    } else {
        account_plan(&args, global, tls_ca).await?
    };
    let options = AgentOptions {
        bind_ip: args.bind.unwrap_or(AgentOptions::default().bind_ip),
        ..AgentOptions::default()
    };

    let (action_tx, action_rx) = mpsc::channel(64);
    let notifier = DesktopNotifier::new(action_tx);
    match notifier.probe().await {
        Ok(info) => tracing::info!(server = %info.name, "notifications go to the desktop"),
        Err(e) => eprintln!("deskline: warning: {e}; calls are still printed here"),
    }

    let (calls, mut events) = Calls::start(plan, options, Arc::new(notifier.clone()), action_rx)
        .await
        .map_err(|e| match e {
            ApiError::Sip(SipError::InvalidLine { .. } | SipError::DuplicateLine { .. }) => fail(
                if manual { exit::USAGE } else { exit::FAILURE },
                e.to_string(),
            ),
            other => fail(exit::FAILURE, other.to_string()),
        })?;

    let mut printer = Printer::new(global.json);
    let mut state = LineStates::new(calls.line_count());
    let stop = watch(&mut events, &mut printer, &mut state, args.register_timeout).await;

    // Unregister first: the agent ends ringing calls and reports it; the tracker records
    // and emits that before it stops, and everything is printed.
    calls.shutdown().await;
    loop {
        match events.recv().await {
            Ok(event) => printer.print(&event),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("deskline: warning: {n} events were not printed");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    notifier.close_all().await;
    match stop {
        Stop::Signal | Stop::TrackerEnded => Ok(ExitCode::SUCCESS),
        Stop::Rejected(reason) => Err(fail(
            exit::AUTH,
            format!("no line could register: {reason}"),
        )),
        Stop::NotRegistered(reason) => Err(fail(
            exit::NETWORK,
            format!(
                "no line registered within {} s: {reason}",
                args.register_timeout
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Lines to register.

async fn manual_plan(
    args: &ListenArgs,
    global: &GlobalOpts,
    tls_ca: Option<String>,
) -> anyhow::Result<CallPlan> {
    let raw = args.line.as_deref().unwrap_or_default();
    let aor = SipUri::parse(raw).map_err(|e| fail(exit::USAGE, format!("--line: {e}")))?;
    let auth_user = args
        .auth_user
        .clone()
        .unwrap_or_else(|| aor.user().to_owned());
    let line = SipLine {
        auth_user,
        registrar: args
            .registrar
            .clone()
            .unwrap_or_else(|| aor.host_port().to_owned()),
        outbound_proxy: args.proxy.clone(),
        transport: args.transport.unwrap_or_default(),
        display_name: args.label.clone(),
        aor,
    };
    let from_stdin = args.password_stdin;
    let password = tokio::task::spawn_blocking(move || read_password(from_stdin)).await??;
    let data_dir = data_dir(global)?;
    manual_call_plan(
        &data_dir,
        ManualLine {
            line,
            password,
            expires: args.expires,
            tls_ca_pem: tls_ca,
        },
    )
    .await
    .map_err(|e| match e {
        ApiError::InvalidLine { .. } => fail(exit::USAGE, format!("--line: {e}")),
        other => other.into(),
    })
}

async fn account_plan(
    args: &ListenArgs,
    global: &GlobalOpts,
    tls_ca: Option<String>,
) -> anyhow::Result<CallPlan> {
    let deskline = deskline_api::Deskline::open(deskline_api::OpenOptions {
        data_dir: global.data_dir.clone(),
        extra_ca_pem: crate::context::extra_ca(global).await?,
    })
    .await?;
    let accounts = match &global.account {
        Some(wanted) => vec![deskline.accounts().choose(Some(wanted)).await?],
        None => deskline.accounts().list().await?,
    };
    deskline
        .account_call_plan(&accounts, args.expires, tls_ca)
        .await
        .map_err(|e| match e {
            ApiError::NotSignedIn => fail(
                exit::AUTH,
                "no line configured: sign in with `deskline login` (your shared soft clients are synced then), or give one with --line",
            ),
            ApiError::NoLines => fail(
                exit::FAILURE,
                "no line configured: no soft client with SIP settings and a saved SIP password is shared with you; run `deskline sync` and check `deskline devices`, or give a line with --line",
            ),
            other => other.into(),
        })
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut text)
            .context("could not read the SIP password from standard input")?;
        let len = text.trim_end_matches(['\r', '\n']).len();
        text.truncate(len);
        if text.is_empty() {
            return Err(fail(exit::USAGE, "no SIP password on standard input"));
        }
        return Ok(SecretString::from(text));
    }
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            exit::USAGE,
            "the SIP password is missing: use --password-stdin in scripts",
        ));
    }
    let password =
        rpassword::prompt_password("SIP password: ").context("could not read the password")?;
    Ok(SecretString::from(password))
}

fn data_dir(global: &GlobalOpts) -> anyhow::Result<PathBuf> {
    match &global.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => deskline_api::default_data_dir().ok_or_else(|| {
            fail(
                exit::FAILURE,
                "no data directory could be found (no home directory); choose one with --data-dir",
            )
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Watching: printing events and deciding when to stop.

/// Why listening stopped.
enum Stop {
    /// SIGINT or SIGTERM.
    Signal,
    /// The tracker ended on its own (the agent stopped).
    TrackerEnded,
    /// Every line's credentials were rejected.
    Rejected(String),
    /// No line registered in time.
    NotRegistered(String),
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be caught; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn watch(
    events: &mut broadcast::Receiver<TrackerEvent>,
    printer: &mut Printer,
    state: &mut LineStates,
    register_timeout: u64,
) -> Stop {
    let signal = signal();
    tokio::pin!(signal);
    let deadline = (register_timeout > 0)
        .then(|| tokio::time::Instant::now() + Duration::from_secs(register_timeout));
    loop {
        let waiting = deadline.filter(|_| !state.any_registered());
        tokio::select! {
            () = &mut signal => return Stop::Signal,
            () = async {
                match waiting {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                let reason = state
                    .last_failure()
                    .unwrap_or("the registrar did not answer")
                    .to_owned();
                return Stop::NotRegistered(reason);
            }
            event = events.recv() => match event {
                Ok(event) => {
                    printer.print(&event);
                    state.update(&event);
                    if let Some(reasons) = state.all_rejected() {
                        return Stop::Rejected(reasons);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("deskline: warning: {n} events were not printed");
                }
                Err(broadcast::error::RecvError::Closed) => return Stop::TrackerEnded,
            },
        }
    }
}

/// Prints tracker events as text or JSON lines (flushed per line).
struct Printer {
    json: bool,
    callers: HashMap<String, String>,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self {
            json,
            callers: HashMap::new(),
        }
    }

    fn print(&mut self, event: &TrackerEvent) {
        if let TrackerEvent::Problem { message, .. } = event {
            eprintln!("deskline: warning: {message}");
        }
        if self.json {
            output::print_json(event);
            return;
        }
        if let Some(text) = self.text(event) {
            output::line(text);
        }
    }

    fn text(&mut self, event: &TrackerEvent) -> Option<String> {
        Some(match event {
            TrackerEvent::Registered { line, expires } => {
                format!("Registered {line} (for {expires} s)")
            }
            TrackerEvent::RegistrationFailed {
                line,
                reason,
                permanent,
            } => {
                let next = if *permanent { "" } else { "; retrying" };
                format!("Registration of {line} failed: {reason}{next}")
            }
            TrackerEvent::Unregistered { line } => format!("Unregistered {line}"),
            TrackerEvent::IncomingCall {
                call_id,
                line_label,
                number,
                name,
                suppressed_by_dnd,
                ..
            } => {
                let caller = match name {
                    Some(name) => format!("{name} <{number}>"),
                    None => number.clone(),
                };
                self.callers.insert(call_id.clone(), caller.clone());
                let dnd = if *suppressed_by_dnd {
                    " (Do Not Disturb: not shown)"
                } else {
                    ""
                };
                format!("Incoming call from {caller} on {line_label}{dnd}")
            }
            TrackerEvent::CallEnded {
                call_id, reason, ..
            } => {
                let caller = self
                    .callers
                    .remove(call_id)
                    .unwrap_or_else(|| call_id.clone());
                let how = match reason {
                    CallEndReason::Missed => "missed",
                    CallEndReason::AnsweredElsewhere => "answered on another device",
                    CallEndReason::Declined => "declined",
                    CallEndReason::Answered => "answered",
                };
                format!("Call from {caller}: {how}")
            }
            TrackerEvent::Action { call_id, action } => {
                let caller = self
                    .callers
                    .get(call_id)
                    .cloned()
                    .unwrap_or_else(|| call_id.clone());
                let what = match action {
                    NotificationAction::Answer => "Answer",
                    NotificationAction::Decline => "Decline",
                    NotificationAction::Dismissed => "to dismiss the notification",
                };
                format!("You chose {what} for the call from {caller}")
            }
            TrackerEvent::Problem { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_lines_name_the_caller() {
        let mut p = Printer::new(false);
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let ring = TrackerEvent::IncomingCall {
            call_id: "c".into(),
            line: "sip:a@x".into(),
            line_label: "Dana (PC)".into(),
            number: "2145552001".into(),
            name: Some("Alex Example".into()),
            name_source: None,
            suppressed_by_dnd: false,
            notified: true,
            at,
        };
        assert_eq!(
            p.text(&ring).unwrap(),
            "Incoming call from Alex Example <2145552001> on Dana (PC)"
        );
        let end = TrackerEvent::CallEnded {
            call_id: "c".into(),
            line: "sip:a@x".into(),
            reason: CallEndReason::AnsweredElsewhere,
            at,
        };
        assert_eq!(
            p.text(&end).unwrap(),
            "Call from Alex Example <2145552001>: answered on another device"
        );
    }
}
