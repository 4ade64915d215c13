//! The state a TCP transport's tasks share: one [`Link`] per peer, the
//! connection currently attached to it, and the dialers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::transport::auth;
use crate::transport::config::TransportConfig;
use crate::transport::error::{Refusal, TransportError};
use crate::transport::events::{Delivery, TransportEvent};
use crate::transport::identity::{ChannelId, Generation, Incarnation, NodeId};
use crate::transport::link::{IncarnationCheck, Link, LinkCheck, LinkId, LinkIds, Remembered};
use crate::transport::metrics::{refused_counter, WireCounters};
use crate::transport::wire::{Delivered, Frame, Hello, WIRE_VERSION};

/// The connection carrying a peer's frames right now.
struct Attached {
    id: u64,
    tx: mpsc::UnboundedSender<Frame>,
    cancel: CancellationToken,
}

/// One peer.
struct Peer {
    link: Link,
    conn: Option<Attached>,
    /// Set when this node dials the peer.
    dialer: Option<CancellationToken>,
    /// The generation the peer presented last.
    generation: Generation,
    /// Whether a connection was ever attached, to count reconnects.
    connected_before: bool,
}

/// A connection once attached: its id, the frames to write, and the token
/// that closes it.
pub(crate) struct Attachment {
    pub(crate) id: u64,
    pub(crate) rx: mpsc::UnboundedReceiver<Frame>,
    pub(crate) cancel: CancellationToken,
}

/// Everything the handle and the tasks of one TCP transport share.
pub(crate) struct Shared {
    pub(crate) config: TransportConfig,
    pub(crate) local: NodeId,
    generation: AtomicU64,
    peers: Mutex<HashMap<NodeId, Peer>>,
    /// What the links of forgotten peers had delivered, for their next
    /// links (locked only under `peers`).
    remembered: Mutex<HashMap<NodeId, Remembered>>,
    events: mpsc::UnboundedSender<TransportEvent>,
    pub(crate) cancel: CancellationToken,
    tasks: Mutex<Option<JoinSet<()>>>,
    pub(crate) counters: WireCounters,
    next_conn: AtomicU64,
    /// The id of the next link made, so a peer's next link is newer.
    next_link: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        config: TransportConfig,
        local: NodeId,
        events: mpsc::UnboundedSender<TransportEvent>,
    ) -> Self {
        let counters = WireCounters::new(&local);
        Self {
            generation: AtomicU64::new(config.generation.0),
            config,
            local,
            peers: Mutex::new(HashMap::new()),
            remembered: Mutex::new(HashMap::new()),
            events,
            cancel: CancellationToken::new(),
            tasks: Mutex::new(Some(JoinSet::new())),
            counters,
            next_conn: AtomicU64::new(0),
            next_link: AtomicU64::new(1),
        }
    }

    pub(crate) fn incarnation(&self) -> Incarnation {
        self.config.incarnation
    }

    pub(crate) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    pub(crate) fn raise_generation(&self, generation: Generation) {
        self.generation.fetch_max(generation.0, Ordering::AcqRel);
    }

    /// This node's hello for a new handshake.
    pub(crate) fn hello(&self) -> Hello {
        Hello {
            wire_version: WIRE_VERSION,
            cluster_id: self.config.cluster_id.clone(),
            node: self.local.clone(),
            incarnation: self.incarnation(),
            generation: self.generation(),
            nonce: auth::nonce(),
        }
    }

    /// Runs `task` until it ends or the transport shuts down; it is
    /// awaited at shutdown. Does nothing once shut down.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let cancel = self.cancel.clone();
        let mut tasks = self.tasks.lock();
        if let Some(tasks) = tasks.as_mut() {
            while tasks.try_join_next().is_some() {}
            tasks.spawn(async move {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = task => {}
                }
            });
        }
    }

    /// Cancels every task and waits for them.
    pub(crate) async fn shutdown(&self) {
        self.cancel.cancel();
        let tasks = self.tasks.lock().take();
        if let Some(mut tasks) = tasks {
            while tasks.join_next().await.is_some() {}
        }
        self.peers.lock().clear();
        self.remembered.lock().clear();
    }

    /// Makes `peer` known. Returns a dialer token when this node must
    /// start dialing it (it has the lower id and was not dialing yet).
    pub(crate) fn add_peer(&self, peer: &NodeId) -> Option<CancellationToken> {
        if *peer == self.local || self.cancel.is_cancelled() {
            return None;
        }
        let mut peers = self.peers.lock();
        let entry = peers
            .entry(peer.clone())
            .or_insert_with(|| self.new_peer(peer));
        if self.local < *peer && entry.dialer.is_none() {
            let token = self.cancel.child_token();
            entry.dialer = Some(token.clone());
            return Some(token);
        }
        None
    }

    /// A new link to `peer`, going on from what a forgotten one had
    /// delivered, if any.
    fn new_peer(&self, peer: &NodeId) -> Peer {
        let mut link = Link::new(
            LinkId(self.next_link.fetch_add(1, Ordering::Relaxed)),
            self.config.reorder_window,
            self.config.carry_over_on_restart,
        );
        if let Some(remembered) = self.remembered.lock().get(peer) {
            link.resume_from(remembered.clone());
        }
        Peer {
            link,
            conn: None,
            dialer: None,
            generation: Generation::default(),
            connected_before: false,
        }
    }

    /// Forgets `peer` if the link is with its life `life` or an earlier
    /// one (or with none yet): a later life that already connected stays.
    pub(crate) fn remove_peer(&self, peer: &NodeId, life: Incarnation) {
        let mut peers = self.peers.lock();
        let later = peers
            .get(peer)
            .and_then(|entry| entry.link.peer_incarnation())
            .is_some_and(|known| known > life);
        if later {
            return;
        }
        if let Some(removed) = peers.remove(peer) {
            if let Some(remembered) = removed.link.remembered() {
                self.remembered.lock().insert(peer.clone(), remembered);
            }
            if let Some(dialer) = removed.dialer {
                dialer.cancel();
            }
            if let Some(conn) = removed.conn {
                conn.cancel.cancel();
            }
        }
    }

    /// Frames sent and not yet acknowledged, over every peer.
    pub(crate) fn backlog(&self) -> usize {
        self.peers
            .lock()
            .values()
            .map(|peer| peer.link.unacked_len())
            .sum()
    }

    /// Queues a payload for a known peer.
    pub(crate) fn send(
        &self,
        peer: &NodeId,
        channel: ChannelId,
        payload: Bytes,
    ) -> Result<(), TransportError> {
        if self.cancel.is_cancelled() {
            return Err(TransportError::Closed);
        }
        if *peer == self.local {
            return Err(TransportError::SelfSend(peer.clone()));
        }
        let max = self.config.max_payload();
        if payload.len() > max {
            return Err(TransportError::PayloadTooLarge {
                size: payload.len(),
                max,
            });
        }
        let mut peers = self.peers.lock();
        let entry = peers.get_mut(peer).ok_or(TransportError::Closed)?;
        let frame = entry.link.push(channel, payload);
        if let Some(conn) = &entry.conn {
            // A closed connection leaves the frame unacknowledged: it is
            // sent again on the next one.
            let _ = conn.tx.send(frame);
        }
        Ok(())
    }

    /// Whether a connection to `peer` is attached.
    pub(crate) fn is_connected(&self, peer: &NodeId) -> bool {
        self.peers
            .lock()
            .get(peer)
            .is_some_and(|entry| entry.conn.is_some())
    }

    /// Closes the connection to `peer`, if any; the dialing side redials.
    pub(crate) fn disconnect(&self, peer: &NodeId) {
        if let Some(conn) = self.peers.lock().get(peer).and_then(|p| p.conn.as_ref()) {
            conn.cancel.cancel();
        }
    }

    /// Checks an authenticated peer's incarnation and generation.
    pub(crate) fn admit(&self, hello: &Hello) -> Result<(), Refusal> {
        if hello.generation < self.generation() {
            return Err(Refusal::StaleGeneration);
        }
        let mut peers = self.peers.lock();
        let entry = peers
            .entry(hello.node.clone())
            .or_insert_with(|| self.new_peer(&hello.node));
        match entry.link.observe(hello.incarnation) {
            IncarnationCheck::Stale { .. } => return Err(Refusal::StaleIncarnation),
            IncarnationCheck::Restarted { previous } => {
                if let Some(conn) = entry.conn.take() {
                    conn.cancel.cancel();
                }
                self.emit(TransportEvent::PeerRestarted {
                    peer: hello.node.clone(),
                    previous,
                    current: hello.incarnation,
                });
            }
            IncarnationCheck::First | IncarnationCheck::Same => {}
        }
        entry.generation = hello.generation;
        Ok(())
    }

    /// This node's link ids to an admitted `peer` and what it delivered
    /// from it; `None` if the peer was forgotten meanwhile.
    pub(crate) fn link_state(&self, peer: &NodeId) -> Option<(LinkIds, Delivered)> {
        let peers = self.peers.lock();
        let entry = peers.get(peer)?;
        Some((entry.link.ids(), entry.link.delivered()))
    }

    /// Takes an admitted peer's link ids (see [`Link::observe_link`]):
    /// returns this node's link ids and delivered map, after any reset,
    /// and whether the peer's delivered map was made for this link.
    pub(crate) fn join_link(
        &self,
        peer: &NodeId,
        peer_link: LinkIds,
    ) -> Result<(LinkIds, Delivered, bool), Refusal> {
        let mut peers = self.peers.lock();
        let entry = peers.get_mut(peer).ok_or(Refusal::Protocol)?;
        match entry.link.observe_link(peer_link.own) {
            LinkCheck::Stale => return Err(Refusal::StaleLink),
            LinkCheck::Reset => {
                // Frames still read on the old link's connection would be
                // taken for the new link's.
                if let Some(conn) = entry.conn.take() {
                    conn.cancel.cancel();
                }
                self.emit(TransportEvent::LinkReset { peer: peer.clone() });
            }
            LinkCheck::First | LinkCheck::Same => {}
        }
        let counts = entry.link.addressed_by(peer_link);
        Ok((entry.link.ids(), entry.link.delivered(), counts))
    }

    /// Makes a handshaken connection the one carrying `peer`'s frames,
    /// closing the previous one, and queues on it every frame the peer
    /// has not delivered.
    pub(crate) fn attach(&self, peer: &NodeId, peer_delivered: &Delivered) -> Option<Attachment> {
        let mut peers = self.peers.lock();
        let entry = peers.get_mut(peer)?;
        let incarnation = entry.link.peer_incarnation()?;
        if let Some(old) = entry.conn.take() {
            old.cancel.cancel();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        for frame in entry.link.resume(peer_delivered) {
            let _ = tx.send(frame);
        }
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let cancel = self.cancel.child_token();
        entry.conn = Some(Attached {
            id,
            tx,
            cancel: cancel.clone(),
        });
        if entry.connected_before {
            self.counters.reconnects.increment(1);
        }
        entry.connected_before = true;
        self.emit(TransportEvent::PeerUp {
            peer: peer.clone(),
            incarnation,
            generation: entry.generation,
        });
        Some(Attachment { id, rx, cancel })
    }

    /// The connection `id` to `peer` has ended.
    pub(crate) fn detach(&self, peer: &NodeId, id: u64) {
        let mut peers = self.peers.lock();
        if let Some(entry) = peers.get_mut(peer) {
            if entry.conn.as_ref().is_some_and(|conn| conn.id == id) {
                entry.conn = None;
                self.emit(TransportEvent::PeerDown { peer: peer.clone() });
            }
        }
    }

    /// Takes a frame read on connection `id`; returns whether an
    /// acknowledgement is now due. Frames of a replaced connection are
    /// dropped: they are sent again on the current one.
    pub(crate) fn on_frame(&self, peer: &NodeId, id: u64, frame: Frame) -> Result<bool, Refusal> {
        let mut peers = self.peers.lock();
        let Some(entry) = peers.get_mut(peer) else {
            return Ok(false);
        };
        if entry.conn.as_ref().is_none_or(|conn| conn.id != id) {
            return Ok(false);
        }
        match frame {
            Frame::Data {
                channel,
                seq,
                payload,
            } => {
                for (seq, payload) in entry.link.receive(channel, seq, payload) {
                    self.emit(TransportEvent::Message(Delivery {
                        from: peer.clone(),
                        channel,
                        seq,
                        payload,
                    }));
                }
                Ok(true)
            }
            Frame::Ack { through } => {
                entry.link.acknowledged(&through);
                Ok(false)
            }
            _ => Err(Refusal::Protocol),
        }
    }

    /// The acknowledgements due to `peer`, if connection `id` is current.
    pub(crate) fn take_ack(&self, peer: &NodeId, id: u64) -> Option<Frame> {
        let mut peers = self.peers.lock();
        let entry = peers.get_mut(peer)?;
        if entry.conn.as_ref().is_none_or(|conn| conn.id != id) {
            return None;
        }
        entry.link.take_ack()
    }

    /// Logs and counts a refused or badly behaved connection.
    pub(crate) fn refused(&self, remote: &str, reason: Refusal, detail: &str) {
        tracing::warn!(node = %self.local, %remote, %reason, %detail, "cluster connection refused");
        refused_counter(&self.local, reason).increment(1);
    }

    fn emit(&self, event: TransportEvent) {
        // Nobody listening is not an error: the application may not read
        // events, or may be shutting down.
        let _ = self.events.send(event);
    }
}
