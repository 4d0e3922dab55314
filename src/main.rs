//! The `folio` binary: parses the command line and hands over to `folio::cli`.

/// mimalloc, as Hive Router uses: under load glibc's malloc and free were ~28% of the
/// router's CPU (perf, side-by-side `top` query); mimalloc's thread-local free lists make
/// the many small JSON allocations of a request cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    folio::cli::main()
}
