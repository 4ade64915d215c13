//! `cairn snapshots …`, run as a real process on a store written by a real
//! node: listing, verifying (and catching corruption), and showing state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn::prelude::*;
use cairn::{ShardCount, ShardSnapshot};
use cairn_persistence::{decode_object, Store, StoreOptions};
use serde::{Deserialize, Serialize};

/// Adds to a tally and remembers the note.
#[derive(Debug, Serialize, Deserialize)]
struct Bump {
    by: u64,
    note: String,
}

/// The function whose states the tests read back.
#[stateful_function(name = "cli/tally")]
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Tally {
    count: u64,
    last: Option<String>,
    history: Vec<u64>,
}

#[handlers]
impl Tally {
    fn bump(&mut self, _ctx: &mut Context, msg: Bump) {
        self.count += msg.by;
        self.last = Some(msg.note);
        self.history.push(msg.by);
    }
}

/// Actors `a0`..`a7` are bumped before epoch 1; only `a0` again before
/// epoch 2, so epoch 2's parts are incremental.
const ACTORS: u64 = 8;

/// A store in a temporary folder holding committed epochs 1 and 2.
fn build_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let url = store_url(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let node = Node::builder()
            .register::<Tally>()
            .shards(4)
            .store(url)
            .snapshot_interval(None)
            .start()
            .await
            .unwrap();
        let bump = |id: String, by, note: &str| {
            let note = note.to_owned();
            node.send(Address::of::<Tally>(id), Bump { by, note })
                .unwrap()
        };
        for i in 0..ACTORS {
            bump(format!("a{i}"), i + 1, "first");
        }
        node.flush().await.unwrap();
        assert_eq!(node.snapshot_now().await.unwrap(), 1);
        bump("a0".into(), 100, "second");
        node.flush().await.unwrap();
        assert_eq!(node.snapshot_now().await.unwrap(), 2);
        node.shutdown().await;
    });
    dir
}

fn store_url(dir: &Path) -> String {
    format!("fs://{}", dir.display())
}

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .output()
        .expect("the cairn binary runs")
}

/// Runs `cairn snapshots SUB --store URL ARGS…`.
fn snapshots(sub: &str, dir: &Path, args: &[&str]) -> Output {
    let url = store_url(dir);
    let mut all = vec!["snapshots", sub, "--store", url.as_str()];
    all.extend_from_slice(args);
    cairn(&all)
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn stdout(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", text(output));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The state `show` prints for `id` at `epoch`.
fn show(dir: &Path, epoch: u64, id: &str) -> Tally {
    let epoch = epoch.to_string();
    let output = snapshots(
        "show",
        dir,
        &["--epoch", &epoch, "--function", "cli/tally", "--id", id],
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// Every `.state` object of the store, sorted by path.
fn state_objects(dir: &Path, epoch: u64) -> Vec<PathBuf> {
    let folder = dir.join("epochs").join(format!("{epoch:020}"));
    let mut objects: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "state"))
        .collect();
    objects.sort();
    objects
}

/// The object's key, as the store and the CLI name it.
fn key_of(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap().to_str().unwrap().to_owned()
}

/// `list` shows one committed row per epoch, with its parent, shards,
/// objects and bytes; `--json` says the same as data.
#[test]
fn list_shows_both_epochs_committed() {
    let dir = build_store();
    let table = stdout(&snapshots("list", dir.path(), &[]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two rows: {table}");
    assert!(lines[0].contains("EPOCH") && lines[0].contains("STATUS"));
    let cells = |line: &str| {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // EPOCH STATUS GENERATION PARENT SHARDS OBJECTS BYTES
    assert_eq!(cells(lines[1])[..6], ["1", "committed", "1", "-", "4", "4"]);
    assert_eq!(cells(lines[2])[..6], ["2", "committed", "1", "1", "4", "8"]);

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&snapshots("list", dir.path(), &["--json"]))).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    for (row, epoch) in rows.iter().zip([1, 2]) {
        assert_eq!(row["epoch"], epoch);
        assert_eq!(row["status"], "committed");
        assert_eq!(row["shards"], 4);
    }
    let bytes = |epoch: u64| -> u64 {
        state_objects(dir.path(), epoch)
            .iter()
            .map(|path| std::fs::metadata(path).unwrap().len())
            .sum()
    };
    assert_eq!(rows[0]["bytes"], bytes(1));
    assert_eq!(rows[1]["bytes"], bytes(1) + bytes(2), "epoch 2's chains");
}

/// `show` prints an actor's state as JSON as of each epoch: the value at
/// epoch 1 and the newer one at epoch 2, and for an actor unchanged since
/// epoch 1, its epoch-1 state at epoch 2 too (chains fold).
#[test]
fn show_prints_state_as_of_each_epoch() {
    let dir = build_store();
    let first = |by: u64| Tally {
        count: by,
        last: Some("first".into()),
        history: vec![by],
    };
    assert_eq!(show(dir.path(), 1, "a0"), first(1));
    assert_eq!(
        show(dir.path(), 2, "a0"),
        Tally {
            count: 101,
            last: Some("second".into()),
            history: vec![1, 100],
        }
    );
    assert_eq!(show(dir.path(), 2, "a5"), first(6));
    let raw = stdout(&snapshots(
        "show",
        dir.path(),
        &["--epoch", "1", "--function", "cli/tally", "--id", "a3"],
    ));
    assert!(raw.contains("\n  \"count\": 4,"), "pretty JSON: {raw}");
}

/// What `show` prints agrees with `ShardSnapshot::fold`, decoded in this
/// process (where `cli/tally` is registered), for every actor at every
/// epoch: the CLI's mirror of the part layout has not drifted.
#[test]
fn show_agrees_with_the_runtimes_fold() {
    let dir = build_store();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Store::open(&store_url(dir.path()), StoreOptions::default()).unwrap();
    let mut compared = 0;
    for epoch in [1, 2] {
        let manifest = runtime
            .block_on(store.read_manifest(epoch))
            .unwrap()
            .unwrap();
        for entry in manifest.shards.values() {
            let chain: Vec<ShardSnapshot> = entry
                .chain
                .iter()
                .map(|reference| {
                    let bytes = runtime.block_on(store.read_object(&reference.key)).unwrap();
                    decode_object(&reference.key.to_string(), &bytes)
                        .unwrap()
                        .body
                })
                .collect();
            let folded = ShardSnapshot::fold(chain).unwrap();
            for actor in &folded.actors {
                let expected: Tally = rmp_serde::from_slice(&actor.state).unwrap();
                let id = actor.address.id().as_str();
                assert_eq!(show(dir.path(), epoch, id), expected, "{id} at {epoch}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * ACTORS);
}

/// `show` exits 1 with a clear message for an epoch that is not committed
/// and for an actor with no stored state.
#[test]
fn show_refuses_unknown_epochs_and_actors() {
    let dir = build_store();
    let output = snapshots(
        "show",
        dir.path(),
        &["--epoch", "9", "--function", "cli/tally", "--id", "a0"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("epoch 9 is not committed"),
        "{}",
        text(&output)
    );
    for (function, id) in [("cli/tally", "nobody"), ("cli/other", "a0")] {
        let output = snapshots(
            "show",
            dir.path(),
            &["--epoch", "2", "--function", function, "--id", id],
        );
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        let expected = format!(
            "no state stored for {function}/{id} as of epoch 2 (it may never have been written)"
        );
        assert!(text(&output).contains(&expected), "{}", text(&output));
        assert!(output.stdout.is_empty());
    }
}

/// `verify` on an intact store exits 0 with a one-line summary.
#[test]
fn verify_passes_a_clean_store() {
    let dir = build_store();
    let out = stdout(&snapshots("verify", dir.path(), &[]));
    assert_eq!(
        out.trim(),
        "ok: 2 committed epoch(s) checked [1, 2], 8 object(s) checked, no problems"
    );
    let out = stdout(&snapshots("verify", dir.path(), &["--epoch", "1"]));
    assert!(out.contains("ok: 1 committed epoch(s) checked [1], 4 object(s)"));
}

/// Damages epoch 1's `.state` object of the shard `a0` lives on with
/// `damage`, then expects `verify` to exit 1 naming it with `what`, for
/// both epochs that reference it, and `show` to refuse `a0`'s state.
fn assert_verify_catches(damage: impl FnOnce(&Path), what: &str) {
    let dir = build_store();
    let shard = Address::of::<Tally>("a0").shard(ShardCount::new(4).unwrap());
    let victim = state_objects(dir.path(), 1)
        .into_iter()
        .find(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            name.starts_with(&format!("{shard}-g"))
        })
        .unwrap();
    let key = key_of(dir.path(), &victim);
    damage(&victim);
    let output = snapshots("verify", dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let out = String::from_utf8(output.stdout.clone()).unwrap();
    for epoch in [1, 2] {
        let line = format!("problem: epoch {epoch}: {key}: {what}");
        assert!(out.contains(&line), "no `{line}` in {}", text(&output));
    }
    assert!(
        text(&output).contains(
            "error: verify found 2 problem(s) (2 committed epoch(s), 8 object(s) checked)"
        ),
        "{}",
        text(&output)
    );
    for epoch in ["1", "2"] {
        let output = snapshots(
            "show",
            dir.path(),
            &["--epoch", epoch, "--function", "cli/tally", "--id", "a0"],
        );
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        assert!(output.stdout.is_empty(), "{}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&key),
            "{}",
            text(&output)
        );
    }
}

/// A flipped byte in a `.state` object is a checksum mismatch; `show`
/// refuses the state it held.
#[test]
fn verify_reports_a_flipped_byte() {
    assert_verify_catches(
        |path| {
            let mut bytes = std::fs::read(path).unwrap();
            // The body's last byte, just before the four of the CRC32C.
            let body_end = bytes.len() - 5;
            bytes[body_end] ^= 0x40;
            std::fs::write(path, bytes).unwrap();
        },
        "checksum mismatch",
    );
}

/// A truncated `.state` object is reported as truncated; `show` refuses
/// the state it held.
#[test]
fn verify_reports_a_truncated_object() {
    assert_verify_catches(
        |path| {
            let bytes = std::fs::read(path).unwrap();
            std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
        },
        "truncated",
    );
}

/// A deleted `.state` object is reported as missing; `show` refuses the
/// state it held.
#[test]
fn verify_reports_a_deleted_object() {
    assert_verify_catches(|path| std::fs::remove_file(path).unwrap(), "missing");
}

/// Crash leftovers — a `.state` object no manifest references, a torn
/// MANIFEST of a later epoch — are listed as uncommitted and are not
/// errors; `list` shows the torn epoch.
#[test]
fn verify_lists_leftovers_as_uncommitted() {
    let dir = build_store();
    let original = state_objects(dir.path(), 2).remove(0);
    let name = original.file_name().unwrap().to_str().unwrap();
    // Same shard, generation and incarnation; another UUID.
    let (prefix, _) = name.split_once("-r1-").unwrap();
    let stray = original.with_file_name(format!(
        "{prefix}-r1-00000000-0000-4000-8000-000000000001.state"
    ));
    std::fs::copy(&original, &stray).unwrap();
    let torn = dir.path().join("epochs").join(format!("{:020}", 3));
    std::fs::create_dir_all(&torn).unwrap();
    std::fs::write(torn.join("MANIFEST"), b"half a manifest").unwrap();

    let out = stdout(&snapshots("verify", dir.path(), &[]));
    let stray_key = key_of(dir.path(), &stray);
    assert!(
        out.contains(&format!(
            "uncommitted (not an error): {stray_key}: no committed manifest references it"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "uncommitted (not an error): epochs/{:020}/MANIFEST: torn MANIFEST",
            3
        )),
        "{out}"
    );
    assert!(out.contains("ok: 2 committed epoch(s) checked"), "{out}");

    let table = stdout(&snapshots("list", dir.path(), &[]));
    let last = table.lines().last().unwrap().split_whitespace();
    assert_eq!(last.take(2).collect::<Vec<_>>(), ["3", "torn"], "{table}");
}

/// Wrong flags are clap's error (exit 2); a store URL that does not parse,
/// or names no store, is exit 1 with the store's error.
#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["snapshots", "list"][..],
        &[
            "snapshots",
            "verify",
            "--store",
            "memory://",
            "--epoch",
            "x",
        ],
        &["snapshots", "show", "--store", "memory://", "--epoch", "1"],
        &["snapshots", "list", "--store", "memory://", "--bogus"],
    ] {
        let output = cairn(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
    }
    let missing = dir.path().join("nothing-here");
    let missing_url = store_url(&missing);
    for url in ["ftp://somewhere", "s3://", missing_url.as_str()] {
        let output = cairn(&["snapshots", "list", "--store", url]);
        assert_eq!(output.status.code(), Some(1), "{url}: {}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).starts_with("error: "),
            "{}",
            text(&output)
        );
    }
    assert!(!missing.exists(), "a reading tool creates no store");
}
