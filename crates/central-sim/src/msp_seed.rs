//! The seeded managed service provider: its workspace, its tenants, and the
//! knobs tests turn to make the tenant list or the exchange hostile.
//!
//! The MSP's client-credentials client is the GreenLake one
//! (`--gl-client-id` / `--gl-client-secret`); its workspace is
//! [`MSP_WORKSPACE_ID`]. Tenant ids are dashed UUIDs, as the GLP tenant list
//! shows them; the exchange wants them without dashes (central-api.md §13.2).

use serde::{Deserialize, Serialize};

/// The seeded MSP workspace id (hexadecimal, no dashes).
pub const MSP_WORKSPACE_ID: &str = "6a1f0c2e4b7d4e8f9a0b1c2d3e4f5a6b";

/// One managed tenant workspace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tenant {
    /// Dashed UUID.
    pub id: String,
    /// `workspaceName`.
    pub name: String,
    /// `MSP_OWNED_INVENTORY` or `CUSTOMER_OWNED_INVENTORY`.
    pub inventory_ownership: String,
}

impl Tenant {
    /// The id without dashes, lowercase: the form the exchange URL carries.
    pub fn hex_id(&self) -> String {
        self.id.replace('-', "").to_ascii_lowercase()
    }
}

/// How the tenant list answers (a hostile peer for the broker's tests).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TenantListMode {
    /// As GLP documents it.
    #[default]
    Honest,
    /// `total` claims 1000 more tenants than there are; pages past the real
    /// end are empty.
    LyingTotal,
    /// Every page answers the first page again, with a huge `total`: a
    /// client that trusts `total` pages forever.
    Endless,
}

/// What the MSP part of the simulator holds.
#[derive(Debug, Clone, Serialize)]
pub struct Msp {
    /// The MSP workspace id.
    pub workspace_id: String,
    /// Managed tenants, in list order.
    pub tenants: Vec<Tenant>,
    /// How the tenant list answers.
    pub tenant_list: TenantListMode,
    /// When set, the raw JSON value sent as `expires_in` in exchange answers
    /// (a string, a float, a huge number: the broker must cope).
    pub exchange_expires_in: Option<serde_json::Value>,
}

impl Default for Msp {
    fn default() -> Msp {
        let tenant = |n: u32, name: &str, owned: bool| Tenant {
            id: format!("0c5e7d1a-9b2f-4c3d-8e4f-5a6b7c8d{n:04x}"),
            name: name.to_owned(),
            inventory_ownership: if owned {
                "MSP_OWNED_INVENTORY"
            } else {
                "CUSTOMER_OWNED_INVENTORY"
            }
            .to_owned(),
        };
        Msp {
            workspace_id: MSP_WORKSPACE_ID.to_owned(),
            tenants: vec![
                tenant(1, "Acme Corp", true),
                tenant(2, "Bob's Bikes", false),
                tenant(3, "Café \"Zürich\" & Co", false),
                tenant(4, "Twin", true),
                tenant(5, "Twin", false),
            ],
            tenant_list: TenantListMode::Honest,
            exchange_expires_in: None,
        }
    }
}

impl Msp {
    /// The managed tenant with this dashless (or dashed) id.
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        let want = id.replace('-', "").to_ascii_lowercase();
        self.tenants.iter().find(|t| t.hex_id() == want)
    }

    /// Adds `count` tenants named `<prefix>-<n>` (for paging tests).
    pub fn add_tenants(&mut self, prefix: &str, count: u32) {
        let start = self.tenants.len() as u32 + 1;
        for n in start..start + count {
            self.tenants.push(Tenant {
                id: format!("7e000000-0000-4000-8000-{n:012x}"),
                name: format!("{prefix}-{n}"),
                inventory_ownership: "CUSTOMER_OWNED_INVENTORY".to_owned(),
            });
        }
    }
}
