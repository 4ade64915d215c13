//! Restoring state stored under another schema fails with an error naming
//! the type, unless a migration from that schema is registered.

use cairn::prelude::*;
use cairn::NodeError;
use serde::{Deserialize, Serialize};

/// Asks a profile for itself.
#[derive(Serialize, Deserialize)]
struct Show;

/// Sets a profile's name.
#[derive(Serialize, Deserialize)]
struct Rename(String);

mod v1 {
    use super::*;

    /// The first version of the profile.
    #[stateful_function(name = "test/profile")]
    #[derive(Default, Serialize, Deserialize)]
    pub(super) struct Profile {
        pub(super) name: String,
    }

    #[handlers]
    impl Profile {
        fn rename(&mut self, _ctx: &mut Context, msg: Rename) {
            self.name = msg.0;
        }
    }
}

mod v2 {
    use super::*;

    /// The second version: a field added.
    #[stateful_function(name = "test/profile")]
    #[derive(Default, Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub(super) struct Profile {
        pub(super) name: String,
        pub(super) visits: u32,
    }

    #[handlers]
    impl Profile {
        fn show(&self, ctx: &mut Context, _msg: Show) {
            ctx.reply(self.clone());
        }
    }
}

/// Stored under v1, read by v2: refused without a migration, migrated with
/// one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_schemas_need_a_migration() {
    assert_ne!(v1::Profile::SCHEMA_HASH, v2::Profile::SCHEMA_HASH);
    let dir = tempfile::tempdir().unwrap();
    let store = format!("fs://{}", dir.path().display());
    let old = Node::builder()
        .register::<v1::Profile>()
        .shards(2)
        .store(&store)
        .snapshot_interval(None)
        .start()
        .await
        .unwrap();
    old.send(Address::of::<v1::Profile>("ada"), Rename("Ada".into()))
        .unwrap();
    old.flush().await.unwrap();
    old.snapshot_now().await.unwrap();
    old.shutdown().await;

    let refused = Node::builder()
        .register::<v2::Profile>()
        .shards(2)
        .store(&store)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, NodeError::SchemaMismatch { function, stored, current }
            if function == "test/profile"
                && *stored == v1::Profile::SCHEMA_HASH
                && *current == v2::Profile::SCHEMA_HASH),
        "{refused}"
    );

    let migrated = Node::builder()
        .register::<v2::Profile>()
        .shards(2)
        .store(&store)
        .snapshot_interval(None)
        .migrate::<v2::Profile>(v1::Profile::SCHEMA_HASH, |bytes| {
            let old: v1::Profile = rmp_serde::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok(v2::Profile {
                name: old.name,
                visits: 0,
            })
        })
        .start()
        .await
        .unwrap();
    let profile: v2::Profile = migrated
        .ask(Address::of::<v2::Profile>("ada"), Show)
        .await
        .unwrap();
    assert_eq!(
        profile,
        v2::Profile {
            name: "Ada".into(),
            visits: 0
        }
    );
    migrated.shutdown().await;
}
