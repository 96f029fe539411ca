//! Requests that reach a line: the ghost filter first, then the INVITE server
//! transactions of ringing calls (100 + 180 at once, CANCEL → 200 + 487, decline → 603,
//! ring timeout → 480, final-response retransmission until ACK on UDP), OPTIONS (200),
//! and refusals for everything else (481 out of dialog, 405, 420, 415, 406).
//! Calls are tracked per server transaction; several ring at once independently.

use crate::caller;
use crate::config::Tuning;
use crate::events::EventSink;
use crate::ghost::{self, Decision, Source};
use crate::reason;
use crate::transport::{FlowShared, random_token};
use crate::wire::{self, InRequest, ResponseBase};
use deskline_core::Transport;
use deskline_core::calls::{CallEndReason, LineEvent};
use rsipstack::sip::Method;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// What a flow's reader needs to know about its line.
#[derive(Debug)]
pub struct LineContext {
    /// The line's address of record.
    pub aor: String,
    /// Where events go.
    pub events: EventSink,
    /// Every ringing call of the agent.
    pub calls: Arc<Calls>,
    /// Timers.
    pub tuning: Tuning,
}

#[derive(Debug)]
enum Phase {
    Ringing { last: Arc<Vec<u8>> },
    Completed { last: Arc<Vec<u8>>, acked: bool },
}

/// One INVITE server transaction (one ringing call).
#[derive(Debug)]
struct Call {
    key: String,
    call_id: String,
    line: String,
    from_tag: String,
    base: ResponseBase,
    to_tag: String,
    flow: Arc<FlowShared>,
    reply_to: SocketAddr,
    phase: Mutex<Phase>,
}

impl Call {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        match self.phase.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn is_ringing(&self) -> bool {
        matches!(*self.phase(), Phase::Ringing { .. })
    }

    fn last_response(&self) -> Arc<Vec<u8>> {
        match &*self.phase() {
            Phase::Ringing { last } | Phase::Completed { last, .. } => last.clone(),
        }
    }
}

/// Every call currently tracked by the agent, keyed by server transaction.
#[derive(Debug, Default)]
pub struct Calls {
    map: Mutex<HashMap<String, Arc<Call>>>,
    me: Mutex<Weak<Calls>>,
}

impl Calls {
    /// An empty registry.
    pub fn new() -> Arc<Self> {
        let calls = Arc::new(Self::default());
        if let Ok(mut me) = calls.me.lock() {
            *me = Arc::downgrade(&calls);
        }
        calls
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Call>>> {
        match self.map.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn get(&self, key: &str) -> Option<Arc<Call>> {
        self.map().get(key).cloned()
    }

    fn remove(&self, key: &str) {
        self.map().remove(key);
    }

    fn weak(&self) -> Weak<Calls> {
        self.me.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Number of calls still tracked (ringing or awaiting ACK).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no call is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Declines every ringing call with this Call-ID (603). Unknown or ended calls are
    /// ignored.
    pub async fn decline(&self, call_id: &str) {
        let ringing: Vec<Arc<Call>> = self
            .map()
            .values()
            .filter(|c| c.call_id == call_id && c.is_ringing())
            .cloned()
            .collect();
        for call in ringing {
            self.finalize(&call, 603, "Decline", CallEndReason::Declined)
                .await;
        }
    }

    /// Ends every ringing call (agent shutdown): 480, reported as missed.
    pub async fn end_all(&self) {
        let ringing: Vec<Arc<Call>> = self
            .map()
            .values()
            .filter(|c| c.is_ringing())
            .cloned()
            .collect();
        for call in ringing {
            self.finalize(&call, 480, "Temporarily Unavailable", CallEndReason::Missed)
                .await;
        }
    }

    /// Sends a final response to a ringing call and reports its end. No-op if the call
    /// already ended.
    async fn finalize(
        &self,
        call: &Arc<Call>,
        code: u16,
        phrase: &str,
        reason: CallEndReason,
    ) -> bool {
        let bytes = Arc::new(call.base.build(code, phrase, Some(&call.to_tag), &[]));
        {
            let mut phase = call.phase();
            if !matches!(*phase, Phase::Ringing { .. }) {
                return false;
            }
            *phase = Phase::Completed {
                last: bytes.clone(),
                acked: false,
            };
        }
        call.flow.reply(&bytes, call.reply_to).await;
        call.flow.ctx.events.emit(LineEvent::CallEnded {
            call_id: call.call_id.clone(),
            line: call.line.clone(),
            reason,
            at: OffsetDateTime::now_utc(),
        });
        tokio::spawn(await_ack(self.weak(), call.clone(), bytes));
        true
    }
}

/// RFC 3261 §17.2.1: retransmit the final response on UDP (timer G) until the ACK
/// arrives or timer H fires, then forget the transaction.
async fn await_ack(calls: Weak<Calls>, call: Arc<Call>, bytes: Arc<Vec<u8>>) {
    let tuning = call.flow.ctx.tuning.clone();
    let reliable = call.flow.transport != Transport::Udp;
    let give_up = Instant::now() + tuning.t1 * 64;
    let mut interval = tuning.t1;
    loop {
        let step = if reliable { tuning.t1 } else { interval };
        tokio::time::sleep(step).await;
        let acked = matches!(*call.phase(), Phase::Completed { acked: true, .. });
        if acked || Instant::now() >= give_up || call.flow.is_closed() {
            break;
        }
        if !reliable {
            call.flow.reply(&bytes, call.reply_to).await;
            interval = (interval * 2).min(tuning.t2);
        }
    }
    if !reliable {
        // Timer I: absorb retransmitted ACKs (T4 = 5 s).
        tokio::time::sleep(Duration::from_secs(5).min(tuning.t2 + tuning.t1)).await;
    }
    if let Some(calls) = calls.upgrade() {
        calls.remove(&call.key);
    }
}

async fn ring_timeout(calls: Weak<Calls>, call: Arc<Call>, after: Duration) {
    tokio::time::sleep(after).await;
    if let Some(calls) = calls.upgrade() {
        calls
            .finalize(&call, 480, "Temporarily Unavailable", CallEndReason::Missed)
            .await;
    }
}

fn unsupported_requirements(req: &InRequest) -> Option<String> {
    let tags: Vec<&str> = req
        .header_values("Require")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    (!tags.is_empty()).then(|| tags.join(", "))
}

fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Handles one pre-validated request that arrived on a line's flow.
pub async fn handle_request(
    flow: &Arc<FlowShared>,
    req: InRequest,
    source: Source,
    reply_to: SocketAddr,
    at: OffsetDateTime,
) {
    let is_options = req.method == Method::Options;
    let decision = ghost::decide(
        source,
        flow.remote,
        req.ruri_user(),
        &flow.contact_user,
        is_options,
    );
    let reply = |code: u16, phrase: &'static str, extra: Vec<(&'static str, String)>| {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
        req.base
            .build(code, phrase, Some(&random_token(10)), &extra)
    };
    if req.method == Method::Ack {
        // Never answered; only ends retransmissions of our final response.
        if decision == Decision::Accept
            && let Some(call) = flow.ctx.calls.get(&req.transaction_key())
            && let Phase::Completed { acked, .. } = &mut *call.phase()
        {
            *acked = true;
        }
        return;
    }
    match decision {
        Decision::Accept => {}
        Decision::Stranger => {
            tracing::info!(%reply_to, method = %req.method, "refused a request that did not come through the registrar");
            flow.reply(&reply(403, "Forbidden", vec![]), reply_to).await;
            return;
        }
        Decision::WrongUser => {
            tracing::info!(%reply_to, method = %req.method, "refused a request for an unknown contact");
            flow.reply(&reply(404, "Not Found", vec![]), reply_to).await;
            return;
        }
    }
    match req.method {
        Method::Invite => invite(flow, req, reply_to, at).await,
        Method::Cancel => cancel(flow, req, reply_to).await,
        Method::Options => {
            if let Some(tags) = unsupported_requirements(&req) {
                flow.reply(
                    &reply(420, "Bad Extension", vec![("Unsupported", tags)]),
                    reply_to,
                )
                .await;
                return;
            }
            let bytes = reply(
                200,
                "OK",
                vec![
                    ("Allow", wire::ALLOW.to_owned()),
                    ("Accept", "application/sdp".to_owned()),
                ],
            );
            flow.reply(&bytes, reply_to).await;
        }
        Method::Bye => {
            flow.reply(
                &reply(481, "Call/Transaction Does Not Exist", vec![]),
                reply_to,
            )
            .await;
        }
        _ => {
            flow.reply(
                &reply(
                    405,
                    "Method Not Allowed",
                    vec![("Allow", wire::ALLOW.to_owned())],
                ),
                reply_to,
            )
            .await;
        }
    }
}

async fn invite(flow: &Arc<FlowShared>, req: InRequest, reply_to: SocketAddr, at: OffsetDateTime) {
    let ctx = &flow.ctx;
    let key = req.transaction_key();
    // A retransmission: repeat the last response.
    if let Some(call) = ctx.calls.get(&key) {
        let last = call.last_response();
        flow.reply(&last, reply_to).await;
        return;
    }
    let refuse = |code: u16, phrase: &'static str, extra: &[(&str, &str)]| {
        req.base.build(code, phrase, Some(&random_token(10)), extra)
    };
    if req.to.has_param("tag") {
        // We never establish dialogs: a re-INVITE cannot match one.
        flow.reply(
            &refuse(481, "Call/Transaction Does Not Exist", &[]),
            reply_to,
        )
        .await;
        return;
    }
    if let Some(tags) = unsupported_requirements(&req) {
        flow.reply(
            &refuse(420, "Bad Extension", &[("Unsupported", &tags)]),
            reply_to,
        )
        .await;
        return;
    }
    if !req.sip.body.is_empty()
        && let Some(ct) = req.header("Content-Type")
    {
        let t = media_type(ct);
        if t != "application/sdp" && !t.starts_with("multipart/") {
            flow.reply(
                &refuse(
                    415,
                    "Unsupported Media Type",
                    &[("Accept", "application/sdp")],
                ),
                reply_to,
            )
            .await;
            return;
        }
    }
    let accepts: Vec<String> = req
        .header_values("Accept")
        .flat_map(|v| v.split(','))
        .map(media_type)
        .filter(|t| !t.is_empty())
        .collect();
    if !accepts.is_empty()
        && !accepts
            .iter()
            .any(|t| t == "application/sdp" || t == "application/*" || t == "*/*")
    {
        flow.reply(&refuse(406, "Not Acceptable", &[]), reply_to)
            .await;
        return;
    }
    let from_tag = req.from.param("tag").unwrap_or_default().to_owned();
    let call = Arc::new(Call {
        key: key.clone(),
        call_id: req.call_id.clone(),
        line: ctx.aor.clone(),
        from_tag: from_tag.clone(),
        base: req.base.clone(),
        to_tag: random_token(12),
        flow: flow.clone(),
        reply_to,
        phase: Mutex::new(Phase::Ringing {
            last: Arc::new(Vec::new()),
        }),
    });
    let ringing = Arc::new(call.base.build(180, "Ringing", Some(&call.to_tag), &[]));
    if let Ok(mut phase) = call.phase.lock() {
        *phase = Phase::Ringing {
            last: ringing.clone(),
        };
    }
    // A merged request (same call reached us on another branch): 482 (RFC 3261
    // §8.2.2.2). Checked and inserted under one lock so forks never both ring.
    let refusal = {
        let mut map = ctx.calls.map();
        let merged = map.values().any(|c| {
            c.call_id == call.call_id
                && c.from_tag == from_tag
                && c.line == call.line
                && c.key != key
        });
        if merged {
            Some((482, "Loop Detected"))
        } else if map.len() >= 256 {
            Some((486, "Busy Here"))
        } else {
            map.insert(key, call.clone());
            None
        }
    };
    if let Some((code, phrase)) = refusal {
        flow.reply(&refuse(code, phrase, &[]), reply_to).await;
        return;
    }
    let who = caller::caller(req.header_values("P-Asserted-Identity"), &req.from);
    ctx.events.emit(LineEvent::IncomingCall {
        call_id: call.call_id.clone(),
        line: call.line.clone(),
        number: who.number,
        name: who.name,
        at,
    });
    let trying = call.base.build(100, "Trying", None, &[]);
    flow.reply(&trying, reply_to).await;
    flow.reply(&ringing, reply_to).await;
    tokio::spawn(ring_timeout(
        ctx.calls.weak(),
        call,
        ctx.tuning.ring_timeout,
    ));
}

async fn cancel(flow: &Arc<FlowShared>, req: InRequest, reply_to: SocketAddr) {
    let ctx = &flow.ctx;
    let Some(call) = ctx.calls.get(&req.transaction_key()) else {
        let bytes = req.base.build(
            481,
            "Call/Transaction Does Not Exist",
            Some(&random_token(10)),
            &[],
        );
        flow.reply(&bytes, reply_to).await;
        return;
    };
    // 200 to the CANCEL itself (same To tag as the INVITE's responses).
    let ok = req.base.build(200, "OK", Some(&call.to_tag), &[]);
    flow.reply(&ok, reply_to).await;
    let why = reason::classify_cancel(req.header_values("Reason"));
    ctx.calls
        .finalize(&call, 487, "Request Terminated", why)
        .await;
}
