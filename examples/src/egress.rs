//! Emitting to an egress the node may not have.

use cairn::Context;
use serde::Serialize;

/// Emits `record` to the egress `name` if the node has one: the examples
/// run with or without their egress, and a node without it simply does not
/// publish.
pub(crate) fn emit_optional<R: Serialize>(ctx: &mut Context, name: &str, record: &R) {
    match ctx.emit(name, record) {
        Ok(()) | Err(cairn::Error::UnknownEgress(_)) => {}
        Err(error) => tracing::warn!(%error, egress = name, "cannot emit a record"),
    }
}
