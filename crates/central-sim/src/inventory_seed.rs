//! The seed of the simulated inventory: three groups, two sites, two labels,
//! six devices (three APs, two switches, one gateway) and five clients. Every
//! device names a group, a site and labels that exist; every client names a
//! device.

/// Group names, in creation order.
pub(crate) const GROUPS: [&str; 3] = ["default", "campus", "branch"];

/// One site of the seed.
pub(crate) struct Site {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) address: &'static str,
    pub(crate) city: &'static str,
    pub(crate) state: &'static str,
    pub(crate) zipcode: &'static str,
    pub(crate) lat: &'static str,
    pub(crate) lon: &'static str,
}

pub(crate) const SITES: [Site; 2] = [
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

pub(crate) const LABELS: [(u64, &str); 2] = [(1, "production"), (2, "lab")];

/// One device of the seed.
pub(crate) struct Device {
    pub(crate) kind: &'static str,
    pub(crate) name: &'static str,
    pub(crate) serial: &'static str,
    pub(crate) mac: &'static str,
    pub(crate) ip: &'static str,
    pub(crate) model: &'static str,
    pub(crate) group: &'static str,
    pub(crate) site: &'static str,
    pub(crate) labels: &'static [&'static str],
    pub(crate) status: &'static str,
    pub(crate) firmware: &'static str,
}

pub(crate) const DEVICES: [Device; 6] = [
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

/// One client of the seed.
pub(crate) struct Client {
    pub(crate) wired: bool,
    pub(crate) name: &'static str,
    pub(crate) mac: &'static str,
    pub(crate) ip: &'static str,
    pub(crate) user: &'static str,
    pub(crate) os: &'static str,
    pub(crate) device: &'static str,
    pub(crate) network: &'static str,
    pub(crate) vlan: u32,
}

pub(crate) const CLIENTS: [Client; 5] = [
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

pub(crate) fn device(name: &str) -> Option<&'static Device> {
    DEVICES.iter().find(|d| d.name == name)
}
