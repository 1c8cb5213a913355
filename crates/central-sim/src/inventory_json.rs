//! The seeded inventory as Central's JSON: devices (with the fields of APs,
//! switches and gateways), clients, sites, labels, networks, notifications,
//! audit events and group properties, with field names from Central's public
//! API reference. Counts (clients per device, devices per site and label) are
//! derived from the seed.

use serde_json::{json, Value};

use crate::inventory_seed::{device, Client, Device, Site, CLIENTS, DEVICES};

pub(crate) fn device_json(d: &Device, now_s: u64) -> Value {
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

pub(crate) fn client_json(c: &Client, now_s: u64) -> Value {
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

pub(crate) fn site_json(s: &Site) -> Value {
    let n = DEVICES.iter().filter(|d| d.site == s.name).count();
    json!({
        "site_id": s.id, "site_name": s.name, "address": s.address, "city": s.city,
        "state": s.state, "country": "United States", "zipcode": s.zipcode,
        "latitude": s.lat, "longitude": s.lon, "associated_device_count": n, "tags": [],
    })
}

pub(crate) fn label_json(id: u64, name: &str) -> Value {
    let n = DEVICES.iter().filter(|d| d.labels.contains(&name)).count();
    json!({
        "label_id": id, "label_name": name, "associated_device_count": n,
        "category_id": 1, "category_name": "default",
    })
}

pub(crate) fn networks() -> Vec<Value> {
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

pub(crate) fn notifications(now_s: u64) -> Vec<Value> {
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

pub(crate) fn audit_events(now_s: u64) -> Vec<Value> {
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

pub(crate) fn group_properties(g: &str) -> Value {
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

pub(crate) fn devices_of(kind: &str, now_s: u64) -> Vec<Value> {
    DEVICES
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| device_json(d, now_s))
        .collect()
}

pub(crate) fn clients(wired: Option<bool>, now_s: u64) -> Vec<Value> {
    CLIENTS
        .iter()
        .filter(|c| wired.is_none_or(|w| c.wired == w))
        .map(|c| client_json(c, now_s))
        .collect()
}
