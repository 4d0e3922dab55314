//! The `folio` binary: parses the command line and hands over to `folio::cli`.

fn main() -> std::process::ExitCode {
    folio::cli::main()
}
