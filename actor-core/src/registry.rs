//! The function types a node runs, and the process-wide table of registered
//! function type names that decoding addresses resolves against.

use std::sync::Arc;

use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::address::FunctionType;
use crate::error::{Error, Result};
use crate::function::{FunctionDescriptor, StatefulFunction};
use crate::message::Payload;

/// Every function type name registered in this process. Names only enter
/// through registration, so decoding an address from untrusted bytes can
/// never grow this table.
static INTERNED: RwLock<Vec<FunctionType>> = RwLock::new(Vec::new());

pub(crate) fn interned_function_type(name: &str) -> Option<FunctionType> {
    INTERNED
        .read()
        .iter()
        .find(|function| function.name() == name)
        .copied()
}

fn intern(function: FunctionType) {
    let mut interned = INTERNED.write();
    if !interned.contains(&function) {
        interned.push(function);
    }
}

/// The function types of one node, by type.
///
/// Each function type also has an index, its position in registration
/// order, so a shard can keep per-type counters in a plain array and never
/// look a name up on the hot path.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    functions: FxHashMap<FunctionType, Registered>,
    /// Every function type, in registration order: a type's index is its
    /// position here.
    order: Vec<FunctionType>,
}

/// One registered function type and its index.
#[derive(Clone, Debug)]
struct Registered {
    index: usize,
    descriptor: Arc<FunctionDescriptor>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `F`. Registering a second function under the same type name
    /// is an error.
    pub fn register<F: StatefulFunction>(&mut self) -> Result<()> {
        let descriptor = FunctionDescriptor::of::<F>();
        let function = descriptor.function_type();
        if self.functions.contains_key(&function) {
            return Err(Error::Config(format!(
                "function type `{function}` is registered twice"
            )));
        }
        let mut names: Vec<&str> = descriptor.messages().iter().map(|m| m.name()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::Config(format!(
                "function type `{function}` has two message types named `{}`",
                pair[0]
            )));
        }
        intern(function);
        let registered = Registered {
            index: self.order.len(),
            descriptor: Arc::new(descriptor),
        };
        self.functions.insert(function, registered);
        self.order.push(function);
        Ok(())
    }

    /// The descriptor of a function type.
    pub fn get(&self, function: FunctionType) -> Option<&Arc<FunctionDescriptor>> {
        self.functions
            .get(&function)
            .map(|registered| &registered.descriptor)
    }

    /// The index of a function type (see [`Registry::function_types`]) and
    /// its descriptor.
    pub(crate) fn indexed(
        &self,
        function: FunctionType,
    ) -> Option<(usize, &Arc<FunctionDescriptor>)> {
        self.functions
            .get(&function)
            .map(|registered| (registered.index, &registered.descriptor))
    }

    /// Every registered function type, in index (registration) order.
    pub(crate) fn function_types(&self) -> &[FunctionType] {
        &self.order
    }

    /// The descriptor of a function type by name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<FunctionDescriptor>> {
        FunctionType::lookup(name).and_then(|function| self.get(function))
    }

    /// Every registered function, sorted by name.
    pub fn functions(&self) -> Vec<&Arc<FunctionDescriptor>> {
        let mut functions: Vec<_> = self
            .functions
            .values()
            .map(|registered| &registered.descriptor)
            .collect();
        functions.sort_by_key(|descriptor| descriptor.function_type().name());
        functions
    }

    /// Checks that `function` is registered and takes this payload's type.
    pub fn check_accepts(&self, function: FunctionType, payload: &Payload) -> Result<()> {
        let descriptor = self
            .get(function)
            .ok_or_else(|| Error::UnknownFunctionType(function.name().to_owned()))?;
        let accepted = descriptor
            .messages()
            .iter()
            .any(|message| message.type_id() == payload.type_id_of_value());
        if accepted {
            Ok(())
        } else {
            Err(Error::UnknownMessage {
                function: function.name().to_owned(),
                message: payload.type_name().to_owned(),
            })
        }
    }
}
