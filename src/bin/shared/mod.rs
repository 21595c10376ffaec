//! What the scanning binaries (`mlsupply`, `-typo`, `-pin`, `-hub`) do alike around their own
//! work: read the configuration (or print it for `--dump-config`), and turn the result into an
//! exit code. Here and not in the library, because it prints and the library never does.
//! (A folder module: cargo would take `src/bin/shared.rs` for a binary of its own.)

use std::process::ExitCode;

use mlsupply::cli::CommonArgs;
use mlsupply::config::{self, Config};
use mlsupply::exit::Exit;
use mlsupply::scan::Target;

/// The scan's target and configuration, or `None` once `--dump-config` has printed the
/// configuration and the run is over.
pub fn setup(common: &CommonArgs) -> anyhow::Result<Option<(Target, Config)>> {
    let target = common.target();
    let config = common.load_config(&target.root)?;
    if common.dump_config {
        print!("{}", config::dump(&config));
        return Ok(None);
    }
    Ok(Some((target, config)))
}

/// The exit code of a run: an error is reported as `<binary>: error: …` and exits 2.
pub fn exit_code(binary: &str, result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("{binary}: error: {err:#}");
            Exit::Error.into()
        }
    }
}
