//! Offline checking of committed epochs (SNAPSHOTS §5 invariant 6).

use std::collections::{HashMap, HashSet};

use crate::error::{CorruptReason, Error, Result};
use crate::format::parse_envelope;
use crate::history::ManifestStatus;
use crate::keys::{epoch_prefix, manifest_key, Key, COORD_DIR, EPOCHS_DIR};
use crate::manifest::ObjectRef;
use crate::store::Store;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The committed epochs whose objects were checked, ascending.
    pub epochs: Vec<u64>,
    /// How many distinct objects were read and checked.
    pub objects_checked: usize,
    /// Damage to committed epochs: each makes an epoch unrestorable.
    pub problems: Vec<Problem>,
    /// Leftovers that are not part of any commit (crash debris, fenced or torn manifests). Not
    /// errors: GC removes them.
    pub uncommitted: Vec<Uncommitted>,
}

impl VerifyReport {
    /// Whether every checked epoch is intact.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A committed epoch that cannot be restored as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The epoch whose manifest is affected.
    pub epoch: u64,
    /// The key of the damaged or missing object (or of the manifest).
    pub key: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a referenced object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The object does not exist.
    Missing,
    /// The object is shorter than recorded.
    Truncated {
        /// The length the manifest records.
        expected: u64,
        /// The length found.
        actual: u64,
    },
    /// The object's bytes do not match its checksum, or not the manifest's.
    ChecksumMismatch {
        /// The checksum recorded.
        expected: u32,
        /// The checksum found.
        actual: u32,
    },
    /// The object is not a readable Cairn object of the recorded kind and length.
    Undecodable(String),
    /// The epoch asked for is not committed.
    NotCommitted(String),
}

/// Something stored that no commit accounts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncommitted {
    /// Its key.
    pub key: String,
    /// Why it is not part of a commit.
    pub reason: UncommittedReason,
}

/// Why a stored key is not part of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UncommittedReason {
    /// A shard object no committed manifest references.
    Unreferenced,
    /// A temporary of the fs commit, left by a crash.
    TempFile,
    /// A MANIFEST that fails its checksum or does not decode.
    TornManifest(String),
    /// A valid MANIFEST of a zombie coordinator (SNAPSHOTS rule 29).
    FencedManifest {
        /// Its generation.
        generation: u64,
        /// The higher generation below it.
        by_generation: u64,
    },
    /// A name outside the layout.
    Unrecognised,
}

impl Store {
    /// Checks that every object referenced by the committed manifests (or by the manifest of
    /// `epoch` only) exists and passes its checksums, and lists what no commit accounts for.
    /// Objects are read from storage, never from the cache.
    pub async fn verify(&self, epoch: Option<u64>) -> Result<VerifyReport> {
        let history = self.manifests().await?;
        let mut report = VerifyReport::default();
        let referenced: HashSet<String> = history
            .iter()
            .filter_map(|(_, status)| status.committed())
            .flat_map(|manifest| manifest.objects().map(|object| object.key.to_string()))
            .collect();

        if let Some(wanted) = epoch {
            let not_committed = match history.iter().find(|(e, _)| *e == wanted).map(|(_, s)| s) {
                Some(ManifestStatus::Committed(_)) => None,
                None => Some("no MANIFEST".to_owned()),
                Some(ManifestStatus::Aborted(_)) => Some("ABORTED tombstone".to_owned()),
                Some(ManifestStatus::Fenced { by_generation, .. }) => {
                    Some(format!("fenced by generation {by_generation}"))
                }
                Some(ManifestStatus::Torn { reason }) => Some(format!("torn: {reason}")),
            };
            if let Some(why) = not_committed {
                report.problems.push(Problem {
                    epoch: wanted,
                    key: manifest_key(wanted),
                    kind: ProblemKind::NotCommitted(why),
                });
            }
        }

        let mut checked: HashMap<String, Option<ProblemKind>> = HashMap::new();
        for (e, status) in &history {
            let Some(manifest) = status.committed() else {
                continue;
            };
            if epoch.is_some_and(|wanted| wanted != *e) {
                continue;
            }
            report.epochs.push(*e);
            for object in manifest.objects() {
                let key = object.key.to_string();
                if !checked.contains_key(&key) {
                    let outcome = self.check_object(object).await?;
                    checked.insert(key.clone(), outcome);
                }
                if let Some(kind) = &checked[&key] {
                    report.problems.push(Problem {
                        epoch: *e,
                        key,
                        kind: kind.clone(),
                    });
                }
            }
        }
        report.objects_checked = checked.len();

        let statuses: HashMap<u64, &ManifestStatus> =
            history.iter().map(|(e, s)| (*e, s)).collect();
        let prefixes = match epoch {
            Some(e) => vec![epoch_prefix(e)],
            None => vec![EPOCHS_DIR.to_owned(), COORD_DIR.to_owned()],
        };
        for prefix in prefixes {
            for (path, _) in self.list_entries(&prefix).await? {
                let reason = match Key::parse(&path) {
                    Ok(Key::ShardObject(_)) if !referenced.contains(&path) => {
                        UncommittedReason::Unreferenced
                    }
                    Ok(Key::Temp { .. }) => UncommittedReason::TempFile,
                    Ok(Key::Manifest { epoch }) => match statuses.get(&epoch) {
                        Some(ManifestStatus::Torn { reason }) => {
                            UncommittedReason::TornManifest(reason.clone())
                        }
                        Some(ManifestStatus::Fenced {
                            manifest,
                            by_generation,
                        }) => UncommittedReason::FencedManifest {
                            generation: manifest.generation,
                            by_generation: *by_generation,
                        },
                        _ => continue,
                    },
                    Ok(_) => continue,
                    Err(_) => UncommittedReason::Unrecognised,
                };
                report.uncommitted.push(Uncommitted { key: path, reason });
            }
        }
        Ok(report)
    }

    /// Reads one referenced object and compares it with its reference.
    async fn check_object(&self, object: &ObjectRef) -> Result<Option<ProblemKind>> {
        let key = object.key.to_string();
        let bytes = match self.read_raw(&key).await {
            Ok(bytes) => bytes,
            Err(Error::NotFound { .. }) => return Ok(Some(ProblemKind::Missing)),
            Err(e) => return Err(e),
        };
        let actual = bytes.len() as u64;
        if actual < object.len {
            return Ok(Some(ProblemKind::Truncated {
                expected: object.len,
                actual,
            }));
        }
        let envelope = match parse_envelope(&key, &bytes) {
            Ok(envelope) => envelope,
            Err(Error::Corrupt { reason, .. }) => {
                return Ok(Some(match reason {
                    CorruptReason::Truncated { expected, actual } => {
                        ProblemKind::Truncated { expected, actual }
                    }
                    CorruptReason::ChecksumMismatch { expected, actual } => {
                        ProblemKind::ChecksumMismatch { expected, actual }
                    }
                    other => ProblemKind::Undecodable(other.to_string()),
                }))
            }
            Err(e @ Error::UnsupportedVersion { .. }) => {
                return Ok(Some(ProblemKind::Undecodable(e.to_string())))
            }
            Err(e) => return Err(e),
        };
        if envelope.crc32c != object.crc32c {
            return Ok(Some(ProblemKind::ChecksumMismatch {
                expected: object.crc32c,
                actual: envelope.crc32c,
            }));
        }
        if actual != object.len || envelope.kind != object.kind().object_kind() {
            return Ok(Some(ProblemKind::Undecodable(format!(
                "a {:?} object of {actual} bytes where the manifest records a {:?} object of {} bytes",
                envelope.kind,
                object.kind(),
                object.len
            ))));
        }
        Ok(None)
    }
}
