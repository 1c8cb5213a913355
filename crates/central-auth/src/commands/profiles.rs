//! `central-auth profiles`: list the configured profiles, or `profiles import
//! --from cencli FILE` (`crate::profiles_import`).

use std::path::Path;
use std::process::ExitCode;

use central_auth_core::Broker;

use super::Outcome;
use crate::output::{print_stdout, say};
use crate::{profiles_import, view};

/// Lists the profiles (text, or with `json` the documented object, or with
/// `names` only the names, one per line, for shell completion).
pub(crate) fn list(broker: &Broker, json: bool, names: bool) -> Outcome {
    let text = if names {
        broker
            .config()
            .profiles
            .keys()
            .map(|name| format!("{}\n", name.as_str()))
            .collect()
    } else if json {
        view::profiles_json(broker.config())
    } else {
        view::profiles(broker.config())
    };
    print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Creates profiles from cencli's `config.yaml`; one stderr line per change.
pub(crate) fn import_cencli(broker: &Broker, file: &Path, no_secrets: bool) -> Outcome {
    let report = profiles_import::import(&broker.home().config_file, file, no_secrets)?;
    for line in report.lines {
        say(&line)?;
    }
    Ok(ExitCode::SUCCESS)
}
