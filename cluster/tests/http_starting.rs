//! The endpoint serves while the node recovers: `/healthz` says it lives,
//! `/readyz` and the views say it is not ready yet, `/metrics` lists every
//! series at zero.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// A store that never answers: an S3 endpoint that accepts connections and
/// holds them without a reply, so recovery waits on its first listing.
fn silent_s3() -> (String, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = mpsc::channel::<()>();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while stopped.try_recv().is_err() {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(true).unwrap();
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    held.push(stream);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (endpoint, stop)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn probes_see_a_node_that_is_still_recovering() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let (endpoint, stop) = silent_s3();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = format!("127.0.0.1:{}", free_port());
    let builder = common::builder(4)
        .store(format!(
            "s3://cairn/starting?endpoint={endpoint}&region=us-east-1"
        ))
        .http(http.parse().unwrap());
    let starting = runtime.spawn(builder.start());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let get = |path: &str| {
        let mut response = agent.get(format!("http://{http}{path}")).call()?;
        let body = response.body_mut().read_to_string()?;
        Ok::<_, ureq::Error>((response.status().as_u16(), body))
    };
    // The endpoint comes up before recovery, which never ends here.
    let mut waited = Duration::ZERO;
    let health = loop {
        match get("/healthz") {
            Ok(answer) => break answer,
            Err(error) => {
                assert!(
                    waited < Duration::from_secs(30),
                    "the endpoint never came up: {error}"
                );
                std::thread::sleep(Duration::from_millis(20));
                waited += Duration::from_millis(20);
            }
        }
    };
    assert_eq!(health.0, 200, "{}", health.1);
    assert!(
        !starting.is_finished(),
        "recovery is still waiting on the store"
    );
    let ready = get("/readyz").unwrap();
    assert_eq!(ready.0, 503, "{}", ready.1);
    assert!(ready.1.contains("not_ready"), "{}", ready.1);
    for view in ["/v1/shards", "/v1/functions", "/v1/snapshots", "/v1/actors"] {
        let answer = get(view).unwrap();
        assert_eq!(answer.0, 503, "{view}: {}", answer.1);
    }
    let invoke = agent
        .post(format!("http://{http}/v1/invoke/http/counter/a/Add"))
        .header("Content-Type", "application/json")
        .send("{\"amount\":1}")
        .unwrap();
    assert_eq!(invoke.status().as_u16(), 503, "nothing reaches an actor");
    let metrics = get("/metrics").unwrap();
    assert_eq!(metrics.0, 200);
    assert!(
        metrics.1.contains("cairn_recoveries_total"),
        "registered at zero"
    );

    // Giving up on the start stops the endpoint too.
    starting.abort();
    let _ = runtime.block_on(starting);
    drop(stop);
    let mut waited = Duration::ZERO;
    while get("/healthz").is_ok() {
        assert!(
            waited < Duration::from_secs(30),
            "the endpoint outlived its start"
        );
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
    }
}
