//! The baseline: raw length-prefixed frames on a plain TCP connection
//! between the same two processes the cluster runs in. A member child
//! serves it; the parent measures against it.
//!
//! A connection starts with one mode byte: `E` echoes every frame back;
//! `S` reads a `u64` count, then that many frames, and answers one byte
//! once it has read them all.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};

const ECHO: u8 = b'E';
const SINK: u8 = b'S';
const BUFFER: usize = 64 * 1024;

/// Serves every connection `listener` accepts, each in its own task,
/// until the process ends.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Err(error) = connection(stream).await {
                tracing::warn!(%error, "raw TCP connection failed");
            }
        });
    }
}

async fn connection(stream: TcpStream) -> Result<()> {
    stream.set_nodelay(true)?;
    let mut stream = BufReader::with_capacity(BUFFER, stream);
    match stream.read_u8().await? {
        ECHO => {
            let mut frame = Vec::new();
            let mut reply = Vec::new();
            loop {
                let Ok(len) = stream.read_u32().await else {
                    return Ok(());
                };
                read_frame(&mut stream, len, &mut frame).await?;
                reply.clear();
                reply.extend_from_slice(&len.to_be_bytes());
                reply.extend_from_slice(&frame);
                stream.get_mut().write_all(&reply).await?;
            }
        }
        SINK => {
            let count = stream.read_u64().await?;
            let mut frame = Vec::new();
            for _ in 0..count {
                let len = stream.read_u32().await?;
                read_frame(&mut stream, len, &mut frame).await?;
            }
            stream.get_mut().write_u8(1).await?;
            Ok(())
        }
        other => anyhow::bail!("unknown mode byte {other}"),
    }
}

async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    len: u32,
    frame: &mut Vec<u8>,
) -> Result<()> {
    frame.resize(len as usize, 0);
    reader.read_exact(frame).await?;
    Ok(())
}

/// A connection to a raw echo.
pub(crate) struct RawEcho {
    stream: TcpStream,
    request: Vec<u8>,
    frame: Vec<u8>,
}

impl RawEcho {
    /// Connects to the echo at `addr`, for frames of `payload` bytes.
    pub(crate) async fn connect(addr: SocketAddr, payload: usize) -> Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        stream.write_u8(ECHO).await?;
        let mut request = Vec::with_capacity(4 + payload);
        request.extend_from_slice(&(payload as u32).to_be_bytes());
        request.resize(4 + payload, 7);
        Ok(Self {
            stream,
            request,
            frame: Vec::new(),
        })
    }

    /// One round trip: how long it took.
    pub(crate) async fn round_trip(&mut self) -> Result<Duration> {
        let started = Instant::now();
        self.stream.write_all(&self.request).await?;
        let len = self.stream.read_u32().await?;
        read_frame(&mut self.stream, len, &mut self.frame).await?;
        let took = started.elapsed();
        ensure!(
            self.frame.len() + 4 == self.request.len(),
            "the echo came back with {} bytes",
            self.frame.len()
        );
        Ok(took)
    }
}

/// Sends `count` frames of `payload` bytes to the raw sink at `addr`
/// through a buffered writer: messages per second until the sink has
/// read the last one (it says so with one byte).
pub(crate) async fn tell(addr: SocketAddr, count: u64, payload: usize) -> Result<f64> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let started = Instant::now();
    let mut writer = BufWriter::with_capacity(BUFFER, stream);
    writer.write_u8(SINK).await?;
    writer.write_u64(count).await?;
    let body = vec![7u8; payload];
    for _ in 0..count {
        writer.write_u32(payload as u32).await?;
        writer.write_all(&body).await?;
    }
    writer.flush().await?;
    let mut stream = writer.into_inner();
    ensure!(stream.read_u8().await? == 1, "the raw sink did not confirm");
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
