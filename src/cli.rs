//! Command-line interface of the `folio` binary.

use crate::platform::{self, Service};
use clap::{Parser, Subcommand};
use folio_common::Config;
use std::process::ExitCode;

/// Folio: a content-publishing platform served as one federated GraphQL API.
///
/// Configuration comes from `FOLIO_*` environment variables and an optional TOML file
/// (see the README's configuration table).
#[derive(Parser, Debug)]
#[command(name = "folio", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the platform: by default every service in this process (router on
    /// 127.0.0.1:4000, GraphiQL at http://127.0.0.1:4000), each with its own database.
    Serve {
        /// Run only this service (for multi-process and container deployments).
        #[arg(long, value_enum)]
        only: Option<Service>,
    },
    /// Creates or upgrades the databases' schemas, then exits.
    Migrate {
        /// Migrate only this service's database.
        #[arg(long, value_enum)]
        only: Option<Service>,
    },
    /// Account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Creates an admin, or promotes the user with this email to admin.
    Create {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// The admin's password (8 to 128 characters); only used when creating.
        #[arg(long, env = "FOLIO_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// First name, when creating.
        #[arg(long, default_value = "Admin")]
        first_name: String,
        /// Last name, when creating.
        #[arg(long, default_value = "Admin")]
        last_name: String,
    },
}

/// Runs the command line; the exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::load() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("folio: {e}");
            return ExitCode::FAILURE;
        }
    };
    folio_common::telemetry::init(&cfg.log_format, &cfg.log);
    for var in Config::unknown_env_vars() {
        tracing::warn!(%var, "ignoring an environment variable that is not a configuration key");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("folio: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("folio: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, cfg: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { only: None }) {
        Command::Serve { only } => {
            let listeners = platform::Listeners::bind(&cfg, only).await?;
            let running = platform::start(cfg, listeners).await?;
            if let Some(addr) = running.router_addr {
                tracing::info!(url = %format!("http://{addr}"), "folio is up: GraphiQL and /graphql");
            }
            running.wait(platform::shutdown_signal()).await
        }
        Command::Migrate { only } => platform::migrate(&cfg, only).await,
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password,
                    first_name,
                    last_name,
                },
        } => {
            let users = folio_users::init(&cfg).await?;
            let user =
                folio_users::ensure_admin(&users.state, &email, &password, &first_name, &last_name)
                    .await?;
            tracing::info!(id = %user.id, email = %user.email, "admin ready");
            Ok(())
        }
    }
}
