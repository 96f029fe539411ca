//! The personal services: rendering each as its Xsi document (children in XSD order) and
//! applying a PUT with partial semantics (absent leaves a value, `xsi:nil` clears it), with
//! BroadWorks' validation.

use crate::errors::XsiError;
use crate::model::*;
use crate::validate;
use crate::xml::{Doc, Element, Value};

fn nil_or(doc: &mut Doc, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        doc.text(name, v);
    }
}

fn forward(root: &str, f: &Forward) -> String {
    let mut doc = Doc::new(root);
    doc.boolean("active", f.active);
    nil_or(&mut doc, "forwardToPhoneNumber", &f.forward_to);
    match root {
        "CallForwardingAlways" => {
            doc.boolean("ringSplash", f.ring_splash);
        }
        "CallForwardingNoAnswer" => {
            doc.text("numberOfRings", f.number_of_rings.to_string());
        }
        _ => {}
    }
    doc.finish(root)
}

fn criteria(doc: &mut Doc, criteria: &std::collections::BTreeMap<String, bool>) {
    if criteria.is_empty() {
        return;
    }
    doc.open("criteriaActivationList");
    for (name, active) in criteria {
        doc.open("criteriaActivation")
            .text("criteriaName", name)
            .boolean("active", *active)
            .close("criteriaActivation");
    }
    doc.close("criteriaActivationList");
}

/// The document of service `path` (lower-case path segment) for `user`.
pub fn render(user: &User, path: &str) -> Option<String> {
    let s = &user.settings;
    Some(match path {
        "callforwardingalways" => forward("CallForwardingAlways", &s.forward_always),
        "callforwardingbusy" => forward("CallForwardingBusy", &s.forward_busy),
        "callforwardingnoanswer" => forward("CallForwardingNoAnswer", &s.forward_no_answer),
        "callforwardingnotreachable" => {
            forward("CallForwardingNotReachable", &s.forward_not_reachable)
        }
        "donotdisturb" => {
            let mut d = Doc::new("DoNotDisturb");
            d.boolean("active", s.do_not_disturb.active)
                .boolean("ringSplash", s.do_not_disturb.ring_splash);
            d.finish("DoNotDisturb")
        }
        "anonymouscallrejection" => toggle("AnonymousCallRejection", s.anonymous_call_rejection),
        "callwaiting" => toggle("CallWaiting", s.call_waiting),
        "callinglineiddeliveryblocking" => toggle(
            "CallingLineIDDeliveryBlocking",
            s.calling_line_id_delivery_blocking,
        ),
        "remoteoffice" => {
            let mut d = Doc::new("RemoteOffice");
            d.boolean("active", s.remote_office.active);
            nil_or(&mut d, "remoteOfficeNumber", &s.remote_office.number);
            d.finish("RemoteOffice")
        }
        "simultaneousringpersonal" => {
            let sr = &s.simultaneous_ring;
            let mut d = Doc::new("SimultaneousRingPersonal");
            d.boolean("active", sr.active)
                .text("incomingCalls", &sr.incoming_calls);
            if !sr.locations.is_empty() {
                d.open("simRingLocations");
                for l in &sr.locations {
                    d.open("simRingLocation")
                        .text("address", &l.address)
                        .boolean("answerConfirmationRequired", l.answer_confirmation_required)
                        .close("simRingLocation");
                }
                d.close("simRingLocations");
            }
            criteria(&mut d, &sr.criteria);
            d.finish("SimultaneousRingPersonal")
        }
        "sequentialring" => {
            let sq = &s.sequential_ring;
            let mut d = Doc::new("SequentialRing");
            d.boolean("ringBaseLocationFirst", sq.ring_base_location_first)
                .text(
                    "baseLocationNumberOfRings",
                    sq.base_location_number_of_rings.to_string(),
                )
                .boolean(
                    "continueIfBaseLocationIsBusy",
                    sq.continue_if_base_location_is_busy,
                )
                .boolean("callerMayStopSearch", sq.caller_may_stop_search);
            for (i, slot) in sq.locations.iter().enumerate() {
                let name = format!("location{}", i + 1);
                d.open(&name);
                match slot {
                    Some(l) => {
                        d.text("address", &l.address)
                            .text("numberOfRings", l.number_of_rings.to_string())
                            .boolean("answerConfirmationRequired", l.answer_confirmation_required);
                    }
                    None => {
                        d.nil("address")
                            .text("numberOfRings", "3")
                            .boolean("answerConfirmationRequired", false);
                    }
                }
                d.close(&name);
            }
            criteria(&mut d, &sq.criteria);
            d.finish("SequentialRing")
        }
        "speeddial8" => {
            let mut d = Doc::new("SpeedDial8");
            for code in 2..=9u8 {
                let entry = s.speed_dial_8.get(&code);
                d.open("speedDial8Entry")
                    .text("speedCode", code.to_string());
                if let Some(e) = entry {
                    d.text("phoneNumber", &e.phone_number);
                    nil_or(&mut d, "description", &e.description);
                }
                d.close("speedDial8Entry");
            }
            d.finish("SpeedDial8")
        }
        "speeddial100" => {
            let mut d = Doc::new("SpeedDial100");
            d.text("prefix", &s.speed_dial_100_prefix);
            for (code, e) in &s.speed_dial_100 {
                d.raw(&speed100_entry(*code, e));
            }
            d.finish("SpeedDial100")
        }
        "callnotify" => {
            let mut d = Doc::new("CallNotify");
            nil_or(&mut d, "callNotifyEmailAddress", &s.call_notify.email);
            criteria(&mut d, &s.call_notify.criteria);
            d.finish("CallNotify")
        }
        "broadworksanywhere" => {
            let a = &s.anywhere;
            let mut d = Doc::new("BroadWorksAnywhere");
            d.boolean(
                "alertAllLocationsForClickToDialCalls",
                a.alert_all_locations_for_click_to_dial_calls,
            )
            .boolean(
                "alertAllLocationsForGroupPagingCalls",
                a.alert_all_locations_for_group_paging_calls,
            );
            if !a.locations.is_empty() {
                d.open("locations");
                for (number, l) in &a.locations {
                    d.raw(&anywhere_location("location", user, number, l, true));
                }
                d.close("locations");
            }
            d.finish("BroadWorksAnywhere")
        }
        _ => return None,
    })
}

/// One Speed Dial 100 entry element.
pub fn speed100_entry(code: u8, e: &SpeedEntry) -> String {
    let mut x = format!(
        "<speedDial100Entry><speedCode>{code}</speedCode><phoneNumber>{}</phoneNumber>",
        crate::xml::escape(&e.phone_number)
    );
    if let Some(d) = &e.description {
        x.push_str(&format!(
            "<description>{}</description>",
            crate::xml::escape(d)
        ));
    }
    x.push_str("</speedDial100Entry>");
    x
}

/// One Anywhere location element (`location` inside the service, or a
/// `BroadWorksAnywhereLocation` document).
pub fn anywhere_location(
    tag: &str,
    user: &User,
    number: &str,
    l: &AnywhereLocation,
    with_uri: bool,
) -> String {
    let mut x = format!("<{tag}>");
    if with_uri {
        x.push_str(&format!(
            "<locationUri>/v2.0/user/{}/services/broadworksanywhere/location/{}</locationUri>",
            crate::xml::escape(&user.user_id),
            number
        ));
    }
    x.push_str(&format!(
        "<phoneNumber countryCode=\"{}\">{}</phoneNumber>",
        crate::xml::escape(&l.country_code),
        number
    ));
    if let Some(d) = &l.description {
        x.push_str(&format!(
            "<description>{}</description>",
            crate::xml::escape(d)
        ));
    }
    x.push_str(&format!("<active>{}</active></{tag}>", l.active));
    x
}

fn toggle(root: &str, active: bool) -> String {
    let mut d = Doc::new(root);
    d.boolean("active", active);
    d.finish(root)
}

fn set_opt_address(
    el: &Element<'_, '_>,
    name: &str,
    target: &mut Option<String>,
) -> Result<(), XsiError> {
    match el.value(name)? {
        None => {}
        Some(Value::Nil) => *target = None,
        Some(Value::Text(t)) => {
            validate::address(name, &t)?;
            *target = Some(t);
        }
    }
    Ok(())
}

fn criteria_put(
    el: &Element<'_, '_>,
    target: &mut std::collections::BTreeMap<String, bool>,
) -> Result<(), XsiError> {
    if let Some(list) = el.child("criteriaActivationList") {
        list.only(&["criteriaActivation"])?;
        for c in list.all("criteriaActivation") {
            c.only(&["criteriaName", "active", "uri"])?;
            let name = c
                .text("criteriaName")?
                .ok_or_else(|| XsiError::schema("criteriaName is required"))?;
            let active = c
                .boolean("active")?
                .ok_or_else(|| XsiError::schema("active is required"))?;
            match target.get_mut(&name) {
                Some(flag) => *flag = active,
                None => {
                    return Err(XsiError::not_found(format!(
                        "criteria '{name}' does not exist"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Applies a PUT of service `path` with body `body` to `user` (only on success).
pub fn put(user: &mut User, path: &str, body: &str) -> Result<(), XsiError> {
    let doc = crate::xml::parse(body)?;
    let mut s = user.settings.clone();
    match path {
        "callforwardingalways"
        | "callforwardingbusy"
        | "callforwardingnoanswer"
        | "callforwardingnotreachable" => {
            let (root, f) = match path {
                "callforwardingalways" => ("CallForwardingAlways", &mut s.forward_always),
                "callforwardingbusy" => ("CallForwardingBusy", &mut s.forward_busy),
                "callforwardingnoanswer" => ("CallForwardingNoAnswer", &mut s.forward_no_answer),
                _ => ("CallForwardingNotReachable", &mut s.forward_not_reachable),
            };
            let el = crate::xml::root(&doc, root)?;
            let mut allowed = vec!["active", "forwardToPhoneNumber"];
            if root == "CallForwardingAlways" {
                allowed.push("ringSplash");
            }
            if root == "CallForwardingNoAnswer" {
                allowed.push("numberOfRings");
            }
            el.only(&allowed)?;
            if let Some(a) = el.boolean("active")? {
                f.active = a;
            }
            set_opt_address(&el, "forwardToPhoneNumber", &mut f.forward_to)?;
            if let Some(r) = el.boolean("ringSplash")? {
                f.ring_splash = r;
            }
            if let Some(n) = el.int("numberOfRings")? {
                f.number_of_rings = validate::rings("numberOfRings", n)?;
            }
            if f.active && f.forward_to.is_none() {
                return Err(XsiError::invalid(
                    4004,
                    "forwardToPhoneNumber: a number to forward to is required to activate forwarding",
                ));
            }
        }
        "donotdisturb" => {
            let el = crate::xml::root(&doc, "DoNotDisturb")?;
            el.only(&["active", "ringSplash"])?;
            if let Some(a) = el.boolean("active")? {
                s.do_not_disturb.active = a;
            }
            if let Some(r) = el.boolean("ringSplash")? {
                s.do_not_disturb.ring_splash = r;
            }
        }
        "anonymouscallrejection" | "callwaiting" | "callinglineiddeliveryblocking" => {
            let (root, flag) = match path {
                "anonymouscallrejection" => {
                    ("AnonymousCallRejection", &mut s.anonymous_call_rejection)
                }
                "callwaiting" => ("CallWaiting", &mut s.call_waiting),
                _ => (
                    "CallingLineIDDeliveryBlocking",
                    &mut s.calling_line_id_delivery_blocking,
                ),
            };
            let el = crate::xml::root(&doc, root)?;
            el.only(&["active"])?;
            if let Some(a) = el.boolean("active")? {
                *flag = a;
            }
        }
        "remoteoffice" => {
            let el = crate::xml::root(&doc, "RemoteOffice")?;
            el.only(&["active", "remoteOfficeNumber"])?;
            if let Some(a) = el.boolean("active")? {
                s.remote_office.active = a;
            }
            set_opt_address(&el, "remoteOfficeNumber", &mut s.remote_office.number)?;
            if s.remote_office.active && s.remote_office.number.is_none() {
                return Err(XsiError::invalid(
                    4004,
                    "remoteOfficeNumber: a number is required to activate Remote Office",
                ));
            }
        }
        "simultaneousringpersonal" => {
            let el = crate::xml::root(&doc, "SimultaneousRingPersonal")?;
            el.only(&[
                "active",
                "incomingCalls",
                "simRingLocations",
                "criteriaActivationList",
            ])?;
            let sr = &mut s.simultaneous_ring;
            if let Some(a) = el.boolean("active")? {
                sr.active = a;
            }
            match el.text("incomingCalls")? {
                Some(v)
                    if v == "Do not Ring if on a Call" || v == "Ring for all Incoming Calls" =>
                {
                    sr.incoming_calls = v
                }
                Some(v) => {
                    return Err(XsiError::schema(format!(
                        "incomingCalls: '{v}' is not allowed"
                    )));
                }
                None => return Err(XsiError::schema("incomingCalls is required")),
            }
            if let Some(list) = el.child("simRingLocations") {
                if list.is_nil() {
                    sr.locations.clear();
                } else {
                    list.only(&["simRingLocation"])?;
                    let mut locations = Vec::new();
                    for l in list.all("simRingLocation") {
                        l.only(&["address", "answerConfirmationRequired"])?;
                        let address = l
                            .text("address")?
                            .ok_or_else(|| XsiError::schema("address is required"))?;
                        validate::address("address", &address)?;
                        if locations
                            .iter()
                            .any(|x: &SimRingLocation| x.address == address)
                        {
                            return Err(XsiError::invalid(
                                4005,
                                format!("simRingLocations: {address} is listed twice"),
                            ));
                        }
                        locations.push(SimRingLocation {
                            address,
                            answer_confirmation_required: l
                                .boolean("answerConfirmationRequired")?
                                .unwrap_or(false),
                        });
                    }
                    if locations.len() > 10 {
                        return Err(XsiError::invalid(
                            4005,
                            "simRingLocations: at most 10 locations are allowed",
                        ));
                    }
                    sr.locations = locations;
                }
            }
            criteria_put(&el, &mut sr.criteria)?;
            if sr.active && sr.locations.is_empty() {
                return Err(XsiError::invalid(
                    4004,
                    "simRingLocations: at least one location is required to activate Simultaneous Ring",
                ));
            }
        }
        "sequentialring" => {
            let el = crate::xml::root(&doc, "SequentialRing")?;
            el.only(&[
                "ringBaseLocationFirst",
                "baseLocationNumberOfRings",
                "continueIfBaseLocationIsBusy",
                "callerMayStopSearch",
                "location1",
                "location2",
                "location3",
                "location4",
                "location5",
                "criteriaActivationList",
            ])?;
            let sq = &mut s.sequential_ring;
            if let Some(v) = el.boolean("ringBaseLocationFirst")? {
                sq.ring_base_location_first = v;
            }
            if let Some(n) = el.int("baseLocationNumberOfRings")? {
                sq.base_location_number_of_rings = validate::rings("baseLocationNumberOfRings", n)?;
            }
            if let Some(v) = el.boolean("continueIfBaseLocationIsBusy")? {
                sq.continue_if_base_location_is_busy = v;
            }
            if let Some(v) = el.boolean("callerMayStopSearch")? {
                sq.caller_may_stop_search = v;
            }
            for i in 0..5 {
                let Some(slot) = el.child(&format!("location{}", i + 1)) else {
                    continue;
                };
                slot.only(&["address", "numberOfRings", "answerConfirmationRequired"])?;
                let current = sq.locations[i].clone();
                let address = match slot.value("address")? {
                    Some(Value::Nil) => None,
                    Some(Value::Text(t)) => {
                        validate::address("address", &t)?;
                        Some(t)
                    }
                    None => current.as_ref().map(|c| c.address.clone()),
                };
                let rings = match slot.int("numberOfRings")? {
                    Some(n) => validate::rings("numberOfRings", n)?,
                    None => current.as_ref().map(|c| c.number_of_rings).unwrap_or(3),
                };
                let confirm = slot
                    .boolean("answerConfirmationRequired")?
                    .or(current.as_ref().map(|c| c.answer_confirmation_required))
                    .unwrap_or(false);
                sq.locations[i] = address.map(|address| SeqLocation {
                    address,
                    number_of_rings: rings,
                    answer_confirmation_required: confirm,
                });
            }
            criteria_put(&el, &mut sq.criteria)?;
        }
        "speeddial8" => {
            let el = crate::xml::root(&doc, "SpeedDial8")?;
            el.only(&["speedDial8Entry", "speedDialEntry"])?;
            for entry in el.children() {
                entry.only(&["speedCode", "phoneNumber", "description"])?;
                let code = entry
                    .text("speedCode")?
                    .ok_or_else(|| XsiError::schema("speedCode is required"))?;
                let code = validate::speed_code(&code, 2..=9)?;
                match entry.value("phoneNumber")? {
                    Some(Value::Nil) => {
                        s.speed_dial_8.remove(&code);
                    }
                    Some(Value::Text(number)) => {
                        validate::address("phoneNumber", &number)?;
                        let description = match entry.value("description")? {
                            Some(Value::Text(d)) => {
                                validate::text("description", &d, 80)?;
                                Some(d)
                            }
                            Some(Value::Nil) => None,
                            None => s
                                .speed_dial_8
                                .get(&code)
                                .and_then(|e| e.description.clone()),
                        };
                        s.speed_dial_8.insert(
                            code,
                            SpeedEntry {
                                phone_number: number,
                                description,
                            },
                        );
                    }
                    None => {
                        let Some(existing) = s.speed_dial_8.get_mut(&code) else {
                            return Err(XsiError::schema(format!(
                                "speed code {code}: phoneNumber is required"
                            )));
                        };
                        match entry.value("description")? {
                            Some(Value::Text(d)) => {
                                validate::text("description", &d, 80)?;
                                existing.description = Some(d);
                            }
                            Some(Value::Nil) => existing.description = None,
                            None => {}
                        }
                    }
                }
            }
        }
        "callnotify" => {
            let el = crate::xml::root(&doc, "CallNotify")?;
            el.only(&["callNotifyEmailAddress", "criteriaActivationList"])?;
            match el.value("callNotifyEmailAddress")? {
                Some(Value::Nil) => s.call_notify.email = None,
                Some(Value::Text(e)) => {
                    if !e.contains('@') || e.len() > 80 {
                        return Err(XsiError::invalid(
                            4001,
                            format!("callNotifyEmailAddress: '{e}' is not an e-mail address"),
                        ));
                    }
                    s.call_notify.email = Some(e);
                }
                None => {}
            }
            criteria_put(&el, &mut s.call_notify.criteria)?;
        }
        "broadworksanywhere" => {
            let el = crate::xml::root(&doc, "BroadWorksAnywhere")?;
            el.only(&[
                "alertAllLocationsForClickToDialCalls",
                "alertAllLocationsForGroupPagingCalls",
                "locations",
            ])?;
            let a = &mut s.anywhere;
            if let Some(v) = el.boolean("alertAllLocationsForClickToDialCalls")? {
                a.alert_all_locations_for_click_to_dial_calls = v;
            }
            if let Some(v) = el.boolean("alertAllLocationsForGroupPagingCalls")? {
                a.alert_all_locations_for_group_paging_calls = v;
            }
            if let Some(list) = el.child("locations") {
                list.only(&["location"])?;
                for l in list.all("location") {
                    l.only(&[
                        "locationUri",
                        "phoneNumber",
                        "description",
                        "active",
                        "criteriaActivations",
                    ])?;
                    let number_el = l
                        .child("phoneNumber")
                        .ok_or_else(|| XsiError::schema("phoneNumber is required"))?;
                    if number_el.attr("countryCode").is_none() {
                        return Err(XsiError::invalid(
                            4003,
                            "phoneNumber: the countryCode attribute is required",
                        ));
                    }
                    let number = l.text("phoneNumber")?.unwrap_or_default();
                    let location = a.locations.get_mut(&number).ok_or_else(|| {
                        XsiError::not_found(format!("no BroadWorks Anywhere location {number}"))
                    })?;
                    if let Some(v) = l.boolean("active")? {
                        location.active = v;
                    }
                    match l.value("description")? {
                        Some(Value::Text(d)) => {
                            validate::text("description", &d, 80)?;
                            location.description = Some(d);
                        }
                        Some(Value::Nil) => location.description = None,
                        None => {}
                    }
                }
            }
        }
        _ => return Err(XsiError::not_found(format!("no service {path}"))),
    }
    user.settings = s;
    Ok(())
}

/// The fields of one Speed Dial 100 entry in a request.
pub struct Speed100Fields {
    /// `speedCode`, when given.
    pub code: Option<u8>,
    /// `phoneNumber`, when given.
    pub number: Option<String>,
    /// `description`: absent, cleared (`Some(None)`) or set.
    pub description: Option<Option<String>>,
}

/// Parses one Speed Dial 100 entry: `POST SpeedDial100` (root `SpeedDial100` with one
/// `speedDial100Entry`) or `PUT SpeedDial100/{code}` (root `SpeedDial100Entry`).
pub fn speed100_body(body: &str, root_name: &str) -> Result<Speed100Fields, XsiError> {
    let doc = crate::xml::parse(body)?;
    let el = crate::xml::root(&doc, root_name)?;
    if root_name != "SpeedDial100" {
        return parse_speed100(&el);
    }
    el.only(&["speedDial100Entry"])?;
    let entries = el.all("speedDial100Entry");
    match entries.as_slice() {
        [entry] => parse_speed100(entry),
        _ => Err(XsiError::schema(
            "exactly one speedDial100Entry is required",
        )),
    }
}

fn parse_speed100(entry: &Element<'_, '_>) -> Result<Speed100Fields, XsiError> {
    entry.only(&["speedCode", "phoneNumber", "description"])?;
    let code = entry
        .text("speedCode")?
        .map(|c| validate::speed_code(&c, 0..=99))
        .transpose()?;
    let number = entry.text("phoneNumber")?;
    if let Some(n) = &number {
        validate::address("phoneNumber", n)?;
    }
    let description = match entry.value("description")? {
        Some(Value::Text(d)) => {
            validate::text("description", &d, 80)?;
            Some(Some(d))
        }
        Some(Value::Nil) => Some(None),
        None => None,
    };
    Ok(Speed100Fields {
        code,
        number,
        description,
    })
}
