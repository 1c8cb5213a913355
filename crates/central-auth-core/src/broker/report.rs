//! What `status` shows for a profile.

use time::OffsetDateTime;

use crate::config::Profile;
use crate::error::Error;
use crate::status::{self, ProfileStatus};
use crate::usage;

use super::Broker;

impl Broker {
    /// What `status` shows for a profile; never a secret.
    pub fn status(&self, profile: &Profile) -> Result<ProfileStatus, Error> {
        let store = self.store_for(profile);
        let record = store.peek(&profile.name);
        // A live chain left in the file store of a profile moved to a shared
        // store: the same line every renewing call fails with.
        let unmoved = match &record {
            Ok(None) => self.refuse_unmoved_chain(profile, None).err(),
            _ => None,
        };
        status::build(
            profile,
            store,
            record,
            usage::read(&usage::path(&self.home.state_dir, &profile.name)),
            OffsetDateTime::now_utc(),
        )
        .map(|mut s| {
            s.api_quota =
                crate::quota::read(&crate::quota::path(&self.home.state_dir, &profile.name))
                    .as_ref()
                    .map(status::QuotaStatus::from_record);
            if s.token.is_none() {
                s.logged_out_at = crate::logout_mark::read(&crate::logout_mark::path(
                    &self.home.state_dir,
                    &profile.name,
                ))
                .map(status::rfc3339);
            }
            s.proxies = crate::proxies::live(&self.home.state_dir, &profile.name)
                .iter()
                .map(status::ProxyStatus::from_record)
                .collect();
            s.warnings.extend(unmoved.map(|e| e.to_string()));
            s
        })
    }
}
