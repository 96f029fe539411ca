//! `deskline listen`: registers lines and prints line events (being written).

use crate::GlobalOpts;
use std::process::ExitCode;

/// Arguments of `deskline listen`.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {}

/// Runs `deskline listen`.
pub async fn run(_args: ListenArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("deskline listen is not available yet")
}
