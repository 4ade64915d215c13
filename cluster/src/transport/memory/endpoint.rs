//! [`MemoryTransport`]: one node's endpoint on a [`MemoryNetwork`]. A
//! driver task owns the node's links; the handle sends it commands.
//!
//! With no connections to carry them, the incarnation and generation
//! travel on every datagram (SNAPSHOTS §3.1 rule 1): a datagram of an
//! older incarnation of a known peer, addressed to an earlier incarnation
//! of this node, or of a lower generation is dropped. So do the link ids
//! (see `link`): a datagram of an older link of the peer is dropped, one
//! made for an earlier link of this node is answered with a `Resume` that
//! tells the sender which link is here now, and one from a newer link of
//! the peer resets this side's channels to it.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::time::DelayQueue;

use crate::transport::codec::FrameCodec;
use crate::transport::config::TransportConfig;
use crate::transport::error::{Refusal, TransportError};
use crate::transport::events::{Delivery, Events, TransportEvent};
use crate::transport::identity::{ChannelId, Generation, Incarnation, NodeId};
use crate::transport::link::{IncarnationCheck, Link, LinkCheck, LinkId, Remembered};
use crate::transport::metrics::{refused_counter, WireCounters};
use crate::transport::wire::Frame;
use crate::transport::Transport;

use super::network::{Datagram, Inbound, MemoryNetwork};

/// What the handle asks of the driver.
enum Command {
    Send(NodeId, ChannelId, Bytes),
    AddPeer(NodeId),
    RemovePeer(NodeId, Incarnation),
    SetGeneration(Generation),
}

struct Handle {
    node: NodeId,
    incarnation: Incarnation,
    max_payload: usize,
    commands: mpsc::UnboundedSender<Command>,
    cancel: CancellationToken,
    driver: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A node's endpoint on a [`MemoryNetwork`]. Cheap to clone.
#[derive(Clone)]
pub struct MemoryTransport {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTransport")
            .field("node", &self.handle.node)
            .field("incarnation", &self.handle.incarnation)
            .finish_non_exhaustive()
    }
}

impl MemoryTransport {
    pub(super) fn start(
        network: MemoryNetwork,
        node: NodeId,
        config: TransportConfig,
        inbound: mpsc::UnboundedReceiver<Inbound>,
    ) -> (Self, Events) {
        let (events_tx, events) = Events::channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let counters = WireCounters::new(&node);
        let driver = Driver {
            codec: FrameCodec::new(config.max_frame, counters),
            node: node.clone(),
            incarnation: config.incarnation,
            generation: config.generation,
            links: HashMap::new(),
            remembered: HashMap::new(),
            next_link: 1,
            events: events_tx,
            network,
            delayed: DelayQueue::new(),
            config: config.clone(),
        };
        let task = tokio::spawn(driver.run(commands_rx, inbound, cancel.clone()));
        let handle = Handle {
            node,
            incarnation: config.incarnation,
            max_payload: config.max_payload(),
            commands,
            cancel,
            driver: Mutex::new(Some(task)),
        };
        (
            Self {
                handle: Arc::new(handle),
            },
            events,
        )
    }

    fn command(&self, command: Command) -> Result<(), TransportError> {
        self.handle
            .commands
            .send(command)
            .map_err(|_| TransportError::Closed)
    }
}

impl Transport for MemoryTransport {
    fn local_node(&self) -> &NodeId {
        &self.handle.node
    }

    fn incarnation(&self) -> Incarnation {
        self.handle.incarnation
    }

    fn add_peer(&self, peer: NodeId) {
        // A stopped endpoint has no peers to add.
        let _ = self.command(Command::AddPeer(peer));
    }

    fn remove_peer(&self, peer: &NodeId, life: Incarnation) {
        let _ = self.command(Command::RemovePeer(peer.clone(), life));
    }

    fn send(
        &self,
        peer: &NodeId,
        channel: ChannelId,
        payload: Bytes,
    ) -> Result<(), TransportError> {
        if *peer == self.handle.node {
            return Err(TransportError::SelfSend(peer.clone()));
        }
        if payload.len() > self.handle.max_payload {
            return Err(TransportError::PayloadTooLarge {
                size: payload.len(),
                max: self.handle.max_payload,
            });
        }
        self.command(Command::Send(peer.clone(), channel, payload))
    }

    /// The simulated network resends on a timer and holds no queue the
    /// application could overrun: it reports no backlog.
    fn backlog(&self) -> usize {
        0
    }

    fn set_generation(&self, generation: Generation) {
        let _ = self.command(Command::SetGeneration(generation));
    }

    async fn shutdown(&self) {
        self.handle.cancel.cancel();
        let driver = self.handle.driver.lock().take();
        if let Some(driver) = driver {
            // A panic in the driver is a bug; shutdown still completes.
            if let Err(error) = driver.await {
                tracing::error!(node = %self.handle.node, %error, "this is a bug: the memory transport's driver failed");
            }
        }
    }
}

/// The task that owns one endpoint's links.
struct Driver {
    node: NodeId,
    incarnation: Incarnation,
    generation: Generation,
    config: TransportConfig,
    codec: FrameCodec,
    links: HashMap<NodeId, Link>,
    /// What the links of forgotten peers had delivered, for their next.
    remembered: HashMap<NodeId, Remembered>,
    /// The id of the next link made, so a peer's next link is newer.
    next_link: u64,
    events: mpsc::UnboundedSender<TransportEvent>,
    network: MemoryNetwork,
    /// Datagrams received and not yet due.
    delayed: DelayQueue<Datagram>,
}

impl Driver {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::UnboundedReceiver<Inbound>,
        cancel: CancellationToken,
    ) {
        let mut acks = tokio::time::interval(self.config.ack_delay);
        acks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut resends = tokio::time::interval(self.config.resend_interval);
        resends.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => return,
                },
                // The network dropped this endpoint: the node restarted.
                arrived = inbound.recv() => match arrived {
                    Some(Inbound::Datagram(datagram, delay)) => {
                        self.delayed.insert(datagram, delay);
                    }
                    Some(Inbound::LinkUp(peer)) => self.link_up(peer),
                    Some(Inbound::LinkDown(peer)) => self.emit(TransportEvent::PeerDown { peer }),
                    None => return,
                },
                Some(due) = self.delayed.next(), if !self.delayed.is_empty() => {
                    self.receive(due.into_inner());
                }
                _ = acks.tick() => self.flush_acks(),
                _ = resends.tick() => self.resend(),
            }
        }
    }

    fn link(&mut self, peer: &NodeId) -> &mut Link {
        let (window, carry_over) = (
            self.config.reorder_window,
            self.config.carry_over_on_restart,
        );
        let (next_link, remembered) = (&mut self.next_link, &self.remembered);
        self.links.entry(peer.clone()).or_insert_with(|| {
            let mut link = Link::new(LinkId(*next_link), window, carry_over);
            *next_link += 1;
            if let Some(remembered) = remembered.get(peer) {
                link.resume_from(remembered.clone());
            }
            link
        })
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Send(peer, channel, payload) => {
                let frame = self.link(&peer).push(channel, payload);
                self.transmit(&peer, &frame);
            }
            Command::AddPeer(peer) => {
                if !self.links.contains_key(&peer) {
                    self.link(&peer);
                    self.link_up(peer);
                }
            }
            Command::RemovePeer(peer, life) => {
                let later = self
                    .links
                    .get(&peer)
                    .and_then(Link::peer_incarnation)
                    .is_some_and(|known| known > life);
                if !later {
                    if let Some(remembered) = self.links.remove(&peer).and_then(|l| l.remembered())
                    {
                        self.remembered.insert(peer, remembered);
                    }
                }
            }
            Command::SetGeneration(generation) => {
                self.generation = self.generation.max(generation);
            }
        }
    }

    /// A link came up: tells the peer what was delivered, so it resends
    /// the rest at once (rather than at its next resend tick).
    fn link_up(&mut self, peer: NodeId) {
        let link = self.link(&peer);
        let delivered = link.delivered();
        if let Some(incarnation) = link.peer_incarnation() {
            self.emit(TransportEvent::PeerUp {
                peer: peer.clone(),
                incarnation,
                generation: self.generation,
            });
        }
        self.transmit(&peer, &Frame::Resume { delivered });
    }

    fn transmit(&mut self, peer: &NodeId, frame: &Frame) {
        let bytes = match self.codec.encode_datagram(frame) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(node = %self.node, %peer, %error, "this is a bug: a checked frame does not encode");
                return;
            }
        };
        let link = self.link(peer);
        let (to_incarnation, links) = (link.peer_incarnation(), link.ids());
        let datagram = Datagram {
            from: self.node.clone(),
            from_incarnation: self.incarnation,
            to_incarnation,
            links,
            generation: self.generation,
            bytes,
        };
        self.network.transmit(peer, datagram);
    }

    fn receive(&mut self, datagram: Datagram) {
        if datagram
            .to_incarnation
            .is_some_and(|to| to != self.incarnation)
        {
            // Sent to this node's previous life: tell the sender who is
            // here now, or it would go on sending into the void while this
            // node has nothing to send it (its own first word may have
            // been lost).
            let delivered = self.link(&datagram.from).delivered();
            self.transmit(&datagram.from, &Frame::Resume { delivered });
            return;
        }
        if datagram.generation < self.generation {
            return; // A stale node's frame (SNAPSHOTS §3.9).
        }
        let frame = match self.codec.decode_datagram(&datagram.bytes) {
            Ok(frame) => frame,
            Err(error) => {
                self.refuse(&datagram.from, Refusal::Malformed, &error.to_string());
                return;
            }
        };
        let peer = datagram.from;
        let generation = datagram.generation;
        match self.link(&peer).observe(datagram.from_incarnation) {
            IncarnationCheck::Stale { .. } => return,
            IncarnationCheck::First => self.emit(TransportEvent::PeerUp {
                peer: peer.clone(),
                incarnation: datagram.from_incarnation,
                generation,
            }),
            IncarnationCheck::Restarted { previous } => {
                self.emit(TransportEvent::PeerRestarted {
                    peer: peer.clone(),
                    previous,
                    current: datagram.from_incarnation,
                });
            }
            IncarnationCheck::Same => {}
        }
        match self.link(&peer).observe_link(datagram.links.own) {
            LinkCheck::Stale => return,
            LinkCheck::Reset => self.emit(TransportEvent::LinkReset { peer: peer.clone() }),
            LinkCheck::First | LinkCheck::Same => {}
        }
        if datagram.links.peer.is_some() && !self.link(&peer).addressed_by(datagram.links) {
            // Made for an earlier link of this node: its sequence numbers
            // and acknowledgements mean nothing to this one. Tell the
            // sender which link is here, so it resets its side.
            let delivered = self.link(&peer).delivered();
            self.transmit(&peer, &Frame::Resume { delivered });
            return;
        }
        match frame {
            Frame::Data {
                channel,
                seq,
                payload,
            } => {
                for (seq, payload) in self.link(&peer).receive(channel, seq, payload) {
                    self.emit(TransportEvent::Message(Delivery {
                        from: peer.clone(),
                        channel,
                        seq,
                        payload,
                    }));
                }
            }
            Frame::Ack { through } => self.link(&peer).acknowledged(&through),
            Frame::Resume { delivered } => {
                for frame in self.link(&peer).resume(&delivered) {
                    self.transmit(&peer, &frame);
                }
            }
            other => {
                let detail = format!("{} frame on the in-memory network", other.kind());
                self.refuse(&peer, Refusal::Protocol, &detail);
            }
        }
    }

    fn flush_acks(&mut self) {
        let acks: Vec<_> = self
            .links
            .iter_mut()
            .filter_map(|(peer, link)| link.take_ack().map(|ack| (peer.clone(), ack)))
            .collect();
        for (peer, ack) in acks {
            self.transmit(&peer, &ack);
        }
    }

    fn resend(&mut self) {
        let window = usize::try_from(self.config.reorder_window).unwrap_or(usize::MAX);
        let frames: Vec<_> = self
            .links
            .iter()
            .flat_map(|(peer, link)| {
                link.unacked(window)
                    .into_iter()
                    .map(move |frame| (peer.clone(), frame))
            })
            .collect();
        for (peer, frame) in frames {
            self.transmit(&peer, &frame);
        }
    }

    fn refuse(&self, peer: &NodeId, reason: Refusal, detail: &str) {
        tracing::warn!(node = %self.node, %peer, %reason, %detail, "frame refused");
        refused_counter(&self.node, reason).increment(1);
    }

    fn emit(&self, event: TransportEvent) {
        let _ = self.events.send(event);
    }
}
