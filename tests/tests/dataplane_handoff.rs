//! Shards moving between two nodes at an epoch cut while transfers flow
//! (SNAPSHOTS §3.8): senders switch routes at their own cuts, a moving
//! shard freezes at its snapshot and starts on its new node from its part
//! of that epoch, channel logs included. The other shards never stop.

use std::time::Duration;

use cairn::transport::{Faults, TransportConfig};
use cairn::{Address, HandoffPlan, ShardId, ShardSnapshot};
use cairn_tests::checker::audit_chains;
use cairn_tests::cluster::{Bank, TwoNodes, SHARDS};
use cairn_tests::functions::{Account, Balance, Deposit};

/// Before the move shards 0–3 run on the first node and 4–7 on the
/// second; after it 0 and 1 run on the second, 6 and 7 on the first.
fn owner_after(shard: u32) -> usize {
    match shard {
        0 | 1 | 4 | 5 => 1,
        _ => 0,
    }
}

/// Over a network that drops, duplicates and reorders frames: an epoch
/// taken during transfers moves four shards, two each way. Its parts —
/// the moving shards' from their old node — form a consistent cut holding
/// exactly the money deposited. While the moving shards wait for the
/// commit, a shard that stays answers at once and takes new messages, and
/// an ask for a moving account waits on the new node. After the move the
/// next epoch is consistent again, with each node sending the parts of
/// the shards it now runs, and every balance ends exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_move_at_an_epoch_cut_while_transfers_flow() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    for seed in [7, 8] {
        let config = TransportConfig::new("dataplane-handoff").with_secret(None);
        let faults = Faults {
            drop: 0.05,
            duplicate: 0.05,
            max_delay: Duration::from_millis(2),
        };
        let nodes = TwoNodes::over_memory(seed, faults, &config, true);
        move_shards_during_transfers(nodes, seed).await;
    }
}

async fn move_shards_during_transfers(mut nodes: TwoNodes, seed: u64) {
    let bank = Bank::new(40, 1_000, 6_000, seed);
    bank.deposit(&nodes);
    nodes.quiesce(bank.accounts).await;
    let mut chains: Vec<Vec<ShardSnapshot>> = (0..SHARDS).map(|_| Vec::new()).collect();
    let slice = bank.transfers.len() / 3;

    bank.transfer(&nodes, 0..slice);
    take_epoch(&mut nodes, &mut chains, 1, bank.total(), |_| {}).await;

    let plans = nodes.prepare_handoff(2, owner_after);
    assert_eq!(
        plans,
        vec![
            HandoffPlan {
                arriving: vec![ShardId(6), ShardId(7)],
                departing: vec![ShardId(0), ShardId(1)],
            },
            HandoffPlan {
                arriving: vec![ShardId(0), ShardId(1)],
                departing: vec![ShardId(6), ShardId(7)],
            },
        ]
    );
    bank.transfer(&nodes, slice..slice + slice / 2);
    nodes.runtimes[0].start_epoch(2).expect("start");
    bank.transfer(&nodes, slice + slice / 2..2 * slice);
    nodes.runtimes[1].start_epoch(2).expect("start");
    let parts = nodes.collect_parts_anywhere(2).await;
    for (node, part) in &parts {
        let old_owner = usize::from(part.shard.0 >= SHARDS / 2);
        assert_eq!(
            *node, old_owner,
            "shard {}'s part of the handoff epoch",
            part.shard
        );
    }
    let audit = audit(&mut chains, 2, parts);
    assert_eq!(audit.total(), bank.total(), "epoch 2: {audit:?}");

    // Uncommitted: the moving shards are frozen or waiting. A staying
    // shard keeps working: it takes a deposit and answers (an account
    // outside the bank's, so that no transfer still in flight touches it).
    let staying = account_on(&nodes, ShardId(3), bank.accounts);
    let moving = account_on(&nodes, ShardId(6), 0);
    let before: i64 = nodes.runtimes[0]
        .ask(staying.clone(), Balance)
        .await
        .expect("answers");
    nodes.runtimes[0]
        .send(staying.clone(), Deposit(5))
        .expect("sent");
    let after: i64 = nodes.runtimes[0]
        .ask(staying.clone(), Balance)
        .await
        .expect("answers");
    assert_eq!(
        after,
        before + 5,
        "a staying shard handles messages during the move"
    );
    let waiting = {
        let runtime = nodes.runtimes[0].clone();
        tokio::spawn(async move { runtime.ask::<i64, _>(moving, Balance).await })
    };

    for runtime in &nodes.runtimes {
        runtime.epoch_committed(2).expect("commit");
    }
    for (node, runtime) in nodes.runtimes.iter().enumerate() {
        let restore = chains
            .iter()
            .enumerate()
            .map(|(shard, chain)| {
                (owner_after(shard as u32) == node)
                    .then(|| ShardSnapshot::fold(chain.clone()).expect("a chain"))
            })
            .collect();
        runtime
            .finish_handoff(2, restore)
            .expect("the arriving shards start");
    }
    waiting
        .await
        .expect("joins")
        .expect("the ask for a moved account is answered on its new node");
    for shard in 0..SHARDS {
        assert!(
            nodes.runtimes[owner_after(shard)].owns(ShardId(shard)),
            "shard {shard} runs on its new node"
        );
        assert!(!nodes.runtimes[1 - owner_after(shard)].owns(ShardId(shard)));
    }

    bank.transfer(&nodes, 2 * slice..bank.transfers.len());
    let deposited = bank.total() + 5;
    take_epoch(&mut nodes, &mut chains, 3, deposited, |parts| {
        for (node, part) in parts {
            assert_eq!(
                *node,
                owner_after(part.shard.0),
                "shard {}'s part after the move",
                part.shard
            );
        }
    })
    .await;
    settle(&nodes, &bank.expected_balances()).await;
    let staying_balance: i64 = nodes.runtimes[0]
        .ask(staying, Balance)
        .await
        .expect("answers");
    assert_eq!(staying_balance, 5);
    nodes.shutdown().await;
}

/// Waits until every balance is as expected. (Message counters cannot
/// tell when the nodes are quiet once shards have moved: a shard's
/// counters start again on its new node.)
async fn settle(nodes: &TwoNodes, expected: &[i64]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let balances = nodes.balances(expected.len() as u64).await;
        if balances == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "balances never settled: {balances:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Takes `epoch` on both nodes, checks who sent which part with `check`,
/// audits the cut (it must hold `deposited`) and commits it.
async fn take_epoch(
    nodes: &mut TwoNodes,
    chains: &mut [Vec<ShardSnapshot>],
    epoch: u64,
    deposited: i64,
    check: impl Fn(&[(usize, ShardSnapshot)]),
) {
    nodes.runtimes[0].start_epoch(epoch).expect("start");
    nodes.runtimes[1].start_epoch(epoch).expect("start");
    let parts = nodes.collect_parts_anywhere(epoch).await;
    check(&parts);
    let audit = audit(chains, epoch, parts);
    assert_eq!(audit.total(), deposited, "epoch {epoch}: {audit:?}");
    for runtime in &nodes.runtimes {
        runtime.epoch_committed(epoch).expect("commit");
    }
}

/// Adds each part to its shard's chain and audits the folded chains as
/// the offline checker does.
fn audit(
    chains: &mut [Vec<ShardSnapshot>],
    epoch: u64,
    parts: Vec<(usize, ShardSnapshot)>,
) -> cairn_tests::checker::EpochAudit {
    let parts = parts.into_iter().map(|(_, part)| part).collect();
    audit_chains(epoch, chains, parts)
}

/// The first account from `first` on that lands on `shard`.
fn account_on(nodes: &TwoNodes, shard: ShardId, first: u64) -> Address {
    let count = nodes.runtimes[0].config().shard_count;
    (first..)
        .map(Address::of::<Account>)
        .find(|address| address.shard(count) == shard)
        .expect("some account lands on every shard")
}
