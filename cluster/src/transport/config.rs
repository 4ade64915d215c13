//! What a transport is configured with: the cluster it belongs to, the
//! shared secret, and its limits.

use std::fmt;
use std::time::Duration;

use super::identity::{Generation, Incarnation};

/// The environment variable the shared secret is read from by
/// [`Secret::from_env`].
pub const SECRET_ENV: &str = "CAIRN_CLUSTER_SECRET";

/// The default largest frame, prefix excluded: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// The shared secret nodes authenticate one another with (HMAC-SHA256
/// challenge). Its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from its bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// The secret in the environment variable `var` (such as
    /// [`SECRET_ENV`]), or `None` if it is unset or empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var_os(var)
            .filter(|value| !value.is_empty())
            .map(|value| Self(value.into_encoded_bytes()))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How a transport is set up. Every node of a cluster must agree on
/// `cluster_id` and `secret`.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// The cluster's name; a peer of another cluster is refused.
    pub cluster_id: String,
    /// The shared secret. `None` leaves the cluster port unauthenticated
    /// (the transport logs a warning): the handshake then runs with an
    /// empty key, so it still refuses a peer that has a secret.
    pub secret: Option<Secret>,
    /// This process's incarnation; a restarted node must have a larger one.
    pub incarnation: Incarnation,
    /// The generation this node starts with.
    pub generation: Generation,
    /// The largest frame accepted or sent, length prefix excluded. A peer
    /// announcing a larger one is disconnected.
    pub max_frame: usize,
    /// How long a peer has to complete the handshake.
    pub handshake_timeout: Duration,
    /// How long a receiver may hold acknowledgements to batch them.
    pub ack_delay: Duration,
    /// In-memory transport only: how often unacknowledged frames are sent
    /// again, since its datagrams may be lost. (TCP resends on reconnect.)
    pub resend_interval: Duration,
    /// The first pause before redialing a peer; it doubles up to
    /// `max_redial_delay`.
    pub redial_delay: Duration,
    /// The longest pause between two dials of a peer.
    pub max_redial_delay: Duration,
    /// The most out-of-order frames a receiver buffers per channel; frames
    /// further ahead are dropped and sent again later.
    pub reorder_window: u64,
    /// What becomes of frames not yet acknowledged when a peer turns out
    /// to have restarted (a newer incarnation at its id). By default they
    /// are dropped: nothing of the old life reaches the new one. With
    /// `true` they are sent to the new incarnation, in order, numbered
    /// from 1 — for a layer above whose payloads say which life they are
    /// for and whose receiver drops the others (the cluster: data frames
    /// carry their generation, control messages name theirs). Frames
    /// queued for the new life before this node learned of it are then
    /// not lost with the old life's.
    pub carry_over_on_restart: bool,
}

impl TransportConfig {
    /// A configuration for `cluster_id` with the secret read from
    /// [`SECRET_ENV`], an incarnation from the clock and default limits.
    pub fn new(cluster_id: impl Into<String>) -> Self {
        Self {
            cluster_id: cluster_id.into(),
            secret: Secret::from_env(SECRET_ENV),
            incarnation: Incarnation::from_clock(),
            generation: Generation::default(),
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: Duration::from_secs(10),
            ack_delay: Duration::from_millis(5),
            resend_interval: Duration::from_millis(50),
            redial_delay: Duration::from_millis(50),
            max_redial_delay: Duration::from_secs(2),
            reorder_window: 4096,
            carry_over_on_restart: false,
        }
    }

    /// The same configuration with `secret` (`None`: unauthenticated).
    pub fn with_secret(mut self, secret: Option<Secret>) -> Self {
        self.secret = secret;
        self
    }

    /// The same configuration with another incarnation.
    pub fn with_incarnation(mut self, incarnation: Incarnation) -> Self {
        self.incarnation = incarnation;
        self
    }

    /// The same configuration with
    /// [`carry_over_on_restart`](Self::carry_over_on_restart) set.
    pub fn with_carry_over_on_restart(mut self, carry_over: bool) -> Self {
        self.carry_over_on_restart = carry_over;
        self
    }

    /// The same configuration with another largest frame.
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }

    /// The largest payload [`send`](super::Transport::send) accepts: the
    /// frame limit less room for the frame header.
    pub fn max_payload(&self) -> usize {
        self.max_frame.saturating_sub(FRAME_OVERHEAD)
    }
}

/// Room kept for a data frame's header (variant, channel, sequence
/// number, byte-string prefix) in MessagePack: well under 64 bytes.
const FRAME_OVERHEAD: usize = 64;
