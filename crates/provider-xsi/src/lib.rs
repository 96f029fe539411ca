//! The BroadWorks Xsi-Actions adapter: [`XsiConnector`] and [`XsiProvider`] implement the
//! core's `ProviderConnector` and `Provider` ports. Requests go through [`http`] (Basic
//! auth, redirects with credentials re-sent, timeouts, classified errors, retries for
//! idempotent requests); documents are read and written by [`wire`]; soft clients' SIP
//! settings come from the device-management `config.xml` over HTTP Digest ([`dms`]).
//!
//! Architecture invariant: the only crate that knows Xsi paths and XML; wire types never
//! leave it. TLS is always verified; plain HTTP is refused except to loopback.

pub mod dms;
pub mod http;
pub mod wire;

use async_trait::async_trait;
use deskline_core::*;
use futures::future::join_all;
use http::Sender;
use reqwest::Method;
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// How the adapter talks to XSPs.
#[derive(Debug, Clone)]
pub struct XsiOptions {
    /// Longest wait for one request (connect, send, answer).
    pub request_timeout: Duration,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// An extra trusted root CA (PEM), for private CAs and tests.
    pub extra_root_ca_pem: Option<String>,
    /// Retries of idempotent requests on transient failures.
    pub retries: usize,
    /// User-Agent header.
    pub user_agent: String,
}

impl Default for XsiOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            extra_root_ca_pem: None,
            retries: 2,
            user_agent: format!("Deskline/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Makes signed-in [`XsiProvider`]s sharing one connection pool.
#[derive(Clone)]
pub struct XsiConnector {
    client: reqwest::Client,
    options: XsiOptions,
    challenges: dms::Challenges,
}

impl XsiConnector {
    /// A connector with `options`.
    pub fn new(options: XsiOptions) -> Result<Self, ProviderError> {
        use_ring_for_tls();
        let mut builder = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(options.user_agent.clone());
        if let Some(pem) = &options.extra_root_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                ProviderError::Tls {
                    reason: format!("the extra CA certificate could not be read ({e})"),
                }
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(|e| ProviderError::Tls {
            reason: format!("the HTTPS client could not start ({e})"),
        })?;
        Ok(Self {
            client,
            options,
            challenges: dms::Challenges::default(),
        })
    }
}

/// Makes rustls's ring provider the process's default, which reqwest (built without a
/// provider of its own) uses for every HTTPS connection. The SIP and sandbox TLS use ring
/// too, so one crypto library is linked, not two. An already installed default is kept.
fn use_ring_for_tls() {
    // `Err` only says a default was installed before (by us or by the host): keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The Xsi-Actions root for what a user typed: the server root, or already the root.
pub fn xsi_root(server: &Url) -> Result<Url, ProviderError> {
    http::check_scheme(server)?;
    let path = server.path().trim_end_matches('/');
    let root = if path
        .to_ascii_lowercase()
        .ends_with("com.broadsoft.xsi-actions/v2.0")
    {
        format!("{path}/")
    } else {
        format!("{path}/com.broadsoft.xsi-actions/v2.0/")
    };
    let mut url = server.clone();
    url.set_path(&root);
    url.set_query(None);
    Ok(url)
}

impl ProviderConnector for XsiConnector {
    fn connect(
        &self,
        server: &Url,
        user: &UserId,
        password: SecretString,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let root = xsi_root(server)?;
        Ok(Arc::new(XsiProvider {
            sender: Sender {
                client: self.client.clone(),
                user: user.to_string(),
                password: Arc::new(password),
                retries: self.options.retries,
            },
            root,
            user: user.clone(),
            speed_dial_8_element: Arc::new(Mutex::new("speedDial8Entry")),
            challenges: self.challenges.clone(),
        }))
    }
}

/// A signed-in BroadWorks user.
pub struct XsiProvider {
    sender: Sender,
    root: Url,
    user: UserId,
    speed_dial_8_element: Arc<Mutex<&'static str>>,
    challenges: dms::Challenges,
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'@')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

fn service_path(key: SettingKey) -> &'static str {
    match key {
        SettingKey::CallForwardingAlways => "services/CallForwardingAlways",
        SettingKey::CallForwardingBusy => "services/CallForwardingBusy",
        SettingKey::CallForwardingNoAnswer => "services/CallForwardingNoAnswer",
        SettingKey::CallForwardingNotReachable => "services/CallForwardingNotReachable",
        SettingKey::DoNotDisturb => "services/DoNotDisturb",
        SettingKey::AnonymousCallRejection => "services/AnonymousCallRejection",
        SettingKey::CallWaiting => "services/CallWaiting",
        SettingKey::CallingLineIdDeliveryBlocking => "services/CallingLineIDDeliveryBlocking",
        SettingKey::RemoteOffice => "services/RemoteOffice",
        SettingKey::SimultaneousRingPersonal => "services/SimultaneousRingPersonal",
        SettingKey::SequentialRing => "services/SequentialRing",
        SettingKey::SpeedDial8 => "services/SpeedDial8",
        SettingKey::SpeedDial100 => "services/SpeedDial100",
        SettingKey::CallNotify => "services/CallNotify",
        SettingKey::BroadWorksAnywhere => "services/BroadWorksAnywhere",
        SettingKey::PersonalDirectory => "directories/Personal",
    }
}

fn root_element(key: SettingKey) -> &'static str {
    match key {
        SettingKey::CallForwardingAlways => "CallForwardingAlways",
        SettingKey::CallForwardingBusy => "CallForwardingBusy",
        SettingKey::CallForwardingNoAnswer => "CallForwardingNoAnswer",
        SettingKey::CallForwardingNotReachable => "CallForwardingNotReachable",
        SettingKey::DoNotDisturb => "DoNotDisturb",
        SettingKey::AnonymousCallRejection => "AnonymousCallRejection",
        SettingKey::CallWaiting => "CallWaiting",
        SettingKey::CallingLineIdDeliveryBlocking => "CallingLineIDDeliveryBlocking",
        SettingKey::RemoteOffice => "RemoteOffice",
        SettingKey::SimultaneousRingPersonal => "SimultaneousRingPersonal",
        SettingKey::SequentialRing => "SequentialRing",
        SettingKey::SpeedDial8 => "SpeedDial8",
        SettingKey::SpeedDial100 => "SpeedDial100",
        SettingKey::CallNotify => "CallNotify",
        SettingKey::BroadWorksAnywhere => "BroadWorksAnywhere",
        SettingKey::PersonalDirectory => "Personal",
    }
}

fn opt_str(d: &Option<Destination>) -> Option<&str> {
    d.as_ref().map(Destination::as_str)
}

impl XsiProvider {
    fn url(&self, path: &str) -> Result<Url, ProviderError> {
        self.root
            .join(&format!("user/{}/{path}", segment(self.user.as_str())))
            .map_err(|e| ProviderError::BadAddress {
                reason: e.to_string(),
            })
    }

    async fn get(&self, path: &str) -> Result<String, ProviderError> {
        Ok(self
            .sender
            .expect_ok(Method::GET, self.url(path)?, None, path)
            .await?
            .body)
    }

    async fn put(&self, path: &str, body: String) -> Result<(), ProviderError> {
        self.sender
            .expect_ok(Method::PUT, self.url(path)?, Some(body), path)
            .await
            .map(|_| ())
    }

    async fn post(&self, path: &str, body: Option<String>) -> Result<http::Answer, ProviderError> {
        self.sender
            .expect_ok(Method::POST, self.url(path)?, body, path)
            .await
    }

    /// DELETE; an item already gone counts as deleted.
    async fn delete(&self, path: &str) -> Result<(), ProviderError> {
        match self
            .sender
            .expect_ok(Method::DELETE, self.url(path)?, None, path)
            .await
        {
            Ok(_) | Err(ProviderError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn soft_client(&self, device: wire::DeviceDto) -> SoftClient {
        let endpoint_type = match device.endpoint_type.as_str() {
            "Primary" => EndpointType::Primary,
            "Shared Call Appearance" => EndpointType::SharedCallAppearance,
            other => EndpointType::Other(other.to_owned()),
        };
        let mut client = SoftClient {
            device_name: device.name.clone(),
            device_type: device.device_type.clone(),
            endpoint_type,
            line_port: device.line_port.clone(),
            sip: None,
            sip_password: None,
        };
        let (Some(type_url), Some((dm_user, dm_password))) = (&device.type_url, &device.dm) else {
            tracing::info!(device = %device.name, "no device-management access for this soft client");
            return client;
        };
        match dms::fetch_config(
            &self.sender.client,
            &self.challenges,
            type_url,
            dm_user,
            dm_password,
        )
        .await
        {
            Ok(body) => match wire::sip_config(&body) {
                Ok((line, password)) => {
                    client.sip = Some(line);
                    client.sip_password = Some(SecretString::from(password));
                }
                Err(e) => {
                    tracing::warn!(device = %device.name, error = %e, "the soft client's config.xml could not be read")
                }
            },
            Err(e) => {
                tracing::warn!(device = %device.name, error = %e, "the soft client's config.xml could not be fetched")
            }
        }
        client
    }

    async fn apply_document(
        &self,
        current: &Setting,
        desired: &Setting,
    ) -> Result<(), ProviderError> {
        let key = desired.key();
        let mut b = wire::Body::new(root_element(key));
        match (current, desired) {
            (Setting::CallForwardingAlways(c), Setting::CallForwardingAlways(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                if c.forward_to != d.forward_to {
                    b.opt("forwardToPhoneNumber", opt_str(&d.forward_to));
                }
                if c.ring_splash != d.ring_splash {
                    b.boolean("ringSplash", d.ring_splash);
                }
            }
            (Setting::CallForwardingBusy(c), Setting::CallForwardingBusy(d))
            | (Setting::CallForwardingNotReachable(c), Setting::CallForwardingNotReachable(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                if c.forward_to != d.forward_to {
                    b.opt("forwardToPhoneNumber", opt_str(&d.forward_to));
                }
            }
            (Setting::CallForwardingNoAnswer(c), Setting::CallForwardingNoAnswer(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                if c.forward_to != d.forward_to {
                    b.opt("forwardToPhoneNumber", opt_str(&d.forward_to));
                }
                if c.number_of_rings != d.number_of_rings {
                    b.text("numberOfRings", &d.number_of_rings.get().to_string());
                }
            }
            (Setting::DoNotDisturb(c), Setting::DoNotDisturb(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                if c.ring_splash != d.ring_splash {
                    b.boolean("ringSplash", d.ring_splash);
                }
            }
            (Setting::AnonymousCallRejection(c), Setting::AnonymousCallRejection(d))
            | (Setting::CallWaiting(c), Setting::CallWaiting(d))
            | (
                Setting::CallingLineIdDeliveryBlocking(c),
                Setting::CallingLineIdDeliveryBlocking(d),
            ) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
            }
            (Setting::RemoteOffice(c), Setting::RemoteOffice(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                if c.number != d.number {
                    b.opt("remoteOfficeNumber", opt_str(&d.number));
                }
            }
            (Setting::SimultaneousRingPersonal(c), Setting::SimultaneousRingPersonal(d)) => {
                if c.active != d.active {
                    b.boolean("active", d.active);
                }
                // Required in every PUT by the schema.
                b.text(
                    "incomingCalls",
                    match d.incoming_calls {
                        SimRingIncomingCalls::DoNotRingIfOnCall => "Do not Ring if on a Call",
                        SimRingIncomingCalls::RingForAllIncomingCalls => {
                            "Ring for all Incoming Calls"
                        }
                    },
                );
                if c.locations != d.locations {
                    if d.locations.is_empty() {
                        b.raw(&wire::nil("simRingLocations"));
                    } else {
                        let mut x = String::from("<simRingLocations>");
                        for l in &d.locations {
                            x.push_str(&format!(
                                "<simRingLocation><address>{}</address><answerConfirmationRequired>{}</answerConfirmationRequired></simRingLocation>",
                                wire::escape(l.address.as_str()),
                                l.answer_confirmation_required
                            ));
                        }
                        x.push_str("</simRingLocations>");
                        b.raw(&x);
                    }
                }
                if let Some(x) = wire::criteria_body(&c.criteria, &d.criteria) {
                    b.raw(&x);
                }
                if c == d {
                    return Ok(());
                }
            }
            (Setting::SequentialRing(c), Setting::SequentialRing(d)) => {
                if c.ring_base_location_first != d.ring_base_location_first {
                    b.boolean("ringBaseLocationFirst", d.ring_base_location_first);
                }
                if c.base_location_number_of_rings != d.base_location_number_of_rings {
                    b.text(
                        "baseLocationNumberOfRings",
                        &d.base_location_number_of_rings.get().to_string(),
                    );
                }
                if c.continue_if_base_location_is_busy != d.continue_if_base_location_is_busy {
                    b.boolean(
                        "continueIfBaseLocationIsBusy",
                        d.continue_if_base_location_is_busy,
                    );
                }
                if c.caller_may_stop_search != d.caller_may_stop_search {
                    b.boolean("callerMayStopSearch", d.caller_may_stop_search);
                }
                for slot in 1..=5 {
                    let k = slot.to_string();
                    if c.locations.get(&k) == d.locations.get(&k) {
                        continue;
                    }
                    let x = match d.locations.get(&k) {
                        Some(l) => format!(
                            "<location{slot}><address>{}</address><numberOfRings>{}</numberOfRings><answerConfirmationRequired>{}</answerConfirmationRequired></location{slot}>",
                            wire::escape(l.address.as_str()),
                            l.number_of_rings.get(),
                            l.answer_confirmation_required
                        ),
                        None => {
                            format!("<location{slot}>{}</location{slot}>", wire::nil("address"))
                        }
                    };
                    b.raw(&x);
                }
                if let Some(x) = wire::criteria_body(&c.criteria, &d.criteria) {
                    b.raw(&x);
                }
            }
            (Setting::SpeedDial8(c), Setting::SpeedDial8(d)) => {
                let element = self
                    .speed_dial_8_element
                    .lock()
                    .map(|e| *e)
                    .unwrap_or("speedDial8Entry");
                let codes: std::collections::BTreeSet<&String> =
                    c.entries.keys().chain(d.entries.keys()).collect();
                for code in codes {
                    if c.entries.get(code) == d.entries.get(code) {
                        continue;
                    }
                    let x = match d.entries.get(code) {
                        Some(e) => format!(
                            "<{element}><speedCode>{code}</speedCode><phoneNumber>{}</phoneNumber>{}</{element}>",
                            wire::escape(e.number.as_str()),
                            match &e.description {
                                Some(desc) => format!(
                                    "<description>{}</description>",
                                    wire::escape(desc.as_str())
                                ),
                                None => wire::nil("description"),
                            }
                        ),
                        None => format!(
                            "<{element}><speedCode>{code}</speedCode>{}</{element}>",
                            wire::nil("phoneNumber")
                        ),
                    };
                    b.raw(&x);
                }
            }
            (Setting::CallNotify(c), Setting::CallNotify(d)) => {
                if c.email != d.email {
                    b.opt(
                        "callNotifyEmailAddress",
                        d.email.as_ref().map(EmailAddress::as_str),
                    );
                }
                if let Some(x) = wire::criteria_body(&c.criteria, &d.criteria) {
                    b.raw(&x);
                }
            }
            _ => {
                return Err(ProviderError::Protocol {
                    reason: "the two values are of different settings".into(),
                });
            }
        }
        if b.is_empty() {
            return Ok(());
        }
        self.put(service_path(key), b.finish()).await
    }

    async fn apply_speed_dial_100(
        &self,
        c: &SpeedDial100,
        d: &SpeedDial100,
    ) -> Result<(), ProviderError> {
        for (code, entry) in &c.entries {
            if !d.entries.contains_key(code) {
                self.delete(&format!("services/SpeedDial100/{code}"))
                    .await?;
            }
            let _ = entry;
        }
        for (code, entry) in &d.entries {
            let description = entry
                .description
                .as_ref()
                .map(|x| format!("<description>{}</description>", wire::escape(x.as_str())))
                .unwrap_or_default();
            match c.entries.get(code) {
                None => {
                    let body = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SpeedDial100 xmlns=\"{}\"><speedDial100Entry><speedCode>{code}</speedCode><phoneNumber>{}</phoneNumber>{description}</speedDial100Entry></SpeedDial100>",
                        wire::XSI_NS,
                        wire::escape(entry.number.as_str())
                    );
                    self.post("services/SpeedDial100", Some(body)).await?;
                }
                Some(old) if old != entry => {
                    let description = match &entry.description {
                        Some(x) => {
                            format!("<description>{}</description>", wire::escape(x.as_str()))
                        }
                        None => wire::nil("description"),
                    };
                    let body = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SpeedDial100Entry xmlns=\"{}\"><phoneNumber>{}</phoneNumber>{description}</SpeedDial100Entry>",
                        wire::XSI_NS,
                        wire::escape(entry.number.as_str())
                    );
                    self.put(&format!("services/SpeedDial100/{code}"), body)
                        .await?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn apply_anywhere(
        &self,
        c: &BroadWorksAnywhere,
        d: &BroadWorksAnywhere,
    ) -> Result<(), ProviderError> {
        let mut flags = wire::Body::new("BroadWorksAnywhere");
        if c.alert_all_locations_for_click_to_dial_calls
            != d.alert_all_locations_for_click_to_dial_calls
        {
            flags.boolean(
                "alertAllLocationsForClickToDialCalls",
                d.alert_all_locations_for_click_to_dial_calls,
            );
        }
        if c.alert_all_locations_for_group_paging_calls
            != d.alert_all_locations_for_group_paging_calls
        {
            flags.boolean(
                "alertAllLocationsForGroupPagingCalls",
                d.alert_all_locations_for_group_paging_calls,
            );
        }
        if !flags.is_empty() {
            self.put("services/BroadWorksAnywhere", flags.finish())
                .await?;
        }
        for number in c.locations.keys() {
            if !d.locations.contains_key(number) {
                self.delete(&format!(
                    "services/BroadWorksAnywhere/Location/{}",
                    segment(number)
                ))
                .await?;
            }
        }
        for (number, l) in &d.locations {
            let cc = l.country_code.clone().unwrap_or_else(|| "1".into());
            let description = match &l.description {
                Some(x) => format!("<description>{}</description>", wire::escape(x.as_str())),
                None => String::new(),
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BroadWorksAnywhereLocation xmlns=\"{}\"><phoneNumber countryCode=\"{}\">{}</phoneNumber>{description}<active>{}</active></BroadWorksAnywhereLocation>",
                wire::XSI_NS,
                wire::escape(&cc),
                wire::escape(number),
                l.active
            );
            match c.locations.get(number) {
                None => {
                    self.post("services/BroadWorksAnywhere/Location", Some(body))
                        .await?;
                }
                Some(old) if old != l => {
                    self.put(
                        &format!("services/BroadWorksAnywhere/Location/{}", segment(number)),
                        body,
                    )
                    .await?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn apply_personal(
        &self,
        c: &PersonalDirectory,
        d: &PersonalDirectory,
    ) -> Result<(), ProviderError> {
        for (name, number) in &c.entries {
            if d.entries.get(name) != Some(number) {
                self.delete(&format!("directories/Personal/{}", segment(name)))
                    .await?;
            }
        }
        for (name, number) in &d.entries {
            if c.entries.get(name) != Some(number) {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Personal xmlns=\"{}\"><entry><name>{}</name><number>{}</number></entry></Personal>",
                    wire::XSI_NS,
                    wire::escape(name),
                    wire::escape(number.as_str())
                );
                self.post("directories/Personal", Some(body)).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for XsiProvider {
    async fn sign_in(&self) -> Result<Profile, ProviderError> {
        self.profile().await
    }

    async fn profile(&self) -> Result<Profile, ProviderError> {
        wire::profile(&self.get("profile").await?)
    }

    async fn assigned_services(&self) -> Result<Vec<SettingKey>, ProviderError> {
        wire::services(&self.get("services").await?)
    }

    async fn soft_clients(&self) -> Result<Vec<SoftClient>, ProviderError> {
        let devices = wire::devices(&self.get("profile/Device").await?)?;
        let soft = devices.into_iter().filter(|d| {
            matches!(
                d.endpoint_type.as_str(),
                "Primary" | "Shared Call Appearance"
            ) && wire::is_soft_client(&d.device_type)
        });
        let mut clients = join_all(soft.map(|d| self.soft_client(d))).await;
        clients.sort_by(|a, b| a.line_port.cmp(&b.line_port));
        Ok(clients)
    }

    async fn registrations(&self) -> Result<Vec<Registration>, ProviderError> {
        wire::registrations(&self.get("profile/Registrations").await?)
    }

    async fn setting(&self, key: SettingKey) -> Result<Setting, ProviderError> {
        let path = if key == SettingKey::PersonalDirectory {
            "directories/Personal?results=1000"
        } else {
            service_path(key)
        };
        let body = self.get(path).await?;
        if key == SettingKey::SpeedDial8
            && let (Some(element), Ok(mut remembered)) = (
                wire::speed_dial_8_element(&body),
                self.speed_dial_8_element.lock(),
            )
        {
            *remembered = element;
        }
        wire::setting(key, &body)
    }

    async fn apply_setting(
        &self,
        current: &Setting,
        desired: &Setting,
    ) -> Result<(), ProviderError> {
        if current.key() != desired.key() {
            return Err(ProviderError::Protocol {
                reason: "the two values are of different settings".into(),
            });
        }
        match (current, desired) {
            (Setting::SpeedDial100(c), Setting::SpeedDial100(d)) => {
                self.apply_speed_dial_100(c, d).await
            }
            (Setting::BroadWorksAnywhere(c), Setting::BroadWorksAnywhere(d)) => {
                self.apply_anywhere(c, d).await
            }
            (Setting::PersonalDirectory(c), Setting::PersonalDirectory(d)) => {
                self.apply_personal(c, d).await
            }
            _ => self.apply_document(current, desired).await,
        }
    }

    async fn search_directory(
        &self,
        scope: DirectoryScope,
        query: &DirectoryQuery,
    ) -> Result<DirectoryPage, ProviderError> {
        let list = match scope {
            DirectoryScope::Group => "directories/Group",
            DirectoryScope::Enterprise => "directories/Enterprise",
        };
        let encode = |t: &str| {
            percent_encoding::utf8_percent_encode(
                &t.replace('/', "\\/"),
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string()
        };
        let mut params = vec![
            format!("start={}", query.start.max(1)),
            format!("results={}", query.results.clamp(1, 1000)),
        ];
        if let Some(name) = query.name.as_deref().filter(|n| !n.trim().is_empty()) {
            params.push(format!("name=*{}*/i", encode(name.trim())));
        }
        if let Some(number) = query.number.as_deref().filter(|n| !n.is_empty()) {
            params.push(format!("number=*{}*", encode(number)));
        }
        if let Some(ext) = query.extension.as_deref().filter(|n| !n.is_empty()) {
            params.push(format!("extension={}*", encode(ext)));
        }
        wire::directory(&self.get(&format!("{list}?{}", params.join("&"))).await?)
    }

    async fn call_logs(&self) -> Result<Vec<CallLogEntry>, ProviderError> {
        wire::call_logs(&self.get("directories/CallLogs").await?)
    }

    async fn delete_call_logs(
        &self,
        kind: Option<CallLogKind>,
        id: Option<&str>,
    ) -> Result<(), ProviderError> {
        let list = kind.map(|k| match k {
            CallLogKind::Placed => "Placed",
            CallLogKind::Received => "Received",
            CallLogKind::Missed => "Missed",
        });
        let path = match (list, id) {
            (None, _) => "directories/CallLogs".to_owned(),
            (Some(l), None) => format!("directories/CallLogs/{l}"),
            (Some(l), Some(id)) => format!("directories/CallLogs/{l}/{}", segment(id)),
        };
        self.sender
            .expect_ok(Method::DELETE, self.url(&path)?, None, &path)
            .await
            .map(|_| ())
    }

    async fn dial(
        &self,
        destination: &Destination,
        line_port: Option<&str>,
    ) -> Result<DialStarted, ProviderError> {
        let mut path = format!(
            "calls/new?address={}",
            percent_encoding::utf8_percent_encode(
                destination.as_str(),
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        if let Some(line) = line_port {
            path.push_str(&format!(
                "&location=SharedCallAppearance&locationAddress={}",
                percent_encoding::utf8_percent_encode(line, percent_encoding::NON_ALPHANUMERIC)
            ));
        }
        let answer = self.post(&path, None).await?;
        wire::call_start(&answer.body)
    }
}
