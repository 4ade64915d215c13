//! The store-side invariants of SNAPSHOTS §5 after a simulated run:
//! snapshot conservation and consistent cuts (1, 4), atomic commit (6)
//! and fencing (7).

use cairn_persistence::{ManifestStatus, Store, StoreOptions};

use super::workload::Workload;

/// A coordinator cut off from the others: from `after_epoch` on, no epoch
/// it writes may be committed.
#[derive(Debug, Clone)]
pub(super) struct Zombie {
    /// Its incarnation, as its manifests record it.
    pub(super) incarnation: u64,
    /// The generation it ran when it was cut off.
    pub(super) generation: u64,
    /// The first epoch number without a manifest when it was cut off: an
    /// epoch above it was started after the cut.
    pub(super) after_epoch: u64,
}

/// Checks every manifest of the store at `url`; returns how many epochs are
/// committed. Panics naming the epoch that breaks an invariant.
pub(super) async fn check_store(url: &str, workload: &Workload, zombies: &[Zombie]) -> usize {
    let store = Store::open(url, StoreOptions::default()).expect("open the store");
    let history = store.manifests().await.expect("list the manifests");
    let mut last_generation = 0;
    for (epoch, status) in &history {
        match status {
            ManifestStatus::Committed(manifest) => {
                // Invariant 6: generations never decrease along commits.
                assert!(
                    manifest.generation >= last_generation,
                    "epoch {epoch} committed by generation {} after generation {last_generation}",
                    manifest.generation
                );
                last_generation = manifest.generation;
                // Invariant 7: a cut-off coordinator commits nothing
                // started after the cut. A manifest names its writer only
                // by incarnation, and members started in the same
                // millisecond share one (incarnations are told apart per
                // address only), so the writer is the zombie if the
                // generation is the one it coordinated too: the majority
                // side commits only under generations it claimed itself.
                for zombie in zombies {
                    let by_zombie = manifest.incarnation == zombie.incarnation
                        && manifest.generation == zombie.generation;
                    assert!(
                        !by_zombie || *epoch <= zombie.after_epoch,
                        "epoch {epoch} committed by the cut-off coordinator {zombie:?}"
                    );
                }
            }
            ManifestStatus::Torn { reason } => {
                panic!("epoch {epoch}: a torn manifest ({reason}); commits must be atomic")
            }
            ManifestStatus::Aborted(_) | ManifestStatus::Fenced { .. } => {}
        }
    }
    for zombie in zombies {
        assert!(
            last_generation > zombie.generation,
            "no generation above the cut-off coordinator's {zombie:?} committed"
        );
    }
    // Invariant 6: every object a commit references is there and intact.
    let report = store.verify(None).await.expect("verify the store");
    assert!(report.is_clean(), "damaged commits: {:?}", report.problems);
    // Invariants 1 and 4, epoch by epoch (the checker panics on a bad cut).
    let audits = cairn_tests::checker::audit(url).await;
    for audit in &audits {
        let deposited = workload.deposits_entered(&audit.ingress);
        assert_eq!(
            audit.total(),
            deposited,
            "epoch {}: balances + money in flight ≠ deposits entered ({audit:?})",
            audit.epoch
        );
    }
    audits.len()
}
