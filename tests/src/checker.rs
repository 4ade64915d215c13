//! An offline checker over a store's committed epochs: reads every
//! committed manifest and its objects back, folds each shard's chain, and
//! checks SNAPSHOTS §5 invariants 1 (conservation) and 4 (consistent cut).

use cairn::{ShardSnapshot, StoredCursor, StoredMessage};
use cairn_persistence::{decode_object, Store, StoreOptions};

use crate::functions::{Account, Credit, Deposit, Pass};

/// What one committed epoch holds, as the checker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochAudit {
    /// The epoch.
    pub epoch: u64,
    /// Sum of every account's stored balance.
    pub balances: i64,
    /// Sum of the credits and passes queued in mailboxes, logged on
    /// channels, or waiting in timers: money moving between accounts at the
    /// cut.
    pub in_flight: i64,
    /// Sum of the deposits queued and not yet applied: money entering.
    pub queued_deposits: i64,
    /// How many messages the channel logs hold.
    pub logged_messages: usize,
    /// The read positions of every ingress split at the cut, from the
    /// shards hosting them: which records had entered.
    pub ingress: Vec<StoredCursor>,
}

impl EpochAudit {
    /// Balances plus money in flight and entering.
    pub fn total(&self) -> i64 {
        self.balances + self.in_flight + self.queued_deposits
    }
}

/// Audits every committed epoch of the store at `url`, oldest first.
/// Panics, naming the epoch and channel, if a cut is inconsistent.
pub async fn audit(url: &str) -> Vec<EpochAudit> {
    let store = Store::open(url, StoreOptions::default()).expect("open the store");
    let mut audits = Vec::new();
    for epoch in store.committed_epochs().await.expect("list epochs") {
        let manifest = store
            .read_manifest(epoch)
            .await
            .expect("read the manifest")
            .expect("a committed epoch has a manifest");
        let mut shards = Vec::new();
        for (shard, entry) in &manifest.shards {
            let mut chain: Vec<ShardSnapshot> = Vec::new();
            for reference in &entry.chain {
                let bytes = store
                    .read_object(&reference.key)
                    .await
                    .expect("read a part");
                let part = decode_object::<ShardSnapshot>(&reference.key.to_string(), &bytes)
                    .expect("decode a part");
                chain.push(part.body);
            }
            let restore = ShardSnapshot::fold(chain).expect("a non-empty chain");
            assert_eq!(
                restore.epoch, epoch,
                "shard {shard}'s newest part is epoch {epoch}'s"
            );
            shards.push(restore);
        }
        audits.push(audit_parts(epoch, &shards));
    }
    audits
}

/// Audits one epoch from every shard's folded part, in shard order:
/// checks the cut of every channel (panics naming it if inconsistent) and
/// sums the money.
pub fn audit_parts(epoch: u64, shards: &[ShardSnapshot]) -> EpochAudit {
    check_cuts(epoch, shards);
    account_totals(epoch, shards)
}

/// Adds each of `epoch`'s parts (in shard order) to its shard's chain and
/// audits the folded chains, as [`audit`] does a store's.
pub fn audit_chains(
    epoch: u64,
    chains: &mut [Vec<ShardSnapshot>],
    parts: Vec<ShardSnapshot>,
) -> EpochAudit {
    for (chain, part) in chains.iter_mut().zip(parts) {
        chain.push(part);
    }
    let folded: Vec<ShardSnapshot> = chains
        .iter()
        .map(|chain| ShardSnapshot::fold(chain.clone()).expect("a part"))
        .collect();
    audit_parts(epoch, &folded)
}

/// Invariant 4: on every channel s→t, `cut_seq` is what s had sent when it
/// recorded, and the log holds exactly the messages between t's delivered
/// count and the cut.
fn check_cuts(epoch: u64, shards: &[ShardSnapshot]) {
    for (receiver, shard) in shards.iter().enumerate() {
        for channel in &shard.channels {
            let sender = &shards[channel.from.index()];
            assert_eq!(
                channel.cut_seq, sender.sent[receiver],
                "epoch {epoch}, channel {}→{receiver}: cut {} but the sender had sent {}",
                channel.from, channel.cut_seq, sender.sent[receiver]
            );
            assert_eq!(
                channel.log.len() as u64,
                channel.cut_seq - channel.delivered_at_snapshot,
                "epoch {epoch}, channel {}→{receiver}: |log| ≠ cut − delivered",
                channel.from
            );
        }
    }
}

fn account_totals(epoch: u64, shards: &[ShardSnapshot]) -> EpochAudit {
    let mut audit = EpochAudit {
        epoch,
        balances: 0,
        in_flight: 0,
        queued_deposits: 0,
        logged_messages: 0,
        ingress: Vec::new(),
    };
    for shard in shards {
        audit.ingress.extend(shard.ingress.iter().cloned());
        for actor in &shard.actors {
            if actor.address.function().name() == "test/account" {
                let account: Account = rmp_serde::from_slice(&actor.state).expect("an account");
                audit.balances += account.balance;
            }
        }
        let timers = shard.timers.iter().map(|timer| &timer.message);
        let logs = shard.channels.iter().flat_map(|channel| channel.log.iter());
        audit.logged_messages += shard.channels.iter().map(|c| c.log.len()).sum::<usize>();
        for message in shard.mailbox.iter().chain(logs).chain(timers) {
            match message.message.as_str() {
                "Credit" => audit.in_flight += decode::<Credit>(message).0,
                "Pass" => audit.in_flight += decode::<Pass>(message).amount,
                "Deposit" => audit.queued_deposits += decode::<Deposit>(message).0,
                _ => {}
            }
        }
    }
    audit
}

fn decode<M: serde::de::DeserializeOwned>(message: &StoredMessage) -> M {
    rmp_serde::from_slice(&message.body)
        .unwrap_or_else(|error| panic!("cannot decode a stored {}: {error}", message.message))
}
