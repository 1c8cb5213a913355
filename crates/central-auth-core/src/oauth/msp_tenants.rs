//! The GreenLake MSP tenant list, `GET <glp>/workspaces/v1/msp-tenants`
//! (central-api.md §13.2), paged with `offset` and `limit` (at most 300),
//! optionally filtered (`workspaceName eq '<name>'`, quotes doubled).
//!
//! The list is a peer that may lie: paging stops at an empty page, at the
//! `total` it claims, or after [`MAX_PAGES`]; a page that answers another
//! offset, holds more than the limit, or repeats a tenant already seen is an
//! error, so a list that pages forever costs at most [`MAX_PAGES`] requests.

use serde::Deserialize;

use crate::error::Error;
use crate::http::{Method, Request};
use crate::oauth::{send, ErrorBody, Gateway};
use crate::secret::{ExposeSecret, SecretString};

/// The largest page GreenLake serves.
pub const PAGE_LIMIT: usize = 300;
/// Pages read at most (100 × 300 = 30 000 tenants).
pub const MAX_PAGES: usize = 100;

/// One managed tenant as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Workspace id as listed (often a dashed UUID).
    pub id: String,
    /// `workspaceName`.
    pub name: String,
    /// `inventoryOwnership` (`MSP_OWNED_INVENTORY`, `CUSTOMER_OWNED_INVENTORY`).
    pub inventory_ownership: String,
}

impl Tenant {
    /// The id as the exchange URL wants it: hexadecimal, no dashes, lowercase.
    pub fn hex_id(&self) -> String {
        self.id.replace('-', "").to_ascii_lowercase()
    }
}

/// Why the list could not be read.
#[derive(Debug)]
pub enum ListError {
    /// 401: the MSP token was not accepted (a fresh mint may settle it).
    Unauthorized(String),
    /// Anything else.
    Other(Error),
}

#[derive(Deserialize)]
struct RawPage {
    offset: Option<u64>,
    total: Option<u64>,
    #[serde(default)]
    items: Vec<RawTenant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTenant {
    id: String,
    #[serde(default)]
    workspace_name: String,
    #[serde(default)]
    inventory_ownership: Option<String>,
}

/// The OData filter for one workspace name, quotes doubled as the syntax
/// requires (`Bob's` → `workspaceName eq 'Bob''s'`).
pub fn name_filter(name: &str) -> String {
    format!("workspaceName eq '{}'", name.replace('\'', "''"))
}

/// Every tenant the list answers for `filter` (all tenants without one).
pub fn list(
    gateway: &Gateway<'_>,
    glp_base_url: &str,
    token: &SecretString,
    filter: Option<&str>,
) -> Result<Vec<Tenant>, ListError> {
    let url = format!("{glp_base_url}/workspaces/v1/msp-tenants");
    let mut all: Vec<Tenant> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        let offset = all.len();
        let mut request = Request::new(Method::Get, url.as_str())
            .header("Accept", "application/json")
            .secret_header(
                "Authorization",
                SecretString::from(format!("Bearer {}", token.expose_secret())),
            );
        if let Some(f) = filter {
            request = request.query("filter", f);
        }
        let request = request
            .query("offset", offset.to_string())
            .query("limit", PAGE_LIMIT.to_string());
        let response = send(gateway, &request).map_err(ListError::Other)?;
        if response.status != 200 {
            let detail = glp_detail(&response);
            return Err(match response.status {
                401 => ListError::Unauthorized(detail),
                403 => ListError::Other(Error::config(format!(
                    "the tenant list answered {detail}: the MSP credential needs the GreenLake role permission \"Platform Customer Account: View\""
                ))),
                _ => ListError::Other(Error::unavailable(format!(
                    "the tenant list answered {detail}; try again later"
                ))),
            });
        }
        let page: RawPage = serde_json::from_str(response.body.expose_secret())
            .map_err(|_| lie("a page is not a JSON object with an items list"))?;
        if page.offset.is_some_and(|o| o != offset as u64) {
            return Err(lie(&format!(
                "asked for offset {offset}, it answered another"
            )));
        }
        if page.items.len() > PAGE_LIMIT {
            return Err(lie("a page holds more tenants than the limit asked for"));
        }
        let got = page.items.len();
        for item in page.items {
            if !seen.insert(item.id.clone()) {
                return Err(lie(&format!(
                    "it repeated a tenant at offset {offset}; it does not page"
                )));
            }
            all.push(Tenant {
                id: item.id,
                name: item.workspace_name,
                inventory_ownership: item.inventory_ownership.unwrap_or_default(),
            });
        }
        let total = page.total.unwrap_or(0);
        if got == 0 || all.len() as u64 >= total || got < PAGE_LIMIT {
            return Ok(all);
        }
    }
    Err(lie(&format!(
        "it did not end after {MAX_PAGES} pages of {PAGE_LIMIT}"
    )))
}

fn lie(what: &str) -> ListError {
    ListError::Other(Error::unavailable(format!(
        "the tenant list cannot be trusted: {what}; nothing was written, try again later"
    )))
}

/// A GLP error body (`httpStatusCode`, `errorCode`, `message`) in one line.
fn glp_detail(response: &crate::http::Response) -> String {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Glp {
        error_code: Option<String>,
        message: Option<String>,
    }
    let glp: Glp = serde_json::from_str(response.body.expose_secret()).unwrap_or_default();
    match (glp.error_code, glp.message) {
        (None, None) => ErrorBody::parse(response).describe(response.status),
        (c, m) => {
            let words: String = [c, m]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            format!("HTTP {} {words}", response.status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_filter;

    #[test]
    fn quotes_in_names_are_doubled() {
        assert_eq!(name_filter("Bob's"), "workspaceName eq 'Bob''s'");
        assert_eq!(name_filter("a''b"), "workspaceName eq 'a''''b'");
    }
}
