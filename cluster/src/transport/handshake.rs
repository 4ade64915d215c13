//! The handshake on a new TCP connection, four frames:
//!
//! 1. dialer → `Hello` (cluster id, node, incarnation, generation, nonce);
//! 2. acceptor → `Challenge` (its own hello, and its HMAC proof over both
//!    hellos), or `Refuse` for another cluster;
//! 3. dialer → `Auth` (its proof, its link ids, and what it has delivered
//!    per channel);
//! 4. acceptor → `Accept` (its link ids, and what it has delivered).
//!
//! Each side checks the other's proof, then its incarnation (an older one
//! of a known node is refused) and generation (a lower one than its own is
//! refused) — only after authentication, so an unauthenticated peer learns
//! nothing of the node's state. The delivered maps let each side resend
//! exactly what the other lacks. Link ids come in the frames after the
//! proofs: a side that sees the peer began a new link (it forgot this
//! node) resets its channels, and a delivered map counts only if it was
//! made for the receiver's current link (see `link`).

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::auth::{self, Role};
use super::codec::{FrameCodec, WireError};
use super::error::Refusal;
use super::identity::NodeId;
use super::link::LinkIds;
use super::tcp::peers::Shared;
use super::wire::{Delivered, Frame, Hello, WIRE_VERSION};

/// A connection on its wire format.
pub(crate) type Wire = Framed<TcpStream, FrameCodec>;

/// An authenticated, admitted peer.
pub(crate) struct Established {
    pub(crate) peer: NodeId,
    /// What the peer has delivered from this node, per channel.
    pub(crate) peer_delivered: Delivered,
}

/// Why a handshake failed.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The socket failed or closed: nobody's fault worth counting.
    Io(std::io::Error),
    /// Refused, with a detail for the log.
    Refused(Refusal, String),
}

impl From<WireError> for HandshakeError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::Io(error) => HandshakeError::Io(error),
            other => HandshakeError::Refused(
                other.refusal().unwrap_or(Refusal::Malformed),
                other.to_string(),
            ),
        }
    }
}

fn refused(reason: Refusal, detail: impl Into<String>) -> HandshakeError {
    HandshakeError::Refused(reason, detail.into())
}

/// The next frame, or an error if the peer closed.
async fn next(wire: &mut Wire) -> Result<Frame, HandshakeError> {
    match wire.next().await {
        Some(frame) => Ok(frame?),
        None => Err(HandshakeError::Io(std::io::ErrorKind::UnexpectedEof.into())),
    }
}

/// Tells the peer why it is refused, best effort, and returns the error.
async fn refuse(wire: &mut Wire, error: HandshakeError) -> HandshakeError {
    if let HandshakeError::Refused(reason, _) = &error {
        if *reason != Refusal::ByPeer {
            let _ = wire
                .send(Frame::Refuse {
                    reason: reason.label().to_owned(),
                })
                .await;
        }
    }
    error
}

/// The acceptor's side.
pub(crate) async fn accept(
    shared: &Shared,
    wire: &mut Wire,
) -> Result<Established, HandshakeError> {
    match accept_steps(shared, wire).await {
        Ok(established) => Ok(established),
        Err(error) => Err(refuse(wire, error).await),
    }
}

async fn accept_steps(shared: &Shared, wire: &mut Wire) -> Result<Established, HandshakeError> {
    let dialer = match next(wire).await? {
        Frame::Hello(hello) => hello,
        other => {
            return Err(refused(
                Refusal::Protocol,
                format!("{} before hello", other.kind()),
            ))
        }
    };
    check_identity(shared, &dialer, None)?;
    let acceptor = shared.hello();
    let secret = shared.config.secret.as_ref();
    let proof = auth::prove(secret, Role::Acceptor, &dialer, &acceptor);
    wire.send(Frame::Challenge {
        hello: acceptor.clone(),
        proof,
    })
    .await?;
    let (proof, peer_link, peer_delivered) = match next(wire).await? {
        Frame::Auth {
            proof,
            link,
            delivered,
        } => (proof, link, delivered),
        Frame::Refuse { reason } => return Err(refused(Refusal::ByPeer, reason)),
        other => {
            return Err(refused(
                Refusal::Protocol,
                format!("{} instead of auth", other.kind()),
            ))
        }
    };
    if !auth::verify(secret, Role::Dialer, &dialer, &acceptor, &proof) {
        return Err(refused(
            Refusal::Auth,
            format!("bad proof from {}", dialer.node),
        ));
    }
    admit(shared, &dialer)?;
    let (link, delivered, counts) = join_link(shared, &dialer, peer_link)?;
    wire.send(Frame::Accept { link, delivered }).await?;
    Ok(Established {
        peer: dialer.node,
        peer_delivered: if counts { peer_delivered } else { Vec::new() },
    })
}

/// The dialer's side, expecting to reach `expected`.
pub(crate) async fn dial(
    shared: &Shared,
    expected: &NodeId,
    wire: &mut Wire,
) -> Result<Established, HandshakeError> {
    match dial_steps(shared, expected, wire).await {
        Ok(established) => Ok(established),
        Err(error) => Err(refuse(wire, error).await),
    }
}

async fn dial_steps(
    shared: &Shared,
    expected: &NodeId,
    wire: &mut Wire,
) -> Result<Established, HandshakeError> {
    let dialer = shared.hello();
    wire.send(Frame::Hello(dialer.clone())).await?;
    let (acceptor, proof) = match next(wire).await? {
        Frame::Challenge { hello, proof } => (hello, proof),
        Frame::Refuse { reason } => return Err(refused(Refusal::ByPeer, reason)),
        other => {
            return Err(refused(
                Refusal::Protocol,
                format!("{} instead of challenge", other.kind()),
            ))
        }
    };
    check_identity(shared, &acceptor, Some(expected))?;
    let secret = shared.config.secret.as_ref();
    if !auth::verify(secret, Role::Acceptor, &dialer, &acceptor, &proof) {
        return Err(refused(
            Refusal::Auth,
            format!("bad proof from {}", acceptor.node),
        ));
    }
    admit(shared, &acceptor)?;
    let (link, delivered) = shared.link_state(&acceptor.node).ok_or_else(|| {
        refused(
            Refusal::Protocol,
            format!("{} was forgotten during the handshake", acceptor.node),
        )
    })?;
    let proof = auth::prove(secret, Role::Dialer, &dialer, &acceptor);
    wire.send(Frame::Auth {
        proof,
        link,
        delivered,
    })
    .await?;
    match next(wire).await? {
        Frame::Accept {
            link: peer_link,
            delivered: peer_delivered,
        } => {
            let (_, _, counts) = join_link(shared, &acceptor, peer_link)?;
            Ok(Established {
                peer: acceptor.node,
                peer_delivered: if counts { peer_delivered } else { Vec::new() },
            })
        }
        Frame::Refuse { reason } => Err(refused(Refusal::ByPeer, reason)),
        other => Err(refused(
            Refusal::Protocol,
            format!("{} instead of accept", other.kind()),
        )),
    }
}

/// The checks that need no secret: the wire version, the cluster, and
/// who the peer is.
fn check_identity(
    shared: &Shared,
    peer: &Hello,
    expected: Option<&NodeId>,
) -> Result<(), HandshakeError> {
    if peer.wire_version != WIRE_VERSION {
        return Err(refused(
            Refusal::WireVersion,
            format!(
                "peer speaks wire version {}, this node {WIRE_VERSION}: every member must run the same build",
                peer.wire_version
            ),
        ));
    }
    if peer.cluster_id != shared.config.cluster_id {
        return Err(refused(
            Refusal::ClusterId,
            format!(
                "peer is in cluster {:?}, not {:?}",
                peer.cluster_id, shared.config.cluster_id
            ),
        ));
    }
    if peer.node == shared.local {
        return Err(refused(Refusal::WrongNode, "peer claims to be this node"));
    }
    if let Some(expected) = expected {
        if peer.node != *expected {
            return Err(refused(
                Refusal::WrongNode,
                format!("dialed {expected} but reached {}", peer.node),
            ));
        }
    }
    Ok(())
}

/// Takes the peer's link ids: returns this side's link ids and delivered
/// map (after any reset), and whether the peer's delivered map was made
/// for this side's current link and so counts.
fn join_link(
    shared: &Shared,
    peer: &Hello,
    peer_link: LinkIds,
) -> Result<(LinkIds, Delivered, bool), HandshakeError> {
    shared.join_link(&peer.node, peer_link).map_err(|reason| {
        refused(
            reason,
            format!(
                "{} presents link {} of this node, which knows a newer one",
                peer.node, peer_link.own.0
            ),
        )
    })
}

fn admit(shared: &Shared, peer: &Hello) -> Result<(), HandshakeError> {
    shared.admit(peer).map_err(|reason| {
        refused(
            reason,
            format!(
                "{} presents incarnation {} and generation {} (this node is at generation {})",
                peer.node,
                peer.incarnation,
                peer.generation,
                shared.generation()
            ),
        )
    })
}
