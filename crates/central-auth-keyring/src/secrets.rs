//! `client_secret_keyring` / `password_keyring`: a profile's client secret
//! or password in an OS keyring item, read only when a call to Central needs
//! it (never on the cached path), and stored by `central-auth secret set`.
//! Both with the default deadline of a keyring call.

use central_auth_core::error::Error;
use central_auth_core::secret::SecretString;
use central_auth_core::secret_source::KeyringItem;

use crate::config::DEFAULT_TIMEOUT;
use crate::item::Item;

fn item(at: &KeyringItem) -> Item {
    Item {
        service: at.service.clone(),
        account: at.account.clone(),
        timeout: DEFAULT_TIMEOUT,
    }
}

/// The secret of the item, `None` when there is none.
pub fn read(at: &KeyringItem) -> Result<Option<SecretString>, Error> {
    item(at).read(None)
}

/// Stores `secret` as the item's secret (creating or replacing it).
pub fn store(at: &KeyringItem, secret: SecretString) -> Result<(), Error> {
    item(at).write(None, secret)
}
