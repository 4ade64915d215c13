//! The shared-secret proof: HMAC-SHA256 over both hellos (cluster id,
//! node, incarnation, generation and both nonces) and the prover's role,
//! so a proof is bound to one handshake and cannot be reflected back.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::config::Secret;
use super::wire::Hello;

type HmacSha256 = Hmac<Sha256>;

/// Nonce length in bytes.
const NONCE_LEN: usize = 32;

/// Which side of the handshake proves.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Role {
    Dialer,
    Acceptor,
}

/// Fresh random bytes for a hello.
pub(crate) fn nonce() -> Bytes {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    Bytes::copy_from_slice(&nonce)
}

fn mac(secret: Option<&Secret>, role: Role, dialer: &Hello, acceptor: &Hello) -> HmacSha256 {
    let key = secret.map_or(&[][..], Secret::as_bytes);
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    let role = match role {
        Role::Dialer => 0u8,
        Role::Acceptor => 1u8,
    };
    let transcript = rmp_serde::to_vec(&(role, dialer, acceptor))
        .expect("this is a bug: a hello always encodes");
    mac.update(&transcript);
    mac
}

/// The proof `role` sends for this handshake.
pub(crate) fn prove(
    secret: Option<&Secret>,
    role: Role,
    dialer: &Hello,
    acceptor: &Hello,
) -> Bytes {
    Bytes::copy_from_slice(&mac(secret, role, dialer, acceptor).finalize().into_bytes())
}

/// Whether `proof` is `role`'s proof for this handshake (constant time).
pub(crate) fn verify(
    secret: Option<&Secret>,
    role: Role,
    dialer: &Hello,
    acceptor: &Hello,
    proof: &[u8],
) -> bool {
    mac(secret, role, dialer, acceptor)
        .verify_slice(proof)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::identity::{Generation, Incarnation, NodeId};

    fn hello(node: &str) -> Hello {
        Hello {
            wire_version: crate::transport::wire::WIRE_VERSION,
            cluster_id: "c".into(),
            node: NodeId::new(node),
            incarnation: Incarnation(1),
            generation: Generation(0),
            nonce: nonce(),
        }
    }

    #[test]
    fn a_proof_verifies_only_with_the_same_secret_role_and_hellos() {
        let secret = Secret::new("s3cret");
        let (dialer, acceptor) = (hello("a"), hello("b"));
        let proof = prove(Some(&secret), Role::Dialer, &dialer, &acceptor);
        assert!(verify(
            Some(&secret),
            Role::Dialer,
            &dialer,
            &acceptor,
            &proof
        ));
        let other = Secret::new("other");
        assert!(!verify(
            Some(&other),
            Role::Dialer,
            &dialer,
            &acceptor,
            &proof
        ));
        assert!(!verify(None, Role::Dialer, &dialer, &acceptor, &proof));
        assert!(!verify(
            Some(&secret),
            Role::Acceptor,
            &dialer,
            &acceptor,
            &proof
        ));
        let replayed = hello("b");
        assert!(!verify(
            Some(&secret),
            Role::Dialer,
            &dialer,
            &replayed,
            &proof
        ));
    }
}
