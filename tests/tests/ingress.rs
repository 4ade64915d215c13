//! Durable ingress: a file read in splits whose offsets live in the
//! snapshot, flow control, refused records (SNAPSHOTS §3.6 rule 18, §5
//! invariant 13).

use std::path::Path;
use std::time::Duration;

use cairn::{Address, FileSource, Ingress, Node};
use cairn_tests::functions::{start_node, Account, Balance, Responder, Stall, Transfer};

const ACCOUNTS: u64 = 16;

/// Lines `from,to,amount`; returns the balances they lead to.
fn write_transfers(path: &Path, lines: u64) -> Vec<i64> {
    let mut balances = vec![0; ACCOUNTS as usize];
    let mut text = String::new();
    for line in 0..lines {
        let (from, to, amount) = (line % ACCOUNTS, (line * 7 + 3) % ACCOUNTS, line % 50 + 1);
        text.push_str(&format!("{from},{to},{amount}\n"));
        balances[from as usize] -= amount as i64;
        balances[to as usize] += amount as i64;
    }
    std::fs::write(path, text).unwrap();
    balances
}

/// The transfers file as an ingress of `splits` splits.
fn transfers(path: &Path, splits: u32, max_in_flight: usize) -> Ingress {
    let source = FileSource::open(path, splits).unwrap();
    Ingress::new("transfers", source, |line: &[u8]| {
        let text = std::str::from_utf8(line).map_err(|e| e.to_string())?;
        let fields: Vec<i64> = text
            .split(',')
            .map(|field| field.parse::<i64>().map_err(|e| format!("{field:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let [from, to, amount] = fields[..] else {
            return Err(format!("{} fields", fields.len()));
        };
        let transfer = Transfer {
            to: to as u64,
            amount,
        };
        Ok((Address::of::<Account>(from as u64), transfer))
    })
    .max_in_flight(max_in_flight)
}

async fn balances(node: &Node) -> Vec<i64> {
    let mut balances = Vec::new();
    for id in 0..ACCOUNTS {
        let balance: i64 = node.ask(Address::of::<Account>(id), Balance).await.unwrap();
        balances.push(balance);
    }
    balances
}

/// Every record takes effect once; started again on the same store after
/// everything committed, the node replays nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_takes_effect_once_and_a_restart_replays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transfers.csv");
    let expected = write_transfers(&file, 5_000);
    let store = format!("fs://{}", dir.path().join("store").display());
    let start = || {
        start_node(|builder| {
            builder
                .store(store.clone())
                .snapshot_interval(Some(Duration::from_millis(50)))
                .ingress(transfers(&file, 4, 64))
        })
    };
    let node = start().await;
    let epoch = node.finish_ingress().await.unwrap();
    assert!(node.ingress_finished().await.unwrap());
    assert_eq!(balances(&node).await, expected);
    node.shutdown().await;

    let node = start().await;
    assert!(node.recovered_from().unwrap() >= epoch);
    node.finish_ingress().await.unwrap();
    assert_eq!(balances(&node).await, expected);
    node.shutdown().await;
}

/// A node stopped mid-stream resumes from the offsets of its last
/// committed epoch: the records after that cut are read again, and those
/// before it are not, while their debits and credits were in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_stream_resumes_from_the_committed_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transfers.csv");
    let expected = write_transfers(&file, 100_000);
    let store = format!("fs://{}", dir.path().join("store").display());
    let start = || {
        start_node(|builder| {
            builder
                .store(store.clone())
                .snapshot_interval(None)
                .ingress(transfers(&file, 3, 32))
        })
    };
    let mut interrupted = 0;
    for _ in 0..3 {
        let node = start().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        node.snapshot_now().await.unwrap();
        interrupted += usize::from(!node.ingress_finished().await.unwrap());
        // More records are handled after the commit; the restart undoes
        // them and reads them again.
        tokio::time::sleep(Duration::from_millis(50)).await;
        node.shutdown().await;
    }
    assert!(
        interrupted > 0,
        "every run finished the file before its snapshot: the test needs a bigger file"
    );
    let node = start().await;
    node.finish_ingress().await.unwrap();
    assert_eq!(balances(&node).await, expected);
    node.shutdown().await;
}

/// No more records are read than the flow control allows, and a slow
/// handler makes the source wait at that bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_control_bounds_the_records_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stalls.csv");
    std::fs::write(&file, "1\n".repeat(300)).unwrap();
    let source = FileSource::open(&file, 2).unwrap();
    let ingress = Ingress::new("stalls", source, |line: &[u8]| {
        let millis: u64 = std::str::from_utf8(line)
            .map_err(|e| e.to_string())?
            .parse()
            .map_err(|e: std::num::ParseIntError| e.to_string())?;
        Ok::<_, String>((Address::of::<Responder>("slow"), Stall(millis)))
    })
    .max_in_flight(4);
    let node = start_node(|builder| builder.ingress(ingress)).await;
    let mut highest = 0;
    while !node.ingress_finished().await.unwrap() {
        highest = highest.max(node.ingress_in_flight("stalls").unwrap());
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    node.flush().await.unwrap();
    assert!(highest <= 4, "{highest} records in flight, bound 4");
    assert_eq!(highest, 4, "a 1 ms handler keeps the source at its bound");
    assert_eq!(node.ingress_in_flight("stalls"), Some(0));
    assert_eq!(node.ingress_in_flight("other"), None);
    node.shutdown().await;
}

/// A record the route refuses is skipped, and the rest still take effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transfers.csv");
    std::fs::write(&file, "0,1,5\nnot a transfer\n1,2,7\n0,1\n\n2,0,1").unwrap();
    let node = start_node(|builder| builder.ingress(transfers(&file, 2, 8))).await;
    while !node.ingress_finished().await.unwrap() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    node.flush().await.unwrap();
    let balances = balances(&node).await;
    assert_eq!(balances[..3], [-4, -2, 6]);
    node.shutdown().await;
}

/// Two ingresses with one name are refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingress_name_is_unique() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transfers.csv");
    write_transfers(&file, 1);
    let error = Node::builder()
        .register::<Account>()
        .ingress(transfers(&file, 1, 1))
        .ingress(transfers(&file, 1, 1))
        .start()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("`transfers` is added twice"),
        "{error}"
    );
}
