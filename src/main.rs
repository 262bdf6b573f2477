//! The ondeck binary: command line only; everything else is in the library.

fn main() -> std::process::ExitCode {
    ondeck::cli::main()
}
