use std::process::ExitCode;

fn main() -> ExitCode {
    hotline::cli::main()
}
