//! Request handling: fault injection, the cluster redirect, Basic authentication as an XSP
//! does it, case-insensitive routing of Xsi-Actions paths, directories with paging and
//! wildcard search, call logs, click-to-dial, and the admin endpoints under `/__sandbox/`.

use crate::errors::XsiError;
use crate::faults::{Decision, KillSwitch};
use crate::model::*;
use crate::xml::{Doc, escape};
use crate::{Charset, Shared, dms, persist, services, validate};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::sync::atomic::Ordering;

const XSI_ROOT: &str = "/com.broadsoft.xsi-actions/v2.0/";

fn xml_response(shared: &Shared, status: StatusCode, body: String, localised: bool) -> Response {
    let (bytes, charset) = if localised && shared.charset == Charset::Iso8859_1 {
        let declared = body.replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
        let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(&declared);
        (encoded.into_owned(), "ISO-8859-1")
    } else {
        (body.into_bytes(), "UTF-8")
    };
    let mut response = (status, bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("application/xml; charset={charset}")) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

fn error_response(shared: &Shared, e: &XsiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = xml_response(shared, status, e.body(), false);
    if e.status == 401 {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"XtendedServicesInterface\""),
        );
    }
    response
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// The one handler: everything goes through here.
pub async fn handle(
    axum::extract::State(shared): axum::extract::State<Shared>,
    axum::Extension(kill): axum::Extension<KillSwitch>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let mut response = if path.starts_with("/__sandbox/") {
        admin(&shared, &method, &path, &body)
    } else {
        shared.stats.requests.fetch_add(1, Ordering::Relaxed);
        let decision = shared.faults.decide();
        if let Some(latency) = decision.latency {
            tokio::time::sleep(latency).await;
        }
        match decision.kind {
            Decision::Stall(d) => {
                tokio::time::sleep(d).await;
                serve(&shared, &method, &uri, &headers, &body).await
            }
            Decision::Error => error_response(
                &shared,
                &XsiError::new(
                    503,
                    5030,
                    "The service is temporarily unavailable; try again later",
                ),
            ),
            Decision::DropBefore => kill.drop_connection().await,
            Decision::DropAfter => {
                let _ = serve(&shared, &method, &uri, &headers, &body).await;
                kill.drop_connection().await
            }
            Decision::Serve => serve(&shared, &method, &uri, &headers, &body).await,
        }
    };
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("BW HTTP Server"));
    response
}

fn admin(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    match (method.as_str(), path) {
        ("GET", "/__sandbox/faults") => axum::Json(shared.faults.get()).into_response(),
        ("PUT", "/__sandbox/faults") => match serde_json::from_slice(body) {
            Ok(f) => {
                shared.faults.set(f);
                empty(StatusCode::OK)
            }
            Err(e) => (StatusCode::BAD_REQUEST, format!("bad faults JSON: {e}")).into_response(),
        },
        ("GET", "/__sandbox/stats") => axum::Json(serde_json::json!({
            "requests": shared.stats.requests.load(Ordering::Relaxed),
            "mutations": shared.stats.mutations.load(Ordering::Relaxed),
        }))
        .into_response(),
        _ => empty(StatusCode::NOT_FOUND),
    }
}

async fn serve(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if let Some(target) = &shared.redirect_to {
        let location = format!(
            "{}{}",
            target.trim_end_matches('/'),
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        );
        let mut response = empty(StatusCode::FOUND);
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        return response;
    }
    let path = uri.path();
    if path.to_ascii_lowercase().starts_with("/dms/") {
        return dms::serve(shared, method, path, headers).await;
    }
    let Some(rest) = strip_prefix_ci(path, XSI_ROOT) else {
        return error_response(
            shared,
            &XsiError::not_found(format!("no resource at {path}")),
        );
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            return error_response(shared, &XsiError::schema("the request body is not UTF-8"));
        }
    };
    match route(shared, method, uri, headers, &segments, &text).await {
        Ok(r) => r,
        Err(e) => error_response(shared, &e),
    }
}

fn strip_prefix_ci<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    if path.len() >= prefix.len() && path[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&path[prefix.len()..])
    } else if path.eq_ignore_ascii_case(prefix.trim_end_matches('/')) {
        Some("")
    } else {
        None
    }
}

/// Checks Basic credentials; returns the index of the signed-in user.
fn authenticate(state: &State, headers: &HeaderMap) -> Result<usize, XsiError> {
    let unauthorized = || {
        XsiError::new(
            401,
            4100,
            "Authentication failed: check the user ID and password",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let encoded = value.strip_prefix("Basic ").ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized())?;
    let decoded = String::from_utf8(decoded).map_err(|_| unauthorized())?;
    let (user, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
    let index = state.find(user).ok_or_else(unauthorized)?;
    if state.users[index].password != password {
        return Err(unauthorized());
    }
    if state.users[index].locked {
        return Err(XsiError::new(
            403,
            4101,
            "The account is locked; contact your administrator",
        ));
    }
    Ok(index)
}

fn assigned(user: &User, service: &str) -> bool {
    user.services
        .iter()
        .any(|s| s.eq_ignore_ascii_case(service))
}

fn service_name(path: &str) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(_, p)| !p.is_empty() && *p == path)
        .map(|(n, _)| *n)
}

async fn route(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    segments: &[String],
    body: &str,
) -> Result<Response, XsiError> {
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    if lower == ["versions"] {
        let mut d = Doc::new("Versions");
        d.text("baseline", "24.0");
        return Ok(xml_response(
            shared,
            StatusCode::OK,
            d.finish("Versions"),
            false,
        ));
    }
    if lower.first() != Some(&"user") || segments.len() < 3 {
        return Err(XsiError::not_found("no such resource"));
    }
    let mut state = shared.state.lock().await;
    let me = authenticate(&state, headers)?;
    let target = state
        .find(&segments[1])
        .ok_or_else(|| XsiError::new(403, 4102, "You are not allowed to access that user"))?;
    if target != me {
        return Err(XsiError::new(
            403,
            4102,
            "You are not allowed to access that user",
        ));
    }
    let base = base_url(shared, headers);
    let rest = &lower[2..];
    let raw_rest = &segments[2..];
    let mutating = *method != Method::GET;
    let before = if mutating {
        Some(state.users[me].clone())
    } else {
        None
    };
    let people = state_people(&state);
    let result = dispatch(
        shared,
        &mut state.users[me],
        &people,
        method,
        uri,
        rest,
        raw_rest,
        body,
        &base,
    );
    let succeeded = result.is_ok();
    if let (true, Some(before)) = (succeeded, before) {
        let after = &state.users[me];
        if serde_json::to_string(after).ok() != serde_json::to_string(&before).ok() {
            shared.stats.mutations.fetch_add(1, Ordering::Relaxed);
            persist::save_user(shared, after).await?;
        }
    }
    result
}

fn state_people(state: &State) -> Vec<Person> {
    let mut people = state.people.clone();
    for u in &state.users {
        people.push(Person {
            user_id: u.user_id.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            group_id: u.group_id.clone(),
            number: u.number.clone(),
            extension: u.extension.clone(),
            mobile: None,
            email: u.email.clone(),
            department: None,
        });
    }
    people
}

fn base_url(shared: &Shared, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{}://{host}/", if shared.tls { "https" } else { "http" })
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    shared: &Shared,
    user: &mut User,
    people: &[Person],
    method: &Method,
    uri: &Uri,
    rest: &[&str],
    raw: &[String],
    body: &str,
    base: &str,
) -> Result<Response, XsiError> {
    let ok_xml = |doc: String| Ok(xml_response(shared, StatusCode::OK, doc, true));
    let created = |location: String, doc: Option<String>| {
        let mut r = match doc {
            Some(d) => xml_response(shared, StatusCode::CREATED, d, false),
            None => empty(StatusCode::CREATED),
        };
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Ok(r)
    };
    let me = format!("{base}com.broadsoft.xsi-actions/v2.0/user/{}", user.user_id);
    match (method.as_str(), rest) {
        ("GET", ["profile"]) => ok_xml(profile(user)),
        ("GET", ["profile", "device"]) => ok_xml(devices(user, base, uri.query().unwrap_or(""))),
        ("GET", ["profile", "registrations"]) => ok_xml(registrations(user)),
        ("GET", ["services"]) => ok_xml(services_list(user)),
        (_, ["services", svc, ..]) => {
            let name = service_name(svc)
                .ok_or_else(|| XsiError::not_found(format!("no service '{svc}'")))?;
            if !assigned(user, name) {
                return Err(XsiError::new(
                    404,
                    4201,
                    format!("The service {name} is not assigned to the user"),
                ));
            }
            match (method.as_str(), &rest[2..]) {
                ("GET", []) => ok_xml(
                    services::render(user, svc)
                        .ok_or_else(|| XsiError::not_found("no such service"))?,
                ),
                ("PUT", []) => {
                    services::put(user, svc, body)?;
                    Ok(empty(StatusCode::OK))
                }
                ("POST", []) if *svc == "speeddial100" => {
                    let services::Speed100Fields {
                        code,
                        number,
                        description,
                    } = services::speed100_body(body, "SpeedDial100")?;
                    let code = code.ok_or_else(|| XsiError::schema("speedCode is required"))?;
                    let number =
                        number.ok_or_else(|| XsiError::schema("phoneNumber is required"))?;
                    if user.settings.speed_dial_100.contains_key(&code) {
                        return Err(XsiError::new(
                            409,
                            4300,
                            format!("speed code {code} is already in use"),
                        ));
                    }
                    user.settings.speed_dial_100.insert(
                        code,
                        SpeedEntry {
                            phone_number: number,
                            description: description.flatten(),
                        },
                    );
                    created(format!("{me}/services/speeddial100/{code}"), None)
                }
                (m, [code]) if *svc == "speeddial100" => {
                    let code = validate::speed_code(code, 0..=99)?;
                    match m {
                        "GET" => {
                            let e = user.settings.speed_dial_100.get(&code).ok_or_else(|| {
                                XsiError::not_found(format!("speed code {code} is not set"))
                            })?;
                            ok_xml(format!(
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                                services::speed100_entry(code, e)
                                    .replacen(
                                        "<speedDial100Entry>",
                                        &format!(
                                            "<SpeedDial100Entry xmlns=\"{}\">",
                                            crate::xml::XSI_NS
                                        ),
                                        1
                                    )
                                    .replace("</speedDial100Entry>", "</SpeedDial100Entry>")
                            ))
                        }
                        "PUT" => {
                            let services::Speed100Fields {
                                number,
                                description,
                                ..
                            } = services::speed100_body(body, "SpeedDial100Entry")?;
                            let e =
                                user.settings.speed_dial_100.get_mut(&code).ok_or_else(|| {
                                    XsiError::not_found(format!("speed code {code} is not set"))
                                })?;
                            if let Some(n) = number {
                                e.phone_number = n;
                            }
                            if let Some(d) = description {
                                e.description = d;
                            }
                            Ok(empty(StatusCode::OK))
                        }
                        "DELETE" => {
                            user.settings.speed_dial_100.remove(&code).ok_or_else(|| {
                                XsiError::not_found(format!("speed code {code} is not set"))
                            })?;
                            Ok(empty(StatusCode::OK))
                        }
                        _ => Err(XsiError::new(405, 4000, "method not allowed")),
                    }
                }
                ("POST", ["location"]) if *svc == "broadworksanywhere" => {
                    let (number, location) = anywhere_body(body)?;
                    if user.settings.anywhere.locations.contains_key(&number) {
                        return Err(XsiError::new(
                            400,
                            8251,
                            format!(
                                "A BroadWorks Anywhere location with phone number {number} already exists"
                            ),
                        ));
                    }
                    user.settings
                        .anywhere
                        .locations
                        .insert(number.clone(), location);
                    created(
                        format!("{me}/services/broadworksanywhere/location/{number}"),
                        None,
                    )
                }
                (m, ["location", _]) if *svc == "broadworksanywhere" => {
                    let number = raw.get(3).cloned().unwrap_or_default();
                    match m {
                        "GET" => {
                            let l =
                                user.settings
                                    .anywhere
                                    .locations
                                    .get(&number)
                                    .ok_or_else(|| {
                                        XsiError::not_found(format!("no location {number}"))
                                    })?;
                            ok_xml(format!(
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                                services::anywhere_location(
                                    "BroadWorksAnywhereLocation",
                                    user,
                                    &number,
                                    l,
                                    false
                                )
                                .replacen(
                                    "<BroadWorksAnywhereLocation>",
                                    &format!(
                                        "<BroadWorksAnywhereLocation xmlns=\"{}\">",
                                        crate::xml::XSI_NS
                                    ),
                                    1
                                )
                            ))
                        }
                        "PUT" => {
                            let doc = crate::xml::parse(body)?;
                            let el = crate::xml::root(&doc, "BroadWorksAnywhereLocation")?;
                            el.only(&[
                                "phoneNumber",
                                "description",
                                "active",
                                "outboundAlternateNumber",
                                "broadworksCallControl",
                                "useDiversionInhibitor",
                                "answerConfirmationRequired",
                                "criteriaActivation",
                            ])?;
                            let l = user
                                .settings
                                .anywhere
                                .locations
                                .get_mut(&number)
                                .ok_or_else(|| {
                                    XsiError::not_found(format!("no location {number}"))
                                })?;
                            if let Some(a) = el.boolean("active")? {
                                l.active = a;
                            }
                            match el.value("description")? {
                                Some(crate::xml::Value::Text(d)) => {
                                    validate::text("description", &d, 80)?;
                                    l.description = Some(d);
                                }
                                Some(crate::xml::Value::Nil) => l.description = None,
                                None => {}
                            }
                            Ok(empty(StatusCode::OK))
                        }
                        "DELETE" => {
                            user.settings
                                .anywhere
                                .locations
                                .remove(&number)
                                .ok_or_else(|| {
                                    XsiError::not_found(format!("no location {number}"))
                                })?;
                            Ok(empty(StatusCode::OK))
                        }
                        _ => Err(XsiError::new(405, 4000, "method not allowed")),
                    }
                }
                _ => Err(XsiError::not_found("no such resource")),
            }
        }
        (m, ["directories", "personal", ..]) => {
            if !assigned(user, "Personal Phone List") {
                return Err(XsiError::new(
                    404,
                    4201,
                    "The service Personal Phone List is not assigned to the user",
                ));
            }
            match (m, &raw[2..]) {
                ("GET", []) => ok_xml(personal_list(user, uri.query().unwrap_or(""))),
                ("POST", []) => {
                    let doc = crate::xml::parse(body)?;
                    let el = crate::xml::root(&doc, "Personal")?;
                    el.only(&["entry"])?;
                    let entries = el.all("entry");
                    if entries.len() != 1 {
                        return Err(XsiError::schema("exactly one entry is required"));
                    }
                    let e = &entries[0];
                    e.only(&["name", "number"])?;
                    let name = e
                        .text("name")?
                        .ok_or_else(|| XsiError::schema("name is required"))?;
                    let number = e
                        .text("number")?
                        .ok_or_else(|| XsiError::schema("number is required"))?;
                    validate::text("name", &name, 50)?;
                    validate::text("number", &number, 23)?;
                    if user.personal.contains_key(&name) {
                        return Err(XsiError::new(
                            409,
                            4300,
                            format!("An entry named '{name}' already exists"),
                        ));
                    }
                    user.personal.insert(name.clone(), number);
                    let encoded = percent_encoding::utf8_percent_encode(
                        &name,
                        percent_encoding::NON_ALPHANUMERIC,
                    );
                    created(format!("{me}/directories/personal/{encoded}"), None)
                }
                ("DELETE", [name]) => {
                    user.personal
                        .remove(name)
                        .ok_or_else(|| XsiError::not_found(format!("no entry named '{name}'")))?;
                    Ok(empty(StatusCode::OK))
                }
                _ => Err(XsiError::new(405, 4000, "method not allowed")),
            }
        }
        ("GET", ["directories", scope @ ("group" | "enterprise")]) => {
            ok_xml(directory(user, people, scope, uri.query().unwrap_or(""))?)
        }
        (m, ["directories", "calllogs", ..]) => {
            if !assigned(user, "Basic Call Logs") {
                return Err(XsiError::new(
                    404,
                    4201,
                    "The service Basic Call Logs is not assigned to the user",
                ));
            }
            let list = rest.get(2).copied();
            let id = raw.get(3).cloned();
            if let Some(l) = list
                && !matches!(l, "missed" | "placed" | "received")
            {
                return Err(XsiError::not_found(format!("no call log list '{l}'")));
            }
            match m {
                "GET" if id.is_none() => ok_xml(call_logs(user, list)),
                "DELETE" => {
                    let before = user.call_logs.len();
                    user.call_logs.retain(|c| {
                        let in_list = list.is_none_or(|l| c.kind == l);
                        let is_id = id.as_ref().is_none_or(|i| &c.id == i);
                        !(in_list && is_id)
                    });
                    if id.is_some() && user.call_logs.len() == before {
                        return Err(XsiError::not_found("no such call log entry"));
                    }
                    Ok(empty(StatusCode::OK))
                }
                _ => Err(XsiError::new(405, 4000, "method not allowed")),
            }
        }
        ("POST", ["calls", "new"]) => {
            let query = parse_query(uri.query().unwrap_or(""));
            let address = query
                .iter()
                .find(|(k, _)| k == "address")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| XsiError::schema("the address parameter is required"))?;
            validate::address("address", &address)?;
            let n = shared.stats.calls.fetch_add(1, Ordering::Relaxed) + 1;
            let call_id = format!("callhalf-{}:0", 1000 + n);
            user.call_logs.push(CallLog {
                kind: "placed".into(),
                phone_number: address.trim_start_matches("tel:").to_owned(),
                name: None,
                time: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                id: format!("{}:0", 900 + n),
                country_code: None,
            });
            let mut d = Doc::new("CallStartInfo");
            d.text("callId", &call_id)
                .text("externalTrackingId", format!("{}:1", 500 + n));
            created(
                format!("{me}/calls/{call_id}"),
                Some(d.finish("CallStartInfo")),
            )
        }
        _ => Err(XsiError::not_found("no such resource")),
    }
}

fn anywhere_body(body: &str) -> Result<(String, AnywhereLocation), XsiError> {
    let doc = crate::xml::parse(body)?;
    let el = crate::xml::root(&doc, "BroadWorksAnywhereLocation")?;
    el.only(&[
        "phoneNumber",
        "description",
        "active",
        "outboundAlternateNumber",
        "broadworksCallControl",
        "useDiversionInhibitor",
        "answerConfirmationRequired",
        "criteriaActivation",
    ])?;
    let number = el
        .text("phoneNumber")?
        .ok_or_else(|| XsiError::schema("phoneNumber is required"))?;
    validate::phone("phoneNumber", &number)?;
    let country_code = el
        .child("phoneNumber")
        .and_then(|p| p.attr("countryCode").map(str::to_owned))
        .unwrap_or_else(|| "1".into());
    let description = el.text("description")?;
    if let Some(d) = &description {
        validate::text("description", d, 80)?;
    }
    Ok((
        number,
        AnywhereLocation {
            country_code,
            description,
            active: el.boolean("active")?.unwrap_or(false),
        },
    ))
}

fn profile(u: &User) -> String {
    let mut d = Doc::new("Profile");
    d.open("details")
        .text("userId", &u.user_id)
        .text("firstName", &u.first_name)
        .text("lastName", &u.last_name);
    d.text("groupId", &u.group_id);
    d.raw(&format!(
        "<serviceProvider isEnterprise=\"true\">{}</serviceProvider>",
        escape(&u.service_provider)
    ));
    if let Some(n) = &u.number {
        d.text("number", n);
    }
    if let Some(e) = &u.extension {
        d.text("extension", e);
    }
    d.close("details");
    d.open("additionalDetails").nil("mobile");
    d.opt("emailAddress", u.email.as_deref());
    d.close("additionalDetails");
    d.text("passwordExpiresDays", "90");
    d.text("fac", format!("/v2.0/user/{}/profile/Fac", u.user_id));
    d.text(
        "registrations",
        format!("/v2.0/user/{}/profile/Registrations", u.user_id),
    );
    d.text("countryCode", &u.country_code);
    if let Some(tz) = &u.time_zone {
        d.text("timeZone", tz);
    }
    d.finish("Profile")
}

fn devices(u: &User, base: &str, query: &str) -> String {
    let only_soft = parse_query(query)
        .iter()
        .any(|(k, v)| k == "onlySoftClient" && v == "true");
    let mut d = Doc::new("AccessDevices");
    for dev in &u.devices {
        if only_soft && dev.dms_path.is_none() {
            continue;
        }
        d.open("accessDevice")
            .text("deviceName", &dev.name)
            .text("deviceLevel", "Group")
            .text("deviceType", &dev.device_type);
        d.text("deviceLinePort", &dev.line_port);
        if let Some(path) = &dev.dms_path {
            d.text("deviceTypeUrl", format!("{base}dms/{path}/"));
        }
        if let (Some(user), Some(password)) = (&dev.dm_user, &dev.dm_password) {
            d.open("deviceUserNamePassword")
                .text("userName", user)
                .text("password", password)
                .close("deviceUserNamePassword");
        }
        d.text("version", "Deskline-Sandbox")
            .boolean("allowTermination", true)
            .text("endpointType", &dev.endpoint_type);
        d.close("accessDevice");
    }
    d.finish("AccessDevices")
}

fn registrations(u: &User) -> String {
    let mut d = Doc::new("Registrations");
    for r in &u.registrations {
        d.open("registration")
            .text("endpointType", &r.endpoint_type)
            .text("uri", &r.uri);
        if let Some(e) = &r.expiration {
            d.text("expiration", e);
        }
        d.text("linePort", &r.line_port);
        if let Some(ua) = &r.user_agent {
            d.text("userAgent", ua);
        }
        d.close("registration");
    }
    d.finish("Registrations")
}

fn services_list(u: &User) -> String {
    let mut d = Doc::new("Services");
    for (name, path) in SERVICES {
        if !assigned(u, name) {
            continue;
        }
        d.open("service").text("name", *name);
        if !path.is_empty() {
            d.text("uri", format!("/v2.0/user/{}/services/{path}", u.user_id));
        }
        d.close("service");
    }
    d.finish("Services")
}

/// `key=value` pairs of a query string, percent-decoded (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// A search criterion: `*` wildcards, `/i` for case-insensitive, `\/` for a literal slash.
struct Criterion {
    pattern: String,
    insensitive: bool,
}

impl Criterion {
    fn parse(raw: &str) -> Self {
        let (body, insensitive) = match raw.strip_suffix("/i") {
            Some(b) if !b.ends_with('\\') => (b, true),
            _ => (raw, false),
        };
        Self {
            pattern: body.replace("\\/", "/"),
            insensitive,
        }
    }

    fn matches(&self, value: &str) -> bool {
        let (p, v) = if self.insensitive {
            (self.pattern.to_lowercase(), value.to_lowercase())
        } else {
            (self.pattern.clone(), value.to_owned())
        };
        let parts: Vec<&str> = p.split('*').collect();
        if parts.len() == 1 {
            return p == v;
        }
        let mut rest = v.as_str();
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            if i == 0 {
                match rest.strip_prefix(part) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if i == parts.len() - 1 {
                return rest.ends_with(part);
            } else {
                match rest.find(part) {
                    Some(at) => rest = &rest[at + part.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}

fn paging(query: &[(String, String)]) -> Result<(usize, usize), XsiError> {
    let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let start = match get("start") {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| XsiError::invalid(4001, "start must be 1 or more"))?,
        None => 1,
    };
    let results = match get("results") {
        Some(r) => r
            .parse::<usize>()
            .ok()
            .filter(|r| (1..=1000).contains(r))
            .ok_or_else(|| XsiError::invalid(4001, "results must be 1 to 1000"))?,
        None => 50,
    };
    Ok((start, results))
}

fn directory(u: &User, people: &[Person], scope: &str, query: &str) -> Result<String, XsiError> {
    let q = parse_query(query);
    let (start, results) = paging(&q)?;
    let or_mode = q
        .iter()
        .any(|(k, v)| k == "searchCriteriaModeOr" && v == "true");
    let fields = [
        "firstName",
        "lastName",
        "name",
        "userId",
        "groupId",
        "number",
        "extension",
        "department",
        "emailAddress",
    ];
    let criteria: Vec<(&str, Criterion)> = q
        .iter()
        .filter_map(|(k, v)| {
            fields
                .iter()
                .find(|f| *f == k)
                .map(|f| (*f, Criterion::parse(v)))
        })
        .collect();
    let mut matched: Vec<&Person> = people
        .iter()
        .filter(|p| scope == "enterprise" || p.group_id == u.group_id)
        .filter(|p| {
            if criteria.is_empty() {
                return true;
            }
            let test = |(field, c): &(&str, Criterion)| {
                let value = match *field {
                    "firstName" => p.first_name.clone(),
                    "lastName" => p.last_name.clone(),
                    "name" => format!("{} {}", p.first_name, p.last_name),
                    "userId" => p.user_id.clone(),
                    "groupId" => p.group_id.clone(),
                    "number" => p.number.clone().unwrap_or_default(),
                    "extension" => p.extension.clone().unwrap_or_default(),
                    "department" => p.department.clone().unwrap_or_default(),
                    _ => p.email.clone().unwrap_or_default(),
                };
                c.matches(&value)
            };
            if or_mode {
                criteria.iter().any(test)
            } else {
                criteria.iter().all(test)
            }
        })
        .collect();
    matched.sort_by(|a, b| {
        (a.last_name.as_str(), a.first_name.as_str())
            .cmp(&(b.last_name.as_str(), b.first_name.as_str()))
    });
    let total = matched.len();
    let page: Vec<&&Person> = matched.iter().skip(start - 1).take(results).collect();
    let (root, list) = if scope == "enterprise" {
        ("Enterprise", "enterpriseDirectory")
    } else {
        ("Group", "groupDirectory")
    };
    let mut d = Doc::new(root);
    d.text("startIndex", start.to_string())
        .text("numberOfRecords", page.len().to_string())
        .text("totalAvailableRecords", total.to_string());
    d.open(list);
    for p in page {
        d.open("directoryDetails")
            .text("userId", &p.user_id)
            .text("firstName", &p.first_name)
            .text("lastName", &p.last_name);
        d.text("groupId", &p.group_id);
        if let Some(n) = &p.number {
            d.text("number", n);
        }
        if let Some(e) = &p.extension {
            d.text("extension", e);
        }
        d.open("additionalDetails");
        if let Some(m) = &p.mobile {
            d.text("mobile", m);
        }
        if let Some(e) = &p.email {
            d.text("emailAddress", e);
        }
        if let Some(dep) = &p.department {
            d.text("department", dep);
        }
        d.close("additionalDetails").close("directoryDetails");
    }
    d.close(list);
    Ok(d.finish(root))
}

fn personal_list(u: &User, query: &str) -> String {
    let q = parse_query(query);
    let name = q
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| Criterion::parse(v));
    let number = q
        .iter()
        .find(|(k, _)| k == "number")
        .map(|(_, v)| Criterion::parse(v));
    let entries: Vec<(&String, &String)> = u
        .personal
        .iter()
        .filter(|(n, v)| {
            name.as_ref().is_none_or(|c| c.matches(n))
                && number.as_ref().is_none_or(|c| c.matches(v))
        })
        .collect();
    let (start, results) = paging(&q).unwrap_or((1, 1000));
    let page: Vec<_> = entries.iter().skip(start - 1).take(results).collect();
    let mut d = Doc::new("Personal");
    d.text("startIndex", start.to_string())
        .text("numberOfRecords", page.len().to_string())
        .text("totalAvailableRecords", entries.len().to_string());
    for (n, v) in page {
        d.open("entry")
            .text("name", *n)
            .text("number", *v)
            .close("entry");
    }
    d.finish("Personal")
}

fn call_logs(u: &User, list: Option<&str>) -> String {
    let render = |d: &mut Doc, kind: &str| {
        for c in u.call_logs.iter().filter(|c| c.kind == kind) {
            d.open("callLogsEntry");
            if let Some(cc) = &c.country_code {
                d.text("countryCode", cc);
            }
            d.text("phoneNumber", &c.phone_number);
            if let Some(n) = &c.name {
                d.text("name", n);
            }
            d.text("time", &c.time)
                .text("callLogId", &c.id)
                .close("callLogsEntry");
        }
    };
    match list {
        Some(kind) => {
            let mut d = Doc::new(kind);
            render(&mut d, kind);
            d.finish(kind)
        }
        None => {
            let mut d = Doc::new("CallLogs");
            for kind in ["placed", "received", "missed"] {
                d.open(kind);
                render(&mut d, kind);
                d.close(kind);
            }
            d.finish("CallLogs")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Criterion;

    #[test]
    fn wildcards() {
        assert!(Criterion::parse("jo*/i").matches("John"));
        assert!(Criterion::parse("*ann*/i").matches("Joanna"));
        assert!(!Criterion::parse("jo*").matches("John"));
        assert!(Criterion::parse("John").matches("John"));
        assert!(!Criterion::parse("Jo").matches("John"));
        assert!(Criterion::parse("a\\/b").matches("a/b"));
    }
}
