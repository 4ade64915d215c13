//! Objects round-trip; damaged, cut and deleted objects are reported with their key and reason.

mod common;

use cairn_persistence::{
    decode_object, CorruptReason, Error, ProblemKind, ShardObjectKind, StoreOptions,
    UncommittedReason,
};
use common::{commit, fs_store, manifest, path_of, put, types};

/// A stored object reads back verified and decodes to what was written.
#[tokio::test]
async fn objects_round_trip() {
    let (_dir, store) = fs_store(StoreOptions::default());
    let reference = put(&store, 1, 0, ShardObjectKind::State, "balance=100").await;
    let bytes = store.read_object(&reference.key).await.unwrap();
    assert_eq!(bytes.len() as u64, reference.len);
    let object = decode_object::<String>(&reference.key.to_string(), &bytes).unwrap();
    assert_eq!(object.body, "balance=100");
    assert_eq!(object.types, types());
    commit(&store, &manifest(1, 1, vec![(0, vec![reference.clone()])])).await;
    assert_eq!(
        store.read_manifest(1).await.unwrap().unwrap().shards[&0].chain,
        vec![reference]
    );
    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.epochs, report.objects_checked), (vec![1], 1));
    assert!(report.uncommitted.is_empty(), "{:?}", report.uncommitted);
}

/// A flipped byte, a truncated object and a deleted object are each reported by `verify` with the
/// right epoch, key and reason, and reading them gives typed errors.
#[tokio::test]
async fn damage_is_reported_with_key_and_reason() {
    let options = StoreOptions {
        cache_capacity_bytes: 0,
        ..StoreOptions::default()
    };
    let (dir, store) = fs_store(options);
    let flipped = put(
        &store,
        1,
        0,
        ShardObjectKind::State,
        "flip me, I am long enough",
    )
    .await;
    let cut = put(&store, 1, 1, ShardObjectKind::State, "cut me").await;
    let gone = put(&store, 1, 2, ShardObjectKind::ChanLog, "delete me").await;
    let fine = put(&store, 1, 3, ShardObjectKind::State, "leave me").await;
    commit(
        &store,
        &manifest(
            1,
            1,
            vec![
                (0, vec![flipped.clone()]),
                (1, vec![cut.clone()]),
                (2, vec![gone.clone()]),
                (3, vec![fine.clone()]),
            ],
        ),
    )
    .await;
    assert!(store.verify(None).await.unwrap().is_clean());

    let path = path_of(&dir, &flipped.key);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let path = path_of(&dir, &cut.key);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    std::fs::remove_file(path_of(&dir, &gone.key)).unwrap();

    let report = store.verify(None).await.unwrap();
    assert_eq!(report.objects_checked, 4);
    let mut problems: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.epoch, p.key.clone(), p.kind.clone()))
        .collect();
    problems.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = vec![
        (1, flipped.key.to_string(), "checksum"),
        (1, cut.key.to_string(), "truncated"),
        (1, gone.key.to_string(), "missing"),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(problems.len(), 3, "{problems:?}");
    for ((epoch, key, kind), (want_epoch, want_key, want_kind)) in problems.iter().zip(&expected) {
        assert_eq!((epoch, key), (want_epoch, want_key));
        let matches = match (want_kind, kind) {
            (&"checksum", ProblemKind::ChecksumMismatch { expected, actual }) => expected != actual,
            (&"truncated", ProblemKind::Truncated { expected, actual }) => {
                *expected == cut.len && *actual == cut.len - 7
            }
            (&"missing", ProblemKind::Missing) => true,
            _ => false,
        };
        assert!(matches, "{key}: expected {want_kind}, got {kind:?}");
    }
    assert!(
        report.uncommitted.is_empty(),
        "damage is not debris: {:?}",
        report.uncommitted
    );

    let only_epoch = store.verify(Some(1)).await.unwrap();
    assert_eq!(only_epoch.problems.len(), 3);

    match store.read_object(&flipped.key).await {
        Err(Error::Corrupt {
            key,
            reason: CorruptReason::ChecksumMismatch { .. },
        }) => assert_eq!(key, flipped.key.to_string()),
        other => panic!("flipped byte read as {other:?}"),
    }
    match store.read_object(&cut.key).await {
        Err(Error::Corrupt {
            key,
            reason: CorruptReason::Truncated { expected, actual },
        }) => {
            assert_eq!(key, cut.key.to_string());
            assert_eq!((expected, actual), (cut.len, cut.len - 7));
        }
        other => panic!("truncated object read as {other:?}"),
    }
    match store.read_object(&gone.key).await {
        Err(Error::NotFound { key }) => assert_eq!(key, gone.key.to_string()),
        other => panic!("deleted object read as {other:?}"),
    }
    assert!(store.read_object(&fine.key).await.is_ok());
}

/// Bytes that are not an object of the key's kind are refused by `put_object`.
#[tokio::test]
async fn put_refuses_bad_objects() {
    let (_dir, store) = fs_store(StoreOptions::default());
    let key = cairn_persistence::ShardObjectKey::new(1, 0, 1, 1, ShardObjectKind::State);
    let err = store
        .put_object(&key, b"not an object".to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt {
                reason: CorruptReason::BadMagic,
                ..
            }
        ),
        "{err}"
    );
    let chanlog =
        cairn_persistence::encode_object(cairn_persistence::ObjectKind::ChanLog, &[], &1u8)
            .unwrap();
    let err = store.put_object(&key, chanlog).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt {
                reason: CorruptReason::WrongKind { .. },
                ..
            }
        ),
        "{err}"
    );
    let good =
        cairn_persistence::encode_object(cairn_persistence::ObjectKind::State, &[], &1u8).unwrap();
    store.put_object(&key, good.clone()).await.unwrap();
    let err = store.put_object(&key, good).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
}

/// An object no committed manifest references is listed as uncommitted, not as a problem.
#[tokio::test]
async fn unreferenced_objects_are_uncommitted() {
    let (_dir, store) = fs_store(StoreOptions::default());
    let used = put(&store, 1, 0, ShardObjectKind::State, "used").await;
    let stray = put(&store, 1, 0, ShardObjectKind::State, "stray").await;
    commit(&store, &manifest(1, 1, vec![(0, vec![used])])).await;
    let report = store.verify(None).await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.uncommitted.len(), 1);
    assert_eq!(report.uncommitted[0].key, stray.key.to_string());
    assert_eq!(
        report.uncommitted[0].reason,
        UncommittedReason::Unreferenced
    );
}
