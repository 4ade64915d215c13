//! `cairn snapshots show`: one actor's state as of a committed epoch.

use cairn::{Address, FunctionType, ShardCount};
use cairn_persistence::{parse_envelope, Manifest, ManifestStatus, ShardObjectKind, Store};
use clap::Args;

use super::state::{latest_state, to_json, StoredPart};
use super::{describe, open, SnapshotsError, StoreArg};

/// `show`'s flags.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The committed epoch to read the state as of.
    #[arg(long, value_name = "E")]
    epoch: u64,
    /// The actor's function type, e.g. bank/account.
    #[arg(long, value_name = "TYPE")]
    function: String,
    /// The actor's id.
    #[arg(long)]
    id: String,
}

/// Reads the actor's shard chain as of the epoch and prints its state.
pub(super) async fn run(args: ShowArgs) -> Result<(), SnapshotsError> {
    let store = open(&args.store)?;
    let manifest = committed(&store, args.epoch).await?;
    let no_state = || SnapshotsError::NoState {
        function: args.function.clone(),
        id: args.id.clone(),
        epoch: args.epoch,
    };
    let count = ShardCount::new(manifest.shard_count).ok_or_else(no_state)?;
    let shard = placement(&args.function, &args.id, count);
    let entry = manifest.shards.get(&shard).ok_or_else(no_state)?;
    let mut chain = Vec::with_capacity(entry.chain.len());
    for reference in &entry.chain {
        if reference.kind() != ShardObjectKind::State {
            continue;
        }
        let key = reference.key.to_string();
        let undecodable = |reason: String| SnapshotsError::Undecodable {
            what: format!("object {key}"),
            reason,
        };
        // Checked against its own checksum, then against the manifest's record.
        let bytes = store.read_object(&reference.key).await?;
        let envelope = parse_envelope(&key, &bytes)?;
        if envelope.crc32c != reference.crc32c || bytes.len() as u64 != reference.len {
            return Err(undecodable(format!(
                "{} bytes with checksum {:#010x}; the manifest records {} bytes with {:#010x}",
                bytes.len(),
                envelope.crc32c,
                reference.len,
                reference.crc32c
            )));
        }
        let part: StoredPart =
            rmp_serde::from_slice(envelope.body).map_err(|e| undecodable(e.to_string()))?;
        if part.shard != shard || part.epoch != reference.key.epoch {
            return Err(undecodable(format!(
                "holds shard {}'s part of epoch {}",
                part.shard, part.epoch
            )));
        }
        chain.push(part);
    }
    let state = latest_state(&chain, &args.function, &args.id).ok_or_else(no_state)?;
    let json = to_json(state).map_err(|reason| SnapshotsError::Undecodable {
        what: format!(
            "the state of {}/{} as of epoch {}",
            args.function, args.id, args.epoch
        ),
        reason,
    })?;
    println!("{json}");
    Ok(())
}

/// The manifest of `epoch`, if that epoch is committed.
async fn committed(store: &Store, epoch: u64) -> Result<Manifest, SnapshotsError> {
    let history = store.manifests().await?;
    let Some((_, status)) = history.into_iter().find(|(e, _)| *e == epoch) else {
        return Err(SnapshotsError::NotCommitted {
            epoch,
            why: "the store holds no MANIFEST for it".into(),
        });
    };
    let (word, detail) = describe(&status);
    match status {
        ManifestStatus::Committed(manifest) => Ok(manifest),
        _ => Err(SnapshotsError::NotCommitted {
            epoch,
            why: match detail {
                Some(detail) => format!("its MANIFEST is {word} ({detail})"),
                None => format!("its MANIFEST is {word}"),
            },
        }),
    }
}

/// The shard `function`/`id` lives on, computed by `cairn::Address`
/// itself, so it cannot drift from the runtime's placement.
fn placement(function: &str, id: &str, count: ShardCount) -> u32 {
    // `FunctionType` holds a `'static` name. The tool places one address
    // and exits, so leaking that one name costs nothing.
    let name: &'static str = Box::leak(function.to_owned().into_boxed_str());
    Address::new(FunctionType::from_static(name), id)
        .shard(count)
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placement matches the value `cairn-core` pins forever, and that
    /// of an address built from a static name.
    #[test]
    fn placement_is_the_runtimes() {
        let count = ShardCount::new(64).unwrap();
        assert_eq!(placement("test/counter", "7", count), 51);
        const BANK: FunctionType = FunctionType::from_static("bank/account");
        for id in ["0", "1", "42", "alice", ""] {
            for shards in [1, 4, 7, 1024] {
                let count = ShardCount::new(shards).unwrap();
                assert_eq!(
                    placement("bank/account", id, count),
                    Address::new(BANK, id).shard(count).0
                );
            }
        }
    }
}
