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

/// Group names, in creation order.
pub const GROUPS: [&str; 3] = ["default", "campus", "branch"];

struct Site {
    id: u64,
    name: &'static str,
    address: &'static str,
    city: &'static str,
    state: &'static str,
    zipcode: &'static str,
    lat: &'static str,
    lon: &'static str,
}

const SITES: [Site; 2] = [
    Site {
        id: 1,
        name: "HQ",
        address: "6280 America Center Dr",
        city: "San Jose",
        state: "California",
        zipcode: "95002",
        lat: "37.4133",
        lon: "-121.9786",
    },
    Site {
        id: 2,
        name: "Branch-01",
        address: "11305 Four Points Dr",
        city: "Austin",
        state: "Texas",
        zipcode: "78726",
        lat: "30.4013",
        lon: "-97.8506",
    },
];

const LABELS: [(u64, &str); 2] = [(1, "production"), (2, "lab")];

/// One device of the seed.
struct Device {
    kind: &'static str,
    name: &'static str,
    serial: &'static str,
    mac: &'static str,
    ip: &'static str,
    model: &'static str,
    group: &'static str,
    site: &'static str,
    labels: &'static [&'static str],
    status: &'static str,
    firmware: &'static str,
}

const DEVICES: [Device; 6] = [
    Device {
        kind: "ap",
        name: "ap-hq-lobby",
        serial: "CNSIMAP001",
        mac: "20:4c:03:00:00:01",
        ip: "10.1.10.11",
        model: "535",
        group: "campus",
        site: "HQ",
        labels: &["production"],
        status: "Up",
        firmware: "10.6.0.2_90581",
    },
    Device {
        kind: "ap",
        name: "ap-hq-floor2",
        serial: "CNSIMAP002",
        mac: "20:4c:03:00:00:02",
        ip: "10.1.10.12",
        model: "635",
        group: "campus",
        site: "HQ",
        labels: &["production"],
        status: "Up",
        firmware: "10.6.0.2_90581",
    },
    Device {
        kind: "ap",
        name: "ap-branch-01",
        serial: "CNSIMAP003",
        mac: "20:4c:03:00:00:03",
        ip: "10.2.10.11",
        model: "505",
        group: "branch",
        site: "Branch-01",
        labels: &["lab"],
        status: "Down",
        firmware: "10.5.1.0_89514",
    },
    Device {
        kind: "switch",
        name: "sw-hq-core",
        serial: "SGSIMSW001",
        mac: "38:21:c7:00:00:01",
        ip: "10.1.0.2",
        model: "6300M 48G CL4 PoE 4SFP56 Swch (JL661A)",
        group: "campus",
        site: "HQ",
        labels: &["production"],
        status: "Up",
        firmware: "10.13.1000",
    },
    Device {
        kind: "switch",
        name: "sw-branch-01",
        serial: "SGSIMSW002",
        mac: "38:21:c7:00:00:02",
        ip: "10.2.0.2",
        model: "Aruba2930F-24G-PoEP-4SFPP (JL255A)",
        group: "branch",
        site: "Branch-01",
        labels: &[],
        status: "Up",
        firmware: "WC.16.11.0016",
    },
    Device {
        kind: "gateway",
        name: "gw-hq-01",
        serial: "CNSIMGW001",
        mac: "20:4c:03:00:10:01",
        ip: "10.1.0.1",
        model: "A9004-LTE",
        group: "campus",
        site: "HQ",
        labels: &["production"],
        status: "Up",
        firmware: "10.6.0.2_90581",
    },
];

struct Client {
    wired: bool,
    name: &'static str,
    mac: &'static str,
    ip: &'static str,
    user: &'static str,
    os: &'static str,
    device: &'static str,
    network: &'static str,
    vlan: u32,
}

const CLIENTS: [Client; 5] = [
    Client {
        wired: false,
        name: "laptop-alice",
        mac: "a4:83:e7:00:00:01",
        ip: "10.1.20.101",
        user: "alice@example.com",
        os: "macOS",
        device: "ap-hq-lobby",
        network: "Corp-WiFi",
        vlan: 20,
    },
    Client {
        wired: false,
        name: "phone-bob",
        mac: "a4:83:e7:00:00:02",
        ip: "10.1.20.102",
        user: "bob@example.com",
        os: "iOS",
        device: "ap-hq-floor2",
        network: "Corp-WiFi",
        vlan: 20,
    },
    Client {
        wired: false,
        name: "visitor-tab",
        mac: "a4:83:e7:00:00:03",
        ip: "10.1.30.50",
        user: "",
        os: "Android",
        device: "ap-hq-lobby",
        network: "Guest",
        vlan: 30,
    },
    Client {
        wired: true,
        name: "printer-hq",
        mac: "00:1b:a9:00:00:01",
        ip: "10.1.40.10",
        user: "",
        os: "Printer",
        device: "sw-hq-core",
        network: "1/1/7",
        vlan: 40,
    },
    Client {
        wired: true,
        name: "camera-branch",
        mac: "00:40:8c:00:00:01",
        ip: "10.2.40.10",
        user: "",
        os: "Camera",
        device: "sw-branch-01",
        network: "5",
        vlan: 40,
    },
];

fn device(name: &str) -> Option<&'static Device> {
    DEVICES.iter().find(|d| d.name == name)
}

fn device_json(d: &Device, now_s: u64) -> Value {
    let clients = CLIENTS.iter().filter(|c| c.device == d.name).count();
    let up = d.status == "Up";
    let mut v = json!({
        "name": d.name,
        "serial": d.serial,
        "macaddr": d.mac,
        "ip_address": d.ip,
        "public_ip_address": "203.0.113.10",
        "model": d.model,
        "status": d.status,
        "group_name": d.group,
        "site": d.site,
        "labels": d.labels,
        "firmware_version": d.firmware,
        "uptime": if up { 864_000 } else { 0 },
        "last_modified": now_s - 3600,
        "client_count": clients,
        "cpu_utilization": 7,
        "mem_total": 1_048_576,
        "mem_free": 524_288,
    });
    let extra = match d.kind {
        "ap" => json!({
            "ap_deployment_mode": "IAP",
            "ap_group": null,
            "cluster_id": "",
            "mesh_role": "Unknown",
            "swarm_id": "",
            "swarm_master": false,
            "subnet_mask": "255.255.255.0",
            "gateway_cluster_name": "",
            "radios": [
                {"band": 0, "index": 0, "macaddr": d.mac, "status": d.status,
                 "radio_type": "802.11ac", "radio_name": "Radio 5 GHz"},
                {"band": 1, "index": 1, "macaddr": d.mac, "status": d.status,
                 "radio_type": "802.11n", "radio_name": "Radio 2.4 GHz"}
            ],
        }),
        "switch" => json!({
            "switch_type": if d.model.starts_with("Aruba2930") { "AOS-S" } else { "AOS-CX" },
            "switch_role": 1,
            "stack_id": null,
            "poe_consumption": "12.5",
            "fan_speed": "Normal",
            "temperature": "35",
            "max_power": 740,
            "power_consumption": 80,
            "usage": 1024,
        }),
        _ => json!({
            "mode": "BranchGateway",
            "role": "Standalone",
            "mem_utilization": 40,
        }),
    };
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

fn client_json(c: &Client, now_s: u64) -> Value {
    let d = device(c.device);
    let (group, site, labels, dev_mac, dev_serial) = d.map_or(("", "", &[][..], "", ""), |d| {
        (d.group, d.site, d.labels, d.mac, d.serial)
    });
    let mut v = json!({
        "name": c.name,
        "macaddr": c.mac,
        "ip_address": c.ip,
        "username": c.user,
        "os_type": c.os,
        "client_type": if c.wired { "WIRED" } else { "WIRELESS" },
        "client_category": "Unclassified",
        "connection": if c.wired { "Wired" } else { "802.11ac" },
        "associated_device": dev_serial,
        "associated_device_name": c.device,
        "associated_device_mac": dev_mac,
        "group_name": group,
        "group_id": 1,
        "site": site,
        "labels": labels,
        "label_id": [],
        "vlan": c.vlan,
        "authentication_type": if c.user.is_empty() { "" } else { "802.1X" },
        "last_connection_time": (now_s - 600) * 1000,
        "health": 95,
        "usage": 104_857,
        "failure_stage": "",
        "phy_type": if c.wired { "" } else { "5 GHz" },
        "manufacturer": "",
    });
    let extra = if c.wired {
        json!({"interface_port": c.network, "interface_mac": dev_mac, "speed": 1000, "duplex_mode": "full"})
    } else {
        json!({
            "network": c.network, "band": 5, "channel": "36E", "signal_db": -52,
            "signal_strength": 4, "snr": 40, "speed": 866, "maxspeed": 866,
            "encryption_method": if c.network == "Guest" { "None" } else { "WPA2" },
            "radio_mac": dev_mac, "radio_number": 0, "gateway_serial": "CNSIMGW001",
        })
    };
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

fn site_json(s: &Site) -> Value {
    let n = DEVICES.iter().filter(|d| d.site == s.name).count();
    json!({
        "site_id": s.id, "site_name": s.name, "address": s.address, "city": s.city,
        "state": s.state, "country": "United States", "zipcode": s.zipcode,
        "latitude": s.lat, "longitude": s.lon, "associated_device_count": n, "tags": [],
    })
}

fn label_json(id: u64, name: &str) -> Value {
    let n = DEVICES.iter().filter(|d| d.labels.contains(&name)).count();
    json!({
        "label_id": id, "label_name": name, "associated_device_count": n,
        "category_id": 1, "category_name": "default",
    })
}

fn networks() -> Vec<Value> {
    [
        ("Corp-WiFi", "wpa2-enterprise", "Employee"),
        ("Guest", "open", "Guest"),
    ]
    .iter()
    .map(|(essid, security, kind)| {
        let clients = CLIENTS
            .iter()
            .filter(|c| !c.wired && c.network == *essid)
            .count();
        json!({"essid": essid, "security": security, "type": kind, "client_count": clients})
    })
    .collect()
}

fn notifications(now_s: u64) -> Vec<Value> {
    let items = [
        (
            "AP_DISCONNECTED",
            "AP ap-branch-01 disconnected",
            "Major",
            "CNSIMAP003",
            "branch",
            "Branch-01",
            5400,
        ),
        (
            "SWITCH_PORT_DOWN",
            "Port 1/1/12 on sw-hq-core went down",
            "Minor",
            "SGSIMSW001",
            "campus",
            "HQ",
            1800,
        ),
    ];
    items
        .iter()
        .enumerate()
        .map(|(i, (kind, desc, sev, serial, group, site, age))| {
            let ts = (now_s - age) * 1000;
            json!({
                "id": format!("AWFZ{:08}", i + 1), "nid": 1000 + i, "type": kind,
                "description": desc, "severity": sev, "timestamp": ts,
                "created_timestamp": ts, "acknowledged": false, "acknowledged_by": "",
                "acknowledged_time": null, "device_id": serial, "group_name": group,
                "site": site, "labels": [], "settings_id": format!("sim-setting-{}", i + 1),
                "details": {"serial": serial, "time": ts.to_string()},
            })
        })
        .collect()
}

fn audit_events(now_s: u64) -> Vec<Value> {
    let items = [
        (
            "campus",
            "ap-hq-lobby",
            "Configuration change: SSID Corp-WiFi updated",
            "Configuration",
            7200,
        ),
        (
            "branch",
            "sw-branch-01",
            "Firmware upgrade to WC.16.11.0016 scheduled",
            "Firmware",
            5000,
        ),
        (
            "default",
            "admin@example.com",
            "API token created in API Gateway",
            "API Gateway",
            3000,
        ),
    ];
    items
        .iter()
        .enumerate()
        .map(|(i, (group, target, desc, class, age))| {
            json!({
                "id": format!("sim-audit-{}", i + 1), "ts": now_s - age,
                "group_name": group, "device_type": "", "target": target,
                "description": desc, "classification": class, "has_details": false,
            })
        })
        .collect()
}

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

fn group_properties(g: &str) -> Value {
    json!({
        "AOSVersion": "AOS_10X",
        "AllowedDevTypes": ["AccessPoints", "Gateways", "Switches"],
        "AllowedSwitchTypes": ["AOS_CX", "AOS_S"],
        "ApNetworkRole": "Standard",
        "Architecture": "AOS10",
        "GwNetworkRole": if g == "branch" { "BranchGateway" } else { "WLANGateway" },
        "MonitorOnly": [],
        "MonitorOnlySwitch": false,
        "NewCentral": false,
        "cnx": false,
    })
}

fn devices_of(kind: &str, now_s: u64) -> Vec<Value> {
    DEVICES
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| device_json(d, now_s))
        .collect()
}

fn clients(wired: Option<bool>, now_s: u64) -> Vec<Value> {
    CLIENTS
        .iter()
        .filter(|c| wired.is_none_or(|w| c.wired == w))
        .map(|c| client_json(c, now_s))
        .collect()
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
