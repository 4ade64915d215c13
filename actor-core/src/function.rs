//! The traits `#[stateful_function]` and `#[handlers]` implement, and the
//! type-erased form the shards run.

use std::any::TypeId;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::address::FunctionType;
use crate::context::Context;
use crate::error::CodecError;
use crate::message::{Message, Payload};

/// A stateful function: a struct whose fields are the persisted state of a
/// virtual actor, with handlers for its messages.
///
/// Implemented by `#[stateful_function]`; the handlers come from
/// `#[handlers]` on an `impl` block of the same struct.
pub trait StatefulFunction:
    Handlers + Default + Serialize + DeserializeOwned + Send + 'static
{
    /// The function type's name, `"bank/account"` for example. Defaults to
    /// the struct's name.
    const TYPE_NAME: &'static str;

    /// A hash of the state's schema (field names and types), so that state
    /// stored by an incompatible version of the struct is refused.
    const SCHEMA_HASH: u64;

    /// The function type as a value, computed at compile time.
    const FUNCTION_TYPE: FunctionType = FunctionType::from_static(Self::TYPE_NAME);

    /// The function type as a value.
    fn function_type() -> FunctionType {
        Self::FUNCTION_TYPE
    }
}

/// The message handlers of a stateful function; implemented by `#[handlers]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no handlers",
    label = "this stateful function has no `#[handlers]` impl block",
    note = "add `#[cairn::handlers] impl {Self} {{ fn name(&mut self, ctx: &mut Context, msg: M) {{ … }} }}`"
)]
pub trait Handlers {
    /// Runs the handler for the message's type. Returns how the state was
    /// borrowed, or gives the payload back when no handler takes its type.
    fn handle(&mut self, ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload>;

    /// The message types the handlers take, with their registered names.
    fn message_types() -> Vec<MessageType>;
}

/// How a handler borrowed the actor's state: handlers that take `&self`
/// cannot change it, so they leave the actor clean for snapshots and
/// passivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The handler took `&self`.
    Read,
    /// The handler took `&mut self`.
    Write,
}

/// A message type a function accepts: its registered name and decoders.
#[derive(Clone, Copy)]
pub struct MessageType {
    name: &'static str,
    type_id: fn() -> TypeId,
    from_msgpack: fn(&[u8]) -> Result<Payload, CodecError>,
    from_json: fn(serde_json::Value) -> Result<Payload, CodecError>,
}

impl MessageType {
    /// The entry for message type `M`, registered as `name`.
    pub fn of<M: Message>(name: &'static str) -> Self {
        Self {
            name,
            type_id: TypeId::of::<M>,
            from_msgpack: Payload::from_msgpack::<M>,
            from_json: Payload::from_json::<M>,
        }
    }

    /// The registered name (the type's name unless the handler renames it).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust type's id.
    pub fn type_id(&self) -> TypeId {
        (self.type_id)()
    }

    /// Decodes a message of this type from MessagePack.
    pub fn decode_msgpack(&self, bytes: &[u8]) -> Result<Payload, CodecError> {
        (self.from_msgpack)(bytes)
    }

    /// Decodes a message of this type from JSON.
    pub fn decode_json(&self, value: serde_json::Value) -> Result<Payload, CodecError> {
        (self.from_json)(value)
    }
}

impl std::fmt::Debug for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageType")
            .field("name", &self.name)
            .finish()
    }
}

/// An activated actor's state behind a vtable, as a shard holds it.
pub(crate) trait ErasedActor: Send {
    fn handle(&mut self, ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload>;
    fn to_msgpack(&self) -> Result<Vec<u8>, CodecError>;
    fn to_json(&self) -> Result<serde_json::Value, CodecError>;
}

impl<F: StatefulFunction> ErasedActor for F {
    fn handle(&mut self, ctx: &mut Context<'_>, message: Payload) -> Result<Access, Payload> {
        Handlers::handle(self, ctx, message)
    }

    fn to_msgpack(&self) -> Result<Vec<u8>, CodecError> {
        rmp_serde::to_vec_named(self).map_err(|error| CodecError::Encode(error.to_string()))
    }

    fn to_json(&self) -> Result<serde_json::Value, CodecError> {
        serde_json::to_value(self).map_err(|error| CodecError::Encode(error.to_string()))
    }
}

/// Everything the runtime needs to run one function type, built by
/// `register::<F>()`.
#[derive(Clone)]
pub struct FunctionDescriptor {
    function_type: FunctionType,
    schema_hash: u64,
    messages: Vec<MessageType>,
    create: fn() -> Box<dyn ErasedActor>,
    restore: RestoreFn,
}

/// Decodes a stored state into an activated actor.
type RestoreFn = fn(&[u8]) -> Result<Box<dyn ErasedActor>, CodecError>;

impl FunctionDescriptor {
    /// The descriptor of `F`.
    pub fn of<F: StatefulFunction>() -> Self {
        Self {
            function_type: F::function_type(),
            schema_hash: F::SCHEMA_HASH,
            messages: F::message_types(),
            create: || Box::new(F::default()),
            restore: |bytes| {
                rmp_serde::from_slice::<F>(bytes)
                    .map(|state| Box::new(state) as Box<dyn ErasedActor>)
                    .map_err(|error| CodecError::Decode(error.to_string()))
            },
        }
    }

    /// The function type.
    pub fn function_type(&self) -> FunctionType {
        self.function_type
    }

    /// The schema hash of the state.
    pub fn schema_hash(&self) -> u64 {
        self.schema_hash
    }

    /// The message types the function accepts.
    pub fn messages(&self) -> &[MessageType] {
        &self.messages
    }

    /// The message type registered under `name`.
    pub fn message(&self, name: &str) -> Option<&MessageType> {
        self.messages.iter().find(|message| message.name == name)
    }

    /// The registered name of the message type with id `type_id`.
    pub fn message_name(&self, type_id: TypeId) -> Option<&'static str> {
        self.messages
            .iter()
            .find(|message| message.type_id() == type_id)
            .map(|message| message.name)
    }

    pub(crate) fn create(&self) -> Box<dyn ErasedActor> {
        (self.create)()
    }

    pub(crate) fn restore(&self, bytes: &[u8]) -> Result<Box<dyn ErasedActor>, CodecError> {
        (self.restore)(bytes)
    }
}

impl std::fmt::Debug for FunctionDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionDescriptor")
            .field("function_type", &self.function_type)
            .field("schema_hash", &format_args!("{:#018x}", self.schema_hash))
            .field("messages", &self.messages)
            .finish()
    }
}
