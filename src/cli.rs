//! Command-line interface of the `folio` binary.

use crate::platform;
use anyhow::Context as _;
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
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(platform::service_names()))]
        only: Option<String>,
        /// On a platform with no user yet, fill it with the demo data first (as `folio
        /// demo` does) and print how to sign in.
        #[arg(long, conflicts_with = "only")]
        demo: bool,
    },
    /// Fills the platform with demo data through its own API — two admins and four users
    /// (one password, printed), stories with tags and pictures, follows, likes, reads,
    /// comments, shop products, carts and an order — then exits. It starts the services
    /// in this process on free ports for the while; `folio serve` shows the data after.
    Demo,
    /// Creates or upgrades the databases' schemas, then exits.
    Migrate {
        /// Migrate only this subgraph's database.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(platform::SUBGRAPHS.iter().map(|s| s.name)))]
        only: Option<String>,
    },
    /// Imports contents from a CSV file into the content database, all rows or none.
    ///
    /// The file has a header row naming the columns in any order: title, story, and
    /// optionally description, author_id and tags (separated by '|'). Rows without an
    /// author_id are authored by `--as`. The operator is trusted like an admin, so rows may
    /// name any author. Prints the report; exits non-zero when nothing was created because
    /// of bad rows.
    ImportCsv {
        /// The CSV file to import.
        file: std::path::PathBuf,
        /// Required: the user id that authors rows whose author_id is empty or missing.
        #[arg(long = "as", value_name = "USER_ID")]
        as_user: String,
    },
    /// Watches the events the services publish.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// The search subgraph's index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Asks a service's health or readiness endpoint (`/health`, `/ready`) and exits 0
    /// when it answers 2xx, 1 otherwise: for container health checks (the image has no
    /// curl). HTTPS trusts what FOLIO_TLS_CA_FILE adds.
    Health {
        /// The URL to ask, e.g. http://127.0.0.1:4001/health.
        url: String,
    },
    /// Account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Empties this replica's search index (FOLIO_SEARCH_INDEX_DIR) and rebuilds it from
    /// the content subgraph's API, page by page, with read counts from interactions. Stop
    /// the search service first; content and interactions must be running. (A fresh
    /// index rebuilds itself at start when events travel in-process.)
    Reindex,
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Prints each event as one JSON line as it happens, until interrupted. Over NATS
    /// when FOLIO_NATS_URL is set; otherwise from the services' outboxes (the same
    /// databases `folio serve` uses).
    Tail {
        /// Only events whose type matches, e.g. `user.*`, `*.deleted`, `content.created`.
        #[arg(long = "type", value_name = "PATTERN", default_value = "*")]
        kind: String,
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
    let cfg = match platform::load_config() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("folio: {e}");
            return ExitCode::FAILURE;
        }
    };
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
    // The trace exporter sends on the runtime: installed inside it.
    let service = match &cli.command {
        Some(Command::Serve {
            only: Some(only), ..
        }) => format!("folio-{only}"),
        _ => "folio".to_owned(),
    };
    let telemetry = {
        let _inside = runtime.enter();
        folio_common::telemetry::init_with_traces(&cfg, &service)
    };
    let telemetry = match telemetry {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("folio: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    for var in Config::unknown_env_vars(&platform::subgraph_names()) {
        tracing::warn!(%var, "ignoring an environment variable that is not a configuration key");
    }
    let outcome = runtime.block_on(run(cli, cfg));
    // The last spans go out while the runtime still runs (from this thread, not one of
    // its workers).
    telemetry.shutdown();
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("folio: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; `Ok(false)` when it ran but did not succeed (a rejected import).
async fn run(cli: Cli, cfg: Config) -> anyhow::Result<bool> {
    match cli.command.unwrap_or(Command::Serve {
        only: None,
        demo: false,
    }) {
        Command::Serve { only, demo } => {
            let listeners = platform::Listeners::bind(&cfg, only.as_deref()).await?;
            // With --demo on a platform with no user yet: the users service's state, to
            // make the demo's admins with.
            let fill = if demo {
                let users = folio_users::init(&cfg).await?;
                crate::demo::is_empty(&users).await?.then_some(users)
            } else {
                None
            };
            let running = platform::start(cfg.clone(), listeners).await?;
            if let Some(addr) = running.router_addr() {
                let url = format!("{}://{addr}", folio_common::tls::scheme(&cfg));
                if let Some(users) = &fill {
                    let router = format!("{url}/graphql");
                    let report = crate::demo::seed(&cfg, users, &router).await?;
                    print_lines(&report.lines(&url));
                } else if demo {
                    print_line("--demo: the platform already has users; no demo data added");
                }
                // On stdout, where a newcomer (and a script) looks for it.
                print_line(&format!("folio is up: {url}"));
                tracing::info!(%url, "GraphiQL there, the API at /graphql");
            }
            running.wait(platform::shutdown_signal()).await?;
            Ok(true)
        }
        Command::Demo => {
            let serve_at = cfg.router_addr;
            let mut cfg = cfg;
            // Every service on a free port of its own, for the while.
            for name in platform::subgraph_names() {
                cfg.service_mut(name).addr = Some(([127, 0, 0, 1], 0).into());
                cfg.service_mut(name).url = None;
            }
            cfg.router_addr = ([127, 0, 0, 1], 0).into();
            let listeners = platform::Listeners::bind(&cfg, None).await?;
            let running = platform::start(cfg.clone(), listeners).await?;
            let addr = running.router_addr().context("the router did not start")?;
            let scheme = folio_common::tls::scheme(&cfg);
            let users = folio_users::init(&cfg).await?;
            let router = format!("{scheme}://{addr}/graphql");
            let report = crate::demo::seed(&cfg, &users, &router).await;
            running.shutdown().await;
            let report = report?;
            print_lines(&report.lines(&format!("{scheme}://{serve_at} (after `folio serve`)")));
            Ok(true)
        }
        Command::Migrate { only } => {
            for name in platform::migrate(&cfg, only.as_deref()).await? {
                print_line(&format!("{name}: database migrated"));
            }
            Ok(true)
        }
        Command::ImportCsv { file, as_user } => import_csv(&cfg, &file, as_user).await,
        Command::Search {
            command: SearchCommand::Reindex,
        } => {
            let started = std::time::Instant::now();
            let n = folio_search::reindex(&cfg).await?;
            print_reindexed(n, started.elapsed());
            Ok(true)
        }
        Command::Events {
            command: EventsCommand::Tail { kind },
        } => {
            let mut events = crate::tail::follow(&cfg, &kind).await?;
            tracing::info!(pattern = %kind, "watching events (Ctrl-C to stop)");
            let stop = platform::shutdown_signal();
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    () = &mut stop => break,
                    next = events.recv() => match next {
                        Some(e) => print_event(&e),
                        None => break,
                    },
                }
            }
            Ok(true)
        }
        Command::Health { url } => {
            let client = folio_common::tls::client_builder(&cfg)?
                .timeout(std::time::Duration::from_secs(5))
                .build()?;
            match client.get(&url).send().await {
                Ok(res) => {
                    let status = res.status();
                    print_line(&format!("{url}: {status}"));
                    Ok(status.is_success())
                }
                Err(e) => {
                    print_line(&format!("{url}: {e}"));
                    Ok(false)
                }
            }
        }
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
                folio_users::ensure_admin(&users, &email, &password, &first_name, &last_name)
                    .await?;
            print_admin(&user);
            Ok(true)
        }
    }
}

/// `folio import-csv`: the same engine as `importContentsCsv`, the operator as an admin.
async fn import_csv(cfg: &Config, file: &std::path::Path, as_user: String) -> anyhow::Result<bool> {
    use anyhow::Context as _;
    anyhow::ensure!(!as_user.trim().is_empty(), "--as needs a user id");
    let reader =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let content = folio_content::init(cfg).await?;
    let opts = folio_content::import::ImportOptions {
        viewer_id: as_user.trim().to_owned(),
        is_admin: true,
        max_rows: cfg.import_max_rows,
    };
    let report =
        folio_content::import::import_csv(&content.store, std::io::BufReader::new(reader), opts)
            .await
            .map_err(|e| anyhow::anyhow!("importing {}: {e:?}", file.display()))?;
    print_report(&report);
    Ok(report.failed == 0 && report.errors.is_empty())
}

// What a command created or changed goes to stdout, whatever FOLIO_LOG lets through.

#[allow(clippy::print_stdout)]
fn print_line(line: &str) {
    println!("{line}");
}

fn print_lines(lines: &[String]) {
    for line in lines {
        print_line(line);
    }
}

#[allow(clippy::print_stdout)]
fn print_admin(user: &folio_users::store::UserRow) {
    let role = if user.is_admin { "admin" } else { "user" };
    println!("{role} ready: {} (id {})", user.email, user.id);
}

#[allow(clippy::print_stdout)]
fn print_reindexed(contents: u64, took: std::time::Duration) {
    println!(
        "reindexed {contents} contents in {:.1} s",
        took.as_secs_f64()
    );
}

#[allow(clippy::print_stdout)]
fn print_event(e: &folio_common::events::Event) {
    match serde_json::to_string(e) {
        Ok(line) => println!("{line}"),
        Err(err) => tracing::warn!(error = %err, "an event could not be printed"),
    }
}

#[allow(clippy::print_stdout)]
fn print_report(report: &folio_content::import::ImportReport) {
    println!("created: {}", report.created);
    println!("failed: {}", report.failed);
    for e in &report.errors {
        println!("line {}: {}", e.line, e.message);
    }
    let unlisted = usize::try_from(report.failed)
        .unwrap_or(usize::MAX)
        .saturating_sub(report.errors.len());
    if unlisted > 0 {
        println!("({unlisted} more bad rows not listed)");
    }
}
