//! List commands: `directory`, `calls`, `dial`, `changes`.

use crate::context::Context;
use crate::exit::{self, fail};
use crate::output::{self, line};
use crate::settings::change_directory;
use deskline_core::sync::Resolution;
use deskline_core::*;
use std::process::ExitCode;

/// Arguments of `deskline directory`.
#[derive(Debug, clap::Args)]
pub struct DirectoryArgs {
    #[command(subcommand)]
    action: Option<DirectoryAction>,
}

/// What to do with the directory.
#[derive(Debug, clap::Subcommand)]
pub enum DirectoryAction {
    /// List your personal directory.
    List,
    /// Add a person to your personal directory.
    Add {
        /// Their name (1–50 characters, unique).
        name: String,
        /// Their number.
        number: String,
    },
    /// Remove a person from your personal directory.
    Rm {
        /// Their name.
        name: String,
    },
    /// Search every directory (personal, group, enterprise) as you type, from the cache.
    Search {
        /// Words of a name, or digits of a number.
        text: String,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Ask the provider instead of the cache: group or enterprise.
        #[arg(long, value_enum)]
        remote: Option<RemoteScope>,
    },
}

/// A shared directory on the provider.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RemoteScope {
    /// Your group.
    Group,
    /// Your enterprise.
    Enterprise,
}

/// `deskline directory`.
pub async fn directory(ctx: &Context, args: DirectoryArgs) -> anyhow::Result<ExitCode> {
    match args.action.unwrap_or(DirectoryAction::List) {
        DirectoryAction::List => {
            let session = ctx.session().await?;
            let view = session
                .engine
                .setting(SettingKey::PersonalDirectory)
                .await?;
            let Setting::PersonalDirectory(dir) = &view.value else {
                return Err(fail(
                    exit::FAILURE,
                    "the personal directory is not available",
                ));
            };
            if ctx.global.json {
                output::print_json(&dir.entries);
            } else if dir.entries.is_empty() {
                line("Your personal directory is empty.");
            } else {
                for (name, number) in &dir.entries {
                    line(format!("{name}\t{number}"));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DirectoryAction::Add { name, number } => {
            let name = DirectoryName::parse(&name)?;
            let number = Destination::parse(&number)?;
            change_directory(ctx, move |s| {
                if let Setting::PersonalDirectory(dir) = s {
                    if dir.entries.contains_key(name.as_str()) {
                        return Err(ValidationError::new(
                            "name",
                            format!("'{name}' is already in your directory"),
                        ));
                    }
                    dir.entries.insert(name.as_str().to_owned(), number);
                }
                Ok(())
            })
            .await
        }
        DirectoryAction::Rm { name } => {
            let name = DirectoryName::parse(&name)?;
            change_directory(ctx, move |s| {
                if let Setting::PersonalDirectory(dir) = s
                    && dir.entries.remove(name.as_str()).is_none()
                {
                    return Err(ValidationError::new(
                        "name",
                        format!("'{name}' is not in your directory"),
                    ));
                }
                Ok(())
            })
            .await
        }
        DirectoryAction::Search {
            text,
            limit,
            remote,
        } => {
            let session = ctx.session().await?;
            if let Some(scope) = remote {
                let scope = match scope {
                    RemoteScope::Group => DirectoryScope::Group,
                    RemoteScope::Enterprise => DirectoryScope::Enterprise,
                };
                let query = DirectoryQuery {
                    name: Some(text),
                    start: 1,
                    results: limit.clamp(1, 1000) as u32,
                    ..Default::default()
                };
                let page = session
                    .engine
                    .provider()
                    .search_directory(scope, &query)
                    .await?;
                if ctx.global.json {
                    output::print_json(&page);
                } else {
                    for c in &page.contacts {
                        line(format!(
                            "{} {}\t{}\t{}",
                            c.first_name,
                            c.last_name,
                            c.number.clone().unwrap_or_default(),
                            c.extension.clone().unwrap_or_default()
                        ));
                    }
                    line(format!("({} of {} shown)", page.contacts.len(), page.total));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let found = ctx
                .deskline
                .store()
                .search_directory(&session.account.id, &text, limit)
                .await?;
            if ctx.global.json {
                output::print_json(&found);
            } else {
                if found.is_empty() {
                    line("Nobody found.");
                }
                for e in &found {
                    line(format!(
                        "{}\t{}\t{}\t({})",
                        e.name,
                        e.number.clone().unwrap_or_default(),
                        e.extension.clone().unwrap_or_default(),
                        e.source.as_str()
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Arguments of `deskline calls`.
#[derive(Debug, clap::Args)]
pub struct CallsArgs {
    /// Only missed calls.
    #[arg(long, conflicts_with_all = ["placed", "received"])]
    missed: bool,
    /// Only calls you made.
    #[arg(long, conflicts_with = "received")]
    placed: bool,
    /// Only calls you took.
    #[arg(long)]
    received: bool,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Delete the provider's call logs shown (all, or the chosen kind).
    #[arg(long)]
    clear: bool,
}

/// `deskline calls`.
pub async fn calls(ctx: &Context, args: CallsArgs) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    let kind = if args.missed {
        Some(CallLogKind::Missed)
    } else if args.placed {
        Some(CallLogKind::Placed)
    } else if args.received {
        Some(CallLogKind::Received)
    } else {
        None
    };
    if args.clear {
        session
            .engine
            .provider()
            .delete_call_logs(kind, None)
            .await?;
        let logs = session.engine.provider().call_logs().await?;
        ctx.deskline
            .store()
            .replace_call_logs(&session.account.id, &logs)
            .await?;
        line("Call logs deleted.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut logs = ctx.deskline.store().call_logs(&session.account.id).await?;
    logs.retain(|l| kind.is_none_or(|k| l.kind == k));
    logs.sort_by_key(|l| std::cmp::Reverse(l.time));
    logs.truncate(args.limit);
    let seen = ctx
        .deskline
        .store()
        .call_history(&session.account.id, args.limit)
        .await?;
    if ctx.global.json {
        output::print_json(
            &serde_json::json!({"provider_call_logs": logs, "deskline_calls": seen}),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if logs.is_empty() && seen.is_empty() {
        line("No calls.");
    }
    for l in &logs {
        let when = l
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        line(format!(
            "{when}\t{:?}\t{}\t{}",
            l.kind,
            l.number,
            l.name.clone().unwrap_or_default()
        ));
    }
    if !seen.is_empty() {
        line("Calls Deskline saw:");
        for c in &seen {
            line(format!(
                "{}\t{:?}\t{}\t{}\t{:?}",
                c.started_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                c.direction,
                c.number,
                c.name.clone().unwrap_or_default(),
                c.outcome
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `deskline dial`.
#[derive(Debug, clap::Args)]
pub struct DialArgs {
    /// Number, extension, SIP address, or a tel:/sip:/callto: link.
    destination: String,
    /// Ring this shared soft client (line/port) first instead of all your devices.
    #[arg(long, value_name = "LINE_PORT")]
    line: Option<String>,
}

/// Accepts `callto:` links as well as what `Destination` parses.
fn parse_link(raw: &str) -> Result<Destination, ValidationError> {
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("callto:") {
        let rest = rest.trim_start_matches("//");
        return Destination::parse(&trimmed[trimmed.len() - rest.len()..]);
    }
    Destination::parse(trimmed)
}

/// `deskline dial`.
pub async fn dial(ctx: &Context, args: DialArgs) -> anyhow::Result<ExitCode> {
    let destination = parse_link(&args.destination)?;
    let session = ctx.session().await?;
    let started = session
        .engine
        .provider()
        .dial(&destination, args.line.as_deref())
        .await?;
    let record = CallRecord {
        id: started.call_id.clone(),
        line: args
            .line
            .clone()
            .unwrap_or_else(|| session.account.user_id.to_string()),
        direction: CallDirection::Outgoing,
        number: destination.to_string(),
        name: None,
        started_at: time::OffsetDateTime::now_utc(),
        ended_at: None,
        outcome: CallOutcome::Dialled,
        suppressed_by_dnd: false,
    };
    ctx.deskline
        .store()
        .record_call(&session.account.id, &record)
        .await?;
    if ctx.global.json {
        output::print_json(&started);
    } else {
        line(format!(
            "Calling {destination}: answer your phone when it rings."
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `deskline changes`.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    #[command(subcommand)]
    action: Option<ChangesAction>,
}

/// What to do with queued changes.
#[derive(Debug, clap::Subcommand)]
pub enum ChangesAction {
    /// List them.
    List,
    /// Decide a conflict.
    Resolve {
        /// The change's id.
        id: i64,
        /// Keep mine (send it over theirs) or take theirs (drop mine).
        #[arg(value_enum)]
        choice: Choice,
    },
    /// Drop a change.
    Discard {
        /// The change's id.
        id: i64,
    },
}

/// A conflict resolution.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Choice {
    /// Apply my change over the provider's value.
    Mine,
    /// Keep the provider's value.
    Theirs,
}

/// `deskline changes`.
pub async fn changes(ctx: &Context, args: ChangesArgs) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    match args.action.unwrap_or(ChangesAction::List) {
        ChangesAction::List => {
            let edits = ctx.deskline.store().edits(&session.account.id).await?;
            if ctx.global.json {
                output::print_json(&edits);
            } else if edits.is_empty() {
                line("No changes waiting: the provider has everything.");
            } else {
                for e in &edits {
                    let state = match &e.state {
                        EditState::Pending { last_error } => format!(
                            "pending ({} attempt(s){})",
                            e.attempts,
                            last_error
                                .as_ref()
                                .map(|l| format!(", last: {l}"))
                                .unwrap_or_default()
                        ),
                        EditState::Conflict { fields, .. } => {
                            format!("conflict on {}", fields.join(", "))
                        }
                        EditState::Failed { reason } => format!("refused: {reason}"),
                    };
                    line(format!("#{}\t{}\t{}", e.id, e.key.display_name(), state));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ChangesAction::Resolve { id, choice } => {
            let resolution = match choice {
                Choice::Mine => Resolution::KeepMine,
                Choice::Theirs => Resolution::TakeTheirs,
            };
            session.engine.resolve(id, resolution).await?;
            let report = session.engine.flush(true).await?;
            line(format!(
                "Resolved #{id}; {} change(s) sent.",
                report.applied
            ));
            Ok(ExitCode::SUCCESS)
        }
        ChangesAction::Discard { id } => {
            session.engine.discard(id).await?;
            line(format!("Dropped change #{id}."));
            Ok(ExitCode::SUCCESS)
        }
    }
}
