//! The provider's state: users with their profile, assigned services, every service's
//! values, devices (with device-management and SIP credentials), personal directory and
//! call logs; the group/enterprise directory. The same structs are the seed file format
//! (TOML, see SEED-FORMAT.md), so a seed reads like the state it creates.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the sandbox serves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The users who can sign in.
    #[serde(default)]
    pub users: Vec<User>,
    /// Group and enterprise directory entries (besides the users themselves).
    #[serde(default)]
    pub people: Vec<Person>,
    /// Adds this many synthetic enterprise people (deterministic), for benchmarks.
    #[serde(default)]
    pub enterprise_generated: usize,
}

/// Every service name a user can be assigned, as `GET services` spells it, with the path
/// segment of its Xsi resource.
pub const SERVICES: &[(&str, &str)] = &[
    ("Call Forwarding Always", "callforwardingalways"),
    ("Call Forwarding Busy", "callforwardingbusy"),
    ("Call Forwarding No Answer", "callforwardingnoanswer"),
    (
        "Call Forwarding Not Reachable",
        "callforwardingnotreachable",
    ),
    ("Do Not Disturb", "donotdisturb"),
    ("Anonymous Call Rejection", "anonymouscallrejection"),
    ("Call Waiting", "callwaiting"),
    (
        "Calling Line ID Delivery Blocking",
        "callinglineiddeliveryblocking",
    ),
    ("Remote Office", "remoteoffice"),
    ("Simultaneous Ring Personal", "simultaneousringpersonal"),
    ("Sequential Ring", "sequentialring"),
    ("Speed Dial 8", "speeddial8"),
    ("Speed Dial 100", "speeddial100"),
    ("Call Notify", "callnotify"),
    ("BroadWorks Anywhere", "broadworksanywhere"),
    ("Basic Call Logs", ""),
    ("Personal Phone List", ""),
];

fn all_services() -> Vec<String> {
    SERVICES
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

fn default_incoming() -> String {
    "Do not Ring if on a Call".into()
}

fn default_rings() -> u32 {
    3
}

/// A user of the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user ID (`jdoe@example.com`).
    pub user_id: String,
    /// The web portal password.
    pub password: String,
    /// Other user IDs that sign in as this user.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A locked account: correct credentials answer 403.
    #[serde(default)]
    pub locked: bool,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// The line's number.
    #[serde(default)]
    pub number: Option<String>,
    /// The line's extension.
    #[serde(default)]
    pub extension: Option<String>,
    /// Group.
    #[serde(default)]
    pub group_id: String,
    /// Service provider / enterprise.
    #[serde(default)]
    pub service_provider: String,
    /// Country code of the line.
    #[serde(default)]
    pub country_code: String,
    /// E-mail on the profile.
    #[serde(default)]
    pub email: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Assigned services by name (default: all of them).
    #[serde(default = "all_services")]
    pub services: Vec<String>,
    /// The values of the services.
    #[serde(default)]
    pub settings: Settings,
    /// Devices (desk phones and soft clients).
    #[serde(default)]
    pub devices: Vec<Device>,
    /// Personal directory: name → number.
    #[serde(default)]
    pub personal: BTreeMap<String, String>,
    /// Call logs.
    #[serde(default)]
    pub call_logs: Vec<CallLog>,
    /// Live registrations.
    #[serde(default)]
    pub registrations: Vec<Registration>,
}

/// Values of every service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Call Forwarding Always.
    pub forward_always: Forward,
    /// Call Forwarding Busy.
    pub forward_busy: Forward,
    /// Call Forwarding No Answer.
    pub forward_no_answer: Forward,
    /// Call Forwarding Not Reachable.
    pub forward_not_reachable: Forward,
    /// Do Not Disturb.
    pub do_not_disturb: Dnd,
    /// Anonymous Call Rejection.
    pub anonymous_call_rejection: bool,
    /// Call Waiting.
    pub call_waiting: bool,
    /// Calling Line ID Delivery Blocking.
    pub calling_line_id_delivery_blocking: bool,
    /// Remote Office.
    pub remote_office: RemoteOffice,
    /// Simultaneous Ring Personal.
    pub simultaneous_ring: SimRing,
    /// Sequential Ring.
    pub sequential_ring: SeqRing,
    /// Speed Dial 8: code → entry.
    pub speed_dial_8: BTreeMap<u8, SpeedEntry>,
    /// Speed Dial 100 prefix.
    pub speed_dial_100_prefix: String,
    /// Speed Dial 100: code → entry.
    pub speed_dial_100: BTreeMap<u8, SpeedEntry>,
    /// Call Notify.
    pub call_notify: CallNotify,
    /// BroadWorks Anywhere.
    pub anywhere: Anywhere,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            forward_always: Forward::default(),
            forward_busy: Forward::default(),
            forward_no_answer: Forward {
                number_of_rings: 3,
                ..Default::default()
            },
            forward_not_reachable: Forward::default(),
            do_not_disturb: Dnd::default(),
            anonymous_call_rejection: false,
            call_waiting: true,
            calling_line_id_delivery_blocking: false,
            remote_office: RemoteOffice::default(),
            simultaneous_ring: SimRing::default(),
            sequential_ring: SeqRing::default(),
            speed_dial_8: BTreeMap::new(),
            speed_dial_100_prefix: "#".into(),
            speed_dial_100: BTreeMap::new(),
            call_notify: CallNotify::default(),
            anywhere: Anywhere::default(),
        }
    }
}

/// A call forwarding service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Forward {
    /// On or off.
    pub active: bool,
    /// Where to.
    pub forward_to: Option<String>,
    /// Ring splash (always only).
    pub ring_splash: bool,
    /// Rings (no answer only).
    pub number_of_rings: u32,
}

/// Do Not Disturb.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dnd {
    /// On or off.
    pub active: bool,
    /// Ring splash.
    pub ring_splash: bool,
}

/// Remote Office.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteOffice {
    /// On or off.
    pub active: bool,
    /// The remote number.
    pub number: Option<String>,
}

/// Simultaneous Ring Personal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimRing {
    /// On or off.
    pub active: bool,
    /// `Do not Ring if on a Call` or `Ring for all Incoming Calls`.
    #[serde(default = "default_incoming")]
    pub incoming_calls: String,
    /// Locations.
    pub locations: Vec<SimRingLocation>,
    /// Criteria activation by name.
    pub criteria: BTreeMap<String, bool>,
}

impl Default for SimRing {
    fn default() -> Self {
        Self {
            active: false,
            incoming_calls: default_incoming(),
            locations: Vec::new(),
            criteria: BTreeMap::new(),
        }
    }
}

/// A Simultaneous Ring location.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimRingLocation {
    /// Number.
    pub address: String,
    /// Answer confirmation.
    #[serde(default)]
    pub answer_confirmation_required: bool,
}

/// Sequential Ring.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeqRing {
    /// Ring the base location first.
    pub ring_base_location_first: bool,
    /// Base rings.
    #[serde(default = "default_rings")]
    pub base_location_number_of_rings: u32,
    /// Continue if busy.
    pub continue_if_base_location_is_busy: bool,
    /// Caller may stop the search.
    pub caller_may_stop_search: bool,
    /// Five slots.
    pub locations: [Option<SeqLocation>; 5],
    /// Criteria activation by name.
    pub criteria: BTreeMap<String, bool>,
}

impl Default for SeqRing {
    fn default() -> Self {
        Self {
            ring_base_location_first: true,
            base_location_number_of_rings: 3,
            continue_if_base_location_is_busy: false,
            caller_may_stop_search: false,
            locations: Default::default(),
            criteria: BTreeMap::new(),
        }
    }
}

/// A Sequential Ring slot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeqLocation {
    /// Number.
    pub address: String,
    /// Rings.
    #[serde(default = "default_rings")]
    pub number_of_rings: u32,
    /// Answer confirmation.
    #[serde(default)]
    pub answer_confirmation_required: bool,
}

/// A speed dial entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedEntry {
    /// Number.
    pub phone_number: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Call Notify.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallNotify {
    /// E-mail address.
    pub email: Option<String>,
    /// Criteria activation by name.
    pub criteria: BTreeMap<String, bool>,
}

/// BroadWorks Anywhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Anywhere {
    /// Alert all locations for click-to-dial calls.
    pub alert_all_locations_for_click_to_dial_calls: bool,
    /// Alert all locations for group paging calls.
    pub alert_all_locations_for_group_paging_calls: bool,
    /// Locations by phone number.
    pub locations: BTreeMap<String, AnywhereLocation>,
}

/// An Anywhere location.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnywhereLocation {
    /// Country code.
    #[serde(default = "one")]
    pub country_code: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// On or off.
    #[serde(default)]
    pub active: bool,
}

fn one() -> String {
    "1".into()
}

/// A device on the user's line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Device name.
    pub name: String,
    /// Device type (`Business Communicator - PC`).
    pub device_type: String,
    /// `Primary`, `Shared Call Appearance`, …
    pub endpoint_type: String,
    /// Line/port (AoR without scheme).
    pub line_port: String,
    /// Path of the device type under `/dms/` (e.g. `bc/pc`); soft clients only.
    #[serde(default)]
    pub dms_path: Option<String>,
    /// Device-management user name.
    #[serde(default)]
    pub dm_user: Option<String>,
    /// Device-management password.
    #[serde(default)]
    pub dm_password: Option<String>,
    /// SIP settings rendered into config.xml.
    #[serde(default)]
    pub sip: Option<SipSettings>,
}

/// What config.xml tells the soft client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipSettings {
    /// AoR user part.
    pub username: String,
    /// Digest user.
    pub auth_user: String,
    /// SIP password.
    pub password: String,
    /// SIP domain (AoR host).
    pub domain: String,
    /// Digest realm.
    #[serde(default)]
    pub realm: Option<String>,
    /// Registrar host (default: the domain).
    #[serde(default)]
    pub registrar_host: Option<String>,
    /// Registrar port.
    #[serde(default)]
    pub registrar_port: Option<u16>,
    /// `UDP`, `TCP` or `TLS`.
    #[serde(default = "udp")]
    pub transport: String,
    /// Outbound proxy host.
    #[serde(default)]
    pub proxy_host: Option<String>,
    /// Outbound proxy port.
    #[serde(default)]
    pub proxy_port: Option<u16>,
    /// Label shown for the line.
    #[serde(default)]
    pub label: Option<String>,
}

fn udp() -> String {
    "UDP".into()
}

/// A call log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLog {
    /// `placed`, `received` or `missed`.
    pub kind: String,
    /// Other party's number.
    pub phone_number: String,
    /// Other party's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Time with offset (RFC 3339).
    pub time: String,
    /// Id (`47:0`).
    pub id: String,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
}

/// A live registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Line/port.
    pub line_port: String,
    /// Contact URI.
    pub uri: String,
    /// Endpoint type.
    pub endpoint_type: String,
    /// User agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Expiration.
    #[serde(default)]
    pub expiration: Option<String>,
}

/// A group/enterprise directory entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// User ID.
    pub user_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Group.
    pub group_id: String,
    /// Number.
    #[serde(default)]
    pub number: Option<String>,
    /// Extension.
    #[serde(default)]
    pub extension: Option<String>,
    /// Mobile.
    #[serde(default)]
    pub mobile: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
}

impl State {
    /// Parses a seed file.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let mut state: State = toml::from_str(text)?;
        state.expand();
        Ok(state)
    }

    /// Adds the generated people.
    fn expand(&mut self) {
        const FIRST: [&str; 16] = [
            "John", "Joanna", "Zoë", "José", "Ana", "Mark", "Marta", "Li", "Priya", "Olu", "Sven",
            "Chloé", "Omar", "Yuki", "Grace", "Pedro",
        ];
        const LAST: [&str; 16] = [
            "Smith", "Müller", "Peña", "García", "Nguyen", "O'Brien", "Kowalski", "Rossi",
            "Tanaka", "Okafor", "Larsen", "Dubois", "Haddad", "Sato", "Hopper", "Silva",
        ];
        for i in 0..self.enterprise_generated {
            self.people.push(Person {
                user_id: format!("gen{i}@generated.example"),
                first_name: FIRST[i % 16].into(),
                last_name: format!(
                    "{}{}",
                    LAST[(i / 16) % 16],
                    if i >= 256 {
                        format!(" {}", i / 256)
                    } else {
                        String::new()
                    }
                ),
                group_id: format!("Generated {}", i % 7),
                number: Some(format!("972{:07}", i)),
                extension: Some(format!("{:05}", i % 100_000)),
                mobile: None,
                email: Some(format!("gen{i}@generated.example")),
                department: Some(["Sales", "Support", "Engineering"][i % 3].into()),
            });
        }
        self.enterprise_generated = 0;
    }

    /// The user signing in as `id` (user ID or alias, case-insensitive).
    pub fn find(&self, id: &str) -> Option<usize> {
        self.users.iter().position(|u| {
            u.user_id.eq_ignore_ascii_case(id)
                || u.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
        })
    }
}

/// The demo seed, shipped with the crate; also the seed format's worked example.
pub const DEMO_SEED: &str = include_str!("../seeds/demo.toml");
