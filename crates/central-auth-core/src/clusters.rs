//! Cluster names to API gateway base URLs, as pycentral names them.
//!
//! Classic Central and New Central use different tables and different hosts for
//! the same region, so the lookup depends on the profile's grant. Names are exact
//! and case-sensitive, as in pycentral.

/// Classic Central API gateways (pycentral v1 `CLUSTER_API_BASE_URL_LIST`).
pub const CLASSIC: &[(&str, &str)] = &[
    ("US-1", "https://app1-apigw.central.arubanetworks.com"),
    ("US-2", "https://apigw-prod2.central.arubanetworks.com"),
    (
        "US-East1",
        "https://apigw-us-east-1.central.arubanetworks.com",
    ),
    (
        "US-West4",
        "https://apigw-uswest4.central.arubanetworks.com",
    ),
    (
        "US-West5",
        "https://apigw-uswest5.central.arubanetworks.com",
    ),
    ("EU-1", "https://eu-apigw.central.arubanetworks.com"),
    (
        "EU-Central2",
        "https://apigw-eucentral2.central.arubanetworks.com",
    ),
    (
        "EU-Central3",
        "https://apigw-eucentral3.central.arubanetworks.com",
    ),
    ("Canada-1", "https://apigw-ca.central.arubanetworks.com"),
    ("China-1", "https://apigw.central.arubanetworks.com.cn"),
    ("APAC-1", "https://api-ap.central.arubanetworks.com"),
    (
        "APAC-EAST1",
        "https://apigw-apaceast.central.arubanetworks.com",
    ),
    (
        "APAC-SOUTH1",
        "https://apigw-apacsouth.central.arubanetworks.com",
    ),
    (
        "UAE-NORTH1",
        "https://apigw-uaenorth1.central.arubanetworks.com",
    ),
];

/// New Central API base URLs (pycentral v2 `CLUSTER_BASE_URLS`).
pub const NEW_CENTRAL: &[(&str, &str)] = &[
    ("EU-1", "https://de1.api.central.arubanetworks.com"),
    ("EU-Central2", "https://de2.api.central.arubanetworks.com"),
    ("EU-Central3", "https://de3.api.central.arubanetworks.com"),
    ("UK", "https://gb1.api.central.arubanetworks.com"),
    ("US-1", "https://us1.api.central.arubanetworks.com"),
    ("US-2", "https://us2.api.central.arubanetworks.com"),
    ("US-WEST-4", "https://us4.api.central.arubanetworks.com"),
    ("US-WEST-5", "https://us5.api.central.arubanetworks.com"),
    ("US-East1", "https://us6.api.central.arubanetworks.com"),
    ("Canada-1", "https://ca1.api.central.arubanetworks.com"),
    ("APAC-1", "https://in1.api.central.arubanetworks.com"),
    ("APAC-EAST1", "https://jp1.api.central.arubanetworks.com"),
    ("APAC-SOUTH1", "https://au1.api.central.arubanetworks.com"),
    ("UAE", "https://ae1.api.central.arubanetworks.com"),
    ("China", "https://cn1.api.central.arubanetworks.com.cn"),
    ("Internal", "https://internal.api.central.arubanetworks.com"),
];

/// The GreenLake SSO token endpoint used for client credentials by default.
pub const GREENLAKE_TOKEN_URL: &str = "https://sso.common.cloud.hpe.com/as/token.oauth2";

/// The GreenLake platform's API base: workspace issuers
/// (`/authorization/v2/oauth2/<workspace_id>/token`) and the MSP tenant list.
pub const GREENLAKE_API_URL: &str = "https://global.api.greenlake.hpe.com";

/// Looks a cluster name up in a table.
pub fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, url)| *url)
}

/// The names of a table, comma separated, for error messages.
pub fn names(table: &[(&str, &str)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_and_new_central_differ() {
        assert_eq!(
            lookup(CLASSIC, "US-2"),
            Some("https://apigw-prod2.central.arubanetworks.com")
        );
        assert_eq!(
            lookup(NEW_CENTRAL, "US-2"),
            Some("https://us2.api.central.arubanetworks.com")
        );
        assert_eq!(lookup(CLASSIC, "us-2"), None, "names are case-sensitive");
    }
}
