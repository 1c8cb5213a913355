//! Where central-auth keeps its config file and its state.
//!
//! With `CENTRAL_AUTH_HOME` set, both live under it (`config.toml`, `state/`).
//! Otherwise the platform's directories are used: on Linux
//! `$XDG_CONFIG_HOME/central-auth/config.toml` (default `~/.config/...`) and
//! `$XDG_STATE_HOME/central-auth/` (default `~/.local/state/...`).

use std::path::PathBuf;

use crate::error::Error;

/// Environment variable that relocates config and state under one directory.
pub const HOME_ENV: &str = "CENTRAL_AUTH_HOME";
/// Environment variable naming the profile when `--profile` is not given.
pub const PROFILE_ENV: &str = "CENTRAL_AUTH_PROFILE";

/// The resolved locations of config and state.
#[derive(Debug, Clone)]
pub struct Home {
    /// The config file.
    pub config_file: PathBuf,
    /// The state directory (token store, locks, usage records).
    pub state_dir: PathBuf,
}

impl Home {
    /// Resolves the locations from the environment.
    pub fn from_env() -> Result<Home, Error> {
        if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Home::under(PathBuf::from(dir)));
        }
        let config = dirs::config_dir().ok_or_else(|| {
            Error::config(format!(
                "cannot find the config directory (is HOME set?); set {HOME_ENV}"
            ))
        })?;
        let state = dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .ok_or_else(|| {
                Error::config(format!(
                    "cannot find the state directory (is HOME set?); set {HOME_ENV}"
                ))
            })?;
        Ok(Home {
            config_file: config.join("central-auth").join("config.toml"),
            state_dir: state.join("central-auth"),
        })
    }

    /// Both locations under one directory, as `CENTRAL_AUTH_HOME` does.
    pub fn under(dir: PathBuf) -> Home {
        Home {
            config_file: dir.join("config.toml"),
            state_dir: dir.join("state"),
        }
    }
}
