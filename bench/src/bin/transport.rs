//! What the node-to-node transport costs beside raw TCP on loopback, in one
//! process (two tokio workers):
//!
//! - `tell`: one-way throughput of 64-byte messages, the transport's
//!   `send` (sequence numbers, acknowledgements, retransmission buffer, HMAC
//!   handshake once) against raw length-prefixed frames on a `TcpStream`;
//! - `round_trip`: a message and its answer, one at a time, p50 and p99,
//!   against a raw TCP echo.
//!
//! `cargo run --release -p cairn-bench --bin transport -- [--scale F]`
//! prints one JSON line per measurement.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use cairn::transport::{
    ChannelId, Events, Secret, TcpTransport, Transport, TransportConfig, TransportEvent,
};
use cairn_bench::percentile;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};

const PAYLOAD: usize = 64;

fn main() -> Result<()> {
    let scale = parse_scale()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let messages = ((2_000_000.0 * scale) as u64).max(1_000);
        let round_trips = ((20_000.0 * scale) as usize).max(100);
        let raw = raw_tell(messages).await?;
        let (a, b, mut a_events, mut b_events) = transports().await?;
        let cairn = transport_tell(&a, &b, &mut b_events, messages).await?;
        print(serde_json::json!({
            "measurement": "tell",
            "messages": messages,
            "payload_bytes": PAYLOAD,
            "raw_tcp_msgs_per_sec": raw,
            "transport_msgs_per_sec": cairn,
            "ratio": cairn / raw,
        }));
        let raw = raw_round_trips(round_trips).await?;
        let cairn =
            transport_round_trips(&a, &b, &mut a_events, &mut b_events, round_trips).await?;
        print(serde_json::json!({
            "measurement": "round_trip",
            "round_trips": round_trips,
            "raw_tcp_p50_us": raw.0,
            "raw_tcp_p99_us": raw.1,
            "transport_p50_us": cairn.0,
            "transport_p99_us": cairn.1,
            "p50_ratio": cairn.0 / raw.0,
            "p99_ratio": cairn.1 / raw.1,
        }));
        a.shutdown().await;
        b.shutdown().await;
        Ok(())
    })
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

fn parse_scale() -> Result<f64> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(1.0),
        (Some("--scale"), Some(scale)) => scale.parse().context("--scale takes a number"),
        _ => anyhow::bail!("usage: transport [--scale F]"),
    }
}

/// Two connected transports, authenticated with a shared secret.
async fn transports() -> Result<(TcpTransport, TcpTransport, Events, Events)> {
    let config = || TransportConfig::new("bench").with_secret(Some(Secret::new("bench-secret")));
    let (a, a_events) = TcpTransport::bind("127.0.0.1:0", config()).await?;
    let (b, b_events) = TcpTransport::bind("127.0.0.1:0", config()).await?;
    a.add_peer(b.local_node().clone());
    b.add_peer(a.local_node().clone());
    while !(a.is_connected(b.local_node()) && b.is_connected(a.local_node())) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((a, b, a_events, b_events))
}

/// Messages per second from `a` to `b` over the transport, until `b` has
/// received them all.
async fn transport_tell(
    a: &TcpTransport,
    b: &TcpTransport,
    b_events: &mut Events,
    messages: u64,
) -> Result<f64> {
    let payload = Bytes::from(vec![7u8; PAYLOAD]);
    let channel = ChannelId::new(0, 1);
    let to = b.local_node().clone();
    let started = Instant::now();
    let receiving = async {
        let mut received = 0u64;
        while received < messages {
            match b_events.recv().await {
                Some(TransportEvent::Message(_)) => received += 1,
                Some(_) => {}
                None => anyhow::bail!("the transport stopped"),
            }
        }
        Ok(())
    };
    let sending = async {
        for index in 0..messages {
            a.send(&to, channel, payload.clone())?;
            if index % 1_000 == 0 {
                tokio::task::yield_now().await;
            }
        }
        Ok::<_, anyhow::Error>(())
    };
    let (received, sent) = tokio::join!(receiving, sending);
    received?;
    sent?;
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}

/// Round trips over the transport: `a` sends, `b` answers on the reverse
/// channel; p50 and p99 in microseconds.
async fn transport_round_trips(
    a: &TcpTransport,
    b: &TcpTransport,
    a_events: &mut Events,
    b_events: &mut Events,
    count: usize,
) -> Result<(f64, f64)> {
    let payload = Bytes::from(vec![7u8; PAYLOAD]);
    let (to_b, to_a) = (b.local_node().clone(), a.local_node().clone());
    let (forth, back) = (ChannelId::new(2, 3), ChannelId::new(3, 2));
    let echo = async {
        for _ in 0..count {
            loop {
                match b_events.recv().await {
                    Some(TransportEvent::Message(delivery)) => {
                        b.send(&to_a, back, delivery.payload)?;
                        break;
                    }
                    Some(_) => {}
                    None => anyhow::bail!("the transport stopped"),
                }
            }
        }
        Ok(())
    };
    let ask = async {
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            a.send(&to_b, forth, payload.clone())?;
            loop {
                match a_events.recv().await {
                    Some(TransportEvent::Message(_)) => break,
                    Some(_) => {}
                    None => anyhow::bail!("the transport stopped"),
                }
            }
            samples.push(started.elapsed());
        }
        Ok(samples)
    };
    let (echoed, samples) = tokio::join!(echo, ask);
    echoed?;
    Ok(percentiles(samples?))
}

/// Messages per second of raw length-prefixed frames over one connection.
async fn raw_tell(messages: u64) -> Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let receiver = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut frame = vec![0u8; PAYLOAD];
        for _ in 0..messages {
            let len = reader.read_u32().await? as usize;
            frame.resize(len, 0);
            reader.read_exact(&mut frame).await?;
        }
        Ok::<_, anyhow::Error>(())
    });
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let started = Instant::now();
    let mut writer = BufWriter::with_capacity(64 * 1024, stream);
    let payload = vec![7u8; PAYLOAD];
    for _ in 0..messages {
        writer.write_u32(PAYLOAD as u32).await?;
        writer.write_all(&payload).await?;
    }
    writer.flush().await?;
    receiver.await??;
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}

/// Round trips of one length-prefixed frame through a raw TCP echo; p50 and
/// p99 in microseconds.
async fn raw_round_trips(count: usize) -> Result<(f64, f64)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let mut frame = vec![0u8; PAYLOAD];
        for _ in 0..count {
            let len = stream.read_u32().await? as usize;
            frame.resize(len, 0);
            stream.read_exact(&mut frame).await?;
            let mut reply = Vec::with_capacity(4 + len);
            reply.extend_from_slice(&(len as u32).to_be_bytes());
            reply.extend_from_slice(&frame);
            stream.write_all(&reply).await?;
        }
        Ok::<_, anyhow::Error>(())
    });
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut request = Vec::with_capacity(4 + PAYLOAD);
    request.extend_from_slice(&(PAYLOAD as u32).to_be_bytes());
    request.extend_from_slice(&[7u8; PAYLOAD]);
    let mut frame = vec![0u8; PAYLOAD];
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        stream.write_all(&request).await?;
        let len = stream.read_u32().await? as usize;
        frame.resize(len, 0);
        stream.read_exact(&mut frame).await?;
        samples.push(started.elapsed());
    }
    echo.await??;
    Ok(percentiles(samples))
}

/// p50 and p99 in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| percentile(&samples, q).as_secs_f64() * 1e6;
    (at(0.50), at(0.99))
}
