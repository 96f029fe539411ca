//! The line's personal settings as domain values: one typed struct per service and the
//! `Setting` sum type the sync engine moves around.
//!
//! Collections that the provider manages item by item (the personal directory, Speed Dial
//! 100, BroadWorks Anywhere locations) are modelled as whole settings keyed by item, so the
//! outbox and the three-way merge treat every change the same way; the provider adapter
//! turns the difference between two values into the right requests (PUT, POST, DELETE).
//! Maps are keyed by strings so that their JSON form (used by the store and the merge)
//! keeps one leaf per item.

use super::values::{
    Description, Destination, DirectoryName, EmailAddress, PhoneNumber, RingCount, ValidationError,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Every personal service Deskline manages. The names are stable identifiers used by the
/// store, the CLI (`kebab-case`) and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKey {
    /// Call Forwarding Always.
    CallForwardingAlways,
    /// Call Forwarding Busy.
    CallForwardingBusy,
    /// Call Forwarding No Answer.
    CallForwardingNoAnswer,
    /// Call Forwarding Not Reachable.
    CallForwardingNotReachable,
    /// Do Not Disturb.
    DoNotDisturb,
    /// Anonymous Call Rejection.
    AnonymousCallRejection,
    /// Call Waiting.
    CallWaiting,
    /// Calling Line ID Delivery Blocking ("block my caller ID").
    CallingLineIdDeliveryBlocking,
    /// Remote Office.
    RemoteOffice,
    /// Simultaneous Ring Personal.
    SimultaneousRingPersonal,
    /// Sequential Ring.
    SequentialRing,
    /// Speed Dial 8.
    #[serde(rename = "speed_dial_8")]
    SpeedDial8,
    /// Speed Dial 100.
    #[serde(rename = "speed_dial_100")]
    SpeedDial100,
    /// Call Notify.
    CallNotify,
    /// BroadWorks Anywhere.
    #[serde(rename = "broadworks_anywhere")]
    BroadWorksAnywhere,
    /// The personal directory (phone list).
    PersonalDirectory,
}

impl SettingKey {
    /// Every key, in display order.
    pub const ALL: [SettingKey; 16] = [
        SettingKey::CallForwardingAlways,
        SettingKey::CallForwardingBusy,
        SettingKey::CallForwardingNoAnswer,
        SettingKey::CallForwardingNotReachable,
        SettingKey::DoNotDisturb,
        SettingKey::AnonymousCallRejection,
        SettingKey::CallWaiting,
        SettingKey::CallingLineIdDeliveryBlocking,
        SettingKey::RemoteOffice,
        SettingKey::SimultaneousRingPersonal,
        SettingKey::SequentialRing,
        SettingKey::SpeedDial8,
        SettingKey::SpeedDial100,
        SettingKey::CallNotify,
        SettingKey::BroadWorksAnywhere,
        SettingKey::PersonalDirectory,
    ];

    /// The stable identifier (`call_forwarding_always`).
    pub fn id(self) -> &'static str {
        match self {
            SettingKey::CallForwardingAlways => "call_forwarding_always",
            SettingKey::CallForwardingBusy => "call_forwarding_busy",
            SettingKey::CallForwardingNoAnswer => "call_forwarding_no_answer",
            SettingKey::CallForwardingNotReachable => "call_forwarding_not_reachable",
            SettingKey::DoNotDisturb => "do_not_disturb",
            SettingKey::AnonymousCallRejection => "anonymous_call_rejection",
            SettingKey::CallWaiting => "call_waiting",
            SettingKey::CallingLineIdDeliveryBlocking => "calling_line_id_delivery_blocking",
            SettingKey::RemoteOffice => "remote_office",
            SettingKey::SimultaneousRingPersonal => "simultaneous_ring_personal",
            SettingKey::SequentialRing => "sequential_ring",
            SettingKey::SpeedDial8 => "speed_dial_8",
            SettingKey::SpeedDial100 => "speed_dial_100",
            SettingKey::CallNotify => "call_notify",
            SettingKey::BroadWorksAnywhere => "broadworks_anywhere",
            SettingKey::PersonalDirectory => "personal_directory",
        }
    }

    /// Parses [`SettingKey::id`].
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The name a user sees (and the provider's service name in `GET services`).
    pub fn display_name(self) -> &'static str {
        match self {
            SettingKey::CallForwardingAlways => "Call Forwarding Always",
            SettingKey::CallForwardingBusy => "Call Forwarding Busy",
            SettingKey::CallForwardingNoAnswer => "Call Forwarding No Answer",
            SettingKey::CallForwardingNotReachable => "Call Forwarding Not Reachable",
            SettingKey::DoNotDisturb => "Do Not Disturb",
            SettingKey::AnonymousCallRejection => "Anonymous Call Rejection",
            SettingKey::CallWaiting => "Call Waiting",
            SettingKey::CallingLineIdDeliveryBlocking => "Calling Line ID Delivery Blocking",
            SettingKey::RemoteOffice => "Remote Office",
            SettingKey::SimultaneousRingPersonal => "Simultaneous Ring Personal",
            SettingKey::SequentialRing => "Sequential Ring",
            SettingKey::SpeedDial8 => "Speed Dial 8",
            SettingKey::SpeedDial100 => "Speed Dial 100",
            SettingKey::CallNotify => "Call Notify",
            SettingKey::BroadWorksAnywhere => "BroadWorks Anywhere",
            SettingKey::PersonalDirectory => "Personal Phone List",
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Call Forwarding Busy and Not Reachable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallForwarding {
    /// Whether forwarding is on.
    pub active: bool,
    /// Where calls go; `None` when no number is stored.
    pub forward_to: Option<Destination>,
}

/// Call Forwarding Always.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallForwardingAlways {
    /// Whether forwarding is on.
    pub active: bool,
    /// Where calls go.
    pub forward_to: Option<Destination>,
    /// Play a short ring on the desk phone when a call is forwarded.
    pub ring_splash: bool,
}

/// Call Forwarding No Answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallForwardingNoAnswer {
    /// Whether forwarding is on.
    pub active: bool,
    /// Where calls go.
    pub forward_to: Option<Destination>,
    /// Rings before forwarding (0 or 2–20).
    pub number_of_rings: RingCount,
}

/// Do Not Disturb.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DoNotDisturb {
    /// Whether DND is on.
    pub active: bool,
    /// Play a short ring when a call is rejected.
    pub ring_splash: bool,
}

/// A service that is only on or off (Anonymous Call Rejection, Call Waiting, Calling Line
/// ID Delivery Blocking).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Toggle {
    /// Whether the service is on.
    pub active: bool,
}

/// Remote Office.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RemoteOffice {
    /// Whether calls ring the remote number.
    pub active: bool,
    /// The remote office number.
    pub number: Option<Destination>,
}

/// Whether Simultaneous Ring rings the other locations while the user is on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimRingIncomingCalls {
    /// `Do not Ring if on a Call`.
    #[default]
    DoNotRingIfOnCall,
    /// `Ring for all Incoming Calls`.
    RingForAllIncomingCalls,
}

/// One Simultaneous Ring location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRingLocation {
    /// The number or SIP URI rung.
    pub address: Destination,
    /// The callee must press a key to take the call.
    pub answer_confirmation_required: bool,
}

/// The most Simultaneous Ring locations BroadWorks accepts.
pub const MAX_SIM_RING_LOCATIONS: usize = 10;

/// Simultaneous Ring Personal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SimultaneousRing {
    /// Whether the service is on.
    pub active: bool,
    /// Behaviour while on a call.
    pub incoming_calls: SimRingIncomingCalls,
    /// The locations rung together with the line (at most 10, no duplicates).
    pub locations: Vec<SimRingLocation>,
    /// Criteria by name with their activation flag.
    pub criteria: BTreeMap<String, bool>,
}

/// One of Sequential Ring's five location slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequentialRingLocation {
    /// The number rung.
    pub address: Destination,
    /// Rings at this location (0 or 2–20).
    pub number_of_rings: RingCount,
    /// The callee must press a key to take the call.
    pub answer_confirmation_required: bool,
}

/// Sequential Ring.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SequentialRing {
    /// Ring the base location (the line) first.
    pub ring_base_location_first: bool,
    /// Rings at the base location.
    pub base_location_number_of_rings: RingCount,
    /// Go on to the other locations when the line is busy.
    pub continue_if_base_location_is_busy: bool,
    /// The caller may stop the search by pressing a key.
    pub caller_may_stop_search: bool,
    /// Exactly five slots, keyed "1" to "5"; a missing key is an empty slot.
    pub locations: BTreeMap<String, SequentialRingLocation>,
    /// Criteria by name with their activation flag.
    pub criteria: BTreeMap<String, bool>,
}

/// A speed dial entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeedDialEntry {
    /// The number dialled.
    pub number: Destination,
    /// What the user calls it.
    pub description: Option<Description>,
}

/// Speed Dial 8: codes 2–9, keyed by the code as a string ("2" … "9").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpeedDial8 {
    /// The entries that are set.
    pub entries: BTreeMap<String, SpeedDialEntry>,
}

/// Speed Dial 100: codes 0–99, keyed by the code as a string without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpeedDial100 {
    /// The dialling prefix (e.g. `#`), read-only.
    pub prefix: Option<String>,
    /// The entries.
    pub entries: BTreeMap<String, SpeedDialEntry>,
}

/// Call Notify.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallNotify {
    /// Where notification e-mails go.
    pub email: Option<EmailAddress>,
    /// Criteria by name with their activation flag (criteria are created on the portal).
    pub criteria: BTreeMap<String, bool>,
}

/// One BroadWorks Anywhere location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnywhereLocation {
    /// The location's number (digits, the key of the location).
    pub phone_number: PhoneNumber,
    /// Country code the provider stores with the number.
    pub country_code: Option<String>,
    /// What the user calls it.
    pub description: Option<Description>,
    /// Whether calls ring this location.
    pub active: bool,
}

/// BroadWorks Anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BroadWorksAnywhere {
    /// Ring all locations for click-to-dial calls.
    pub alert_all_locations_for_click_to_dial_calls: bool,
    /// Ring all locations for group paging calls.
    pub alert_all_locations_for_group_paging_calls: bool,
    /// Locations keyed by their phone number.
    pub locations: BTreeMap<String, AnywhereLocation>,
}

/// The personal directory: names (unique) to numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonalDirectory {
    /// Entries keyed by name.
    pub entries: BTreeMap<String, PhoneNumberOrUri>,
}

/// A personal directory number: the provider's `DN` (1–23 characters, digits or a URI's
/// user part). Kept as a validated destination.
pub type PhoneNumberOrUri = Destination;

/// One setting's value, tagged by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "key", content = "value", rename_all = "snake_case")]
pub enum Setting {
    /// See [`CallForwardingAlways`].
    CallForwardingAlways(CallForwardingAlways),
    /// See [`CallForwarding`].
    CallForwardingBusy(CallForwarding),
    /// See [`CallForwardingNoAnswer`].
    CallForwardingNoAnswer(CallForwardingNoAnswer),
    /// See [`CallForwarding`].
    CallForwardingNotReachable(CallForwarding),
    /// See [`DoNotDisturb`].
    DoNotDisturb(DoNotDisturb),
    /// See [`Toggle`].
    AnonymousCallRejection(Toggle),
    /// See [`Toggle`].
    CallWaiting(Toggle),
    /// See [`Toggle`].
    CallingLineIdDeliveryBlocking(Toggle),
    /// See [`RemoteOffice`].
    RemoteOffice(RemoteOffice),
    /// See [`SimultaneousRing`].
    SimultaneousRingPersonal(SimultaneousRing),
    /// See [`SequentialRing`].
    SequentialRing(SequentialRing),
    /// See [`SpeedDial8`].
    #[serde(rename = "speed_dial_8")]
    SpeedDial8(SpeedDial8),
    /// See [`SpeedDial100`].
    #[serde(rename = "speed_dial_100")]
    SpeedDial100(SpeedDial100),
    /// See [`CallNotify`].
    CallNotify(CallNotify),
    /// See [`BroadWorksAnywhere`].
    #[serde(rename = "broadworks_anywhere")]
    BroadWorksAnywhere(BroadWorksAnywhere),
    /// See [`PersonalDirectory`].
    PersonalDirectory(PersonalDirectory),
}

impl Setting {
    /// The key of this value.
    pub fn key(&self) -> SettingKey {
        match self {
            Setting::CallForwardingAlways(_) => SettingKey::CallForwardingAlways,
            Setting::CallForwardingBusy(_) => SettingKey::CallForwardingBusy,
            Setting::CallForwardingNoAnswer(_) => SettingKey::CallForwardingNoAnswer,
            Setting::CallForwardingNotReachable(_) => SettingKey::CallForwardingNotReachable,
            Setting::DoNotDisturb(_) => SettingKey::DoNotDisturb,
            Setting::AnonymousCallRejection(_) => SettingKey::AnonymousCallRejection,
            Setting::CallWaiting(_) => SettingKey::CallWaiting,
            Setting::CallingLineIdDeliveryBlocking(_) => SettingKey::CallingLineIdDeliveryBlocking,
            Setting::RemoteOffice(_) => SettingKey::RemoteOffice,
            Setting::SimultaneousRingPersonal(_) => SettingKey::SimultaneousRingPersonal,
            Setting::SequentialRing(_) => SettingKey::SequentialRing,
            Setting::SpeedDial8(_) => SettingKey::SpeedDial8,
            Setting::SpeedDial100(_) => SettingKey::SpeedDial100,
            Setting::CallNotify(_) => SettingKey::CallNotify,
            Setting::BroadWorksAnywhere(_) => SettingKey::BroadWorksAnywhere,
            Setting::PersonalDirectory(_) => SettingKey::PersonalDirectory,
        }
    }

    /// Checks the rules that span fields (the single fields are checked by their types):
    /// an active forwarding needs a number, location limits, no duplicate locations,
    /// speed-dial code ranges, sequential-ring slot names.
    pub fn validate(&self) -> Result<(), ValidationError> {
        fn needs_number(
            active: bool,
            to: &Option<Destination>,
            field: &str,
        ) -> Result<(), ValidationError> {
            if active && to.is_none() {
                Err(ValidationError::new(
                    field,
                    "turning this on needs a number to forward to",
                ))
            } else {
                Ok(())
            }
        }
        match self {
            Setting::CallForwardingAlways(v) => needs_number(v.active, &v.forward_to, "forward_to"),
            Setting::CallForwardingBusy(v) | Setting::CallForwardingNotReachable(v) => {
                needs_number(v.active, &v.forward_to, "forward_to")
            }
            Setting::CallForwardingNoAnswer(v) => {
                needs_number(v.active, &v.forward_to, "forward_to")
            }
            Setting::RemoteOffice(v) => needs_number(v.active, &v.number, "number"),
            Setting::SimultaneousRingPersonal(v) => {
                if v.locations.len() > MAX_SIM_RING_LOCATIONS {
                    return Err(ValidationError::new(
                        "locations",
                        format!(
                            "Simultaneous Ring allows at most {MAX_SIM_RING_LOCATIONS} numbers"
                        ),
                    ));
                }
                let mut seen = std::collections::BTreeSet::new();
                for location in &v.locations {
                    if !seen.insert(location.address.as_str()) {
                        return Err(ValidationError::new(
                            "locations",
                            format!("{} is listed twice", location.address),
                        ));
                    }
                }
                if v.active && v.locations.is_empty() {
                    return Err(ValidationError::new(
                        "locations",
                        "turning Simultaneous Ring on needs at least one number",
                    ));
                }
                Ok(())
            }
            Setting::SequentialRing(v) => {
                for slot in v.locations.keys() {
                    if !matches!(slot.as_str(), "1" | "2" | "3" | "4" | "5") {
                        return Err(ValidationError::new(
                            "locations",
                            "Sequential Ring has five locations, numbered 1 to 5",
                        ));
                    }
                }
                Ok(())
            }
            Setting::SpeedDial8(v) => {
                for code in v.entries.keys() {
                    code.parse::<u32>()
                        .map_err(|_| {
                            ValidationError::new(
                                "speed_code",
                                "a Speed Dial 8 code is a digit from 2 to 9",
                            )
                        })
                        .and_then(super::values::SpeedCode8::new)?;
                }
                Ok(())
            }
            Setting::SpeedDial100(v) => {
                for code in v.entries.keys() {
                    let parsed = code.parse::<u32>().map_err(|_| {
                        ValidationError::new(
                            "speed_code",
                            "a Speed Dial 100 code is a number from 0 to 99",
                        )
                    })?;
                    super::values::SpeedCode100::new(parsed)?;
                    if parsed.to_string() != *code {
                        return Err(ValidationError::new(
                            "speed_code",
                            "write speed codes without leading zeros",
                        ));
                    }
                }
                Ok(())
            }
            Setting::BroadWorksAnywhere(v) => {
                for (key, location) in &v.locations {
                    if key != location.phone_number.as_str() {
                        return Err(ValidationError::new(
                            "locations",
                            "an Anywhere location is keyed by its phone number",
                        ));
                    }
                }
                Ok(())
            }
            Setting::PersonalDirectory(v) => {
                for name in v.entries.keys() {
                    DirectoryName::parse(name)?;
                }
                Ok(())
            }
            Setting::DoNotDisturb(_)
            | Setting::AnonymousCallRejection(_)
            | Setting::CallWaiting(_)
            | Setting::CallingLineIdDeliveryBlocking(_)
            | Setting::CallNotify(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(s: &str) -> Destination {
        Destination::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn keys_round_trip() {
        for key in SettingKey::ALL {
            assert_eq!(SettingKey::from_id(key.id()), Some(key));
            let json = serde_json::to_string(&key).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", key.id()));
        }
    }

    #[test]
    fn active_forwarding_needs_a_number() {
        let s = Setting::CallForwardingBusy(CallForwarding {
            active: true,
            forward_to: None,
        });
        assert!(s.validate().is_err());
        let s = Setting::CallForwardingBusy(CallForwarding {
            active: true,
            forward_to: Some(dest("1002")),
        });
        assert!(s.validate().is_ok());
    }

    #[test]
    fn sim_ring_limits() {
        let locations = (0..11)
            .map(|i| SimRingLocation {
                address: dest(&format!("20{i:02}")),
                answer_confirmation_required: false,
            })
            .collect();
        let s = Setting::SimultaneousRingPersonal(SimultaneousRing {
            locations,
            ..Default::default()
        });
        assert!(s.validate().is_err());
        let twice = vec![
            SimRingLocation {
                address: dest("2001"),
                answer_confirmation_required: false,
            },
            SimRingLocation {
                address: dest("2001"),
                answer_confirmation_required: true,
            },
        ];
        let s = Setting::SimultaneousRingPersonal(SimultaneousRing {
            locations: twice,
            ..Default::default()
        });
        assert!(s.validate().is_err());
    }

    #[test]
    fn speed_dial_codes() {
        let entry = SpeedDialEntry {
            number: dest("1001"),
            description: None,
        };
        let mut sd = SpeedDial8::default();
        sd.entries.insert("1".into(), entry.clone());
        assert!(Setting::SpeedDial8(sd).validate().is_err());
        let mut sd = SpeedDial100::default();
        sd.entries.insert("07".into(), entry);
        assert!(Setting::SpeedDial100(sd).validate().is_err());
    }

    #[test]
    fn setting_tags_match_key_ids() {
        let sd = Setting::SpeedDial8(SpeedDial8::default());
        assert_eq!(
            serde_json::to_value(&sd).unwrap()["key"],
            SettingKey::SpeedDial8.id()
        );
        let bwa = Setting::BroadWorksAnywhere(BroadWorksAnywhere::default());
        assert_eq!(
            serde_json::to_value(&bwa).unwrap()["key"],
            SettingKey::BroadWorksAnywhere.id()
        );
    }

    #[test]
    fn setting_json_is_tagged() {
        let s = Setting::DoNotDisturb(DoNotDisturb {
            active: true,
            ring_splash: false,
        });
        let json = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(json["key"], "do_not_disturb");
        assert_eq!(json["value"]["active"], true);
        let back: Setting = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
    }
}
