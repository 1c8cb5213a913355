//! The seeded, consistent inventory behind the monitoring and configuration
//! APIs: three groups (with template info and properties), two sites, two
//! labels, three APs, two switches, one gateway, wireless and wired
//! clients, two WLANs, notifications (alerts) and audit events.
//!
//! Every device names a group, a site and labels that exist; sites and
//! labels count their devices; APs and switches count their clients.
//! Field names follow Central's public API reference. Lists use Central's
//! pagination: `offset` (default 0) and `limit` (default 100, at most
//! 1000) in, `count` (items in this page) and `total` out. The common
//! filters `group`, `site`, `label` and `status` work on every device and
//! client list.

use serde_json::{json, Value};

use crate::inventory_json::{
    audit_events, clients, devices_of, group_properties, label_json, networks, notifications,
    site_json,
};
use crate::inventory_seed::{GROUPS, LABELS, SITES};
use crate::params::Params;

/// Every path [`answer`] serves.
pub const PATHS: &[&str] = &[
    "/configuration/v2/groups",
    "/configuration/v2/groups/template_info",
    "/configuration/v1/groups/properties",
    "/monitoring/v1/aps",
    "/monitoring/v2/aps",
    "/monitoring/v1/switches",
    "/monitoring/v1/gateways",
    "/monitoring/v2/mobility_controllers",
    "/monitoring/v1/clients/wireless",
    "/monitoring/v1/clients/wired",
    "/monitoring/v2/clients",
    "/monitoring/v1/networks",
    "/monitoring/v2/networks",
    "/central/v1/sites",
    "/central/v2/sites",
    "/central/v1/labels",
    "/central/v2/labels",
    "/central/v1/notifications",
    "/auditlogs/v1/events",
];

/// Number from a query parameter, clamped.
fn num(params: &Params, key: &str, default: usize, max: usize) -> usize {
    params
        .get(key)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(default)
        .min(max)
}

fn matches(item: &Value, params: &Params) -> bool {
    let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
    let eq = |p: &str, k: &str| {
        params
            .get(p)
            .filter(|v| !v.is_empty())
            .is_none_or(|v| v.eq_ignore_ascii_case(field(k)))
    };
    let label_ok = params
        .get("label")
        .filter(|v| !v.is_empty())
        .is_none_or(|l| {
            item.get("labels")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(l)))
        });
    eq("group", "group_name") && eq("site", "site") && eq("status", "status") && label_ok
}

/// A page of `items` under `key` with `count` and `total`.
fn page(key: &str, items: Vec<Value>, params: &Params) -> Value {
    let items: Vec<Value> = items.into_iter().filter(|i| matches(i, params)).collect();
    let total = items.len();
    let offset = num(params, "offset", 0, total);
    let limit = num(params, "limit", 100, 1000);
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    json!({ key: page, "count": page.len(), "total": total })
}

fn requested_groups(params: &Params) -> Vec<&'static str> {
    match params.get("groups").filter(|g| !g.is_empty()) {
        Some(list) => GROUPS
            .iter()
            .copied()
            .filter(|g| list.split(',').any(|x| x.trim() == *g))
            .collect(),
        None => GROUPS.to_vec(),
    }
}

/// Whether [`answer`] serves `path` (trailing slash ignored).
pub fn serves(path: &str) -> bool {
    PATHS.contains(&path.trim_end_matches('/'))
}

/// The 200 body for a served `path`, `None` for any other path.
pub fn answer(path: &str, params: &Params, now_s: u64) -> Option<Value> {
    let v = match path.trim_end_matches('/') {
        "/configuration/v2/groups" => {
            let total = GROUPS.len();
            let offset = num(params, "offset", 0, total);
            let limit = num(params, "limit", 20, 1000);
            let data: Vec<[&str; 1]> = GROUPS[offset..].iter().take(limit).map(|g| [*g]).collect();
            json!({ "data": data, "total": total })
        }
        "/configuration/v2/groups/template_info" => {
            let data: Vec<Value> = requested_groups(params)
                .into_iter()
                .map(|g| json!({"group": g, "template_details": {"Wired": false, "Wireless": false}}))
                .collect();
            json!({ "data": data })
        }
        "/configuration/v1/groups/properties" => {
            let data: Vec<Value> = requested_groups(params)
                .into_iter()
                .map(|g| json!({"group": g, "properties": group_properties(g)}))
                .collect();
            json!({ "data": data })
        }
        "/monitoring/v1/aps" | "/monitoring/v2/aps" => page("aps", devices_of("ap", now_s), params),
        "/monitoring/v1/switches" => page("switches", devices_of("switch", now_s), params),
        "/monitoring/v1/gateways" => page("gateways", devices_of("gateway", now_s), params),
        "/monitoring/v2/mobility_controllers" => page("mcs", devices_of("gateway", now_s), params),
        "/monitoring/v1/clients/wireless" => page("clients", clients(Some(false), now_s), params),
        "/monitoring/v1/clients/wired" => page("clients", clients(Some(true), now_s), params),
        "/monitoring/v2/clients" => page("clients", clients(None, now_s), params),
        "/monitoring/v1/networks" | "/monitoring/v2/networks" => {
            page("networks", networks(), params)
        }
        "/central/v1/sites" | "/central/v2/sites" => {
            page("sites", SITES.iter().map(site_json).collect(), params)
        }
        "/central/v1/labels" | "/central/v2/labels" => page(
            "labels",
            LABELS.iter().map(|(id, n)| label_json(*id, n)).collect(),
            params,
        ),
        "/central/v1/notifications" => page("notifications", notifications(now_s), params),
        "/auditlogs/v1/events" => {
            let mut v = page("events", audit_events(now_s), params);
            v["remaining_records"] = json!(false);
            v
        }
        _ => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory_seed::{device, CLIENTS, DEVICES};

    #[test]
    fn every_path_answers_and_devices_are_consistent() {
        let p = Params::default();
        for path in PATHS {
            assert!(answer(path, &p, 10_000).is_some(), "{path}");
        }
        for d in &DEVICES {
            assert!(GROUPS.contains(&d.group), "{}", d.name);
            assert!(SITES.iter().any(|s| s.name == d.site), "{}", d.name);
            assert!(d.labels.iter().all(|l| LABELS.iter().any(|(_, n)| n == l)));
        }
        assert!(CLIENTS.iter().all(|c| device(c.device).is_some()));
    }
}
