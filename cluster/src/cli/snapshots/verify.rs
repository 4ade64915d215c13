//! `cairn snapshots verify`: damage to committed epochs is an error; crash
//! leftovers are listed and are not.

use cairn_persistence::{ProblemKind, UncommittedReason, VerifyReport};
use clap::Args;

use super::{open, SnapshotsError, StoreArg};

/// `verify`'s flags.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Checks only this epoch, which must be committed.
    #[arg(long, value_name = "E")]
    epoch: Option<u64>,
}

/// Verifies the store and prints one line per problem and per leftover,
/// then a summary. Fails if there is any problem.
pub(super) async fn run(args: VerifyArgs) -> Result<(), SnapshotsError> {
    let store = open(&args.store)?;
    let report = store.verify(args.epoch).await?;
    print!("{}", render(&report));
    if report.is_clean() {
        Ok(())
    } else {
        Err(SnapshotsError::Damaged {
            problems: report.problems.len(),
            epochs: report.epochs.len(),
            objects: report.objects_checked,
        })
    }
}

/// The report as lines: problems, leftovers, and on a clean store a summary.
fn render(report: &VerifyReport) -> String {
    let mut out = String::new();
    for problem in &report.problems {
        out += &format!(
            "problem: epoch {}: {}: {}\n",
            problem.epoch,
            problem.key,
            problem_text(&problem.kind)
        );
    }
    for leftover in &report.uncommitted {
        out += &format!(
            "uncommitted (not an error): {}: {}\n",
            leftover.key,
            leftover_text(&leftover.reason)
        );
    }
    if report.is_clean() {
        let epochs = match report.epochs.as_slice() {
            [] => String::new(),
            epochs => {
                let list: Vec<String> = epochs.iter().map(u64::to_string).collect();
                format!(" [{}]", list.join(", "))
            }
        };
        out += &format!(
            "ok: {} committed epoch(s) checked{epochs}, {} object(s) checked, no problems\n",
            report.epochs.len(),
            report.objects_checked
        );
    }
    out
}

/// What is wrong with a referenced object, in words.
fn problem_text(kind: &ProblemKind) -> String {
    match kind {
        ProblemKind::Missing => "missing: the manifest references it but it does not exist".into(),
        ProblemKind::Truncated { expected, actual } => {
            format!("truncated: {actual} of {expected} bytes")
        }
        ProblemKind::ChecksumMismatch { expected, actual } => {
            format!("checksum mismatch: expected {expected:#010x}, found {actual:#010x}")
        }
        ProblemKind::Undecodable(why) => format!("unreadable: {why}"),
        ProblemKind::NotCommitted(why) => format!("not a committed epoch: {why}"),
        other => format!("{other:?}"),
    }
}

/// Why a leftover is not part of a commit, in words.
fn leftover_text(reason: &UncommittedReason) -> String {
    match reason {
        UncommittedReason::Unreferenced => "no committed manifest references it".into(),
        UncommittedReason::TempFile => "temporary of an unfinished commit".into(),
        UncommittedReason::TornManifest(why) => format!("torn MANIFEST: {why}"),
        UncommittedReason::FencedManifest {
            generation,
            by_generation,
        } => format!("MANIFEST of generation {generation}, fenced by generation {by_generation}"),
        UncommittedReason::Unrecognised => "a name outside the store's layout".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_persistence::{Problem, Uncommitted};

    /// Problems name the epoch, the object and the damage; leftovers are
    /// marked as not errors; the summary line appears only when clean.
    #[test]
    fn report_lines_are_precise() {
        let mut report = VerifyReport {
            epochs: vec![1, 2],
            objects_checked: 8,
            problems: Vec::new(),
            uncommitted: vec![Uncommitted {
                key: "epochs/x.state".into(),
                reason: UncommittedReason::Unreferenced,
            }],
        };
        let clean = render(&report);
        assert!(clean.contains("uncommitted (not an error): epochs/x.state: no committed"));
        assert!(clean.ends_with(
            "ok: 2 committed epoch(s) checked [1, 2], 8 object(s) checked, no problems\n"
        ));
        report.problems.push(Problem {
            epoch: 2,
            key: "epochs/y.state".into(),
            kind: ProblemKind::Truncated {
                expected: 100,
                actual: 40,
            },
        });
        let damaged = render(&report);
        assert!(
            damaged.starts_with("problem: epoch 2: epochs/y.state: truncated: 40 of 100 bytes\n")
        );
        assert!(!damaged.contains("ok:"));
    }
}
