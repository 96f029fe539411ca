//! `deskline-sandbox`: runs the local BroadWorks XSP. Prints `listening on URL` when ready
//! and, with the demo seed, `demo account: USER_ID PASSWORD`.

use anyhow::Context;
use clap::Parser;
use deskline_sandbox::{Charset, Sandbox, SandboxConfig, Seed};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "deskline-sandbox",
    version,
    about = "A local BroadWorks Xsi-Actions provider for tests and the demo"
)]
struct Args {
    /// Loopback address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `demo` or a seed file (see crates/sandbox/SEED-FORMAT.md).
    #[arg(long, default_value = "demo")]
    seed: String,
    /// Serve HTTPS with a generated test CA.
    #[arg(long)]
    tls: bool,
    /// Write the test CA certificate (PEM) here.
    #[arg(long, requires = "tls")]
    ca_out: Option<PathBuf>,
    /// Cluster redirect mode: answer 302 to a second listener.
    #[arg(long)]
    redirect: bool,
    /// Charset of localised answers: utf-8 or iso-8859-1.
    #[arg(long, default_value = "utf-8")]
    charset: String,
    /// SQLite file for the state (kept between runs).
    #[arg(long)]
    db: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let charset = match args.charset.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Charset::Utf8,
        "iso-8859-1" | "latin1" => Charset::Iso8859_1,
        other => anyhow::bail!("unknown charset '{other}': use utf-8 or iso-8859-1"),
    };
    let demo = args.seed == "demo";
    let seed = if demo {
        Seed::Demo
    } else {
        Seed::File(PathBuf::from(&args.seed))
    };
    let sandbox = Sandbox::start(SandboxConfig {
        listen: args.listen,
        seed,
        tls: args.tls,
        redirect: args.redirect,
        charset,
        db_path: args.db,
    })
    .await
    .context("the sandbox could not start")?;
    if let (Some(path), Some(pem)) = (&args.ca_out, sandbox.ca_certificate_pem()) {
        std::fs::write(path, pem).with_context(|| format!("could not write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "listening on {}",
        sandbox.base_url().as_str().trim_end_matches('/')
    )?;
    if demo {
        writeln!(out, "demo account: demo@deskline.example Deskline-demo-1")?;
    }
    out.flush()?;
    drop(out);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sandbox.shutdown().await;
    Ok(())
}
