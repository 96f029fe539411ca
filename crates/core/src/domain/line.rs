//! What the provider says about the user and their line: profile, soft-client
//! assignments (with their SIP settings), live registrations, directories, call logs and
//! click-to-dial results.

use super::values::{SipUri, UserId};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The user's profile (`GET profile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The canonical user ID the provider answered with.
    pub user_id: UserId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// The line's phone number, if it has one.
    pub number: Option<String>,
    /// The line's extension, if it has one.
    pub extension: Option<String>,
    /// Group the user belongs to.
    pub group_id: Option<String>,
    /// Service provider or enterprise.
    pub service_provider: Option<String>,
    /// Country code of the line.
    pub country_code: Option<String>,
    /// E-mail address on the profile.
    pub email: Option<String>,
    /// Days until the portal password expires, when the provider says.
    pub password_expires_days: Option<i64>,
    /// Time zone name.
    pub time_zone: Option<String>,
}

impl Profile {
    /// "First Last", or the user ID when both are empty.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.user_id.to_string()
        } else {
            name.to_owned()
        }
    }
}

/// How a device appears on the user's line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointType {
    /// The user's primary device.
    Primary,
    /// A Shared Call Appearance endpoint (a "shared line" soft client).
    SharedCallAppearance,
    /// Anything else the provider lists (kept for display).
    Other(String),
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP (the default).
    #[default]
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// `udp`, `tcp` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// Parses `udp`/`tcp`/`tls` in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "udp" => Some(Transport::Udp),
            "tcp" => Some(Transport::Tcp),
            "tls" => Some(Transport::Tls),
            _ => None,
        }
    }
}

/// The SIP settings of one line, without the password (which lives only in the vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipLine {
    /// The address of record the line registers as (`sip:user1-pc@example.com`).
    pub aor: SipUri,
    /// The digest user name.
    pub auth_user: String,
    /// Registrar / SIP domain, `host[:port]`.
    pub registrar: String,
    /// Outbound proxy, `host[:port]`, when the provider sets one.
    pub outbound_proxy: Option<String>,
    /// Transport to use.
    pub transport: Transport,
    /// The name shown for the line.
    pub display_name: Option<String>,
}

/// A soft client shared with the user, as the assignment sync returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SoftClient {
    /// The device's name on the provider.
    pub device_name: String,
    /// The device type (`Business Communicator - PC`).
    pub device_type: String,
    /// Primary or Shared Call Appearance.
    pub endpoint_type: EndpointType,
    /// The line/port (AoR without scheme, `user1-pc@example.com`); the soft client's key.
    pub line_port: String,
    /// The SIP settings from device management, when they could be fetched.
    pub sip: Option<SipLine>,
    /// The SIP password from device management. Never stored outside the vault.
    #[serde(skip)]
    pub sip_password: Option<SecretString>,
}

/// A live registration of one of the user's devices (`GET profile/Registrations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The registered line/port.
    pub line_port: String,
    /// The contact URI.
    pub contact: String,
    /// Endpoint type as the provider names it.
    pub endpoint_type: String,
    /// Registering user agent.
    pub user_agent: Option<String>,
    /// When the registration expires, if given.
    pub expires: Option<String>,
}

/// Which shared directory to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryScope {
    /// The user's group.
    Group,
    /// The whole enterprise.
    Enterprise,
}

/// A search in a shared directory; empty fields are not sent. Text matches as a
/// case-insensitive "contains".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryQuery {
    /// Matches first or last name.
    pub name: Option<String>,
    /// Matches the number.
    pub number: Option<String>,
    /// Matches the extension.
    pub extension: Option<String>,
    /// 1-based index of the first result.
    pub start: u32,
    /// Page size (1–1000).
    pub results: u32,
}

/// A person in a group or enterprise directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryContact {
    /// Their user ID.
    pub user_id: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Phone number.
    pub number: Option<String>,
    /// Extension.
    pub extension: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
}

/// One page of a directory search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    /// 1-based index of the first contact.
    pub start: u32,
    /// How many matched in all.
    pub total: u32,
    /// The contacts on this page.
    pub contacts: Vec<DirectoryContact>,
}

/// Which call log an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallLogKind {
    /// Calls the user made.
    Placed,
    /// Calls the user took.
    Received,
    /// Calls nobody answered.
    Missed,
}

/// One provider call log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLogEntry {
    /// Provider's ID of the entry (`47:0`).
    pub id: String,
    /// Placed, received or missed.
    pub kind: CallLogKind,
    /// The other party's number.
    pub number: String,
    /// The other party's name.
    pub name: Option<String>,
    /// When the call started.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
}

/// The result of click-to-dial: the provider's call ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialStarted {
    /// The new call's ID.
    pub call_id: String,
    /// The provider's tracking ID.
    pub external_tracking_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse() {
        assert_eq!(Transport::parse("TLS"), Some(Transport::Tls));
        assert_eq!(Transport::parse("sctp"), None);
    }

    #[test]
    fn soft_client_json_never_carries_the_password() {
        let client = SoftClient {
            device_name: "pc".into(),
            device_type: "Business Communicator - PC".into(),
            endpoint_type: EndpointType::SharedCallAppearance,
            line_port: "u-pc@example.com".into(),
            sip: None,
            sip_password: Some(SecretString::from("hunter2-secret")),
        };
        let json = serde_json::to_string(&client).unwrap_or_default();
        assert!(!json.contains("hunter2-secret"));
        assert!(json.contains("shared_call_appearance"));
    }
}
