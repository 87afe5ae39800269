//! `warung-server`: see [`warung_server::cli`].

fn main() -> std::process::ExitCode {
    warung_server::cli::main()
}
