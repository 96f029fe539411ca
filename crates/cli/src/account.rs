//! Account commands: `login`, `logout`, `status`, `sync`, `devices`.

use crate::GlobalOpts;
use crate::context::{self, Context};
use crate::exit::{self, fail};
use crate::output::{self, line, on_off};
use anyhow::Context as _;
use deskline_api::{Deskline, OpenOptions};
use deskline_core::sync::{SyncEngine, SyncEvent, SyncScope};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// Arguments of `deskline login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Your provider's server address (e.g. https://xsp.example.net).
    #[arg(long, env = "DESKLINE_SERVER")]
    server: Option<String>,
    /// Your My Phone user ID (e.g. jdoe@example.com).
    #[arg(long)]
    user: Option<String>,
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long)]
    password_stdin: bool,
    /// Do not sign in automatically next time.
    #[arg(long)]
    no_auto: bool,
}

/// Arguments of `deskline logout`.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Also delete the account's cached data.
    #[arg(long)]
    forget: bool,
    /// Sign out even though some changes have not reached the provider (they are lost).
    #[arg(long)]
    discard_changes: bool,
}

/// Arguments of `deskline sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Skip the group and enterprise directories.
    #[arg(long)]
    quick: bool,
}

/// Arguments of `deskline devices`.
#[derive(Debug, clap::Args)]
pub struct DevicesArgs {
    /// Also ask the provider which devices are registered now.
    #[arg(long)]
    live: bool,
}

fn prompt(label: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            exit::USAGE,
            format!("{label} is missing: pass it as an option"),
        ));
    }
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    let mut text = String::new();
    std::io::stdin().lock().read_line(&mut text)?;
    Ok(text.trim().to_owned())
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut text)
            .context("could not read the password from standard input")?;
        let password = text.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(fail(exit::USAGE, "no password on standard input"));
        }
        return Ok(SecretString::from(password));
    }
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            exit::USAGE,
            "the password is missing: use --password-stdin in scripts",
        ));
    }
    let password =
        rpassword::prompt_password("Password: ").context("could not read the password")?;
    Ok(SecretString::from(password))
}

/// Runs a sync, showing progress on stderr (a live line on a terminal).
pub async fn sync_with_progress(
    engine: &SyncEngine,
    scope: SyncScope,
    quiet: bool,
) -> anyhow::Result<Vec<String>> {
    let mut events = engine.subscribe();
    let terminal = std::io::stderr().is_terminal() && !quiet;
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                SyncEvent::Progress {
                    done, total, step, ..
                } if terminal => {
                    eprint!("\r\x1b[2KSyncing {done}/{total}: {step}");
                    let _ = std::io::stderr().flush();
                }
                SyncEvent::Finished { .. } => break,
                _ => {}
            }
        }
        if terminal {
            eprint!("\r\x1b[2K");
        }
    });
    let result = engine.sync(scope).await;
    printer.abort();
    if terminal {
        eprint!("\r\x1b[2K");
    }
    Ok(result?)
}

/// `deskline login`.
pub async fn login(args: LoginArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    if global.demo {
        let ctx = Context::open(global).await?;
        let session = ctx.session().await?;
        report_signed_in(&ctx.deskline, &session.account.id, global.json).await?;
        ctx.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    // Prompts and reading standard input block: keep them off the async threads.
    let from_stdin = args.password_stdin;
    let (server, user, password) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let server = match args.server {
            Some(s) => s,
            None => prompt("Server address")?,
        };
        let user = match args.user {
            Some(u) => u,
            None => prompt("User ID")?,
        };
        Ok((server, user, read_password(from_stdin)?))
    })
    .await??;
    let deskline = Deskline::open(OpenOptions {
        data_dir: global.data_dir.clone(),
        extra_ca_pem: context::extra_ca(global).await?,
    })
    .await?;
    let session = deskline
        .accounts()
        .sign_in(&server, &user, password, !args.no_auto)
        .await?;
    let failed = sync_with_progress(&session.engine, SyncScope::Full, global.json).await?;
    for step in &failed {
        eprintln!("deskline: not synced: {step}");
    }
    report_signed_in(&deskline, &session.account.id, global.json).await?;
    Ok(ExitCode::SUCCESS)
}

async fn report_signed_in(
    deskline: &Deskline,
    account: &deskline_core::AccountId,
    json: bool,
) -> anyhow::Result<()> {
    let accounts: Vec<_> = deskline
        .accounts()
        .list()
        .await?
        .into_iter()
        .filter(|a| &a.id == account)
        .collect();
    let status = deskline_api::status::status(deskline.store().as_ref(), accounts).await?;
    if json {
        output::print_json(&status.accounts);
    } else if let Some(a) = status.accounts.first() {
        line(format!(
            "Signed in as {} ({}) on {}; {} soft client(s) synced.",
            a.name.clone().unwrap_or_else(|| a.user_id.clone()),
            a.user_id,
            a.server,
            a.soft_clients.len()
        ));
    }
    Ok(())
}

/// `deskline logout`.
pub async fn logout(ctx: &Context, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let account = ctx
        .deskline
        .accounts()
        .choose(ctx.global.account.as_deref())
        .await?;
    ctx.deskline
        .accounts()
        .sign_out(&account.id, args.forget, args.discard_changes)
        .await?;
    if ctx.global.json {
        output::print_json(
            &serde_json::json!({"signed_out": account.id, "forgotten": args.forget}),
        );
    } else {
        line(format!(
            "Signed out of {}{}.",
            account.user_id,
            if args.forget {
                " and deleted its cached data"
            } else {
                ""
            }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `deskline status`: from the cache only.
pub async fn status(ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut accounts = ctx.deskline.accounts().list().await?;
    if let Some(wanted) = &ctx.global.account {
        accounts.retain(|a| a.id.0 == *wanted || a.user_id.as_str() == wanted);
    }
    let status = deskline_api::status::status(ctx.deskline.store().as_ref(), accounts).await?;
    if ctx.global.json {
        output::print_json(&status);
        return Ok(ExitCode::SUCCESS);
    }
    if status.accounts.is_empty() {
        line("Not signed in. Sign in with `deskline login`, or try `deskline --demo status`.");
        return Ok(ExitCode::SUCCESS);
    }
    for a in &status.accounts {
        line(format!(
            "{} <{}> on {}",
            a.name.clone().unwrap_or_default(),
            a.user_id,
            a.server
        ));
        line(format!(
            "  Line: {}{}",
            a.number.clone().unwrap_or_else(|| "(no number)".into()),
            a.extension
                .as_ref()
                .map(|e| format!(", extension {e}"))
                .unwrap_or_default()
        ));
        if let Some(dnd) = a.do_not_disturb {
            line(format!("  Do Not Disturb: {}", on_off(dnd)));
        }
        for f in &a.forwarding {
            line(format!(
                "  Forward {}: {}{}{}",
                f.kind.replace('_', " "),
                on_off(f.active),
                f.to.as_ref().map(|t| format!(" → {t}")).unwrap_or_default(),
                if f.pending { " (pending)" } else { "" }
            ));
        }
        for c in &a.soft_clients {
            line(format!(
                "  Soft client: {} ({}){}",
                c.line_port,
                c.device_type,
                c.aor
                    .as_ref()
                    .map(|aor| format!(", {aor} via {}", c.registrar.clone().unwrap_or_default()))
                    .unwrap_or_default()
            ));
        }
        if a.pending_changes + a.conflicts + a.failed_changes > 0 {
            line(format!(
                "  Changes: {} pending, {} in conflict, {} refused (see `deskline changes`)",
                a.pending_changes, a.conflicts, a.failed_changes
            ));
        }
        line(format!(
            "  Last sync: {}",
            a.last_sync_at
                .and_then(|t| t
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok())
                .unwrap_or_else(|| "never".into())
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `deskline sync`.
pub async fn sync(ctx: &Context, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    let scope = if args.quick {
        SyncScope::Incremental
    } else {
        SyncScope::Full
    };
    let failed = sync_with_progress(&session.engine, scope, ctx.global.json).await?;
    let edits = ctx.deskline.store().edits(&session.account.id).await?;
    if ctx.global.json {
        output::print_json(&serde_json::json!({
            "account": session.account.id,
            "failed_steps": failed,
            "queued_changes": edits.len(),
        }));
    } else {
        line(if failed.is_empty() {
            "Synced.".to_owned()
        } else {
            format!("Synced, except: {}", failed.join("; "))
        });
        if !edits.is_empty() {
            line(format!(
                "{} change(s) still queued (see `deskline changes`).",
                edits.len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `deskline devices`.
pub async fn devices(ctx: &Context, args: DevicesArgs) -> anyhow::Result<ExitCode> {
    let session = ctx.session().await?;
    let clients = ctx
        .deskline
        .store()
        .soft_clients(&session.account.id)
        .await?;
    let live = if args.live {
        Some(session.engine.provider().registrations().await?)
    } else {
        None
    };
    if ctx.global.json {
        output::print_json(&serde_json::json!({"soft_clients": clients, "registrations": live}));
        return Ok(ExitCode::SUCCESS);
    }
    if clients.is_empty() {
        line("No soft clients are shared with you.");
    }
    for c in &clients {
        line(format!(
            "{} — {} ({:?})",
            c.line_port, c.device_type, c.endpoint_type
        ));
        if let Some(sip) = &c.sip {
            line(format!(
                "    {} auth {} via {}{} over {}",
                sip.aor,
                sip.auth_user,
                sip.registrar,
                sip.outbound_proxy
                    .as_ref()
                    .map(|p| format!(" (proxy {p})"))
                    .unwrap_or_default(),
                sip.transport.as_str()
            ));
        } else {
            line("    SIP settings not available from the provider");
        }
    }
    if let Some(regs) = live {
        line(format!("Registered now: {}", regs.len()));
        for r in regs {
            line(format!("    {} at {}", r.line_port, r.contact));
        }
    }
    Ok(ExitCode::SUCCESS)
}
