//! The Xsi wire format: reading documents (any namespace prefix, unknown elements and
//! attributes ignored, `xsi:nil` as absent) into domain values, and writing request bodies
//! (default namespace, only the elements that change, `xsi:nil` to clear). Wire details
//! stay here; the rest of the crate sees domain types.

use deskline_core::*;
use roxmltree::{Document, Node};
use std::collections::BTreeMap;

/// The Xsi namespace.
pub const XSI_NS: &str = "http://schema.broadsoft.com/xsi";
const NIL: &str = " xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// Parses a document.
pub fn parse(text: &str) -> Result<Document<'_>, ProviderError> {
    Document::parse(text).map_err(|e| ProviderError::Protocol {
        reason: format!("the answer is not XML ({e})"),
    })
}

/// The child element with local name `name`.
pub fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element with local name `name`.
pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn is_nil(node: Node<'_, '_>) -> bool {
    node.attributes()
        .any(|a| a.name() == "nil" && matches!(a.value(), "true" | "1"))
}

/// The trimmed text of child `name`; `None` when absent, nil or empty.
pub fn text(node: Node<'_, '_>, name: &str) -> Option<String> {
    let c = child(node, name)?;
    if is_nil(c) {
        return None;
    }
    let t = c.text().unwrap_or("").trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn boolean(node: Node<'_, '_>, name: &str) -> bool {
    matches!(text(node, name).as_deref(), Some("true" | "1"))
}

fn protocol(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Protocol {
        reason: format!("{what}: {e}"),
    }
}

fn destination(value: Option<String>, what: &str) -> Result<Option<Destination>, ProviderError> {
    value
        .map(|v| Destination::parse(&v).map_err(|e| protocol(what, e)))
        .transpose()
}

fn rings(node: Node<'_, '_>, name: &str) -> Result<RingCount, ProviderError> {
    match text(node, name) {
        None => Ok(RingCount::default()),
        Some(t) => {
            let n: u32 = t.parse().map_err(|e| protocol(name, e))?;
            RingCount::new(n).map_err(|e| protocol(name, e))
        }
    }
}

/// `ErrorInfo` contents.
pub struct ErrorInfo {
    /// `summaryEnglish`, else `summary`.
    pub text: String,
    /// `errorCode`.
    pub code: Option<u32>,
}

/// Parses an `ErrorInfo` body, if it is one.
pub fn error_info(body: &str) -> Option<ErrorInfo> {
    let doc = Document::parse(body).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "ErrorInfo" {
        return None;
    }
    let text = text(root, "summaryEnglish").or_else(|| text(root, "summary"))?;
    Some(ErrorInfo {
        text,
        code: text_code(root),
    })
}

fn text_code(root: Node<'_, '_>) -> Option<u32> {
    text(root, "errorCode")?.parse().ok()
}

/// `GET profile`.
pub fn profile(body: &str) -> Result<Profile, ProviderError> {
    let doc = parse(body)?;
    let root = doc.root_element();
    let details = child(root, "details").ok_or_else(|| protocol("profile", "no details"))?;
    let additional = child(root, "additionalDetails");
    let user_id = text(details, "userId").ok_or_else(|| protocol("profile", "no userId"))?;
    Ok(Profile {
        user_id: UserId::parse(&user_id).map_err(|e| protocol("userId", e))?,
        first_name: text(details, "firstName").unwrap_or_default(),
        last_name: text(details, "lastName").unwrap_or_default(),
        number: text(details, "number"),
        extension: text(details, "extension"),
        group_id: text(details, "groupId"),
        service_provider: text(details, "serviceProvider"),
        country_code: text(root, "countryCode"),
        email: additional.and_then(|a| text(a, "emailAddress")),
        password_expires_days: text(root, "passwordExpiresDays").and_then(|d| d.parse().ok()),
        time_zone: text(root, "timeZone"),
    })
}

/// `GET services`: the assigned services Deskline manages.
pub fn services(body: &str) -> Result<Vec<SettingKey>, ProviderError> {
    let doc = parse(body)?;
    let mut out = Vec::new();
    for service in children(doc.root_element(), "service") {
        let name = text(service, "name").unwrap_or_default();
        let key = match name.as_str() {
            "Personal Phone List" => Some(SettingKey::PersonalDirectory),
            other => SettingKey::ALL
                .into_iter()
                .find(|k| k.display_name() == other),
        };
        if let Some(k) = key {
            out.push(k);
        }
    }
    Ok(out)
}

/// One device of `GET profile/Device`.
pub struct DeviceDto {
    /// Name.
    pub name: String,
    /// Type.
    pub device_type: String,
    /// Endpoint type.
    pub endpoint_type: String,
    /// Line/port.
    pub line_port: String,
    /// DMS base URL.
    pub type_url: Option<String>,
    /// DM credentials.
    pub dm: Option<(String, String)>,
}

/// `GET profile/Device`.
pub fn devices(body: &str) -> Result<Vec<DeviceDto>, ProviderError> {
    let doc = parse(body)?;
    Ok(children(doc.root_element(), "accessDevice")
        .map(|d| DeviceDto {
            name: text(d, "deviceName").unwrap_or_default(),
            device_type: text(d, "deviceType").unwrap_or_default(),
            endpoint_type: text(d, "endpointType").unwrap_or_default(),
            line_port: text(d, "deviceLinePort").unwrap_or_default(),
            type_url: text(d, "deviceTypeUrl"),
            dm: child(d, "deviceUserNamePassword")
                .and_then(|c| Some((text(c, "userName")?, text(c, "password")?))),
        })
        .collect())
}

/// Whether a device type is a soft client Deskline can stand in for.
pub fn is_soft_client(device_type: &str) -> bool {
    let t = device_type.to_ascii_lowercase();
    t.starts_with("business communicator")
        || t.contains("uc-one")
        || t.starts_with("connect")
        || t.starts_with("webex")
}

/// The SIP settings of a device-management `config.xml`.
pub fn sip_config(body: &str) -> Result<(SipLine, String), ProviderError> {
    let doc = parse(body)?;
    let sip = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "sip")
        .ok_or_else(|| protocol("config.xml", "no sip settings"))?;
    let line = sip
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "line")
        .ok_or_else(|| protocol("config.xml", "no line"))?;
    let creds =
        child(line, "credentials").ok_or_else(|| protocol("config.xml", "no credentials"))?;
    let username = text(creds, "username").ok_or_else(|| protocol("config.xml", "no username"))?;
    let domain = text(line, "domain").ok_or_else(|| protocol("config.xml", "no domain"))?;
    let password = text(creds, "password").ok_or_else(|| protocol("config.xml", "no password"))?;
    let host_port = |n: Node<'_, '_>| -> Option<String> {
        let address = n.attribute("address").filter(|a| !a.is_empty())?;
        Some(match n.attribute("port").filter(|p| !p.is_empty()) {
            Some(port) => format!("{address}:{port}"),
            None => address.to_owned(),
        })
    };
    let aor = SipUri::parse(&format!("sip:{username}@{domain}"))
        .map_err(|e| protocol("config.xml", e))?;
    let transport = text(sip, "transport")
        .and_then(|t| Transport::parse(&t))
        .unwrap_or_default();
    Ok((
        SipLine {
            aor,
            auth_user: text(creds, "auth-username").unwrap_or(username),
            registrar: child(line, "registrar")
                .and_then(host_port)
                .unwrap_or_else(|| domain.clone()),
            outbound_proxy: child(sip, "proxy").and_then(host_port),
            transport,
            display_name: text(line, "label"),
        },
        password,
    ))
}

/// `GET profile/Registrations`.
pub fn registrations(body: &str) -> Result<Vec<Registration>, ProviderError> {
    let doc = parse(body)?;
    Ok(children(doc.root_element(), "registration")
        .map(|r| Registration {
            line_port: text(r, "linePort").unwrap_or_default(),
            contact: text(r, "uri").unwrap_or_default(),
            endpoint_type: text(r, "endpointType").unwrap_or_default(),
            user_agent: text(r, "userAgent"),
            expires: text(r, "expiration"),
        })
        .collect())
}

fn criteria(root: Node<'_, '_>) -> BTreeMap<String, bool> {
    child(root, "criteriaActivationList")
        .map(|list| {
            children(list, "criteriaActivation")
                .filter_map(|c| Some((text(c, "criteriaName")?, boolean(c, "active"))))
                .collect()
        })
        .unwrap_or_default()
}

/// A service document as a domain setting.
pub fn setting(key: SettingKey, body: &str) -> Result<Setting, ProviderError> {
    let doc = parse(body)?;
    let r = doc.root_element();
    let fwd = |r| destination(text(r, "forwardToPhoneNumber"), "forwardToPhoneNumber");
    Ok(match key {
        SettingKey::CallForwardingAlways => Setting::CallForwardingAlways(CallForwardingAlways {
            active: boolean(r, "active"),
            forward_to: fwd(r)?,
            ring_splash: boolean(r, "ringSplash"),
        }),
        SettingKey::CallForwardingBusy => Setting::CallForwardingBusy(CallForwarding {
            active: boolean(r, "active"),
            forward_to: fwd(r)?,
        }),
        SettingKey::CallForwardingNotReachable => {
            Setting::CallForwardingNotReachable(CallForwarding {
                active: boolean(r, "active"),
                forward_to: fwd(r)?,
            })
        }
        SettingKey::CallForwardingNoAnswer => {
            Setting::CallForwardingNoAnswer(CallForwardingNoAnswer {
                active: boolean(r, "active"),
                forward_to: fwd(r)?,
                number_of_rings: rings(r, "numberOfRings")?,
            })
        }
        SettingKey::DoNotDisturb => Setting::DoNotDisturb(DoNotDisturb {
            active: boolean(r, "active"),
            ring_splash: boolean(r, "ringSplash"),
        }),
        SettingKey::AnonymousCallRejection => Setting::AnonymousCallRejection(Toggle {
            active: boolean(r, "active"),
        }),
        SettingKey::CallWaiting => Setting::CallWaiting(Toggle {
            active: boolean(r, "active"),
        }),
        SettingKey::CallingLineIdDeliveryBlocking => {
            Setting::CallingLineIdDeliveryBlocking(Toggle {
                active: boolean(r, "active"),
            })
        }
        SettingKey::RemoteOffice => Setting::RemoteOffice(RemoteOffice {
            active: boolean(r, "active"),
            number: destination(text(r, "remoteOfficeNumber"), "remoteOfficeNumber")?,
        }),
        SettingKey::SimultaneousRingPersonal => {
            let mut locations = Vec::new();
            if let Some(list) = child(r, "simRingLocations") {
                for l in children(list, "simRingLocation") {
                    if let Some(address) = destination(text(l, "address"), "address")? {
                        locations.push(SimRingLocation {
                            address,
                            answer_confirmation_required: boolean(l, "answerConfirmationRequired"),
                        });
                    }
                }
            }
            Setting::SimultaneousRingPersonal(SimultaneousRing {
                active: boolean(r, "active"),
                incoming_calls: match text(r, "incomingCalls").as_deref() {
                    Some("Ring for all Incoming Calls") => {
                        SimRingIncomingCalls::RingForAllIncomingCalls
                    }
                    _ => SimRingIncomingCalls::DoNotRingIfOnCall,
                },
                locations,
                criteria: criteria(r),
            })
        }
        SettingKey::SequentialRing => {
            let mut locations = BTreeMap::new();
            for slot in 1..=5 {
                if let Some(l) = child(r, &format!("location{slot}"))
                    && let Some(address) = destination(text(l, "address"), "address")?
                {
                    locations.insert(
                        slot.to_string(),
                        SequentialRingLocation {
                            address,
                            number_of_rings: rings(l, "numberOfRings")?,
                            answer_confirmation_required: boolean(l, "answerConfirmationRequired"),
                        },
                    );
                }
            }
            Setting::SequentialRing(SequentialRing {
                ring_base_location_first: boolean(r, "ringBaseLocationFirst"),
                base_location_number_of_rings: rings(r, "baseLocationNumberOfRings")?,
                continue_if_base_location_is_busy: boolean(r, "continueIfBaseLocationIsBusy"),
                caller_may_stop_search: boolean(r, "callerMayStopSearch"),
                locations,
                criteria: criteria(r),
            })
        }
        SettingKey::SpeedDial8 => {
            let mut entries = BTreeMap::new();
            for e in r.children().filter(|c| {
                c.is_element()
                    && matches!(c.tag_name().name(), "speedDial8Entry" | "speedDialEntry")
            }) {
                let (Some(code), Some(number)) = (text(e, "speedCode"), text(e, "phoneNumber"))
                else {
                    continue;
                };
                entries.insert(
                    code.trim_start_matches('0').to_owned(),
                    speed_entry(e, number)?,
                );
            }
            Setting::SpeedDial8(SpeedDial8 { entries })
        }
        SettingKey::SpeedDial100 => {
            let mut entries = BTreeMap::new();
            for e in children(r, "speedDial100Entry") {
                let (Some(code), Some(number)) = (text(e, "speedCode"), text(e, "phoneNumber"))
                else {
                    continue;
                };
                let code: u32 = code.parse().map_err(|e| protocol("speedCode", e))?;
                entries.insert(code.to_string(), speed_entry(e, number)?);
            }
            Setting::SpeedDial100(SpeedDial100 {
                prefix: text(r, "prefix"),
                entries,
            })
        }
        SettingKey::CallNotify => Setting::CallNotify(CallNotify {
            email: text(r, "callNotifyEmailAddress")
                .map(|e| {
                    EmailAddress::parse(&e).map_err(|err| protocol("callNotifyEmailAddress", err))
                })
                .transpose()?,
            criteria: criteria(r),
        }),
        SettingKey::BroadWorksAnywhere => {
            let mut locations = BTreeMap::new();
            if let Some(list) = child(r, "locations") {
                for l in children(list, "location") {
                    let Some(number) = text(l, "phoneNumber") else {
                        continue;
                    };
                    let phone =
                        PhoneNumber::parse(&number).map_err(|e| protocol("phoneNumber", e))?;
                    locations.insert(
                        phone.as_str().to_owned(),
                        AnywhereLocation {
                            country_code: child(l, "phoneNumber")
                                .and_then(|p| p.attribute("countryCode"))
                                .map(str::to_owned),
                            description: text(l, "description")
                                .map(|d| {
                                    Description::parse(&d).map_err(|e| protocol("description", e))
                                })
                                .transpose()?,
                            active: boolean(l, "active"),
                            phone_number: phone,
                        },
                    );
                }
            }
            Setting::BroadWorksAnywhere(BroadWorksAnywhere {
                alert_all_locations_for_click_to_dial_calls: boolean(
                    r,
                    "alertAllLocationsForClickToDialCalls",
                ),
                alert_all_locations_for_group_paging_calls: boolean(
                    r,
                    "alertAllLocationsForGroupPagingCalls",
                ),
                locations,
            })
        }
        SettingKey::PersonalDirectory => {
            let mut entries = BTreeMap::new();
            for e in children(r, "entry") {
                let (Some(name), Some(number)) = (text(e, "name"), text(e, "number")) else {
                    continue;
                };
                match Destination::parse(&number) {
                    Ok(n) => {
                        entries.insert(name, n);
                    }
                    Err(err) => {
                        tracing::warn!(%name, error = %err, "a personal directory number Deskline cannot dial was skipped")
                    }
                }
            }
            Setting::PersonalDirectory(PersonalDirectory { entries })
        }
    })
}

fn speed_entry(e: Node<'_, '_>, number: String) -> Result<SpeedDialEntry, ProviderError> {
    Ok(SpeedDialEntry {
        number: Destination::parse(&number).map_err(|err| protocol("phoneNumber", err))?,
        description: text(e, "description")
            .map(|d| Description::parse(&d).map_err(|err| protocol("description", err)))
            .transpose()?,
    })
}

/// The element name the server used for Speed Dial 8 entries.
pub fn speed_dial_8_element(body: &str) -> Option<&'static str> {
    let doc = Document::parse(body).ok()?;
    let root = doc.root_element();
    if child(root, "speedDialEntry").is_some() {
        Some("speedDialEntry")
    } else {
        Some("speedDial8Entry")
    }
}

/// Paged directory answer.
pub fn directory(body: &str) -> Result<DirectoryPage, ProviderError> {
    let doc = parse(body)?;
    let r = doc.root_element();
    let list = child(r, "enterpriseDirectory").or_else(|| child(r, "groupDirectory"));
    let contacts = list
        .map(|l| {
            children(l, "directoryDetails")
                .map(|d| {
                    let extra = child(d, "additionalDetails");
                    DirectoryContact {
                        user_id: text(d, "userId"),
                        first_name: text(d, "firstName").unwrap_or_default(),
                        last_name: text(d, "lastName").unwrap_or_default(),
                        number: text(d, "number"),
                        extension: text(d, "extension"),
                        mobile: extra.and_then(|x| text(x, "mobile")),
                        email: extra.and_then(|x| text(x, "emailAddress")),
                        department: extra.and_then(|x| text(x, "department")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(DirectoryPage {
        start: text(r, "startIndex")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
        total: text(r, "totalAvailableRecords")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        contacts,
    })
}

/// `GET directories/CallLogs` (or one list, with or without the wrapper).
pub fn call_logs(body: &str) -> Result<Vec<CallLogEntry>, ProviderError> {
    let doc = parse(body)?;
    let root = doc.root_element();
    let mut out = Vec::new();
    let lists: Vec<Node<'_, '_>> = if root.tag_name().name() == "CallLogs" {
        root.children().filter(|c| c.is_element()).collect()
    } else {
        vec![root]
    };
    for list in lists {
        let kind = match list.tag_name().name().to_ascii_lowercase().as_str() {
            "placed" => CallLogKind::Placed,
            "received" => CallLogKind::Received,
            "missed" => CallLogKind::Missed,
            _ => continue,
        };
        for e in children(list, "callLogsEntry") {
            let Some(time) = text(e, "time") else {
                continue;
            };
            let time =
                time::OffsetDateTime::parse(&time, &time::format_description::well_known::Rfc3339)
                    .map_err(|err| protocol("time", err))?;
            out.push(CallLogEntry {
                id: text(e, "callLogId").unwrap_or_default(),
                kind,
                number: text(e, "phoneNumber").unwrap_or_default(),
                name: text(e, "name"),
                time,
            });
        }
    }
    Ok(out)
}

/// `CallStartInfo`.
pub fn call_start(body: &str) -> Result<DialStarted, ProviderError> {
    let doc = parse(body)?;
    let r = doc.root_element();
    Ok(DialStarted {
        call_id: text(r, "callId").ok_or_else(|| protocol("CallStartInfo", "no callId"))?,
        external_tracking_id: text(r, "externalTrackingId"),
    })
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Writes a request body element by element.
pub struct Body {
    out: String,
    root: &'static str,
    changed: bool,
}

impl Body {
    /// A body whose root is `root`.
    pub fn new(root: &'static str) -> Self {
        Self {
            out: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{XSI_NS}\">"),
            root,
            changed: false,
        }
    }

    /// `<name>value</name>`.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.out
            .push_str(&format!("<{name}>{}</{name}>", escape(value)));
        self.changed = true;
        self
    }

    /// A value, or `xsi:nil` when cleared.
    pub fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(name, v),
            None => self.raw(&format!("<{name}{NIL}/>")),
        }
    }

    /// `true`/`false`.
    pub fn boolean(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// Raw markup.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self.changed = true;
        self
    }

    /// Whether anything was written.
    pub fn is_empty(&self) -> bool {
        !self.changed
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.out.push_str(&format!("</{}>", self.root));
        self.out
    }
}

/// `xsi:nil` markup for an element.
pub fn nil(name: &str) -> String {
    format!("<{name}{NIL}/>")
}

/// Criteria activation changes.
pub fn criteria_body(
    before: &BTreeMap<String, bool>,
    after: &BTreeMap<String, bool>,
) -> Option<String> {
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .collect();
    if changed.is_empty() {
        return None;
    }
    let mut x = String::from("<criteriaActivationList>");
    for (name, active) in changed {
        x.push_str(&format!("<criteriaActivation><criteriaName>{}</criteriaName><active>{active}</active></criteriaActivation>", escape(name)));
    }
    x.push_str("</criteriaActivationList>");
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_prefixes_unknown_elements_and_nil() {
        let body = r#"<?xml version="1.0"?><xsi:CallForwardingAlways xmlns:xsi="http://schema.broadsoft.com/xsi" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><xsi:active>true</xsi:active><xsi:futureThing a="1"><x/></xsi:futureThing><xsi:forwardToPhoneNumber>+1-2145551234</xsi:forwardToPhoneNumber><xsi:ringSplash i:nil="true"/></xsi:CallForwardingAlways>"#;
        let s = setting(SettingKey::CallForwardingAlways, body).unwrap();
        assert_eq!(
            s,
            Setting::CallForwardingAlways(CallForwardingAlways {
                active: true,
                forward_to: Some(Destination::parse("+1-2145551234").unwrap()),
                ring_splash: false
            })
        );
    }

    #[test]
    fn error_info_and_profile() {
        let e = error_info(r#"<ErrorInfo xmlns="http://schema.broadsoft.com/xsi"><summary>x</summary><summaryEnglish>Bad number</summaryEnglish><errorCode>8251</errorCode></ErrorInfo>"#).unwrap();
        assert_eq!((e.text.as_str(), e.code), ("Bad number", Some(8251)));
        let p = profile(r#"<Profile xmlns="http://schema.broadsoft.com/xsi"><details><userId>jdoe@example.com</userId><firstName>Jane</firstName><lastName>Doe</lastName><number>2145551000</number></details><additionalDetails><mobile xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/></additionalDetails><countryCode>1</countryCode></Profile>"#).unwrap();
        assert_eq!(p.display_name(), "Jane Doe");
        assert_eq!(p.number.as_deref(), Some("2145551000"));
    }

    #[test]
    fn speed_dial_8_either_element_name() {
        let body = r#"<SpeedDial8 xmlns="http://schema.broadsoft.com/xsi"><speedDialEntry><speedCode>2</speedCode><phoneNumber>1001</phoneNumber><description>Desk</description></speedDialEntry><speedDialEntry><speedCode>3</speedCode></speedDialEntry></SpeedDial8>"#;
        let Setting::SpeedDial8(sd) = setting(SettingKey::SpeedDial8, body).unwrap() else {
            panic!()
        };
        assert_eq!(sd.entries.len(), 1);
        assert_eq!(speed_dial_8_element(body), Some("speedDialEntry"));
    }

    #[test]
    fn config_xml() {
        let body = r#"<config><protocols><sip><proxy address="10.0.0.1" port="5080"/><transport>TCP</transport><lines><line><label>Pc</label><domain>example.com</domain><credentials><username>u1</username><auth-username>a1</auth-username><password>p1</password></credentials><extra/></line></lines></sip></protocols></config>"#;
        let (line, password) = sip_config(body).unwrap();
        assert_eq!(line.aor.as_str(), "sip:u1@example.com");
        assert_eq!(line.registrar, "example.com");
        assert_eq!(line.outbound_proxy.as_deref(), Some("10.0.0.1:5080"));
        assert_eq!(line.transport, Transport::Tcp);
        assert_eq!(password, "p1");
    }

    #[test]
    fn call_logs_with_or_without_wrapper() {
        let one = r#"<missed xmlns="http://schema.broadsoft.com/xsi"><callLogsEntry><phoneNumber>2001</phoneNumber><time>2010-03-26T15:39:39.811+05:30</time><callLogId>47:0</callLogId></callLogsEntry></missed>"#;
        assert_eq!(call_logs(one).unwrap()[0].kind, CallLogKind::Missed);
        let all = format!(
            r#"<CallLogs xmlns="http://schema.broadsoft.com/xsi"><placed/>{}</CallLogs>"#,
            one.replace(r#" xmlns="http://schema.broadsoft.com/xsi""#, "")
        );
        assert_eq!(call_logs(&all).unwrap().len(), 1);
    }
}
