//! How the CLI opens the broker: through the shared `Context` (the client
//! recorded, the literal-secret warning, `--verbose`'s log), for every command
//! and for the proxy's workers.

use central_auth_cli_common::Context;
use central_auth_core::{Broker, Error};

use crate::output;

/// Opens the broker as every binary does (`Context`: the client recorded, the
/// literal-secret warning, `--verbose`'s log); with `for_profile` (the hot
/// one-profile commands) only that profile's part of the config is read
/// (`Broker::open_for`).
pub(crate) fn open_broker(
    verbose: bool,
    client: &'static str,
    for_profile: Option<Option<&str>>,
) -> Result<Broker, Error> {
    let cx = Context::new(output::NAME, client, verbose, output::verbose_log);
    match for_profile {
        Some(explicit) => cx.open_broker_for(explicit),
        None => cx.open_broker(),
    }
}
