//! One keyring item (service, account) read, written and deleted through the
//! platform store, each call bounded by the store's deadline (`deadline`),
//! every failure named by what the user does next.

use std::sync::Arc;
use std::time::Duration;

use central_auth_core::error::{Error, KeyringFault};
use central_auth_core::secret::{ExposeSecret, SecretString};
use central_auth_core::store::lock::FileLock;

use crate::deadline::{self, Outcome};

/// Where an item lives and how long a call may take.
#[derive(Debug, Clone)]
pub struct Item {
    /// The keyring service.
    pub service: String,
    /// The account (the profile, or `<profile>/<secret name>`).
    pub account: String,
    /// The deadline of one call.
    pub timeout: Duration,
}

/// What a call found wrong, mapped from the platform store's error inside the
/// worker thread (so no platform type crosses it).
enum Fault {
    Locked(String),
    NoService(String),
    Damaged(&'static str),
    Other(String),
}

impl Item {
    /// The item's secret, `None` when there is none.
    pub fn read(&self, lock: Option<Arc<FileLock>>) -> Result<Option<SecretString>, Error> {
        let (service, account) = (self.service.clone(), self.account.clone());
        self.call(lock, "read", move || {
            match entry(&service, &account)?.get_password() {
                Ok(s) => Ok(Some(SecretString::from(s))),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(fault(e)),
            }
        })
    }

    /// Stores `secret` as the item's secret (creating the item).
    pub fn write(&self, lock: Option<Arc<FileLock>>, secret: SecretString) -> Result<(), Error> {
        let (service, account) = (self.service.clone(), self.account.clone());
        self.call(lock, "write", move || {
            entry(&service, &account)?
                .set_password(secret.expose_secret())
                .map_err(fault)
        })
    }

    /// Deletes the item; absent is fine.
    pub fn delete(&self, lock: Option<Arc<FileLock>>) -> Result<(), Error> {
        let (service, account) = (self.service.clone(), self.account.clone());
        self.call(lock, "delete", move || {
            match entry(&service, &account)?.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(fault(e)),
            }
        })
    }

    /// Whether the item exists, from its attributes only (never its secret).
    pub fn exists(&self) -> Result<bool, Error> {
        let (service, account) = (self.service.clone(), self.account.clone());
        self.call(None, "look up", move || {
            match entry(&service, &account)?.get_attributes() {
                Ok(_) => Ok(true),
                Err(keyring_core::Error::NoEntry) => Ok(false),
                Err(e) => Err(fault(e)),
            }
        })
    }

    /// Where the item is, for messages: `service/account`.
    pub fn describe(&self) -> String {
        format!(
            "keyring item service {:?} account {:?}",
            self.service, self.account
        )
    }

    fn call<T: Send + 'static>(
        &self,
        lock: Option<Arc<FileLock>>,
        what: &str,
        f: impl FnOnce() -> Result<T, Fault> + Send + 'static,
    ) -> Result<T, Error> {
        let place = self.describe();
        match deadline::run(lock, self.timeout, f) {
            Outcome::Done(Ok(v)) => Ok(v),
            Outcome::Done(Err(fault)) => Err(named(fault, what, &place)),
            Outcome::Late => Err(Error::keyring(
                KeyringFault::NoAnswer,
                format!(
                    "the OS keyring did not answer within {}s to {what} the {place}; nothing was changed. Restart it (e.g. `gnome-keyring-daemon --replace --components=secrets`), or use the file store (`central-auth store migrate --to file`)",
                    self.timeout.as_secs()
                ),
            )),
        }
    }
}

/// The entry in the platform's store, which the `keyring` crate connects to
/// once per process, on first use (a process that found no keyring service
/// keeps that answer: every run of a tool is a new process).
fn entry(service: &str, account: &str) -> Result<keyring_core::Entry, Fault> {
    if let Err(e) = keyring::Entry::store_status() {
        return Err(match e {
            keyring_core::Error::NoStorageAccess(inner) => {
                Fault::Locked(one_line(&inner.to_string()))
            }
            other => Fault::NoService(one_line(&other.to_string())),
        });
    }
    keyring::Entry::new(service, account)
        .map(|e| e.inner)
        .map_err(fault)
}

fn fault(e: keyring_core::Error) -> Fault {
    use keyring_core::Error as K;
    match e {
        K::NoStorageAccess(inner) => Fault::Locked(one_line(&inner.to_string())),
        K::PlatformFailure(inner) => Fault::NoService(one_line(&inner.to_string())),
        K::NoDefaultStore => Fault::NoService("no platform keyring store".to_owned()),
        K::BadEncoding(_) | K::BadDataFormat(..) => Fault::Damaged("not UTF-8 text"),
        K::Ambiguous(_) => Fault::Damaged("several items match"),
        K::TooLong(..) => Fault::Other("the record is too long for this keyring".to_owned()),
        other => Fault::Other(one_line(&other.to_string())),
    }
}

fn named(fault: Fault, what: &str, place: &str) -> Error {
    match fault {
        Fault::Locked(detail) => Error::keyring(
            KeyringFault::Locked,
            format!(
                "the OS keyring is locked or its unlock prompt was dismissed ({detail}) when trying to {what} the {place}; nothing was changed. Unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock` reading the password on stdin) and retry, or use the file store"
            ),
        ),
        Fault::NoService(detail) => Error::keyring(
            KeyringFault::NoService,
            format!(
                "no OS keyring answers ({detail}) when trying to {what} the {place}; nothing was changed. Start one (GNOME Keyring, KeePassXC with its Secret Service on) in this session (DBUS_SESSION_BUS_ADDRESS), or use the file store"
            ),
        ),
        Fault::Damaged(why) => Error::store(format!(
            "the {place} is unusable ({why}); fix or delete it with your keyring's tool (seahorse, `secret-tool clear service SERVICE username PROFILE`), then run `central-auth login` or `import`"
        )),
        Fault::Other(detail) => Error::store(format!(
            "the OS keyring refused to {what} the {place} ({detail}); nothing was changed"
        )),
    }
}

/// A platform message as one line of visible text.
fn one_line(text: &str) -> String {
    let t: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    t.trim().to_owned()
}
