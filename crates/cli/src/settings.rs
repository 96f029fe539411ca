//! Setting commands: `settings`, `forward`, `dnd`, `simring`, `sequential-ring`,
//! `speed-dial`, `speed-dial-100`, the on/off services, `remote-office`, `call-notify`,
//! `anywhere`. Each change is validated, queued durably, then sent at once; the command
//! says whether the provider has it, it is queued (offline), or it was refused.

use crate::context::Context;
use crate::exit::{self, fail};
use crate::output::{self, line, on_off};
use deskline_core::sync::{SettingStatus, SettingView};
use deskline_core::*;
use std::process::ExitCode;
use std::time::Duration;

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Turn it on.
    On,
    /// Turn it off.
    Off,
}

impl OnOff {
    fn get(self) -> bool {
        self == OnOff::On
    }
}

/// How long a command waits for the provider before leaving a change queued.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

fn describe(value: &Setting) -> String {
    match value {
        Setting::CallForwardingAlways(v) => forwarding_text(v.active, &v.forward_to, None),
        Setting::CallForwardingBusy(v) | Setting::CallForwardingNotReachable(v) => {
            forwarding_text(v.active, &v.forward_to, None)
        }
        Setting::CallForwardingNoAnswer(v) => {
            forwarding_text(v.active, &v.forward_to, Some(v.number_of_rings.get()))
        }
        Setting::DoNotDisturb(v) => format!(
            "{}{}",
            on_off(v.active),
            if v.ring_splash { ", ring splash" } else { "" }
        ),
        Setting::AnonymousCallRejection(v)
        | Setting::CallWaiting(v)
        | Setting::CallingLineIdDeliveryBlocking(v) => on_off(v.active).to_owned(),
        Setting::RemoteOffice(v) => forwarding_text(v.active, &v.number, None),
        Setting::SimultaneousRingPersonal(v) => format!(
            "{}; {}; {}",
            on_off(v.active),
            if v.locations.is_empty() {
                "no numbers".to_owned()
            } else {
                v.locations
                    .iter()
                    .map(|l| {
                        format!(
                            "{}{}",
                            l.address,
                            if l.answer_confirmation_required {
                                " (confirm)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            match v.incoming_calls {
                SimRingIncomingCalls::DoNotRingIfOnCall => "not while on a call",
                SimRingIncomingCalls::RingForAllIncomingCalls => "also while on a call",
            }
        ),
        Setting::SequentialRing(v) => format!(
            "base first: {}, {} rings; {}",
            on_off(v.ring_base_location_first),
            v.base_location_number_of_rings.get(),
            if v.locations.is_empty() {
                "no locations".to_owned()
            } else {
                v.locations
                    .iter()
                    .map(|(slot, l)| {
                        format!("{slot}: {} ({} rings)", l.address, l.number_of_rings.get())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        Setting::SpeedDial8(v) => speed_text(&v.entries),
        Setting::SpeedDial100(v) => speed_text(&v.entries),
        Setting::CallNotify(v) => format!(
            "e-mail {}{}",
            v.email
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "(none)".into()),
            if v.criteria.is_empty() {
                String::new()
            } else {
                format!(
                    "; criteria {}",
                    v.criteria
                        .iter()
                        .map(|(n, a)| format!("{n} {}", on_off(*a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        Setting::BroadWorksAnywhere(v) => {
            if v.locations.is_empty() {
                "no locations".into()
            } else {
                v.locations
                    .values()
                    .map(|l| {
                        format!(
                            "{} {}{}",
                            l.phone_number,
                            on_off(l.active),
                            l.description
                                .as_ref()
                                .map(|d| format!(" ({d})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        Setting::PersonalDirectory(v) => format!("{} entries", v.entries.len()),
    }
}

fn forwarding_text(active: bool, to: &Option<Destination>, rings: Option<u8>) -> String {
    format!(
        "{}{}{}",
        on_off(active),
        to.as_ref().map(|t| format!(" → {t}")).unwrap_or_default(),
        rings
            .map(|r| format!(" after {r} rings"))
            .unwrap_or_default()
    )
}

fn speed_text(entries: &std::collections::BTreeMap<String, SpeedDialEntry>) -> String {
    if entries.is_empty() {
        return "no entries".into();
    }
    let mut codes: Vec<_> = entries.iter().collect();
    codes.sort_by_key(|(c, _)| c.parse::<u32>().unwrap_or(u32::MAX));
    codes
        .into_iter()
        .map(|(code, e)| {
            format!(
                "{code}: {}{}",
                e.number,
                e.description
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn status_text(status: &SettingStatus) -> String {
    match status {
        SettingStatus::Synced => String::new(),
        SettingStatus::Pending { last_error, .. } => match last_error {
            Some(e) => format!("  [pending: {e}]"),
            None => "  [pending]".into(),
        },
        SettingStatus::Conflict { fields, .. } => format!(
            "  [conflict on {}: see `deskline changes`]",
            fields.join(", ")
        ),
        SettingStatus::Failed { reason, .. } => format!("  [refused: {reason}]"),
    }
}

fn print_view(ctx: &Context, view: &SettingView) {
    if ctx.global.json {
        output::print_json(view);
    } else {
        line(format!(
            "{}: {}{}",
            view.key.display_name(),
            describe(&view.value),
            status_text(&view.status)
        ));
    }
}

/// `deskline settings`.
pub async fn show_all(ctx: &Context) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    let views = session.engine.settings().await?;
    if ctx.global.json {
        output::print_json(&views);
    } else {
        if views.is_empty() {
            line("Nothing synced yet: run `deskline sync`.");
        }
        for v in &views {
            line(format!(
                "{}: {}{}",
                v.key.display_name(),
                describe(&v.value),
                status_text(&v.status)
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(ctx: &Context, key: SettingKey) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    let view = session.engine.setting(key).await?;
    print_view(ctx, &view);
    Ok(ExitCode::SUCCESS)
}

/// Changes one setting, sends it, and reports the outcome.
async fn change<F>(ctx: &Context, key: SettingKey, modify: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(&mut Setting) -> Result<(), ValidationError>,
{
    let session = ctx.session().await?;
    let engine = &session.engine;
    let edit = engine.update(key, modify).await?;
    let flushed = tokio::time::timeout(SEND_TIMEOUT, engine.flush(true)).await;
    if let Ok(Err(e)) = &flushed {
        // An authentication failure: the change stays queued; tell the user why.
        eprintln!("deskline: the change is queued but could not be sent: {e}");
    }
    let edits = ctx.deskline.store().edits(&session.account.id).await?;
    let view = engine.setting(key).await?;
    match edits.iter().find(|e| e.id == edit.id).map(|e| &e.state) {
        None => {
            if ctx.global.json {
                output::print_json(&serde_json::json!({"result": "applied", "setting": view}));
            } else {
                line(format!(
                    "{}: {} (saved on the provider)",
                    key.display_name(),
                    describe(&view.value)
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(EditState::Pending { last_error }) => {
            if ctx.global.json {
                output::print_json(
                    &serde_json::json!({"result": "queued", "setting": view, "reason": last_error}),
                );
            } else {
                line(format!(
                    "{}: {} (queued: {}; Deskline sends it when the provider answers — `deskline sync`)",
                    key.display_name(),
                    describe(&view.value),
                    last_error.clone().unwrap_or_else(|| "not sent yet".into())
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(EditState::Conflict { fields, .. }) => Err(fail(
            exit::CONFLICT,
            format!(
                "{} was changed elsewhere ({}) while your change was waiting; choose with `deskline changes resolve {} mine|theirs`",
                key.display_name(),
                fields.join(", "),
                edit.id
            ),
        )),
        Some(EditState::Failed { reason }) => {
            engine.discard(edit.id).await?;
            Err(fail(
                exit::VALIDATION,
                format!(
                    "the provider refused the change to {}: {reason}; nothing was changed",
                    key.display_name()
                ),
            ))
        }
    }
}

fn dest(raw: &str, field: &str) -> Result<Destination, ValidationError> {
    Destination::parse(raw).map_err(|e| e.for_field(field))
}

/// Arguments of `deskline forward`.
#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    /// Which forwarding.
    kind: ForwardKind,
    /// Forward to this number, extension or SIP address (and turn it on).
    #[arg(long, value_name = "NUMBER")]
    to: Option<String>,
    /// Turn it on (with the number already stored).
    #[arg(long, conflicts_with = "off")]
    on: bool,
    /// Turn it off (the number is kept).
    #[arg(long)]
    off: bool,
    /// Forget the stored number (with --off).
    #[arg(long, requires = "off")]
    clear: bool,
    /// Rings before forwarding (no-answer only): 0 or 2–20.
    #[arg(long)]
    rings: Option<u32>,
    /// Ring splash (always only).
    #[arg(long, value_enum)]
    ring_splash: Option<OnOff>,
}

/// Which forwarding.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ForwardKind {
    /// Every call.
    Always,
    /// When the line is busy.
    Busy,
    /// When nobody answers.
    NoAnswer,
    /// When the line is not registered.
    NotReachable,
}

/// `deskline forward`.
pub async fn forward(ctx: &Context, args: ForwardArgs) -> anyhow::Result<ExitCode> {
    let key = match args.kind {
        ForwardKind::Always => SettingKey::CallForwardingAlways,
        ForwardKind::Busy => SettingKey::CallForwardingBusy,
        ForwardKind::NoAnswer => SettingKey::CallForwardingNoAnswer,
        ForwardKind::NotReachable => SettingKey::CallForwardingNotReachable,
    };
    if args.to.is_none()
        && !args.on
        && !args.off
        && args.rings.is_none()
        && args.ring_splash.is_none()
    {
        return show(ctx, key).await;
    }
    if args.rings.is_some() && !matches!(args.kind, ForwardKind::NoAnswer) {
        return Err(fail(exit::USAGE, "--rings is only for `forward no-answer`"));
    }
    if args.ring_splash.is_some() && !matches!(args.kind, ForwardKind::Always) {
        return Err(fail(
            exit::USAGE,
            "--ring-splash is only for `forward always`",
        ));
    }
    let to = args.to.as_deref().map(|t| dest(t, "to")).transpose()?;
    let rings = args.rings.map(RingCount::new).transpose()?;
    change(ctx, key, move |s| {
        let (active, forward_to) = match s {
            Setting::CallForwardingAlways(v) => {
                if let Some(rs) = args.ring_splash {
                    v.ring_splash = rs.get();
                }
                (&mut v.active, &mut v.forward_to)
            }
            Setting::CallForwardingBusy(v) | Setting::CallForwardingNotReachable(v) => {
                (&mut v.active, &mut v.forward_to)
            }
            Setting::CallForwardingNoAnswer(v) => {
                if let Some(r) = rings {
                    v.number_of_rings = r;
                }
                (&mut v.active, &mut v.forward_to)
            }
            _ => return Err(ValidationError::new("setting", "not a forwarding setting")),
        };
        if let Some(to) = to {
            *forward_to = Some(to);
            *active = true;
        }
        if args.on {
            *active = true;
        }
        if args.off {
            *active = false;
            if args.clear {
                *forward_to = None;
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline dnd`.
#[derive(Debug, clap::Args)]
pub struct DndArgs {
    /// Turn Do Not Disturb on or off; shows it when left out.
    #[arg(value_enum)]
    state: Option<OnOff>,
    /// Ring splash when a call is rejected.
    #[arg(long, value_enum)]
    ring_splash: Option<OnOff>,
}

/// `deskline dnd`.
pub async fn dnd(ctx: &Context, args: DndArgs) -> anyhow::Result<ExitCode> {
    if args.state.is_none() && args.ring_splash.is_none() {
        return show(ctx, SettingKey::DoNotDisturb).await;
    }
    change(ctx, SettingKey::DoNotDisturb, move |s| {
        if let Setting::DoNotDisturb(v) = s {
            if let Some(state) = args.state {
                v.active = state.get();
            }
            if let Some(rs) = args.ring_splash {
                v.ring_splash = rs.get();
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of the on/off services.
#[derive(Debug, clap::Args)]
pub struct ToggleArgs {
    /// Turn it on or off; shows it when left out.
    #[arg(value_enum)]
    state: Option<OnOff>,
}

/// `deskline anonymous-rejection|call-waiting|block-caller-id`.
pub async fn toggle(ctx: &Context, key: SettingKey, args: ToggleArgs) -> anyhow::Result<ExitCode> {
    let Some(state) = args.state else {
        return show(ctx, key).await;
    };
    change(ctx, key, move |s| {
        match s {
            Setting::AnonymousCallRejection(v)
            | Setting::CallWaiting(v)
            | Setting::CallingLineIdDeliveryBlocking(v) => v.active = state.get(),
            _ => return Err(ValidationError::new("setting", "not an on/off setting")),
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline remote-office`.
#[derive(Debug, clap::Args)]
pub struct RemoteOfficeArgs {
    /// Turn it on or off; shows it when left out.
    #[arg(value_enum)]
    state: Option<OnOff>,
    /// The number to ring instead of your line.
    #[arg(long)]
    number: Option<String>,
}

/// `deskline remote-office`.
pub async fn remote_office(ctx: &Context, args: RemoteOfficeArgs) -> anyhow::Result<ExitCode> {
    if args.state.is_none() && args.number.is_none() {
        return show(ctx, SettingKey::RemoteOffice).await;
    }
    let number = args
        .number
        .as_deref()
        .map(|n| dest(n, "number"))
        .transpose()?;
    change(ctx, SettingKey::RemoteOffice, move |s| {
        if let Setting::RemoteOffice(v) = s {
            if let Some(n) = number {
                v.number = Some(n);
            }
            if let Some(state) = args.state {
                v.active = state.get();
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline simring`.
#[derive(Debug, clap::Args)]
pub struct SimRingArgs {
    /// Turn Simultaneous Ring on or off; shows it when nothing is given.
    #[arg(value_enum)]
    state: Option<OnOff>,
    /// Add a number (up to 10).
    #[arg(long, value_name = "NUMBER")]
    add: Vec<String>,
    /// The added numbers ask the callee to press a key to take the call.
    #[arg(long)]
    confirm: bool,
    /// Remove a number.
    #[arg(long, value_name = "NUMBER")]
    remove: Vec<String>,
    /// Remove every number.
    #[arg(long)]
    clear: bool,
    /// Also ring the other numbers while you are on a call.
    #[arg(long, value_enum)]
    while_on_call: Option<OnOff>,
}

/// `deskline simring`.
pub async fn simring(ctx: &Context, args: SimRingArgs) -> anyhow::Result<ExitCode> {
    if args.state.is_none()
        && args.add.is_empty()
        && args.remove.is_empty()
        && !args.clear
        && args.while_on_call.is_none()
    {
        return show(ctx, SettingKey::SimultaneousRingPersonal).await;
    }
    let add: Vec<Destination> = args
        .add
        .iter()
        .map(|n| dest(n, "add"))
        .collect::<Result<_, _>>()?;
    let remove: Vec<Destination> = args
        .remove
        .iter()
        .map(|n| dest(n, "remove"))
        .collect::<Result<_, _>>()?;
    change(ctx, SettingKey::SimultaneousRingPersonal, move |s| {
        if let Setting::SimultaneousRingPersonal(v) = s {
            if args.clear {
                v.locations.clear();
            }
            for r in &remove {
                if !v.locations.iter().any(|l| &l.address == r) {
                    return Err(ValidationError::new(
                        "remove",
                        format!("{r} is not in the list"),
                    ));
                }
                v.locations.retain(|l| &l.address != r);
            }
            for a in add {
                v.locations.push(SimRingLocation {
                    address: a,
                    answer_confirmation_required: args.confirm,
                });
            }
            if let Some(w) = args.while_on_call {
                v.incoming_calls = if w.get() {
                    SimRingIncomingCalls::RingForAllIncomingCalls
                } else {
                    SimRingIncomingCalls::DoNotRingIfOnCall
                };
            }
            if let Some(state) = args.state {
                v.active = state.get();
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline sequential-ring`.
#[derive(Debug, clap::Args)]
pub struct SequentialRingArgs {
    /// Which of the five locations to set or clear (1–5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    slot: Option<u8>,
    /// The number for --slot.
    #[arg(long, requires = "slot")]
    to: Option<String>,
    /// Rings at that location (0 or 2–20).
    #[arg(long, requires = "slot")]
    rings: Option<u32>,
    /// The callee must press a key to take the call.
    #[arg(long, requires = "slot")]
    confirm: bool,
    /// Empty the --slot.
    #[arg(long, requires = "slot", conflicts_with = "to")]
    clear: bool,
    /// Ring your line first.
    #[arg(long, value_enum)]
    base_first: Option<OnOff>,
    /// Rings at your line (0 or 2–20).
    #[arg(long)]
    base_rings: Option<u32>,
    /// Go on when your line is busy.
    #[arg(long, value_enum)]
    continue_if_busy: Option<OnOff>,
    /// The caller may stop the search.
    #[arg(long, value_enum)]
    caller_may_stop: Option<OnOff>,
}

/// `deskline sequential-ring`.
pub async fn sequential_ring(ctx: &Context, args: SequentialRingArgs) -> anyhow::Result<ExitCode> {
    if args.slot.is_none()
        && args.base_first.is_none()
        && args.base_rings.is_none()
        && args.continue_if_busy.is_none()
        && args.caller_may_stop.is_none()
    {
        return show(ctx, SettingKey::SequentialRing).await;
    }
    let to = args.to.as_deref().map(|t| dest(t, "to")).transpose()?;
    let rings = args.rings.map(RingCount::new).transpose()?;
    let base_rings = args.base_rings.map(RingCount::new).transpose()?;
    change(ctx, SettingKey::SequentialRing, move |s| {
        if let Setting::SequentialRing(v) = s {
            if let Some(slot) = args.slot {
                let slot = slot.to_string();
                if args.clear {
                    v.locations.remove(&slot);
                } else {
                    let existing = v.locations.get(&slot).cloned();
                    let address = match (to, existing.as_ref()) {
                        (Some(t), _) => t,
                        (None, Some(e)) => e.address.clone(),
                        (None, None) => {
                            return Err(ValidationError::new(
                                "to",
                                format!("location {slot} is empty: give a number with --to"),
                            ));
                        }
                    };
                    v.locations.insert(
                        slot,
                        SequentialRingLocation {
                            address,
                            number_of_rings: rings
                                .or(existing.as_ref().map(|e| e.number_of_rings))
                                .unwrap_or_default(),
                            answer_confirmation_required: args.confirm,
                        },
                    );
                }
            }
            if let Some(b) = args.base_first {
                v.ring_base_location_first = b.get();
            }
            if let Some(r) = base_rings {
                v.base_location_number_of_rings = r;
            }
            if let Some(c) = args.continue_if_busy {
                v.continue_if_base_location_is_busy = c.get();
            }
            if let Some(c) = args.caller_may_stop {
                v.caller_may_stop_search = c.get();
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline speed-dial` and `speed-dial-100`.
#[derive(Debug, clap::Args)]
pub struct SpeedDialArgs {
    #[command(subcommand)]
    action: Option<SpeedDialAction>,
}

/// What to do with a speed dial list.
#[derive(Debug, clap::Subcommand)]
pub enum SpeedDialAction {
    /// Show the entries.
    List,
    /// Set a code.
    Set {
        /// The code (2–9 for Speed Dial 8, 0–99 for Speed Dial 100).
        code: u32,
        /// The number dialled.
        number: String,
        /// What you call it.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a code.
    Rm {
        /// The code.
        code: u32,
    },
}

/// `deskline speed-dial` / `speed-dial-100`.
pub async fn speed_dial(
    ctx: &Context,
    args: SpeedDialArgs,
    hundred: bool,
) -> anyhow::Result<ExitCode> {
    let key = if hundred {
        SettingKey::SpeedDial100
    } else {
        SettingKey::SpeedDial8
    };
    let check = |code: u32| -> Result<String, ValidationError> {
        if hundred {
            SpeedCode100::new(code).map(|c| c.get().to_string())
        } else {
            SpeedCode8::new(code).map(|c| c.get().to_string())
        }
    };
    match args.action.unwrap_or(SpeedDialAction::List) {
        SpeedDialAction::List => show(ctx, key).await,
        SpeedDialAction::Set {
            code,
            number,
            description,
        } => {
            let code = check(code)?;
            let entry = SpeedDialEntry {
                number: dest(&number, "number")?,
                description: description.as_deref().map(Description::parse).transpose()?,
            };
            change(ctx, key, move |s| {
                match s {
                    Setting::SpeedDial8(v) => v.entries.insert(code, entry),
                    Setting::SpeedDial100(v) => v.entries.insert(code, entry),
                    _ => None,
                };
                Ok(())
            })
            .await
        }
        SpeedDialAction::Rm { code } => {
            let code = check(code)?;
            change(ctx, key, move |s| {
                let removed = match s {
                    Setting::SpeedDial8(v) => v.entries.remove(&code),
                    Setting::SpeedDial100(v) => v.entries.remove(&code),
                    _ => None,
                };
                match removed {
                    Some(_) => Ok(()),
                    None => Err(ValidationError::new(
                        "code",
                        format!("speed code {code} is not set"),
                    )),
                }
            })
            .await
        }
    }
}

/// Arguments of `deskline call-notify`.
#[derive(Debug, clap::Args)]
pub struct CallNotifyArgs {
    /// Send notification e-mails here.
    #[arg(long, conflicts_with = "no_email")]
    email: Option<String>,
    /// Stop sending e-mails (forget the address).
    #[arg(long)]
    no_email: bool,
    /// Turn a criteria (created on the portal) on or off: NAME=on|off.
    #[arg(long, value_name = "NAME=on|off")]
    criteria: Vec<String>,
}

/// `deskline call-notify`.
pub async fn call_notify(ctx: &Context, args: CallNotifyArgs) -> anyhow::Result<ExitCode> {
    if args.email.is_none() && !args.no_email && args.criteria.is_empty() {
        return show(ctx, SettingKey::CallNotify).await;
    }
    let email = args.email.as_deref().map(EmailAddress::parse).transpose()?;
    let mut criteria = Vec::new();
    for c in &args.criteria {
        let (name, state) = c.rsplit_once('=').ok_or_else(|| {
            fail(
                exit::USAGE,
                format!("--criteria takes NAME=on|off, not '{c}'"),
            )
        })?;
        let active = match state {
            "on" => true,
            "off" => false,
            _ => {
                return Err(fail(
                    exit::USAGE,
                    format!("--criteria takes NAME=on|off, not '{c}'"),
                ));
            }
        };
        criteria.push((name.to_owned(), active));
    }
    change(ctx, SettingKey::CallNotify, move |s| {
        if let Setting::CallNotify(v) = s {
            if let Some(e) = email {
                v.email = Some(e);
            }
            if args.no_email {
                v.email = None;
            }
            for (name, active) in criteria {
                match v.criteria.get_mut(&name) {
                    Some(flag) => *flag = active,
                    None => {
                        return Err(ValidationError::new(
                            "criteria",
                            format!(
                                "there is no criteria named '{name}' (create it on the portal)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    })
    .await
}

/// Arguments of `deskline anywhere`.
#[derive(Debug, clap::Args)]
pub struct AnywhereArgs {
    #[command(subcommand)]
    action: Option<AnywhereAction>,
}

/// What to do with BroadWorks Anywhere.
#[derive(Debug, clap::Subcommand)]
pub enum AnywhereAction {
    /// Show the locations.
    List,
    /// Add a location.
    Add {
        /// The location's number (national digits).
        number: String,
        /// What you call it.
        #[arg(long)]
        description: Option<String>,
        /// Country code of the number.
        #[arg(long, default_value = "1")]
        country_code: String,
        /// Ring it right away.
        #[arg(long)]
        active: bool,
    },
    /// Turn a location on or off.
    Set {
        /// The location's number.
        number: String,
        /// On or off.
        #[arg(value_enum)]
        state: OnOff,
    },
    /// Remove a location.
    Rm {
        /// The location's number.
        number: String,
    },
    /// Ring all locations for click-to-dial calls.
    ClickToDialAll {
        /// On or off.
        #[arg(value_enum)]
        state: OnOff,
    },
}

/// `deskline anywhere`.
pub async fn anywhere(ctx: &Context, args: AnywhereArgs) -> anyhow::Result<ExitCode> {
    let key = SettingKey::BroadWorksAnywhere;
    match args.action.unwrap_or(AnywhereAction::List) {
        AnywhereAction::List => show(ctx, key).await,
        AnywhereAction::Add {
            number,
            description,
            country_code,
            active,
        } => {
            let phone = PhoneNumber::parse(&number)?;
            let description = description.as_deref().map(Description::parse).transpose()?;
            if country_code.is_empty()
                || !country_code.bytes().all(|b| b.is_ascii_digit())
                || country_code.len() > 3
            {
                return Err(fail(exit::VALIDATION, "country_code: 1 to 3 digits"));
            }
            change(ctx, key, move |s| {
                if let Setting::BroadWorksAnywhere(v) = s {
                    if v.locations.contains_key(phone.as_str()) {
                        return Err(ValidationError::new(
                            "number",
                            format!("{phone} is already a location"),
                        ));
                    }
                    v.locations.insert(
                        phone.as_str().to_owned(),
                        AnywhereLocation {
                            phone_number: phone,
                            country_code: Some(country_code),
                            description,
                            active,
                        },
                    );
                }
                Ok(())
            })
            .await
        }
        AnywhereAction::Set { number, state } => {
            let phone = PhoneNumber::parse(&number)?;
            change(ctx, key, move |s| {
                if let Setting::BroadWorksAnywhere(v) = s {
                    let location = v.locations.get_mut(phone.as_str()).ok_or_else(|| {
                        ValidationError::new("number", format!("{phone} is not a location"))
                    })?;
                    location.active = state.get();
                }
                Ok(())
            })
            .await
        }
        AnywhereAction::Rm { number } => {
            let phone = PhoneNumber::parse(&number)?;
            change(ctx, key, move |s| {
                if let Setting::BroadWorksAnywhere(v) = s {
                    v.locations.remove(phone.as_str()).ok_or_else(|| {
                        ValidationError::new("number", format!("{phone} is not a location"))
                    })?;
                }
                Ok(())
            })
            .await
        }
        AnywhereAction::ClickToDialAll { state } => {
            change(ctx, key, move |s| {
                if let Setting::BroadWorksAnywhere(v) = s {
                    v.alert_all_locations_for_click_to_dial_calls = state.get();
                }
                Ok(())
            })
            .await
        }
    }
}

/// Changes the personal directory (used by `deskline directory add|rm`).
pub async fn change_directory<F>(ctx: &Context, modify: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(&mut Setting) -> Result<(), ValidationError>,
{
    change(ctx, SettingKey::PersonalDirectory, modify).await
}
