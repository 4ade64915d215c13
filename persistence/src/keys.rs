//! Typed keys for the layout of SNAPSHOTS §3.4.
//!
//! ```text
//! epochs/<E:020>/<shard>-g<g>-r<R>-<uuid>.{state,chanlog}   shard objects, unique names
//! epochs/<E:020>/MANIFEST                                  the commit point of epoch E
//! coord/gen-<g:020>                                        generation claims
//! app/<name>                                               application parameters
//! <any of the above>.tmp-<uuid>                            fs commit temporaries
//! ```
//!
//! Numbers are zero-padded so that a lexicographic listing is in numeric order. Only the
//! canonical spelling of a key parses: a parsed key prints back to exactly the same string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::format::ObjectKind;

pub(crate) const EPOCHS_DIR: &str = "epochs/";
pub(crate) const COORD_DIR: &str = "coord/";
pub(crate) const APP_DIR: &str = "app/";
const MANIFEST: &str = "MANIFEST";
const GEN_PREFIX: &str = "gen-";
const TEMP_MARK: &str = ".tmp-";

/// What a shard object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShardObjectKind {
    /// Actor state, timers, mailboxes and cursors (a base or a delta).
    State,
    /// The channel state recorded during the epoch.
    ChanLog,
}

impl ShardObjectKind {
    /// The object kind tag stored inside objects of this kind.
    pub fn object_kind(self) -> ObjectKind {
        match self {
            Self::State => ObjectKind::State,
            Self::ChanLog => ObjectKind::ChanLog,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::ChanLog => "chanlog",
        }
    }
}

/// The key of an object a shard contributed to an epoch. Unique by its UUID, so a retried or
/// racing upload never overwrites another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShardObjectKey {
    /// The epoch the object was written for.
    pub epoch: u64,
    /// The shard that wrote it.
    pub shard: u32,
    /// The coordinator generation `g` it was written under.
    pub generation: u64,
    /// The cluster incarnation `R` it was written under.
    pub incarnation: u64,
    /// The unique part of the name.
    pub id: Uuid,
    /// What it holds.
    pub kind: ShardObjectKind,
}

impl ShardObjectKey {
    /// A fresh, unique key (random UUID v4).
    pub fn new(
        epoch: u64,
        shard: u32,
        generation: u64,
        incarnation: u64,
        kind: ShardObjectKind,
    ) -> Self {
        Self {
            epoch,
            shard,
            generation,
            incarnation,
            id: Uuid::new_v4(),
            kind,
        }
    }
}

impl fmt::Display for ShardObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:020}/{}-g{}-r{}-{}.{}",
            EPOCHS_DIR,
            self.epoch,
            self.shard,
            self.generation,
            self.incarnation,
            self.id.as_hyphenated(),
            self.kind.extension()
        )
    }
}

impl FromStr for ShardObjectKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match Key::parse(s)? {
            Key::ShardObject(key) => Ok(key),
            _ => Err(invalid(s, "not a shard object key")),
        }
    }
}

impl TryFrom<String> for ShardObjectKey {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ShardObjectKey> for String {
    fn from(key: ShardObjectKey) -> Self {
        key.to_string()
    }
}

/// Any key of the layout, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A shard object.
    ShardObject(ShardObjectKey),
    /// The MANIFEST of an epoch.
    Manifest {
        /// The epoch.
        epoch: u64,
    },
    /// A generation claim.
    Generation {
        /// The claimed generation.
        generation: u64,
    },
    /// Application parameters pinned on first start.
    Parameters {
        /// Their name: letters, digits, `-` and `_`.
        name: String,
    },
    /// A temporary file of the fs commit, to be hard-linked to `target`.
    Temp {
        /// The key the temporary was written for.
        target: Box<Key>,
        /// The unique part of its name.
        id: Uuid,
    },
}

impl Key {
    /// Parses a key; only the canonical spelling is accepted.
    pub fn parse(s: &str) -> Result<Self> {
        let key = Self::parse_loose(s)?;
        if key.to_string() != s {
            return Err(invalid(s, &format!("not canonical; expected {key}")));
        }
        Ok(key)
    }

    /// The epoch folder the key lives in, if it lives in one.
    pub fn epoch(&self) -> Option<u64> {
        match self {
            Self::ShardObject(k) => Some(k.epoch),
            Self::Manifest { epoch } => Some(*epoch),
            Self::Generation { .. } | Self::Parameters { .. } => None,
            Self::Temp { target, .. } => target.epoch(),
        }
    }

    fn parse_loose(s: &str) -> Result<Self> {
        if let Some((target, id)) = s.rsplit_once(TEMP_MARK) {
            let id = Uuid::parse_str(id).map_err(|e| invalid(s, &format!("temporary id: {e}")))?;
            let target = Self::parse_loose(target)?;
            if matches!(target, Self::Temp { .. }) {
                return Err(invalid(s, "temporary of a temporary"));
            }
            return Ok(Self::Temp {
                target: Box::new(target),
                id,
            });
        }
        if let Some(name) = s.strip_prefix(APP_DIR) {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
            if !valid {
                return Err(invalid(
                    s,
                    "parameters names use letters, digits, `-` and `_`",
                ));
            }
            return Ok(Self::Parameters {
                name: name.to_owned(),
            });
        }
        if let Some(rest) = s.strip_prefix(COORD_DIR) {
            let digits = rest
                .strip_prefix(GEN_PREFIX)
                .ok_or_else(|| invalid(s, "coord/ holds only gen-<g> claims"))?;
            return Ok(Self::Generation {
                generation: parse_padded(s, digits)?,
            });
        }
        let rest = s
            .strip_prefix(EPOCHS_DIR)
            .ok_or_else(|| invalid(s, "keys live under epochs/, coord/ or app/"))?;
        let (epoch, name) = rest
            .split_once('/')
            .ok_or_else(|| invalid(s, "expected epochs/<E>/<name>"))?;
        let epoch = parse_padded(s, epoch)?;
        if name == MANIFEST {
            return Ok(Self::Manifest { epoch });
        }
        let (stem, extension) = name
            .rsplit_once('.')
            .ok_or_else(|| invalid(s, "shard object without extension"))?;
        let kind = match extension {
            "state" => ShardObjectKind::State,
            "chanlog" => ShardObjectKind::ChanLog,
            other => return Err(invalid(s, &format!("unknown extension {other:?}"))),
        };
        let mut parts = stem.splitn(4, '-');
        let mut next = |what: &str| {
            parts
                .next()
                .ok_or_else(|| invalid(s, &format!("missing {what}")))
        };
        let shard = next("shard")?;
        let generation = next("generation")?;
        let incarnation = next("incarnation")?;
        let id = next("uuid")?;
        Ok(Self::ShardObject(ShardObjectKey {
            epoch,
            shard: parse_number(s, "shard", shard)?,
            generation: parse_number(s, "generation", prefixed(s, generation, 'g')?)?,
            incarnation: parse_number(s, "incarnation", prefixed(s, incarnation, 'r')?)?,
            id: Uuid::parse_str(id).map_err(|e| invalid(s, &format!("uuid: {e}")))?,
            kind,
        }))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShardObject(k) => k.fmt(f),
            Self::Manifest { epoch } => f.write_str(&manifest_key(*epoch)),
            Self::Generation { generation } => f.write_str(&generation_key(*generation)),
            Self::Parameters { name } => write!(f, "{APP_DIR}{name}"),
            Self::Temp { target, id } => write!(f, "{target}{TEMP_MARK}{}", id.as_hyphenated()),
        }
    }
}

/// `epochs/<E:020>/MANIFEST`.
pub fn manifest_key(epoch: u64) -> String {
    format!("{}{MANIFEST}", epoch_prefix(epoch))
}

/// `coord/gen-<g:020>`.
pub fn generation_key(generation: u64) -> String {
    format!("{COORD_DIR}{GEN_PREFIX}{generation:020}")
}

/// `epochs/<E:020>/`, the folder of an epoch.
pub fn epoch_prefix(epoch: u64) -> String {
    format!("{EPOCHS_DIR}{epoch:020}/")
}

/// Parses the epoch out of a folder name `<E:020>` (with or without the trailing slash).
pub(crate) fn parse_epoch_folder(name: &str) -> Option<u64> {
    let digits = name.strip_suffix('/').unwrap_or(name);
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn parse_padded(key: &str, digits: &str) -> Result<u64> {
    parse_epoch_folder(digits)
        .ok_or_else(|| invalid(key, &format!("{digits:?} is not a 20-digit number")))
}

fn prefixed<'a>(key: &str, part: &'a str, prefix: char) -> Result<&'a str> {
    part.strip_prefix(prefix)
        .ok_or_else(|| invalid(key, &format!("{part:?} should start with {prefix:?}")))
}

fn parse_number<T: FromStr>(key: &str, what: &str, digits: &str) -> Result<T> {
    digits
        .parse()
        .map_err(|_| invalid(key, &format!("{what} {digits:?} is not a number")))
}

fn invalid(key: &str, reason: &str) -> Error {
    Error::InvalidKey {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_shard_key() -> impl Strategy<Value = ShardObjectKey> {
        (
            any::<u64>(),
            any::<u32>(),
            any::<u64>(),
            any::<u64>(),
            any::<u128>(),
            any::<bool>(),
        )
            .prop_map(|(epoch, shard, generation, incarnation, id, state)| {
                ShardObjectKey {
                    epoch,
                    shard,
                    generation,
                    incarnation,
                    id: Uuid::from_u128(id),
                    kind: if state {
                        ShardObjectKind::State
                    } else {
                        ShardObjectKind::ChanLog
                    },
                }
            })
    }

    proptest! {
        /// Every shard object key prints and parses back to itself, also inside a temp name.
        #[test]
        fn shard_keys_round_trip(key in any_shard_key(), temp in any::<u128>()) {
            let s = key.to_string();
            prop_assert_eq!(Key::parse(&s).unwrap(), Key::ShardObject(key.clone()));
            let t = Key::Temp { target: Box::new(Key::ShardObject(key)), id: Uuid::from_u128(temp) };
            prop_assert_eq!(Key::parse(&t.to_string()).unwrap(), t);
        }

        /// Manifest and generation keys round-trip and sort numerically.
        #[test]
        fn numbered_keys_round_trip_and_sort(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(Key::parse(&manifest_key(a)).unwrap(), Key::Manifest { epoch: a });
            prop_assert_eq!(Key::parse(&generation_key(a)).unwrap(), Key::Generation { generation: a });
            prop_assert_eq!(manifest_key(a).cmp(&manifest_key(b)), a.cmp(&b));
        }

        /// Arbitrary strings never panic the parser.
        #[test]
        fn arbitrary_strings_do_not_panic(s in ".{0,120}") {
            let _ = Key::parse(&s);
        }
    }

    /// The exact spelling of SNAPSHOTS §3.4.
    #[test]
    fn spelled_as_the_design_says() {
        let key = ShardObjectKey {
            epoch: 7,
            shard: 12,
            generation: 3,
            incarnation: 2,
            id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            kind: ShardObjectKind::ChanLog,
        };
        assert_eq!(
            key.to_string(),
            "epochs/00000000000000000007/12-g3-r2-01234567-89ab-cdef-0123-456789abcdef.chanlog"
        );
        assert_eq!(manifest_key(7), "epochs/00000000000000000007/MANIFEST");
        assert_eq!(generation_key(3), "coord/gen-00000000000000000003");
    }

    /// Non-canonical and foreign names are refused with a reason.
    #[test]
    fn bad_keys_are_refused() {
        for bad in [
            "epochs/7/MANIFEST",
            "epochs/00000000000000000007/manifest",
            "epochs/00000000000000000007/012-g3-r2-01234567-89ab-cdef-0123-456789abcdef.state",
            "epochs/00000000000000000007/12-3-r2-01234567-89ab-cdef-0123-456789abcdef.state",
            "epochs/00000000000000000007/12-g3-r2-01234567-89AB-cdef-0123-456789abcdef.state",
            "epochs/00000000000000000007/12-g3-r2-01234567-89ab-cdef-0123-456789abcdef.bin",
            "epochs/00000000000000000007/MANIFEST.tmp-x",
            "coord/gen-3",
            "coord/lease",
            "other/thing",
        ] {
            assert!(
                matches!(Key::parse(bad), Err(Error::InvalidKey { .. })),
                "{bad} parsed"
            );
        }
    }
}
