//! Deployment files without Docker: the compose file, the Dockerfile and the README agree
//! with the code (every `FOLIO_` variable is a documented key, every service command is a
//! real `folio` subcommand, the README's configuration table is complete).

use clap::Parser;
use folio::cli::{Cli, Command};
use folio_common::config::KEYS;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The part of a compose file these tests read; compose accepts more than one spelling
/// of some fields, so those stay loose.
#[derive(Deserialize)]
struct Compose {
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
struct Service {
    image: Option<String>,
    build: Option<serde_norway::Value>,
    environment: Option<Environment>,
    command: Option<CommandLine>,
    healthcheck: Option<Healthcheck>,
}

#[derive(Deserialize)]
struct Healthcheck {
    test: Vec<String>,
}

/// `environment:` as a map (`KEY: value`) or a list (`- KEY=value`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Environment {
    Map(BTreeMap<String, serde_norway::Value>),
    List(Vec<String>),
}

impl Environment {
    fn names(&self) -> Vec<String> {
        match self {
            Environment::Map(map) => map.keys().cloned().collect(),
            Environment::List(list) => list
                .iter()
                .map(|entry| entry.split('=').next().unwrap_or_default().to_owned())
                .collect(),
        }
    }
}

/// `command:` in exec form (a list) or as one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum CommandLine {
    List(Vec<String>),
    Text(String),
}

impl CommandLine {
    fn args(&self) -> Vec<String> {
        match self {
            CommandLine::List(args) => args.clone(),
            CommandLine::Text(line) => line.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn compose() -> Compose {
    serde_norway::from_str(&read("docker-compose.yml"))
        .unwrap_or_else(|e| panic!("docker-compose.yml does not parse: {e}"))
}

/// Whether `name` is a documented key: one of `KEYS`, or a subgraph's own
/// (`FOLIO_<SUBGRAPH>_ADDR` and the like, for a subgraph the platform has).
fn is_documented(name: &str) -> bool {
    KEYS.iter().any(|k| k.env == name)
        || folio::platform::subgraph_names().iter().any(|subgraph| {
            let upper = subgraph.to_ascii_uppercase();
            KEYS.iter()
                .any(|k| k.env.replace("<SUBGRAPH>", &upper) == name)
        })
}

/// The services built from the Dockerfile: those with `build`, and those that reuse the
/// image one of them builds.
fn folio_services(compose: &Compose) -> Vec<(&str, &Service)> {
    let built_images: Vec<&str> = compose
        .services
        .values()
        .filter(|s| s.build.is_some())
        .filter_map(|s| s.image.as_deref())
        .collect();
    compose
        .services
        .iter()
        .filter(|(_, s)| {
            s.build.is_some()
                || s.image
                    .as_deref()
                    .is_some_and(|image| built_images.contains(&image))
        })
        .map(|(name, s)| (name.as_str(), s))
        .collect()
}

#[test]
fn compose_sets_only_documented_folio_variables() {
    let compose = compose();
    let mut undocumented = Vec::new();
    for (service, spec) in &compose.services {
        let names = spec.environment.as_ref().map(Environment::names);
        for name in names.unwrap_or_default() {
            if name.starts_with("FOLIO_") && !is_documented(&name) {
                undocumented.push(format!("service `{service}` sets {name}"));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "docker-compose.yml sets FOLIO_ variables that are not configuration keys \
         (folio_common::config::KEYS):\n  {}",
        undocumented.join("\n  ")
    );
}

#[test]
fn compose_commands_are_real_folio_subcommands() {
    let compose = compose();
    let services = folio_services(&compose);
    let names: Vec<&str> = services.iter().map(|(name, _)| *name).collect();
    let folio_services = folio::platform::service_names();
    for expected in &folio_services {
        assert!(
            names.contains(expected),
            "docker-compose.yml has no service `{expected}` built from the Dockerfile \
             (found: {names:?})"
        );
    }
    for (name, spec) in services {
        let Some(command) = &spec.command else {
            panic!("service `{name}` has no `command`; say which folio service it runs");
        };
        let args = command.args();
        let cli = Cli::try_parse_from(std::iter::once("folio".to_owned()).chain(args.clone()))
            .unwrap_or_else(|e| {
                panic!(
                    "service `{name}`: `folio {}` is not a folio command:\n{e}",
                    args.join(" ")
                )
            });
        // A service named after a Folio service must run that service, not another one.
        if folio_services.contains(&name) {
            let Some(Command::Serve {
                only: Some(only), ..
            }) = cli.command
            else {
                panic!(
                    "service `{name}` must run `serve --only {name}`, not `folio {}`",
                    args.join(" ")
                );
            };
            assert_eq!(
                only.as_str(),
                name,
                "service `{name}` must run `serve --only {name}`, not `folio {}`",
                args.join(" ")
            );
        }
    }
}

#[test]
fn every_folio_service_has_a_health_check_that_asks_its_own_port() {
    let compose = compose();
    for (name, spec) in folio_services(&compose) {
        let test = &spec
            .healthcheck
            .as_ref()
            .unwrap_or_else(|| panic!("service `{name}` has no healthcheck"))
            .test;
        let Some(("CMD", args)) = test.split_first().map(|(k, a)| (k.as_str(), a)) else {
            panic!("service `{name}`: healthcheck {test:?} is not in exec form");
        };
        assert_eq!(
            args.first().map(String::as_str),
            Some("folio"),
            "{name}: {test:?}"
        );
        let cli = Cli::try_parse_from(args.iter().cloned())
            .unwrap_or_else(|e| panic!("service `{name}`: {test:?} is not a folio command:\n{e}"));
        let Some(Command::Health { url }) = cli.command else {
            panic!("service `{name}`: {test:?} is not `folio health <url>`");
        };
        let addr = spec
            .environment
            .as_ref()
            .and_then(|e| match e {
                Environment::Map(map) => map
                    .get(&format!("FOLIO_{}_ADDR", name.to_ascii_uppercase()))
                    .and_then(|v| v.as_str().map(str::to_owned)),
                Environment::List(_) => None,
            })
            .unwrap_or_else(|| {
                panic!(
                    "service `{name}` sets no FOLIO_{}_ADDR",
                    name.to_ascii_uppercase()
                )
            });
        let port = addr.rsplit(':').next().unwrap_or_default();
        assert!(
            url.starts_with(&format!("http://127.0.0.1:{port}/")),
            "service `{name}` listens on {addr} but its health check asks {url}"
        );
    }
}

#[test]
fn readme_documents_every_configuration_key() {
    let readme = read("README.md");
    let table = readme
        .split_once("\n## Configuration\n")
        .and_then(|(_, rest)| rest.split_once("\n## "))
        .map(|(table, _)| table)
        .expect("README.md has a Configuration section");
    // The first cell of each row: `FOLIO_…`.
    let mut rows: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name))
        .filter(|name| name.starts_with("FOLIO_"))
        .collect();
    rows.sort_unstable();
    let mut keys: Vec<&str> = KEYS.iter().map(|k| k.env).collect();
    keys.sort_unstable();
    assert_eq!(
        rows, keys,
        "README.md's configuration table and folio_common::config::KEYS differ"
    );
}

#[test]
fn dockerfile_runs_folio_with_documented_variables() {
    let dockerfile = read("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    let entrypoint = instructions
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("the Dockerfile has no ENTRYPOINT");
    let exec_form: Vec<String> = serde_json::from_str(entrypoint.trim()).unwrap_or_else(|e| {
        panic!("ENTRYPOINT {entrypoint} is not in exec form (a JSON list): {e}")
    });
    assert_eq!(
        exec_form,
        ["folio"],
        "the Dockerfile's ENTRYPOINT must be [\"folio\"], so a compose `command` is a folio subcommand"
    );

    for line in instructions {
        let Some(assignments) = line.strip_prefix("ENV ") else {
            continue;
        };
        for name in assignments
            .split_whitespace()
            .filter_map(|a| a.split('=').next())
        {
            assert!(
                !name.starts_with("FOLIO_") || is_documented(name),
                "the Dockerfile sets {name}, which is not a configuration key (folio_common::config::KEYS)"
            );
        }
    }
}

#[test]
fn readme_names_every_service_of_only() {
    let readme = read("README.md");
    let list = folio::platform::service_names().join(" | ");
    assert!(
        readme.contains(&format!("one service per process: {list}")),
        "README.md must list the services `serve --only` takes: {list}"
    );
}

#[test]
fn readme_lists_exactly_the_error_codes_there_are() {
    let readme = read("README.md");
    let table = readme
        .split_once("The codes:")
        .and_then(|(_, rest)| rest.split_once("\n## "))
        .map(|(table, _)| table)
        .expect("README.md has a table after \"The codes:\"");
    let mut documented: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect();
    documented.sort_unstable();
    documented.dedup();
    let mut codes: Vec<&str> = folio_router::error::CODES
        .iter()
        .copied()
        .chain(folio_common::error::Code::ALL.iter().map(|c| c.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        documented, codes,
        "README.md's error codes and the code's differ"
    );
}
