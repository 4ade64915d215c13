//! Bad input on the cluster port — garbage bytes, an oversized frame, a
//! peer of another wire version, a wrong cluster id, a wrong secret, frames out of order, silence — is
//! refused: the connection is closed, the refusal is logged and counted by
//! reason, and the node keeps serving good peers.

mod transport_support;

use std::time::Duration;

use bytes::Bytes;
use cairn::transport::{
    ChannelId, Incarnation, NodeId, Secret, TcpTransport, Transport, TransportConfig,
    CONNECTIONS_REFUSED,
};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use transport_support::{
    config, counter, eventually, install_recorder, Received, CLUSTER, HANG_GUARD,
};

/// The handshake frames as a foreign client writes them: the same names,
/// fields and order as the transport's private wire types, so these tests
/// also pin the handshake's layout (not its integer widths, which
/// MessagePack does not tell apart).
#[derive(Debug, Serialize, Deserialize)]
struct Hello {
    wire_version: u32,
    cluster_id: String,
    node: String,
    incarnation: u64,
    generation: u64,
    nonce: Bytes,
}

#[derive(Debug, Serialize, Deserialize)]
enum Frame {
    Hello(Hello),
    Challenge {
        hello: Hello,
        proof: Bytes,
    },
    Auth {
        proof: Bytes,
        /// This side's link id and the peer's, as known.
        link: (u64, Option<u64>),
        delivered: Vec<((u32, u32), u64)>,
    },
    Accept {
        link: (u64, Option<u64>),
        delivered: Vec<((u32, u32), u64)>,
    },
    Refuse {
        reason: String,
    },
}

/// A hello as a later build might lay it out: the version first, the
/// rest different.
#[derive(Debug, Serialize)]
struct LaterHello {
    wire_version: u32,
    cluster_id: String,
    zone: String,
}

#[derive(Debug, Serialize)]
enum LaterFrame {
    Hello(LaterHello),
}

const MAX_FRAME: usize = 1024 * 1024;

/// The wire version this build speaks (the transport's `WIRE_VERSION`).
const WIRE_VERSION: u32 = 3;

async fn server() -> (TcpTransport, cairn::transport::Events) {
    let mut config = config(1).with_max_frame(MAX_FRAME);
    config.handshake_timeout = Duration::from_millis(300);
    TcpTransport::bind("127.0.0.1:0", config).await.unwrap()
}

fn hello(cluster: &str) -> Hello {
    Hello {
        wire_version: WIRE_VERSION,
        cluster_id: cluster.to_owned(),
        node: "127.0.0.1:1".to_owned(),
        incarnation: 1,
        generation: 0,
        nonce: Bytes::from_static(&[7; 32]),
    }
}

/// Reads until the server closes the connection (a reset counts too).
async fn closed(mut stream: TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the server kept a bad connection open");
    seen
}

/// Waits until `node` has counted one more refusal for `reason` than
/// `before`.
async fn refused(node: &NodeId, reason: &str, before: u64) {
    eventually(&format!("a {reason} refusal counted"), || {
        counter(CONNECTIONS_REFUSED, node, Some(reason)) > before
    })
    .await;
}

fn framed(stream: TcpStream) -> Framed<TcpStream, LengthDelimitedCodec> {
    Framed::new(stream, LengthDelimitedCodec::new())
}

async fn send(wire: &mut Framed<TcpStream, LengthDelimitedCodec>, frame: &Frame) {
    let bytes = rmp_serde::to_vec(frame).unwrap();
    wire.send(Bytes::from(bytes)).await.unwrap();
}

async fn recv(wire: &mut Framed<TcpStream, LengthDelimitedCodec>) -> Option<Frame> {
    let bytes = tokio::time::timeout(HANG_GUARD, wire.next())
        .await
        .ok()??
        .ok()?;
    Some(rmp_serde::from_slice(&bytes).expect("the server sends well-formed frames"))
}

/// Every kind of bad input in turn against one node, then a good peer
/// connects to it and messages flow both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_the_node_keeps_serving() {
    install_recorder();
    let (server, mut server_events) = server().await;
    let node = server.local_node().clone();
    let addr = server.local_addr();
    let count = |reason: &str| counter(CONNECTIONS_REFUSED, &node, Some(reason));

    // An HTTP request: "GET " read as a length prefix is far over the limit.
    let before = count("frame_too_large");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    closed(stream).await;
    refused(&node, "frame_too_large", before).await;

    // Garbage inside a well-formed length prefix.
    let before = count("malformed");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&[0, 0, 0, 6, 0xc1, 0xde, 0xad, 0xbe, 0xef, 0xc1])
        .await
        .unwrap();
    closed(stream).await;
    refused(&node, "malformed", before).await;

    // A length prefix just over the limit, then nothing: refused before
    // any body is read or buffered.
    let before = count("frame_too_large");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let oversized = u32::try_from(MAX_FRAME + 1).unwrap().to_be_bytes();
    stream.write_all(&oversized).await.unwrap();
    closed(stream).await;
    refused(&node, "frame_too_large", before).await;

    // Another build's wire version: told why, then closed, even with the
    // right cluster id, whether its hello is laid out as this build's or
    // not.
    let newer = Hello {
        wire_version: WIRE_VERSION + 1,
        ..hello(CLUSTER)
    };
    let relaid = LaterFrame::Hello(LaterHello {
        wire_version: WIRE_VERSION + 1,
        cluster_id: CLUSTER.to_owned(),
        zone: "eu-west".to_owned(),
    });
    for hello in [
        rmp_serde::to_vec(&Frame::Hello(newer)),
        rmp_serde::to_vec(&relaid),
    ] {
        let before = count("wire_version");
        let mut wire = framed(TcpStream::connect(addr).await.unwrap());
        wire.send(Bytes::from(hello.unwrap())).await.unwrap();
        match recv(&mut wire).await {
            Some(Frame::Refuse { reason }) => assert_eq!(reason, "wire_version"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        closed(wire.into_inner()).await;
        refused(&node, "wire_version", before).await;
    }

    // Another cluster: told why, then closed.
    let before = count("cluster_id");
    let mut wire = framed(TcpStream::connect(addr).await.unwrap());
    send(&mut wire, &Frame::Hello(hello("another-cluster"))).await;
    match recv(&mut wire).await {
        Some(Frame::Refuse { reason }) => assert_eq!(reason, "cluster_id"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    closed(wire.into_inner()).await;
    refused(&node, "cluster_id", before).await;

    // The right cluster but no secret: the proof does not verify.
    let before = count("auth");
    let mut wire = framed(TcpStream::connect(addr).await.unwrap());
    send(&mut wire, &Frame::Hello(hello(CLUSTER))).await;
    assert!(matches!(
        recv(&mut wire).await,
        Some(Frame::Challenge { .. })
    ));
    let forged = Frame::Auth {
        proof: Bytes::from_static(&[0; 32]),
        link: (1, None),
        delivered: Vec::new(),
    };
    send(&mut wire, &forged).await;
    match recv(&mut wire).await {
        Some(Frame::Refuse { reason }) => assert_eq!(reason, "auth"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    closed(wire.into_inner()).await;
    refused(&node, "auth", before).await;

    // A handshake frame out of order.
    let before = count("protocol");
    let mut wire = framed(TcpStream::connect(addr).await.unwrap());
    send(
        &mut wire,
        &Frame::Accept {
            link: (1, None),
            delivered: Vec::new(),
        },
    )
    .await;
    closed(wire.into_inner()).await;
    refused(&node, "protocol", before).await;

    // Silence: the handshake times out.
    let before = count("timeout");
    let stream = TcpStream::connect(addr).await.unwrap();
    closed(stream).await;
    refused(&node, "timeout", before).await;

    // A real node with the wrong secret: whichever end dials, one of them
    // refuses the other's proof, and they never connect.
    let wrong = config(1).with_secret(Some(Secret::new("wrong secret")));
    let (intruder, _intruder_events) = TcpTransport::bind("127.0.0.1:0", wrong).await.unwrap();
    let intruder_id = intruder.local_node().clone();
    let before = count("auth") + counter(CONNECTIONS_REFUSED, &intruder_id, Some("auth"));
    intruder.add_peer(node.clone());
    server.add_peer(intruder_id.clone());
    eventually("the wrong secret refused", || {
        count("auth") + counter(CONNECTIONS_REFUSED, &intruder_id, Some("auth")) > before
    })
    .await;
    assert!(!server.is_connected(&intruder_id) && !intruder.is_connected(&node));
    intruder.shutdown().await;
    server.remove_peer(&intruder_id, Incarnation(1));

    // After all that, a good peer connects and messages flow both ways.
    let (good, mut good_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let good_id = good.local_node().clone();
    let channel = ChannelId::new(1, 2);
    for index in 0..100u32 {
        good.send(&node, channel, Bytes::from(index.to_be_bytes().to_vec()))
            .unwrap();
        server
            .send(&good_id, channel, Bytes::from(index.to_be_bytes().to_vec()))
            .unwrap();
    }
    let mut at_server = Received::default();
    let mut at_good = Received::default();
    at_server.until(&mut server_events, 100).await;
    at_good.until(&mut good_events, 100).await;
    let expected: Vec<Vec<u8>> = (0..100u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(at_server.payloads(&good_id, channel), expected);
    assert_eq!(at_good.payloads(&node, channel), expected);

    good.shutdown().await;
    server.shutdown().await;
}

/// A node without a secret still runs the handshake (with an empty key),
/// so it refuses a node that has one, and vice versa.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_node_and_an_authenticated_one_refuse_each_other() {
    install_recorder();
    let open = TransportConfig::new(CLUSTER)
        .with_secret(None)
        .with_incarnation(cairn::transport::Incarnation(1));
    let (open, _open_events) = TcpTransport::bind("127.0.0.1:0", open).await.unwrap();
    let (closed, _closed_events) = TcpTransport::bind("127.0.0.1:0", config(1)).await.unwrap();
    let (open_id, closed_id) = (open.local_node().clone(), closed.local_node().clone());
    let auth = || {
        counter(CONNECTIONS_REFUSED, &open_id, Some("auth"))
            + counter(CONNECTIONS_REFUSED, &closed_id, Some("auth"))
    };
    let before = auth();
    open.add_peer(closed_id.clone());
    closed.add_peer(open_id.clone());
    eventually("a refusal for auth", || auth() > before).await;
    assert!(!open.is_connected(&closed_id) && !closed.is_connected(&open_id));
    open.shutdown().await;
    closed.shutdown().await;
}
