//! MSP tenant profiles (`grant = "token_exchange"`): the MSP token is taken
//! through the broker like any profile's (under the MSP profile's own lock,
//! so every tenant shares one mint), then exchanged (RFC 8693) for the
//! tenant's token under the tenant profile's lock (one exchange per tenant).
//!
//! Lock order is always tenant, then MSP; the MSP profile never takes a
//! tenant's lock, so the two cannot deadlock.
//!
//! Renewal rules, each bounded (never a loop):
//! - a tenant token Central rejected: its MSP token is suspect too, so the MSP
//!   token is reported rejected (unless it was minted after the tenant token)
//!   and the broker mints once and exchanges once;
//! - an exchange refused for the subject (401, `invalid_request`,
//!   `invalid_grant`, …): one fresh MSP mint and one more exchange; a second
//!   refusal is an error;
//! - a tenant refused (`invalid_target`, 403, 404) or a `tenant_name` that
//!   matches no tenant or several: one line naming the tenant, nothing written.

use crate::config::Profile;
use crate::error::Error;
use crate::oauth::msp_tenants::{self, ListError, Tenant};
use crate::oauth::token_exchange::{exchange, ExchangeError};
use crate::store::StoreGuard;
use crate::token::{StoredToken, TokenOrigin};

use super::record::new_record;
use super::{AccessToken, Broker};

/// One managed tenant, as `central-auth tenants` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEntry {
    /// Workspace id as the list shows it.
    pub id: String,
    /// Workspace id without dashes (what a tenant profile's `tenant_id` takes).
    pub hex_id: String,
    /// Workspace name.
    pub name: String,
    /// `MSP_OWNED_INVENTORY` or `CUSTOMER_OWNED_INVENTORY`.
    pub inventory_ownership: String,
}

impl From<Tenant> for TenantEntry {
    fn from(t: Tenant) -> TenantEntry {
        TenantEntry {
            hex_id: t.hex_id(),
            id: t.id,
            name: t.name,
            inventory_ownership: t.inventory_ownership,
        }
    }
}

impl Broker {
    /// The tenants the MSP profile `msp` manages, every page of the list.
    pub fn tenants(&self, msp: &Profile) -> Result<Vec<TenantEntry>, Error> {
        if msp.workspace_id.is_none() {
            return Err(Error::config(format!(
                "profile {:?} is not an MSP profile: give it grant = \"client_credentials\" and the MSP's workspace_id",
                msp.name.as_str()
            )));
        }
        let list = self.with_msp_token(msp, |token, gw| {
            msp_tenants::list(gw, &msp.glp_base_url, &token.token, None)
        })?;
        Ok(list.into_iter().map(TenantEntry::from).collect())
    }

    /// Runs a tenant-list call with the MSP token; a 401 reports that token
    /// rejected and runs the call once more with a fresh one.
    fn with_msp_token<T>(
        &self,
        msp: &Profile,
        call: impl Fn(&AccessToken, &crate::oauth::Gateway<'_>) -> Result<T, ListError>,
    ) -> Result<T, Error> {
        let token = self.token(msp, None)?;
        let first = self.network(msp, |gw| Ok(call(&token, gw)))?;
        let detail = match first {
            Ok(v) => return Ok(v),
            Err(ListError::Other(e)) => return Err(e),
            Err(ListError::Unauthorized(d)) if token.fresh => {
                return Err(unauthorized(msp, &d));
            }
            Err(ListError::Unauthorized(d)) => d,
        };
        (self.log)(&format!(
            "tenants: the tenant list refused the MSP token of {} ({detail}); minting once more",
            msp.name
        ));
        self.reject(msp, &token.token)?;
        let fresh = self.token(msp, None)?;
        match self.network(msp, |gw| Ok(call(&fresh, gw)))? {
            Ok(v) => Ok(v),
            Err(ListError::Other(e)) => Err(e),
            Err(ListError::Unauthorized(d)) => Err(unauthorized(msp, &d)),
        }
    }

    /// A new tenant token for `profile`, written under the lock the caller
    /// holds (see the module's rules).
    pub(super) fn exchange_tenant(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: Option<StoredToken>,
    ) -> Result<StoredToken, Error> {
        let Some(tenant) = &profile.tenant else {
            return Err(Error::config(format!(
                "profile {:?} has grant token_exchange but no tenant",
                profile.name.as_str()
            )));
        };
        let msp = self.config.get(&tenant.from)?;
        guard.check_writable()?;
        let expected = current.as_ref().map(|t| t.generation);
        let mut msp_token = self.token(msp, None)?;
        if let Some(rejected) = current.as_ref().filter(|c| c.access_rejected) {
            // The rejected tenant token came from an MSP token issued before it.
            if !msp_token.fresh && msp_token.issued_at <= rejected.issued_at {
                (self.log)(&format!(
                    "exchange: the tenant token of {} was rejected; minting a fresh MSP token for {}",
                    profile.name, msp.name
                ));
                self.reject(msp, &msp_token.token)?;
                msp_token = self.token(msp, None)?;
            }
        }
        // A recorded id counts only for the name it was resolved from.
        let recorded = current
            .as_ref()
            .filter(|c| c.tenant_name.is_some() && c.tenant_name == tenant.name)
            .and_then(|c| c.tenant_id.clone());
        let tenant_id = match (&tenant.id, recorded) {
            (Some(id), _) => id.clone(),
            (None, Some(recorded)) => recorded,
            (None, None) => {
                self.resolve_tenant(profile, msp, tenant.name.as_deref().unwrap_or(""))?
            }
        };
        let url = if profile.token_url_set {
            profile.token_url.clone()
        } else {
            format!(
                "{}/authorization/v2/oauth2/{tenant_id}/token",
                msp.glp_base_url
            )
        };
        let answer = match self.network(profile, |gw| Ok(exchange(gw, &url, &msp_token.token)))? {
            Err(ExchangeError::SubjectRefused(detail)) if !msp_token.fresh => {
                (self.log)(&format!(
                    "exchange: the issuer refused the MSP token of {} ({detail}); minting once more",
                    msp.name
                ));
                self.reject(msp, &msp_token.token)?;
                let fresh = self.token(msp, None)?;
                self.network(profile, |gw| Ok(exchange(gw, &url, &fresh.token)))?
            }
            other => other,
        };
        let response = match answer {
            Ok(r) => r,
            Err(ExchangeError::SubjectRefused(detail)) => {
                return Err(Error::CredentialsRejected {
                    profile: profile.name.to_string(),
                    what: format!("MSP token of profile {} in the token exchange", msp.name),
                    detail,
                })
            }
            Err(ExchangeError::TenantRefused(detail)) => {
                return Err(Error::config(format!(
                    "profile {:?}: the issuer refused tenant {tenant_id} ({detail}); check that MSP profile {} manages it (`central-auth tenants --profile {}`) and fix tenant_id",
                    profile.name.as_str(),
                    msp.name,
                    msp.name
                )))
            }
            Err(ExchangeError::Other(e)) => return Err(e),
        };
        if let Some(sent) = response.clamped_from {
            (self.log)(&format!(
                "exchange: the issuer said the tenant token lives {sent} s; trusting at most {} s",
                response.expires_in
            ));
        }
        let mut record = new_record(response, expected, TokenOrigin::TokenExchange);
        record.refresh_token = None;
        record.refresh_issued_at = None;
        record.tenant_id = Some(tenant_id);
        record.tenant_name = tenant.name.clone();
        guard.write(&record, expected)?;
        Ok(record)
    }

    /// The one tenant whose workspace name is exactly `name`.
    fn resolve_tenant(
        &self,
        profile: &Profile,
        msp: &Profile,
        name: &str,
    ) -> Result<String, Error> {
        let filter = msp_tenants::name_filter(name);
        let listed = self.with_msp_token(msp, |token, gw| {
            msp_tenants::list(gw, &msp.glp_base_url, &token.token, Some(&filter))
        })?;
        // The filter is the server's; the exact match is ours.
        let matches: Vec<Tenant> = listed.into_iter().filter(|t| t.name == name).collect();
        let shown: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
        match matches.as_slice() {
            [one] => {
                let hex = one.hex_id();
                if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::unavailable(format!(
                        "the tenant list gave tenant {shown:?} an id that is not a workspace id; nothing was written"
                    )));
                }
                Ok(hex)
            }
            [] => Err(Error::config(format!(
                "profile {:?}: MSP profile {} manages no tenant named {shown:?}; check the name with `central-auth tenants --profile {}`",
                profile.name.as_str(), msp.name, msp.name
            ))),
            _ => Err(Error::config(format!(
                "profile {:?}: MSP profile {} manages {} tenants named {shown:?}; set tenant_id instead (`central-auth tenants --profile {}`)",
                profile.name.as_str(), msp.name, matches.len(), msp.name
            ))),
        }
    }
}

fn unauthorized(msp: &Profile, detail: &str) -> Error {
    Error::CredentialsRejected {
        profile: msp.name.to_string(),
        what: "MSP token on the tenant list".to_owned(),
        detail: detail.to_owned(),
    }
}
