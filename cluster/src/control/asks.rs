//! Asks of actors whose shard runs on another node: the ask travels to
//! that node on the control channel, is asked there, and the reply comes
//! back as MessagePack.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cairn_core::{Address, AskError, Error, Payload, Runtime, StoredMessage};
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::messages::{AskRequest, Control};
use super::Shared;
use crate::transport::{NodeId, Transport};

/// A forwarded ask's outcome: the reply as MessagePack, or why there is none.
type Answer = Result<Vec<u8>, String>;

/// The replies this node waits for, by ask id.
#[derive(Default)]
pub(crate) struct PendingAsks {
    next: AtomicU64,
    /// Shared with the timers of relayed asks.
    waiting: Arc<Mutex<HashMap<u64, Waiter>>>,
}

/// Who takes the answer to an ask sent to another node.
enum Waiter {
    /// A task of this node, in [`ask_remote`].
    Task(oneshot::Sender<Answer>),
    /// The caller of an ask this node's runtime relayed (`relay`).
    Relayed(super::relay::Relayed),
}

impl Waiter {
    fn answer(self, answer: Answer) {
        match self {
            Waiter::Task(task) => {
                let _ = task.send(answer);
            }
            Waiter::Relayed(relayed) => relayed.answer(answer),
        }
    }
}

/// A reply that travelled between nodes: the value as JSON-like data,
/// decoded from MessagePack without knowing its Rust type.
pub(crate) type ForwardedReply = serde_json::Value;

impl PendingAsks {
    /// Fails every ask waiting for an answer from another node: the
    /// cluster moved to a new generation, so an owner may be dead and
    /// would never answer, and one alive answers from rolled-back state.
    pub(crate) fn fail_all(&self, reason: &str) {
        let waiting: Vec<_> = self.waiting.lock().drain().collect();
        for (_, waiter) in waiting {
            waiter.answer(Err(reason.to_owned()));
        }
    }

    /// Completes ask `id` with `reply`; an unknown id (its asker gave up)
    /// is ignored.
    pub(crate) fn complete(&self, id: u64, reply: Answer) {
        let waiter = self.waiting.lock().remove(&id);
        if let Some(waiter) = waiter {
            waiter.answer(reply);
        }
    }

    /// Registers a relayed ask's caller and returns the ask's id. A timer
    /// on `runtime` answers the caller `Timeout` at `deadline` if no answer
    /// came, and forgets it: no task of this node watches such a caller,
    /// and an owner that never answers (its answer lost with a link) would
    /// otherwise leave it here for good. An answer stops the timer.
    pub(crate) fn relay(
        &self,
        mut relayed: super::relay::Relayed,
        runtime: &Handle,
        deadline: Instant,
    ) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let waiting = Arc::downgrade(&self.waiting);
        // Registered before the lock is let go: the timer, which takes
        // the lock, finds the caller even if its deadline has passed.
        let mut registered = self.waiting.lock();
        let timer = runtime.spawn(async move {
            tokio::time::sleep_until(deadline).await;
            if let Some(waiting) = waiting.upgrade() {
                expire(&waiting, id);
            }
        });
        relayed.watched_by(timer.abort_handle());
        registered.insert(id, Waiter::Relayed(relayed));
        id
    }

    /// How many asks wait for an answer from another node.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.waiting.lock().len()
    }
}

/// Tells the caller of relayed ask `id`, if it still waits, that no
/// answer came in time, and forgets it. An ask of a task of this node is
/// left to the task's own timeout.
fn expire(waiting: &Mutex<HashMap<u64, Waiter>>, id: u64) {
    let expired = {
        let mut waiting = waiting.lock();
        match waiting.get(&id) {
            Some(Waiter::Relayed(_)) => waiting.remove(&id),
            _ => None,
        }
    };
    if let Some(Waiter::Relayed(relayed)) = expired {
        relayed.time_out();
    }
}

/// Asks `to`, whose shard runs on `owner`, with `payload`, and returns
/// the reply as MessagePack.
pub(crate) async fn ask_remote(
    shared: &Shared,
    owner: &NodeId,
    to: Address,
    payload: Payload,
    durable: bool,
    timeout: Duration,
) -> Result<Vec<u8>, AskError> {
    let failed = |reason: String| AskError::Remote {
        address: to.clone(),
        node: owner.to_string(),
        reason,
    };
    let message = shared
        .blueprint
        .registry
        .get(to.function())
        .and_then(|function| function.message_name(payload.type_id_of_value()))
        .ok_or_else(|| {
            AskError::Send(cairn_core::Error::Config(format!(
                "`{}` is not a message of `{}`",
                payload.type_name(),
                to.function()
            )))
        })?;
    let body = payload
        .to_msgpack()
        .map_err(|error| failed(error.to_string()))?;
    drop(payload);
    let message = StoredMessage {
        to: to.clone(),
        from: None,
        message: message.to_owned(),
        body,
    };
    request_fits(&message, shared.max_payload).map_err(AskError::Send)?;
    let asks = &shared.asks;
    let id = asks.next.fetch_add(1, Ordering::Relaxed);
    let (reply_tx, reply) = oneshot::channel();
    asks.waiting.lock().insert(id, Waiter::Task(reply_tx));
    send_request(shared, owner, id, message, durable, timeout);
    // A little beyond the owner's own timeout, so its answer wins.
    let outcome = tokio::time::timeout(timeout + Duration::from_secs(1), reply).await;
    asks.waiting.lock().remove(&id);
    match outcome {
        Ok(Ok(reply)) => reply.map_err(failed),
        Ok(Err(_)) => Err(failed("the node stopped".into())),
        Err(_) => Err(AskError::Timeout {
            address: to,
            timeout,
        }),
    }
}

/// Sends ask `id` of `message` to `owner`, naming the owner's life this
/// node knows, so that a later life does not handle it.
pub(crate) fn send_request(
    shared: &Shared,
    owner: &NodeId,
    id: u64,
    message: StoredMessage,
    durable: bool,
    timeout: Duration,
) {
    shared.send(
        owner,
        Control::Ask(AskRequest {
            id,
            asker: shared.transport.incarnation(),
            owner: shared
                .membership
                .view()
                .member(owner)
                .map(|member| member.incarnation),
            to: message.to,
            message: message.message,
            body: message.body,
            durable,
            timeout_ms: timeout.as_millis() as u64,
        }),
    );
}

/// Asks, on this node, the actor of a forwarded `request` from `asker`,
/// and sends the answer back. A plain ask is answered from the shard's
/// thread, straight onto the transport, without a task of its own (it
/// would cost two more hand-offs between threads on every ask); a durable
/// one waits for its epoch on a task.
pub(crate) fn answer(shared: Arc<Shared>, asker: NodeId, request: AskRequest) {
    let (id, incarnation) = (request.id, request.asker);
    let reply_to = move |shared: &Shared, reply: Answer| {
        let reply = fitting(reply, shared.max_payload);
        shared.send(
            &asker,
            Control::Answer {
                id,
                asker: incarnation,
                reply: reply.map(serde_bytes::ByteBuf::from),
            },
        );
    };
    if request
        .owner
        .is_some_and(|owner| owner != shared.transport.incarnation())
    {
        let reason = "the ask was meant for an earlier life of this node; ask again";
        return reply_to(&shared, Err(reason.to_owned()));
    }
    let (runtime, payload) = match prepare(&shared, &request) {
        Ok(prepared) => prepared,
        Err(reason) => return reply_to(&shared, Err(reason)),
    };
    if request.durable {
        tokio::spawn(async move {
            let timeout = Duration::from_millis(request.timeout_ms);
            let reply = runtime
                .ask_durable_payload(request.to, payload, timeout)
                .await;
            reply_to(&shared, encode_reply(reply));
        });
    } else {
        let answering = shared.clone();
        runtime.ask_then(request.to, payload, move |reply| {
            reply_to(&answering, encode_reply(reply))
        });
    }
}

/// The runtime to ask and the request's message, decoded.
fn prepare(shared: &Shared, request: &AskRequest) -> Result<(Runtime, Payload), String> {
    let payload = shared
        .blueprint
        .registry
        .get(request.to.function())
        .and_then(|function| function.message(&request.message))
        .ok_or_else(|| {
            format!(
                "`{}` has no message `{}`",
                request.to.function(),
                request.message
            )
        })?
        .decode_msgpack(&request.body)
        .map_err(|error| error.to_string())?;
    let runtime = shared
        .current_runtime()
        .ok_or("the node is not running yet")?;
    Ok((runtime, payload))
}

/// Room an ask or an answer takes besides its body and its address (its
/// id, its asker, its flags and the names of its fields), with room to
/// spare.
const CONTROL_FRAMING: usize = 256;

/// Whether the ask of `message` fits in one frame of `max_payload` bytes.
pub(crate) fn request_fits(message: &StoredMessage, max_payload: usize) -> Result<(), Error> {
    let max = max_payload.saturating_sub(
        CONTROL_FRAMING
            + message.to.function().name().len()
            + message.to.id().as_str().len()
            + message.message.len(),
    );
    match message.body.len() {
        size if size > max => Err(Error::MessageTooLarge { size, max }),
        _ => Ok(()),
    }
}

/// `reply`, made to travel back in one frame of `max_payload` bytes: a
/// reply too large becomes the reason the caller gets none, and a reason
/// too large (a panic's message, say) is cut short.
fn fitting(reply: Answer, max_payload: usize) -> Answer {
    let max = max_payload.saturating_sub(CONTROL_FRAMING);
    match reply {
        Ok(bytes) if bytes.len() > max => {
            let error = Error::MessageTooLarge {
                size: bytes.len(),
                max,
            };
            Err(format!("the reply cannot travel back: {error}"))
        }
        Err(mut reason) if reason.len() > max => {
            const CUT: &str = " […]";
            let mut end = max.saturating_sub(CUT.len());
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
            reason.push_str(CUT);
            Err(reason)
        }
        other => other,
    }
}

/// A reply as MessagePack, or why there is none.
fn encode_reply(reply: Result<Payload, AskError>) -> Answer {
    reply
        .map_err(|error| error.to_string())?
        .to_msgpack()
        .map_err(|error| error.to_string())
}

/// A reply in MessagePack as a payload: typed as `R` if given, else as
/// JSON-like data (for callers that only render it, such as HTTP).
pub(crate) fn decode_reply(bytes: &[u8]) -> Result<Payload, String> {
    rmp_serde::from_slice::<ForwardedReply>(bytes)
        .map(Payload::new)
        .map_err(|error| format!("the reply does not decode: {error}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cairn_core::FunctionType;
    use parking_lot::Mutex;

    use super::super::relay::Relayed;
    use super::*;
    use crate::transport::Incarnation;

    const ECHO: FunctionType = FunctionType::from_static("test/relayed-echo");

    /// The outcomes relayed callers were handed, in order.
    type Outcomes = Arc<Mutex<Vec<Result<Vec<u8>, AskError>>>>;

    /// A relayed caller whose outcome lands in `outcome`.
    fn caller(outcome: &Outcomes) -> Relayed {
        let outcome = outcome.clone();
        Relayed::new(
            Address::new(ECHO, "a"),
            NodeId::new("127.0.0.2:7000"),
            Duration::from_secs(30),
            move |answer| outcome.lock().push(answer),
        )
    }

    /// The payload limit the size checks are tested against.
    const MAX_PAYLOAD: usize = 4096;

    /// The control message that asks `message`, its numbers their largest.
    fn ask_of(message: StoredMessage) -> Control {
        Control::Ask(AskRequest {
            id: u64::MAX,
            asker: Incarnation(u64::MAX),
            owner: Some(Incarnation(u64::MAX)),
            to: message.to,
            message: message.message,
            body: message.body,
            durable: true,
            timeout_ms: u64::MAX,
        })
    }

    /// The control message that answers with `reply`, its numbers their
    /// largest.
    fn answer_of(reply: Answer) -> Control {
        Control::Answer {
            id: u64::MAX,
            asker: Incarnation(u64::MAX),
            reply: reply.map(serde_bytes::ByteBuf::from),
        }
    }

    /// The largest ask `request_fits` lets through encodes within the
    /// payload limit; one byte more is refused.
    #[test]
    fn an_ask_fits_up_to_its_limit_and_not_a_byte_more() {
        let message = |body_len: usize| StoredMessage {
            to: Address::new(ECHO, "an-actor-with-a-fairly-long-id-0123456789"),
            from: None,
            message: "test/a-message-with-a-long-name".to_owned(),
            body: vec![0xc0; body_len],
        };
        let largest = (0..MAX_PAYLOAD)
            .rev()
            .find(|len| request_fits(&message(*len), MAX_PAYLOAD).is_ok())
            .expect("a small ask fits");
        assert!(ask_of(message(largest)).encode().len() <= MAX_PAYLOAD);
        assert!(matches!(
            request_fits(&message(largest + 1), MAX_PAYLOAD),
            Err(Error::MessageTooLarge { size, max }) if size == largest + 1 && max == largest
        ));
    }

    /// A reply up to the limit travels as it is, and encodes within it; a
    /// larger one becomes a reason that says so; a reason too long (of
    /// multi-byte characters) is cut short on a character boundary.
    #[test]
    fn an_answer_always_fits() {
        let max = MAX_PAYLOAD - CONTROL_FRAMING;
        let reply = fitting(Ok(vec![7; max]), MAX_PAYLOAD);
        assert_eq!(reply.as_ref().map(Vec::len), Ok(max));
        assert!(answer_of(reply).encode().len() <= MAX_PAYLOAD);

        let reply = fitting(Ok(vec![7; max + 1]), MAX_PAYLOAD);
        let reason = reply.clone().unwrap_err();
        assert!(reason.contains("cannot travel back"), "{reason}");
        assert!(answer_of(reply).encode().len() <= MAX_PAYLOAD);

        let reply = fitting(Err("é".repeat(MAX_PAYLOAD)), MAX_PAYLOAD);
        let reason = reply.clone().unwrap_err();
        assert!(reason.ends_with(" […]"), "{reason}");
        assert!(reason.len() <= max);
        assert!(answer_of(reply).encode().len() <= MAX_PAYLOAD);
    }

    /// Pending asks holding one relayed ask, due in 31 s, its outcomes,
    /// and its id.
    fn one_relayed_ask() -> (PendingAsks, Outcomes, u64) {
        let asks = PendingAsks::default();
        let outcome = Outcomes::default();
        let deadline = Instant::now() + Duration::from_secs(31);
        let id = asks.relay(caller(&outcome), &Handle::current(), deadline);
        (asks, outcome, id)
    }

    /// A relayed ask that no answer reaches is answered `Timeout` by its
    /// timer at its deadline, not before, and forgotten; a late answer
    /// finds nobody.
    #[tokio::test(start_paused = true)]
    async fn an_unanswered_relayed_ask_times_out_at_its_deadline() {
        let (asks, outcome, id) = one_relayed_ask();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(outcome.lock().is_empty(), "answered before its deadline");
        assert_eq!(asks.waiting(), 1);

        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(asks.waiting(), 0, "the expired caller is forgotten");
        {
            let outcome = outcome.lock();
            assert!(
                matches!(outcome.as_slice(), [Err(AskError::Timeout { timeout, .. })] if *timeout == Duration::from_secs(30)),
                "{outcome:?}"
            );
        }
        asks.complete(id, Ok(vec![8]));
        assert_eq!(outcome.lock().len(), 1, "answered once");
    }

    /// An answer that comes first is the caller's only one: the timer
    /// does not answer again at the deadline.
    #[tokio::test(start_paused = true)]
    async fn an_answered_relayed_ask_is_not_timed_out() {
        let (asks, outcome, id) = one_relayed_ask();
        asks.complete(id, Ok(vec![7]));
        assert_eq!(asks.waiting(), 0);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let outcome = outcome.lock();
        assert!(
            matches!(outcome.as_slice(), [Ok(reply)] if reply == &[7]),
            "{outcome:?}"
        );
    }

    /// Expiry leaves the asks of this node's own tasks to their timeouts.
    #[test]
    fn expiry_leaves_a_task_waiting() {
        let asks = PendingAsks::default();
        let (task, mut reply) = oneshot::channel();
        asks.waiting.lock().insert(41, Waiter::Task(task));
        expire(&asks.waiting, 41);
        assert_eq!(asks.waiting(), 1);
        assert!(reply.try_recv().is_err(), "the task is not answered");
    }
}
