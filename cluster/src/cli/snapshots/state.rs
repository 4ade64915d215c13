//! Shard parts as this tool reads them, and actor states as JSON.
//!
//! `cairn::ShardSnapshot` cannot be decoded here: an `Address` resolves
//! its function name through the process-wide table of registered types,
//! and this tool registers none, so every stored address would be refused
//! (the test below pins that). These mirrors read the same MessagePack
//! maps with names as plain strings; fields they do not name are skipped.
//! Their field names must stay those of `ShardSnapshot`, `StoredActor`
//! and `Address`; the `cli_snapshots` integration test checks what they
//! read against `ShardSnapshot::fold`.

use serde::Deserialize;
use serde_bytes::ByteBuf;

/// The part of a `cairn::ShardSnapshot` this tool needs.
#[derive(Debug, Deserialize)]
pub(super) struct StoredPart {
    /// The shard that wrote it.
    pub(super) shard: u32,
    /// The epoch it was written for.
    pub(super) epoch: u64,
    /// The actors whose state changed since the shard's previous part.
    pub(super) actors: Vec<StoredActorMirror>,
}

/// A `cairn::StoredActor`.
#[derive(Debug, Deserialize)]
pub(super) struct StoredActorMirror {
    /// The actor.
    pub(super) address: AddressMirror,
    /// Its state, MessagePack-encoded.
    pub(super) state: ByteBuf,
}

/// A `cairn::Address` as encoded: `{function, id}`.
#[derive(Debug, Deserialize)]
pub(super) struct AddressMirror {
    /// The function type's name.
    pub(super) function: String,
    /// The actor's id.
    pub(super) id: String,
}

/// The state of actor `function`/`id` a chain of parts (oldest first)
/// folds to: the last write wins, as in `ShardSnapshot::fold`.
pub(super) fn latest_state<'a>(
    chain: &'a [StoredPart],
    function: &str,
    id: &str,
) -> Option<&'a [u8]> {
    chain
        .iter()
        .rev()
        .flat_map(|part| part.actors.iter().rev())
        .find(|actor| actor.address.function == function && actor.address.id == id)
        .map(|actor| actor.state.as_slice())
}

/// Transcodes one MessagePack value (a state written with named struct
/// maps) to pretty JSON, whatever its type.
pub(super) fn to_json(msgpack: &[u8]) -> Result<String, String> {
    // A `&[u8]` reader advances past what was read, so `rest` ends as the leftover.
    let mut rest = msgpack;
    let mut out = Vec::new();
    let mut deserializer = rmp_serde::Deserializer::new(&mut rest);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} bytes left after the state's value", rest.len()));
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn::{Address, FunctionType, StoredActor};
    use serde::Serialize;

    const TALLY: FunctionType = FunctionType::from_static("cli-test/unregistered");

    /// Why the mirrors exist: in a process that registered nothing, a
    /// stored address does not decode as `cairn::Address`.
    #[test]
    fn stored_addresses_need_registration() {
        let bytes = rmp_serde::to_vec_named(&Address::new(TALLY, "7")).unwrap();
        let error = rmp_serde::from_slice::<Address>(&bytes).unwrap_err();
        assert!(
            error.to_string().contains("unknown function type"),
            "{error}"
        );
    }

    /// The mirror reads a `StoredActor` as the runtime writes it.
    #[test]
    fn mirror_reads_a_stored_actor() {
        let actor = StoredActor {
            address: Address::new(TALLY, "7"),
            state: vec![0x91, 0x01],
        };
        let bytes = rmp_serde::to_vec_named(&actor).unwrap();
        let mirror: StoredActorMirror = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(mirror.address.function, "cli-test/unregistered");
        assert_eq!(mirror.address.id, "7");
        assert_eq!(mirror.state.as_slice(), &[0x91, 0x01]);
    }

    /// In a chain, the newest part that holds the actor wins; parts that do
    /// not hold it leave it as it was.
    #[test]
    fn the_last_write_wins() {
        let actor = |function: &str, id: &str, state: u8| StoredActorMirror {
            address: AddressMirror {
                function: function.into(),
                id: id.into(),
            },
            state: ByteBuf::from(vec![state]),
        };
        let part = |epoch, actors| StoredPart {
            shard: 0,
            epoch,
            actors,
        };
        let chain = [
            part(1, vec![actor("t", "a", 1), actor("t", "b", 1)]),
            part(2, vec![actor("t", "a", 2), actor("u", "b", 2)]),
            part(3, vec![]),
        ];
        assert_eq!(latest_state(&chain, "t", "a"), Some(&[2][..]));
        assert_eq!(latest_state(&chain, "t", "b"), Some(&[1][..]));
        assert_eq!(latest_state(&chain, "u", "b"), Some(&[2][..]));
        assert_eq!(latest_state(&chain, "u", "a"), None);
    }

    /// A state of nested structs, options, sequences, enums and bytes
    /// becomes the JSON a person expects.
    #[test]
    fn states_transcode_to_json() {
        #[derive(Serialize)]
        enum Mood {
            Calm,
            Busy { since: u32 },
        }
        #[derive(Serialize)]
        struct Inner {
            label: String,
            note: Option<String>,
        }
        #[derive(Serialize)]
        struct State {
            count: u64,
            delta: i64,
            ratio: f64,
            inner: Inner,
            history: Vec<u8>,
            moods: Vec<Mood>,
            #[serde(with = "serde_bytes")]
            raw: Vec<u8>,
        }
        let state = State {
            count: u64::MAX,
            delta: -3,
            ratio: 0.5,
            inner: Inner {
                label: "x".into(),
                note: None,
            },
            history: vec![1, 2],
            moods: vec![Mood::Calm, Mood::Busy { since: 4 }],
            raw: vec![9],
        };
        let json = to_json(&rmp_serde::to_vec_named(&state).unwrap()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "count": u64::MAX,
                "delta": -3,
                "ratio": 0.5,
                "inner": {"label": "x", "note": null},
                "history": [1, 2],
                "moods": ["Calm", {"Busy": {"since": 4}}],
                "raw": [9],
            })
        );
        assert!(json.contains("\n  \"count\""), "pretty-printed: {json}");
    }

    /// Bytes that are not one MessagePack value are refused, not guessed at.
    #[test]
    fn garbage_is_refused() {
        assert!(to_json(&[0xc1]).is_err(), "0xc1 is never used");
        assert!(to_json(&[0x01, 0x02]).is_err(), "trailing bytes");
        assert!(to_json(&[]).is_err(), "empty");
    }
}
