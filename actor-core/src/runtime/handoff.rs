//! Moving shards between nodes at an epoch cut, without a global pause
//! (SNAPSHOTS §3.8): the runtime's side.
//!
//! [`Runtime::prepare_handoff`] takes the next placement before the epoch
//! starts (rule 24): every shard running here gets the routes it switches
//! to at its own snapshot, and each shard arriving here gets an inbox at
//! once, so that what its senders send after their cuts waits there. A
//! shard leaving freezes at its snapshot and stops once the epoch commits.
//! [`Runtime::finish_handoff`], after the commit, starts each arriving
//! shard from its part of the epoch: its state at the cut, then each
//! channel's log, then what waited in its inbox (rule 27).

use std::collections::HashMap;
use std::sync::Arc;

use crate::address::ShardId;
use crate::error::{Error, Result};
use crate::remote::{Outlet, Placement, RemoteOutlet, Role};
use crate::shard::{Inbound, InboxReceiver, Reroute, Shard};
use crate::snapshot::{Epoch, ShardSnapshot};

use super::{host_ingress, Hosted, Runtime};

/// What a handoff changes on this node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandoffPlan {
    /// The shards that start here once the epoch commits.
    pub arriving: Vec<ShardId>,
    /// The shards that leave this node at their cut.
    pub departing: Vec<ShardId>,
}

/// A handoff prepared and not yet finished.
pub(super) struct Pending {
    epoch: Epoch,
    /// The inboxes of the arriving shards, filling until they start.
    arriving: Vec<(ShardId, InboxReceiver)>,
    departing: Vec<ShardId>,
}

impl Runtime {
    /// Prepares moving shards at the cut of `epoch` (SNAPSHOTS §3.8 rules
    /// 24–25): after it, this node runs the shards `placement` owns, and
    /// the others are reached through its remote sink. Must be called on
    /// every node, and return on all of them, before any shard takes
    /// `epoch`. Fails for a runtime that runs every shard (a single node),
    /// while another handoff is pending, and during shutdown.
    pub fn prepare_handoff(&self, epoch: Epoch, placement: Placement) -> Result<HandoffPlan> {
        if self.is_shutting_down() {
            return Err(Error::ShuttingDown);
        }
        let inner = &self.inner;
        let remote = placement
            .remote()
            .ok_or_else(|| Error::Config("a handoff needs a remote sink".into()))?
            .clone();
        let owned = placement.owned_mask(inner.config.shard_count)?;
        let mut pending = inner.handoff.lock();
        if let Some(pending) = pending.as_ref() {
            return Err(Error::Config(format!(
                "a handoff at epoch {} is still pending",
                pending.epoch
            )));
        }
        let mut hosted = inner.hosted.write();
        let mut plan = HandoffPlan::default();
        let mut arriving = Vec::new();
        let mut routes = Vec::with_capacity(owned.len());
        for (id, owned) in inner.config.shard_count.ids().zip(owned) {
            let here = hosted[id.index()].as_ref();
            if owned {
                let inbox = match here {
                    Some(hosted) => hosted.inbox.clone(),
                    None => {
                        let (inbox, receiver) = tokio::sync::mpsc::unbounded_channel();
                        plan.arriving.push(id);
                        arriving.push((id, receiver));
                        inbox
                    }
                };
                routes.push(Outlet::Local(inbox));
            } else {
                if here.is_some() {
                    plan.departing.push(id);
                }
                routes.push(Outlet::Remote(Box::new(RemoteOutlet::new(
                    id,
                    remote.clone(),
                    inner.registry.clone(),
                ))));
            }
        }
        let routes: Arc<[Outlet]> = routes.into();
        for (id, slot) in inner.config.shard_count.ids().zip(hosted.iter()) {
            let Some(running) = slot else {
                continue;
            };
            let reroute = Reroute {
                epoch,
                routes: routes.clone(),
                departs: plan.departing.contains(&id),
            };
            running
                .inbox
                .send(Inbound::Reroute(reroute))
                .map_err(|_| Error::ShuttingDown)?;
        }
        for &id in &plan.arriving {
            hosted[id.index()] = routes[id.index()].local().map(|inbox| Hosted {
                inbox: inbox.clone(),
                arriving: true,
            });
        }
        *inner.routes.write() = routes;
        drop(hosted);
        // Which epochs' marker batches wait for the moving shards: a
        // departing shard records up to this epoch here, an arriving one
        // the epochs after it.
        for &id in &plan.departing {
            inner.markers.set_role(id, Role::Departing { last: epoch });
        }
        for &id in &plan.arriving {
            inner.markers.set_role(id, Role::Arriving { after: epoch });
        }
        *pending = Some(Pending {
            epoch,
            arriving,
            departing: plan.departing.clone(),
        });
        Ok(plan)
    }

    /// The handoff prepared and not finished, if any: its epoch and plan.
    pub fn pending_handoff(&self) -> Option<(Epoch, HandoffPlan)> {
        let pending = self.inner.handoff.lock();
        pending.as_ref().map(|pending| {
            (
                pending.epoch,
                HandoffPlan {
                    arriving: pending.arriving.iter().map(|(id, _)| *id).collect(),
                    departing: pending.departing.clone(),
                },
            )
        })
    }

    /// Finishes the handoff of `epoch` once it has committed (rules 27–28):
    /// the departed shards are forgotten here (they stop on their own at the
    /// commit, which must have been passed to [`Runtime::epoch_committed`]
    /// first), and each arriving shard starts from `restore` — its committed
    /// part of `epoch`, folded, by shard index (`None`: it had nothing) —
    /// with its ingress splits read from the offsets recorded there.
    pub fn finish_handoff(
        &self,
        epoch: Epoch,
        mut restore: Vec<Option<ShardSnapshot>>,
    ) -> Result<HandoffPlan> {
        let inner = &self.inner;
        let pending = {
            let mut pending = inner.handoff.lock();
            match pending.take() {
                Some(found) if found.epoch == epoch => found,
                other => {
                    let prepared = other.as_ref().map(|found| found.epoch);
                    *pending = other;
                    return Err(Error::Config(format!(
                        "no handoff prepared at epoch {epoch} (prepared: {prepared:?})"
                    )));
                }
            }
        };
        restore.resize(inner.config.shard_count.get() as usize, None);
        let routes = inner.routes.read().clone();
        let mut shards = Vec::with_capacity(pending.arriving.len());
        let mut recorded = HashMap::new();
        let mut plan = HandoffPlan {
            arriving: Vec::new(),
            departing: pending.departing.clone(),
        };
        for (id, receiver) in pending.arriving {
            let mut shard = Shard::new(
                id,
                inner.launch.settings.clone(),
                inner.registry.clone(),
                receiver,
                routes.clone(),
                inner.egress.clone(),
                inner.launch.parts.clone(),
            );
            if let Some(mut part) = restore[id.index()].take() {
                for cursor in std::mem::take(&mut part.ingress) {
                    recorded.insert((cursor.source, cursor.split), cursor.offset);
                }
                shard.restore(part)?;
            }
            plan.arriving.push(id);
            shards.push(shard);
        }
        let readers = host_ingress(
            &inner.launch.sources,
            &inner.ingress,
            &mut shards,
            &inner.registry,
            inner.config.shard_count,
            recorded,
        );
        {
            let mut hosted = inner.hosted.write();
            for id in &plan.departing {
                hosted[id.index()] = None;
            }
            for id in &plan.arriving {
                if let Some(slot) = hosted[id.index()].as_mut() {
                    slot.arriving = false;
                }
            }
        }
        for &id in &plan.departing {
            inner.markers.set_role(id, Role::Absent);
        }
        for &id in &plan.arriving {
            inner.markers.set_role(id, Role::Steady);
        }
        let mut running = inner.running.lock();
        let Some(running) = running.as_mut() else {
            return Err(Error::ShuttingDown);
        };
        running.readers.extend(readers);
        running
            .tasks
            .extend(shards.into_iter().map(|shard| tokio::spawn(shard.run())));
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;

    use super::*;
    use crate::address::{Address, ShardCount};
    use crate::envelope::AskReply;
    use crate::error::AskError;
    use crate::function::StatefulFunction;
    use crate::message::Payload;
    use crate::registry::Registry;
    use crate::remote::{RemoteChannel, RemoteShards, EXTERNAL_SOURCE};
    use crate::runtime::RuntimeConfig;
    use crate::snapshot::StoredMessage;
    use crate::test_support::Tally;

    /// Records every frame and every ask it is given.
    #[derive(Default)]
    struct Recorder(
        Mutex<Vec<(RemoteChannel, Vec<u8>)>>,
        Mutex<Vec<(u32, StoredMessage, AskReply)>>,
    );

    impl RemoteShards for Recorder {
        fn send(&self, channel: RemoteChannel, frame: Vec<u8>) {
            self.0.lock().push((channel, frame));
        }

        fn forward_ask(&self, shard: u32, message: StoredMessage, _durable: bool, reply: AskReply) {
            self.1.lock().push((shard, message, reply));
        }

        fn max_frame(&self) -> usize {
            1 << 20
        }

        fn node_of(&self, _shard: u32) -> Option<&str> {
            Some("elsewhere")
        }

        fn send_markers(&self, _node: &str, _frame: Vec<u8>) {}

        fn send_credit(&self, _channel: RemoteChannel, _through_seq: u64) {}
    }

    fn registry() -> Registry {
        let mut registry = Registry::new();
        registry.register::<Tally>().unwrap();
        registry
    }

    /// A message sent from outside that reaches a node after its shard
    /// moved away (it is part of no cut, so it may come late) is forwarded
    /// to the shard's new node, not lost; another channel's frame for a
    /// shard that is not here is refused.
    #[tokio::test]
    async fn a_stray_message_from_outside_is_forwarded_to_the_new_owner() {
        let count = ShardCount::new(2).unwrap();
        let recorder = Arc::new(Recorder::default());
        let start = || {
            let config = RuntimeConfig {
                shard_count: count,
                ..RuntimeConfig::default()
            };
            let placement = Placement::partial([ShardId(0)], recorder.clone());
            Runtime::start_with(config, registry(), Vec::new(), None, Vec::new(), placement)
                .unwrap()
        };
        let runtime = start();
        let elsewhere = (0u64..)
            .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
            .find(|address| address.shard(count) == ShardId(1))
            .unwrap();
        // The frame another node's runtime sent while shard 1 ran here.
        let sender = start();
        sender
            .send_payload(elsewhere.clone(), Payload::new(9u64))
            .unwrap();
        let (channel, frame) = recorder.0.lock().pop().expect("forwarded by the sender");
        assert_eq!(
            channel,
            RemoteChannel {
                src: EXTERNAL_SOURCE,
                dst: 1
            }
        );

        runtime
            .deliver_remote(channel, frame.clone().into())
            .unwrap();
        let forwarded = recorder.0.lock().pop().expect("forwarded again");
        assert_eq!(forwarded, (channel, frame.clone()));

        let refused = runtime.deliver_remote(RemoteChannel { src: 0, dst: 1 }, frame.into());
        assert!(
            matches!(refused, Err(Error::RemoteShard { shard: 1 })),
            "{refused:?}"
        );
        runtime.shutdown().await;
        sender.shutdown().await;
    }

    /// A runtime running both shards of two, with snapshots, and the
    /// receiver of its parts.
    fn two_shards(
        recorder: &Arc<Recorder>,
    ) -> (
        Runtime,
        tokio::sync::mpsc::UnboundedReceiver<ShardSnapshot>,
        ShardCount,
    ) {
        two_shards_reading(recorder, Vec::new())
    }

    /// [`two_shards`], reading `ingress`.
    fn two_shards_reading(
        recorder: &Arc<Recorder>,
        ingress: Vec<crate::ingress::Ingress>,
    ) -> (
        Runtime,
        tokio::sync::mpsc::UnboundedReceiver<ShardSnapshot>,
        ShardCount,
    ) {
        let count = ShardCount::new(2).unwrap();
        let config = RuntimeConfig {
            shard_count: count,
            ..RuntimeConfig::default()
        };
        let (parts, received) = tokio::sync::mpsc::unbounded_channel();
        let link = crate::runtime::SnapshotLink {
            parts,
            restore: Vec::new(),
            pressure: Arc::default(),
        };
        let placement = Placement::partial([ShardId(0), ShardId(1)], recorder.clone());
        let runtime = Runtime::start_with(
            config,
            registry(),
            Vec::new(),
            Some(link),
            ingress,
            placement,
        )
        .unwrap();
        (runtime, received, count)
    }

    /// Queues, on shard 0, a tell, an ask (whose answer goes to the
    /// returned receiver) and another tell, all from outside; then
    /// prepares shard 0's move away at the cut of epoch 1 and starts it.
    /// Nothing runs in between (one thread), so all three wait in the
    /// shard's queue at its cut.
    fn ask_at_the_cut(
        runtime: &Runtime,
        recorder: &Arc<Recorder>,
        count: ShardCount,
    ) -> tokio::sync::oneshot::Receiver<Result<Payload, AskError>> {
        let here = (0u64..)
            .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
            .find(|address| address.shard(count) == ShardId(0))
            .unwrap();
        let (reply, answer) = tokio::sync::oneshot::channel();
        runtime
            .send_payload(here.clone(), Payload::new(1u64))
            .unwrap();
        runtime.ask_then(here.clone(), Payload::new(2u64), move |result| {
            let _ = reply.send(result);
        });
        runtime.send_payload(here, Payload::new(3u64)).unwrap();
        let plan = runtime
            .prepare_handoff(1, Placement::partial([ShardId(1)], recorder.clone()))
            .unwrap();
        assert_eq!(plan.departing, vec![ShardId(0)]);
        runtime.start_epoch(1).unwrap();
        answer
    }

    fn numbers(messages: &[StoredMessage]) -> Vec<u64> {
        messages
            .iter()
            .map(|message| rmp_serde::from_slice(&message.body).unwrap())
            .collect()
    }

    /// Until `done` holds of the recorder, yielding to the shards.
    async fn until(recorder: &Recorder, done: impl Fn(&Recorder) -> bool) {
        for _ in 0..500 {
            if done(recorder) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("the shard never got there");
    }

    /// An ask waiting in a departing shard's queue at its cut is left out
    /// of the snapshot — with the message from outside queued behind it —
    /// and once the epoch commits it goes to the new owner as an ask, ahead
    /// of that message: it is handled once, there, and its caller gets the
    /// new owner's answer.
    #[tokio::test]
    async fn an_ask_queued_at_a_departing_cut_moves_to_the_new_owner_after_commit() {
        let recorder = Arc::new(Recorder::default());
        let (runtime, mut parts, count) = two_shards(&recorder);
        let answer = ask_at_the_cut(&runtime, &recorder, count);
        let part = loop {
            let part = parts.recv().await.expect("parts");
            if part.shard == ShardId(0) {
                break part;
            }
        };
        assert_eq!(
            numbers(&part.mailbox),
            vec![1],
            "the snapshot holds the tell ahead of the ask, not the ask nor what followed it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            recorder.1.lock().is_empty(),
            "nothing moves before the commit"
        );

        runtime.epoch_committed(1).unwrap();
        until(&recorder, |recorder| !recorder.0.lock().is_empty()).await;
        let (shard, message, caller) = recorder.1.lock().pop().expect("the ask moved");
        assert_eq!((shard, numbers(&[message])), (0, vec![2]));
        let (channel, frame) = recorder.0.lock().pop().expect("the tell moved");
        assert_eq!(channel.src, EXTERNAL_SOURCE);
        let (_, items) = crate::remote::decode_frame(&registry(), count, channel, &frame).unwrap();
        let [Inbound::External(tell)] = &items[..] else {
            panic!("one message from outside: {items:?}");
        };
        assert_eq!(tell.payload.downcast_ref::<u64>(), Some(&3));
        caller.answer(Ok(Payload::new(7u64).to_msgpack().unwrap()));
        let reply = answer.await.unwrap().expect("the new owner's answer");
        assert_eq!(reply.downcast::<u64>().ok(), Some(7));
        runtime.shutdown().await;
    }

    /// If the epoch of the cut aborts, the ask taken out of the snapshot
    /// was handled nowhere: its caller is told so, nothing is forwarded.
    #[tokio::test]
    async fn an_ask_queued_at_a_departing_cut_fails_when_the_epoch_aborts() {
        let recorder = Arc::new(Recorder::default());
        let (runtime, mut parts, count) = two_shards(&recorder);
        let answer = ask_at_the_cut(&runtime, &recorder, count);
        while parts.recv().await.expect("parts").shard != ShardId(0) {}
        runtime.epoch_aborted(1).unwrap();
        let failed = answer.await.unwrap();
        assert!(
            matches!(
                failed,
                Err(AskError::Send(Error::HandoffAborted { shard: 0, epoch: 1 }))
            ),
            "{failed:?}"
        );
        assert!(recorder.1.lock().is_empty(), "no ask forwarded");
        assert!(recorder.0.lock().is_empty(), "no message forwarded");
        runtime.shutdown().await;
    }

    /// An endless source of two splits that counts the records read from
    /// each.
    struct Endless(Arc<[std::sync::atomic::AtomicU64; 2]>);

    struct EndlessSplit {
        read: Arc<[std::sync::atomic::AtomicU64; 2]>,
        split: usize,
        next: u64,
    }

    impl crate::ingress::IngressSource for Endless {
        fn split_count(&self) -> u32 {
            2
        }

        fn open(
            &self,
            split: u32,
            offset: Option<u64>,
        ) -> std::io::Result<Box<dyn crate::ingress::SplitReader>> {
            Ok(Box::new(EndlessSplit {
                read: self.0.clone(),
                split: split as usize,
                next: offset.unwrap_or(0),
            }))
        }
    }

    impl crate::ingress::SplitReader for EndlessSplit {
        fn next_record(&mut self) -> std::io::Result<Option<(Vec<u8>, u64)>> {
            self.read[self.split].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.next += 1;
            Ok(Some((b"1".to_vec(), self.next)))
        }
    }

    /// The reader of a split hosted by a shard that leaves ends at the
    /// shard's cut (the new owner reads on from the offset in its part),
    /// rather than waiting for credit with its thread until the runtime
    /// shuts down; the split of the shard that stays is read on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reader_of_a_departing_shards_split_ends_at_the_cut() {
        use std::sync::atomic::Ordering::Relaxed;
        let recorder = Arc::new(Recorder::default());
        let count = ShardCount::new(2).unwrap();
        let staying = (0u64..)
            .map(|id| Address::new(Tally::FUNCTION_TYPE, id))
            .find(|address| address.shard(count) == ShardId(1))
            .unwrap();
        let read: Arc<[std::sync::atomic::AtomicU64; 2]> = Arc::default();
        let ingress = crate::ingress::Ingress::new("endless", Endless(read.clone()), move |_| {
            Ok::<_, std::convert::Infallible>((staying.clone(), 1u64))
        })
        .max_in_flight(4);
        let (runtime, mut received, _) = two_shards_reading(&recorder, vec![ingress]);
        until(&recorder, |_| {
            read.iter().all(|split| split.load(Relaxed) > 100)
        })
        .await;
        let readers_running = || {
            let running = runtime.inner.running.lock();
            let readers = &running.as_ref().expect("running").readers;
            readers
                .iter()
                .filter(|reader| !reader.task.is_finished())
                .count()
        };
        assert_eq!(readers_running(), 2);

        runtime
            .prepare_handoff(1, Placement::partial([ShardId(1)], recorder.clone()))
            .unwrap();
        runtime.start_epoch(1).unwrap();
        while received.recv().await.expect("parts").shard != ShardId(0) {}
        until(&recorder, |_| readers_running() == 1).await;
        let other = usize::from(crate::ingress::hosting_shard("endless", 0, count) == ShardId(0));
        let before = read[other].load(Relaxed);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            read[other].load(Relaxed) > before,
            "the staying shard's split is read on"
        );
        runtime.shutdown().await;
    }
}
