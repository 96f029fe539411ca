//! The sandbox behaves like an XSP on the wire: raw HTTP requests with hand-written XML,
//! checked against the status codes, headers and ErrorInfo bodies of the protocol notes;
//! and its command line prints what scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use deskline_sandbox::{Faults, Sandbox, SandboxConfig};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const USER: &str = "demo@deskline.example";
const PASSWORD: &str = "Deskline-demo-1";

async fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).await.unwrap()
}

async fn request(
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    let mut r = reqwest::Client::new()
        .request(method, format!("{}user/{USER}/{path}", sb.xsi_url()))
        .basic_auth(USER, Some(PASSWORD));
    if let Some(b) = body {
        r = r.body(b.to_owned());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn paths_are_case_insensitive_and_errors_are_error_info() {
    let sb = start().await;
    let (a, x) = request(&sb, reqwest::Method::GET, "services/donotdisturb", None).await;
    let (b, y) = request(&sb, reqwest::Method::GET, "Services/DoNotDisturb", None).await;
    assert_eq!((a, b), (200, 200));
    assert_eq!(x, y);
    let (status, body) = request(&sb, reqwest::Method::GET, "services/nosuchservice", None).await;
    assert_eq!(status, 404);
    assert!(
        body.contains("<ErrorInfo xmlns=\"http://schema.broadsoft.com/xsi\">")
            && body.contains("<errorCode>"),
        "{body}"
    );
    let unauthenticated = reqwest::get(format!("{}user/{USER}/profile", sb.xsi_url()))
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(
        unauthenticated.headers()["www-authenticate"],
        "Basic realm=\"XtendedServicesInterface\""
    );
    assert_eq!(unauthenticated.headers()["server"], "BW HTTP Server");
    // Another user's resources are forbidden.
    let (status, _) = request(
        &sb,
        reqwest::Method::GET,
        "../bob@deskline.example/profile",
        None,
    )
    .await;
    assert!(status == 403 || status == 404, "{status}");
    let other = reqwest::Client::new()
        .get(format!("{}user/bob@deskline.example/profile", sb.xsi_url()))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
}

#[tokio::test]
async fn request_bodies_are_validated_like_a_schema() {
    let sb = start().await;
    let put = |body: &'static str| {
        let sb = &sb;
        async move {
            request(
                sb,
                reqwest::Method::PUT,
                "services/CallForwardingBusy",
                Some(body),
            )
            .await
        }
    };
    let (s, b) = put("<CallForwardingBusy xmlns=\"http://schema.broadsoft.com/xsi\"><active>true</active><bogus>1</bogus></CallForwardingBusy>").await;
    assert_eq!(s, 400, "unknown element");
    assert!(b.contains("bogus"), "{b}");
    let (s, _) = put("<CallForwardingBusy xmlns=\"http://schema.broadsoft.com/xsi\"><forwardToPhoneNumber></forwardToPhoneNumber></CallForwardingBusy>").await;
    assert_eq!(s, 400, "an empty element is not a way to clear");
    let (s, _) = put("<DoNotDisturb xmlns=\"http://schema.broadsoft.com/xsi\"><active>true</active></DoNotDisturb>").await;
    assert_eq!(s, 400, "wrong root");
    let (s, _) = put("<CallForwardingBusy><active>true</active></CallForwardingBusy>").await;
    assert_eq!(s, 400, "no namespace");
    let (s, _) =
        put("<CallForwardingBusy xmlns=\"http://schema.broadsoft.com/xsi\"><active>true</active>")
            .await;
    assert_eq!(s, 400, "not well-formed");
    let (s, b) = put("<CallForwardingBusy xmlns=\"http://schema.broadsoft.com/xsi\"><active>true</active></CallForwardingBusy>").await;
    assert_eq!(s, 400, "active without a number: {b}");
    // Another prefix for the Xsi namespace, and a nil clear.
    let (s, _) = put("<x:CallForwardingBusy xmlns:x=\"http://schema.broadsoft.com/xsi\"><x:forwardToPhoneNumber>1002</x:forwardToPhoneNumber></x:CallForwardingBusy>").await;
    assert_eq!(s, 200);
    let (_, doc) = request(
        &sb,
        reqwest::Method::GET,
        "services/CallForwardingBusy",
        None,
    )
    .await;
    assert!(
        doc.contains("<forwardToPhoneNumber>1002</forwardToPhoneNumber>"),
        "{doc}"
    );
    let (s, _) = put("<CallForwardingBusy xmlns=\"http://schema.broadsoft.com/xsi\"><forwardToPhoneNumber xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/></CallForwardingBusy>").await;
    assert_eq!(s, 200);
    let (_, doc) = request(
        &sb,
        reqwest::Method::GET,
        "services/CallForwardingBusy",
        None,
    )
    .await;
    assert!(!doc.contains("forwardToPhoneNumber"), "{doc}");
    let (s, b) = request(&sb, reqwest::Method::PUT, "services/CallForwardingNoAnswer", Some("<CallForwardingNoAnswer xmlns=\"http://schema.broadsoft.com/xsi\"><numberOfRings>1</numberOfRings></CallForwardingNoAnswer>")).await;
    assert_eq!(s, 400);
    assert!(b.contains("<errorCode>4002</errorCode>"), "{b}");
}

#[tokio::test]
async fn posts_answer_201_with_location_and_duplicates_are_refused() {
    let sb = start().await;
    let client = reqwest::Client::new();
    let body = "<Personal xmlns=\"http://schema.broadsoft.com/xsi\"><entry><name>Eve / Ops</name><number>2145559000</number></entry></Personal>";
    let post = || {
        client
            .post(format!("{}user/{USER}/directories/Personal", sb.xsi_url()))
            .basic_auth(USER, Some(PASSWORD))
            .body(body)
            .send()
    };
    let created = post().await.unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with("/directories/personal/Eve%20%2F%20Ops"),
        "{location}"
    );
    assert_eq!(post().await.unwrap().status(), 409);
    let (s, _) = request(
        &sb,
        reqwest::Method::DELETE,
        "directories/Personal/Eve%20%2F%20Ops",
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = request(
        &sb,
        reqwest::Method::DELETE,
        "directories/Personal/Eve%20%2F%20Ops",
        None,
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn device_management_digest_with_right_and_wrong_credentials() {
    let sb = start().await;
    let url = format!("{}dms/bc/pc/config.xml", sb.base_url());
    let challenge = reqwest::get(&url).await.unwrap();
    assert_eq!(challenge.status(), 401);
    let header = challenge.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        header.starts_with("Digest realm=\"BroadWorks\"") && header.contains("qop=\"auth\""),
        "{header}"
    );
    let answer = |user: &str, password: &str, header: &str| {
        let mut prompt = digest_auth::parse(header).unwrap();
        prompt
            .respond(&digest_auth::AuthContext::new(
                user,
                password,
                "/dms/bc/pc/config.xml",
            ))
            .unwrap()
            .to_header_string()
    };
    let client = reqwest::Client::new();
    let ok = client
        .get(&url)
        .header(
            "Authorization",
            answer("dana-pc-dm", "Dm-secret-pc1", &header),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let config = ok.text().await.unwrap();
    assert!(
        config.contains("<auth-username>dana-pc-auth</auth-username>")
            && config.contains("Sip-secret-pc1"),
        "{config}"
    );
    let wrong = client
        .get(&url)
        .header("Authorization", answer("dana-pc-dm", "wrong", &header))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let other_device = client
        .get(format!("{}dms/bc/mobile/config.xml", sb.base_url()))
        .header(
            "Authorization",
            answer("dana-pc-dm", "Dm-secret-pc1", &header),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        other_device.status(),
        401,
        "credentials of one device do not open another"
    );
}

#[tokio::test]
async fn dropped_connections_and_errors_are_injected_but_not_on_admin_paths() {
    let sb = start().await;
    sb.faults().set(Faults {
        drop_rate: 1.0,
        ..Default::default()
    });
    let dropped = reqwest::Client::new()
        .get(format!("{}user/{USER}/profile", sb.xsi_url()))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await;
    assert!(dropped.is_err(), "the connection closes without an answer");
    let admin = reqwest::get(format!("{}__sandbox/stats", sb.base_url()))
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    sb.faults().set(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let (s, b) = request(&sb, reqwest::Method::GET, "profile", None).await;
    assert_eq!(s, 503);
    assert!(b.contains("<errorCode>5030</errorCode>"));
    // Switch over HTTP, as scripts do.
    let reset = reqwest::Client::new()
        .put(format!("{}__sandbox/faults", sb.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(
        request(&sb, reqwest::Method::GET, "profile", None).await.0,
        200
    );
}

#[test]
fn the_binary_prints_its_address_and_refuses_other_interfaces() {
    let bin = env!("CARGO_BIN_EXE_deskline-sandbox");
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("listening on http://127.0.0.1:") && !first.ends_with(":0"),
        "{first}"
    );
    assert_eq!(
        second,
        "demo account: demo@deskline.example Deskline-demo-1"
    );
    let refused = Command::new(bin)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback"));
}
