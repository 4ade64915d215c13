//! The create-only race and the commit, read, verify and GC cycle against a
//! real S3-compatible server: moto, started by the test itself (see the
//! `cairn-test-s3` crate).

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cairn_persistence::{
    CommitOutcome, GcPolicy, Manifest, ManualClock, ShardObjectKind, Store, StoreOptions,
};
use cairn_test_s3::S3Server;
use common::{commit, manifest, put};
use tokio::sync::Barrier;

/// A store in a fresh prefix of the server's test bucket.
fn open(server: &S3Server, options: StoreOptions) -> Store {
    Store::open(&server.fresh_url(), options).expect("open the S3 store")
}

/// One server for every S3 scenario, stopped when the test ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_keeps_the_store_promises() {
    let server = tokio::task::spawn_blocking(S3Server::start).await.unwrap();
    create_only_race_has_one_winner(&server).await;
    commit_read_verify_gc(&server).await;
}

/// 16 writers race for one MANIFEST over S3 (`If-None-Match: *`): exactly one commits and the
/// stored manifest is the winner's, complete.
async fn create_only_race_has_one_winner(server: &S3Server) {
    let store = open(server, StoreOptions::default());
    let shared = put(&store, 1, 0, ShardObjectKind::State, "state").await;
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let store = store.clone();
        let barrier = barrier.clone();
        let mut m = manifest(1, writer + 1, vec![(0, vec![shared.clone()])]);
        m.metadata
            .insert("writer".into(), writer.to_le_bytes().to_vec());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (store.commit_manifest(&m).await.expect("commit"), m)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (outcome, m) = task.await.unwrap();
        if outcome == CommitOutcome::Committed {
            winners.push(m);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer commits");
    assert_eq!(
        store.read_manifest(1).await.unwrap(),
        Some(winners[0].clone())
    );

    let mut claims = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            store.claim_generation(9).await.unwrap()
        }));
    }
    let mut committed = 0;
    for claim in claims {
        committed += usize::from(claim.await.unwrap() == CommitOutcome::Committed);
    }
    assert_eq!(committed, 1, "exactly one generation claim wins");
    assert_eq!(store.highest_generation().await.unwrap(), Some(9));
}

/// Objects and manifests round-trip through S3; tombstones are skipped; verify is clean and GC
/// keeps the newest commits and their chains.
async fn commit_read_verify_gc(server: &S3Server) {
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let options = StoreOptions {
        clock: clock.clone(),
        ..StoreOptions::default()
    };
    let store = open(server, options);
    let base = put(&store, 1, 0, ShardObjectKind::State, "base").await;
    let old = put(&store, 1, 1, ShardObjectKind::State, "old").await;
    commit(
        &store,
        &manifest(1, 1, vec![(0, vec![base.clone()]), (1, vec![old.clone()])]),
    )
    .await;
    commit(&store, &Manifest::tombstone(2, 1, 1)).await;
    let delta = put(&store, 3, 0, ShardObjectKind::State, "delta").await;
    let new = put(&store, 3, 1, ShardObjectKind::ChanLog, "log").await;
    let m3 = manifest(
        3,
        1,
        vec![(0, vec![base.clone(), delta.clone()]), (1, vec![new])],
    );
    commit(&store, &m3).await;

    assert_eq!(store.latest_committed().await.unwrap(), Some(m3.clone()));
    assert_eq!(store.committed_epochs().await.unwrap(), vec![1, 3]);
    assert_eq!(store.next_epoch().await.unwrap(), 4);
    let bytes = store.read_object(&delta.key).await.unwrap();
    let body = cairn_persistence::decode_object::<String>(&delta.key.to_string(), &bytes).unwrap();
    assert_eq!(body.body, "delta");
    let report = store.verify(None).await.unwrap();
    assert!(
        report.is_clean() && report.uncommitted.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.objects_checked, 4);

    let policy = GcPolicy {
        keep: 1,
        min_age: Duration::from_secs(60),
    };
    assert!(
        store.gc(policy).await.unwrap().deleted.is_empty(),
        "all young"
    );
    clock.advance(Duration::from_secs(3600));
    let mut deleted = store.gc(policy).await.unwrap().deleted;
    deleted.sort();
    let mut expected = vec![
        cairn_persistence::manifest_key(1),
        cairn_persistence::manifest_key(2),
        old.key.to_string(),
    ];
    expected.sort();
    assert_eq!(deleted, expected);
    assert_eq!(store.committed_epochs().await.unwrap(), vec![3]);
    store.read_object(&base.key).await.unwrap();
    assert!(store.verify(None).await.unwrap().is_clean());
}
