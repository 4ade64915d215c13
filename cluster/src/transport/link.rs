//! The reliable channels to one peer, sans I/O: sequence numbers,
//! in-order delivery, duplicate suppression, cumulative acknowledgements
//! and the unacknowledged frames to send again (SNAPSHOTS §3.1 rule 2).
//!
//! Both transports drive this state: TCP resends the unacknowledged
//! frames when a connection is re-established, the in-memory transport
//! also on a timer, since its datagrams may be lost.
//!
//! A link is one *life* of a node's relation to a peer, named by a
//! [`LinkId`]: forgetting a peer (`remove_peer`) ends the link, and the
//! next one numbers its outgoing channels from 1 again under a newer id.
//! Each side tells the other its link id and the one it knows of the
//! other's (in the handshake, or on every datagram), so a peer that forgot
//! this node — while this node went on, as after an asymmetric partition
//! in which only the peer declared it dead — is noticed: this side forgets
//! what came from the peer's old link, since the new one numbers from 1
//! ([`LinkCheck::Reset`]). Its own outgoing numbering goes on: the
//! forgetting side [`Remembered`] what it had delivered on each channel
//! and starts its new link from there, so what it had delivered is not
//! delivered again and what it had not is sent again, exactly once.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use bytes::Bytes;

use serde::{Deserialize, Serialize};

use super::identity::{ChannelId, Incarnation};
use super::wire::{Delivered, Frame};

/// What a peer's incarnation means for the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IncarnationCheck {
    /// The first incarnation seen of this peer.
    First,
    /// The incarnation already known.
    Same,
    /// A newer incarnation: the peer restarted, and every channel was reset.
    Restarted { previous: Incarnation },
    /// An older incarnation than the one known: to be refused.
    Stale { known: Incarnation },
}

/// One life of a node's link to a peer: newer links have larger ids.
/// Only unique per node and incarnation (each transport numbers its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct LinkId(pub(crate) u64);

/// The link ids a side sends: its own, and the peer's as it knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LinkIds {
    /// The sender's link to the receiver.
    pub(crate) own: LinkId,
    /// The receiver's link as the sender knows it; `None` before the
    /// sender has heard from it.
    pub(crate) peer: Option<LinkId>,
}

/// What the peer's link id means for the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkCheck {
    /// The first link id seen of the peer since this link began.
    First,
    /// The link id already known.
    Same,
    /// The peer began a new link (it forgot this node): what came from
    /// its old link was forgotten here too.
    Reset,
    /// An older link of the peer than the one known: to be ignored.
    Stale,
}

/// What a forgotten link had received from a peer's life, so that the
/// next link to that life goes on from there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Remembered {
    incarnation: Incarnation,
    peer_link: Option<LinkId>,
    delivered: Delivered,
}

/// The sending end of one channel.
#[derive(Debug)]
struct Outgoing {
    /// The sequence number of the next message; the first is 1.
    next_seq: u64,
    /// Sent and not yet acknowledged, oldest first.
    unacked: VecDeque<(u64, Bytes)>,
}

impl Default for Outgoing {
    fn default() -> Self {
        Self {
            next_seq: 1,
            unacked: VecDeque::new(),
        }
    }
}

/// The receiving end of one channel.
#[derive(Debug, Default)]
struct Incoming {
    /// Every sequence number up to this one has been delivered.
    delivered: u64,
    /// Frames received ahead of a gap.
    ahead: BTreeMap<u64, Bytes>,
}

/// Every channel to and from one peer.
#[derive(Debug)]
pub(crate) struct Link {
    id: LinkId,
    peer_incarnation: Option<Incarnation>,
    peer_link: Option<LinkId>,
    outgoing: HashMap<ChannelId, Outgoing>,
    incoming: HashMap<ChannelId, Incoming>,
    acks_due: BTreeSet<ChannelId>,
    reorder_window: u64,
    /// Whether unacknowledged frames go to a restarted peer's new life.
    carry_over: bool,
}

impl Link {
    /// An empty link named `id`, buffering at most `reorder_window`
    /// frames ahead of a gap per channel, that drops what a restarted peer
    /// had not acknowledged, or with `carry_over` sends it to the new life
    /// (see [`TransportConfig::carry_over_on_restart`](super::TransportConfig::carry_over_on_restart)).
    pub(crate) fn new(id: LinkId, reorder_window: u64, carry_over: bool) -> Self {
        Self {
            id,
            peer_incarnation: None,
            peer_link: None,
            outgoing: HashMap::new(),
            incoming: HashMap::new(),
            acks_due: BTreeSet::new(),
            reorder_window: reorder_window.max(1),
            carry_over,
        }
    }

    /// The peer's incarnation, once seen.
    pub(crate) fn peer_incarnation(&self) -> Option<Incarnation> {
        self.peer_incarnation
    }

    /// This link's ids, to send to the peer.
    pub(crate) fn ids(&self) -> LinkIds {
        LinkIds {
            own: self.id,
            peer: self.peer_link,
        }
    }

    /// Whether the peer, sending `ids`, addresses this very link: only
    /// then do its sequence numbers, acknowledgements and delivered map
    /// refer to this link's channels.
    pub(crate) fn addressed_by(&self, ids: LinkIds) -> bool {
        ids.peer == Some(self.id)
    }

    /// What this link received from the peer, to start the next link to
    /// the same life from (`None` before the peer was heard from).
    pub(crate) fn remembered(&self) -> Option<Remembered> {
        Some(Remembered {
            incarnation: self.peer_incarnation?,
            peer_link: self.peer_link,
            delivered: self.delivered(),
        })
    }

    /// Starts this (new) link where a forgotten one to the same peer left
    /// off: its incoming channels go on from what that one delivered, as
    /// long as the peer's life and link are the ones it knew.
    pub(crate) fn resume_from(&mut self, remembered: Remembered) {
        self.peer_incarnation = Some(remembered.incarnation);
        self.peer_link = remembered.peer_link;
        for (channel, delivered) in remembered.delivered {
            self.incoming.entry(channel).or_default().delivered = delivered;
        }
    }

    /// Records the peer's link id (after [`observe`](Self::observe) of its
    /// incarnation). A newer one than known means the peer forgot this
    /// node and numbers from 1: what came from it is forgotten too, while
    /// this side's numbering goes on (the peer resumed from what it had
    /// delivered).
    pub(crate) fn observe_link(&mut self, peer: LinkId) -> LinkCheck {
        let check = match self.peer_link {
            None => LinkCheck::First,
            Some(known) if known == peer => LinkCheck::Same,
            Some(known) if known < peer => LinkCheck::Reset,
            Some(_) => LinkCheck::Stale,
        };
        match check {
            LinkCheck::First => self.peer_link = Some(peer),
            LinkCheck::Reset => {
                self.incoming.clear();
                self.acks_due.clear();
                self.peer_link = Some(peer);
            }
            LinkCheck::Same | LinkCheck::Stale => {}
        }
        check
    }

    /// What `incarnation` would mean, without changing anything.
    pub(crate) fn check(&self, incarnation: Incarnation) -> IncarnationCheck {
        match self.peer_incarnation {
            None => IncarnationCheck::First,
            Some(known) if known == incarnation => IncarnationCheck::Same,
            Some(known) if known < incarnation => IncarnationCheck::Restarted { previous: known },
            Some(known) => IncarnationCheck::Stale { known },
        }
    }

    /// Records the peer's incarnation. A newer one resets every channel:
    /// what was in flight from the old process is gone, and what was in
    /// flight to it is dropped too, or renumbered from 1 for the new one
    /// if the link carries over. A stale one changes nothing.
    pub(crate) fn observe(&mut self, incarnation: Incarnation) -> IncarnationCheck {
        let check = self.check(incarnation);
        match check {
            IncarnationCheck::First => self.peer_incarnation = Some(incarnation),
            IncarnationCheck::Restarted { .. } => {
                self.reset_channels();
                self.peer_incarnation = Some(incarnation);
                self.peer_link = None;
            }
            IncarnationCheck::Same | IncarnationCheck::Stale { .. } => {}
        }
        check
    }

    /// Starts every channel over: what came from the peer is forgotten,
    /// and what was unacknowledged to it is dropped, or renumbered from 1
    /// if the link carries over.
    fn reset_channels(&mut self) {
        let outgoing = std::mem::take(&mut self.outgoing);
        if self.carry_over {
            for (channel, out) in outgoing {
                for (_, payload) in out.unacked {
                    self.push(channel, payload);
                }
            }
        }
        self.incoming.clear();
        self.acks_due.clear();
    }

    /// Queues `payload` on `channel` and returns the frame to send.
    pub(crate) fn push(&mut self, channel: ChannelId, payload: Bytes) -> Frame {
        let out = self.outgoing.entry(channel).or_default();
        let seq = out.next_seq;
        out.next_seq += 1;
        out.unacked.push_back((seq, payload.clone()));
        Frame::Data {
            channel,
            seq,
            payload,
        }
    }

    /// Takes a received data frame; returns what is now deliverable on
    /// `channel`, in order (nothing for a duplicate or a frame past a gap).
    pub(crate) fn receive(
        &mut self,
        channel: ChannelId,
        seq: u64,
        payload: Bytes,
    ) -> Vec<(u64, Bytes)> {
        // Even a duplicate is acknowledged: the ack it answers may be lost.
        self.acks_due.insert(channel);
        let window = self.reorder_window;
        let inc = self.incoming.entry(channel).or_default();
        if seq <= inc.delivered || seq > inc.delivered.saturating_add(window) {
            return Vec::new();
        }
        inc.ahead.entry(seq).or_insert(payload);
        let mut ready = Vec::new();
        while let Some(payload) = inc.ahead.remove(&(inc.delivered + 1)) {
            inc.delivered += 1;
            ready.push((inc.delivered, payload));
        }
        ready
    }

    /// Drops what the peer has acknowledged.
    pub(crate) fn acknowledged(&mut self, through: &[(ChannelId, u64)]) {
        for &(channel, seq) in through {
            if let Some(out) = self.outgoing.get_mut(&channel) {
                while out.unacked.front().is_some_and(|(sent, _)| *sent <= seq) {
                    out.unacked.pop_front();
                }
            }
        }
    }

    /// Acknowledgements due, batched in one frame, if any.
    pub(crate) fn take_ack(&mut self) -> Option<Frame> {
        if self.acks_due.is_empty() {
            return None;
        }
        let through = std::mem::take(&mut self.acks_due)
            .into_iter()
            .map(|channel| (channel, self.delivered_on(channel)))
            .collect();
        Some(Frame::Ack { through })
    }

    fn delivered_on(&self, channel: ChannelId) -> u64 {
        self.incoming.get(&channel).map_or(0, |inc| inc.delivered)
    }

    /// Per channel, what has been delivered: sent in the handshake so the
    /// peer resends only the rest.
    pub(crate) fn delivered(&self) -> Delivered {
        let mut delivered: Delivered = self
            .incoming
            .iter()
            .filter(|(_, inc)| inc.delivered > 0)
            .map(|(&channel, inc)| (channel, inc.delivered))
            .collect();
        delivered.sort_unstable();
        delivered
    }

    /// The peer has delivered `peer_delivered`: drops that, and returns
    /// every frame still unacknowledged, in order per channel, to send on
    /// the new connection.
    pub(crate) fn resume(&mut self, peer_delivered: &[(ChannelId, u64)]) -> Vec<Frame> {
        self.acknowledged(peer_delivered);
        self.unacked(usize::MAX)
    }

    /// The unacknowledged frames, at most `per_channel` of the oldest per
    /// channel, in order per channel.
    pub(crate) fn unacked(&self, per_channel: usize) -> Vec<Frame> {
        let mut channels: Vec<_> = self.outgoing.iter().collect();
        channels.sort_unstable_by_key(|(channel, _)| **channel);
        channels
            .into_iter()
            .flat_map(|(&channel, out)| {
                out.unacked
                    .iter()
                    .take(per_channel)
                    .map(move |(seq, payload)| Frame::Data {
                        channel,
                        seq: *seq,
                        payload: payload.clone(),
                    })
            })
            .collect()
    }

    /// How many frames wait for an acknowledgement.
    pub(crate) fn unacked_len(&self) -> usize {
        self.outgoing.values().map(|out| out.unacked.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const C: ChannelId = ChannelId { src: 1, dst: 2 };

    fn data(frame: &Frame) -> (ChannelId, u64, Bytes) {
        match frame {
            Frame::Data {
                channel,
                seq,
                payload,
            } => (*channel, *seq, payload.clone()),
            other => panic!("expected data, got {other:?}"),
        }
    }

    #[test]
    fn a_gap_is_buffered_and_a_duplicate_dropped() {
        let mut link = Link::new(LinkId(1), 16, false);
        assert!(link.receive(C, 2, Bytes::from_static(b"b")).is_empty());
        let ready = link.receive(C, 1, Bytes::from_static(b"a"));
        assert_eq!(
            ready.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(link.receive(C, 2, Bytes::from_static(b"b")).is_empty());
        assert_eq!(
            link.take_ack(),
            Some(Frame::Ack {
                through: vec![(C, 2)]
            })
        );
        assert_eq!(link.take_ack(), None);
    }

    #[test]
    fn a_frame_past_the_window_is_dropped_for_a_resend() {
        let mut link = Link::new(LinkId(1), 2, false);
        assert!(link.receive(C, 4, Bytes::new()).is_empty());
        assert!(link.receive(C, 1, Bytes::new()).len() == 1);
        assert_eq!(link.delivered(), vec![(C, 1)]);
    }

    #[test]
    fn resume_resends_only_what_the_peer_lacks() {
        let mut link = Link::new(LinkId(1), 16, false);
        for byte in 0..5u8 {
            link.push(C, Bytes::from(vec![byte]));
        }
        link.acknowledged(&[(C, 1)]);
        let resent: Vec<u64> = link.resume(&[(C, 3)]).iter().map(|f| data(f).1).collect();
        assert_eq!(resent, [4, 5]);
        assert_eq!(link.unacked_len(), 2);
    }

    #[test]
    fn a_restarted_peer_resets_the_channels_and_a_stale_one_is_flagged() {
        let mut link = Link::new(LinkId(1), 16, false);
        assert_eq!(link.observe(Incarnation(5)), IncarnationCheck::First);
        link.push(C, Bytes::new());
        link.receive(C, 1, Bytes::new());
        assert_eq!(
            link.observe(Incarnation(4)),
            IncarnationCheck::Stale {
                known: Incarnation(5)
            }
        );
        assert_eq!(link.unacked_len(), 1);
        assert_eq!(
            link.observe(Incarnation(6)),
            IncarnationCheck::Restarted {
                previous: Incarnation(5)
            }
        );
        assert_eq!(link.unacked_len(), 0);
        assert!(link.delivered().is_empty());
        assert_eq!(data(&link.push(C, Bytes::new())).1, 1);
    }

    #[test]
    fn a_carrying_link_renumbers_what_a_restarted_peer_had_not_acknowledged() {
        let mut link = Link::new(LinkId(1), 16, true);
        link.observe(Incarnation(5));
        for byte in [1u8, 2, 3] {
            link.push(C, Bytes::from(vec![byte]));
        }
        link.acknowledged(&[(C, 1)]);
        link.receive(C, 1, Bytes::new());
        link.observe(Incarnation(6));
        assert!(link.delivered().is_empty());
        let resent: Vec<(u64, Bytes)> = link
            .resume(&[])
            .iter()
            .map(|frame| match frame {
                Frame::Data { seq, payload, .. } => (*seq, payload.clone()),
                other => panic!("not data: {other:?}"),
            })
            .collect();
        assert_eq!(
            resent,
            vec![(1, Bytes::from(vec![2u8])), (2, Bytes::from(vec![3u8]))]
        );
        assert_eq!(data(&link.push(C, Bytes::new())).1, 3);
    }

    #[test]
    fn a_newer_peer_link_resets_the_channels_and_an_older_one_is_ignored() {
        let mut link = Link::new(LinkId(3), 16, true);
        assert_eq!(link.observe_link(LinkId(5)), LinkCheck::First);
        assert!(link.addressed_by(LinkIds {
            own: LinkId(5),
            peer: Some(LinkId(3)),
        }));
        assert!(!link.addressed_by(LinkIds {
            own: LinkId(5),
            peer: Some(LinkId(2)),
        }));
        for byte in [1u8, 2, 3] {
            link.push(C, Bytes::from(vec![byte]));
        }
        link.acknowledged(&[(C, 1)]);
        link.receive(C, 1, Bytes::new());
        assert_eq!(link.observe_link(LinkId(5)), LinkCheck::Same);
        assert_eq!(link.observe_link(LinkId(4)), LinkCheck::Stale);
        assert_eq!(link.delivered(), vec![(C, 1)]);

        assert_eq!(link.observe_link(LinkId(6)), LinkCheck::Reset);
        assert!(link.delivered().is_empty(), "what came from the old link");
        let resent: Vec<u64> = link.resume(&[]).iter().map(|f| data(f).1).collect();
        assert_eq!(resent, [2, 3], "this side's numbering goes on");
        assert_eq!(
            link.ids(),
            LinkIds {
                own: LinkId(3),
                peer: Some(LinkId(6)),
            }
        );
    }

    #[test]
    fn a_new_link_goes_on_from_what_the_forgotten_one_delivered() {
        let mut old = Link::new(LinkId(1), 16, true);
        old.observe(Incarnation(4));
        old.observe_link(LinkId(9));
        for seq in 1..=3 {
            old.receive(C, seq, Bytes::new());
        }
        let mut new = Link::new(LinkId(2), 16, true);
        new.resume_from(old.remembered().expect("heard from the peer"));
        assert_eq!(new.observe(Incarnation(4)), IncarnationCheck::Same);
        assert_eq!(new.observe_link(LinkId(9)), LinkCheck::Same);
        assert!(
            new.receive(C, 3, Bytes::new()).is_empty(),
            "delivered before"
        );
        assert_eq!(new.receive(C, 4, Bytes::new()).len(), 1);
        // The peer forgot too: its new link numbers from 1.
        let mut again = Link::new(LinkId(3), 16, true);
        again.resume_from(new.remembered().unwrap());
        assert_eq!(again.observe_link(LinkId(10)), LinkCheck::Reset);
        assert_eq!(again.receive(C, 1, Bytes::new()).len(), 1);
    }

    #[test]
    fn a_restarted_peer_is_met_with_no_link_known() {
        let mut link = Link::new(LinkId(1), 16, false);
        link.observe(Incarnation(1));
        link.observe_link(LinkId(9));
        link.observe(Incarnation(2));
        assert_eq!(link.ids().peer, None);
        assert_eq!(link.observe_link(LinkId(1)), LinkCheck::First);
    }

    /// What the unreliable network does to one frame in flight.
    #[derive(Clone, Debug)]
    enum Fate {
        Deliver,
        Drop,
        Duplicate,
        Delay,
    }

    fn fate() -> impl Strategy<Value = Fate> {
        prop_oneof![
            4 => Just(Fate::Deliver),
            2 => Just(Fate::Drop),
            1 => Just(Fate::Duplicate),
            2 => Just(Fate::Delay),
        ]
    }

    proptest! {
        /// Two links over a network that drops, duplicates and delays
        /// (so reorders) frames and acks, the sender resending what is
        /// unacknowledged after each round; every fifth round is clean so
        /// the run ends. Every message is delivered exactly once, in order,
        /// per channel.
        #[test]
        fn exactly_once_in_order_over_a_lossy_network(
            messages in proptest::collection::vec(0u32..3, 1..60),
            fates in proptest::collection::vec(fate(), 1..200),
        ) {
            let mut sender = Link::new(LinkId(1), 8, false);
            let mut receiver = Link::new(LinkId(1), 8, false);
            let mut fates = fates.into_iter().cycle();
            let mut in_flight: Vec<Frame> = messages
                .iter()
                .enumerate()
                .map(|(index, &channel)| {
                    let payload = Bytes::from((index as u32).to_be_bytes().to_vec());
                    sender.push(ChannelId::new(channel, 0), payload)
                })
                .collect();
            let mut delivered: HashMap<ChannelId, Vec<u32>> = HashMap::new();
            for round in 0..1000 {
                let clean = round % 5 == 4;
                let mut delayed = Vec::new();
                for frame in in_flight {
                    let fate = if clean { Fate::Deliver } else { fates.next().unwrap() };
                    let copies = match fate {
                        Fate::Deliver => 1,
                        Fate::Drop => 0,
                        Fate::Duplicate => 2,
                        Fate::Delay => {
                            delayed.push(frame);
                            continue;
                        }
                    };
                    let (channel, seq, payload) = data(&frame);
                    for _ in 0..copies {
                        for (_, payload) in receiver.receive(channel, seq, payload.clone()) {
                            let index = u32::from_be_bytes(payload[..].try_into().unwrap());
                            delivered.entry(channel).or_default().push(index);
                        }
                    }
                }
                if let Some(Frame::Ack { through }) = receiver.take_ack() {
                    if clean || !matches!(fates.next().unwrap(), Fate::Drop) {
                        sender.acknowledged(&through);
                    }
                }
                if sender.unacked_len() == 0 {
                    break;
                }
                // Delayed frames arrive after the resends of this round.
                in_flight = sender.unacked(8);
                in_flight.extend(delayed);
            }
            prop_assert_eq!(sender.unacked_len(), 0, "not everything was acknowledged");
            for channel in 0..3 {
                let expected: Vec<u32> = messages
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c == channel)
                    .map(|(index, _)| index as u32)
                    .collect();
                let got = delivered.remove(&ChannelId::new(channel, 0)).unwrap_or_default();
                prop_assert_eq!(got, expected);
            }
        }
    }
}
