//! Markers between nodes travel batched per node link (SNAPSHOTS §3.2
//! rule 5): one frame per node pair and direction per epoch, listing only
//! the cuts that changed, and the cut stays consistent.

use cairn::{Address, Error, MarkerBatchError, ShardSnapshot};
use cairn_tests::checker::{audit_chains, EpochAudit};
use cairn_tests::cluster::Bank;
use cairn_tests::functions::{Account, Deposit, Transfer};
use cairn_tests::loopback::LinkedPair;

/// Shards of the pair: 32 on each node.
const SHARDS: u32 = 64;

/// Two nodes of 32 shards each. An epoch taken while transfers flow, and
/// one taken once they have stopped, each cost exactly one marker frame
/// per node and direction (where one frame per channel would be 2 × 32 ×
/// 32 = 2,048), and each forms a consistent cut holding exactly the money
/// deposited. The idle epoch sends nothing but those two frames, and a
/// third epoch, after which no channel's cut changed, closes every
/// channel on batches that list no cut at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_costs_one_marker_frame_per_node_link() {
    let mut pair = LinkedPair::start(SHARDS);
    let bank = Bank::new(200, 1_000, 4_000, 11);
    for id in 0..bank.accounts {
        let address = Address::of::<Account>(id);
        pair.runtimes[id as usize % 2]
            .send(address, Deposit(bank.initial))
            .expect("send a deposit");
    }
    pair.quiesce(bank.accounts).await;
    let mut chains: Vec<Vec<ShardSnapshot>> = (0..SHARDS).map(|_| Vec::new()).collect();

    let before = counts(&pair);
    let half = bank.transfers.len() / 2;
    transfer(&pair, &bank, 0..half);
    pair.runtimes[0].start_epoch(1).expect("start");
    transfer(&pair, &bank, half..bank.transfers.len());
    pair.runtimes[1].start_epoch(1).expect("start");
    let audit = audit_epoch(&mut pair, &mut chains, 1).await;
    assert_eq!(audit.total(), bank.total(), "epoch 1: {audit:?}");
    assert_eq!(marker_frames(&pair, &before), [1, 1], "busy epoch");
    for runtime in &pair.runtimes {
        runtime.epoch_committed(1).expect("commit");
    }

    pair.quiesce(bank.messages()).await;
    let before = counts(&pair);
    pair.runtimes[0].start_epoch(2).expect("start");
    pair.runtimes[1].start_epoch(2).expect("start");
    let audit = audit_epoch(&mut pair, &mut chains, 2).await;
    assert_eq!((audit.in_flight, audit.logged_messages), (0, 0));
    assert_eq!(audit.balances, bank.total());
    assert_eq!(marker_frames(&pair, &before), [1, 1], "idle epoch");
    let after = counts(&pair);
    assert_eq!(
        [after[0].0, after[1].0],
        [before[0].0, before[1].0],
        "an idle epoch sends no other frame"
    );
    for runtime in &pair.runtimes {
        runtime.epoch_committed(2).expect("commit");
    }

    // Nothing was sent since epoch 2's cut: no cut changed, so each batch
    // lists none, and the receivers close every channel at the cuts they
    // kept from epoch 2's batches.
    let before = counts(&pair);
    pair.runtimes[0].start_epoch(3).expect("start");
    pair.runtimes[1].start_epoch(3).expect("start");
    let audit = audit_epoch(&mut pair, &mut chains, 3).await;
    assert_eq!(audit.balances, bank.total());
    assert_eq!(marker_frames(&pair, &before), [1, 1], "unchanged epoch");
    pair.shutdown().await;
}

/// Marker batches that are not well-formed — a shard out of range, a
/// destination the node does not host, a channel left out whose cut was
/// never sent on that link, bytes that are no batch — are refused with a
/// typed error, delivering nothing, and the node goes on: the next epoch
/// still forms a consistent cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_marker_batches_are_refused_and_the_node_goes_on() {
    let mut pair = LinkedPair::start(8);
    let node_b = &pair.runtimes[1];
    // (epoch, sources, destinations, listed cuts), as the batch encodes.
    let batch = |sources: &[u32], destinations: &[u32], cuts: &[(u32, u32, u64)]| {
        rmp_serde::to_vec(&(1u64, sources, destinations, cuts)).expect("encodes")
    };
    let refused = |frame: Vec<u8>| match node_b.deliver_markers("node-a", &frame) {
        Err(Error::MarkerBatch {
            node,
            epoch,
            reason,
        }) => {
            assert_eq!((node.as_str(), epoch), ("node-a", 1));
            reason
        }
        other => panic!("not refused as a marker batch: {other:?}"),
    };
    assert_eq!(
        refused(batch(&[0], &[4, 8], &[(0, 4, 0), (0, 8, 0)])),
        MarkerBatchError::ShardOutOfRange {
            shard: 8,
            shards: 8
        }
    );
    assert_eq!(
        refused(batch(&[0], &[1, 4], &[(0, 1, 0), (0, 4, 0)])),
        MarkerBatchError::NotHosted { shard: 1 }
    );
    assert_eq!(
        refused(batch(&[0], &[4], &[])),
        MarkerBatchError::Unlisted { from: 0, to: 4 }
    );
    assert!(matches!(
        node_b.deliver_markers("node-a", b"\xc1 not a batch"),
        Err(Error::Codec(_))
    ));

    for runtime in &pair.runtimes {
        runtime.start_epoch(1).expect("start");
    }
    let mut chains: Vec<Vec<ShardSnapshot>> = (0..8).map(|_| Vec::new()).collect();
    let audit = audit_epoch(&mut pair, &mut chains, 1).await;
    assert_eq!(audit.total(), 0, "nothing deposited: {audit:?}");
    pair.shutdown().await;
}

/// Sends the transfers in `range`, alternating the node sent from.
fn transfer(pair: &LinkedPair, bank: &Bank, range: std::ops::Range<usize>) {
    for index in range {
        let (from, to, amount) = bank.transfers[index];
        pair.runtimes[index % 2]
            .send(Address::of::<Account>(from), Transfer { to, amount })
            .expect("send a transfer");
    }
}

/// Each node's (channel frames, marker frames) so far.
fn counts(pair: &LinkedPair) -> [(u64, u64); 2] {
    [pair.counts[0].read(), pair.counts[1].read()]
}

/// The marker frames each node has sent since `before`.
fn marker_frames(pair: &LinkedPair, before: &[(u64, u64); 2]) -> [u64; 2] {
    let now = counts(pair);
    [now[0].1 - before[0].1, now[1].1 - before[1].1]
}

/// Collects `epoch`'s parts from both nodes and audits them with the
/// earlier parts of each shard's chain.
async fn audit_epoch(
    pair: &mut LinkedPair,
    chains: &mut [Vec<ShardSnapshot>],
    epoch: u64,
) -> EpochAudit {
    let parts = pair.collect_parts(epoch).await;
    audit_chains(epoch, chains, parts)
}
